//! `reload_time_file FILE` (global_defs) and `reload_repeat`: keepalived's scheduled
//! reload (core/reload_monitor.c). The parent watches FILE with inotify; when it is
//! written it reads one line, `HH:MM:SS`, `YY-MM-DD HH:MM:SS` or
//! `YYYY-MM-DD HH:MM:SS`, optionally ending in `Z` for UTC, and reloads at that time.
//! A time of day already past means tomorrow; a date already past is ignored. After
//! the reload the file is removed, unless `reload_repeat` is set and no date was given
//! (then the same time is taken again, for the next day). Removing the file (or
//! emptying it) cancels the reload.
//!
//! As keepalived, a time without `Z` is the host's local time (`TZ`, else
//! /etc/localtime, through the C library's `mktime`/`localtime_r`), and the times it
//! logs are local too.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::sync::mpsc::UnboundedSender;

use linux::LocalTime;

use crate::logging::{civil_from_days, days_from_civil};

/// When to reload, as read from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadTime {
    pub at: SystemTime,
    /// A date was given (the file is removed after the reload even with
    /// `reload_repeat`).
    pub date_given: bool,
}

/// Why a line is not a reload time (keepalived's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("Reload time {0} format is incorrect - ignoring")]
    Format(String),
    #[error("Reload date/time {0} invalid - ignoring")]
    Invalid(String),
    #[error("Reload time {0} is in the past - ignoring")]
    Past(String),
}

/// Converts between seconds since the epoch and civil times of one time zone.
pub trait Zone {
    fn civil(&self, secs: i64) -> Option<LocalTime>;
    fn epoch(&self, civil: LocalTime) -> Option<i64>;
}

/// Coordinated universal time (a reload time ending in `Z`).
pub struct Utc;

impl Zone for Utc {
    fn civil(&self, secs: i64) -> Option<LocalTime> {
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400);
        Some((year, month, day, rem / 3600, rem % 3600 / 60, rem % 60))
    }

    fn epoch(&self, (year, month, day, hour, minute, second): LocalTime) -> Option<i64> {
        Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
    }
}

/// The host's time zone, as keepalived's `localtime_r`/`mktime` see it.
pub struct HostZone;

impl Zone for HostZone {
    fn civil(&self, secs: i64) -> Option<LocalTime> {
        linux::local_time(secs)
    }

    fn epoch(&self, civil: LocalTime) -> Option<i64> {
        linux::local_to_epoch(civil)
    }
}

/// Parses a reload time relative to `now`; without `Z` it is the host's local time.
pub fn parse(text: &str, now: SystemTime) -> Result<ReloadTime, TimeError> {
    parse_in(text, now, &HostZone)
}

/// [`parse`] with `local` standing for the host's time zone.
pub fn parse_in(text: &str, now: SystemTime, local: &dyn Zone) -> Result<ReloadTime, TimeError> {
    let text = text.trim_end_matches(['\n', '\r']);
    let (body, zone): (&str, &dyn Zone) = match text.strip_suffix('Z') {
        Some(body) => (body, &Utc),
        None => (text, local),
    };
    let format = || TimeError::Format(text.to_string());
    let invalid = || TimeError::Invalid(text.to_string());
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let (date, time) = match body.len() {
        8 => (None, body),
        17 | 19 => {
            let (date, time) = body.split_once(' ').ok_or_else(format)?;
            (Some(date), time)
        }
        _ => return Err(format()),
    };
    let numbers = |part: &str, sep: char| -> Result<Vec<i64>, TimeError> {
        part.split(sep)
            .map(|n| {
                if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                    Err(invalid())
                } else {
                    n.parse::<i64>().map_err(|_| invalid())
                }
            })
            .collect()
    };
    let hms = numbers(time, ':')?;
    let [hour, minute, second] = hms[..] else {
        return Err(invalid());
    };
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..=60).contains(&second) {
        return Err(invalid());
    }
    let (year, month, day) = match date {
        None => {
            let (year, month, day, ..) = zone.civil(now_secs).ok_or_else(invalid)?;
            (year, month, day)
        }
        Some(date) => {
            let ymd = numbers(date, '-')?;
            let [year, month, day] = ymd[..] else {
                return Err(invalid());
            };
            // strptime %y: 69-99 are 19xx, 00-68 are 20xx.
            let year = match date.split('-').next().map(str::len) {
                Some(2) if year >= 69 => 1900 + year,
                Some(2) => 2000 + year,
                _ => year,
            };
            let month = u32::try_from(month).map_err(|_| invalid())?;
            let day = u32::try_from(day).map_err(|_| invalid())?;
            // keepalived compares the fields with mktime()'s normalisation: 31 Feb is
            // not a date.
            let days = days_from_civil(year, month, day);
            if !(1..=12).contains(&month) || civil_from_days(days) != (year, month, day) {
                return Err(invalid());
            }
            (year, month, day)
        }
    };
    let mut at = zone
        .epoch((year, month, day, hour, minute, second))
        .ok_or_else(invalid)?;
    if at <= now_secs {
        if date.is_some() {
            return Err(TimeError::Past(text.to_string()));
        }
        // The same time of day tomorrow (a civil day: 23 or 25 hours across a DST change).
        let (year, month, day) = civil_from_days(days_from_civil(year, month, day) + 1);
        at = zone
            .epoch((year, month, day, hour, minute, second))
            .ok_or_else(invalid)?;
    }
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at).map_err(|_| invalid())?);
    Ok(ReloadTime {
        at,
        date_given: date.is_some(),
    })
}

/// keepalived's `format_time_t()`: `YYYY-MM-DD HH:MM:SS`.
pub fn format(time: SystemTime) -> String {
    format_in(time, &HostZone)
}

/// [`format`] in the given zone.
pub fn format_in(time: SystemTime, zone: &dyn Zone) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    let (year, month, day, hour, minute, second) = zone
        .civil(secs)
        .or_else(|| Utc.civil(secs))
        .unwrap_or((1970, 1, 1, 0, 0, 0));
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}

/// Reads the first line of the file: `None` when it is missing or empty (cancel).
pub fn read_file(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().next()?.to_string();
    (!line.is_empty()).then_some(line)
}

/// Something happened to the file (written, created, removed, renamed).
#[derive(Debug)]
pub struct FileChanged;

/// Watches `path` from a thread: the file's close-after-write, and its directory for
/// the file being created, removed or renamed. Each reports [`FileChanged`]; the
/// event loop reads the file again.
pub fn watch(path: PathBuf, changes: UnboundedSender<FileChanged>) -> std::io::Result<()> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC).map_err(std::io::Error::from)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("/"),
    };
    let name = path.file_name().map(|n| n.to_os_string());
    inotify
        .add_watch(
            &dir,
            AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_DELETE
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_MOVED_FROM
                | AddWatchFlags::IN_CLOSE_WRITE,
        )
        .map_err(std::io::Error::from)?;
    std::thread::Builder::new()
        .name("reload-time".to_string())
        .spawn(move || {
            while let Ok(events) = inotify.read_events() {
                let ours = events
                    .iter()
                    .any(|event| event.name.is_some() && event.name == name);
                if ours && changes.send(FileChanged).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        // 2026-11-22 06:00:00 UTC
        let now = UNIX_EPOCH + Duration::from_secs(1_795_327_200);
        match parse_in(text, now, &Utc) {
            Ok(t) => t.at,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn reload_times_as_keepalived_reads_them() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_327_200);
        assert_eq!(format_in(now, &Utc), "2026-11-22 06:00:00");
        assert_eq!(format_in(at("07:30:00"), &Utc), "2026-11-22 07:30:00");
        assert_eq!(format_in(at("07:30:00Z"), &Utc), "2026-11-22 07:30:00");
        // A time of day already past is tomorrow.
        assert_eq!(format_in(at("05:00:00"), &Utc), "2026-11-23 05:00:00");
        assert_eq!(
            format_in(at("2026-12-01 00:00:01"), &Utc),
            "2026-12-01 00:00:01"
        );
        assert_eq!(
            format_in(at("26-12-01 00:00:01"), &Utc),
            "2026-12-01 00:00:01"
        );
        let parsed = parse_in("2026-12-01 00:00:01Z", now, &Utc).expect("date");
        assert!(parsed.date_given);
        assert!(!parse_in("07:30:00", now, &Utc).expect("time").date_given);
        assert_eq!(
            parse_in("2026-11-21 00:00:00", now, &Utc),
            Err(TimeError::Past("2026-11-21 00:00:00".to_string()))
        );
        assert!(matches!(
            parse_in("7:30", now, &Utc),
            Err(TimeError::Format(_))
        ));
        assert!(matches!(
            parse_in("25:00:00", now, &Utc),
            Err(TimeError::Invalid(_))
        ));
        assert!(matches!(
            parse_in("2026-02-31 00:00:00", now, &Utc),
            Err(TimeError::Invalid(_))
        ));
        assert!(matches!(
            parse_in("aa:bb:cc", now, &Utc),
            Err(TimeError::Invalid(_))
        ));
    }

    /// A zone six hours ahead of UTC (no daylight saving), standing for the host's.
    struct PlusSix;

    impl Zone for PlusSix {
        fn civil(&self, secs: i64) -> Option<LocalTime> {
            Utc.civil(secs + 6 * 3600)
        }
        fn epoch(&self, civil: LocalTime) -> Option<i64> {
            Utc.epoch(civil).map(|secs| secs - 6 * 3600)
        }
    }

    #[test]
    fn times_without_z_are_local_like_keepalived() {
        // 2026-11-22 06:00:00 UTC is 12:00:00 at +06:00.
        let now = UNIX_EPOCH + Duration::from_secs(1_795_327_200);
        let local = |text: &str| match parse_in(text, now, &PlusSix) {
            Ok(t) => t.at,
            Err(e) => panic!("{text}: {e}"),
        };
        assert_eq!(
            format_in(local("13:00:00"), &PlusSix),
            "2026-11-22 13:00:00"
        );
        assert_eq!(format_in(local("13:00:00"), &Utc), "2026-11-22 07:00:00");
        // 07:30 local is past at 12:00 local, though not in UTC: tomorrow.
        assert_eq!(
            format_in(local("07:30:00"), &PlusSix),
            "2026-11-23 07:30:00"
        );
        // With Z the zone is UTC whatever the host's.
        assert_eq!(format_in(local("07:30:00Z"), &Utc), "2026-11-22 07:30:00");
        assert_eq!(
            parse_in("2026-11-22 11:59:59", now, &PlusSix),
            Err(TimeError::Past("2026-11-22 11:59:59".to_string()))
        );
    }

    #[test]
    fn the_host_zone_round_trips_through_the_c_library() {
        let secs = 1_795_327_200;
        let civil = HostZone.civil(secs).expect("localtime_r");
        assert_eq!(HostZone.epoch(civil), Some(secs));
    }
}
