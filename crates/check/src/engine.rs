//! The checker timing state machine, without I/O or a clock of its own: time is
//! passed in as a [`Duration`] since an arbitrary origin, so tests drive it with
//! a virtual clock and the tokio driver with `Instant::elapsed`.
//!
//! keepalived (`check_api.c` `register_checkers_thread`, `check_tcp.c`
//! `tcp_epilog`, the same pattern in every checker):
//! * the first run is `BOOTSTRAP_DELAY` (1 s) plus a random delay in `[0, warmup]`
//!   after start;
//! * success: the checker is up; the next run is `delay_loop` later;
//! * failure: retried `retry` times, `delay_before_retry` apart; only when the
//!   retries are used up is the checker reported down, then the next run is
//!   `delay_loop` later;
//! * a checker in `alpha` mode starts down, the others start up;
//! * a real server is alive only when all its checkers are up
//!   (`update_svr_checker_state` counts failed checkers).

use std::time::Duration;

use config::model::lvs::Checker;

/// keepalived's BOOTSTRAP_DELAY (one TIMER_HZ).
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);
/// keepalived's KEEPALIVED_DEFAULT_DELAY, used only if validation left delay_loop unset.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived's default connect_timeout (5 s), used only if validation left it unset.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The timing settings of one checker, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub delay_loop: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub warmup: Duration,
    pub alpha: bool,
    /// Fixed part of the first delay (keepalived: BOOTSTRAP_DELAY).
    pub bootstrap: Duration,
    /// Total deadline of one check (connect + request + response).
    pub timeout: Duration,
}

impl Timing {
    /// Timing of a validated checker. Validation resolves the inheritance chain
    /// (checker → real server → virtual server → per-kind default); the
    /// fallbacks here only cover an unvalidated model.
    pub fn of(checker: &Checker) -> Timing {
        let common = &checker.common;
        let delay_loop = common
            .delay_loop_us
            .map(Duration::from_micros)
            .unwrap_or(DEFAULT_DELAY_LOOP);
        let delay_before_retry = common
            .delay_before_retry_us
            .or(checker.kind.default_delay_before_retry_us())
            .map(Duration::from_micros)
            .unwrap_or(delay_loop);
        Timing {
            delay_loop,
            retry: common.retry.unwrap_or(checker.kind.default_retry()),
            delay_before_retry,
            // keepalived: warmup unset (ULONG_MAX) means "the delay_loop".
            warmup: common
                .warmup_us
                .map(Duration::from_micros)
                .unwrap_or(delay_loop),
            alpha: common.alpha.unwrap_or(false),
            bootstrap: BOOTSTRAP_DELAY,
            timeout: common
                .connect_timeout_us
                .map(Duration::from_micros)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        }
    }
}

/// A change of a checker's reported state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Up,
    /// Down after `retries` retries failed (0 when none were configured).
    Down {
        retries: u32,
    },
}

/// One checker's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerState {
    timing: Timing,
    is_up: bool,
    has_run: bool,
    retries_done: u32,
    next_run: Duration,
}

impl CheckerState {
    /// A checker started at `now`; `warmup_fraction` in `[0, 1]` picks the random
    /// part of the first delay (keepalived: `warmup * random() / RAND_MAX`).
    pub fn new(timing: Timing, now: Duration, warmup_fraction: f64) -> CheckerState {
        let fraction = if warmup_fraction.is_finite() {
            warmup_fraction.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let warmup = timing.warmup.mul_f64(fraction);
        CheckerState {
            timing,
            is_up: !timing.alpha,
            has_run: false,
            retries_done: 0,
            next_run: now.saturating_add(timing.bootstrap).saturating_add(warmup),
        }
    }

    /// A checker restarted by a reload with the state it had (keepalived keeps
    /// `is_up` and `has_run` of an unchanged checker and schedules it afresh).
    pub fn resumed(
        timing: Timing,
        now: Duration,
        warmup_fraction: f64,
        is_up: bool,
    ) -> CheckerState {
        let mut state = CheckerState::new(timing, now, warmup_fraction);
        state.is_up = is_up;
        state.has_run = true;
        state
    }

    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Whether the checker currently counts as up.
    pub fn is_up(&self) -> bool {
        self.is_up
    }

    /// When the next check should start.
    pub fn next_run(&self) -> Duration {
        self.next_run
    }

    /// Whether a retry is pending (the last check failed, retries remain).
    pub fn retrying(&self) -> bool {
        self.retries_done > 0
    }

    /// Records the result of a check that finished at `now`; returns the reported
    /// transition, if any, and schedules the next run.
    pub fn record(&mut self, now: Duration, success: bool) -> Option<Transition> {
        let mut transition = None;
        let delay;
        if success || self.retries_done >= self.timing.retry {
            delay = self.timing.delay_loop;
            let retries = self.retries_done;
            self.retries_done = 0;
            // keepalived reports the first result even when it does not change
            // the state (`!has_run`), so a fresh checker always settles.
            if success && (!self.is_up || !self.has_run) {
                self.is_up = true;
                transition = Some(Transition::Up);
            } else if !success && (self.is_up || !self.has_run) {
                self.is_up = false;
                transition = Some(Transition::Down { retries });
            }
        } else {
            delay = self.timing.delay_before_retry;
            self.retries_done += 1;
        }
        self.has_run = true;
        self.next_run = now.saturating_add(delay);
        transition
    }
}

/// The checkers of one real server: alive only when every checker is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServerHealth {
    up: Vec<bool>,
}

impl RealServerHealth {
    /// From the checkers' initial states.
    pub fn new(initially_up: impl IntoIterator<Item = bool>) -> RealServerHealth {
        RealServerHealth {
            up: initially_up.into_iter().collect(),
        }
    }

    pub fn alive(&self) -> bool {
        self.up.iter().all(|up| *up)
    }

    /// Whether checker `checker` is up (`None`: no such checker).
    pub fn checker_up(&self, checker: usize) -> Option<bool> {
        self.up.get(checker).copied()
    }

    /// Applies one checker's transition; returns the new liveness if it changed.
    pub fn update(&mut self, checker: usize, up: bool) -> Option<bool> {
        let before = self.alive();
        if let Some(slot) = self.up.get_mut(checker) {
            *slot = up;
        }
        let after = self.alive();
        (before != after).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(retry: u32, alpha: bool) -> Timing {
        Timing {
            delay_loop: Duration::from_secs(6),
            retry,
            delay_before_retry: Duration::from_secs(2),
            warmup: Duration::from_secs(4),
            alpha,
            bootstrap: BOOTSTRAP_DELAY,
            timeout: Duration::from_secs(1),
        }
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn first_run_after_bootstrap_and_random_warmup() {
        assert_eq!(
            CheckerState::new(timing(1, false), S(10), 0.0).next_run(),
            S(11)
        );
        assert_eq!(
            CheckerState::new(timing(1, false), S(10), 0.5).next_run(),
            S(13)
        );
        assert_eq!(
            CheckerState::new(timing(1, false), S(10), 1.0).next_run(),
            S(15)
        );
        assert_eq!(
            CheckerState::new(timing(1, false), S(10), 7.0).next_run(),
            S(15)
        );
        assert_eq!(
            CheckerState::new(timing(1, false), S(10), f64::NAN).next_run(),
            S(11)
        );
    }

    #[test]
    fn success_reports_up_once_then_loops() {
        let mut c = CheckerState::new(timing(1, false), S(0), 0.0);
        assert!(c.is_up());
        assert_eq!(c.record(S(1), true), Some(Transition::Up));
        assert_eq!(c.next_run(), S(7));
        assert_eq!(c.record(S(7), true), None);
        assert_eq!(c.next_run(), S(13));
    }

    #[test]
    fn failure_is_retried_before_down() {
        let mut c = CheckerState::new(timing(2, false), S(0), 0.0);
        assert_eq!(c.record(S(1), true), Some(Transition::Up));
        // Failure 1 and 2: retries, delay_before_retry apart, still up.
        assert_eq!(c.record(S(7), false), None);
        assert!(c.is_up() && c.retrying());
        assert_eq!(c.next_run(), S(9));
        assert_eq!(c.record(S(9), false), None);
        assert_eq!(c.next_run(), S(11));
        // Third failure: retries used up.
        assert_eq!(
            c.record(S(11), false),
            Some(Transition::Down { retries: 2 })
        );
        assert!(!c.is_up() && !c.retrying());
        assert_eq!(c.next_run(), S(17));
        // Down stays down without retries being reported again.
        assert_eq!(c.record(S(17), false), None);
        assert_eq!(c.next_run(), S(19));
        assert_eq!(c.record(S(19), false), None);
        assert_eq!(c.record(S(21), false), None);
        // Recovery is immediate.
        assert_eq!(c.record(S(27), true), Some(Transition::Up));
    }

    #[test]
    fn a_success_during_retries_resets_them() {
        let mut c = CheckerState::new(timing(1, false), S(0), 0.0);
        c.record(S(1), true);
        assert_eq!(c.record(S(7), false), None);
        assert_eq!(c.record(S(9), true), None);
        assert!(!c.retrying());
        assert_eq!(c.record(S(15), false), None);
        assert_eq!(
            c.record(S(17), false),
            Some(Transition::Down { retries: 1 })
        );
    }

    #[test]
    fn zero_retry_goes_down_at_first_failure() {
        let mut c = CheckerState::new(timing(0, false), S(0), 0.0);
        assert_eq!(c.record(S(1), false), Some(Transition::Down { retries: 0 }));
        assert_eq!(c.next_run(), S(7));
    }

    #[test]
    fn alpha_starts_down_and_first_success_brings_up() {
        let mut c = CheckerState::new(timing(1, true), S(0), 0.0);
        assert!(!c.is_up());
        assert_eq!(c.record(S(1), true), Some(Transition::Up));
        assert!(c.is_up());
    }

    #[test]
    fn alpha_failing_first_run_stays_down_silently() {
        // keepalived: the retry marks the checker as having run, and a checker
        // already down reports nothing more.
        let mut c = CheckerState::new(timing(1, true), S(0), 0.0);
        assert_eq!(c.record(S(1), false), None);
        assert_eq!(c.record(S(3), false), None);
        assert!(!c.is_up());
        assert_eq!(c.next_run(), S(9));
    }

    #[test]
    fn resumed_keeps_the_state_and_reports_only_changes() {
        let mut down = CheckerState::resumed(timing(0, false), S(0), 0.0, false);
        assert!(!down.is_up());
        assert_eq!(down.record(S(1), false), None);
        assert_eq!(down.record(S(7), true), Some(Transition::Up));
        let mut up = CheckerState::resumed(timing(0, true), S(0), 0.0, true);
        assert!(up.is_up());
        assert_eq!(up.record(S(1), true), None);
    }

    #[test]
    fn real_server_alive_only_with_all_checkers_up() {
        let mut rs = RealServerHealth::new([true, true]);
        assert!(rs.alive());
        assert_eq!(rs.update(0, false), Some(false));
        assert_eq!(rs.update(1, false), None);
        assert_eq!(rs.update(0, true), None);
        assert_eq!(rs.update(1, true), Some(true));
        assert_eq!(rs.update(9, false), None);
        assert!(RealServerHealth::new([]).alive());
    }
}
