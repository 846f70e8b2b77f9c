#!/usr/bin/env bash
# Fluent Bit, built from its source outside the repo, as the peer that
# bench/fluentbit.bench.ts runs side by side with logship (issue 8). Nothing
# of Fluent Bit is committed here: the source is unpacked and built under
# ~/.cache/logship-engines/fluent-bit-<version>/.
#
#   bench/peers/fluent-bit.sh build     unpack the source, configure, compile (first time); prints the binary's path
#   bench/peers/fluent-bit.sh path      print the binary's path and exit 0 if it is built, else say so and exit 1
#   bench/peers/fluent-bit.sh version   print the built binary's `--version`
#
# Fluent Bit is not in Debian 12's archive. Its source comes from a git
# directory (FLUENT_BIT_GIT_DIR, a clone or mirror of
# github.com/fluent/fluent-bit that holds the tag v<version>), unpacked with
# `git archive`. The build is the one Fluent Bit's own Dockerfile makes
# (FLB_RELEASE, FLB_SIMD, FLB_JEMALLOC: the speed and memory allocator of
# the packages people run) with only the plugins the benchmark uses: in_tail
# (with its SQLite offset database) and out_http. Everything else is off
# (FLB_MINIMAL turns every plugin off; WASM, LuaJIT, Kafka, Go and Zig
# proxies, the stream processor, the YAML config format, examples and the
# shared library off too). Three features stay compiled in, as in the
# packages, because 5.1.1 does not build without them: the AWS and SigV4
# core (src/flb_http_client.c gets struct flb_upstream_node only through
# flb_aws_credentials.h), TLS (OpenSSL: src/CMakeLists.txt compiles SigV4
# only with it) and the HTTP server (with it off, monkey's core misses
# mk_core_info.h). The benchmark uses none of them
# (plain HTTP on loopback, no signing, no monitoring API).
#
# SQLite comes from the system (libsqlite3-dev): the mirror this project
# builds from lacks the 9 MB amalgamation lib/sqlite-amalgamation-*/sqlite3.c,
# so it is left out of the unpacked tree and FLB_PREFER_SYSTEM_LIB_SQLITE is
# on. The compile runs under `nice -n 19` with 2 jobs: the machine is shared.
#
# Build dependencies (Debian 12): cmake make gcc g++ flex bison pkg-config
# libsqlite3-dev libssl-dev; as root:
#   apt-get install -y cmake make gcc g++ flex bison pkg-config libsqlite3-dev libssl-dev
#
# Environment:
#   FLUENT_BIT_VERSION   default 5.1.1 (the tag v<version> is built)
#   FLUENT_BIT_GIT_DIR   git directory holding the source (default /work/.mirror/fluent+fluent-bit/repo)
#   FLUENT_BIT_JOBS      parallel compile jobs (default 2)
#   LOGSHIP_ENGINES_CACHE  cache root (default ~/.cache/logship-engines)
#
# A failed build exits non-zero with the last lines of the failing step's
# output on stderr and leaves no binary behind: never a silent skip.
set -euo pipefail

FLUENT_BIT_VERSION="${FLUENT_BIT_VERSION:-5.1.1}"
FLUENT_BIT_GIT_DIR="${FLUENT_BIT_GIT_DIR:-/work/.mirror/fluent+fluent-bit/repo}"
FLUENT_BIT_JOBS="${FLUENT_BIT_JOBS:-2}"
CACHE_DIR="${LOGSHIP_ENGINES_CACHE:-$HOME/.cache/logship-engines}/fluent-bit-$FLUENT_BIT_VERSION"
SOURCE_DIR="$CACHE_DIR/src"
BUILD_DIR="$CACHE_DIR/build"
BINARY="$CACHE_DIR/bin/fluent-bit"
BUILD_LOG="$CACHE_DIR/build.log"

say() { echo "fluent-bit.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (apt-get install -y $2)"; }

check_dependencies() {
  need git git
  need cmake cmake
  need make make
  need cc gcc
  need c++ g++
  need flex flex
  need bison bison
  need pkg-config pkg-config
  pkg-config --exists sqlite3 || die "SQLite's development files not found (apt-get install -y libsqlite3-dev)"
  pkg-config --exists openssl || die "OpenSSL's development files not found (apt-get install -y libssl-dev)"
}

# Runs a build step with its output in $BUILD_LOG; on failure prints the tail and exits.
step() {
  local name="$1"
  shift
  say "$name (log: $BUILD_LOG)"
  if ! "$@" >>"$BUILD_LOG" 2>&1; then
    tail -40 "$BUILD_LOG" >&2
    die "$name failed (full output in $BUILD_LOG)"
  fi
}

# The source is unpacked once ($SOURCE_DIR/.unpacked marks a whole tree); a
# build that failed or was interrupted resumes in the same build directory.
unpack() {
  local tag="v$FLUENT_BIT_VERSION"
  [[ -f "$SOURCE_DIR/.unpacked" ]] && return 0
  [[ -d "$FLUENT_BIT_GIT_DIR" ]] || die "no Fluent Bit source: $FLUENT_BIT_GIT_DIR does not exist (set FLUENT_BIT_GIT_DIR to a clone of github.com/fluent/fluent-bit)"
  git --git-dir="$FLUENT_BIT_GIT_DIR" rev-parse --verify --quiet "$tag^{commit}" >/dev/null \
    || die "$FLUENT_BIT_GIT_DIR has no tag $tag"
  rm -rf "$SOURCE_DIR"
  mkdir -p "$SOURCE_DIR"
  # The bundled SQLite amalgamation is left out (the system's is used, see above).
  git --git-dir="$FLUENT_BIT_GIT_DIR" archive "$tag" -- . ':(exclude)lib/sqlite-amalgamation-*/sqlite3.c' 2>>"$BUILD_LOG" \
    | tar -x -C "$SOURCE_DIR" \
    || die "could not unpack $tag from $FLUENT_BIT_GIT_DIR (see $BUILD_LOG)"
  [[ -f "$SOURCE_DIR/CMakeLists.txt" ]] || die "unpacked $tag but CMakeLists.txt is missing"
  touch "$SOURCE_DIR/.unpacked"
}

configure() {
  mkdir -p "$BUILD_DIR"
  local options=(
    -DFLB_RELEASE=On -DFLB_DEBUG=Off -DFLB_SIMD=On -DFLB_JEMALLOC=On
    -DFLB_MINIMAL=On -DFLB_IN_TAIL=On -DFLB_OUT_HTTP=On
    -DFLB_SQLDB=On -DFLB_PREFER_SYSTEM_LIB_SQLITE=On
    -DFLB_TLS=On -DFLB_WASM=Off -DFLB_LUAJIT=Off -DFLB_KAFKA=Off -DFLB_AWS=On -DFLB_SIGNV4=On
    -DFLB_PROXY_GO=Off -DFLB_ZIG=Off -DFLB_STREAM_PROCESSOR=Off -DFLB_CUSTOM_CALYPTIA=Off
    -DFLB_CONFIG_YAML=Off -DFLB_EXAMPLES=Off -DFLB_SHARED_LIB=Off
    -DFLB_BACKTRACE=Off -DFLB_CHUNK_TRACE=Off
  )
  step "cmake" cmake -S "$SOURCE_DIR" -B "$BUILD_DIR" "${options[@]}"
}

cmd_build() {
  if [[ -x "$BINARY" ]]; then echo "$BINARY"; return 0; fi
  check_dependencies
  mkdir -p "$CACHE_DIR"
  : >"$BUILD_LOG"
  say "building Fluent Bit $FLUENT_BIT_VERSION from $FLUENT_BIT_GIT_DIR into $CACHE_DIR"
  unpack
  configure
  step "make -j$FLUENT_BIT_JOBS (niced)" nice -n 19 make -C "$BUILD_DIR" -j"$FLUENT_BIT_JOBS" fluent-bit-bin
  [[ -x "$BUILD_DIR/bin/fluent-bit" ]] || die "make succeeded but $BUILD_DIR/bin/fluent-bit is missing"
  mkdir -p "$(dirname "$BINARY")"
  # Copied in last, whole: a binary at $BINARY means a finished build.
  cp "$BUILD_DIR/bin/fluent-bit" "$BINARY.tmp"
  mv "$BINARY.tmp" "$BINARY"
  say "built $("$BINARY" --version | head -1)"
  echo "$BINARY"
}

cmd_path() {
  if [[ -x "$BINARY" ]]; then echo "$BINARY"; return 0; fi
  say "Fluent Bit $FLUENT_BIT_VERSION is not built ($BINARY is missing); run: bench/peers/fluent-bit.sh build"
  return 1
}

cmd_version() {
  cmd_path >/dev/null
  "$BINARY" --version
}

case "${1:-}" in
  build) cmd_build ;;
  path) cmd_path ;;
  version) cmd_version ;;
  *) echo "usage: $0 build|path|version" >&2; exit 2 ;;
esac
