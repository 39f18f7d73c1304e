#!/usr/bin/env bash
# Prepares a Debian machine to run ctr-pipeline and its tests: a Docker engine
# and the fixture images. Idempotent: a second run only checks and takes seconds.
#
#   ctr-fixtures/busybox:latest   Debian's busybox-static, imported
#   ctr-fixtures/python:3.11      debootstrap minbase bookworm + python3 + bash
#
# and, for the tests, Debian's docker-registry and htpasswd. With --with-browser (the test
# command's), also a headless Chromium for the HTML report's browser test: Debian's chromium,
# unless one of the paths in ensure_browser is there. The quick start does without it.
#
# The debootstrap root filesystem is cached as a tarball in $CTR_FIXTURE_CACHE
# (default ~/.cache/ctr-pipeline) because building it takes about a minute and
# importing it takes seconds.
set -euo pipefail

CACHE_DIR="${CTR_FIXTURE_CACHE:-$HOME/.cache/ctr-pipeline}"
DOCKERD_LOG="${CTR_DOCKERD_LOG:-/var/log/ctr-pipeline-dockerd.log}"
DEBIAN_MIRROR="${CTR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SOCKET=/var/run/docker.sock

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_up() { docker info >/dev/null 2>&1; }

ensure_engine() {
  if command -v docker >/dev/null 2>&1 && engine_up; then
    log "Docker engine is running"
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing Debian's docker.io"
    apt_install docker.io
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: $DOCKERD_LOG)"
    # runc, not crun: crun fails on this kernel's hybrid cgroup layout.
    as_root sh -c "nohup setsid dockerd --default-runtime=runc >>'$DOCKERD_LOG' 2>&1 </dev/null &"
  fi
  for _ in $(seq 1 60); do
    if [ -S "$SOCKET" ] && engine_up; then
      log "Docker engine is up"
      return
    fi
    sleep 0.5
  done
  tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "dockerd did not answer on $SOCKET within 30 s; see $DOCKERD_LOG"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_busybox() {
  local image=ctr-fixtures/busybox:latest
  if image_exists "$image"; then log "$image present"; return; fi
  if ! dpkg -s busybox-static >/dev/null 2>&1; then
    log "installing Debian's busybox-static"
    apt_install busybox-static
  fi
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$image" >/dev/null
  rm -rf "$root"
  log "built $image"
}

build_python() {
  local image=ctr-fixtures/python:3.11
  if image_exists "$image"; then log "$image present"; return; fi
  local tarball="$CACHE_DIR/debian-bookworm-python3.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap"; apt_install debootstrap; }
    mkdir -p "$CACHE_DIR"
    local root
    root=$(mktemp -d)
    log "debootstrap bookworm with python3 and bash (about a minute)"
    as_root debootstrap --variant=minbase --include=python3,bash bookworm "$root" "$DEBIAN_MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed; see $CACHE_DIR/debootstrap.log"; }
    as_root rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*
    as_root tar -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    as_root rm -rf "$root"
  fi
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tarball" "$image" >/dev/null
  log "built $image"
}

# The integration tests start their own registry (Debian's docker-registry, on 127.0.0.1
# with htpasswd auth) to test pulls and registry credentials; the package's own service is
# not used.
ensure_registry_tools() {
  if command -v docker-registry >/dev/null 2>&1 && command -v htpasswd >/dev/null 2>&1; then
    log "docker-registry and htpasswd present"
    return
  fi
  log "installing Debian's docker-registry and apache2-utils (htpasswd), for the tests"
  # policy-rc.d exit 101: the package must not start its own registry on :5000.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\\nexit 101\\n' >$policy && chmod +x $policy"
    made_policy=1
  fi
  apt_install docker-registry apache2-utils
  if [ -n "$made_policy" ]; then as_root rm -f "$policy"; fi
}

# The HTML report is tested in a real browser (puppeteer-core drives it; it downloads none).
ensure_browser() {
  local candidate
  for candidate in "${CTR_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      log "browser for the report tests: $candidate"
      return
    fi
  done
  log "installing Debian's chromium, for the HTML report's browser test"
  apt_install chromium
}

with_browser=
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    *) die "unknown argument '$arg' (expected: --with-browser)" ;;
  esac
done

ensure_engine
ensure_registry_tools
if [ -n "$with_browser" ]; then ensure_browser; fi
build_busybox
build_python
log "ready"
