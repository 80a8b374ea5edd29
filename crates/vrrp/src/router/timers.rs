//! Virtual time and the RFC 5798 / RFC 3768 timer formulas, in exact microseconds.

use std::fmt;
use std::time::Duration;

use crate::advert::Version;

/// A point on the caller's monotonic clock, in microseconds since an arbitrary epoch.
///
/// The state machine never reads a clock: the caller passes `now` in. A daemon maps
/// `std::time::Instant` onto it (`Timestamp::from_micros(start.elapsed().as_micros())`);
/// tests and the simulation use a virtual clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch of the caller's clock.
    pub const ZERO: Timestamp = Timestamp(0);

    pub const fn from_micros(micros: u64) -> Self {
        Timestamp(micros)
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + micros`, saturating at the end of time instead of wrapping.
    pub const fn add_micros(self, micros: u64) -> Self {
        Timestamp(self.0.saturating_add(micros))
    }

    /// `self − micros`, saturating at the epoch.
    pub const fn sub_micros(self, micros: u64) -> Self {
        Timestamp(self.0.saturating_sub(micros))
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        self.add_micros(u64::try_from(rhs.as_micros()).unwrap_or(u64::MAX))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

/// Microseconds per second.
pub const MICROS_PER_SEC: u64 = 1_000_000;
/// Microseconds per centisecond (the VRRPv3 interval unit, RFC 5798 §5.2.7).
pub const MICROS_PER_CS: u64 = 10_000;

/// Skew_Time for `priority`, in microseconds.
///
/// - v2 (RFC 3768 §6.1): `(256 − P) / 256` seconds, independent of the interval.
/// - v3 (RFC 5798 §6.1): `((256 − P) × Master_Adver_Interval) / 256` with the interval in
///   centiseconds. keepalived computes this as `(256−P) × cs × 625 / 16` µs, which is the
///   exact value truncated to the microsecond; so do we (holo-vrrp mixes seconds and
///   centiseconds here, which makes its v3 skew 100× too large or small).
pub fn skew_time_us(version: Version, priority: u8, master_adver_int_us: u64) -> u64 {
    skew_calc_us(version, 256 - u64::from(priority), master_adver_int_us)
}

/// The smallest skew keepalived uses (the `256 − P` factor replaced by 1): a sync-group
/// member that wants MASTER while its group is BACKUP waits `interval + minimum skew`.
pub fn minimum_skew_us(version: Version, master_adver_int_us: u64) -> u64 {
    skew_calc_us(version, 1, master_adver_int_us)
}

fn skew_calc_us(version: Version, factor: u64, master_adver_int_us: u64) -> u64 {
    match version {
        // keepalived: VRRP_TIMER_SKEW_CALC, v3 branch — the interval is truncated to whole
        // centiseconds first, then × 10000/256 µs = × 625/16.
        Version::V3 => factor * (master_adver_int_us / MICROS_PER_CS) * 625 / 16,
        Version::V2 => factor * MICROS_PER_SEC / 256,
    }
}

/// Master_Down_Interval in microseconds: `down_timer_adverts × Master_Adver_Interval +
/// Skew_Time` (RFC 5798 §6.1 with keepalived's configurable `down_timer_adverts`, default 3).
pub fn master_down_interval_us(
    version: Version,
    priority: u8,
    master_adver_int_us: u64,
    down_timer_adverts: u8,
) -> u64 {
    u64::from(down_timer_adverts)
        .saturating_mul(master_adver_int_us)
        .saturating_add(skew_time_us(version, priority, master_adver_int_us))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_figures_v2_priority_100() {
        // lab README: Master_Down = 3×1 + (256−100)/256 = 3.609375 s, Skew 0.609 s.
        assert_eq!(skew_time_us(Version::V2, 100, MICROS_PER_SEC), 609_375);
        assert_eq!(
            master_down_interval_us(Version::V2, 100, MICROS_PER_SEC, 3),
            3_609_375
        );
    }

    #[test]
    fn lab_figures_v3_centisecond_interval() {
        // lab README: v3 0.1 s, prio 100: 0.3 + 156×0.1/256 = 0.3609375 s; skew 0.061 s.
        assert_eq!(skew_time_us(Version::V3, 100, 100_000), 60_937);
        assert_eq!(
            master_down_interval_us(Version::V3, 100, 100_000, 3),
            360_937
        );
        // v3 at 1 s equals the v2 figure.
        assert_eq!(
            master_down_interval_us(Version::V3, 100, MICROS_PER_SEC, 3),
            3_609_375
        );
        // Priority 150 at 1 s: 3 + 106/256 = 3.4140625 s (the lab's startup wait).
        assert_eq!(
            master_down_interval_us(Version::V2, 150, MICROS_PER_SEC, 3),
            3_414_062
        );
    }

    #[test]
    fn timestamp_arithmetic_saturates() {
        assert_eq!(
            Timestamp::from_micros(u64::MAX).add_micros(5).as_micros(),
            u64::MAX
        );
        assert_eq!(Timestamp::ZERO.sub_micros(5), Timestamp::ZERO);
        assert_eq!(Timestamp::from_micros(1_500_000).to_string(), "1.500000");
    }
}
