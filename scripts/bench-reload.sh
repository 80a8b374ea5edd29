#!/usr/bin/env bash
# bench-reload.sh - SIGHUP reload time with 1,000 instances: keepalived-rs beside Debian
# keepalived 2.2.7, in one run (crates/daemon/examples/reload_bench.rs).
#
#   scripts/bench-reload.sh [-I INSTANCES] [-r RELOADS] [-b OUR_BIN]
#
#  -I INSTANCES  VRRPv2 instances per node, over 4 segments   (default 1000)
#  -r RELOADS    reloads with the same configuration, then as many alternating with
#                a configuration that has one unrelated instance more (default 10)
#  -b BIN        our daemon (default: built here with cargo build --release)
#
# Each daemon runs on both nodes of its own namespace lab (a: priority 150, MASTER of
# every instance; b: 100), created with the lab crate (unique names, removed on exit),
# so it can run beside other labs. Figure: kill(SIGHUP) of a's parent -> its "Reload
# complete" line (log tailed every 0.5 ms). keepalived's parent logs that once its VRRP
# child has *read* the new configuration (before the differences are applied); ours
# once the child has *applied* it. Ours also logs the child's own time ("Reload
# finished in N usec"). Flaps: VIP deletions on a (ip -o monitor address) and state
# transitions logged by a and b after the initial election. Needs root.
set -u -o pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
INSTANCES=1000 RELOADS=10 BIN=""
while getopts "I:r:b:h" o; do
    case $o in I) INSTANCES=$OPTARG;; r) RELOADS=$OPTARG;; b) BIN=$OPTARG;;
               *) sed -n '2,19p' "$0"; exit 2;; esac
done
[[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
[[ -x /usr/sbin/keepalived ]] || { echo "no /usr/sbin/keepalived (apt-get install keepalived)" >&2; exit 1; }
cd "$REPO"
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
cargo build --release -q -p daemon --bin keepalived --example reload_bench || exit 1
[[ -n $BIN ]] || BIN=$TARGET/release/keepalived
echo "bench-reload: $(date -u '+%F %T') UTC, $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  keepalived: $(/usr/sbin/keepalived -v 2>&1 | head -1)   ours: $BIN ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null))"
exec "$TARGET/release/examples/reload_bench" "$INSTANCES" "$RELOADS" "$BIN"
