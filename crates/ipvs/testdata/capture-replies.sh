#!/usr/bin/env bash
# Capture the kernel's generic-netlink replies to ipvsadm's GET requests, as
# golden input for the decoders (tests/golden.rs). Runs as root where ip_vs
# is available, e.g. inside the ipvs-vm guest:
#   /work/shared/lab/ipvs-vm/ipvs-vm.sh --timeout 600 -- crates/ipvs/testdata/capture-replies.sh > crates/ipvs/testdata/kernel-replies.txt
# Output, one block per listing: "reply NAME", "cmd ipvsadm ARGS", then one
# "message HEX" line per IPVS netlink message received (genl header +
# attributes, without the nlmsghdr).
set -euo pipefail
modprobe ip_vs
ipvsadm -C
ip link add ipvssync0 type dummy
ip link set ipvssync0 multicast on up
ip addr add 192.0.2.1/24 dev ipvssync0

ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.2:80 -g -w 1
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.3:8080 -m -w 5 -x 100 -y 10
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.4 -i -w 2
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.5 -i --tun-type gue --tun-port 6080 --tun-csum
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.6 -i --tun-type gre --tun-csum -w 0
ipvsadm -A -f 43 -6 -s mh -b mh-fallback,mh-port -p 60 -M 64
ipvsadm -A -u 10.0.0.3:5060 -s rr -o -p 100 --pe sip
ipvsadm -A -t '[2001:db8::1]:443' -s wrr
ipvsadm -a -t '[2001:db8::1]:443' -r '[2001:db8::10]:443' -m -w 3
ipvsadm -a -t '[2001:db8::1]:443' -r 192.0.2.10 -i -w 4
ipvsadm --set 1000 60 200

capture() {
	local name=$1
	shift
	local trace
	trace=$(strace -f -e trace=recvmsg -s 65536 -xx ipvsadm "$@" 2>&1 >/dev/null) || {
		echo "capture $name failed: ipvsadm $*" >&2
		echo "$trace" >&2
		exit 1
	}
	printf 'reply %s\ncmd ipvsadm %s\n' "$name" "$*"
	# Skip the MSG_PEEK calls (the same datagram is then read for real).
	printf '%s\n' "$trace" | grep '^recvmsg' | grep -v 'MSG_PEEK' \
		| grep -o 'nlmsg_type=IPVS, [^}]*}, "[^"]*"' \
		| sed 's/.*}, "\([^"]*\)"/message \1/; s/\\x//g'
	printf '\n'
}

capture info_and_services -Ln
capture service_tcp4_with_dests -Ln -t 10.0.0.1:80
capture service_tcp6_mixed_dests -Ln -t '[2001:db8::1]:443'
capture timeouts -Ln --timeout
# Sync daemons refuse to start while mixed-family real servers exist.
ipvsadm -d -t '[2001:db8::1]:443' -r 192.0.2.10
ipvsadm --start-daemon master --mcast-interface ipvssync0 --syncid 5
ipvsadm --start-daemon backup --mcast-interface ipvssync0 --syncid 7 --sync-maxlen 1400 --mcast-group 224.0.0.82 --mcast-port 8849 --mcast-ttl 2
capture daemons -Ln --daemon
ipvsadm --stop-daemon master
ipvsadm --stop-daemon backup
ipvsadm -C
