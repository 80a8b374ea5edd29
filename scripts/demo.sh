#!/usr/bin/env bash
# The main job: a live VRRP lab in network namespaces, as root, on a fresh machine.
#
# Three routers on one bridge share VIP 192.0.2.100 (VRID 51, VRRPv3, advert_int 1 s):
#   dA (priority 150) and dB (priority 100) run keepalived-rs;
#   dC (priority 50) runs Debian's keepalived 2.2.7 when it is installed (else ours too).
# The demo shows who is MASTER, kills the master with SIGKILL, and prints a timeline of
# the takeover (last advert, new master's first advert, VIP added, GARPs) beside the
# RFC 5798 Master_Down_Interval. Everything is removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "demo: run as root (it creates network namespaces)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in iproute2 tcpdump keepalived; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
if ((${#need[@]})); then apt-get update -qq && apt-get install -y -qq "${need[@]}" </dev/null >/dev/null; fi
cargo build --release -q -p daemon
OURS=${CARGO_TARGET_DIR:-$PWD/target}/release/keepalived
UPSTREAM=/usr/sbin/keepalived

P=kdemo$$
HUB=${P}h
# Not under /tmp: each daemon gets a private /tmp (bind mount) for its dump files.
mkdir -p /run/kars-demo
STATE=$(mktemp -d /run/kars-demo/run.XXXXXX)
NODES=(dA dB dC)
declare -A PRIO=([dA]=150 [dB]=100 [dC]=50) ADDR=([dA]=192.0.2.11 [dB]=192.0.2.12 [dC]=192.0.2.13)

cleanup() {
    trap - EXIT INT TERM
    for n in "${NODES[@]}" hub; do
        ns=$P$n; [ "$n" = hub ] && ns=$HUB
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$STATE"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted, cleaning up"; exit 130' INT TERM

ip netns add "$HUB"
ip -n "$HUB" link add br0 type bridge mcast_snooping 0
ip -n "$HUB" link set br0 up
for n in "${NODES[@]}"; do
    ns=$P$n
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$HUB" link add "$P$n" type veth peer name eth0 netns "$ns"
    ip -n "$HUB" link set "$P$n" master br0 up
    ip -n "$ns" addr add "${ADDR[$n]}/24" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "$STATE/$n/tmp"
    cat > "$STATE/$n/keepalived.conf" <<CONF
global_defs {
    router_id $n
    enable_script_security
    script_user root
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version 3
    priority ${PRIO[$n]}
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24 dev eth0
    }
}
CONF
done

start() { # node binary
    local n=$1 bin=$2 d=$STATE/$1
    ip netns exec "$P$n" unshare -m sh -c "mount --bind $d/tmp /tmp && exec $bin -n -l -D -P -f $d/keepalived.conf -p $d/keepalived.pid -r $d/vrrp.pid" \
        >>"$d/log" 2>&1 &
    echo $! > "$d/launcher.pid"
    disown
}
holder() { for n in "${NODES[@]}"; do if ip -n "$P$n" -o addr show dev eth0 | grep -q "192.0.2.100/"; then echo "$n"; fi; done; }
wait_holder() { # node timeout_s
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do [ "$(holder)" = "$1" ] && return 0; sleep 0.05; done
    return 1
}

declare -A impl=([dA]="keepalived-rs" [dB]="keepalived-rs" [dC]="keepalived-rs")
[ -x "$UPSTREAM" ] && impl[dC]="keepalived 2.2.7 (Debian)"
start dA "$OURS"; start dB "$OURS"
if [ -x "$UPSTREAM" ]; then start dC "$UPSTREAM"; else start dC "$OURS"; fi

echo "== three routers on one bridge, VIP 192.0.2.100, VRID 51, VRRPv3, advert_int 1 s"
for n in "${NODES[@]}"; do printf '   %s  %-13s priority %3s  %s\n' "$n" "${ADDR[$n]}" "${PRIO[$n]}" "${impl[$n]}"; done
fail() { echo "demo: $1" >&2; for n in "${NODES[@]}"; do echo "-- $n log:" >&2; tail -n 5 "$STATE/$n/log" >&2 || true; done; exit 1; }
wait_holder dA 15 || fail "dA did not become MASTER"
echo "== MASTER: dA (holds the VIP)"

# Watch the wire and the addresses from dB's point of view.
ip netns exec "${P}dB" tcpdump -i eth0 -nn -tt -l 'vrrp or arp' >"$STATE/wire" 2>/dev/null &
disown
ip netns exec "${P}dB" ip -ts monitor address dev eth0 >"$STATE/addr" 2>/dev/null &
disown
# Wait until the capture has one of dA's adverts (tcpdump is up and dA is sending).
wait_wire() { # grep-pattern timeout_s
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do grep -q "$1" "$STATE/wire" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}
wait_wire '192.0.2.11 > 224.0.0.18' 5 || fail "no advert from dA captured"

master_pid=$(cat "$STATE/dA/vrrp.pid" 2>/dev/null || cat "$STATE/dA/launcher.pid")
kill_ts=$(date +%s.%N)
kill -9 "$master_pid" "$(cat "$STATE/dA/keepalived.pid" 2>/dev/null || echo "$master_pid")" 2>/dev/null || true
echo "== SIGKILL of dA at $(date -d @"$kill_ts" +%T.%N | cut -c1-12)"
wait_holder dB 10 || fail "dB did not take over"
sleep 1.2   # the GARP burst and dB's next advert

last_a=$(awk '/192.0.2.11 > 224.0.0.18/ {t=$1} END {print t}' "$STATE/wire")
first_b=$(awk '/192.0.2.12 > 224.0.0.18/ {print $1; exit}' "$STATE/wire")
garps=$(awk -v t="$first_b" '$1 >= t && /ARP, Request who-has 192\.0\.2\.100 .*tell 192\.0\.2\.100/ {n++; if (!f) f=$1} END {print n+0, f}' "$STATE/wire")
vip_line=$(grep -m1 '192.0.2.100/' "$STATE/addr" || true)
vip_ts=$(sed -E 's/^\[([^]]+)\].*/\1/' <<<"$vip_line")
vip_epoch=$(date -d "$vip_ts" +%s.%N 2>/dev/null || echo "")
read -r garp_count garp_first <<<"$garps"

# RFC 5798 §6.1: Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time,
# Skew_Time = ((256 − priority) × Master_Adver_Interval) / 256.
mdi=$(awk 'BEGIN { printf "%.3f", 3 * 1 + (256 - 100) * 1 / 256 }')
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "   n/a"; else printf "%+8.3f s", a - b }'; }
echo
echo "== timeline at dB (relative to dA's last advert)"
printf '   %-44s %s\n' "dA's last advert" "$(rel "$last_a" "$last_a")"
printf '   %-44s %s\n' "SIGKILL of dA" "$(rel "$kill_ts" "$last_a")"
printf '   %-44s %s\n' "dB's first advert as MASTER" "$(rel "$first_b" "$last_a")"
printf '   %-44s %s\n' "VIP 192.0.2.100 added on dB" "$(rel "$vip_epoch" "$last_a")"
printf '   %-44s %s  (%s in the first second)\n' "first gratuitous ARP for the VIP" "$(rel "$garp_first" "$last_a")" "$garp_count"
printf '   %-44s %+8.3f s\n' "RFC 5798 Master_Down_Interval (priority 100)" "$mdi"
echo
live=$(holder | { grep -v "^dA$" || true; } | tr "\n" " ")
echo "== now: MASTER is ${live% } (dA's killed daemon could not remove its VIP: a crash leaves it, as with keepalived); dC (${impl[dC]}) stays BACKUP"
