#!/usr/bin/env bash
# A three-node Docker Swarm on this machine, for the Swarm backend's tests and benchmarks.
#
#   scripts/swarm-lab.sh up      start it (about 3 s once the fixture images are cached)
#   scripts/swarm-lab.sh env     print DOCKER_HOST (the manager), SWARM_LAB_NODES (all nodes)
#                                and SWARM_LAB_REGISTRY (the hub's registry, host:port)
#   scripts/swarm-lab.sh check   print nothing when no trace of the lab is left on the host
#   scripts/swarm-lab.sh down    stop it and remove every trace of it
#   scripts/swarm-lab.sh stop N  kill node N's dockerd at once (a node that goes down; for tests)
#
# Each node is a dockerd in a network namespace of its own (ctrlab-n1..3), with its own
# data root, exec root, pid file, socket and cgroup parent; a hub namespace (ctrlab-hub)
# holds the bridge that links them, on addresses that exist only inside those namespaces.
# The hub also runs a registry (Debian's docker-registry) for images built by a run.
# Nothing of the host's own engine, links, routes or iptables changes: every dockerd
# writes its iptables rules in its own namespace.
#
# `ip netns exec` remounts /sys, and dockerd then fails with "Devices cgroup isn't
# mounted" on this cgroup v1 host; so each node starts through nsenter + unshare, with a
# fresh sysfs (for the namespace's own links) and the host's /sys/fs/cgroup bound back on it.
set -euo pipefail

LAB=${SWARM_LAB_DIR:-/tmp/ctr-swarm-lab}
NODES=(n1 n2 n3)
HUB=ctrlab-hub
NET=10.231.0
REGISTRY="$NET.1:5000"
IMAGES=(ctr-fixtures/busybox:latest ctr-fixtures/python:3.11)

ns() { echo "ctrlab-$1"; }
sock() { echo "unix://$LAB/$1/docker.sock"; }
addr() { echo "$NET.1$(($1 + 1))"; }
node_docker() { local n=$1; shift; docker -H "$(sock "$n")" "$@"; }

# Starts one node's dockerd in its namespace; $1 is its name, $2 its index (0-based).
start_node() {
  local n=$1 i=$2 dir="$LAB/$1"
  mkdir -p "$dir/data" "$dir/exec"
  # Nodes pull as a real cluster's do, through the hub's registry as a mirror of Docker
  # Hub (it holds the fixture images). Docker Hub itself is the hub, where nothing listens
  # on 443: a pull the mirror cannot serve fails at once, as offline, instead of after a
  # 20 s DNS timeout (and now and then 5 s more). Every other name fails at once too.
  echo "nameserver $NET.1" >"$dir/resolv.conf"
  { cat /etc/hosts; echo "$NET.1 registry-1.docker.io index.docker.io auth.docker.io"; } >"$dir/hosts"
  # shellcheck disable=SC2016 # the inner shell expands them, from its own arguments
  nsenter --net="/run/netns/$(ns "$n")" unshare --mount --uts --propagation slave \
    sh -c '
      set -e
      mkdir -p "$0/cgroup-hold"
      mount --rbind /sys/fs/cgroup "$0/cgroup-hold"
      mount -t sysfs sysfs /sys
      mount --rbind "$0/cgroup-hold" /sys/fs/cgroup
      hostname "$1"
      mount --bind "$0/resolv.conf" /etc/resolv.conf
      mount --bind "$0/hosts" /etc/hosts
      exec dockerd --data-root "$0/data" --exec-root "$0/exec" --pidfile "$0/dockerd.pid" \
        -H "unix://$0/docker.sock" --cgroup-parent "ctrlab-$1" \
        --exec-opt native.cgroupdriver=cgroupfs --bip "172.30.$2.1/24" \
        --default-address-pool "base=172.31.$(($2 * 64)).0/18,size=24" \
        --insecure-registry "$3" --registry-mirror "http://$3" --storage-driver overlay2 --default-runtime runc \
        >"$0/dockerd.log" 2>&1
    ' "$dir" "$n" "$i" "$REGISTRY" &
}

wait_for() {
  local what=$1 tries=0
  shift
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ]; then
      echo "swarm-lab: $what did not come up" >&2
      return 1
    fi
    sleep 0.1
  done
}

up() {
  if [ -e "$LAB/up" ]; then
    echo "swarm-lab: already up ($LAB)"
    return 0
  fi
  mkdir -p "$LAB"
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" addr add "$NET.1/24" dev br0
  ip -n "$HUB" link set br0 up
  ip -n "$HUB" link set lo up
  local i=0
  for n in "${NODES[@]}"; do
    ip netns add "$(ns "$n")"
    ip link add "ctrlab-$n" netns "$HUB" type veth peer name eth0 netns "$(ns "$n")"
    ip -n "$HUB" link set "ctrlab-$n" master br0 up
    ip -n "$(ns "$n")" addr add "$(addr "$i")/24" dev eth0
    ip -n "$(ns "$n")" link set eth0 up
    ip -n "$(ns "$n")" link set lo up
    ip -n "$(ns "$n")" route add default via "$NET.1"
    i=$((i + 1))
  done
  mkdir -p "$LAB/registry"
  cat >"$LAB/registry/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $LAB/registry/data
http:
  addr: $REGISTRY
EOF
  nsenter --net="/run/netns/$HUB" docker-registry serve "$LAB/registry/config.yml" \
    >"$LAB/registry/registry.log" 2>&1 &
  echo $! >"$LAB/registry/pid"
  i=0
  for n in "${NODES[@]}"; do
    start_node "$n" "$i"
    i=$((i + 1))
  done
  for n in "${NODES[@]}"; do wait_for "node $n" node_docker "$n" version; done
  node_docker n1 swarm init --advertise-addr "$(addr 0)" --default-addr-pool 10.232.0.0/16 >/dev/null
  local token
  token=$(node_docker n1 swarm join-token -q worker)
  i=0
  for n in "${NODES[@]}"; do
    if [ "$i" -gt 0 ]; then
      node_docker "$n" swarm join --token "$token" --advertise-addr "$(addr "$i")" "$(addr 0):2377" >/dev/null
    fi
    i=$((i + 1))
  done
  for image in "${IMAGES[@]}"; do
    if docker image inspect "$image" >/dev/null 2>&1; then
      docker save "$image" >"$LAB/image.tar"
      local loads=()
      for n in "${NODES[@]}"; do
        node_docker "$n" load -i "$LAB/image.tar" >/dev/null &
        loads+=($!)
      done
      wait "${loads[@]}"
      rm -f "$LAB/image.tar"
    fi
  done
  wait_for "registry" nsenter --net="/run/netns/$HUB" bash -c "exec 3<>/dev/tcp/${REGISTRY%:*}/${REGISTRY#*:}"
  # The mirror's copy of the fixture images, pushed from the manager under their own names.
  for image in "${IMAGES[@]}"; do
    node_docker n1 image inspect "$image" >/dev/null 2>&1 || continue
    node_docker n1 tag "$image" "$REGISTRY/$image"
    node_docker n1 push -q "$REGISTRY/$image" >/dev/null
    node_docker n1 rmi "$REGISTRY/$image" >/dev/null
  done
  wait_for "registry" nsenter --net="/run/netns/$HUB" bash -c "exec 3<>/dev/tcp/${REGISTRY%:*}/${REGISTRY#*:}"
  touch "$LAB/up"
}

down() {
  for n in "${NODES[@]}"; do
    local pidfile="$LAB/$n/dockerd.pid"
    if [ -s "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
  done
  for n in "${NODES[@]}"; do
    local pidfile="$LAB/$n/dockerd.pid" tries=0
    # dockerd removes its pid file as it exits.
    while pid=$(cat "$pidfile" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
    if pid=$(cat "$pidfile" 2>/dev/null); then kill -9 "$pid" 2>/dev/null || true; fi
  done
  # A node stopped with `stop` leaves its containerd and shims behind: they go too.
  pkill -9 -f -- "$LAB/n[0-9]/" 2>/dev/null || true
  if [ -s "$LAB/registry/pid" ]; then kill "$(cat "$LAB/registry/pid")" 2>/dev/null || true; fi
  # What the nodes' containers leave mounted under the lab folder goes with it.
  { grep " $LAB/" /proc/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
  for n in "${NODES[@]}"; do ip netns del "$(ns "$n")" 2>/dev/null || true; done
  ip netns del "$HUB" 2>/dev/null || true
  # The containers of a stopped node outlive its shims: what is left in its cgroups goes.
  for group in /sys/fs/cgroup/*/ctrlab-n[0-9]; do
    [ -d "$group" ] || continue
    # shellcheck disable=SC2038 # what xargs reads is the files' contents: process ids
    find "$group" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  done
  for n in "${NODES[@]}"; do
    for group in /sys/fs/cgroup/*/"ctrlab-$n"; do
      local tries=0
      # A killed process leaves its cgroup a moment after the signal.
      while [ -d "$group" ] && [ "$tries" -lt 50 ]; do
        find "$group" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ -d "$group" ] && sleep 0.1
        tries=$((tries + 1))
      done
    done
  done
  # A killed container's last writes may land while the folder goes (CI saw "Directory
  # not empty" after a stopped node): try again for a few seconds before saying so.
  local tries=0
  until rm -rf "$LAB" 2>/dev/null || [ "$tries" -ge 25 ]; do
    sleep 0.2
    tries=$((tries + 1))
  done
  rm -rf "$LAB"
}

# Prints what of the lab is still on the host: namespaces, processes, mounts, cgroups.
check() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep '^ctrlab-' | sed 's/^/namespace /' || true
  pgrep -af -- "$LAB/n[0-9]/" | sed 's/^/process /' || true
  grep " $LAB" /proc/mounts | awk '{print "mount " $2}' || true
  for group in /sys/fs/cgroup/*/ctrlab-*; do
    if [ -e "$group" ]; then echo "cgroup $group"; fi
  done
  if [ -e "$LAB" ]; then echo "folder $LAB"; fi
}

# Kills one node's dockerd at once, as a node that loses power: the manager sees it go
# down after its heartbeats stop; `down` removes what it left.
stop() {
  local pidfile="$LAB/$1/dockerd.pid"
  [ -s "$pidfile" ] || { echo "no running node $1" >&2; exit 2; }
  kill -9 "$(cat "$pidfile")"
}

env_() {
  echo "DOCKER_HOST=$(sock n1)"
  echo "SWARM_LAB_NODES=\"$(for n in "${NODES[@]}"; do printf '%s ' "$(sock "$n")"; done | sed 's/ $//')\""
  echo "SWARM_LAB_REGISTRY=$REGISTRY"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  check) check ;;
  env) env_ ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 up|down|check|env|stop NODE" >&2
    exit 2
    ;;
esac
