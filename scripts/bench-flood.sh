#!/usr/bin/env bash
# bench-flood.sh - a hostile host floods the VRRP segment (IP protocol 112/51, as fast as
# one thread can send), against Debian keepalived 2.2.7 and keepalived-rs in one run,
# printed side by side.
#
#   scripts/bench-flood.sh [-d SECONDS] [-S "malformed pass ah"] [-b OUR_BIN] [-f FLOODER]
#
#  -d SECONDS  flood window before the master is killed      (default 10)
#  -S LIST     scenarios                                     (default "malformed pass ah")
#              malformed: TTL 64, bad checksum, truncated, version 4, type 2, wrong
#                         address count, unknown VRIDs, random junk (with and without a
#                         valid-looking VRRP header), as bait for VRID 51 (no auth)
#              pass:      adverts without auth / with a wrong password for VRID 54 (PASS)
#              ah:        adverts without auth / with a wrong AH key for VRID 55 (AH)
#              Every forged advert carries priority 0 or 254: accepted, it would make
#              the backup take over or the master step down.
#  -b BIN      our daemon (default target/release/keepalived)
#  -f BIN      the flooder (default target/release/examples/vrrp_flood; build both with
#              `cargo build --release -p daemon -p lab --example vrrp_flood`)
#
# Topology (namespaces <prefix>{hub,a,b,c}, removed on exit): a 192.0.2.11 (priority 150,
# MASTER), b 192.0.2.12 (100, BACKUP), c 192.0.2.66 the attacker, on one bridge. Both
# daemons run with -P (VRRP only), each node with its own pid files and TMPDIR.
# Per scenario and daemon:
#  * backup CPU: utime+stime of every process in b's namespace over the flood window,
#    in % of one CPU;
#  * split brain: samples (every 0.2 s) where b held the attacked instance's VIP, and
#    where a did not;
#  * adverts processed: the attacked instance's "Advertisements: Received" on b
#    (keepalived.stats, SIGUSR2) over the window; a sends one per second;
#  * failover under the flood: a is SIGKILLed with the flood still running; seconds
#    until b holds the VIP (Master_Down_Interval is 3.6 s; "none" after 15 s).
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DUR=10 SCENARIOS="malformed pass ah"
BIN=$REPO/target/release/keepalived FLOODER=$REPO/target/release/examples/vrrp_flood
while getopts "d:S:b:f:h" o; do
    case $o in d) DUR=$OPTARG ;; S) SCENARIOS=$OPTARG ;; b) BIN=$OPTARG ;; f) FLOODER=$OPTARG ;;
    *) sed -n '2,36p' "$0"; exit 2 ;; esac
done
[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
[[ -x $BIN ]] || { echo "no $BIN: cargo build --release -p daemon" >&2; exit 1; }
[[ -x $FLOODER ]] || { echo "no $FLOODER: cargo build --release -p lab --example vrrp_flood" >&2; exit 1; }
[[ -x /usr/sbin/keepalived ]] || { echo "no /usr/sbin/keepalived (apt-get install keepalived)" >&2; exit 1; }

P=kbf$$
WORK=$(mktemp -d /tmp/kl-bench-flood.XXXXXX)
HZ=$(getconf CLK_TCK)

cleanup() {
    for n in a b c; do
        ip netns pids "$P$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    for n in a b c hub; do ip netns del "$P$n" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup() {
    ip netns add "${P}hub"
    ip -n "${P}hub" link add br0 type bridge mcast_snooping 0
    ip -n "${P}hub" link set br0 up
    local n addr
    for n in a b c; do
        case $n in a) addr=192.0.2.11 ;; b) addr=192.0.2.12 ;; c) addr=192.0.2.66 ;; esac
        ip netns add "$P$n"
        ip -n "$P$n" link set lo up
        ip -n "${P}hub" link add "$P$n" type veth peer name eth0 netns "$P$n"
        ip -n "${P}hub" link set "$P$n" master br0 up
        ip -n "$P$n" addr add "$addr/24" dev eth0
        ip -n "$P$n" link set eth0 up
    done
}

config() { # PRIORITY
    local name vrid body vip
    printf 'global_defs {\n    vrrp_garp_master_delay 0\n}\n'
    while read -r name vrid vip body; do
        printf 'vrrp_instance %s {\n    state BACKUP\n    interface eth0\n    virtual_router_id %s\n    priority %s\n    advert_int 1\n%b    virtual_ipaddress {\n        %s/24 dev eth0\n    }\n}\n' \
            "$name" "$vrid" "$1" "$body" "$vip"
    done <<'EOF'
PLAIN 51 192.0.2.100
V3 52 192.0.2.101     version 3\n
PASS 54 192.0.2.102     authentication {\n        auth_type PASS\n        auth_pass secret1\n    }\n
AH 55 192.0.2.103     authentication {\n        auth_type AH\n        auth_pass secret2\n    }\n
EOF
}

start_daemon() { # DAEMON NODE PRIORITY
    local dir=$WORK/$1-$2
    rm -rf "$dir"; mkdir -p "$dir/tmp"
    config "$3" >"$dir/keepalived.conf"
    local prog=/usr/sbin/keepalived
    [[ $1 == ours ]] && prog=$BIN
    # In a subshell: no job-control chatter when the daemons are killed.
    (ip netns exec "$P$2" env TMPDIR="$dir/tmp" "$prog" -n -l -D -P -f "$dir/keepalived.conf" \
        -p "$dir/keepalived.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid" >"$dir/log" 2>&1 &)
}

has_vip() { ip -n "$P$1" -o addr show dev eth0 | grep -q " $2/"; }

# 0: holds it, 1: does not, 2: could not tell (the ip command failed under load).
vip_state() {
    local out
    out=$(ip -n "$P$1" -o addr show dev eth0 2>/dev/null) || return 2
    grep -q " $2/" <<<"$out"
}

wait_vip() { # NODE VIP SECONDS -> prints seconds waited, or "none"
    local start=$EPOCHREALTIME
    while ! has_vip "$1" "$2"; do
        if (($(echo "$EPOCHREALTIME - $start > $3" | bc))); then echo none; return 1; fi
        sleep 0.02
    done
    echo "$EPOCHREALTIME - $start" | bc | xargs printf '%.2f'
}

cpu_ticks() { # NODE: utime+stime of every process in the namespace
    local total=0 pid
    for pid in $(ip netns pids "$P$1"); do
        [[ -r /proc/$pid/stat ]] || continue
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}

received() { # DAEMON NODE INSTANCE: "Advertisements: Received" from keepalived.stats
    local dir=$WORK/$1-$2 pid
    rm -f "$dir/tmp/keepalived.stats"
    pid=$(cat "$dir/keepalived.pid" 2>/dev/null) || { echo 0; return; }
    kill -USR2 "$pid" 2>/dev/null
    for _ in $(seq 50); do [[ -s $dir/tmp/keepalived.stats ]] && break; sleep 0.05; done
    awk -v inst="$3" '$0 == "VRRP Instance: " inst {found=1} found && /Received:/ {print $2; exit}' \
        "$dir/tmp/keepalived.stats" 2>/dev/null || echo 0
}

run_case() { # DAEMON SCENARIO
    local daemon=$1 scenario=$2 kinds vrid vip inst
    case $scenario in
    malformed) kinds=ttl,checksum,truncated,version,type,count,vrid,junk,junkhdr vrid=51 vip=192.0.2.100 inst=PLAIN ;;
    pass) kinds=noauth,pass vrid=54 vip=192.0.2.102 inst=PASS ;;
    ah) kinds=noauth,ah vrid=55 vip=192.0.2.103 inst=AH ;;
    *) echo "unknown scenario $scenario" >&2; return 1 ;;
    esac
    start_daemon "$daemon" a 150
    start_daemon "$daemon" b 100
    for v in 100 101 102 103; do
        wait_vip a "192.0.2.$v" 15 >/dev/null || { echo "$daemon: a never became MASTER" >&2; return 1; }
    done
    sleep 3 # b settles as BACKUP
    local before_rx before_cpu
    before_rx=$(received "$daemon" b "$inst")
    before_cpu=$(cpu_ticks b)
    local t0=$EPOCHREALTIME
    "$FLOODER" --netns "${P}c" --dev eth0 --src 192.0.2.66 --vrid "$vrid" --vip "$vip" \
        --kinds "$kinds" --seconds $((DUR + 16)) >"$WORK/$daemon-$scenario.flood" 2>&1 &
    local flooder=$! split=0 lost=0 samples=0
    while (($(echo "$EPOCHREALTIME - $t0 < $DUR" | bc))); do
        vip_state b "$vip" && split=$((split + 1))
        vip_state a "$vip"; [[ $? == 1 ]] && lost=$((lost + 1))
        samples=$((samples + 1))
        sleep 0.2
    done
    local elapsed cpu rx
    elapsed=$(echo "$EPOCHREALTIME - $t0" | bc)
    cpu=$(echo "scale=1; ($(cpu_ticks b) - $before_cpu) * 100 / $HZ / $elapsed" | bc)
    rx=$(($(received "$daemon" b "$inst") - before_rx))
    # The master dies with the flood still on.
    ip netns pids "${P}a" | xargs -r kill -9
    local takeover
    takeover=$(wait_vip b "$vip" 15)
    wait "$flooder"
    local rate
    rate=$(sed -n 's/.*(\([0-9]*\) pps.*/\1/p' "$WORK/$daemon-$scenario.flood")
    printf '| %-9s | %-14s | %7s | %6s %% | %3s of %3s | %3s of %3s | %3s (~%s sent) | %5s |\n' \
        "$scenario" "$daemon" "${rate:-?}" "$cpu" "$split" "$samples" "$lost" "$samples" \
        "$rx" "${elapsed%.*}" "$takeover"
    for n in a b; do ip netns pids "$P$n" | xargs -r kill -9 2>/dev/null; done
    sleep 1
}

setup
echo "flood window ${DUR}s; raw files in $WORK"
echo
echo '| scenario  | daemon         | flood pps | backup CPU | backup held VIP | master lost VIP | adverts processed | failover under flood (s) |'
echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
for scenario in $SCENARIOS; do
    run_case keepalived "$scenario"
    run_case ours "$scenario"
done
