#!/usr/bin/env bash
# A real single-node OpenSearch on loopback, for the integration tests and
# the OpenSearch benchmark.
#
#   test/engines/opensearch.sh start      download (first time), start, wait for green; prints the URL
#   test/engines/opensearch.sh stop       stop the node started by `start`
#   test/engines/opensearch.sh status     print the URL and exit 0 if it answers green or yellow, else exit 1
#   test/engines/opensearch.sh download   only download and unpack (CI runs this as a step of its own)
#
# The distribution is OpenSearch's integration-test zip from Maven Central
# (org.opensearch.distribution.integ-test-zip:opensearch; the only place this
# machine reaches): no bundled JDK (it runs on the machine's Java 17) and no
# plugins. The zip is cached under ~/.cache/logship-engines and unpacked
# there as opensearch-<version>; each node keeps its config, data and logs in
# its own data dir.
#
# OpenSearch refuses to run as root. Run as root (CI containers), the script
# unpacks into /tmp/logship-engines instead (root's home is not readable by
# others) and starts the node as OPENSEARCH_RUN_AS (default nobody) with
# setpriv, owning its data dir.
#
# Security (OPENSEARCH_SECURE=1): the integ-test zip has no security plugin.
# Maven Central publishes org.opensearch.plugin:opensearch-security as a zip
# for a few versions only; 2.11.1.0 matches an integ-test zip (2.11.1), so the
# secured node runs 2.11.1 with that plugin installed (cached separately, as
# opensearch-<version>-security). The script makes a throwaway CA and node
# certificate with openssl (TLS on HTTP and transport), an internal user for
# basic auth (OPENSEARCH_USER / OPENSEARCH_PASSWORD) and an HS256 JWT auth
# domain for bearer tokens (signing key in $DATA_DIR/jwt.key, base64), and
# prints an https:// URL; the CA is $DATA_DIR/certs/ca.pem.
#
# Environment:
#   OPENSEARCH_VERSION   default 2.19.6 (2.11.1 with OPENSEARCH_SECURE=1)
#   OPENSEARCH_PORT      HTTP port (default 29200); transport uses OPENSEARCH_PORT+100.
#                        Below Linux's ephemeral range (32768-60999), as for Kafka.
#   OPENSEARCH_DATA_DIR  config, data, logs and pid file (default /tmp/logship-opensearch-$OPENSEARCH_PORT)
#   OPENSEARCH_HEAP_MIN / OPENSEARCH_HEAP_MAX   JVM heap (default 512m / 1g: two cores, other JVMs may run)
#   OPENSEARCH_FRESH=1   wipe the data dir before starting (an empty cluster)
#   OPENSEARCH_SECURE=1  TLS + basic and bearer auth (above)
#   OPENSEARCH_USER / OPENSEARCH_PASSWORD   the basic-auth user of a secured node (default logship / logship-secret)
#   OPENSEARCH_RUN_AS    the user a root invocation runs the node as (default nobody)
#   OPENSEARCH_WRITE_QUEUE_SIZE  when set: one write thread and a write queue of this many
#                        (thread_pool.write.*), so concurrent bulk requests are refused with 429
#                        (the sink's overload test, on a node of its own)
#
# A download failure exits non-zero with curl's error on stderr: never a
# silent skip.
set -euo pipefail

SECURE="${OPENSEARCH_SECURE:-0}"
if [[ "$SECURE" == 1 ]]; then
  OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.11.1}"
  SECURITY_VERSION="$OPENSEARCH_VERSION.0"
  FLAVOUR="-security"
else
  OPENSEARCH_VERSION="${OPENSEARCH_VERSION:-2.19.6}"
  FLAVOUR=""
fi
OPENSEARCH_PORT="${OPENSEARCH_PORT:-29200}"
TRANSPORT_PORT="$((OPENSEARCH_PORT + 100))"
HOST=127.0.0.1
MAVEN=https://repo1.maven.org/maven2
ZIP_URL="$MAVEN/org/opensearch/distribution/integ-test-zip/opensearch/$OPENSEARCH_VERSION/opensearch-$OPENSEARCH_VERSION.zip"
CACHE_ROOT="${LOGSHIP_ENGINES_CACHE:-$HOME/.cache/logship-engines}"
RUN_AS=""
INSTALL_ROOT="$CACHE_ROOT"
if [[ "$EUID" == 0 ]]; then
  RUN_AS="${OPENSEARCH_RUN_AS:-nobody}"
  INSTALL_ROOT="/tmp/logship-engines"
fi
HOME_DIR="$INSTALL_ROOT/opensearch-$OPENSEARCH_VERSION$FLAVOUR"
DATA_DIR="${OPENSEARCH_DATA_DIR:-/tmp/logship-opensearch-$OPENSEARCH_PORT}"
PID_FILE="$DATA_DIR/opensearch.pid"
START_TIMEOUT="${OPENSEARCH_START_TIMEOUT:-180}"
USER_NAME="${OPENSEARCH_USER:-logship}"
USER_PASSWORD="${OPENSEARCH_PASSWORD:-logship-secret}"
SCHEME=http
[[ "$SECURE" == 1 ]] && SCHEME=https
URL="$SCHEME://$HOST:$OPENSEARCH_PORT"

ENGINE_SCRIPT=opensearch.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

java_home() {
  if [[ -n "${JAVA_HOME:-}" ]]; then echo "$JAVA_HOME"; return; fi
  need java "Java 17+ is required"
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

# Downloads $1 to $2 (a .part file renamed once complete).
fetch_file() {
  say "downloading $1"
  curl --fail --silent --show-error --location --retry 3 -o "$2.part" "$1" || { rm -f "$2.part"; die "could not download $1"; }
  mv "$2.part" "$2"
}

download() {
  [[ -f "$HOME_DIR/.complete" ]] && return 0
  need curl
  need unzip
  mkdir -p "$CACHE_ROOT" "$INSTALL_ROOT"
  local zip="$CACHE_ROOT/opensearch-$OPENSEARCH_VERSION.zip"
  [[ -f "$zip" ]] || fetch_file "$ZIP_URL" "$zip"
  local work="$HOME_DIR.tmp"
  rm -rf "$work"
  mkdir -p "$work"
  unzip -q "$zip" -d "$work" || die "could not unpack $zip"
  mv "$work/opensearch-$OPENSEARCH_VERSION" "$work/home"
  if [[ "$SECURE" == 1 ]]; then
    local plugin="$CACHE_ROOT/opensearch-security-$SECURITY_VERSION.zip"
    [[ -f "$plugin" ]] || fetch_file "$MAVEN/org/opensearch/plugin/opensearch-security/$SECURITY_VERSION/opensearch-security-$SECURITY_VERSION.zip" "$plugin"
    JAVA_HOME="$(java_home)" "$work/home/bin/opensearch-plugin" install --batch "file://$plugin" >"$work/plugin.log" 2>&1 \
      || { cat "$work/plugin.log" >&2; die "could not install the security plugin"; }
  fi
  chmod -R a+rX "$work/home"
  rm -rf "$HOME_DIR"
  mv "$work/home" "$HOME_DIR"
  rm -rf "$work"
  touch "$HOME_DIR/.complete"
}

# A CA and a node certificate for 127.0.0.1 (PKCS#8 key, as the security plugin wants).
make_certificates() {
  need openssl
  local certs="$DATA_DIR/config/certs"
  [[ -f "$certs/node.pem" ]] && return 0
  mkdir -p "$certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=logship-test-ca" -keyout "$certs/ca-key.pem" -out "$certs/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=node" -keyout "$certs/node-key.raw.pem" -out "$certs/node.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$certs/node.ext"
  openssl x509 -req -in "$certs/node.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca-key.pem" -CAcreateserial -days 30 -extfile "$certs/node.ext" -out "$certs/node.pem" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$certs/node-key.raw.pem" -out "$certs/node-key.pem"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=admin" -keyout "$certs/admin-key.raw.pem" -out "$certs/admin.csr" 2>/dev/null
  openssl x509 -req -in "$certs/admin.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca-key.pem" -CAcreateserial -days 30 -out "$certs/admin.pem" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$certs/admin-key.raw.pem" -out "$certs/admin-key.pem"
  cp "$certs/ca.pem" "$DATA_DIR/ca.pem"
}

# The security plugin's own configuration: one internal user (basic auth) and an HS256 JWT domain (bearer).
write_security_config() {
  local security="$DATA_DIR/config/opensearch-security"
  mkdir -p "$security"
  cp "$HOME_DIR/config/opensearch-security/"*.yml "$security/"
  [[ -f "$DATA_DIR/jwt.key" ]] || head -c 32 /dev/urandom | base64 -w0 >"$DATA_DIR/jwt.key"
  local hash
  hash="$(OPENSEARCH_JAVA_HOME="$(java_home)" bash "$HOME_DIR/plugins/opensearch-security/tools/hash.sh" -p "$USER_PASSWORD" 2>/dev/null | tail -1)"
  [[ "$hash" == \$2* ]] || die "could not hash the password with the security plugin's hash.sh"
  cat >"$security/internal_users.yml" <<EOF
_meta: { type: "internalusers", config_version: 2 }
$USER_NAME:
  hash: "$hash"
  reserved: false
  backend_roles: ["admin"]
EOF
  cat >"$security/config.yml" <<EOF
_meta: { type: "config", config_version: 2 }
config:
  dynamic:
    http: { anonymous_auth_enabled: false }
    authc:
      basic_internal_auth_domain:
        http_enabled: true
        transport_enabled: true
        order: 0
        http_authenticator: { type: basic, challenge: false }
        authentication_backend: { type: intern }
      jwt_auth_domain:
        http_enabled: true
        transport_enabled: false
        order: 1
        http_authenticator:
          type: jwt
          challenge: false
          config: { signing_key: "$(cat "$DATA_DIR/jwt.key")", roles_key: roles }
        authentication_backend: { type: noop }
EOF
}

write_config() {
  mkdir -p "$DATA_DIR/data" "$DATA_DIR/logs" "$DATA_DIR/tmp" "$DATA_DIR/config"
  cp "$HOME_DIR/config/log4j2.properties" "$DATA_DIR/config/"
  cat >"$DATA_DIR/config/jvm.options" <<EOF
-Xms${OPENSEARCH_HEAP_MIN:-512m}
-Xmx${OPENSEARCH_HEAP_MAX:-1g}
-XX:+UseG1GC
-XX:G1ReservePercent=25
-XX:InitiatingHeapOccupancyPercent=30
-Djava.io.tmpdir=\${OPENSEARCH_TMPDIR}
-XX:ErrorFile=$DATA_DIR/logs/hs_err_pid%p.log
18-:-Djava.security.manager=allow
20-:--add-modules=jdk.incubator.vector
-Djava.util.concurrent.ForkJoinPool.common.threadFactory=org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory
EOF
  cat >"$DATA_DIR/config/opensearch.yml" <<EOF
cluster.name: logship-test-$OPENSEARCH_PORT
node.name: node-1
path.data: $DATA_DIR/data
path.logs: $DATA_DIR/logs
network.host: $HOST
http.port: $OPENSEARCH_PORT
transport.port: $TRANSPORT_PORT
discovery.type: single-node
# One node on a shared test machine: do not refuse writes when its disk is nearly full.
cluster.routing.allocation.disk.threshold_enabled: false
# logship's bulk requests are bounded by the sink (8 MiB by default); leave room.
http.max_content_length: 100mb
action.auto_create_index: true
EOF
  if [[ -n "${OPENSEARCH_WRITE_QUEUE_SIZE:-}" ]]; then
    cat >>"$DATA_DIR/config/opensearch.yml" <<EOF
thread_pool.write.size: 1
thread_pool.write.queue_size: $OPENSEARCH_WRITE_QUEUE_SIZE
EOF
  fi
  if [[ "$SECURE" == 1 ]]; then
    make_certificates
    write_security_config
    cat >>"$DATA_DIR/config/opensearch.yml" <<EOF
plugins.security.ssl.transport.pemcert_filepath: certs/node.pem
plugins.security.ssl.transport.pemkey_filepath: certs/node-key.pem
plugins.security.ssl.transport.pemtrustedcas_filepath: certs/ca.pem
plugins.security.ssl.transport.enforce_hostname_verification: false
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: certs/node.pem
plugins.security.ssl.http.pemkey_filepath: certs/node-key.pem
plugins.security.ssl.http.pemtrustedcas_filepath: certs/ca.pem
plugins.security.authcz.admin_dn: ["CN=admin"]
plugins.security.nodes_dn: ["CN=node"]
plugins.security.allow_default_init_securityindex: true
plugins.security.check_snapshot_restore_write_privileges: true
plugins.security.restapi.roles_enabled: ["all_access"]
plugins.security.system_indices.enabled: false
EOF
  fi
}

running_pid() { pid_running "$PID_FILE"; }

# curl against the node, authenticated and trusting the test CA when secured.
node_curl() {
  if [[ "$SECURE" == 1 ]]; then
    curl --silent --max-time 5 --cacert "$DATA_DIR/ca.pem" -u "$USER_NAME:$USER_PASSWORD" "$@"
  else
    curl --silent --max-time 5 "$@"
  fi
}

# A single node can hold no replica: new indices get none by default
# (cluster.default_number_of_replicas, a cluster setting, not a node one) and
# the ones a previous run left get none either, so the node can be green.
no_replicas() {
  node_curl -XPUT "$URL/_cluster/settings" -H 'Content-Type: application/json' -d '{"persistent":{"cluster.default_number_of_replicas":0}}' >/dev/null &&
    node_curl -XPUT "$URL/_all/_settings" -H 'Content-Type: application/json' -d '{"index":{"number_of_replicas":0}}' >/dev/null
}

# $1 green: every shard allocated; yellow: every primary (green or yellow).
healthy() {
  local wanted='"status":"green"'
  [[ "$1" == yellow ]] && wanted='"status":"(green|yellow)"'
  node_curl "$URL/_cluster/health?wait_for_status=$1&timeout=1s" 2>/dev/null | grep -Eq "$wanted"
}

cmd_start() {
  if pid="$(running_pid)"; then
    if healthy yellow; then echo "$URL"; return 0; fi
    say "pid $pid is alive but $URL is not healthy; waiting"
  else
    download
    [[ "${OPENSEARCH_FRESH:-0}" == 1 ]] && rm -rf "$DATA_DIR"
    write_config
    local as_user=()
    if [[ -n "$RUN_AS" ]]; then
      chown -R "$RUN_AS" "$DATA_DIR"
      as_user=(setpriv --reuid="$RUN_AS" --regid="$(id -g "$RUN_AS")" --clear-groups)
    fi
    say "starting OpenSearch $OPENSEARCH_VERSION on $URL (logs: $DATA_DIR/logs)"
    OPENSEARCH_PATH_CONF="$DATA_DIR/config" OPENSEARCH_TMPDIR="$DATA_DIR/tmp" JAVA_HOME="$(java_home)" \
      nohup "${as_user[@]}" "$HOME_DIR/bin/opensearch" >"$DATA_DIR/stdout.log" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
  fi
  local deadline=$((SECONDS + START_TIMEOUT)) replicas_off=0
  until ((replicas_off)) && healthy green; do
    if ((!replicas_off)) && healthy yellow && no_replicas; then replicas_off=1; continue; fi
    if ! running_pid >/dev/null; then
      tail -50 "$DATA_DIR/stdout.log" >&2 2>/dev/null || true
      die "the node exited during start"
    fi
    if ((SECONDS > deadline)); then
      tail -50 "$DATA_DIR/stdout.log" >&2 2>/dev/null || true
      die "the node was not green on $URL within ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
  echo "$URL"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PID_FILE"; say "not running"; return 0; fi
  stop_pid "$PID_FILE" "the node" 30 "$pid"
}

cmd_status() {
  if running_pid >/dev/null && healthy yellow; then echo "$URL"; return 0; fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  download) download; echo "$HOME_DIR" ;;
  *) echo "usage: $0 start|stop|status|download" >&2; exit 2 ;;
esac
