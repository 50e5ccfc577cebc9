#!/usr/bin/env bash
# bench.sh — shoe-producer against librdkafka and the Java producer, same workload, same broker.
#
# Against the local stack's SASL_SSL listener, acks=all, a fresh 6-partition topic per run,
# BENCH_RECORDS records (2,000,000) whose values are framed Shoes (53 bytes on average), once
# without compression and once with lz4. Every producer runs with the same engine settings:
# linger 5 ms, batch 1 MiB, 5 requests in flight, 32 MiB of buffer, no idempotence.
#
#   shoe-producer  target/release/shoe-producer (generates, frames and sends its own shoes)
#   librdkafka     bench/rdkafka-peer/peer.c linked to the system librdkafka; sends a pool of 10,000
#                  framed shoes written by bench/payloads, with decimal keys and Java's partitioner
#   Java           org.apache.kafka.tools.ProducerPerformance from $LOCAL_STACK_KAFKA_LIBS
#                  (no keys; random uppercase values of the same size — its only payload mode)
#
# Each tool runs BENCH_RUNS times (3) per codec; the table shows the run with the median records/s.
# records/s is each tool's own figure (first send to last acknowledgement); CPU (user+sys) and peak
# RSS are the whole process's, from GNU time. MB/s counts value bytes.
#
# Needs: the local stack up (scripts/local-stack.sh up), cargo, cc, librdkafka-dev, pkg-config,
# GNU time (/usr/bin/time), java, python3. Exit codes: 0 done, 1 a run failed, 2 missing tool.
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly RECORDS="${BENCH_RECORDS:-2000000}"
readonly RUNS="${BENCH_RUNS:-3}"
readonly CODECS="${BENCH_CODECS:-none lz4}"
readonly WORK="${BENCH_WORK_DIR:-$REPO_DIR/target/bench-run}"

die() { printf 'bench.sh: %s\n' "$*" >&2; exit "${2:-1}"; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2" 2; }

need cargo "install Rust"
need cc "apt-get install gcc"
need pkg-config "apt-get install pkg-config"
need java "install a JDK (17+)"
need python3 "apt-get install python3"
[[ -x /usr/bin/time ]] || die "GNU time is missing: apt-get install time" 2
pkg-config --exists rdkafka || die "librdkafka is missing: apt-get install librdkafka-dev" 2

cd "$REPO_DIR"
scripts/local-stack.sh status >/dev/null 2>&1 || die "the local stack is not up: run scripts/local-stack.sh up" 2
eval "$(scripts/local-stack.sh env)"
mkdir -p "$WORK"

printf '==> building shoe-producer (release), the payload writer and the librdkafka peer\n' >&2
cargo build --release --quiet
cargo build --release --quiet --manifest-path bench/payloads/Cargo.toml --target-dir target/bench
cc -O2 -Wall -o "$WORK/rdkafka-peer" bench/rdkafka-peer/peer.c $(pkg-config --cflags --libs rdkafka)
VALUE_SIZE="$(target/bench/release/shoe-payloads "$WORK/values.bin" 10000 1 42)"

create_topic() {
  java -cp "$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$LOCAL_STACK_PLAINTEXT_BOOTSTRAP" --create --topic "$1" \
    --partitions 6 --replication-factor 1 >/dev/null 2>&1 || die "cannot create topic $1"
}

delete_topic() {
  java -cp "$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$LOCAL_STACK_PLAINTEXT_BOOTSTRAP" --delete --topic "$1" >/dev/null 2>&1 || true
}

# run TOOL CODEC N: runs one tool once under GNU time; appends "tool codec rec/s cpu_s rss_kb" to
# $WORK/results.
run() {
  local tool="$1" codec="$2" n="$3" topic out err rate
  topic="bench-$tool-$codec-$n-$$"
  out="$WORK/$tool-$codec-$n.out"
  err="$WORK/$tool-$codec-$n.time"
  create_topic "$topic"
  case "$tool" in
    shoe-producer)
      /usr/bin/time -v -o "$err" target/release/shoe-producer --topic "$topic" --count "$RECORDS" \
        --acks all --compression "$codec" --linger 5ms --batch-size 1048576 --max-in-flight 5 \
        --buffer-memory 33554432 --log-format json --progress-interval 0s --quiet >"$out" \
        || die "shoe-producer failed (see $out)"
      rate="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["records_per_sec"])' "$out")"
      ;;
    librdkafka)
      /usr/bin/time -v -o "$err" "$WORK/rdkafka-peer" "$topic" "$RECORDS" "$WORK/values.bin" "$codec" >"$out" \
        || die "the librdkafka peer failed (see $out)"
      rate="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records_per_sec"])' "$out")"
      ;;
    java)
      /usr/bin/time -v -o "$err" java -cp "$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.ProducerPerformance \
        --topic "$topic" --num-records "$RECORDS" --record-size "$VALUE_SIZE" --throughput -1 \
        --producer.config "$LOCAL_STACK_KAFKA_CLIENT_CONFIG" --producer-props \
        "bootstrap.servers=$BOOTSTRAP_SERVERS" acks=all enable.idempotence=false linger.ms=5 \
        batch.size=1048576 buffer.memory=33554432 max.in.flight.requests.per.connection=5 \
        "compression.type=$codec" >"$out" 2>/dev/null || die "ProducerPerformance failed (see $out)"
      rate="$(grep -o '[0-9.]* records/sec' "$out" | tail -1 | cut -d' ' -f1)"
      ;;
  esac
  python3 - "$err" "$tool" "$codec" "$rate" >>"$WORK/results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
cpu = sum(float(re.search(p + r" \(seconds\): ([0-9.]+)", text).group(1)) for p in ("User time", "System time"))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
print(sys.argv[2], sys.argv[3], sys.argv[4], cpu, rss)
PY
  delete_topic "$topic" # 2,000,000 records take ~150 MB of the broker's disk
  printf '    %-13s %-4s run %s: %s records/s\n' "$tool" "$codec" "$n" "$rate" >&2
}

: >"$WORK/results"
for codec in $CODECS; do
  for n in $(seq 1 "$RUNS"); do
    for tool in shoe-producer librdkafka java; do
      run "$tool" "$codec" "$n"
    done
  done
done

python3 - "$WORK/results" "$RECORDS" "$VALUE_SIZE" <<'PY'
import statistics, sys
from collections import defaultdict

rows = defaultdict(list)
for line in open(sys.argv[1]):
    tool, codec, rate, cpu, rss = line.split()
    rows[(tool, codec)].append((float(rate), float(cpu), int(rss)))
records, value_size = int(sys.argv[2]), int(sys.argv[3])

def median_run(runs):
    runs = sorted(runs)
    return runs[(len(runs) - 1) // 2]

print(f"records={records} value≈{value_size} B, SASL_SSL, acks=all, 6 partitions, median of {len(next(iter(rows.values())))} runs")
print(f"{'codec':<6} {'producer':<14} {'records/s':>11} {'MB/s':>7} {'CPU s':>7} {'CPU µs/rec':>10} {'peak RSS MB':>11}")
summary = {}
for codec in dict.fromkeys(c for _, c in rows):
    for tool in ("shoe-producer", "librdkafka", "java"):
        if (tool, codec) not in rows:
            continue
        rate, cpu, rss = median_run(rows[(tool, codec)])
        us = cpu / records * 1e6
        summary[(tool, codec)] = (rate, us, rss / 1024)
        print(f"{codec:<6} {tool:<14} {rate:>11,.0f} {rate * value_size / 2**20:>7.1f} {cpu:>7.2f} {us:>10.3f} {rss / 1024:>11.1f}")
print()
print("shoe-producer's ratios (targets: records/s ≥1.0× librdkafka, ≥1.2× Java; CPU µs/record ≤1.0× librdkafka, ≤0.5× Java; RSS ≤64 MB)")
for codec in dict.fromkeys(c for _, c in rows):
    ours = summary.get(("shoe-producer", codec))
    if not ours:
        continue
    parts = []
    for peer, rate_target, cpu_target in (("librdkafka", 1.0, 1.0), ("java", 1.2, 0.5)):
        theirs = summary.get((peer, codec))
        if not theirs:
            continue
        r, c = ours[0] / theirs[0], ours[1] / theirs[1]
        parts.append(f"vs {peer}: records/s {r:.2f}× ({'met' if r >= rate_target else 'MISSED'}), "
                     f"CPU/record {c:.2f}× ({'met' if c <= cpu_target else 'MISSED'})")
    rss_ok = "met" if ours[2] <= 64 else "MISSED"
    print(f"{codec:<6} " + "; ".join(parts) + f"; RSS {ours[2]:.1f} MB ({rss_ok})")
PY
