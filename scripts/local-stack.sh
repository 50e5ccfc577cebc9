#!/usr/bin/env bash
# local-stack.sh — a Confluent-Cloud-shaped Kafka + Schema Registry on 127.0.0.1, without Docker.
#
#   Kafka (KRaft, single node)   PLAINTEXT 127.0.0.1:9092, SASL_SSL 127.0.0.1:9093, controller :9094
#     or, with LOCAL_STACK_BROKERS=3, three brokers and one KRaft controller (ports in `help`)
#     SASL_SSL offers PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for one API key/secret
#   Apicurio Registry (in-memory, Confluent API under /apis/ccompat/v7)   http 127.0.0.1:8081
#   nginx in front of Apicurio (TLS + Basic auth, Confluent paths at /)   https 127.0.0.1:8443
#
# Jars come from Maven Central through `mvn` once, into a cache folder; later runs work offline.
# Run `scripts/local-stack.sh help` for commands, variables and exit codes.
set -euo pipefail

readonly PROG="scripts/local-stack.sh"
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
readonly HOST=127.0.0.1

abs_path() { # make a path absolute without requiring it to exist
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac
}

usage_error() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 2; }

# ---- settings (environment overridable) -------------------------------------------------------------
BROKERS="${LOCAL_STACK_BROKERS:-1}"
[[ "$BROKERS" == 1 || "$BROKERS" == 3 ]] \
  || usage_error "LOCAL_STACK_BROKERS must be 1 (one combined KRaft node) or 3 (three brokers and a controller), got '$BROKERS'"

STATE_DIR="$(abs_path "${LOCAL_STACK_DIR:-$REPO_DIR/.local-stack}")"
CACHE_DIR="$(abs_path "${LOCAL_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shoe-producer-stack}")"
KAFKA_VERSION="${LOCAL_STACK_KAFKA_VERSION:-4.1.1}"
KAFKA_EXTRA_CONFIG="${LOCAL_STACK_KAFKA_CONFIG:-}"
APICURIO_VERSION="${LOCAL_STACK_APICURIO_VERSION:-3.0.9}"
LOG4J_VERSION="${LOCAL_STACK_LOG4J_VERSION:-2.24.3}"

KAFKA_PLAINTEXT_PORT="${LOCAL_STACK_KAFKA_PLAINTEXT_PORT:-9092}"
KAFKA_SASL_SSL_PORT="${LOCAL_STACK_KAFKA_SASL_SSL_PORT:-9093}"
KAFKA_CONTROLLER_PORT="${LOCAL_STACK_KAFKA_CONTROLLER_PORT:-9094}"
REGISTRY_PORT="${LOCAL_STACK_REGISTRY_PORT:-8443}"
APICURIO_PORT="${LOCAL_STACK_APICURIO_PORT:-8081}"
readonly BROKER_PORT_STEP=100 # three-broker mode: broker N listens on the base ports + N * 100

KAFKA_API_KEY_VALUE="${LOCAL_STACK_KAFKA_API_KEY:-shoe-kafka-key}"
KAFKA_API_SECRET_VALUE="${LOCAL_STACK_KAFKA_API_SECRET:-shoe-kafka-secret-local-only}"
SR_API_KEY_VALUE="${LOCAL_STACK_SR_API_KEY:-shoe-sr-key}"
SR_API_SECRET_VALUE="${LOCAL_STACK_SR_API_SECRET:-shoe-sr-secret-local-only}"
SR_COMPATIBILITY="${LOCAL_STACK_SR_COMPATIBILITY:-BACKWARD}"

TOPIC="${LOCAL_STACK_TOPIC:-shoes}"
TOPIC_PARTITIONS="${LOCAL_STACK_TOPIC_PARTITIONS:-6}"
UP_TIMEOUT="${LOCAL_STACK_TIMEOUT:-180}"
STOP_TIMEOUT="${LOCAL_STACK_STOP_TIMEOUT:-30}"
MAVEN_TIMEOUT="${LOCAL_STACK_MAVEN_TIMEOUT:-900}"
MAVEN_ARGS_EXTRA="${LOCAL_STACK_MAVEN_ARGS:-}"
if ((BROKERS == 1)); then KAFKA_HEAP="${LOCAL_STACK_KAFKA_HEAP:-1g}"; else KAFKA_HEAP="${LOCAL_STACK_KAFKA_HEAP:-512m}"; fi
CONTROLLER_HEAP="${LOCAL_STACK_CONTROLLER_HEAP:-256m}"
APICURIO_HEAP="${LOCAL_STACK_APICURIO_HEAP:-512m}"

# Replication as on Confluent Cloud when there are brokers to replicate to.
if ((BROKERS == 1)); then TOPIC_RF=1 MIN_ISR=1; else TOPIC_RF=3 MIN_ISR=2; fi
readonly SCRAM_MECHANISMS=(SCRAM-SHA-256 SCRAM-SHA-512)

# ---- derived paths ---------------------------------------------------------------------------------------
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
APICURIO_HOME="$CACHE_DIR/apicurio-registry-$APICURIO_VERSION"

TLS_DIR="$STATE_DIR/tls"
CA_PEM="$TLS_DIR/ca.pem"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
KAFKA_DIR="$STATE_DIR/kafka"     # single-broker mode: one combined node
CLUSTER_DIR="$STATE_DIR/cluster" # three-broker mode: controller/, kafka-1/, kafka-2/, kafka-3/
# Each mode keeps its own Kafka data and files, so switching modes never reuses the other's log dirs.
if ((BROKERS == 1)); then KAFKA_SHARED="$KAFKA_DIR"; else KAFKA_SHARED="$CLUSTER_DIR"; fi
KAFKA_LOG4J="$KAFKA_SHARED/log4j2.properties"
TOOLS_LOG4J="$KAFKA_SHARED/tools-log4j2.properties"
KAFKA_CLIENT_CONFIG="$KAFKA_SHARED/client-sasl-ssl.properties"
SCRAM_STAMP="$KAFKA_SHARED/scram-credentials.sha256" # which key/secret the cluster metadata holds
APICURIO_DIR="$STATE_DIR/apicurio"
NGINX_DIR="$STATE_DIR/nginx"
NGINX_CONF="$NGINX_DIR/nginx.conf"

# ---- components --------------------------------------------------------------------------------------------
if ((BROKERS == 1)); then
  BROKER_NODES=(kafka)
  KAFKA_NODES=(kafka)
else
  BROKER_NODES=(kafka-1 kafka-2 kafka-3)
  KAFKA_NODES=(controller kafka-1 kafka-2 kafka-3)
fi
readonly COMPONENTS=("${KAFKA_NODES[@]}" registry proxy)
readonly EVERY_KAFKA_NODE=(kafka controller kafka-1 kafka-2 kafka-3) # both modes, for 'down'

node_dir() { if [[ "$1" == kafka ]]; then printf '%s' "$KAFKA_DIR"; else printf '%s/%s' "$CLUSTER_DIR" "$1"; fi; }
node_data() { printf '%s/data' "$(node_dir "$1")"; }
node_config() { printf '%s/server.properties' "$(node_dir "$1")"; }
node_id() {
  case "$1" in
    kafka) printf 1 ;;
    controller) printf 0 ;;
    kafka-*) printf '%s' "${1#kafka-}" ;;
  esac
}
broker_plaintext_port() {
  if [[ "$1" == kafka ]]; then printf '%s' "$KAFKA_PLAINTEXT_PORT"
  else printf '%s' $((KAFKA_PLAINTEXT_PORT + BROKER_PORT_STEP * ${1#kafka-})); fi
}
broker_sasl_port() {
  if [[ "$1" == kafka ]]; then printf '%s' "$KAFKA_SASL_SSL_PORT"
  else printf '%s' $((KAFKA_SASL_SSL_PORT + BROKER_PORT_STEP * ${1#kafka-})); fi
}
bootstrap() { # plaintext|sasl → host:port,host:port,... of every broker
  local node out=""
  for node in "${BROKER_NODES[@]}"; do out+="${out:+,}$HOST:$(broker_"$1"_port "$node")"; done
  printf '%s' "$out"
}

# ---- small helpers ---------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

usage() {
  local ports_line
  if ((BROKERS == 1)); then
    ports_line="PLAINTEXT $HOST:$KAFKA_PLAINTEXT_PORT, SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT, CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT"
  else
    ports_line="PLAINTEXT $(bootstrap plaintext), SASL_SSL $(bootstrap sasl), controller $HOST:$KAFKA_CONTROLLER_PORT"
  fi
  cat <<EOF
Usage: $PROG COMMAND [ARGS]

A local, Confluent-Cloud-shaped stack for shoe-producer (no Docker; all servers on $HOST only):
  kafka     Apache Kafka $KAFKA_VERSION, KRaft, auto topic creation off. Every broker listens on
              PLAINTEXT  (admin, inspection, inter-broker)
              SASL_SSL   (TLS from the stack CA; SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, all for the
                          same API key/secret; the SCRAM credentials are created with Kafka's tools at 'up')
            LOCAL_STACK_BROKERS=1 (default): one node, broker and controller in one process ('kafka'):
              PLAINTEXT $HOST:$KAFKA_PLAINTEXT_PORT  SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT  CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT
              topic '$TOPIC': $TOPIC_PARTITIONS partitions, replication factor 1
            LOCAL_STACK_BROKERS=3: brokers 'kafka-1', 'kafka-2', 'kafka-3' (node ids 1-3) and one KRaft
              controller 'controller' (node id 0) on CONTROLLER $HOST:\$LOCAL_STACK_KAFKA_CONTROLLER_PORT.
              Broker N listens on the base ports + N*$BROKER_PORT_STEP: PLAINTEXT \$LOCAL_STACK_KAFKA_PLAINTEXT_PORT+N*$BROKER_PORT_STEP,
              SASL_SSL \$LOCAL_STACK_KAFKA_SASL_SSL_PORT+N*$BROKER_PORT_STEP (defaults: 9192/9193, 9292/9293, 9392/9393).
              topic '$TOPIC': $TOPIC_PARTITIONS partitions, replication factor 3, min.insync.replicas=2 (as on Confluent Cloud)
              The controller runs apart from the brokers, so stopping or killing a broker moves
              partition leaders without also costing a controller election.
            With these settings (LOCAL_STACK_BROKERS=$BROKERS): $ports_line
  registry  Apicurio Registry $APICURIO_VERSION, in-memory storage (schemas vanish when it restarts)
              http $HOST:$APICURIO_PORT (Confluent API under /apis/ccompat/v7)
  proxy     nginx: https://$HOST:$REGISTRY_PORT, Basic auth, Confluent REST paths at / -> Apicurio ccompat

Commands:
  up              start whatever is not running (fetching jars with Maven on first use), wait until
                  ready, create topic '$TOPIC'. Idempotent; keeps Kafka's data. A broker it restarts
                  into a running cluster is waited for until every partition is back in sync (no
                  under-replicated partitions).
  down            stop what 'up' started, in either mode (SIGTERM by recorded pid, SIGKILL after
                  ${STOP_TIMEOUT}s), check ports are free.
  status          one line per component; exit 0 if all are up, 3 otherwise.
  env             print 'export' lines for the producer and tests:  eval "\$($PROG env)"
                  (works while the stack is down: it only prints)
  stop COMPONENT  graceful stop of one component: SIGTERM by its recorded pid, then wait until it
                  exited (a broker moves its partition leaders away first). If it is still alive
                  after ${STOP_TIMEOUT}s it gets SIGKILL and the command fails. 'up' brings it back.
  kill COMPONENT  SIGKILL one component by its recorded pid, for fault tests; 'up' brings it back.
                  COMPONENT: kafka | registry | proxy, or with LOCAL_STACK_BROKERS=3:
                  kafka-1 | kafka-2 | kafka-3 | controller | registry | proxy
  describe [TOPIC]
                  one line per partition of TOPIC [$TOPIC]: "TOPIC PARTITION LEADER REPLICAS ISR",
                  e.g. "$TOPIC 0 2 2,3,1 2,3,1" (leader -1: none; ISR -: empty); broker N is kafka-N.
                  A killed broker stays leader here until the controller fences it (about 9s).
  help            this text.

Exit codes: 0 success; 1 failure (the message says what; on a start timeout the component's log tail
is printed); 2 usage error (also: the state folder runs the other mode); 3 'status' found a component down.

Environment (defaults in brackets):
  LOCAL_STACK_BROKERS                1 or 3 [1]; 'env' exports it, so commands run after
                                     eval "\$($PROG env)" address the same stack
  LOCAL_STACK_DIR                    state: configs, certificates, data, logs, pids [$REPO_DIR/.local-stack]
                                     (Kafka data: kafka/ with one broker, cluster/ with three; a folder
                                     whose stack runs in the other mode is refused until 'down')
  LOCAL_STACK_CACHE                  downloaded jars [\${XDG_CACHE_HOME:-\$HOME/.cache}/shoe-producer-stack]
  LOCAL_STACK_KAFKA_PLAINTEXT_PORT   [9092]      LOCAL_STACK_KAFKA_SASL_SSL_PORT  [9093]
  LOCAL_STACK_KAFKA_CONTROLLER_PORT  [9094]      LOCAL_STACK_REGISTRY_PORT        [8443] (nginx, https)
  LOCAL_STACK_APICURIO_PORT          [8081] (Apicurio, plain http, loopback)
  LOCAL_STACK_KAFKA_API_KEY / LOCAL_STACK_KAFKA_API_SECRET   [shoe-kafka-key / shoe-kafka-secret-local-only]
                                     (PLAIN and both SCRAM mechanisms)
  LOCAL_STACK_SR_API_KEY / LOCAL_STACK_SR_API_SECRET         [shoe-sr-key / shoe-sr-secret-local-only]
  LOCAL_STACK_SR_COMPATIBILITY       registry's global compatibility level [BACKWARD, as Confluent]
  LOCAL_STACK_TOPIC / LOCAL_STACK_TOPIC_PARTITIONS           [shoes / 6]
  LOCAL_STACK_TIMEOUT                seconds 'up' waits for readiness [180]
  LOCAL_STACK_STOP_TIMEOUT           seconds 'down' and 'stop' wait before SIGKILL [30]
  LOCAL_STACK_MAVEN_TIMEOUT          seconds allowed for the first-run Maven download [900]
  LOCAL_STACK_MAVEN_ARGS             extra arguments for mvn (e.g. -o, -s settings.xml) []
  LOCAL_STACK_KAFKA_HEAP             broker JVM -Xmx [1g; 512m each with three brokers]
  LOCAL_STACK_CONTROLLER_HEAP        controller JVM -Xmx, three-broker mode [256m]
  LOCAL_STACK_APICURIO_HEAP          Apicurio JVM -Xmx [512m]
  LOCAL_STACK_KAFKA_VERSION / LOCAL_STACK_APICURIO_VERSION   [4.1.1 / 3.0.9]
  LOCAL_STACK_KAFKA_CONFIG           extra broker properties, key=value,key=value (values without commas),
                                     appended to every broker's server.properties, where they override
                                     the generated ones, e.g. connections.max.reauth.ms=10000 [none].
                                     A running broker applies a change after a restart ('stop kafka'
                                     or 'down', then 'up'); keys naming listeners, ports, node ids or
                                     log.dirs break the stack

Files: logs in \$LOCAL_STACK_DIR/logs (kafka.log or controller.log and kafka-N.log, apicurio.log,
nginx-error.log, nginx-access.log); CA certificate \$LOCAL_STACK_DIR/tls/ca.pem; Java client configs
for the SASL_SSL listener in $KAFKA_SHARED:
client-sasl-ssl.properties (PLAIN; exported as LOCAL_STACK_KAFKA_CLIENT_CONFIG),
client-scram-sha-256.properties and client-scram-sha-512.properties. 'up' reloads nginx when its
configuration changed; Kafka and Apicurio pick up changed ports/credentials when restarted ('down'
then 'up'). A failed 'up' leaves what it started running (for inspection); 'down' stops it.
Prerequisites (Java 17+, nginx, openssl, curl, Maven on first use, ...) are listed once in
scripts/prerequisites.sh, which installs them (scripts/run-local.sh and scripts/test.sh call it).
EOF
}

print_env() {
  local kv
  for kv in \
    "BOOTSTRAP_SERVERS=$(bootstrap sasl)" \
    "KAFKA_API_KEY=$KAFKA_API_KEY_VALUE" \
    "KAFKA_API_SECRET=$KAFKA_API_SECRET_VALUE" \
    "KAFKA_SECURITY_PROTOCOL=SASL_SSL" \
    "KAFKA_SASL_MECHANISM=PLAIN" \
    "KAFKA_SSL_CA_LOCATION=$CA_PEM" \
    "KAFKA_TOPIC=$TOPIC" \
    "SCHEMA_REGISTRY_URL=https://$HOST:$REGISTRY_PORT" \
    "SCHEMA_REGISTRY_API_KEY=$SR_API_KEY_VALUE" \
    "SCHEMA_REGISTRY_API_SECRET=$SR_API_SECRET_VALUE" \
    "SCHEMA_REGISTRY_SSL_CA_LOCATION=$CA_PEM" \
    "LOCAL_STACK_PLAINTEXT_BOOTSTRAP=$(bootstrap plaintext)" \
    "LOCAL_STACK_KAFKA_LIBS=$KAFKA_LIBS" \
    "LOCAL_STACK_KAFKA_CLIENT_CONFIG=$KAFKA_CLIENT_CONFIG" \
    "LOCAL_STACK_BROKERS=$BROKERS"; do
    printf 'export %s=%s\n' "${kv%%=*}" "$(shq "${kv#*=}")"
  done
}

all_ports() { # every port the current mode listens on
  local node
  if ((BROKERS == 1)); then
    printf '%s ' "$KAFKA_PLAINTEXT_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_CONTROLLER_PORT"
  else
    printf '%s ' "$KAFKA_CONTROLLER_PORT"
    for node in "${BROKER_NODES[@]}"; do printf '%s ' "$(broker_plaintext_port "$node")" "$(broker_sasl_port "$node")"; done
  fi
  printf '%s %s\n' "$APICURIO_PORT" "$REGISTRY_PORT"
}

validate_settings() {
  local name value
  for name in KAFKA_PLAINTEXT_PORT KAFKA_SASL_SSL_PORT KAFKA_CONTROLLER_PORT REGISTRY_PORT APICURIO_PORT \
              TOPIC_PARTITIONS UP_TIMEOUT STOP_TIMEOUT MAVEN_TIMEOUT; do
    value="${!name}"
    [[ "$value" =~ ^[0-9]{1,9}$ ]] || usage_error "LOCAL_STACK_$name must be a number, got '$value'"
  done
  local ports count p
  ports="$(all_ports)"
  count="$(wc -w <<<"$ports")"
  for p in $ports; do
    ((p >= 1 && p <= 65535)) || usage_error "port $p is out of range (check LOCAL_STACK_*_PORT; three brokers add up to $((3 * BROKER_PORT_STEP)))"
  done
  [[ $(tr ' ' '\n' <<<"$ports" | sed '/^$/d' | sort -u | wc -l) -eq $count ]] \
    || usage_error "the $count ports must differ: $ports"
  for name in KAFKA_API_KEY_VALUE KAFKA_API_SECRET_VALUE SR_API_KEY_VALUE SR_API_SECRET_VALUE; do
    value="${!name}"
    [[ "$value" =~ ^[A-Za-z0-9._+/=-]+$ ]] \
      || usage_error "credentials may only use letters, digits and . _ + / = - (check LOCAL_STACK_*_API_KEY/SECRET)"
  done
  [[ "$TOPIC" =~ ^[A-Za-z0-9._-]+$ ]] || usage_error "LOCAL_STACK_TOPIC '$TOPIC' is not a valid topic name"
  local entry example="e.g. connections.max.reauth.ms=10000,message.max.bytes=2097152"
  [[ "$KAFKA_EXTRA_CONFIG" != *[[:cntrl:]]* ]] \
    || usage_error "LOCAL_STACK_KAFKA_CONFIG holds a control character (a line break?): write key=value,key=value on one line, $example"
  while IFS= read -r entry; do
    [[ "$entry" =~ ^[A-Za-z0-9._-]+=.*$ ]] \
      || usage_error "LOCAL_STACK_KAFKA_CONFIG: '$entry' is not key=value (entries are separated by commas, $example)"
  done < <(extra_config_entries)
}

# LOCAL_STACK_KAFKA_CONFIG's entries, one per line, blanks around them and empty entries dropped.
extra_config_entries() {
  local entry
  local -a entries=()
  IFS=',' read -r -a entries <<<"$KAFKA_EXTRA_CONFIG"
  for entry in "${entries[@]}"; do
    entry="${entry#"${entry%%[![:space:]]*}"}"
    entry="${entry%"${entry##*[![:space:]]}"}"
    [[ -z "$entry" ]] || printf '%s\n' "$entry"
  done
}

check_tools() { # scripts/prerequisites.sh holds the list and prints the one line saying what to install
  "$SCRIPT_DIR/prerequisites.sh" --check stack || exit 1
}

lock_state() { # serialize concurrent up/down/stop/kill on one state dir; fd 9 is closed for started servers
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w "$UP_TIMEOUT" 9 || die "another $PROG is still running on $STATE_DIR (lock held for ${UP_TIMEOUT}s)"
}

# Replace a file only when its content changes; returns 0 if it changed.
write_file() { # path mode (content on stdin)
  local path="$1" mode="$2" tmp
  tmp="$(mktemp "$path.XXXXXX")"
  cat >"$tmp"
  chmod "$mode" "$tmp"
  if [[ -f "$path" ]] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$path"
  return 0
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "( sport = :$1 )" 2>/dev/null | sed 's/^/    /'
  fi
}

# ---- process bookkeeping ---------------------------------------------------------------------------------
pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
log_file() {
  case "$1" in
    registry) printf '%s/apicurio.log' "$LOG_DIR" ;;
    proxy) printf '%s/nginx-error.log' "$LOG_DIR" ;;
    *) printf '%s/%s.log' "$LOG_DIR" "$1" ;; # kafka, controller, kafka-N
  esac
}
cmd_marker() { # a string only our process of that component has on its command line
  case "$1" in
    proxy) printf '%s' "-c $NGINX_CONF" ;;
    *) printf '%s' "-Dlocal-stack.component=$1:$STATE_DIR" ;; # registry and the Kafka nodes
  esac
}
comp_ports() {
  case "$1" in
    kafka) printf '%s %s %s' "$KAFKA_PLAINTEXT_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_CONTROLLER_PORT" ;;
    controller) printf '%s' "$KAFKA_CONTROLLER_PORT" ;;
    kafka-*) printf '%s %s' "$(broker_plaintext_port "$1")" "$(broker_sasl_port "$1")" ;;
    registry) printf '%s' "$APICURIO_PORT" ;;
    proxy) printf '%s' "$REGISTRY_PORT" ;;
  esac
}

# Prints the recorded pid if that process is alive and is ours; returns 1 otherwise.
comp_pid() {
  local f pid state cmdline
  f="$(pid_file "$1")"
  [[ -s "$f" ]] || return 1
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != Z && "$state" != X ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline " == *"$(cmd_marker "$1") "* ]] || return 1 # whole word: /a/b must not match /a/bc
  printf '%s' "$pid"
}

# The state folder holds one mode's Kafka at a time: refuse to act on it in the other mode.
check_mode() {
  local node other=""
  for node in "${EVERY_KAFKA_NODE[@]}"; do
    [[ " ${KAFKA_NODES[*]} " == *" $node "* ]] && continue
    if comp_pid "$node" >/dev/null; then other="$node"; break; fi
  done
  [[ -z "$other" ]] && return 0
  local theirs=3
  [[ "$other" == kafka ]] && theirs=1
  usage_error "the stack in $STATE_DIR runs with LOCAL_STACK_BROKERS=$theirs ($other is up) but this command has LOCAL_STACK_BROKERS=$BROKERS; use LOCAL_STACK_BROKERS=$theirs, or run '$PROG down' first"
}

# Start a command detached in its own session (survives the calling shell); records its pid.
start_detached() { # component logfile cmd...
  local comp="$1" log="$2" pidf i
  shift 2
  pidf="$(pid_file "$comp")"
  rm -f "$pidf"
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  printf '=== %s: started by %s at %s\n' "$comp" "$PROG" "$(date -Is)" >"$log"
  ( cd "$STATE_DIR" && exec setsid bash -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" \
      </dev/null >>"$log" 2>&1 9>&- ) &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidf" ]] && return 0
    sleep 0.05
  done
  die "$comp did not start; see $log"
}

signal_group() { # signal pid: signal the process group our setsid created (pgid == pid), else the pid
  local sig="$1" pid="$2" pgid
  pgid="$(sed 's/.*) . [0-9]* \([0-9]*\).*/\1/' "/proc/$pid/stat" 2>/dev/null || true)"
  if [[ "$pgid" == "$pid" ]]; then kill -s "$sig" -- "-$pid" 2>/dev/null || true
  else kill -s "$sig" "$pid" 2>/dev/null || true; fi
}

wait_gone() { # component pid seconds
  local deadline=$((SECONDS + $3))
  while comp_pid "$1" >/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
  return 0
}

# SIGTERM every running one of the components at once, then wait for each; SIGKILL those still alive
# after STOP_TIMEOUT. Returns 1 if any needed SIGKILL. Brokers stopped together shut down in parallel.
stop_components() { # components...  (the other mode's, when not running, pass silently)
  local comp pid entry forced=0 deadline
  local -a running=()
  for comp in "$@"; do
    if pid="$(comp_pid "$comp")"; then
      say "$comp: stopping pid $pid (SIGTERM)"
      signal_group TERM "$pid"
      running+=("$comp:$pid")
    else
      rm -f "$(pid_file "$comp")"
      if in_mode "$comp"; then say "$comp: not running"; fi
    fi
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  for entry in "${running[@]}"; do
    comp="${entry%%:*}" pid="${entry#*:}"
    if ! wait_gone "$comp" "$pid" $((deadline > SECONDS ? deadline - SECONDS : 0)); then
      warn "$comp did not stop within ${STOP_TIMEOUT}s of SIGTERM; sending SIGKILL"
      signal_group KILL "$pid"
      wait_gone "$comp" "$pid" 10 || die "$comp (pid $pid) survived SIGKILL"
      forced=1
    fi
    rm -f "$(pid_file "$comp")"
  done
  return $((forced))
}

EXTRA_LOG=""   # a second log worth showing when a start fails (e.g. the topic creation output)
tail_log() {
  local log
  for log in "$(log_file "$1")" $EXTRA_LOG; do
    printf -- '----- last 50 lines of %s -----\n' "$log" >&2
    tail -n 50 "$log" >&2 2>/dev/null || true
    printf -- '----- end of %s -----\n' "$log" >&2
  done
}

# ---- downloads (first run only) --------------------------------------------------------------------------
run_maven() { # args...  (output is kept in memory and shown only when Maven fails)
  local out
  "$SCRIPT_DIR/prerequisites.sh" --check download || die "the jars are not cached yet and need the tools above"
  # shellcheck disable=SC2086 # LOCAL_STACK_MAVEN_ARGS is a list of words on purpose
  if ! out="$(timeout "$MAVEN_TIMEOUT" mvn -B -ntp -Dstyle.color=never $MAVEN_ARGS_EXTRA "$@" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 30 >&2
    die "Maven could not fetch the jars (exit status above; time limit ${MAVEN_TIMEOUT}s, LOCAL_STACK_MAVEN_TIMEOUT). Maven needs Maven Central the first time; afterwards the cache in $CACHE_DIR is used offline."
  fi
}

# The log4j2 configuration for Kafka's command-line tools (WARN and up, to stderr), on stdout.
tools_log4j2_config() {
  cat <<'EOF'
status = error
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

ensure_kafka_libs() {
  if [[ -f "$KAFKA_HOME/.complete" && -d "$KAFKA_LIBS" ]]; then return 0; fi
  step "kafka: fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS (first run only)"
  mkdir -p "$KAFKA_HOME"
  write_file "$KAFKA_HOME/pom.xml" 644 <<EOF || true
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by $PROG: the jars of a Kafka $KAFKA_VERSION broker and its command-line tools. -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.shoe-producer</groupId>
  <artifactId>local-stack-kafka</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$KAFKA_HOME/libs.tmp"
  run_maven -q -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs.tmp"
  ls "$KAFKA_HOME/libs.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
    || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing from $KAFKA_HOME/libs.tmp"
  # A default log4j2 configuration (WARN to stderr) on the classpath keeps the command-line tools quiet.
  if command -v jar >/dev/null 2>&1; then
    local tmp
    tmp="$(mktemp -d)"
    tools_log4j2_config >"$tmp/log4j2.properties"
    (cd "$tmp" && jar cf "$KAFKA_HOME/libs.tmp/zz-local-stack-log4j2-config.jar" log4j2.properties)
    rm -rf "$tmp"
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_HOME/libs.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_HOME/.complete"
  say "kafka: $(ls "$KAFKA_LIBS" | wc -l) jars cached"
}

apicurio_runner() { # the application jar inside the unpacked distribution
  local f
  for f in "$APICURIO_HOME"/*-runner.jar "$APICURIO_HOME"/quarkus-app/quarkus-run.jar "$APICURIO_HOME"/*/quarkus-run.jar; do
    [[ -f "$f" ]] && { printf '%s' "$f"; return 0; }
  done
  return 1
}

ensure_apicurio() {
  if [[ -f "$APICURIO_HOME/.complete" ]] && apicurio_runner >/dev/null; then return 0; fi
  step "registry: fetching Apicurio Registry $APICURIO_VERSION with Maven into $APICURIO_HOME (first run only)"
  local coords="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" dl="$CACHE_DIR/download.tmp"
  mkdir -p "$CACHE_DIR"
  rm -rf "$dl" "$APICURIO_HOME.tmp"
  # transitive=false: the artifact's parent pom is not on Maven Central, and nothing else is needed.
  run_maven -q dependency:get -Dtransitive=false -Dartifact="$coords"
  run_maven -q dependency:copy -Dartifact="$coords" -DoutputDirectory="$dl"
  mkdir -p "$APICURIO_HOME.tmp"
  tar -xzf "$dl"/apicurio-registry-app-*.tar.gz -C "$APICURIO_HOME.tmp" \
    || die "could not unpack $(ls "$dl"/*.tar.gz)"
  rm -rf "$dl" "$APICURIO_HOME"
  mv "$APICURIO_HOME.tmp" "$APICURIO_HOME"
  apicurio_runner >/dev/null || die "no *-runner.jar or quarkus-run.jar found in $APICURIO_HOME"
  touch "$APICURIO_HOME/.complete"
}

# ---- TLS material (generated once, reused) ---------------------------------------------------------------
ensure_tls() {
  mkdir -p "$TLS_DIR"
  if [[ -s "$CA_PEM" && -s "$TLS_DIR/ca.key" && -s "$TLS_DIR/server.pem" && -s "$TLS_DIR/server.key" \
        && -s "$TLS_DIR/server-keystore.pem" ]] \
     && openssl x509 -checkend 86400 -noout -in "$CA_PEM" >/dev/null 2>&1 \
     && openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server.pem" >/dev/null 2>&1; then
    return 0
  fi
  step "tls: generating a throwaway CA and a server certificate for $HOST/localhost in $TLS_DIR"
  local tmp
  tmp="$(mktemp -d "$TLS_DIR/gen.XXXXXX")"
  cat >"$tmp/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF
  (
    cd "$tmp"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ca.key
    openssl req -config openssl.cnf -new -x509 -key ca.key -sha256 -days 3650 \
      -subj "/O=shoe-producer local stack/CN=shoe-producer local-stack CA" -extensions v3_ca -out ca.pem
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server.key
    openssl req -config openssl.cnf -new -key server.key -subj "/O=shoe-producer local stack/CN=localhost" -out server.csr
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -sha256 -extfile openssl.cnf -extensions v3_server -out server-cert.pem
    cat server-cert.pem ca.pem >server.pem                  # chain: leaf, then CA
    cat server.key server-cert.pem ca.pem >server-keystore.pem # Kafka's PEM keystore: PKCS#8 key + chain
    chmod 600 ca.key server.key server-keystore.pem
    chmod 644 ca.pem server.pem
  ) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; die "openssl failed to create the certificates"; }
  mv -f "$tmp/ca.key" "$tmp/ca.pem" "$tmp/server.key" "$tmp/server.pem" "$tmp/server-keystore.pem" "$TLS_DIR/"
  rm -rf "$tmp"
}

# ---- configuration files ---------------------------------------------------------------------------------
CHANGED_CONFIG=()

# The SASL_SSL listener: PLAIN checks the key/secret written here; SCRAM checks the credentials in the
# cluster metadata (created at format time, or by ensure_scram for a log dir formatted without them).
sasl_ssl_listener_config() {
  local mechanisms
  mechanisms="PLAIN,$(IFS=,; printf '%s' "${SCRAM_MECHANISMS[*]}")"
  cat <<EOF
sasl.enabled.mechanisms=$mechanisms
listener.name.sasl_ssl.sasl.enabled.mechanisms=$mechanisms
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_API_KEY_VALUE="$KAFKA_API_SECRET_VALUE";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/server-keystore.pem
listener.name.sasl_ssl.ssl.client.auth=none
EOF
}

single_node_config() {
  cat <<EOF
# Generated by $PROG — single-node KRaft (broker + controller), Confluent-Cloud-like listeners.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$KAFKA_PLAINTEXT_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PLAINTEXT_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

$(sasl_ssl_listener_config)

log.dirs=$(node_data kafka)
num.partitions=$TOPIC_PARTITIONS
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=268435456
EOF
}

controller_config() {
  cat <<EOF
# Generated by $PROG — the KRaft controller of the three-broker cluster (a quorum of one; it holds
# the cluster metadata, SCRAM credentials included). Brokers are kafka-1..3 (node ids 1..3).
process.roles=controller
node.id=$(node_id controller)
controller.quorum.voters=$(node_id controller)@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT
log.dirs=$(node_data controller)
EOF
}

broker_config() { # kafka-N
  local node="$1" pt sasl
  pt="$(broker_plaintext_port "$node")" sasl="$(broker_sasl_port "$node")"
  cat <<EOF
# Generated by $PROG — broker $node of the three-broker cluster, Confluent-Cloud-like listeners and
# replication (replication factor 3, min.insync.replicas=2).
process.roles=broker
node.id=$(node_id "$node")
controller.quorum.voters=$(node_id controller)@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$pt,SASL_SSL://$HOST:$sasl
advertised.listeners=PLAINTEXT://$HOST:$pt,SASL_SSL://$HOST:$sasl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

$(sasl_ssl_listener_config)

log.dirs=$(node_data "$node")
num.partitions=$TOPIC_PARTITIONS
default.replication.factor=$TOPIC_RF
min.insync.replicas=$MIN_ISR
auto.create.topics.enable=false
offsets.topic.replication.factor=$TOPIC_RF
transaction.state.log.replication.factor=$TOPIC_RF
transaction.state.log.min.isr=$MIN_ISR
share.coordinator.state.topic.replication.factor=$TOPIC_RF
share.coordinator.state.topic.min.isr=$MIN_ISR
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=268435456
# memory: the log cleaner (compacted internal topics only) needs far less than its 128 MiB default
log.cleaner.dedupe.buffer.size=16777216
EOF
}

# Every broker's server.properties ends with LOCAL_STACK_KAFKA_CONFIG's entries, so they override the
# generated ones (the last of a repeated key wins); without it the file is as generated.
extra_broker_config() {
  local entries
  entries="$(extra_config_entries)"
  [[ -n "$entries" ]] || return 0
  printf '\n# From LOCAL_STACK_KAFKA_CONFIG\n%s\n' "$entries"
}

node_config_text() {
  case "$1" in
    kafka) single_node_config; extra_broker_config ;;
    controller) controller_config ;;
    *) broker_config "$1"; extra_broker_config ;;
  esac
}

client_config() { # mechanism
  local module=scram.ScramLoginModule
  [[ "$1" == PLAIN ]] && module=plain.PlainLoginModule
  cat <<EOF
# Java client settings for the local stack's SASL_SSL listener ($(bootstrap sasl)) with SASL $1, e.g.
#   java -cp "\$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.ConsoleProducer --bootstrap-server $(bootstrap sasl) \\
#        --producer.config <this file> --topic $TOPIC
# (ConsoleConsumer: --consumer.config; ProducerPerformance: --producer.config; admin tools: --command-config)
security.protocol=SASL_SSL
sasl.mechanism=$1
sasl.jaas.config=org.apache.kafka.common.security.$module required username="$KAFKA_API_KEY_VALUE" password="$KAFKA_API_SECRET_VALUE";
ssl.truststore.type=PEM
ssl.truststore.location=$CA_PEM
EOF
}

write_kafka_config() {
  local node mech
  mkdir -p "$KAFKA_SHARED" "$LOG_DIR"
  for node in "${KAFKA_NODES[@]}"; do
    mkdir -p "$(node_dir "$node")"
    node_config_text "$node" | write_file "$(node_config "$node")" 600 && CHANGED_CONFIG+=("$node")
  done
  if write_file "$KAFKA_LOG4J" 644 <<'EOF'; then CHANGED_CONFIG+=("${KAFKA_NODES[@]}"); fi
status = warn
name = local-stack-kafka
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
EOF
  tools_log4j2_config | write_file "$TOOLS_LOG4J" 644 || true
  client_config PLAIN | write_file "$KAFKA_CLIENT_CONFIG" 600 || true
  for mech in "${SCRAM_MECHANISMS[@]}"; do
    client_config "$mech" | write_file "$KAFKA_SHARED/client-${mech,,}.properties" 600 || true
  done
  return 0
}

write_nginx_config() {
  mkdir -p "$NGINX_DIR/tmp" "$LOG_DIR"
  local changed=0 line salt
  # htpasswd: keep the existing line (random salt) while it still matches the configured key/secret.
  line="$(cat "$NGINX_DIR/htpasswd" 2>/dev/null || true)"
  salt="$(sed -n 's/^[^:]*:\$apr1\$\([^$]*\)\$.*/\1/p' <<<"$line")"
  if [[ -z "$salt" || "$line" != "$SR_API_KEY_VALUE:$(printf '%s\n' "$SR_API_SECRET_VALUE" | openssl passwd -apr1 -salt "$salt" -stdin)" ]]; then
    printf '%s:%s\n' "$SR_API_KEY_VALUE" "$(printf '%s\n' "$SR_API_SECRET_VALUE" | openssl passwd -apr1 -stdin)" \
      | write_file "$NGINX_DIR/htpasswd" 644 && changed=1
  fi
  local user_line=""
  [[ $EUID -eq 0 ]] && user_line="user root;  # workers read the htpasswd file in the state folder"
  write_file "$NGINX_CONF" 644 <<EOF && changed=1
# Generated by $PROG: HTTPS + Basic auth in front of Apicurio's Confluent-compatible API,
# so clients see Confluent's paths (/subjects, /schemas/ids/{id}, /config, /compatibility/...) at /.
$user_line
daemon off;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $LOG_DIR/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log $LOG_DIR/nginx-access.log;
  client_body_temp_path $NGINX_DIR/tmp/client_body;
  proxy_temp_path $NGINX_DIR/tmp/proxy;
  fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
  scgi_temp_path $NGINX_DIR/tmp/scgi;
  default_type application/json;
  server_tokens off;
  keepalive_timeout 65s;

  upstream apicurio {
    server $HOST:$APICURIO_PORT;
    keepalive 16;
  }

  server {
    listen $HOST:$REGISTRY_PORT ssl;
    server_name localhost $HOST;
    ssl_certificate $TLS_DIR/server.pem;
    ssl_certificate_key $TLS_DIR/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:1m;
    client_max_body_size 16m;

    error_page 401 @unauthorized;
    error_page 413 @too_large;
    error_page 502 @bad_gateway;
    error_page 504 @gateway_timeout;

    location / {
      auth_basic "Schema Registry";
      auth_basic_user_file $NGINX_DIR/htpasswd;
      # \$request_uri keeps the client's encoding (e.g. %2F in subject names) and query string.
      proxy_pass http://apicurio/apis/ccompat/v7\$request_uri;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header Authorization "";
      proxy_set_header X-Forwarded-Proto https;
      proxy_connect_timeout 5s;
      proxy_read_timeout 60s;
      proxy_send_timeout 60s;
    }

    location @unauthorized {   # auth_basic's WWW-Authenticate header is kept
      auth_basic off;
      return 401 '{"error_code":401,"message":"Unauthorized"}\n';
    }
    location @too_large {
      auth_basic off;
      return 413 '{"error_code":413,"message":"Request entity too large"}\n';
    }
    location @bad_gateway {
      auth_basic off;
      return 502 '{"error_code":50001,"message":"Bad gateway: the local Apicurio registry is not reachable"}\n';
    }
    location @gateway_timeout {
      auth_basic off;
      return 504 '{"error_code":50002,"message":"Gateway timeout: the local Apicurio registry did not answer"}\n';
    }
  }
}
EOF
  ((changed)) && CHANGED_CONFIG+=(proxy)
  return 0
}

# ---- Kafka's tools ---------------------------------------------------------------------------------------
kafka_tool() { # seconds class args...  — a short-lived JVM running one of Kafka's command-line tools
  local limit="$1"
  shift
  timeout "$limit" java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" "$@"
}

new_cluster_id() { # a random KRaft cluster id (URL-safe base64 of 16 bytes, not starting with '-')
  local id
  id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  [[ "$id" == -* ]] && id="A${id:1}"
  printf '%s' "$id"
}

scram_digest() { # identifies the key/secret pair the SCRAM credentials were made for
  printf '%s\n%s\n' "$KAFKA_API_KEY_VALUE" "$KAFKA_API_SECRET_VALUE" | sha256sum | cut -d' ' -f1
}

# Format one node's log dir (emptying it first); the node holding the metadata also gets the SCRAM
# credentials as bootstrap records, so SCRAM works from its first start.
format_node() { # node cluster-id
  local node="$1" id="$2" data log m
  local -a scram=()
  data="$(node_data "$node")" log="$LOG_DIR/$node-format.log"
  if [[ "$node" == kafka || "$node" == controller ]]; then
    for m in "${SCRAM_MECHANISMS[@]}"; do
      scram+=(--add-scram "$m=[name=\"$KAFKA_API_KEY_VALUE\",password=\"$KAFKA_API_SECRET_VALUE\"]")
    done
  fi
  rm -rf "$data"
  mkdir -p "$data"
  if ! java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" \
        -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        kafka.tools.StorageTool format -t "$id" -c "$(node_config "$node")" "${scram[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    return 1
  fi
}

# ---- starting components ---------------------------------------------------------------------------------
check_ports_free() { # component
  local p busy=""
  for p in $(comp_ports "$1"); do
    if port_open "$p"; then busy+=" $p"; fi
  done
  if [[ -n "$busy" ]]; then
    for p in $busy; do port_owner "$p" >&2; done
    die "$1 is not running (no live pid in $RUN_DIR) but port(s)$busy on $HOST are taken by another process; stop it or choose other ports (LOCAL_STACK_*_PORT)"
  fi
}

# Single-broker mode: format the one node's log dir when it has none, keep it otherwise.
prepare_single() {
  if [[ ! -f "$(node_data kafka)/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(new_cluster_id)"
    step "kafka: formatting a new log dir $(node_data kafka) (cluster id $cluster_id)"
    rm -f "$SCRAM_STAMP"
    format_node kafka "$cluster_id" || die "kafka storage format failed"
    scram_digest >"$SCRAM_STAMP"
  else
    step "kafka: keeping the existing log dir $(node_data kafka)"
  fi
}

# Three-broker mode: a new controller log dir means a new cluster, so every broker is formatted with
# it; otherwise only a broker that lost its log dir is formatted (it re-replicates from the others).
# The formats run in parallel (each is a JVM start).
prepare_cluster() { # nodes about to be started
  local node cluster_id meta pid failed=0
  local -a to_format=() pids=()
  meta="$(node_data controller)/meta.properties"
  if [[ ! -f "$meta" ]]; then
    for node in "${KAFKA_NODES[@]}"; do
      comp_pid "$node" >/dev/null \
        && die "the controller's log dir $(node_data controller) is gone while $node is running; run '$PROG down' first"
    done
    cluster_id="$(new_cluster_id)"
    step "kafka: formatting a new cluster in $CLUSTER_DIR (cluster id $cluster_id): controller ${BROKER_NODES[*]}"
    rm -f "$SCRAM_STAMP"
    to_format=(controller "${BROKER_NODES[@]}")
  else
    cluster_id="$(sed -n 's/^cluster\.id=//p' "$meta")"
    [[ -n "$cluster_id" ]] || die "no cluster.id in $meta; run '$PROG down' and remove $CLUSTER_DIR"
    for node in "$@"; do
      [[ -f "$(node_data "$node")/meta.properties" ]] && continue
      step "kafka: formatting a new log dir for $node (cluster id $cluster_id)"
      to_format+=("$node")
    done
    ((${#to_format[@]} == $#)) || step "kafka: keeping the existing log dirs in $CLUSTER_DIR"
  fi
  for node in "${to_format[@]}"; do
    format_node "$node" "$cluster_id" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  ((failed == 0)) || die "kafka storage format failed (output above)"
  [[ " ${to_format[*]} " == *" controller "* ]] && scram_digest >"$SCRAM_STAMP"
  return 0
}

start_node() { # kafka | controller | kafka-N
  local node="$1" role
  local -a heap
  check_ports_free "$node"
  case "$node" in
    controller) role="KRaft controller"
      heap=(-Xms64m -Xmx"$CONTROLLER_HEAP" -XX:+UseSerialGC) ;;
    kafka) role=""
      heap=(-Xms256m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
            -XX:+ExplicitGCInvokesConcurrent) ;;
    *) role="broker $(node_id "$node")"
      heap=(-Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
            -XX:+ExplicitGCInvokesConcurrent) ;;
  esac
  step "$node: starting Kafka $KAFKA_VERSION${role:+ $role} (log: $(log_file "$node"))"
  [[ "$node" != kafka-* ]] || : >"$(sync_marker "$node")"
  start_detached "$node" "$(log_file "$node")" \
    java "${heap[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_LOG4J" "$(cmd_marker "$node")" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$(node_config "$node")"
}

start_registry() {
  check_ports_free registry
  mkdir -p "$APICURIO_DIR/tmp"
  step "registry: starting Apicurio Registry $APICURIO_VERSION, in-memory (log: $(log_file registry))"
  start_detached registry "$(log_file registry)" \
    java -Xms64m -Xmx"$APICURIO_HEAP" -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Djava.io.tmpdir="$APICURIO_DIR/tmp" "$(cmd_marker registry)" \
    -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$APICURIO_PORT" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 \
    -Dapicurio.datasource.jdbc.max-size=20 \
    -Dquarkus.log.console.format='%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{3.}] (%t) %s%e%n' \
    -Dapicurio.ccompat.legacy-id-mode.enabled=false -Dapicurio.ccompat.use-canonical-hash=true \
    -Dapicurio.rules.global.compatibility="$SR_COMPATIBILITY" \
    -Dapicurio.rest.deletion.group.enabled=true -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -Dapicurio.import.work-dir="$APICURIO_DIR/tmp" -Dapicurio.storage.snapshot.location="$APICURIO_DIR/tmp" \
    -jar "$(apicurio_runner)"
}

nginx_test_config() { # prints nginx's complaints about $NGINX_CONF; fails if nginx rejects it
  nginx -t -q -e "$LOG_DIR/nginx-error.log" -p "$NGINX_DIR" -c "$NGINX_CONF" 2>&1
}

start_proxy() {
  check_ports_free proxy
  local out
  out="$(nginx_test_config)" || die "nginx rejected $NGINX_CONF: $out"
  step "proxy: starting nginx on https://$HOST:$REGISTRY_PORT (log: $(log_file proxy))"
  start_detached proxy "$LOG_DIR/nginx-stdout.log" nginx -e "$LOG_DIR/nginx-error.log" -p "$NGINX_DIR" -c "$NGINX_CONF"
}

# ---- readiness -------------------------------------------------------------------------------------------
DEADLINE=0

fail_start() { # component message
  tail_log "$1"
  die "$1: $2"
}

wait_until() { # "component..." description command...  (fails when one of the components exits)
  local comps="$1" what="$2" comp
  shift 2
  until "$@"; do
    for comp in $comps; do
      comp_pid "$comp" >/dev/null || fail_start "$comp" "the process exited while waiting for $what"
    done
    ((SECONDS < DEADLINE)) || fail_start "${comps%% *}" "not ready after ${UP_TIMEOUT}s (waiting for $what; LOCAL_STACK_TIMEOUT)"
    sleep 0.5
  done
}

time_left() { local left=$((DEADLINE - SECONDS)); ((left > 5)) || left=5; printf '%s' "$left"; }

topic_dirs_present() { # every broker holds a replica of every partition
  local node i
  for node in "${BROKER_NODES[@]}"; do
    for ((i = 0; i < TOPIC_PARTITIONS; i++)); do [[ -d "$(node_data "$node")/$TOPIC-$i" ]] || return 1; done
  done
}

create_topic() {
  local -a config=()
  ((BROKERS == 1)) || config=(--config "min.insync.replicas=$MIN_ISR")
  kafka_tool "$(time_left)" org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap plaintext)" \
    --create --if-not-exists --topic "$TOPIC" --partitions "$TOPIC_PARTITIONS" --replication-factor "$TOPIC_RF" \
    "${config[@]}" >"$LOG_DIR/kafka-topic.log" 2>&1
}

create_scram_credentials() { # mechanism — through the PLAINTEXT listener; replaces that user's credential
  # One mechanism per request: Kafka refuses to alter one user's credentials twice in a request.
  kafka_tool "$(time_left)" kafka.admin.ConfigCommand --bootstrap-server "$(bootstrap plaintext)" \
    --alter --entity-type users --entity-name "$KAFKA_API_KEY_VALUE" --add-config "$1=[password=$KAFKA_API_SECRET_VALUE]" \
    >"$LOG_DIR/kafka-scram.log" 2>&1
}

# SCRAM credentials live in the cluster metadata: the format put them there for a new log dir; a log
# dir from before (or a changed key/secret) gets them here, once — the stamp remembers for which pair.
# The brokers already serve (the topic exists), so a failure is retried only briefly.
ensure_scram() {
  [[ "$(cat "$SCRAM_STAMP" 2>/dev/null)" == "$(scram_digest)" ]] && return 0
  local m attempt
  step "kafka: creating ${SCRAM_MECHANISMS[*]} credentials for '$KAFKA_API_KEY_VALUE' (kafka-configs)"
  for m in "${SCRAM_MECHANISMS[@]}"; do
    for attempt in 1 2 3; do
      create_scram_credentials "$m" && continue 2
      ((attempt < 3 && SECONDS < DEADLINE)) && sleep 2
    done
    EXTRA_LOG="$LOG_DIR/kafka-scram.log"
    fail_start "${KAFKA_NODES[0]}" "could not create the $m credentials (see $LOG_DIR/kafka-scram.log)"
  done
  scram_digest >"$SCRAM_STAMP"
}

sync_marker() { printf '%s/%s.syncing' "$RUN_DIR" "$1"; } # a broker started whose replicas may lag
broker_started() { grep -q 'Kafka Server started' "$(log_file "$1")" 2>/dev/null; }

partitions_in_sync() { # no partition of any topic has fewer in-sync replicas than replicas
  local out
  out="$(kafka_tool "$(time_left)" org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap plaintext)" \
           --describe --under-replicated-partitions 2>"$LOG_DIR/kafka-isr.log")" || return 1
  printf '%s\n' "$out" >>"$LOG_DIR/kafka-isr.log"
  [[ -z "$out" ]]
}

tls_handshake_ok() { # port
  openssl s_client -connect "$HOST:$1" -servername localhost -CAfile "$CA_PEM" -verify_return_error \
    </dev/null >/dev/null 2>&1
}

wait_kafka() { # nodes started by this 'up'...
  local t0=$SECONDS started=" $* " node pt sasl brokers_started=0
  [[ "$BROKERS" == 1 ]] || wait_until controller "CONTROLLER port $KAFKA_CONTROLLER_PORT" port_open "$KAFKA_CONTROLLER_PORT"
  for node in "${BROKER_NODES[@]}"; do
    pt="$(broker_plaintext_port "$node")" sasl="$(broker_sasl_port "$node")"
    wait_until "$node" "PLAINTEXT port $pt" port_open "$pt"
    wait_until "$node" "SASL_SSL port $sasl" port_open "$sasl"
    [[ "$started" == *" $node "* ]] && brokers_started=1
    ((BROKERS == 1)) && continue
    # One broker of several: its ports open before it serves; the log says when it does. A broker
    # started by an earlier 'up' that gave up is still waited for, sync included (its marker file).
    wait_until "$node" "its start-up ('Kafka Server started' in its log)" broker_started "$node"
    [[ -f "$(sync_marker "$node")" ]] && brokers_started=1
  done
  # One broker: (re)create the topic whenever it started. Three: a restarted broker finds the topic in
  # the cluster's metadata; only a new cluster (no replica dirs yet) needs it created.
  if { ((BROKERS == 1 && brokers_started)); } || ! topic_dirs_present; then
    for node in "${BROKER_NODES[@]}"; do
      sasl="$(broker_sasl_port "$node")"
      wait_until "$node" "a TLS handshake on $HOST:$sasl" tls_handshake_ok "$sasl"
    done
    if ! create_topic; then
      EXTRA_LOG="$LOG_DIR/kafka-topic.log"
      wait_until "${KAFKA_NODES[*]}" "topic creation (see $LOG_DIR/kafka-topic.log)" create_topic
      EXTRA_LOG=""
    fi
    if ((BROKERS == 1)); then
      say "kafka: topic '$TOPIC' present ($TOPIC_PARTITIONS partitions)"
    else
      say "kafka: topic '$TOPIC' present ($TOPIC_PARTITIONS partitions, replication factor $TOPIC_RF, min.insync.replicas=$MIN_ISR)"
    fi
  fi
  ensure_scram
  if ((BROKERS > 1 && brokers_started)); then
    EXTRA_LOG="$LOG_DIR/kafka-isr.log"
    wait_until "$* ${KAFKA_NODES[*]}" "every partition back in sync (no under-replicated partitions)" partitions_in_sync
    EXTRA_LOG=""
    for node in "${BROKER_NODES[@]}"; do rm -f "$(sync_marker "$node")"; done
    say "kafka: every partition in sync"
  fi
  say "kafka: ready after $((SECONDS - t0))s wait — PLAINTEXT $(bootstrap plaintext), SASL_SSL $(bootstrap sasl)"
}

http_status() { # curl args...  → prints the HTTP status code
  curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$@" 2>/dev/null || true
}
apicurio_ready() { [[ "$(http_status "http://$HOST:$APICURIO_PORT/apis/ccompat/v7/subjects")" == 200 ]]; }
proxy_ready() {
  [[ "$(http_status --cacert "$CA_PEM" -u "$SR_API_KEY_VALUE:$SR_API_SECRET_VALUE" \
        "https://$HOST:$REGISTRY_PORT/subjects")" == 200 ]]
}

wait_registry() { # started-now flag
  local t0=$SECONDS
  wait_until registry "HTTP 200 from http://$HOST:$APICURIO_PORT/apis/ccompat/v7/subjects" apicurio_ready
  if [[ "$1" == 1 ]]; then
    # The global rule from -Dapicurio.rules.global.compatibility is enforced but GET /config reports NONE
    # until the level is set through the API; setting it makes GET /config tell the truth.
    [[ "$(http_status -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
          --data "{\"compatibility\":\"$SR_COMPATIBILITY\"}" "http://$HOST:$APICURIO_PORT/apis/ccompat/v7/config")" == 200 ]] \
      || fail_start registry "could not set the global compatibility level $SR_COMPATIBILITY"
  fi
  say "registry: ready after $((SECONDS - t0))s wait — http://$HOST:$APICURIO_PORT/apis/ccompat/v7"
}

wait_proxy() {
  local t0=$SECONDS
  wait_until proxy "HTTP 200 from https://$HOST:$REGISTRY_PORT/subjects with credentials" proxy_ready
  say "proxy: ready after $((SECONDS - t0))s wait — https://$HOST:$REGISTRY_PORT (Basic auth)"
}

# ---- commands ---------------------------------------------------------------------------------------------
in_mode() { [[ " ${COMPONENTS[*]} " == *" $1 "* ]]; }
component_choices() { local IFS='|'; printf '%s' "${COMPONENTS[*]}" | sed 's/|/ | /g'; }

# Prints "already running" and applies a changed configuration (nginx reloads; the JVMs are told to be
# restarted); fails when the component is not running.
already_running() { # component
  local comp="$1" pid c
  pid="$(comp_pid "$comp")" || return 1
  say "$comp: already running (pid $pid)"
  for c in "${CHANGED_CONFIG[@]}"; do
    [[ "$c" == "$comp" ]] || continue
    if [[ "$comp" == proxy ]]; then
      say "proxy: configuration changed; reloading nginx (SIGHUP)"
      nginx_test_config >/dev/null || die "nginx rejected the new $NGINX_CONF (see $LOG_DIR/nginx-error.log)"
      kill -HUP "$pid"
      sleep 0.5
    else
      warn "$comp: its configuration changed; it applies after a restart ('$PROG stop $comp' or 'down', then 'up')"
    fi
    break
  done
  return 0
}

cmd_up() {
  check_tools
  validate_settings
  lock_state
  check_mode
  local t_start=$SECONDS
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  ensure_kafka_libs
  ensure_apicurio
  ensure_tls
  write_kafka_config
  write_nginx_config
  DEADLINE=$((SECONDS + UP_TIMEOUT))

  local node started_registry=0
  local -a to_start=()
  # Apicurio first: it takes longest to boot, and Kafka's storage format can run meanwhile.
  already_running registry || { start_registry; started_registry=1; }
  for node in "${KAFKA_NODES[@]}"; do already_running "$node" || to_start+=("$node"); done
  if ((${#to_start[@]})); then
    if ((BROKERS == 1)); then prepare_single; else prepare_cluster "${to_start[@]}"; fi
    for node in "${to_start[@]}"; do start_node "$node"; done
  fi
  already_running proxy || start_proxy

  wait_kafka "${to_start[@]}"
  wait_registry "$started_registry"
  wait_proxy
  say "stack up in $((SECONDS - t_start))s. Use it with:  eval \"\$($PROG env)\""
}

cmd_down() {
  lock_state
  local node p busy="" ports kept other=0 deadline=$((SECONDS + 10))
  ports="$(all_ports)"
  if ((BROKERS == 1)); then kept="$(node_data kafka)"; else kept="$CLUSTER_DIR"; fi
  for node in "${EVERY_KAFKA_NODE[@]}"; do # the other mode's Kafka, if it runs, goes down too
    in_mode "$node" || ! comp_pid "$node" >/dev/null || ports+=" $(comp_ports "$node")" other=1
  done
  ((other)) && kept="$(node_data kafka) and $CLUSTER_DIR"
  ports="$(tr ' ' '\n' <<<"$ports" | awk 'NF && !seen[$0]++' | xargs)"
  stop_components proxy || true
  stop_components registry || true
  # Brokers before the controller: a broker's graceful shutdown asks the controller to move its leaders.
  stop_components kafka kafka-1 kafka-2 kafka-3 || true
  stop_components controller || true
  # Verify that nothing is left listening on the stack's ports.
  for p in $ports; do
    while port_open "$p" && ((SECONDS < deadline)); do sleep 0.2; done
    port_open "$p" && busy+=" $p"
  done
  if [[ -n "$busy" ]]; then
    for p in $busy; do port_owner "$p" >&2; done
    die "port(s)$busy on $HOST are still in use by processes this script did not start"
  fi
  say "stack down; ports $ports are free (data kept in $kept)"
}

cmd_status() {
  check_mode
  local comp pid all_up=1 state p listening desc width=9
  ((BROKERS == 1)) || width=10
  for comp in "${COMPONENTS[@]}"; do
    case "$comp" in
      kafka) desc="PLAINTEXT $HOST:$KAFKA_PLAINTEXT_PORT  SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT  CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT" ;;
      controller) desc="CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT (KRaft controller, node id $(node_id controller))" ;;
      kafka-*) desc="PLAINTEXT $HOST:$(broker_plaintext_port "$comp")  SASL_SSL $HOST:$(broker_sasl_port "$comp")  (broker, node id $(node_id "$comp"))" ;;
      registry) desc="apicurio http://$HOST:$APICURIO_PORT/apis/ccompat/v7" ;;
      proxy) desc="nginx https://$HOST:$REGISTRY_PORT" ;;
    esac
    if pid="$(comp_pid "$comp")"; then
      listening=1
      for p in $(comp_ports "$comp"); do port_open "$p" || listening=0; done
      if ((listening)); then state=up; else state=starting; all_up=0; fi
      printf "%-${width}s %-9s pid %-8s %s\n" "$comp" "$state" "$pid" "$desc"
    else
      all_up=0
      printf "%-${width}s %-9s pid %-8s %s\n" "$comp" down - "$desc"
    fi
  done
  ((all_up)) && return 0 || return 3
}

cmd_signal() { # kill|stop component
  local verb="$1" comp="$2" pid t0=$SECONDS
  case "$comp" in apicurio) comp=registry ;; nginx) comp=proxy ;; esac
  in_mode "$comp" || usage_error "$verb needs a component: $(component_choices)"
  lock_state
  check_mode
  if ! pid="$(comp_pid "$comp")"; then
    say "$comp: not running"
    return 0
  fi
  if [[ "$verb" == kill ]]; then
    say "$comp: SIGKILL pid $pid"
    signal_group KILL "$pid"
    wait_gone "$comp" "$pid" 10 || die "$comp (pid $pid) is still alive after SIGKILL"
  else
    stop_components "$comp" || die "$comp did not shut down within ${STOP_TIMEOUT}s of SIGTERM (LOCAL_STACK_STOP_TIMEOUT) and was killed with SIGKILL"
    say "$comp: stopped gracefully in $((SECONDS - t0))s"
  fi
}

cmd_describe() { # [topic]
  local topic="${1:-$TOPIC}" node out open=0
  check_mode
  [[ "$topic" =~ ^[A-Za-z0-9._-]+$ ]] || usage_error "describe: '$topic' is not a valid topic name"
  [[ -f "$KAFKA_HOME/.complete" ]] || die "Kafka's jars are not cached yet; run '$PROG up' first"
  for node in "${BROKER_NODES[@]}"; do port_open "$(broker_plaintext_port "$node")" && open=1; done
  ((open)) || die "no broker answers on $(bootstrap plaintext); run '$PROG up' first"
  out="$(kafka_tool 60 org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap plaintext)" \
           --describe --topic "$topic" 2>&1)" \
    || die "could not describe topic '$topic' over $(bootstrap plaintext): $(grep -m1 '^Error' <<<"$out" || tail -n1 <<<"$out")"
  # "<tab>Topic: shoes<tab>Partition: 0<tab>Leader: 2<tab>Replicas: 2,3,1<tab>Isr: 2,3,1<tab>..." → "shoes 0 2 2,3,1 2,3,1"
  # (no leader → -1, an empty ISR → -, so every line has five fields)
  awk -F'\t' '
    /Partition: [0-9]/ {
      for (i = 1; i <= NF; i++) { n = index($i, ": "); if (n) v[substr($i, 1, n - 1)] = substr($i, n + 2) }
      leader = (v["Leader"] ~ /^[0-9]+$/) ? v["Leader"] : -1
      print v["Topic"], v["Partition"], leader, v["Replicas"], (v["Isr"] == "" ? "-" : v["Isr"])
    }' <<<"$out"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) [[ $# -eq 0 ]] || { usage >&2; exit 2; }; cmd_up ;;
    down) [[ $# -eq 0 ]] || { usage >&2; exit 2; }; cmd_down ;;
    status) cmd_status ;;
    env) check_mode; print_env ;;
    kill | stop) [[ $# -eq 1 ]] || usage_error "usage: $PROG $cmd $(component_choices | tr -d ' ')"
      cmd_signal "$cmd" "$1" ;;
    describe) [[ $# -le 1 ]] || usage_error "usage: $PROG describe [TOPIC]"
      cmd_describe "${1:-}" ;;
    help | -h | --help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command %s\n\n' "$PROG" "$(shq "$cmd")" >&2; usage >&2; exit 2 ;;
  esac
}

main "$@"
