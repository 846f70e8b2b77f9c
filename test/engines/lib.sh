# Shared by the engine scripts (kafka.sh, hdfs.sh, opensearch.sh,
# debian-root.sh): messages, tool checks, jars from Maven Central, a
# process by its pid file (alive? stop it) and an open TCP port. Sourced; each script sets
# ENGINE_SCRIPT (its name in messages) first.

say() { echo "${ENGINE_SCRIPT:?}: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (${2:-install it})"; }

# maven_jars LIB_DIR WHAT EXPECTED_JAR DEPENDENCIES_XML
# Resolves DEPENDENCIES_XML (<dependency> elements) and everything they need
# at runtime from Maven Central into LIB_DIR, once: a complete LIB_DIR is
# marked with .complete and left alone. The download goes to LIB_DIR.tmp
# and is moved in place only when EXPECTED_JAR is among the jars, so an
# interrupted download is never taken for a cache.
maven_jars() {
  local lib_dir="$1" what="$2" expected="$3" dependencies="$4" work
  if [[ -f "$lib_dir/.complete" ]]; then return 0; fi
  need java "Java 17 is required"
  need mvn "Maven is required to fetch $what from Maven Central"
  say "downloading $what from Maven Central into $lib_dir"
  work="$(mktemp -d)"
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>logship.engines</groupId>
  <artifactId>${ENGINE_SCRIPT%.sh}-engine</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$dependencies
  </dependencies>
</project>
POM
  rm -rf "$lib_dir.tmp"
  if ! (cd "$work" && mvn -B -q -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime \
          -DoutputDirectory="$lib_dir.tmp") >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    rm -rf "$work" "$lib_dir.tmp"
    die "could not download $what from Maven Central (see Maven's output above)"
  fi
  ls "$lib_dir.tmp/$expected" >/dev/null 2>&1 || die "Maven ran but $expected is missing"
  rm -rf "$lib_dir" "$work"
  mkdir -p "$(dirname "$lib_dir")"
  mv "$lib_dir.tmp" "$lib_dir"
  touch "$lib_dir/.complete"
}

# pid_running PID_FILE: prints the pid in PID_FILE and succeeds if that process is alive.
pid_running() {
  [[ -f "$1" ]] || return 1
  local pid
  pid="$(cat "$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# tcp_open HOST PORT: succeeds if something accepts a TCP connection there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# stop_pid PID_FILE LABEL SECONDS PID
# SIGTERM, then SIGKILL after SECONDS; removes PID_FILE either way.
stop_pid() {
  local pid_file="$1" label="$2" seconds="$3" pid="$4"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 5))); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; say "$label stopped"; return 0; }
    sleep 0.2
  done
  say "$label (pid $pid) did not stop in ${seconds}s; killing"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}
