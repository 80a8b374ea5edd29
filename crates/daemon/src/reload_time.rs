//! `reload_time_file FILE` (global_defs) and `reload_repeat`: keepalived's scheduled
//! reload (core/reload_monitor.c). The parent watches FILE with inotify; when it is
//! written it reads one line, `HH:MM:SS`, `YY-MM-DD HH:MM:SS` or
//! `YYYY-MM-DD HH:MM:SS`, optionally ending in `Z` for UTC, and reloads at that time.
//! A time of day already past means tomorrow; a date already past is ignored. After
//! the reload the file is removed, unless `reload_repeat` is set and no date was given
//! (then the same time is taken again, for the next day). Removing the file (or
//! emptying it) cancels the reload.
//!
//! Divergence: keepalived reads a time without `Z` as local time; we take it as UTC,
//! like every timestamp this daemon writes (no time-zone database is read).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::sync::mpsc::UnboundedSender;

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

/// Parses a reload time relative to `now`.
pub fn parse(text: &str, now: SystemTime) -> Result<ReloadTime, TimeError> {
    let text = text.trim_end_matches(['\n', '\r']);
    let body = text.strip_suffix('Z').unwrap_or(text);
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
        None => civil_from_days(now_secs.div_euclid(86_400)),
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
    let mut at = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    if at <= now_secs {
        if date.is_some() {
            return Err(TimeError::Past(text.to_string()));
        }
        at += 86_400;
    }
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at).map_err(|_| invalid())?);
    Ok(ReloadTime {
        at,
        date_given: date.is_some(),
    })
}

/// keepalived's `format_time_t()`: `YYYY-MM-DD HH:MM:SS`.
pub fn format(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
        match parse(text, now) {
            Ok(t) => t.at,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn reload_times_as_keepalived_reads_them() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_327_200);
        assert_eq!(format(now), "2026-11-22 06:00:00");
        assert_eq!(format(at("07:30:00")), "2026-11-22 07:30:00");
        assert_eq!(format(at("07:30:00Z")), "2026-11-22 07:30:00");
        // A time of day already past is tomorrow.
        assert_eq!(format(at("05:00:00")), "2026-11-23 05:00:00");
        assert_eq!(format(at("2026-12-01 00:00:01")), "2026-12-01 00:00:01");
        assert_eq!(format(at("26-12-01 00:00:01")), "2026-12-01 00:00:01");
        let parsed = parse("2026-12-01 00:00:01Z", now).expect("date");
        assert!(parsed.date_given);
        assert!(!parse("07:30:00", now).expect("time").date_given);
        assert_eq!(
            parse("2026-11-21 00:00:00", now),
            Err(TimeError::Past("2026-11-21 00:00:00".to_string()))
        );
        assert!(matches!(parse("7:30", now), Err(TimeError::Format(_))));
        assert!(matches!(parse("25:00:00", now), Err(TimeError::Invalid(_))));
        assert!(matches!(
            parse("2026-02-31 00:00:00", now),
            Err(TimeError::Invalid(_))
        ));
        assert!(matches!(parse("aa:bb:cc", now), Err(TimeError::Invalid(_))));
    }
}
