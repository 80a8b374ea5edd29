#!/usr/bin/env bash
# The whole test suite, on a fresh machine, as root, with no stdin.
# Installs what the tests need (Debian's keepalived is the oracle and the interop peer).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in keepalived iproute2 tcpdump iputils-ping; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
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
