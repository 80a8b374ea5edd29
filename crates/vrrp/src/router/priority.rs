//! Effective priority from tracked objects (keepalived `vrrp_track.c`, reference §3.7).

/// The driver's name for a tracked object (script, file, process, interface, BFD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackerId(pub u32);

/// A tracker as configured on the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerConfig {
    pub id: TrackerId,
    /// −254..=254; 0 means "FAULT while down" instead of a priority change.
    pub weight: i32,
    /// keepalived `reverse`: the adjustment goes the other way (and a weight-0 tracker
    /// faults while *up*).
    pub reverse: bool,
    /// Status assumed until the first [`Input::Tracker`](super::Input::Tracker).
    pub initial: TrackerStatus,
}

impl TrackerConfig {
    /// A tracker with this weight, no reverse, initially up.
    pub fn new(id: u32, weight: i32) -> Self {
        TrackerConfig {
            id: TrackerId(id),
            weight,
            reverse: false,
            initial: TrackerStatus::Up,
        }
    }
}

/// What a tracked object reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerStatus {
    /// Script succeeded, interface up, process running, BFD up.
    Up,
    Down,
    /// A `track_file` value: the contribution is `value × weight` (reversed if `reverse`).
    Value(i64),
}

/// How one tracker affects its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contribution {
    Weight(i32),
    Fault,
}

/// keepalived: the lowest track_file status; reaching it means FAULT.
const TRACK_FILE_FAULT: i64 = -254;
const TRACK_FILE_MAX: i64 = 253;

pub(crate) fn contribution(config: &TrackerConfig, status: TrackerStatus) -> Contribution {
    let multiplier: i64 = if config.reverse { -1 } else { 1 };
    let weight = i64::from(config.weight);
    match status {
        TrackerStatus::Up | TrackerStatus::Down => {
            let up = status == TrackerStatus::Up;
            if weight == 0 {
                // keepalived `process_script_update_priority`: weight 0 faults when the
                // script result differs from the expected one (`reverse` expects failure).
                return if up == config.reverse {
                    Contribution::Fault
                } else {
                    Contribution::Weight(0)
                };
            }
            // A positive weight counts while up, a negative one while down; `reverse`
            // flips the sign of what is added.
            let applies = (weight > 0 && up) || (weight < 0 && !up);
            if applies {
                Contribution::Weight(clamp_i32(weight * multiplier))
            } else {
                Contribution::Weight(0)
            }
        }
        TrackerStatus::Value(value) => {
            if weight == 0 {
                // keepalived track_file, weight 0: a non-zero value is FAULT (zero with reverse).
                return if (value != 0) != config.reverse {
                    Contribution::Fault
                } else {
                    Contribution::Weight(0)
                };
            }
            let status = value
                .saturating_mul(weight)
                .saturating_mul(multiplier)
                .clamp(TRACK_FILE_FAULT, TRACK_FILE_MAX);
            if status == TRACK_FILE_FAULT {
                Contribution::Fault
            } else {
                Contribution::Weight(clamp_i32(status))
            }
        }
    }
}

fn clamp_i32(value: i64) -> i32 {
    i32::try_from(value.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
}

/// keepalived `vrrp_set_effective_priority`: the owner (255) is never adjusted; everyone
/// else is clamped to 1..=254.
pub(crate) fn effective_priority(base: u8, total: i64) -> u8 {
    if base == 255 {
        return 255;
    }
    u8::try_from(total.clamp(1, 254)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(weight: i32, reverse: bool) -> TrackerConfig {
        TrackerConfig {
            reverse,
            ..TrackerConfig::new(1, weight)
        }
    }

    #[test]
    fn keepalived_weight_sign_rules() {
        use Contribution::Weight;
        use TrackerStatus::{Down, Up};
        // Positive weight: added while up.
        assert_eq!(contribution(&cfg(10, false), Up), Weight(10));
        assert_eq!(contribution(&cfg(10, false), Down), Weight(0));
        // Negative weight: added while down.
        assert_eq!(contribution(&cfg(-10, false), Up), Weight(0));
        assert_eq!(contribution(&cfg(-10, false), Down), Weight(-10));
        // Reverse swaps the direction.
        assert_eq!(contribution(&cfg(10, true), Up), Weight(-10));
        assert_eq!(contribution(&cfg(10, true), Down), Weight(0));
        assert_eq!(contribution(&cfg(-10, true), Down), Weight(10));
        assert_eq!(contribution(&cfg(-10, true), Up), Weight(0));
    }

    #[test]
    fn keepalived_weight_zero_means_fault() {
        assert_eq!(
            contribution(&cfg(0, false), TrackerStatus::Down),
            Contribution::Fault
        );
        assert_eq!(
            contribution(&cfg(0, false), TrackerStatus::Up),
            Contribution::Weight(0)
        );
        assert_eq!(
            contribution(&cfg(0, true), TrackerStatus::Up),
            Contribution::Fault
        );
    }

    #[test]
    fn keepalived_track_file_value_times_weight() {
        assert_eq!(
            contribution(&cfg(2, false), TrackerStatus::Value(-5)),
            Contribution::Weight(-10)
        );
        assert_eq!(
            contribution(&cfg(1, false), TrackerStatus::Value(500)),
            Contribution::Weight(253)
        );
        assert_eq!(
            contribution(&cfg(1, false), TrackerStatus::Value(-254)),
            Contribution::Fault
        );
        assert_eq!(
            contribution(&cfg(0, false), TrackerStatus::Value(3)),
            Contribution::Fault
        );
    }

    #[test]
    fn keepalived_effective_priority_clamps_and_spares_owner() {
        assert_eq!(effective_priority(100, 300), 254);
        assert_eq!(effective_priority(100, -40), 1);
        assert_eq!(effective_priority(255, 100), 255);
        assert_eq!(effective_priority(100, 90), 90);
    }
}
