#!/usr/bin/env bash
# A real single-node HDFS (Apache Hadoop: one NameNode JVM and one DataNode
# JVM, WebHDFS on, simple auth, permissions off) on loopback, for the
# archive sink's integration tests and its benchmark.
#
#   test/engines/hdfs.sh start            download (first time), format (first time), start both; prints the WebHDFS address
#   test/engines/hdfs.sh stop             stop both processes started by `start`
#   test/engines/hdfs.sh stop-namenode    stop the NameNode alone (the DataNode keeps running and retries)
#   test/engines/hdfs.sh start-namenode   start the NameNode again and wait until it answers WebHDFS writes
#   test/engines/hdfs.sh status           print the WebHDFS address and exit 0 if both answer, else exit 1
#   test/engines/hdfs.sh classpath        print the classpath (downloads if needed)
#
# Hadoop's jars come from Maven Central (the only place this machine
# reaches), via `mvn dependency:copy-dependencies` on a generated pom
# (hadoop-hdfs with hadoop-common and hadoop-hdfs-client), cached under
# ~/.cache/logship-engines/hadoop-<version>/lib. The published hadoop-hdfs
# jar has no `webapps/` resources (the binary distribution ships them as
# directories); Hadoop's HTTP servers only need the directories to exist on
# the classpath, so the script creates empty ones next to the config.
# Requires Java 17 and Maven.
#
# Ports (all on 127.0.0.1; below Linux's ephemeral range 32768-60999, so no
# client socket can hold one when HDFS starts):
#   HDFS_PORT      NameNode HTTP with WebHDFS (default 29870)
#   HDFS_PORT+1    NameNode RPC (fs.defaultFS)
#   HDFS_PORT+2    DataNode data transfer
#   HDFS_PORT+3    DataNode HTTP (WebHDFS's second step: the NameNode redirects writes and reads here)
#   HDFS_PORT+4    DataNode IPC
#
# Environment:
#   HADOOP_VERSION   default 3.4.1
#   HDFS_PORT        see above
#   HDFS_DATA_DIR    name and data dirs, config, pid files and logs (default /tmp/logship-hdfs-$HDFS_PORT)
#   HDFS_HEAP        heap per JVM (default 384m)
#   HDFS_DATANODE_HOSTNAME  the name WebHDFS redirects give the DataNode (default localhost;
#                    it must resolve to 127.0.0.1 where the client runs)
#   HDFS_FRESH=1     wipe the data dir before starting (a new, empty file system)
#
# A download failure exits non-zero with Maven's output on stderr: never a
# silent skip.
set -euo pipefail

HADOOP_VERSION="${HADOOP_VERSION:-3.4.1}"
HDFS_PORT="${HDFS_PORT:-29870}"
RPC_PORT="$((HDFS_PORT + 1))"
DATANODE_PORT="$((HDFS_PORT + 2))"
DATANODE_HTTP_PORT="$((HDFS_PORT + 3))"
DATANODE_IPC_PORT="$((HDFS_PORT + 4))"
HDFS_HOST=127.0.0.1
WEBHDFS="$HDFS_HOST:$HDFS_PORT"
CACHE_DIR="${LOGSHIP_ENGINES_CACHE:-$HOME/.cache/logship-engines}/hadoop-$HADOOP_VERSION"
LIB_DIR="$CACHE_DIR/lib"
DATA_DIR="${HDFS_DATA_DIR:-/tmp/logship-hdfs-$HDFS_PORT}"
CONF_DIR="$DATA_DIR/conf"
START_TIMEOUT="${HDFS_START_TIMEOUT:-120}"

ENGINE_SCRIPT=hdfs.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fetch_jars() {
  maven_jars "$LIB_DIR" "Apache Hadoop $HADOOP_VERSION (HDFS)" "hadoop-hdfs-$HADOOP_VERSION.jar" "$(cat <<XML
    <!-- NameNode, DataNode and their WebHDFS handlers -->
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-hdfs</artifactId><version>$HADOOP_VERSION</version></dependency>
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-hdfs-client</artifactId><version>$HADOOP_VERSION</version></dependency>
    <!-- Configuration, RPC, HttpServer2, logging through reload4j -->
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-common</artifactId><version>$HADOOP_VERSION</version></dependency>
XML
)"
}

# The config dir first: core-site.xml, hdfs-site.xml, log4j.properties and webapps/ are found as resources.
classpath() { echo "$CONF_DIR:$LIB_DIR/*"; }

write_config() {
  mkdir -p "$CONF_DIR" "$DATA_DIR/name" "$DATA_DIR/data" "$DATA_DIR/logs"
  for app in hdfs datanode static; do mkdir -p "$CONF_DIR/webapps/$app"; done
  cat >"$CONF_DIR/core-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>hdfs://$HDFS_HOST:$RPC_PORT</value></property>
  <property><name>hadoop.security.authentication</name><value>simple</value></property>
  <property><name>hadoop.http.authentication.simple.anonymous.allowed</name><value>true</value></property>
  <property><name>hadoop.tmp.dir</name><value>$DATA_DIR/tmp</value></property>
  <!-- A client (the DataNode, and the DataNode's WebHDFS handler writing for logship) gives up
       on a stopped NameNode after a few quick tries instead of Hadoop's default of minutes:
       the caller (logship's archive sink) owns the retries. -->
  <property><name>ipc.client.connect.max.retries</name><value>3</value></property>
  <property><name>ipc.client.connect.retry.interval</name><value>500</value></property>
  <property><name>ipc.client.connect.max.retries.on.timeouts</name><value>3</value></property>
  <property><name>ipc.client.connect.timeout</name><value>5000</value></property>
</configuration>
EOF
  cat >"$CONF_DIR/hdfs-site.xml" <<EOF
<?xml version="1.0"?>
<configuration>
  <property><name>dfs.namenode.name.dir</name><value>$DATA_DIR/name</value></property>
  <property><name>dfs.datanode.data.dir</name><value>$DATA_DIR/data</value></property>
  <property><name>dfs.replication</name><value>1</value></property>
  <property><name>dfs.permissions.enabled</name><value>false</value></property>
  <property><name>dfs.webhdfs.enabled</name><value>true</value></property>
  <property><name>dfs.namenode.rpc-address</name><value>$HDFS_HOST:$RPC_PORT</value></property>
  <property><name>dfs.namenode.http-address</name><value>$HDFS_HOST:$HDFS_PORT</value></property>
  <property><name>dfs.namenode.secondary.http-address</name><value>$HDFS_HOST:0</value></property>
  <property><name>dfs.datanode.address</name><value>$HDFS_HOST:$DATANODE_PORT</value></property>
  <property><name>dfs.datanode.http.address</name><value>$HDFS_HOST:$DATANODE_HTTP_PORT</value></property>
  <property><name>dfs.datanode.ipc.address</name><value>$HDFS_HOST:$DATANODE_IPC_PORT</value></property>
  <!-- The NameNode's WebHDFS redirects name the DataNode by the host name it registered with
       (HDFS_DATANODE_HOSTNAME, default localhost): a name the client resolves, as in a real cluster. -->
  <property><name>dfs.datanode.hostname</name><value>${HDFS_DATANODE_HOSTNAME:-localhost}</value></property>
  <property><name>dfs.namenode.datanode.registration.ip-hostname-check</name><value>false</value></property>
  <!-- One DataNode on one small disk: no reserved space, a small block size, quick heartbeats
       (so the DataNode re-registers within seconds of a NameNode restart) and no safe-mode wait. -->
  <property><name>dfs.datanode.du.reserved</name><value>0</value></property>
  <property><name>dfs.namenode.resource.du.reserved</name><value>0</value></property>
  <property><name>dfs.blocksize</name><value>16777216</value></property>
  <property><name>dfs.heartbeat.interval</name><value>1</value></property>
  <property><name>dfs.namenode.safemode.threshold-pct</name><value>0</value></property>
  <property><name>dfs.namenode.safemode.extension</name><value>0</value></property>
  <property><name>dfs.namenode.safemode.min.datanodes</name><value>0</value></property>
  <property><name>dfs.client.block.write.replace-datanode-on-failure.enable</name><value>false</value></property>
  <property><name>dfs.datanode.synconclose</name><value>true</value></property>
</configuration>
EOF
  cat >"$CONF_DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=\${hdfs.log.file}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
EOF
}

# Sets JVM to the java command line of one role (its own log file). Hadoop
# 3.4 on Java 17 needs these packages opened to reflection (its WebHDFS
# handler's JAXB, its RPC's direct buffers), as Hadoop's own launch scripts do.
jvm() {
  local role="$1"
  JVM=(java --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    -Xms64m -Xmx"${HDFS_HEAP:-384m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    -Dhdfs.log.file="$DATA_DIR/logs/$role.log" -Dhadoop.log.dir="$DATA_DIR/logs"
    -Djava.net.preferIPv4Stack=true -cp "$(classpath)")
}

pid_file() { echo "$DATA_DIR/$1.pid"; }

running_pid() { pid_running "$(pid_file "$1")"; }

port_open() { tcp_open "$HDFS_HOST" "$1"; }

# A WebHDFS write round trip through both steps: the NameNode answers (out of
# safe mode), the DataNode registered and takes a block.
writable() {
  local location
  location="$(curl -sS -o /dev/null -w '%{redirect_url}' -X PUT \
    "http://$WEBHDFS/webhdfs/v1/tmp/.logship-probe?op=CREATE&overwrite=true&user.name=logship" 2>/dev/null)" || return 1
  [[ -n "$location" ]] || return 1
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary probe "$location" 2>/dev/null)" == 201 ]]
}

start_role() {
  local role="$1" class="$2"
  if running_pid "$role" >/dev/null; then return 0; fi
  say "starting the $role (log: $DATA_DIR/logs/$role.log)"
  jvm "$role"
  nohup "${JVM[@]}" "$class" >"$DATA_DIR/logs/$role.out" 2>&1 </dev/null &
  echo $! >"$(pid_file "$role")"
}

wait_writable() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$HDFS_PORT" && writable; do
    for role in namenode datanode; do
      if ! running_pid "$role" >/dev/null; then
        tail -40 "$DATA_DIR/logs/$role.out" "$DATA_DIR/logs/$role.log" >&2 2>/dev/null || true
        die "the $role exited during start"
      fi
    done
    if ((SECONDS > deadline)); then
      tail -40 "$DATA_DIR/logs/namenode.log" "$DATA_DIR/logs/datanode.log" >&2 2>/dev/null || true
      die "WebHDFS on $WEBHDFS did not take a write within ${START_TIMEOUT}s"
    fi
    sleep 0.3
  done
}

cmd_start() {
  fetch_jars
  need java "Java 17 is required"
  need curl "curl probes WebHDFS"
  if ! running_pid namenode >/dev/null && ! running_pid datanode >/dev/null; then
    [[ "${HDFS_FRESH:-0}" == 1 ]] && rm -rf "$DATA_DIR"
    write_config
    if [[ ! -f "$DATA_DIR/name/current/VERSION" ]]; then
      say "formatting the NameNode in $DATA_DIR/name"
      jvm format
      "${JVM[@]}" org.apache.hadoop.hdfs.server.namenode.NameNode -format -force -nonInteractive \
        >"$DATA_DIR/logs/format.out" 2>&1 || { tail -40 "$DATA_DIR/logs/format.out" "$DATA_DIR/logs/format.log" >&2; die "formatting the NameNode failed"; }
    fi
  fi
  start_role namenode org.apache.hadoop.hdfs.server.namenode.NameNode
  start_role datanode org.apache.hadoop.hdfs.server.datanode.DataNode
  wait_writable
  echo "$WEBHDFS"
}

stop_role() {
  local role="$1" pid
  if ! pid="$(running_pid "$role")"; then rm -f "$(pid_file "$role")"; say "$role not running"; return 0; fi
  stop_pid "$(pid_file "$role")" "$role" 20 "$pid"
}

cmd_start_namenode() {
  running_pid datanode >/dev/null || die "the datanode is not running (use start)"
  start_role namenode org.apache.hadoop.hdfs.server.namenode.NameNode
  wait_writable
  echo "$WEBHDFS"
}

cmd_status() {
  if running_pid namenode >/dev/null && running_pid datanode >/dev/null && port_open "$HDFS_PORT" && port_open "$DATANODE_HTTP_PORT"; then
    echo "$WEBHDFS"
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_role datanode; stop_role namenode ;;
  stop-namenode) stop_role namenode ;;
  start-namenode) cmd_start_namenode ;;
  status) cmd_status ;;
  classpath) fetch_jars; classpath ;;
  *) echo "usage: $0 start|stop|stop-namenode|start-namenode|status|classpath" >&2; exit 2 ;;
esac
