#!/usr/bin/env bash
# The whole test suite, on a fresh machine, as root, with no stdin.
# Installs what the tests need (Debian's keepalived is the oracle and the interop peer).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# keepalived: the oracle and interop peer (and /usr/bin/genhash); frr: vrrpd interop;
# nginx/openssl/dnsmasq/postfix: real servers for the health checkers; prometheus:
# promtool checks the metrics endpoint.
need=()
for pkg in keepalived iproute2 tcpdump iputils-ping frr nginx-light openssl dnsmasq-base postfix prometheus; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
    echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" </dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo build --release"
cargo build --release --workspace
echo "== cargo test"
cargo test --workspace --release
echo "== IPVS tests in a guest kernel with ip_vs (this machine's kernel has none)"
IPVS_VM_TESTS_REQUIRED=1 ./crates/ipvs/run-vm-tests.sh
