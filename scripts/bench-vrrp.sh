#!/usr/bin/env bash
# bench-vrrp.sh - keepalived-rs beside Debian keepalived 2.2.7, in one run, on the
# namespace lab of ../shared/lab (vrrp-pair.sh, measure-failover.sh, measure-resources.sh).
#
#   scripts/bench-vrrp.sh [-r TRIALS] [-d SECONDS] [-I "1 100 1000"] [-F "2:1 3:0.1 3:0.01"]
#                         [-b OUR_BIN] [-L LAB_DIR] [-o RAW_DIR]
#
#  -r TRIALS   failover trials per case and daemon            (default 3)
#  -d SECONDS  CPU/PSS sampling window per instance count     (default 20; the lab's
#              own figures use 60 s)
#  -I LIST     instance counts per node                       (default "1 100 1000")
#  -F LIST     failover cases VERSION:ADVERT_INT              (default "2:1 3:0.1 3:0.01")
#  -b BIN      our daemon (default target/dist/keepalived, the shipped profile; build it
#              with `cargo build --profile dist -p daemon`)
#  -o DIR      keep the raw outputs there (default a fresh /tmp/kl-bench.XXXXXX)
#
# Both nodes (klA prio 150, klB prio 100) run the same daemon: first Debian keepalived
# (/usr/sbin/keepalived), then ours through the lab's KL_CMD_<node> hook. Figures:
#  * failover: per trial the lab restarts both daemons, then SIGKILLs (crash) or SIGTERMs
#    (graceful) the master. The figure is "VIP on B - A's last advert seen on B's wire"
#    (tcpdump and `ip -ts monitor` in klB, same clock). RFC bound: crash ->
#    Master_Down_Interval = 3*Advert + Skew, graceful (priority-0 advert) -> Skew_Time,
#    with Skew = (256-100)*Advert/256 (RFC 5798 6.1; RFC 3768 uses 1 s units, the same at 1 s).
#  * resources: N instances per node (255 VRIDs per segment), start both, time until A
#    holds all N VIPs, settle 10 s, then CPU (schedstat, % of one CPU) and PSS
#    (smaps_rollup) per node over the window, summed over the parent (keepalived.pid)
#    and the VRRP child (vrrp.pid) for both daemons; a pid is counted once per node.
# The lab is torn down on exit (vrrp-pair.sh down). Needs root. The namespaces are
# global (klA, klB, kl-hub): the script refuses to start while another lab is up.
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TRIALS=3 DUR=20 INSTANCES="1 100 1000" CASES="2:1 3:0.1 3:0.01"
BIN=$REPO/target/dist/keepalived LAB_DIR=$(cd "$REPO/../shared/lab" 2>/dev/null && pwd) RAW=""
while getopts "r:d:I:F:b:L:o:h" o; do
    case $o in r) TRIALS=$OPTARG;; d) DUR=$OPTARG;; I) INSTANCES=$OPTARG;; F) CASES=$OPTARG;;
               b) BIN=$OPTARG;; L) LAB_DIR=$OPTARG;; o) RAW=$OPTARG;;
               *) sed -n '2,30p' "$0"; exit 2;; esac
done
LAB=$LAB_DIR/vrrp-pair.sh
[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
[[ -x $BIN ]] || { echo "no $BIN: cargo build --profile dist -p daemon" >&2; exit 1; }
[[ -x /usr/sbin/keepalived ]] || { echo "no /usr/sbin/keepalived (apt-get install keepalived)" >&2; exit 1; }
[[ -x $LAB ]] || { echo "no lab at $LAB_DIR (-L)" >&2; exit 1; }
if ip netns list | awk '{print $1}' | grep -qE '^(kl[A-Z]|kl-hub)$'; then
    echo "another kl* lab is up (ip netns list); not touching it" >&2; exit 1
fi
export KL_STATE=/run/kl-bench
[[ -n $RAW ]] || RAW=$(mktemp -d /tmp/kl-bench.XXXXXX)
mkdir -p "$RAW"
trap '"$LAB" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

use_daemon() {  # keepalived | ours
    if [[ $1 == ours ]]; then
        local cmd="$BIN -n -l -D -P -f \"\$KL_CONF\" -p \$KL_NODEDIR/keepalived.pid -r \$KL_NODEDIR/vrrp.pid"
        export KL_CMD_klA=$cmd KL_CMD_klB=$cmd
    else
        unset KL_CMD_klA KL_CMD_klB
    fi
}
DAEMONS="keepalived ours"
echo "bench-vrrp: $(date -u '+%F %T') UTC, $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  keepalived: $(/usr/sbin/keepalived -v 2>&1 | head -1)   ours: $BIN ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null))"
echo "  trials=$TRIALS window=${DUR}s instances=\"$INSTANCES\" cases=\"$CASES\" raw=$RAW"

# ---------------------------------------------------------------- failover
for c in $CASES; do
    v=${c%%:*} adv=${c#*:}
    for mode in kill term; do
        for d in $DAEMONS; do
            use_daemon "$d"
            echo "... failover v$v advert_int $adv $mode: $d" >&2
            "$LAB_DIR/measure-failover.sh" -v "$v" -i "$adv" -m "$mode" -r "$TRIALS" \
                -o "$RAW/fo-$d-$v-$adv-$mode.csv" > "$RAW/fo-$d-$v-$adv-$mode.txt" 2>&1
        done
    done
done

# ---------------------------------------------------------------- resources
for n in $INSTANCES; do
    for d in $DAEMONS; do
        use_daemon "$d"
        echo "... resources $n instances: $d" >&2
        # -R 0: no SIGHUP reload (reload is the operations issue's job)
        "$LAB_DIR/measure-resources.sh" -I "$n" -d "$DUR" -R 0 > "$RAW/res-$d-$n.txt" 2>&1
    done
done
"$LAB" down >/dev/null 2>&1

# ---------------------------------------------------------------- table
python3 - "$RAW" "$CASES" "$INSTANCES" <<'EOF'
import csv, os, re, statistics, sys
raw, cases, insts = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def fo(d, v, adv, mode):
    p = os.path.join(raw, f"fo-{d}-{v}-{adv}-{mode}.csv")
    try:
        rows = [r for r in csv.DictReader(open(p)) if r["since_last_A_advert_s"] != "NA"]
    except FileNotFoundError:
        return None
    x = sorted(float(r["since_last_A_advert_s"]) for r in rows)
    return x or None
def fmt(x):
    if not x: return "failed"
    return "%.4f (%.4f–%.4f) n=%d" % (statistics.median(x), x[0], x[-1], len(x))
print()
print("Failover: VIP on B minus A's last advert on the wire, median (min–max) in s; bound = RFC")
print("| case | RFC bound | keepalived 2.2.7 | keepalived-rs | rs median − bound |")
print("| --- | --- | --- | --- | --- |")
for c in cases:
    v, adv = c.split(":")
    a = float(adv); skew = (256 - 100) * a / 256
    for mode in ("kill", "term"):
        bound = 3 * a + skew if mode == "kill" else skew
        name = "Master_Down" if mode == "kill" else "Skew_Time"
        k, r = fo("keepalived", v, adv, mode), fo("ours", v, adv, mode)
        diff = "%+.1f ms" % ((statistics.median(r) - bound) * 1000) if r else "-"
        what = "SIGKILL (crash)" if mode == "kill" else "SIGTERM (graceful)"
        print(f"| v{v} advert_int {adv} s, {what} | {name} {bound:.4f} | {fmt(k)} | {fmt(r)} | {diff} |")

def res(d, n):
    p = os.path.join(raw, f"res-{d}-{n}.txt")
    try: t = open(p).read()
    except FileNotFoundError: return None
    out = {}
    m = re.search(r"all (\d+)/(\d+) VIPs after ([\d.]+) s", t)
    if m: out["held"], out["start"] = int(m.group(1)), float(m.group(3))
    seen = {"A": {}, "B": {}}
    for l in t.splitlines():
        f = l.split()
        if len(f) >= 7 and re.match(r"[AB]_(parent|vrrp)$", f[0]):
            seen[f[0][0]][f[1]] = (float(f[2]), int(f[5]))   # pid -> (cpu%, pss kB); one per pid
    for node in "AB":
        if seen[node]:
            out["cpu" + node] = sum(c for c, _ in seen[node].values())
            out["pss" + node] = sum(p for _, p in seen[node].values())
    return out
print()
print("Resources per node (A MASTER, B BACKUP), VRRPv2 advert_int 1 s; CPU in % of one CPU, PSS in MB")
print("| instances | daemon | startup to all VIPs on A | CPU% A | CPU% B | PSS A | PSS B |")
print("| --- | --- | --- | --- | --- | --- | --- |")
ratio = {}
for n in insts:
    for d, label in (("keepalived", "keepalived 2.2.7"), ("ours", "keepalived-rs")):
        o = res(d, n) or {}
        def g(k, f): return f % o[k] if k in o else "failed"
        st = ("%.3f s" % o["start"] + ("" if o.get("held") == int(n) else " (only %d)" % o.get("held", 0))) if "start" in o else "failed"
        print(f"| {n} | {label} | {st} | {g('cpuA', '%.3f')} | {g('cpuB', '%.3f')} | "
              f"{'%.1f' % (o['pssA'] / 1024) if 'pssA' in o else 'failed'} | {'%.1f' % (o['pssB'] / 1024) if 'pssB' in o else 'failed'} |")
        ratio[(d, n)] = o
big = insts[-1] if insts else None   # -I "": failover only
k, r = ratio.get(("keepalived", big), {}), ratio.get(("ours", big), {})
print()
for key, what in (("cpuA", "CPU A"), ("cpuB", "CPU B"), ("pssA", "PSS A"), ("pssB", "PSS B")):
    if key in k and key in r and k[key] > 0:
        q = r[key] / k[key]
        print(f"{big} instances, {what}: keepalived-rs / keepalived = {q:.2f} (target <= 0.5: {'met' if q <= 0.5 else 'NOT met'})")
EOF
