//! `notify_fifo` / `vrrp_notify_fifo`: state changes written to a FIFO as
//! `INSTANCE "VI_1" MASTER 150` / `GROUP "G" BACKUP 0` lines (keepalived
//! `notify_fifo()` in `vrrp_notify.c`, `fifo_open()` in `lib/notify.c`).
//!
//! As keepalived: the FIFO is created (mode 0644) unless it exists, the optional
//! `*notify_fifo_script` is started with the FIFO's path as its last argument, the FIFO
//! is opened read-write and non-blocking (so writing never waits for a reader), and a
//! FIFO we created is removed on exit.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use tracing::{info, warn};

/// An open notify FIFO.
#[derive(Debug)]
pub struct NotifyFifo {
    path: PathBuf,
    file: File,
    created: bool,
}

impl NotifyFifo {
    /// Creates/opens the FIFO of `config` (`kind` is "" or "vrrp_" for logs).
    pub fn open(config: &config::model::global::NotifyFifo, kind: &str) -> Option<NotifyFifo> {
        let path = PathBuf::from(config.name.as_ref()?);
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
        let created = match nix::unistd::mkfifo(&path, mode) {
            Ok(()) => true,
            Err(nix::errno::Errno::EEXIST) => false,
            Err(e) => {
                info!("Unable to create {kind}notify fifo {}: {e}", path.display());
                return None;
            }
        };
        if let Some(script) = &config.script {
            super::scripts::run_notify(script, &[path.display().to_string()]);
        }
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(&path);
        match opened {
            Ok(file) => Some(NotifyFifo {
                path,
                file,
                created,
            }),
            Err(e) => {
                info!("Unable to open {kind}notify fifo {}: {e}", path.display());
                if created {
                    let _ = std::fs::remove_file(&path);
                }
                None
            }
        }
    }

    /// Writes one line; a full FIFO (nobody reading) drops it, as keepalived does.
    pub fn write_line(&mut self, line: &str) {
        if let Err(e) = self.file.write_all(line.as_bytes())
            && e.kind() != std::io::ErrorKind::WouldBlock
        {
            warn!("notify fifo {}: {e}", self.path.display());
        }
    }
}

impl Drop for NotifyFifo {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// keepalived's FIFO line for a state.
pub fn line(kind: &str, name: &str, state: vrrp::router::State, priority: u8) -> String {
    event_line(kind, name, state.as_str(), priority)
}

/// keepalived's FIFO line for an event word (`MASTER_RX_LOWER_PRI`,
/// `MASTER_PRIORITY`, `BACKUP_PRIORITY`) or a state.
pub fn event_line(kind: &str, name: &str, word: &str, priority: u8) -> String {
    format!("{kind} \"{name}\" {word} {priority}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_keepalived_format() {
        assert_eq!(
            line("INSTANCE", "VI_1", vrrp::router::State::Master, 150),
            "INSTANCE \"VI_1\" MASTER 150\n"
        );
        assert_eq!(
            line("GROUP", "G", vrrp::router::State::Backup, 0),
            "GROUP \"G\" BACKUP 0\n"
        );
    }
}
