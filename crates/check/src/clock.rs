//! The checkers' clock: the monotonic clock at the kernel's tick resolution
//! (`CLOCK_MONOTONIC_COARSE`), as a tokio [`Instant`].
//!
//! Each check reads the time when it starts (its deadline) and when it ends
//! (the next run). `CLOCK_MONOTONIC` is a system call wherever the vDSO cannot
//! read the clock source itself (QEMU TCG guests, some hypervisors), which at
//! 20,000 checks a second is a visible share of the checker's CPU; the coarse
//! clock is always answered from the vDSO data page. One tick (1–10 ms) of
//! error is far below the checkers' timeouts and loops, and keepalived itself
//! times its checker threads from a time read once per event-loop turn
//! (`set_time_now` in `thread_fetch_next_queue`).

use std::sync::OnceLock;
use std::time::Duration;

use nix::time::{ClockId, clock_gettime};
use tokio::time::Instant;

/// The same moment on both clocks: fine `Instant` and coarse reading.
struct Anchor {
    instant: Instant,
    coarse: Duration,
}

fn coarse() -> Option<Duration> {
    let now = clock_gettime(ClockId::CLOCK_MONOTONIC_COARSE).ok()?;
    let seconds = u64::try_from(now.tv_sec()).ok()?;
    let nanos = u32::try_from(now.tv_nsec()).ok()?;
    Some(Duration::new(seconds, nanos))
}

/// Now, to the kernel's tick (falls back to [`Instant::now`] if the coarse
/// clock cannot be read).
pub fn now() -> Instant {
    static ANCHOR: OnceLock<Option<Anchor>> = OnceLock::new();
    let anchor = ANCHOR.get_or_init(|| {
        coarse().map(|coarse| Anchor {
            instant: Instant::now(),
            coarse,
        })
    });
    match (anchor, coarse()) {
        // Both clocks are CLOCK_MONOTONIC; the coarse one only lags by up to a
        // tick, so the distance travelled on it maps onto the fine one.
        (Some(anchor), Some(coarse)) => anchor.instant + coarse.saturating_sub(anchor.coarse),
        _ => Instant::now(),
    }
}

/// The coarse clock's resolution (one kernel tick), read once.
fn tick() -> Duration {
    static TICK: OnceLock<Duration> = OnceLock::new();
    *TICK.get_or_init(|| {
        nix::time::clock_getres(ClockId::CLOCK_MONOTONIC_COARSE)
            .ok()
            .and_then(|res| {
                let seconds = u64::try_from(res.tv_sec()).ok()?;
                let nanos = u32::try_from(res.tv_nsec()).ok()?;
                Some(Duration::new(seconds, nanos))
            })
            .unwrap_or(Duration::from_millis(10))
    })
}

/// The moment `timeout` from now, never early: [`now`] may lag the fine clock by up
/// to a tick, so one tick is added (a timeout ends up to one tick late instead of up
/// to one tick early). `None` past the end of time.
pub fn deadline_after(timeout: Duration) -> Option<Instant> {
    now().checked_add(timeout)?.checked_add(tick())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_fine_clock_within_a_tick() {
        // Ticks are at most 10 ms (HZ = 100); allow scheduling noise.
        let slack = Duration::from_millis(50);
        for _ in 0..3 {
            let fine = Instant::now();
            let approx = now();
            let gap = if approx > fine {
                approx - fine
            } else {
                fine - approx
            };
            assert!(gap < slack, "coarse clock off by {gap:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let before = now();
        std::thread::sleep(Duration::from_millis(100));
        assert!(now() >= before + Duration::from_millis(80));
    }

    #[test]
    fn a_deadline_is_never_before_the_timeout_on_the_fine_clock() {
        for _ in 0..50 {
            let fine = Instant::now();
            let deadline = deadline_after(Duration::from_millis(300)).expect("deadline");
            assert!(deadline >= fine + Duration::from_millis(300));
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
