#!/usr/bin/env bash
# local-stack.sh — a Confluent-Cloud-shaped Kafka + Schema Registry on 127.0.0.1, without Docker.
#
#   Kafka (KRaft, single node)   PLAINTEXT 127.0.0.1:9092, SASL_SSL/PLAIN 127.0.0.1:9093, controller :9094
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

# ---- settings (environment overridable) -------------------------------------------------------------
STATE_DIR="$(abs_path "${LOCAL_STACK_DIR:-$REPO_DIR/.local-stack}")"
CACHE_DIR="$(abs_path "${LOCAL_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shoe-producer-stack}")"
KAFKA_VERSION="${LOCAL_STACK_KAFKA_VERSION:-4.1.1}"
APICURIO_VERSION="${LOCAL_STACK_APICURIO_VERSION:-3.0.9}"
LOG4J_VERSION="${LOCAL_STACK_LOG4J_VERSION:-2.24.3}"

KAFKA_PLAINTEXT_PORT="${LOCAL_STACK_KAFKA_PLAINTEXT_PORT:-9092}"
KAFKA_SASL_SSL_PORT="${LOCAL_STACK_KAFKA_SASL_SSL_PORT:-9093}"
KAFKA_CONTROLLER_PORT="${LOCAL_STACK_KAFKA_CONTROLLER_PORT:-9094}"
REGISTRY_PORT="${LOCAL_STACK_REGISTRY_PORT:-8443}"
APICURIO_PORT="${LOCAL_STACK_APICURIO_PORT:-8081}"

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
KAFKA_HEAP="${LOCAL_STACK_KAFKA_HEAP:-1g}"
APICURIO_HEAP="${LOCAL_STACK_APICURIO_HEAP:-512m}"

# ---- derived paths ---------------------------------------------------------------------------------------
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
APICURIO_HOME="$CACHE_DIR/apicurio-registry-$APICURIO_VERSION"

TLS_DIR="$STATE_DIR/tls"
CA_PEM="$TLS_DIR/ca.pem"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
KAFKA_CLIENT_CONFIG="$KAFKA_DIR/client-sasl-ssl.properties"
APICURIO_DIR="$STATE_DIR/apicurio"
NGINX_DIR="$STATE_DIR/nginx"
NGINX_CONF="$NGINX_DIR/nginx.conf"

readonly COMPONENTS=(kafka registry proxy)

# ---- small helpers ---------------------------------------------------------------------------------------
say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

usage() {
  cat <<EOF
Usage: $PROG COMMAND

A local, Confluent-Cloud-shaped stack for shoe-producer (no Docker; all servers on $HOST only):
  kafka     Apache Kafka $KAFKA_VERSION, single node, KRaft combined mode, auto topic creation off
              PLAINTEXT  $HOST:$KAFKA_PLAINTEXT_PORT   (admin, inspection)
              SASL_SSL   $HOST:$KAFKA_SASL_SSL_PORT   (SASL PLAIN with an API key/secret, TLS from the stack CA)
              CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT
  registry  Apicurio Registry $APICURIO_VERSION, in-memory storage (schemas vanish when it restarts)
              http $HOST:$APICURIO_PORT (Confluent API under /apis/ccompat/v7)
  proxy     nginx: https://$HOST:$REGISTRY_PORT, Basic auth, Confluent REST paths at / -> Apicurio ccompat

Commands:
  up              start whatever is not running (fetching jars with Maven on first use), wait until
                  ready, create topic '$TOPIC' ($TOPIC_PARTITIONS partitions). Idempotent; keeps Kafka's data.
  down            stop what 'up' started (SIGTERM by recorded pid, SIGKILL after ${STOP_TIMEOUT}s), check ports are free.
  status          one line per component; exit 0 if all are up, 3 otherwise.
  env             print 'export' lines for the producer and tests:  eval "\$($PROG env)"
                  (works while the stack is down: it only prints)
  kill COMPONENT  SIGKILL one component by its recorded pid (kafka | registry | proxy), for fault tests;
                  'up' brings it back.
  help            this text.

Exit codes: 0 success; 1 failure (the message says what; on a start timeout the component's log tail
is printed); 2 usage error; 3 'status' found a component down.

Environment (defaults in brackets):
  LOCAL_STACK_DIR                    state: configs, certificates, data, logs, pids [$REPO_DIR/.local-stack]
  LOCAL_STACK_CACHE                  downloaded jars [\${XDG_CACHE_HOME:-\$HOME/.cache}/shoe-producer-stack]
  LOCAL_STACK_KAFKA_PLAINTEXT_PORT   [9092]      LOCAL_STACK_KAFKA_SASL_SSL_PORT  [9093]
  LOCAL_STACK_KAFKA_CONTROLLER_PORT  [9094]      LOCAL_STACK_REGISTRY_PORT        [8443] (nginx, https)
  LOCAL_STACK_APICURIO_PORT          [8081] (Apicurio, plain http, loopback)
  LOCAL_STACK_KAFKA_API_KEY / LOCAL_STACK_KAFKA_API_SECRET   [shoe-kafka-key / shoe-kafka-secret-local-only]
  LOCAL_STACK_SR_API_KEY / LOCAL_STACK_SR_API_SECRET         [shoe-sr-key / shoe-sr-secret-local-only]
  LOCAL_STACK_SR_COMPATIBILITY       registry's global compatibility level [BACKWARD, as Confluent]
  LOCAL_STACK_TOPIC / LOCAL_STACK_TOPIC_PARTITIONS           [shoes / 6]
  LOCAL_STACK_TIMEOUT                seconds 'up' waits for readiness [180]
  LOCAL_STACK_STOP_TIMEOUT           seconds 'down' waits before SIGKILL [30]
  LOCAL_STACK_MAVEN_TIMEOUT          seconds allowed for the first-run Maven download [900]
  LOCAL_STACK_MAVEN_ARGS             extra arguments for mvn (e.g. -o, -s settings.xml) []
  LOCAL_STACK_KAFKA_HEAP / LOCAL_STACK_APICURIO_HEAP         JVM -Xmx [1g / 512m]
  LOCAL_STACK_KAFKA_VERSION / LOCAL_STACK_APICURIO_VERSION   [4.1.1 / 3.0.9]

Files: logs in \$LOCAL_STACK_DIR/logs (kafka.log, apicurio.log, nginx-error.log, nginx-access.log);
CA certificate \$LOCAL_STACK_DIR/tls/ca.pem; Java client config for the SASL_SSL listener
\$LOCAL_STACK_DIR/kafka/client-sasl-ssl.properties. 'up' reloads nginx when its configuration changed;
Kafka and Apicurio pick up changed ports/credentials when restarted ('down' then 'up'). A failed 'up'
leaves what it started running (for inspection); 'down' stops it.
EOF
}

print_env() {
  local kv
  for kv in \
    "BOOTSTRAP_SERVERS=$HOST:$KAFKA_SASL_SSL_PORT" \
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
    "LOCAL_STACK_PLAINTEXT_BOOTSTRAP=$HOST:$KAFKA_PLAINTEXT_PORT" \
    "LOCAL_STACK_KAFKA_LIBS=$KAFKA_LIBS" \
    "LOCAL_STACK_KAFKA_CLIENT_CONFIG=$KAFKA_CLIENT_CONFIG"; do
    printf 'export %s=%s\n' "${kv%%=*}" "$(shq "${kv#*=}")"
  done
}

validate_settings() {
  local name value
  for name in KAFKA_PLAINTEXT_PORT KAFKA_SASL_SSL_PORT KAFKA_CONTROLLER_PORT REGISTRY_PORT APICURIO_PORT \
              TOPIC_PARTITIONS UP_TIMEOUT STOP_TIMEOUT MAVEN_TIMEOUT; do
    value="${!name}"
    [[ "$value" =~ ^[0-9]+$ ]] || die "LOCAL_STACK_$name must be a number, got '$value'"
  done
  local ports="$KAFKA_PLAINTEXT_PORT $KAFKA_SASL_SSL_PORT $KAFKA_CONTROLLER_PORT $REGISTRY_PORT $APICURIO_PORT"
  [[ $(tr ' ' '\n' <<<"$ports" | sort -u | wc -l) -eq 5 ]] || die "the five ports must differ: $ports"
  for name in KAFKA_API_KEY_VALUE KAFKA_API_SECRET_VALUE SR_API_KEY_VALUE SR_API_SECRET_VALUE; do
    value="${!name}"
    [[ "$value" =~ ^[A-Za-z0-9._+/=-]+$ ]] \
      || die "credentials may only use letters, digits and . _ + / = - (check LOCAL_STACK_*_API_KEY/SECRET)"
  done
  [[ "$TOPIC" =~ ^[A-Za-z0-9._-]+$ ]] || die "LOCAL_STACK_TOPIC '$TOPIC' is not a valid topic name"
}

need_tool() { # tool, apt package
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install it first (Debian/Ubuntu: apt-get install -y $2)"
}

check_tools() {
  need_tool java openjdk-17-jre-headless
  need_tool nginx nginx-light
  need_tool openssl openssl
  need_tool curl curl
  need_tool setsid util-linux
  need_tool flock util-linux
  need_tool timeout coreutils
  need_tool tar tar
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "$v" && "$v" -ge 17 ]] || die "Java 17 or newer is needed for Kafka $KAFKA_VERSION (found: ${v:-unknown})"
}

lock_state() { # serialize concurrent up/down/kill on one state dir; fd 9 is closed for started servers
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
    kafka) printf '%s/kafka.log' "$LOG_DIR" ;;
    registry) printf '%s/apicurio.log' "$LOG_DIR" ;;
    proxy) printf '%s/nginx-error.log' "$LOG_DIR" ;;
  esac
}
cmd_marker() { # a string only our process of that component has on its command line
  case "$1" in
    kafka) printf '%s' "-Dlocal-stack.component=kafka:$STATE_DIR" ;;
    registry) printf '%s' "-Dlocal-stack.component=registry:$STATE_DIR" ;;
    proxy) printf '%s' "-c $NGINX_CONF" ;;
  esac
}
comp_ports() {
  case "$1" in
    kafka) printf '%s %s %s' "$KAFKA_PLAINTEXT_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_CONTROLLER_PORT" ;;
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
  [[ "$cmdline" == *"$(cmd_marker "$1")"* ]] || return 1
  printf '%s' "$pid"
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

stop_component() {
  local comp="$1" pid
  if ! pid="$(comp_pid "$comp")"; then
    rm -f "$(pid_file "$comp")"
    say "$comp: not running"
    return 0
  fi
  say "$comp: stopping pid $pid (SIGTERM)"
  signal_group TERM "$pid"
  if ! wait_gone "$comp" "$pid" "$STOP_TIMEOUT"; then
    warn "$comp did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
    signal_group KILL "$pid"
    wait_gone "$comp" "$pid" 10 || die "$comp (pid $pid) survived SIGKILL"
  fi
  rm -f "$(pid_file "$comp")"
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
  command -v mvn >/dev/null 2>&1 \
    || die "the jars are not cached yet and 'mvn' is not installed (Debian/Ubuntu: apt-get install -y maven)"
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

write_kafka_config() {
  mkdir -p "$KAFKA_DIR" "$KAFKA_DATA"
  local changed=0
  write_file "$KAFKA_CONFIG" 600 <<EOF && changed=1
# Generated by $PROG — single-node KRaft (broker + controller), Confluent-Cloud-like listeners.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$KAFKA_PLAINTEXT_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PLAINTEXT_PORT,SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_API_KEY_VALUE="$KAFKA_API_SECRET_VALUE";
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/server-keystore.pem
listener.name.sasl_ssl.ssl.client.auth=none

log.dirs=$KAFKA_DATA
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
  write_file "$KAFKA_DIR/log4j2.properties" 644 <<'EOF' && changed=1
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
  tools_log4j2_config | write_file "$KAFKA_DIR/tools-log4j2.properties" 644 || true
  write_file "$KAFKA_CLIENT_CONFIG" 600 <<EOF || true
# Java client settings for the local stack's SASL_SSL listener ($HOST:$KAFKA_SASL_SSL_PORT), e.g.
#   java -cp "\$LOCAL_STACK_KAFKA_LIBS/*" org.apache.kafka.tools.ConsoleProducer --bootstrap-server $HOST:$KAFKA_SASL_SSL_PORT \\
#        --producer.config $KAFKA_CLIENT_CONFIG --topic $TOPIC
# (ConsoleConsumer: --consumer.config; ProducerPerformance: --producer.config; admin tools: --command-config)
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$KAFKA_API_KEY_VALUE" password="$KAFKA_API_SECRET_VALUE";
ssl.truststore.type=PEM
ssl.truststore.location=$CA_PEM
EOF
  ((changed)) && CHANGED_CONFIG+=(kafka)
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

start_kafka() {
  check_ports_free kafka
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$cluster_id" == -* ]] && cluster_id="A${cluster_id:1}"
    step "kafka: formatting a new log dir $KAFKA_DATA (cluster id $cluster_id)"
    rm -rf "$KAFKA_DATA"
    mkdir -p "$KAFKA_DATA"
    if ! java -Xmx256m -XX:+UseSerialGC -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
          kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" >"$LOG_DIR/kafka-format.log" 2>&1; then
      cat "$LOG_DIR/kafka-format.log" >&2
      die "kafka storage format failed"
    fi
  else
    step "kafka: keeping the existing log dir $KAFKA_DATA"
  fi
  step "kafka: starting Kafka $KAFKA_VERSION (log: $(log_file kafka))"
  start_detached kafka "$(log_file kafka)" \
    java -Xms256m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" "$(cmd_marker kafka)" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONFIG"
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

wait_until() { # component description command...
  local comp="$1" what="$2"
  shift 2
  until "$@"; do
    comp_pid "$comp" >/dev/null || fail_start "$comp" "the process exited while waiting for $what"
    ((SECONDS < DEADLINE)) || fail_start "$comp" "not ready after ${UP_TIMEOUT}s (waiting for $what; LOCAL_STACK_TIMEOUT)"
    sleep 0.5
  done
}

topic_dirs_present() {
  local i
  for ((i = 0; i < TOPIC_PARTITIONS; i++)); do [[ -d "$KAFKA_DATA/$TOPIC-$i" ]] || return 1; done
}

create_topic() {
  local left=$((DEADLINE - SECONDS))
  ((left > 5)) || left=5
  timeout "$left" java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" \
    -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$KAFKA_PLAINTEXT_PORT" \
    --create --if-not-exists --topic "$TOPIC" --partitions "$TOPIC_PARTITIONS" --replication-factor 1 \
    >"$LOG_DIR/kafka-topic.log" 2>&1
}

tls_handshake_ok() { # port
  openssl s_client -connect "$HOST:$1" -servername localhost -CAfile "$CA_PEM" -verify_return_error \
    </dev/null >/dev/null 2>&1
}

wait_kafka() { # started-now flag
  local t0=$SECONDS
  wait_until kafka "PLAINTEXT port $KAFKA_PLAINTEXT_PORT" port_open "$KAFKA_PLAINTEXT_PORT"
  wait_until kafka "SASL_SSL port $KAFKA_SASL_SSL_PORT" port_open "$KAFKA_SASL_SSL_PORT"
  if [[ "$1" == 1 ]] || ! topic_dirs_present; then
    wait_until kafka "a TLS handshake on $HOST:$KAFKA_SASL_SSL_PORT" tls_handshake_ok "$KAFKA_SASL_SSL_PORT"
    if ! create_topic; then
      EXTRA_LOG="$LOG_DIR/kafka-topic.log"
      wait_until kafka "topic creation (see $LOG_DIR/kafka-topic.log)" create_topic
      EXTRA_LOG=""
    fi
    say "kafka: topic '$TOPIC' present ($TOPIC_PARTITIONS partitions)"
  fi
  say "kafka: ready after $((SECONDS - t0))s wait — PLAINTEXT $HOST:$KAFKA_PLAINTEXT_PORT, SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT"
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
cmd_up() {
  check_tools
  validate_settings
  lock_state
  local t_start=$SECONDS
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  ensure_kafka_libs
  ensure_apicurio
  ensure_tls
  write_kafka_config
  write_nginx_config
  DEADLINE=$((SECONDS + UP_TIMEOUT))

  local comp pid started_kafka=0 started_registry=0 c
  # Apicurio first: it takes longest to boot, and Kafka's storage format can run meanwhile.
  for comp in registry kafka proxy; do
    if pid="$(comp_pid "$comp")"; then
      say "$comp: already running (pid $pid)"
      for c in "${CHANGED_CONFIG[@]}"; do
        [[ "$c" == "$comp" ]] || continue
        if [[ "$comp" == proxy ]]; then
          say "proxy: configuration changed; reloading nginx (SIGHUP)"
          nginx_test_config >/dev/null || die "nginx rejected the new $NGINX_CONF (see $LOG_DIR/nginx-error.log)"
          kill -HUP "$pid"
          sleep 0.5
        else
          warn "$comp: its configuration changed; it applies after a restart ('$PROG kill $comp' or 'down', then 'up')"
        fi
      done
    else
      case "$comp" in
        kafka) start_kafka; started_kafka=1 ;;
        registry) start_registry; started_registry=1 ;;
        proxy) start_proxy ;;
      esac
    fi
  done

  wait_kafka "$started_kafka"
  wait_registry "$started_registry"
  wait_proxy
  say "stack up in $((SECONDS - t_start))s. Use it with:  eval \"\$($PROG env)\""
}

cmd_down() {
  lock_state
  local comp
  for comp in proxy registry kafka; do stop_component "$comp"; done
  # Verify that nothing is left listening on the stack's ports.
  local p busy="" deadline=$((SECONDS + 10))
  for p in $KAFKA_PLAINTEXT_PORT $KAFKA_SASL_SSL_PORT $KAFKA_CONTROLLER_PORT $APICURIO_PORT $REGISTRY_PORT; do
    while port_open "$p" && ((SECONDS < deadline)); do sleep 0.2; done
    port_open "$p" && busy+=" $p"
  done
  if [[ -n "$busy" ]]; then
    for p in $busy; do port_owner "$p" >&2; done
    die "port(s)$busy on $HOST are still in use by processes this script did not start"
  fi
  say "stack down; ports $KAFKA_PLAINTEXT_PORT $KAFKA_SASL_SSL_PORT $KAFKA_CONTROLLER_PORT $APICURIO_PORT $REGISTRY_PORT are free (data kept in $KAFKA_DATA)"
}

cmd_status() {
  local comp pid all_up=1 state ports p listening desc
  for comp in "${COMPONENTS[@]}"; do
    case "$comp" in
      kafka) desc="PLAINTEXT $HOST:$KAFKA_PLAINTEXT_PORT  SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT  CONTROLLER $HOST:$KAFKA_CONTROLLER_PORT" ;;
      registry) desc="apicurio http://$HOST:$APICURIO_PORT/apis/ccompat/v7" ;;
      proxy) desc="nginx https://$HOST:$REGISTRY_PORT" ;;
    esac
    if pid="$(comp_pid "$comp")"; then
      listening=1
      for p in $(comp_ports "$comp"); do port_open "$p" || listening=0; done
      if ((listening)); then state=up; else state=starting; all_up=0; fi
      printf '%-9s %-9s pid %-8s %s\n' "$comp" "$state" "$pid" "$desc"
    else
      all_up=0
      printf '%-9s %-9s pid %-8s %s\n' "$comp" down - "$desc"
    fi
  done
  ((all_up)) && return 0 || return 3
}

cmd_kill() {
  local comp="${1:-}" pid
  case "$comp" in
    kafka) ;;
    registry | apicurio) comp=registry ;;
    proxy | nginx) comp=proxy ;;
    *) printf '%s: kill needs a component: kafka | registry | proxy\n' "$PROG" >&2; exit 2 ;;
  esac
  lock_state
  if ! pid="$(comp_pid "$comp")"; then
    say "$comp: not running"
    return 0
  fi
  say "$comp: SIGKILL pid $pid"
  signal_group KILL "$pid"
  wait_gone "$comp" "$pid" 10 || die "$comp (pid $pid) is still alive after SIGKILL"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) [[ $# -eq 0 ]] || { usage >&2; exit 2; }; cmd_up ;;
    down) [[ $# -eq 0 ]] || { usage >&2; exit 2; }; cmd_down ;;
    status) cmd_status ;;
    env) print_env ;;
    kill) [[ $# -eq 1 ]] || { printf '%s: usage: %s kill kafka|registry|proxy\n' "$PROG" "$PROG" >&2; exit 2; }
      cmd_kill "$1" ;;
    help | -h | --help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command %s\n\n' "$PROG" "$(shq "$cmd")" >&2; usage >&2; exit 2 ;;
  esac
}

main "$@"
