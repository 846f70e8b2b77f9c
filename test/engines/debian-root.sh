#!/usr/bin/env bash
# A throwaway Debian 12 (bookworm) root file system for the .deb's test
# (test/package/deb.test.ts): the package is installed into a copy of it with
# `chroot ROOT dpkg -i`, never on this machine.
#
#   test/engines/debian-root.sh create   debootstrap it (first time) and print the tarball's path
#   test/engines/debian-root.sh path     print the tarball's path and exit 0 if it exists, else exit 1
#
# `create` runs `debootstrap --variant=minbase` with the packages the .deb's
# maintainer scripts and the test need, from the Debian mirror apt already
# uses on this machine, and caches the result as one uncompressed tar under
# ~/.cache/logship-engines/ (~155 MB; unpacking takes ~1 s, the debootstrap
# ~1 min). The name holds a hash of suite, variant and packages, so a changed
# package list builds a new one. A test unpacks a fresh copy per run.
#
# Packages beyond minbase:
#   adduser, passwd   postinst's `adduser --system`, postrm's deluser/delgroup
#   procps            /bin/kill, the agent unit's ExecReload (the .deb depends on it)
#   systemd           `systemd-analyze verify`; brings init-system-helpers (deb-systemd-helper)
#   man-db            `man -w` and groff for logship(1); verify resolves Documentation=man:
#
# Environment:
#   DEBIAN_MIRROR           default: the first Debian archive URL in /etc/apt/sources.list*,
#                           else http://deb.debian.org/debian
#   LOGSHIP_ENGINES_CACHE   cache root (default ~/.cache/logship-engines)
#
# Needs root (debootstrap, and to keep owners and device nodes in the tar).
# debootstrap is installed with apt-get when missing. A download failure
# exits non-zero with debootstrap's log on stderr: never a silent skip.
set -euo pipefail

SUITE=bookworm
VARIANT=minbase
INCLUDE=adduser,passwd,procps,systemd,man-db
MIRROR_FALLBACK=http://deb.debian.org/debian
CACHE_DIR="${LOGSHIP_ENGINES_CACHE:-$HOME/.cache/logship-engines}"
KEY="$(printf '%s %s %s' "$SUITE" "$VARIANT" "$INCLUDE" | sha256sum | cut -c1-12)"
TARBALL="$CACHE_DIR/debian-root-$SUITE-$KEY.tar"
LOCK_FILE="$CACHE_DIR/debian-root.lock"
# debootstrap's own retries cover a flaky mirror; this bounds a stalled one.
CREATE_TIMEOUT_S="${DEBIAN_ROOT_CREATE_TIMEOUT_S:-900}"

ENGINE_SCRIPT=debian-root.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The first Debian archive apt uses here (one-line `deb URL ...` or deb822
# `URIs: URL`), not the security archive (whose path ends in debian-security).
apt_mirror() {
  local url
  url="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -Ev '^[[:space:]]*#' | grep -Eo '(https?|file):/+[^[:space:]]*/debian/?([[:space:]]|$)' | head -1 | tr -d '[:space:]')" || true
  echo "${url:-$MIRROR_FALLBACK}"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "debootstrap is not installed and there is no apt-get to install it"
  say "installing debootstrap with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends debootstrap >&2 \
    || die "apt-get install debootstrap failed"
}

cmd_create() {
  [[ "$(id -u)" == 0 ]] || die "needs root (debootstrap; owners and device nodes in the tar)"
  mkdir -p "$CACHE_DIR"
  # One creator at a time; a second waits, then finds the tarball.
  exec 9>"$LOCK_FILE"
  flock 9
  if [[ -f "$TARBALL" ]]; then echo "$TARBALL"; return 0; fi
  ensure_debootstrap
  local mirror
  mirror="${DEBIAN_MIRROR:-$(apt_mirror)}"
  # Global, not local: the EXIT trap runs after this function has returned.
  work="$(mktemp -d "$CACHE_DIR/debian-root-build.XXXXXX")"
  # debootstrap mounts /proc and /sys in the target; in its own mount
  # namespace those mounts end with it, so removing $work never reaches them.
  trap 'rm -rf "$work"' EXIT
  say "debootstrap $SUITE ($VARIANT, +$INCLUDE) from $mirror into $work (once; cached as $TARBALL)"
  if ! timeout "$CREATE_TIMEOUT_S" unshare --mount --propagation private --pid --kill-child --mount-proc \
      debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -40 "$work/debootstrap.log" >&2
    [[ -f "$work/root/debootstrap/debootstrap.log" ]] && tail -40 "$work/root/debootstrap/debootstrap.log" >&2
    die "debootstrap of $SUITE from $mirror failed (its log above)"
  fi
  # The downloaded .debs and package lists are not needed to install a .deb with dpkg.
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/root" -cf "$work/root.tar" .
  mv "$work/root.tar" "$TARBALL"
  say "cached $(du -h "$TARBALL" | cut -f1) in $TARBALL"
  echo "$TARBALL"
}

cmd_path() {
  if [[ -f "$TARBALL" ]]; then echo "$TARBALL"; return 0; fi
  say "not created yet: $TARBALL (run: $0 create)"
  return 1
}

case "${1:-}" in
  create) cmd_create ;;
  path) cmd_path ;;
  *) echo "usage: $0 create|path" >&2; exit 2 ;;
esac
