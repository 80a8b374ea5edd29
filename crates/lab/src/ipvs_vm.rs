//! The gate of the kernel IPVS tests (`crates/ipvs/tests/vm.rs`,
//! `crates/lvs/tests/vm.rs`). They flush the IPVS table, so they run only
//! inside the ipvs-vm guest (`IPVS_VM=1`, see `crates/ipvs/run-vm-tests.sh`)
//! or with `IPVS_TESTS_ALLOW_HOST=1`; elsewhere each test prints why it
//! skipped. `IPVS_VM_TESTS_REQUIRED=1` turns a skip into a failure.

use std::fmt::Display;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The tests share one kernel table: one at a time.
static KERNEL: Mutex<()> = Mutex::new(());

/// One kernel test holding the table: its IPVS handle, the lock that
/// serialises it with the other tests, and its timing (printed on drop).
pub struct VmTest<T> {
    pub ipvs: T,
    name: String,
    started: Instant,
    _serial: MutexGuard<'static, ()>,
}

/// Takes the kernel table for `test` and connects with `connect`; `None`
/// (after a note on stderr) when the test must skip.
///
/// # Panics
/// Instead of skipping, when `IPVS_VM_TESTS_REQUIRED` is set.
pub fn enter<T, E: Display>(
    test: &str,
    connect: impl FnOnce() -> Result<T, E>,
) -> Option<VmTest<T>> {
    let serial = KERNEL.lock().unwrap_or_else(PoisonError::into_inner);
    let required = std::env::var_os("IPVS_VM_TESTS_REQUIRED").is_some();
    let allowed = std::env::var("IPVS_VM").as_deref() == Ok("1")
        || std::env::var("IPVS_TESTS_ALLOW_HOST").as_deref() == Ok("1");
    if !allowed {
        assert!(
            !required,
            "{test}: IPVS_VM_TESTS_REQUIRED but not in the VM"
        );
        skip_note(&format!(
            "skipping {test}: not inside the ipvs-vm guest (IPVS_VM unset); these tests flush \
             the IPVS table, set IPVS_TESTS_ALLOW_HOST=1 to run them on this host anyway"
        ));
        return None;
    }
    match connect() {
        Ok(ipvs) => Some(VmTest {
            ipvs,
            name: test.to_string(),
            started: Instant::now(),
            _serial: serial,
        }),
        Err(e) => {
            assert!(!required, "{test}: IPVS unavailable: {e}");
            skip_note(&format!("skipping {test}: IPVS unavailable: {e}"));
            None
        }
    }
}

/// Written to the real stderr: libtest captures `eprintln!` of passing tests,
/// and a skip must be visible.
fn skip_note(note: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{note}");
}

impl<T> Drop for VmTest<T> {
    fn drop(&mut self) {
        // Captured by libtest (shown on failure or with --nocapture): the
        // real stderr would interleave with the harness summary in the VM.
        eprintln!("vm test {}: {:.2?}", self.name, self.started.elapsed());
    }
}
