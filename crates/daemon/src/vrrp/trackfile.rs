//! `track_file`: an integer read from a file, watched with inotify (keepalived
//! `trackers/track_file.c`). The directory is watched, so creating, rewriting,
//! moving or deleting the file is seen; a missing or empty file reads as 0, a
//! number that does not fit is ignored (keepalived logs "Invalid number").
//! The value goes to the state machine as `TrackerStatus::Value`; it applies the
//! weight (`value × weight`, weight 0 = FAULT on non-zero).

use std::path::{Path, PathBuf};

use check::file::FileWatch;
use nix::sys::inotify::{InitFlags, Inotify};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{info, warn};

use super::net::NetEvent;

/// `init_file [VALUE] [overwrite]`: write the value unless the file exists (or always
/// with `overwrite`), before the first read.
pub fn init_file(path: &Path, init: Option<(i32, bool)>, origin: &str) {
    let Some((value, overwrite)) = init else {
        return;
    };
    if path.exists() && !overwrite {
        return;
    }
    if let Err(e) = std::fs::write(path, format!("{value}\n")) {
        warn!(
            "{}Unable to initialise track file {}: {e}",
            prefix(origin),
            path.display()
        );
    }
}

/// `"file:line: "` of the configuration that named a track file, for its messages.
fn prefix(origin: &str) -> String {
    if origin.is_empty() {
        String::new()
    } else {
        format!("{origin}: ")
    }
}

/// The file's value now: `None` when it is out of range (keep the previous one).
/// `origin` is the `file:line` of the configuration that named it.
pub fn read_value(path: &Path, origin: &str) -> Option<i64> {
    // keepalived reads a missing or unreadable file as 0; we say why when it exists.
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(0),
        Err(e) => {
            warn!(
                "{}cannot read track file {}: {e} - using 0",
                prefix(origin),
                path.display()
            );
            return Some(0);
        }
    };
    match check::file::track_file_number(&bytes) {
        Some(v) => Some(v),
        None => {
            info!(
                "{}Invalid number read from {} - ignoring",
                prefix(origin),
                path.display()
            );
            None
        }
    }
}

/// One watched file.
#[derive(Debug, Clone)]
pub struct Watched {
    pub index: usize,
    pub path: PathBuf,
    pub initial: i64,
    /// `file:line` of the configuration that named it (empty when unknown).
    pub origin: String,
}

/// Watches the files from one thread with a blocking inotify read (registering the
/// descriptor with tokio would need `unsafe`); every change of value is sent as
/// [`NetEvent::TrackFile`]. The thread ends when the event loop is gone, or at the
/// first file event after `stop` is set (a reload replaced it).
pub fn spawn_watch(
    files: Vec<Watched>,
    events: UnboundedSender<NetEvent>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    if files.is_empty() {
        return;
    }
    let inotify = match Inotify::init(InitFlags::IN_CLOEXEC) {
        Ok(i) => i,
        Err(e) => {
            warn!("cannot watch track files: {e}");
            return;
        }
    };
    let mut watched = Vec::new();
    for file in files {
        match FileWatch::add(&inotify, &file.path) {
            Ok(Some(watch)) => {
                watched.push((watch, file.index, file.path, file.initial, file.origin))
            }
            Ok(None) => {}
            Err(e) => warn!(
                "{}cannot watch track file {}: {e}",
                prefix(&file.origin),
                file.path.display()
            ),
        }
    }
    let spawned = std::thread::Builder::new()
        .name("track-files".into())
        .spawn(move || {
            loop {
                let list = match inotify.read_events() {
                    Ok(list) => list,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => {
                        warn!("track file watcher stopped: {e}");
                        return;
                    }
                };
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                for event in &list {
                    for (watch, index, path, last, origin) in &mut watched {
                        if !watch.matches(event) {
                            continue;
                        }
                        let Some(value) = read_value(path, origin) else {
                            continue;
                        };
                        if value != *last {
                            *last = value;
                            let sent = events.send(NetEvent::TrackFile {
                                index: *index,
                                value,
                            });
                            if sent.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        warn!("cannot start the track file watcher: {e}");
    }
}
