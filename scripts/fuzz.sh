#!/usr/bin/env bash
# Builds the fuzzing seed corpora from files already in the repository (and from
# ../shared/corpus for the configuration), then runs every cargo-fuzz target for a
# while, one libFuzzer process each (no -jobs/-fork: the machine is shared). See
# docs/fuzzing.md.
#
#   scripts/fuzz.sh seeds               # only (re)build the seed directories
#   scripts/fuzz.sh run [SECONDS] [TARGET...]
#                                       # seeds + run each target (default 300 s;
#                                       # targets: vrrp config ipvs check)
#
# Seeds and the growing corpora live under $FUZZ_DIR (default: target/fuzz-work),
# never in the repository. Needs a nightly toolchain and cargo-fuzz.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${FUZZ_DIR:-$repo/target/fuzz-work}
shared_corpus=${SHARED_CORPUS:-$repo/../shared/corpus}

# tcpdump -XX hex dump -> one binary file per packet, Ethernet header cut and
# IPv6's header too (the IPv6 socket hands over the VRRP message only), each
# prefixed with the decode target's flag byte.
tcpdump_packets() { # FILE FLAGS OUTDIR
    python3 - "$1" "$2" "$3" <<'EOF'
import sys, re, os, pathlib
path, flags, out = sys.argv[1], int(sys.argv[2], 0), sys.argv[3]
packets, cur = [], None
for line in open(path):
    m = re.match(r'\s+0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s?)+)', line)
    if m:
        if m.group(1) == '0000':
            cur = bytearray(); packets.append(cur)
        hexpart = line.split(':', 1)[1][:42]
        cur.extend(bytes.fromhex(''.join(hexpart.split())))
name = pathlib.Path(path).stem
for i, p in enumerate(packets[:8]):
    ethertype = p[12:14]
    body = p[14 + 40:] if ethertype == b'\x86\xdd' else p[14:]
    with open(os.path.join(out, f'{name}-{i}'), 'wb') as f:
        f.write(bytes([flags]) + body)
EOF
}

hex_lines() { # FILE KEY OUTDIR PREFIX
    local n=0
    grep "^$2 " "$1" | while read -r _ hex; do
        n=$((n + 1))
        echo "$hex" | xxd -r -p >"$3/$4-$n"
    done
}

build_seeds() {
    rm -rf "$work/seeds"
    mkdir -p "$work/seeds"/{vrrp,config,ipvs,check}

    # VRRP: real captures of keepalived 2.2.7 (crates/vrrp/tests/fixtures). Flag byte:
    # bits 6-7 auth (0 none, 1 PASS, 2 AH), bit 0 VRRPv3, bit 1 unicast.
    local fixtures=$repo/crates/vrrp/tests/fixtures
    tcpdump_packets "$fixtures/keepalived-v2-pass-hex.txt" 0x40 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v2-pass-long-3vips-hex.txt" 0x44 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v2-ah-hex.txt" 0x80 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v2-ah-unicast-hex.txt" 0x82 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v3-ipv6-hex.txt" 0x01 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v3-unicast-hex.txt" 0x03 "$work/seeds/vrrp"
    tcpdump_packets "$fixtures/keepalived-v3-unicast-old-checksum-hex.txt" 0x23 "$work/seeds/vrrp"

    # Configuration: the shared corpus (keepalived's own samples and test files),
    # plus the repository's examples and fixtures.
    if [ -d "$shared_corpus" ]; then
        find "$shared_corpus" -type f -size -64k -print0 |
            while IFS= read -r -d '' f; do
                cp "$f" "$work/seeds/config/$(echo "$f" | md5sum | cut -c1-16)"
            done
    else
        echo "note: $shared_corpus not found; config seeds from the repository only" >&2
    fi
    cp "$repo"/examples/*.conf "$fixtures"/*.conf "$work/seeds/config/"
    # A libFuzzer dictionary for config: every word the keyword tables and the reader
    # compare against (keywords, option values, preprocessor words), plus the syntax.
    # Finding ~900 keywords by mutation alone takes libFuzzer hours.
    {
        grep -rhoE '"[a-zA-Z_@!~$][a-zA-Z0-9_.-]{1,40}"' \
            "$repo"/crates/config/src/keywords "$repo"/crates/config/src/reader* \
            "$repo"/crates/config/src/parser.rs | sort -u
        printf '"%s"\n' '{' '}' '~SEQ(' '$' '@^' 'include ' '\x0a'
    } >"$work/seeds/config.dict"

    # IPVS: kernel replies captured with strace and ipvsadm's requests (genl payloads).
    hex_lines "$repo/crates/ipvs/testdata/kernel-replies.txt" message "$work/seeds/ipvs" reply
    hex_lines "$repo/crates/ipvs/testdata/ipvsadm-golden.txt" payload "$work/seeds/ipvs" request

    # Checkers: selector byte (bits 0-1: 0/1 HTTP, 2 SMTP, 3 DNS; the rest the read size).
    local c=$work/seeds/check
    printf '\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello' >"$c/http-200"
    printf '\x41HTTP/1.0 302 Found\r\nLocation: /\r\ncontent-length:  12 \r\n\r\n<html></html>extra' >"$c/http-302"
    printf '\xfdHTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' >"$c/http-chunked"
    printf '\x02220 mail.example.org ESMTP Postfix\r\n250 mail.example.org\r\n221 2.0.0 Bye\r\n' >"$c/smtp-ok"
    printf '\x06220-first\r\n220 second\r\n' >"$c/smtp-multiline"
    # A DNS response: id 0x1234, QR RD RA, one question example.org A, one answer.
    printf '\x03' >"$c/dns-a"
    echo '123481800001000100000000076578616d706c65036f72670000010001c00c000100010000012c0004c0000201' |
        xxd -r -p >>"$c/dns-a"
    printf '\x03' >"$c/dns-nxdomain"
    echo '123481830001000000000000076578616d706c65036f72670000010001' | xxd -r -p >>"$c/dns-nxdomain"

    for t in vrrp config ipvs check; do
        echo "seeds/$t: $(find "$work/seeds/$t" -type f | wc -l) files"
    done
}

# target name -> crate directory and cargo-fuzz target
fuzz_dir() { case $1 in vrrp) echo crates/vrrp/fuzz ;; config) echo crates/config/fuzz ;; ipvs) echo crates/ipvs/fuzz ;; check) echo crates/check/fuzz ;; esac; }
fuzz_bin() { case $1 in vrrp) echo decode ;; config) echo parse ;; ipvs) echo decode ;; check) echo responses ;; esac; }

run_target() { # NAME SECONDS
    local name=$1 seconds=$2 dir bin corpus log
    dir=$repo/$(fuzz_dir "$name")
    bin=$(fuzz_bin "$name")
    corpus=$work/corpus/$name
    log=$work/$name.log
    mkdir -p "$corpus" "$work/artifacts/$name"
    echo "== $name ($bin): ${seconds}s, log $log"
    # No sanitizer: the fuzzed code is safe Rust (the only `unsafe` is linux::sys,
    # which no target reaches), so AddressSanitizer only slows each execution.
    # config: inputs beyond 2 KiB add no new grammar, only longer ~SEQ expansions.
    local max_len=8192
    local dict=()
    [ "$name" = config ] && max_len=2048 && dict=(-dict="$work/seeds/config.dict")
    (cd "$dir" && cargo +nightly fuzz run -s none "$bin" "$corpus" "$work/seeds/$name" -- \
        "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" -timeout=60 \
        -artifact_prefix="$work/artifacts/$name/" -print_final_stats=1) >"$log" 2>&1 || {
        echo "!! $name stopped with a failure: see $log and $work/artifacts/$name/"
    }
    # libFuzzer's last status line and its final counters.
    grep -E '^#[0-9]+' "$log" | tail -1 || true
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$log" || true
}

case ${1:-run} in
seeds) build_seeds ;;
run)
    seconds=${2:-300}
    shift $(($# > 2 ? 2 : $#))
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=(vrrp config ipvs check)
    build_seeds
    for t in "${targets[@]}"; do run_target "$t" "$seconds"; done
    ;;
*)
    echo "usage: $0 seeds | run [SECONDS] [vrrp|config|ipvs|check ...]" >&2
    exit 2
    ;;
esac
