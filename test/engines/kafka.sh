#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: broker + controller in one
# JVM) on loopback, for the integration tests and the Kafka benchmark.
#
#   test/engines/kafka.sh start    download (first time), format, start; prints the bootstrap address
#   test/engines/kafka.sh stop     stop the broker started by `start`
#   test/engines/kafka.sh status   print the bootstrap address and exit 0 if it answers, else exit 1
#   test/engines/kafka.sh classpath   print the broker's classpath (downloads if needed)
#
# Kafka's jars come from Maven Central (the only place this machine reaches),
# via `mvn dependency:copy-dependencies` on a generated pom, cached under
# ~/.cache/logship-engines/kafka-<version>/lib. Requires Java 17+ and Maven.
#
# Environment:
#   KAFKA_VERSION   default 4.1.1
#   KAFKA_PORT      broker listener port (default 29092); the controller uses KAFKA_PORT+1.
#                   Below Linux's ephemeral range (32768-60999), so no client socket or
#                   port-0 test server can hold it when the broker starts (that failed a run).
#   KAFKA_DATA_DIR  log dirs, pid file and server log (default /tmp/logship-kafka-$KAFKA_PORT)
#   KAFKA_HEAP      JVM heap (default 1G)
#   KAFKA_FRESH=1   wipe the data dir before starting (a new, empty cluster)
#   KAFKA_PROBE=java  probe readiness with Kafka's admin client even if kcat is installed
#
# A download failure exits non-zero with Maven's output on stderr: never a
# silent skip.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
KAFKA_PORT="${KAFKA_PORT:-29092}"
CONTROLLER_PORT="$((KAFKA_PORT + 1))"
KAFKA_HOST=127.0.0.1
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"
CACHE_DIR="${LOGSHIP_ENGINES_CACHE:-$HOME/.cache/logship-engines}/kafka-$KAFKA_VERSION"
LIB_DIR="$CACHE_DIR/lib"
DATA_DIR="${KAFKA_DATA_DIR:-/tmp/logship-kafka-$KAFKA_PORT}"
PID_FILE="$DATA_DIR/kafka.pid"
SERVER_LOG="$DATA_DIR/server.log"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

ENGINE_SCRIPT=kafka.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fetch_jars() {
  maven_jars "$LIB_DIR" "Apache Kafka $KAFKA_VERSION" "kafka_2.13-$KAFKA_VERSION.jar" "$(cat <<XML
    <!-- core (kafka.Kafka, kafka.tools.StorageTool) pulls in kafka-server,
         kafka-metadata, kafka-raft, kafka-storage, the coordinators, clients -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka logs through slf4j 1.7; bind it to log4j2 as the distribution does -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
XML
)"
}

classpath() { echo "$LIB_DIR/*"; }

write_config() {
  mkdir -p "$DATA_DIR/logs"
  cat >"$DATA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR/logs
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# logship stores ~1 MiB compressed batches as single records
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
socket.request.max.bytes=104857600
log.segment.bytes=268435456
log.retention.hours=24
EOF
  cat >"$DATA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $SERVER_LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = \${env:KAFKA_LOG_LEVEL:-INFO}
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = \${env:KAFKA_LOG_LEVEL:-INFO}
logger.org.name = org.apache
logger.org.level = \${env:KAFKA_LOG_LEVEL:-INFO}
EOF
}

running_pid() { pid_running "$PID_FILE"; }

port_open() { tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; }

# A metadata round trip: with kcat when present (fast), else with Kafka's own
# admin client (a JVM start per try; KAFKA_PROBE=java forces this path).
# Succeeds once the broker has registered with the controller and answers.
metadata_ok() {
  if [[ "${KAFKA_PROBE:-}" != java ]] && command -v kcat >/dev/null 2>&1; then
    kcat -b "$BOOTSTRAP" -L -m 3 2>/dev/null | grep -q "broker 1 at"
  else
    # kafka.admin.ConfigCommand is the one admin CLI left in the core jar:
    # describing broker 1's config is a metadata + DescribeConfigs round trip.
    java -cp "$(classpath)" -Dlog4j2.configurationFile="$DATA_DIR/log4j2.properties" \
      kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --describe --entity-type brokers --entity-name 1 >/dev/null 2>&1
  fi
}

cmd_start() {
  if pid="$(running_pid)"; then
    if port_open; then echo "$BOOTSTRAP"; return 0; fi
    say "pid $pid is alive but $BOOTSTRAP does not answer; waiting"
  else
    fetch_jars
    need java "Java 17+ is required"
    [[ "${KAFKA_FRESH:-0}" == 1 ]] && rm -rf "$DATA_DIR"
    write_config
    local jvm=(java -Xms256m -Xmx"${KAFKA_HEAP:-1G}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$DATA_DIR/log4j2.properties"
      -cp "$(classpath)")
    if [[ ! -f "$DATA_DIR/logs/meta.properties" ]]; then
      say "formatting storage in $DATA_DIR/logs"
      # A cluster id is 16 random bytes in URL-safe base64. One starting with
      # "-" reads as an option to the argument parser (1 in 64 ids: a CI run
      # failed on it), so draw again until it does not, as Kafka's own
      # Uuid.randomUuid does.
      local cluster_id="-"
      while [[ "$cluster_id" == -* ]]; do
        cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
      done
      "${jvm[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" \
        -c "$DATA_DIR/server.properties" --ignore-formatted >"$DATA_DIR/format.log" 2>&1 \
        || { cat "$DATA_DIR/format.log" >&2; die "kafka-storage format failed"; }
    fi
    say "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (log: $SERVER_LOG)"
    nohup "${jvm[@]}" kafka.Kafka "$DATA_DIR/server.properties" >"$DATA_DIR/stdout.log" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
  fi
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open && metadata_ok; do
    if ! running_pid >/dev/null; then
      tail -50 "$DATA_DIR/stdout.log" "$SERVER_LOG" >&2 2>/dev/null || true
      die "the broker exited during start"
    fi
    if ((SECONDS > deadline)); then
      tail -50 "$SERVER_LOG" >&2 2>/dev/null || true
      die "the broker did not answer on $BOOTSTRAP within ${START_TIMEOUT}s"
    fi
    sleep 0.3
  done
  echo "$BOOTSTRAP"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PID_FILE"; say "not running"; return 0; fi
  stop_pid "$PID_FILE" "the broker" 20 "$pid"
}

cmd_status() {
  if running_pid >/dev/null && port_open; then echo "$BOOTSTRAP"; return 0; fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  classpath) fetch_jars; classpath ;;
  *) echo "usage: $0 start|stop|status|classpath" >&2; exit 2 ;;
esac
