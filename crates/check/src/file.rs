//! FILE_CHECK: a real server follows a `track_file` (keepalived 2.2.7
//! `check/check_file.c`, `trackers/track_file.c`).
//!
//! The file holds an integer (C `strtol(…, 0)`: decimal, `0x` hex, `0` octal;
//! missing, empty or non-numeric reads as 0; out of the 32-bit range is ignored).
//! With the checker's `weight W [reverse]` (else the track_file's own):
//! * `W == 0`: a non-zero value is FAULT (with `reverse`: zero is FAULT);
//! * otherwise `value × W` (negated with `reverse`) is added to the real
//!   server's weight, and a product at or below `i32::MIN` is FAULT.
//!
//! A FAULT checker is down; otherwise it is up and contributes its weight. The
//! file's directory is watched with inotify (close-after-write, delete, moves),
//! as keepalived does, so the checker reacts at once rather than on a timer.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use config::model::lvs::CheckerKind;
use config::model::vrrp::TrackFile;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
use tokio::sync::mpsc;

/// A FILE_CHECK resolved against its `track_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub path: PathBuf,
    pub weight: i32,
    pub reverse: bool,
}

impl FileCheck {
    /// The checker `kind` resolved against the configured track files; `None`
    /// when it is not a FILE_CHECK or its track_file has no `file`.
    pub fn of(kind: &CheckerKind, track_files: &[TrackFile]) -> Option<FileCheck> {
        let CheckerKind::File {
            track_file,
            weight,
            reverse,
        } = kind
        else {
            return None;
        };
        let tracked = track_files.iter().find(|t| &t.name == track_file)?;
        let path = PathBuf::from(tracked.path.as_ref()?);
        // keepalived file_end_handler: without its own weight the checker takes
        // the track_file's weight and reverse.
        let (weight, reverse) = match weight {
            Some(weight) => (*weight, *reverse),
            None => (tracked.weight, tracked.reverse),
        };
        Some(FileCheck {
            path,
            weight,
            reverse,
        })
    }

    /// What `value` means for this checker.
    pub fn status(&self, value: i64) -> FileStatus {
        if self.weight == 0 {
            let fault = (value != 0) != self.reverse;
            return if fault {
                FileStatus::Fault
            } else {
                FileStatus::Weight(0)
            };
        }
        let multiplier: i64 = if self.reverse { -1 } else { 1 };
        let product = value
            .saturating_mul(i64::from(self.weight))
            .saturating_mul(multiplier);
        // keepalived weight_range() then IPVS_WEIGHT_FAULT (= INT_MIN).
        if product <= i64::from(i32::MIN) {
            FileStatus::Fault
        } else {
            FileStatus::Weight(product.min(i64::from(i32::MAX)))
        }
    }

    /// The status from the file as it is now; `None` when its number is out of range.
    pub fn read(&self) -> Option<FileStatus> {
        read_value(&self.path).map(|value| self.status(value))
    }
}

/// A FILE_CHECK's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Down.
    Fault,
    /// Up, adding this much to the real server's weight.
    Weight(i64),
}

/// C `strtol(text, NULL, 0)`: leading blanks, a sign, `0x` hex / `0` octal /
/// decimal, stopping at the first other character; no digits gives 0; `None`
/// when the number does not fit an `i64` (strtol's ERANGE).
pub fn strtol(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..).unwrap_or("")),
        Some(b'+') => (false, t.get(1..).unwrap_or("")),
        _ => (false, t),
    };
    let (radix, digits) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(rest) => (16, rest),
        None if t.len() > 1 && t.starts_with('0') => (8, t.get(1..).unwrap_or("")),
        None => (10, t),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let digits = digits.get(..end).unwrap_or("");
    if digits.is_empty() {
        return Some(0);
    }
    let value = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// keepalived `process_track_file`: the first 127 bytes as a number; a missing
/// or unreadable file is 0; a number outside `[i32::MIN, i32::MAX + 1]` is
/// ignored (`None`, keepalived logs "Invalid number … - ignoring").
pub fn read_value(path: &Path) -> Option<i64> {
    let Ok(bytes) = std::fs::read(path) else {
        return Some(0);
    };
    track_file_number(&bytes)
}

/// keepalived's number of a track file's contents (shared by VRRP `track_file` and
/// checker `track_file`): `strtol` of the first 127 bytes, `None` outside
/// `[i32::MIN, i32::MAX + 1]`.
pub fn track_file_number(bytes: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(bytes.get(..127).unwrap_or(bytes));
    strtol(&text).filter(|v| *v >= i64::from(i32::MIN) && *v <= i64::from(i32::MAX) + 1)
}

/// One file followed through an inotify watch on its directory, so that
/// creating, rewriting, moving or deleting it is seen (keepalived
/// `trackers/track_file.c` watches the directory too). Shared by FILE_CHECK and
/// the VRRP `track_file` watcher.
#[derive(Debug)]
pub struct FileWatch {
    wd: WatchDescriptor,
    name: OsString,
}

impl FileWatch {
    /// Watches the directory of `path` on `inotify`; `None` when `path` names
    /// no file.
    pub fn add(inotify: &Inotify, path: &Path) -> nix::Result<Option<FileWatch>> {
        let Some(name) = path.file_name().map(OsString::from) else {
            return Ok(None);
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let flags =
            AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVE;
        let wd = inotify.add_watch(dir, flags)?;
        Ok(Some(FileWatch { wd, name }))
    }

    /// Whether `event` concerns the watched file.
    pub fn matches(&self, event: &InotifyEvent) -> bool {
        self.wd == event.wd && event.name.as_deref() == Some(self.name.as_os_str())
    }
}

/// A watched file changed its verdict for checker `index` (the caller's index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileEvent {
    pub index: usize,
    pub status: FileStatus,
}

/// How often the watcher thread looks whether its receiver is gone.
const WATCH_POLL_MS: u16 = 500;

/// Watches the files of `checks` (index, check, status at start) from one
/// thread and sends every change of verdict. The thread ends when `events` is
/// closed. Returns an error when inotify is unavailable.
pub fn spawn_watcher(
    checks: Vec<(usize, FileCheck, Option<FileStatus>)>,
    events: mpsc::Sender<FileEvent>,
) -> std::io::Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
        .map_err(std::io::Error::from)?;
    let mut watched = Vec::new();
    for (index, check, last) in checks {
        if let Some(watch) = FileWatch::add(&inotify, &check.path).map_err(std::io::Error::from)? {
            watched.push((watch, index, check, last));
        }
    }
    std::thread::Builder::new()
        .name("file-check".into())
        .spawn(move || {
            loop {
                if events.is_closed() {
                    return;
                }
                let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::from(WATCH_POLL_MS)) {
                    Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                    Ok(_) => {}
                    Err(_) => return,
                }
                let list = match inotify.read_events() {
                    Ok(list) => list,
                    Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                };
                for event in &list {
                    for (watch, index, check, last) in &mut watched {
                        if !watch.matches(event) {
                            continue;
                        }
                        let Some(status) = check.read() else {
                            continue;
                        };
                        if Some(status) != *last {
                            *last = Some(status);
                            let event = FileEvent {
                                index: *index,
                                status,
                            };
                            if events.blocking_send(event).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(weight: i32, reverse: bool) -> FileCheck {
        FileCheck {
            path: PathBuf::from("/nonexistent"),
            weight,
            reverse,
        }
    }

    #[test]
    fn strtol_like_c() {
        assert_eq!(strtol("12\n"), Some(12));
        assert_eq!(strtol("  -7 apples"), Some(-7));
        assert_eq!(strtol("0x1f"), Some(31));
        assert_eq!(strtol("010"), Some(8));
        assert_eq!(strtol("0"), Some(0));
        assert_eq!(strtol(""), Some(0));
        assert_eq!(strtol("abc"), Some(0));
        assert_eq!(strtol("99999999999999999999999"), None);
    }

    #[test]
    fn track_file_number_range() {
        assert_eq!(track_file_number(b"2147483648\n"), Some(2_147_483_648));
        assert_eq!(track_file_number(b"-2147483648"), Some(-2_147_483_648));
        assert_eq!(track_file_number(b"2147483649"), None);
        assert_eq!(track_file_number(b"-2147483649"), None);
    }

    #[test]
    fn weight_zero_is_up_or_fault() {
        assert_eq!(check(0, false).status(0), FileStatus::Weight(0));
        assert_eq!(check(0, false).status(3), FileStatus::Fault);
        assert_eq!(check(0, true).status(0), FileStatus::Fault);
        assert_eq!(check(0, true).status(-1), FileStatus::Weight(0));
    }

    #[test]
    fn weighted_value_adds_and_saturates_to_fault() {
        assert_eq!(check(2, false).status(5), FileStatus::Weight(10));
        assert_eq!(check(2, true).status(5), FileStatus::Weight(-10));
        assert_eq!(check(1, false).status(-2147483648), FileStatus::Fault);
        assert_eq!(
            check(1, false).status(-2147483647),
            FileStatus::Weight(-2147483647)
        );
        assert_eq!(
            check(1000, false).status(i64::from(i32::MAX)),
            FileStatus::Weight(i64::from(i32::MAX))
        );
        assert_eq!(check(-1, false).status(2147483648), FileStatus::Fault);
    }

    #[test]
    fn missing_file_reads_zero() {
        assert_eq!(read_value(Path::new("/nonexistent/kl-file-check")), Some(0));
    }
}
