#!/usr/bin/env bash
# Runs the IPVS kernel tests against a real ip_vs: crates/ipvs/tests/vm.rs
# (the client), crates/lvs/tests/vm.rs (reconciliation: keepalived 2.2.7
# as oracle, reload counters, NAT traffic between namespaces) and
# crates/daemon/tests/checker_vm.rs (the checker process beside keepalived
# 2.2.7: real servers going down and up, quorum, sorry server, notify scripts). Builds the
# test binaries on the host and runs them in one ipvs-vm guest boot (Debian
# 6.1 kernel under QEMU), where the tests are required not to skip.
#   crates/ipvs/run-vm-tests.sh [-- TEST-BINARY-ARGS...]
# Needs root (the lab's setup installs qemu and a kernel; idempotent).
# The lab is looked up in $IPVS_VM_LAB, else <repo>/../shared/lab/ipvs-vm.
# Exit status: the tests'; 0 with a SKIPPED line when the lab is missing
# (set IPVS_VM_TESTS_REQUIRED=1 to make that a failure); 124/125 as ipvs-vm.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
lab=${IPVS_VM_LAB:-$repo/../shared/lab/ipvs-vm}
if [ ! -x "$lab/ipvs-vm.sh" ] || [ ! -x "$lab/cargo-vm-test.sh" ]; then
	echo "run-vm-tests: SKIPPED: no ipvs-vm lab at $lab (set IPVS_VM_LAB)" >&2
	[ -z "${IPVS_VM_TESTS_REQUIRED:-}" ] || exit 1
	exit 0
fi
args=()
if [ "${1:-}" = -- ]; then shift; args=("$@"); fi
SECONDS=0
"$lab/ipvs-vm.sh" setup >&2
# The lvs traffic tests fetch over HTTP with curl in the guest (it uses the
# host's root file system).
if ! command -v curl >/dev/null; then
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl </dev/null; } >&2
fi
# The guest shares the repository read-write at the same path; the test
# binary must be visible there (any host path is, read-only).
cd "$repo"
export IPVS_VM_TESTS_REQUIRED=1
# One generous VM timeout: tests take ~1 min under TCG on a busy host.
export IPVS_VM_TIMEOUT=${IPVS_VM_TIMEOUT:-600}
status=0
"$lab/cargo-vm-test.sh" -p ipvs -p lvs -p daemon --test vm --test checker_vm -- "${args[@]+"${args[@]}"}" || status=$?
echo "run-vm-tests: exit $status after ${SECONDS} s (setup, build and VM run)" >&2
exit $status
