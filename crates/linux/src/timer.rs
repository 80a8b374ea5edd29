//! A precise one-shot deadline timer for the VRRP event loop.
//!
//! tokio's timer wheel has millisecond slots and rounds every deadline up to the next
//! one, and its epoll wait is in milliseconds too: a Master_Down_Timer fired by it is
//! 1–2 ms late. VRRP at `advert_int 0.01` needs better. A `timerfd` armed with an
//! absolute `CLOCK_MONOTONIC` deadline wakes the reactor within the kernel's timer
//! slack (50 µs by default) — keepalived's own scheduler does the same with a timerfd.
//!
//! Time is counted in microseconds since the [`DeadlineTimer`]'s epoch, which is what
//! the sans-IO state machine works with (`vrrp::router::Timestamp`).

use std::io;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{
    ClockId as TimerClock, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags,
};
use nix::time::{ClockId, clock_gettime};
use tokio::io::unix::AsyncFd;

use crate::sys::TimerIo;

/// Microseconds on `CLOCK_MONOTONIC` since an epoch, plus a timer on the same clock.
pub struct DeadlineTimer {
    epoch: TimeSpec,
    fd: AsyncFd<TimerIo>,
    /// The deadline the kernel timer is armed for (µs since the epoch), if any.
    armed: Option<u64>,
}

impl std::fmt::Debug for DeadlineTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadlineTimer")
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

fn io_error(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

const NANOS_PER_MICRO: i64 = 1_000;
const MICROS_PER_SEC: u64 = 1_000_000;

impl DeadlineTimer {
    /// A timer whose epoch is now. Needs a tokio runtime with I/O enabled.
    pub fn new() -> io::Result<Self> {
        let epoch = clock_gettime(ClockId::CLOCK_MONOTONIC).map_err(io_error)?;
        let fd = TimerFd::new(
            TimerClock::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(io_error)?;
        Ok(Self {
            epoch,
            fd: crate::sys::register_timer(fd)?,
            armed: None,
        })
    }

    /// Microseconds since the epoch (saturating; the clock cannot fail on Linux, but
    /// if it did, the epoch is returned rather than a panic).
    pub fn now_micros(&self) -> u64 {
        let Ok(now) = clock_gettime(ClockId::CLOCK_MONOTONIC) else {
            return 0;
        };
        let elapsed = now - self.epoch;
        let micros =
            elapsed.tv_sec() as i128 * 1_000_000 + i128::from(elapsed.tv_nsec() / NANOS_PER_MICRO);
        u64::try_from(micros).unwrap_or(0)
    }

    /// The absolute `CLOCK_MONOTONIC` time of `micros` since the epoch.
    fn absolute(&self, micros: u64) -> TimeSpec {
        let secs = i64::try_from(micros / MICROS_PER_SEC).unwrap_or(i64::MAX / 2);
        let nanos = i64::try_from(micros % MICROS_PER_SEC).unwrap_or(0) * NANOS_PER_MICRO;
        self.epoch + TimeSpec::new(secs, nanos)
    }

    /// Makes the timer fire no later than `deadline` (µs since the epoch). A deadline
    /// already in the past fires at once.
    ///
    /// Lazily: a later deadline (or none) keeps the earlier one armed, and the caller
    /// sees an early wake-up with nothing due, then arms again. A BACKUP pushes its
    /// Master_Down deadline later on every advert, and with many instances the
    /// earliest deadline moves on almost every packet: re-arming each time cost a
    /// system call per advert, where this costs one spare wake-up per
    /// Master_Down_Interval.
    pub fn arm(&mut self, deadline: Option<u64>) -> io::Result<()> {
        let Some(at) = deadline else {
            return Ok(());
        };
        if self.armed.is_some_and(|armed| armed <= at) {
            return Ok(());
        }
        self.fd
            .get_ref()
            .0
            .set(
                Expiration::OneShot(self.absolute(at)),
                TimerSetTimeFlags::TFD_TIMER_ABSTIME,
            )
            .map_err(io_error)?;
        self.armed = Some(at);
        Ok(())
    }

    /// Waits until the armed deadline has passed (forever when none is). Cancel-safe:
    /// dropping the future leaves the timer armed.
    pub async fn expired(&mut self) -> io::Result<()> {
        if self.armed.is_none() {
            return std::future::pending().await;
        }
        loop {
            let mut guard = self.fd.readable().await?;
            // Reading consumes the expiration; EAGAIN means the readiness was stale (the
            // timer was re-armed since), so wait again.
            match guard.try_io(|fd| fd.get_ref().0.wait().map_err(io_error)) {
                Ok(Ok(())) => {
                    // The read consumed the one-shot expiration: the timer cannot be
                    // readable again before it is re-armed. Without this the readiness
                    // stays set, and the next wait begins with a read that fails with
                    // EAGAIN, a wasted system call per expiry.
                    guard.clear_ready();
                    self.armed = None;
                    return Ok(());
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_at_the_deadline_and_not_before() {
        let Ok(mut timer) = DeadlineTimer::new() else {
            panic!("timerfd unavailable");
        };
        // A deadline between tokio's millisecond slots.
        let deadline = timer.now_micros() + 20_350;
        timer.arm(Some(deadline)).expect("arm");
        timer.expired().await.expect("wait");
        let now = timer.now_micros();
        // How late it wakes is the benchmark's business (scripts/bench-vrrp.sh).
        assert!(now >= deadline, "woke {} µs early", deadline - now);
    }

    #[tokio::test]
    async fn past_deadline_fires_at_once_and_rearm_replaces() {
        let Ok(mut timer) = DeadlineTimer::new() else {
            panic!("timerfd unavailable");
        };
        timer.arm(Some(10_000_000)).expect("arm far");
        let now = timer.now_micros();
        timer.arm(Some(now)).expect("arm past");
        timer.expired().await.expect("wait");
        assert!(timer.now_micros() < 10_000_000);
        // Nothing armed: waiting never completes.
        timer.arm(None).expect("nothing");
        let waited = tokio::time::timeout(std::time::Duration::from_millis(30), timer.expired());
        assert!(waited.await.is_err());
        // A later deadline keeps the earlier one armed (lazy re-arming).
        let soon = timer.now_micros() + 5_000;
        timer.arm(Some(soon)).expect("arm soon");
        timer.arm(Some(soon + 10_000_000)).expect("arm later");
        timer.expired().await.expect("wait");
        assert!(timer.now_micros() >= soon);
        assert!(timer.now_micros() < soon + 10_000_000);
    }
}
