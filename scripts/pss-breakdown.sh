#!/usr/bin/env bash
# pss-breakdown.sh - where a node's PSS goes, per mapping, for N VRRPv2 instances
#
#   scripts/pss-breakdown.sh [-b OUR_BIN | -k] [-I INSTANCES] [-s SETTLE_S] [-L LAB_DIR] [-m]
#
#  -b BIN  our daemon (default target/dist/keepalived; `cargo build --profile dist -p daemon`).
#          It must live outside /tmp: the lab's nodes get a private /tmp.
#  -k      Debian keepalived 2.2.7 instead
#  -I N    instances per node (default 1000; 255 VRIDs per segment)
#  -s S    seconds to wait after A holds all VIPs (default 10, as measure-resources.sh)
#  -m      also print glibc's mallinfo2() of every process (gdb attaches for a moment)
#
# Same lab and config as scripts/bench-vrrp.sh (../shared/lab/vrrp-pair.sh, VRRPv2,
# advert_int 1, klA prio 150, klB prio 100), in its own KL_STATE. Prints, for the parent
# (keepalived.pid) and the VRRP child (vrrp.pid) of both nodes: threads, smaps_rollup
# PSS, and PSS / Private_Dirty per mapping (file name + permissions, anonymous grouped).
# Takes ~30 s at 1000 instances; the lab is torn down on exit. Needs root, and no other
# kl* lab up (the namespaces are global).
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=$REPO/target/dist/keepalived K=1000 SETTLE=10 MALLINFO=0 OURS=1
LAB_DIR=$(cd "$REPO/../shared/lab" 2>/dev/null && pwd)
while getopts "b:kI:s:L:mh" o; do
    case $o in b) BIN=$OPTARG;; k) OURS=0;; I) K=$OPTARG;; s) SETTLE=$OPTARG;;
               L) LAB_DIR=$OPTARG;; m) MALLINFO=1;; *) sed -n '2,18p' "$0"; exit 2;; esac
done
LAB=$LAB_DIR/vrrp-pair.sh
[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
[[ -x $LAB ]] || { echo "no lab at $LAB_DIR (-L)" >&2; exit 1; }
if ip netns list | awk '{print $1}' | grep -qE '^(kl[A-Z]|kl-hub)$'; then
    echo "another kl* lab is up (ip netns list); not touching it" >&2; exit 1
fi
export KL_STATE=/run/kl-pss
if ((OURS)); then
    [[ -x $BIN ]] || { echo "no $BIN: cargo build --profile dist -p daemon" >&2; exit 1; }
    cmd="$BIN -n -l -D -P -f \"\$KL_CONF\" -p \$KL_NODEDIR/keepalived.pid -r \$KL_NODEDIR/vrrp.pid"
    export KL_CMD_klA=$cmd KL_CMD_klB=$cmd
fi
trap '"$LAB" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
flags=(-n 2 -s $(( (K + 254) / 255 )) -I "$K" -v 2 -i 1)
"$LAB" "${flags[@]}" up >/dev/null 2>&1 && "$LAB" "${flags[@]}" conf >/dev/null 2>&1 || exit 1
"$LAB" start >/dev/null 2>&1
c=0
for ((w = 0; w < 600; w++)); do       # <= ~60 s
    c=$("$LAB" vips klA)
    ((c >= K)) && break
    sleep 0.1
done
echo "VIPs on A: $c/$K; waiting ${SETTLE}s"
sleep "$SETTLE"
for node in klA klB; do
    read -r parent child <<< "$("$LAB" pids "$node")"
    for p in $parent $child; do
        echo "== $node pid $p ($([[ $p == "$parent" ]] && echo parent || echo vrrp child))," \
             "threads $(ls "/proc/$p/task" | wc -l)," \
             "PSS $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup") kB"
        python3 - "$p" <<'PY'
import collections, re, sys
pss, dirty = collections.Counter(), collections.Counter()
key = None
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        f = line.split()
        key = (f[5].rsplit("/", 1)[-1] if len(f) > 5 else "[anon]") + " " + f[1]
    elif line.startswith("Pss:"):
        pss[key] += int(line.split()[1])
    elif line.startswith("Private_Dirty:"):
        dirty[key] += int(line.split()[1])
print("   %8s %8s  mapping" % ("PSS kB", "dirty kB"))
for key, v in pss.most_common(12):
    if v:
        print("   %8d %8d  %s" % (v, dirty[key], key))
PY
        if ((MALLINFO)); then
            timeout 60 gdb -p "$p" -batch -ex 'p mallinfo2()' 2>/dev/null | grep '^\$1' |
                sed 's/^\$1 = /   mallinfo2: /'
        fi
    done
done
