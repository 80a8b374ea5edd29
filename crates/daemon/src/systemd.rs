//! systemd's notify protocol (sd_notify(3)) for `Type=notify` units: one datagram per
//! state change to the socket named by `$NOTIFY_SOCKET`. keepalived sends `READY=1`
//! once its children have read their configuration, `RELOADING=1` on SIGHUP (then
//! `READY=1` again), `STOPPING=1` on SIGTERM and `ERRNO=` when a child exits with a
//! permanent error. Only the parent notifies: children are started without the
//! variable, since systemd accepts notifications from the main pid only.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Where notifications go; a no-op when not run by systemd.
#[derive(Debug, Default)]
pub struct Notifier {
    target: Option<Target>,
}

#[derive(Debug)]
enum Target {
    Path(PathBuf),
    /// `@name`: a socket in the abstract namespace.
    Abstract(Vec<u8>),
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (absent or empty: notifications are dropped).
    pub fn from_env() -> Notifier {
        let target = std::env::var_os(NOTIFY_SOCKET).and_then(|value| {
            let bytes = std::os::unix::ffi::OsStrExt::as_bytes(value.as_os_str());
            match bytes.first() {
                None => None,
                Some(b'@') => Some(Target::Abstract(bytes.get(1..)?.to_vec())),
                Some(_) => Some(Target::Path(PathBuf::from(value))),
            }
        });
        Notifier { target }
    }

    pub fn is_active(&self) -> bool {
        self.target.is_some()
    }

    /// Sends one notification; failures are ignored (systemd may be gone).
    pub fn send(&self, state: &str) {
        let Some(target) = &self.target else {
            return;
        };
        let Ok(socket) = UnixDatagram::unbound() else {
            return;
        };
        let _ = match target {
            Target::Path(path) => socket.send_to(state.as_bytes(), path),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                match std::os::unix::net::SocketAddr::from_abstract_name(name) {
                    Ok(addr) => socket.send_to_addr(state.as_bytes(), &addr),
                    Err(e) => Err(e),
                }
            }
        };
    }

    /// The children are up (or have re-read the configuration).
    pub fn ready(&self) {
        self.send(&format!("READY=1\nMAINPID={}", std::process::id()));
    }

    /// A reload starts (SIGHUP). `MONOTONIC_USEC` lets `Type=notify-reload` units match
    /// the reload to its completion.
    pub fn reloading(&self) {
        let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() * 1_000_000 + t.tv_nsec() / 1_000)
            .unwrap_or(0);
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// A permanent failure (keepalived: EPERM for missing permission, else EINVAL).
    pub fn errno(&self, errno: i32) {
        self.send(&format!("ERRNO={errno}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_a_bound_socket() {
        let dir = std::env::temp_dir().join(format!("kr-sdnotify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).expect("bind");
        let notifier = Notifier {
            target: Some(Target::Path(path.clone())),
        };
        notifier.ready();
        notifier.stopping();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).expect("recv");
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        assert_eq!(text, format!("READY=1\nMAINPID={}", std::process::id()));
        let n = server.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"STOPPING=1");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!Notifier::default().is_active());
    }
}
