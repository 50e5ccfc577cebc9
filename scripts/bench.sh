#!/usr/bin/env bash
# bench.sh — shoe-producer beside librdkafka, franz-go, sarama and the Java producer: same workload, same
# broker, with the broker next door ("direct") and 20 ms away ("delayed").
#
# Every run produces BENCH_RECORDS records (2,000,000) to a fresh topic of 6 and of 240 partitions (BENCH_PARTITIONS)
# on the local stack's
# SASL_SSL/PLAIN listener with acks=all, linger 5 ms, batch 1 MiB, at most 5 requests in flight, 32 MiB of
# buffer, once without compression and once with lz4, once idempotent and once not:
#
#   shoe-producer       target/release/shoe-producer (glibc); generates and frames its own shoes, keyed by
#                       their decimal id, inside the measured process. Idempotent by default; the
#                       non-idempotent run passes --enable-idempotence false. A binary without that flag
#                       is not idempotent: its idempotent row says "not available".
#   shoe-producer-musl  the same source built for x86_64-unknown-linux-musl (static), the binary releases ship
#   librdkafka          bench/rdkafka-peer: librdkafka 2.12.1 built from the source in rdkafka-sys 4.10
#                       (rdkafka 0.39, cmake), enable.idempotence=true|false, Java's murmur2 partitioner
#   franz-go            bench/franz-peer: franz-go 1.22, idempotent by default (then it keeps one produce
#                       request in flight per broker, its only choice), 5 in flight when not idempotent
#   sarama              bench/sarama-peer: sarama 1.61's AsyncProducer; idempotence needs
#                       Net.MaxOpenRequests=1 there, 5 otherwise
#   java                org.apache.kafka.tools.ProducerPerformance from the stack's Kafka (4.1.1)
#
# The peers send decimal keys 1..N and values taken in turn from a pool of 10,000 framed shoes written by
# examples/bench_payloads.rs (the same bytes shoe-producer sends, so compression sees the same data). Java's
# ProducerPerformance cannot send keys: it sends random letters of the same size without a key, so its
# sticky partitioner fills one partition's batch at a time (fewer, fuller batches than keyed records get).
#
# "delayed": the clients run in a network namespace whose 127.0.0.1 holds bench/delay-proxy's inner half
# on the broker's SASL_SSL port and the registry's port; it adds BENCH_DELAY (10 ms) to every chunk in each
# direction (a 20 ms round trip) and reaches the real ports through a Unix socket and the proxy's outer
# half in the root namespace (this kernel has no netem). The broker advertises 127.0.0.1:<port>, so
# metadata leads the clients back into the proxy, and TLS still checks the certificate made for
# 127.0.0.1. The script measures the round trip through the proxy (an echo server behind it) before the
# runs and prints it. The proxy's own CPU is not counted in any client's figures.
#
# Topics: each run gets a topic of its own, created over the PLAINTEXT listener by bench/franz-peer right before
# the run; the run starts as soon as the metadata names a leader for every partition (typically 0.1–1 s after
# creation at 240 partitions), which is when a script that creates a topic and starts a load test would start.
#
# Rounds alternate: each round runs every tool once (the order rotated by one per round), then the next
# round. The table shows, per tool and setting, the median over the rounds of each figure: records/s is
# the tool's own (first send to last acknowledgement, after connecting), CPU µs/record is the process's
# user+sys time from GNU time divided by the records, peak RSS is GNU time's maximum resident set size.
#
# Options (each also an environment variable):
#   --records N          BENCH_RECORDS      records per run (2000000)
#   --rounds N           BENCH_ROUNDS       rounds (3)
#   --codecs LIST        BENCH_CODECS       "none lz4"
#   --settings LIST      BENCH_SETTINGS     "direct delayed"
#   --idempotence LIST   BENCH_IDEMPOTENCE  "true false"
#   --partitions LIST    BENCH_PARTITIONS   "6 240" (any counts ≥ 1, e.g. "6 240 2000")
#   --tools LIST         BENCH_TOOLS        "shoe-producer shoe-producer-musl librdkafka franz-go sarama java"
#   --delay DURATION     BENCH_DELAY        one-way delay of the delayed setting (10ms)
#   --results FILE       BENCH_RESULTS      raw output and tables; default bench/RESULTS.md for the full
#                                           matrix, target/bench-run/RESULTS.md for a subset
# e.g. scripts/bench.sh --rounds 1 --settings direct --tools "shoe-producer librdkafka"
#
# Needs: the local stack up (scripts/local-stack.sh up; its ports from the same LOCAL_STACK_* variables),
# root (network namespaces), Rust with rustup, Go 1.24+, Java 17+. Installs what else is missing: Debian
# packages (time, cmake, pkg-config, libssl-dev, libcurl4-openssl-dev, musl-tools, iproute2, python3), the
# musl Rust target, and the Go modules the peers' go.sum files pin.
# Exit codes: 0 every run succeeded, 1 a run or the set-up failed, 2 bad usage or a missing tool.
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECORDS="${BENCH_RECORDS:-2000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
CODECS="${BENCH_CODECS:-none lz4}"
SETTINGS="${BENCH_SETTINGS:-direct delayed}"
IDEMPOTENCE="${BENCH_IDEMPOTENCE:-true false}"
PARTITIONS="${BENCH_PARTITIONS:-6 240}"
readonly ALL_TOOLS="shoe-producer shoe-producer-musl librdkafka franz-go sarama java"
TOOLS="${BENCH_TOOLS:-$ALL_TOOLS}"
DELAY="${BENCH_DELAY:-10ms}"
RESULTS="${BENCH_RESULTS:-}"
readonly WORK="${BENCH_WORK_DIR:-$REPO_DIR/target/bench-run}"
readonly BIN="$REPO_DIR/target/bench"
readonly ECHO_PORT="${BENCH_ECHO_PORT:-39099}"
readonly MUSL_TARGET=x86_64-unknown-linux-musl
# Every tool's buffer for records (buffer.memory); peak RSS targets are stated over it.
readonly BUFFER_MEMORY=33554432

die() { printf 'bench.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
say() { printf '%s\n' "$*" | tee -a "$WORK/raw" >&2; }

while (($#)); do
  case "$1" in
    --records | --rounds | --codecs | --settings | --idempotence | --partitions | --tools | --delay | --results)
      (($# >= 2)) && [[ -n "$2" ]] || die "$1 needs a value" 2
      case "$1" in
        --records) RECORDS="$2" ;; --rounds) ROUNDS="$2" ;; --codecs) CODECS="$2" ;;
        --settings) SETTINGS="$2" ;; --idempotence) IDEMPOTENCE="$2" ;; --tools) TOOLS="$2" ;;
        --partitions) PARTITIONS="$2" ;;
        --delay) DELAY="$2" ;; --results) RESULTS="$2" ;;
      esac
      shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" 2 ;;
  esac
done
[[ "$RECORDS" =~ ^[1-9][0-9]*$ ]] || die "--records must be a positive number" 2
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive number" 2
[[ "$DELAY" =~ ^[0-9]+(ms|us|s)$ ]] || die "--delay must look like 10ms" 2
for c in $CODECS; do [[ "$c" == none || "$c" == lz4 ]] || die "--codecs: '$c' is not none or lz4" 2; done
for s in $SETTINGS; do [[ "$s" == direct || "$s" == delayed ]] || die "--settings: '$s' is not direct or delayed" 2; done
for i in $IDEMPOTENCE; do [[ "$i" == true || "$i" == false ]] || die "--idempotence: '$i' is not true or false" 2; done
for n in $PARTITIONS; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--partitions: '$n' is not a partition count" 2; done
for t in $TOOLS; do [[ " $ALL_TOOLS " == *" $t "* ]] || die "--tools: '$t' is not one of: $ALL_TOOLS" 2; done
[[ -n "$CODECS" && -n "$SETTINGS" && -n "$IDEMPOTENCE" && -n "$PARTITIONS" && -n "$TOOLS" ]] || die "an empty list selects nothing" 2
full_matrix() {
  [[ "$ROUNDS" -ge 3 && "$RECORDS" == 2000000 && "$(echo $CODECS)" == "none lz4" && "$(echo $IDEMPOTENCE)" == "true false" \
     && "$(echo $PARTITIONS)" == "6 240" \
     && "$(echo $SETTINGS)" == "direct delayed" && "$(echo $TOOLS)" == "$ALL_TOOLS" ]]
}
if [[ -z "$RESULTS" ]]; then
  if full_matrix; then RESULTS="$REPO_DIR/bench/RESULTS.md"; else RESULTS="$WORK/RESULTS.md"; fi
fi
uses() { [[ " $TOOLS " == *" $1 "* ]]; }

# ---- what the run needs ---------------------------------------------------------------------------------
[[ "$(id -u)" == 0 ]] || die "run as root: the delayed setting uses a network namespace" 2
command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup" 2
command -v go >/dev/null || die "go is missing: install Go 1.24 or newer" 2
command -v java >/dev/null || die "java is missing: install a JDK (17+)" 2
missing=()
for pair in /usr/bin/time:time cmake:cmake pkg-config:pkg-config ip:iproute2 python3:python3 musl-gcc:musl-tools; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
for pkg in libssl-dev libcurl4-openssl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  printf '==> installing %s\n' "${missing[*]}" >&2
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || die "cannot install ${missing[*]} with apt-get" 2
fi
if uses shoe-producer-musl && ! rustup target list --installed | grep -qx "$MUSL_TARGET"; then
  rustup target add "$MUSL_TARGET" >&2 || die "cannot add the Rust target $MUSL_TARGET" 2
fi

cd "$REPO_DIR"
scripts/local-stack.sh status >/dev/null 2>&1 || die "the local stack is not up: run scripts/local-stack.sh up" 2
eval "$(scripts/local-stack.sh env)"
readonly SASL_PORT="${BOOTSTRAP_SERVERS##*:}"
REGISTRY_PORT="${SCHEMA_REGISTRY_URL##*:}"
readonly REGISTRY_PORT="${REGISTRY_PORT%%/*}"
mkdir -p "$WORK" "$BIN" "$(dirname "$RESULTS")"
: >"$WORK/raw"
: >"$WORK/results"

say "==> building shoe-producer (release, glibc and musl), the payload writer and the peers"
cargo build --release --locked --quiet
if uses shoe-producer-musl; then cargo build --release --locked --quiet --target "$MUSL_TARGET"; fi
cargo build --release --locked --quiet --example bench_payloads
cargo build --release --locked --quiet --manifest-path bench/rdkafka-peer/Cargo.toml --target-dir "$BIN"
for peer in franz-peer sarama-peer delay-proxy; do
  (cd "bench/$peer" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$BIN/$peer" .) || die "cannot build bench/$peer"
done
VALUE_SIZE="$(target/release/examples/bench_payloads "$WORK/values.bin" 10000 1 42)"

# shoe-producer is idempotent by default once it has the flag; without it, it never is.
if target/release/shoe-producer produce --help 2>/dev/null | grep -q -- --enable-idempotence \
  || target/release/shoe-producer --help 2>/dev/null | grep -q -- --enable-idempotence; then
  SHOE_IDEMPOTENCE=yes
else
  SHOE_IDEMPOTENCE=no
fi

# ---- the delayed setting: a network namespace and the delaying proxy --------------------------------------
NETNS=""
PROXY_PIDS=()
SOCK_DIR=""
cleanup() {
  local pid
  for pid in "${PROXY_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PROXY_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -z "$NETNS" ]] || ip netns del "$NETNS" 2>/dev/null || true
  [[ -z "$SOCK_DIR" ]] || rm -rf "$SOCK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ " $SETTINGS " == *" delayed "* ]]; then
  NETNS="shoe-bench-$$"
  SOCK_DIR="$(mktemp -d)"
  ip netns add "$NETNS" || die "cannot create a network namespace"
  ip netns exec "$NETNS" ip link set lo up
  "$BIN/delay-proxy" echo "$ECHO_PORT" & PROXY_PIDS+=($!)
  "$BIN/delay-proxy" outer "$SOCK_DIR" "$SASL_PORT" "$REGISTRY_PORT" "$ECHO_PORT" & PROXY_PIDS+=($!)
  ip netns exec "$NETNS" "$BIN/delay-proxy" inner "$SOCK_DIR" "$DELAY" "$SASL_PORT" "$REGISTRY_PORT" "$ECHO_PORT" &
  PROXY_PIDS+=($!)
  for _ in $(seq 50); do
    ip netns exec "$NETNS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$ECHO_PORT" 2>/dev/null && break
    sleep 0.1
  done
  say "==> delayed setting: $DELAY each way; measured through the proxy: $(ip netns exec "$NETNS" "$BIN/delay-proxy" ping "$ECHO_PORT" 100)"
fi

# ---- one run ------------------------------------------------------------------------------------------------
# run SETTING IDEMPOTENT CODEC PARTITIONS ROUND TOOL: runs TOOL once under GNU time and appends
# "setting idempotent codec partitions tool records/s cpu_seconds rss_kb records" to $WORK/results ("failed" for
# a rate when it failed).
run() {
  local setting="$1" idem="$2" codec="$3" partitions="$4" round="$5" tool="$6" topic name out timing rate
  name="$setting-$idem-$codec-p$partitions-$tool-$round"
  topic="bench-$name-$$"
  out="$WORK/$name.out"
  timing="$WORK/$name.time"
  local -a wrap=(/usr/bin/time -v -o "$timing")
  [[ "$setting" == direct ]] || wrap=(ip netns exec "$NETNS" "${wrap[@]}")
  PLAINTEXT_BOOTSTRAP="$LOCAL_STACK_PLAINTEXT_BOOTSTRAP" "$BIN/franz-peer" topic create "$topic" "$partitions" \
    || die "cannot create topic $topic"
  local ok=1
  case "$tool" in
    shoe-producer | shoe-producer-musl)
      local binary=target/release/shoe-producer
      [[ "$tool" == shoe-producer ]] || binary="target/$MUSL_TARGET/release/shoe-producer"
      local -a idem_flag=()
      [[ "$SHOE_IDEMPOTENCE" == no ]] || idem_flag=(--enable-idempotence "$idem")
      "${wrap[@]}" "$binary" --topic "$topic" --count "$RECORDS" "${idem_flag[@]}" \
        --acks all --compression "$codec" --linger 5ms --batch-size 1048576 --max-in-flight 5 \
        --buffer-memory "$BUFFER_MEMORY" --log-format json --progress-interval 0s --quiet >"$out" 2>&1 || ok=0
      rate="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["records_per_sec"])' "$out" 2>/dev/null)" || ok=0
      ;;
    librdkafka | franz-go | sarama)
      local -a cmd=("$BIN/release/rdkafka-peer")
      [[ "$tool" != franz-go ]] || cmd=("$BIN/franz-peer" produce)
      [[ "$tool" != sarama ]] || cmd=("$BIN/sarama-peer")
      "${wrap[@]}" "${cmd[@]}" "$topic" "$RECORDS" "$WORK/values.bin" "$codec" "$idem" >"$out" 2>&1 || ok=0
      rate="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["records_per_sec"])' "$out" 2>/dev/null)" || ok=0
      ;;
    java)
      "${wrap[@]}" java -cp "$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.ProducerPerformance \
        --topic "$topic" --num-records "$RECORDS" --record-size "$VALUE_SIZE" --throughput -1 \
        --producer.config "$LOCAL_STACK_KAFKA_CLIENT_CONFIG" --producer-props \
        "bootstrap.servers=$BOOTSTRAP_SERVERS" acks=all "enable.idempotence=$idem" linger.ms=5 \
        batch.size=1048576 "buffer.memory=$BUFFER_MEMORY" max.in.flight.requests.per.connection=5 \
        "compression.type=$codec" >"$out" 2>&1 || ok=0
      rate="$(grep -o '[0-9.]* records/sec' "$out" | tail -1 | cut -d' ' -f1)"
      [[ -n "$rate" ]] || ok=0
      ;;
  esac
  if ((ok)); then
    python3 - "$timing" "$setting $idem $codec $partitions $tool $rate" "$RECORDS" >>"$WORK/results" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
cpu = sum(float(re.search(p + r" \(seconds\): ([0-9.]+)", text).group(1)) for p in ("User time", "System time"))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
print(sys.argv[2], cpu, rss, sys.argv[3])
PY
    say "$(printf '    %-7s idempotent=%-5s %-4s %4sp round %s %-18s %12.0f records/s  %s' "$setting" "$idem" "$codec" \
      "$partitions" "$round" "$tool" "$rate" "$(tail -1 "$WORK/results" | awk '{printf "CPU %.2f s, peak RSS %.1f MB", $7, $8/1024}')")"
  else
    printf '%s %s %s %s %s failed 0 0 %s\n' "$setting" "$idem" "$codec" "$partitions" "$tool" "$RECORDS" >>"$WORK/results"
    say "$(printf '    %-7s idempotent=%-5s %-4s %4sp round %s %-18s FAILED: %s' "$setting" "$idem" "$codec" "$partitions" \
      "$round" "$tool" "$(tail -3 "$out" | tr '\n' ' ' | cut -c1-300)")"
  fi
  PLAINTEXT_BOOTSTRAP="$LOCAL_STACK_PLAINTEXT_BOOTSTRAP" "$BIN/franz-peer" topic delete "$topic" \
    || say "    (could not delete topic $topic)" # 2,000,000 records take ~150 MB of the broker's disk
}

# ---- the rounds ---------------------------------------------------------------------------------------------
read -r -a tools <<<"$TOOLS"
started=$SECONDS
say "==> load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (the broker and any other work share the cores)"
say "==> $RECORDS records per run, $ROUNDS rounds; settings: $SETTINGS; idempotence: $IDEMPOTENCE; codecs: $CODECS; partitions: $PARTITIONS"
[[ "$SHOE_IDEMPOTENCE" == yes ]] || say "==> this shoe-producer has no --enable-idempotence: it is never idempotent"
for setting in $SETTINGS; do
  for codec in $CODECS; do
    for partitions in $PARTITIONS; do
      for round in $(seq 1 "$ROUNDS"); do
        for idem in $IDEMPOTENCE; do
          for k in "${!tools[@]}"; do
            tool="${tools[$(((k + round - 1) % ${#tools[@]}))]}"
            if [[ "$idem" == true && "$SHOE_IDEMPOTENCE" == no && "$tool" == shoe-producer* ]]; then
              printf '%s %s %s %s %s n/a 0 0 %s\n' "$setting" "$idem" "$codec" "$partitions" "$tool" "$RECORDS" >>"$WORK/results"
              continue
            fi
            run "$setting" "$idem" "$codec" "$partitions" "$round" "$tool"
          done
        done
      done
    done
  done
done
say "==> all runs took $((SECONDS - started)) s"

# ---- the tables ---------------------------------------------------------------------------------------------
python3 - "$WORK/results" "$VALUE_SIZE" "$DELAY" "$ROUNDS" "$BUFFER_MEMORY" >"$WORK/table.md" <<'PY'
import statistics, sys
from collections import defaultdict

results, value_size, delay, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
buffer_mib = int(sys.argv[5]) / 2**20
runs, failed, unavailable = defaultdict(list), defaultdict(int), set()
for line in open(results):
    setting, idem, codec, partitions, tool, rate, cpu, rss, records = line.split()
    key = (setting, idem, codec, int(partitions), tool)
    if rate == "n/a":
        unavailable.add(key)
    elif rate == "failed":
        failed[key] += 1
    else:
        runs[key].append((float(rate), float(cpu) / int(records) * 1e6, int(rss) / 1024))

TOOLS = ["shoe-producer", "shoe-producer-musl", "librdkafka", "franz-go", "sarama", "java"]
PEERS = ["librdkafka", "franz-go", "sarama", "java"]
LABEL = {"shoe-producer": "shoe-producer (glibc)", "shoe-producer-musl": "shoe-producer (musl)",
         "librdkafka": "librdkafka 2.12.1", "franz-go": "franz-go 1.22.3", "sarama": "sarama 1.61.1",
         "java": "Java 4.1.1 (no keys)"}
keys = list(dict.fromkeys(k[:4] for k in list(runs) + list(unavailable) + list(failed)))
# Peak RSS targets, in the unit of the figures (GNU time's KiB / 1024: MiB): 64 MB at the default topic
# size, 96 MiB with hundreds of partitions, and at any partition count the buffer plus a fixed overhead of
# OVERHEAD_MIB (memory bounded whatever the partition count).
OVERHEAD_MIB = 48
rss_target = lambda partitions: min(64 / 1.048576 if partitions <= 6 else 96, buffer_mib + OVERHEAD_MIB)

def medians(key):
    rows = runs.get(key)
    if not rows:
        return None
    return tuple(statistics.median(r[i] for r in rows) for i in range(3))

def fmt(key):
    if key in unavailable:
        return "not available (no --enable-idempotence in this binary)", "", "", ""
    m = medians(key)
    note = f"{len(runs.get(key, []))}" + (f" ({failed[key]} failed)" if failed.get(key) else "")
    if m is None:
        return "failed", "", "", note
    return f"{m[0]:,.0f}", f"{m[1]:.3f}", f"{m[2]:.1f}", note

print(f"Value ≈{value_size} B (framed Shoe), decimal keys, SASL_SSL/PLAIN, acks=all, linger 5 ms, batch 1 MiB, "
      f"5 in flight (franz-go idempotent: 1 per broker; sarama idempotent: 1), {buffer_mib:g} MiB buffer; "
      f"median of {rounds} rounds; delayed: {delay} added each way.")
print()
print("| setting | idempotent | codec | partitions | producer | records/s | CPU µs/record | peak RSS MB | runs |")
print("|---|---|---|---:|---|---:|---:|---:|---:|")
for setting, idem, codec, partitions in keys:
    for tool in TOOLS:
        key = (setting, idem, codec, partitions, tool)
        if key in runs or key in unavailable or key in failed:
            print(f"| {setting} | {idem} | {codec} | {partitions} | {LABEL[tool]} | " + " | ".join(fmt(key)) + " |")
print()
print("shoe-producer (glibc) against the peers. Targets (idempotent): records/s ≥ 1.0× the best peer, "
      "CPU µs/record ≤ 0.5× the most frugal peer, peak RSS ≤ 64 MB at 6 partitions and ≤ 96 MiB at more, "
      f"and ≤ the buffer + {OVERHEAD_MIB} MiB ({buffer_mib + OVERHEAD_MIB:g} MiB) at any partition count; "
      "musl CPU/record ≤ 1.15× glibc.")
print()
print("| setting | idempotent | codec | partitions | records/s vs best peer | CPU/record vs most frugal peer | peak RSS | musl/glibc CPU |")
print("|---|---|---|---:|---|---|---|---|")
verdict = lambda ok: "met" if ok else "MISSED"
for setting, idem, codec, partitions in keys:
    ours = medians((setting, idem, codec, partitions, "shoe-producer"))
    musl = medians((setting, idem, codec, partitions, "shoe-producer-musl"))
    peers = {p: medians((setting, idem, codec, partitions, p)) for p in PEERS}
    peers = {p: m for p, m in peers.items() if m}
    if not ours:
        why = "not available" if (setting, idem, codec, partitions, "shoe-producer") in unavailable else "no run"
        print(f"| {setting} | {idem} | {codec} | {partitions} | {why} | | | |")
        continue
    cells = []
    if peers:
        best = max(peers, key=lambda p: peers[p][0])
        frugal = min(peers, key=lambda p: peers[p][1])
        r, c = ours[0] / peers[best][0], ours[1] / peers[frugal][1]
        cells += [f"{r:.2f}× {best} ({verdict(r >= 1.0)})", f"{c:.2f}× {frugal} ({verdict(c <= 0.5)})"]
    else:
        cells += ["", ""]
    overhead = ours[2] - buffer_mib
    cells.append(f"{ours[2]:.1f} MiB = buffer + {overhead:.0f} MiB ({verdict(ours[2] <= rss_target(partitions))})")
    cells.append(f"{musl[1] / ours[1]:.2f}× ({verdict(musl[1] / ours[1] <= 1.15)}; musl RSS {musl[2]:.1f} MB)" if musl else "")
    print(f"| {setting} | {idem} | {codec} | {partitions} | " + " | ".join(cells) + " |")
PY
cat "$WORK/table.md"

{
  printf '# Raw output of the latest benchmark run\n\n'
  printf '`scripts/bench.sh%s` on %s (%s cores, %s; the local stack on the same machine).\n' \
    "$([[ "$RESULTS" == "$REPO_DIR/bench/RESULTS.md" ]] || printf ' (a subset)')" "$(date -u +%Y-%m-%d)" "$(nproc)" \
    "$(uname -r)"
  printf 'shoe-producer: %s. The README'"'"'s Performance section explains how to read it.\n\n' \
    "$(git -C "$REPO_DIR" log -1 --format='commit %h, %cs')"
  printf '```\n'; cat "$WORK/raw"; printf '```\n\n'
  cat "$WORK/table.md"
} >"$RESULTS"
printf '==> wrote %s\n' "$RESULTS" >&2
! grep -q ' failed ' "$WORK/results" || die "some runs failed: see the FAILED lines above and $WORK/*.out"
