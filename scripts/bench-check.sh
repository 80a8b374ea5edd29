#!/usr/bin/env bash
# bench-check.sh - the checker process of keepalived-rs beside Debian keepalived
# 2.2.7's, for the same configuration, in the ipvs-vm guest (the checker needs
# ip_vs; keepalived's checker exits without it: "IPVS: Can't initialize ipvs").
#
#   scripts/bench-check.sh [-n "1000 10000"] [-l DELAY_LOOP] [-d SECONDS] [-w SECONDS]
#                          [-b KEEPALIVED] [-s SECONDS]
#
# For each N: one virtual server with N real servers (127.1.x.y:8080, all
# answered by one local HTTP server, crates/check/examples/http_sink.rs), each
# with TCP_CHECK and HTTP_GET (url / status 200), delay_loop -l (default 1 s). Each daemon
# runs `-C -n -f CONF` alone; once all N real servers are in the IPVS table it
# settles -w seconds, then the checker process's CPU (utime+stime from
# /proc/PID/stat, in % of one CPU) is measured over -d seconds, with its RSS
# (VmRSS) and peak RSS (VmHWM) at the end, and the number of live real servers
# (weight > 0) as a sanity check that the checks pass, and the checks done in the
# window (connections the HTTP server accepted: one per TCP_CHECK or HTTP_GET) as
# "checks/s" against the 2N/DELAY_LOOP asked for, and "µs/check" = CPU time per
# check done. When a checker is saturated (checks/s below what is asked), CPU % says
# little: µs/check is the figure to compare. And its thread count
# ("thr": both checkers are single-threaded, so CPU above 100 % is the guest's
# tick accounting under TCG, not work elsewhere). With -s SECONDS, each
# checker's system calls are then counted with `strace -c -f` for that long
# (after the measured window; strace slows the process) into
# RAW/strace-DAEMON-N.txt, and their total per second is printed.
#
# Needs root (the guest lab's setup installs qemu and a kernel) and
# ../shared/lab/ipvs-vm (or $IPVS_VM_LAB). The guest CPU is emulated (TCG), so
# absolute figures are far above bare metal; the comparison is what counts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

if [ "${1:-}" = --inner ]; then
	shift
	ours=$1 sink=$2 sizes=$3 duration=$4 settle=$5 out=$6 strace_secs=${7:-0} delay_loop=${8:-1}
	ulimit -n 200000
	modprobe ip_vs
	counts=$out/sink-counts
	"$sink" 8080 "$counts" &
	sink_pid=$!
	trap 'kill $sink_pid 2>/dev/null || true' EXIT
	cpu_ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
	status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
	hz=$(getconf CLK_TCK)
	connections() { cut -d' ' -f1 "$counts" 2>/dev/null || echo 0; }
	printf '%-8s %-12s %9s %9s %12s %10s %10s %10s %8s %10s %4s\n' N daemon "asked/s" "checks/s" "µs/check" "CPU %" "RSS MiB" "peak MiB" "live RS" "start s" thr
	for n in $sizes; do
		conf=$out/keepalived-$n.conf
		{
			echo 'global_defs { router_id bench }'
			echo 'virtual_server 192.0.2.100 80 {'
			echo "    delay_loop $delay_loop"
			echo '    lvs_sched rr'
			echo '    lvs_method NAT'
			echo '    protocol TCP'
			i=0
			while [ "$i" -lt "$n" ]; do
				echo "    real_server 127.1.$((i / 250)).$((i % 250 + 1)) 8080 {"
				echo '        TCP_CHECK { connect_timeout 3 }'
				echo '        HTTP_GET { url { path / status_code 200 } connect_timeout 3 }'
				echo '    }'
				i=$((i + 1))
			done
			echo '}'
		} > "$conf"
		for daemon in ours keepalived; do
			if [ "$daemon" = ours ]; then bin=$ours; else bin=/usr/sbin/keepalived; fi
			ipvsadm -C
			d=$out/$daemon-$n
			mkdir -p "$d"
			started=$(date +%s.%N)
			"$bin" -C -n -G -f "$conf" -p "$d/parent.pid" -c "$d/checkers.pid" > "$d/log" 2>&1 &
			parent=$!
			live=0
			for _ in $(seq 600); do
				live=$(ipvsadm -Ln | grep -c ' 127\.1\.' || true)
				[ "$live" -ge "$n" ] && break
				sleep 0.5
			done
			ready=$(date +%s.%N)
			checker=$(cat "$d/checkers.pid" 2>/dev/null || echo "")
			if [ -z "$checker" ] || [ ! -d "/proc/$checker" ]; then
				echo "$daemon N=$n: no checker process" >&2
				kill "$parent" 2>/dev/null || true
				wait "$parent" 2>/dev/null || true
				continue
			fi
			sleep "$settle"
			t0=$(cpu_ticks "$checker")
			c0=$(connections)
			sleep "$duration"
			t1=$(cpu_ticks "$checker")
			c1=$(connections)
			rss=$(status_kib "$checker" VmRSS)
			hwm=$(status_kib "$checker" VmHWM)
			live=$(ipvsadm -Ln | awk '/ 127\.1\./ && $4 > 0' | wc -l)
			threads=$(ls "/proc/$checker/task" | wc -l)
			printf '%-8s %-12s %9.0f %9.0f %12.1f %10.1f %10.1f %10.1f %8s %10.1f %4s\n' "$n" "$daemon" \
				"$(awk -v n="$n" -v l="$delay_loop" 'BEGIN { print 2 * n / l }')" \
				"$(awk -v a="$c0" -v b="$c1" -v d="$duration" 'BEGIN { print (b - a) / d }')" \
				"$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v x="$c0" -v y="$c1" 'BEGIN { c = y - x; print (c > 0) ? (b - a) / hz / c * 1e6 : 0 }')" \
				"$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v d="$duration" 'BEGIN { print (b - a) / hz / d * 100 }')" \
				"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" \
				"$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')" \
				"$live" \
				"$(awk -v a="$started" -v b="$ready" 'BEGIN { print b - a }')" "$threads"
			if [ "$strace_secs" -gt 0 ] && command -v strace > /dev/null; then
				trace=$out/strace-$daemon-$n.txt
				timeout -s INT "$strace_secs" strace -c -f -p "$checker" -o "$trace" 2> /dev/null || true
				sleep 1
				echo "  $daemon N=$n: $(awk -v s="$strace_secs" '$NF == "total" { print $4 / s }' "$trace") system calls/s under strace ($trace)"
			fi
			kill -TERM "$parent"
			wait "$parent" 2>/dev/null || true
		done
	done
	exit 0
fi

sizes="1000 10000" duration=20 settle=10 ours="" strace_secs=0 delay_loop=1
while getopts "n:l:d:w:b:s:" opt; do
	case $opt in
	n) sizes=$OPTARG ;;
	l) delay_loop=$OPTARG ;;
	d) duration=$OPTARG ;;
	w) settle=$OPTARG ;;
	b) ours=$OPTARG ;;
	s) strace_secs=$OPTARG ;;
	*) sed -n '2,26p' "$0"; exit 2 ;;
	esac
done
lab=${IPVS_VM_LAB:-$repo/../shared/lab/ipvs-vm}
target=${CARGO_TARGET_DIR:-$repo/target}
# One cargo invocation for both, so that the features of shared dependencies
# are unified once (separate builds rebuild each other's dependencies).
(cd "$repo" && cargo build --release -p daemon -p check --bin keepalived --example http_sink >&2)
ours=${ours:-$target/release/keepalived}
sink=$target/release/examples/http_sink
"$lab/ipvs-vm.sh" setup >&2
out=$(mktemp -d /tmp/kl-bench-check.XXXXXX)
echo "keepalived-rs: $ours ($(cd "$repo" && git rev-parse --short HEAD)); keepalived: $(/usr/sbin/keepalived -v 2>&1 | head -1)"
echo "guest: ipvs-vm (TCG), 2 vCPUs, 2048 MiB; N=\"$sizes\", delay_loop ${delay_loop}s, settle ${settle}s, window ${duration}s; raw output in $out"
cd "$repo"
IPVS_VM_TIMEOUT=${IPVS_VM_TIMEOUT:-1800} "$lab/ipvs-vm.sh" --smp 2 --mem 2048 --share "$out" -- \
	bash "$here/bench-check.sh" --inner "$ours" "$sink" "$sizes" "$duration" "$settle" "$out" "$strace_secs" "$delay_loop"
