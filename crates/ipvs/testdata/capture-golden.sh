#!/usr/bin/env bash
# Capture the exact generic-netlink requests that ipvsadm (libipvs) sends, as
# golden bytes for tests/golden.rs. Runs as root where ip_vs is available
# (e.g. inside the ipvs-vm guest):
#   /work/shared/lab/ipvs-vm/ipvs-vm.sh --timeout 600 -- crates/ipvs/testdata/capture-golden.sh > crates/ipvs/testdata/ipvsadm-golden.txt
# Output, one block per case: "case NAME", "cmd ipvsadm ARGS", "flags F" and
# "payload HEX" (genl header + attributes, i.e. the netlink message minus its
# 16-byte nlmsghdr, whose seq/pid vary). The last IPVS message of each run is
# the one under test (earlier ones are libipvs's GET_INFO probe).
set -euo pipefail
modprobe ip_vs
ipvsadm -C
# The sync daemon needs a multicast-capable interface with an address.
ip link add ipvssync0 type dummy
ip link set ipvssync0 multicast on up
ip addr add 192.0.2.1/24 dev ipvssync0

capture() {
	local name=$1
	shift
	local trace
	trace=$(strace -f -e trace=sendmsg -s 4096 -xx ipvsadm "$@" 2>&1 >/dev/null) || {
		echo "capture $name failed: ipvsadm $*" >&2
		echo "$trace" >&2
		exit 1
	}
	local line
	line=$(printf '%s\n' "$trace" | grep 'nlmsg_type=IPVS' | tail -n 1)
	local flags payload
	flags=$(printf '%s\n' "$line" | sed -n 's/.*nlmsg_flags=\([^,]*\),.*/\1/p')
	payload=$(printf '%s\n' "$line" | sed -n 's/.*}, "\([^"]*\)"].*/\1/p' | sed 's/\\x//g')
	[ -n "$payload" ] || { echo "capture $name: no payload in: $line" >&2; exit 1; }
	printf 'case %s\ncmd ipvsadm %s\nflags %s\npayload %s\n\n' "$name" "$*" "$flags" "$payload"
}

capture svc_add_tcp4_rr -A -t 10.0.0.1:80 -s rr
capture svc_add_udp4_persistent -A -u 10.0.0.1:53 -s wlc -p 300 -M 255.255.255.0
capture svc_add_sctp4 -A --sctp-service 10.0.0.2:9000 -s lc
capture svc_add_fwmark4_sh_flags -A -f 42 -s sh -b sh-fallback,sh-port
capture svc_add_fwmark6_mh -A -f 43 -6 -s mh -b mh-fallback,mh-port -p 60 -M 64
capture svc_add_tcp6_wrr -A -t '[2001:db8::1]:443' -s wrr
capture svc_add_udp4_ops_pe -A -u 10.0.0.3:5060 -s rr -o -p 100 --pe sip
capture svc_edit_tcp4 -E -t 10.0.0.1:80 -s wlc -p 120
capture dest_add_route -a -t 10.0.0.1:80 -r 127.0.0.2:80 -g -w 1
capture dest_add_masq_thresholds -a -t 10.0.0.1:80 -r 127.0.0.3:8080 -m -w 5 -x 100 -y 10
capture dest_add_tun_ipip -a -t 10.0.0.1:80 -r 127.0.0.4 -i -w 2
capture dest_add_tun_gue -a -t 10.0.0.1:80 -r 127.0.0.5 -i --tun-type gue --tun-port 6080 --tun-csum
capture dest_add_tun_gre -a -t 10.0.0.1:80 -r 127.0.0.6 -i --tun-type gre --tun-csum
capture dest_add_tcp6_masq -a -t '[2001:db8::1]:443' -r '[2001:db8::10]:443' -m -w 3
capture dest_add_fwmark_route -a -f 42 -r 127.0.0.7 -g -w 0
capture dest_edit_masq -e -t 10.0.0.1:80 -r 127.0.0.3:8080 -m -w 7
capture dest_get_dump -Ln -t 10.0.0.1:80
capture dest_del -d -t 10.0.0.1:80 -r 127.0.0.3:8080
capture zero_service -Z -t 10.0.0.1:80
capture zero_all -Z
capture timeouts_set --set 900 120 300
capture timeouts_get -Ln --timeout
capture daemon_start_master --start-daemon master --mcast-interface ipvssync0 --syncid 5
capture daemon_start_backup_full --start-daemon backup --mcast-interface ipvssync0 --syncid 7 --sync-maxlen 1400 --mcast-group 224.0.0.82 --mcast-port 8849 --mcast-ttl 2
capture daemon_get -Ln --daemon
capture daemon_stop_master --stop-daemon master
capture daemon_stop_backup --stop-daemon backup
capture svc_del_tcp4 -D -t 10.0.0.1:80
capture svc_del_fwmark6 -D -f 43 -6
capture flush -C
