//! The live status view: the VRRP process listens on a unix control socket (mode
//! 0600, so root only) and `keepalived --status` connects to it and prints a table of
//! instances, state, priority, master and VIPs.
//!
//! The socket sits beside the VRRP pid file (`/run/vrrp.pid` → `/run/vrrp.sock`,
//! `/run/keepalived/NETNS/vrrp_INSTANCE.sock`), so daemons that keep their pid files
//! apart keep their sockets apart too; `--control-socket PATH` overrides it on both
//! sides. A connection gets one JSON document ([`Status`]) and is closed.
//!
//! [`start`] also starts the metrics endpoint ([`crate::metrics`]): both are the VRRP
//! process's observers and both ask the runtime for a snapshot over the command channel.

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tracing::{debug, error, info};

use crate::control::CommandSender;
use crate::vrrp::snapshot::Snapshot;

/// The command-line options of the observers.
#[derive(Debug, Clone, Default)]
pub struct ObserveOptions {
    /// `--metrics-listen ADDR:PORT`: serve Prometheus metrics there.
    pub metrics_listen: Option<SocketAddr>,
    /// `--control-socket PATH`: instead of the path derived from the VRRP pid file.
    pub control_socket: Option<PathBuf>,
}

/// The control socket for a VRRP pid file: same directory and name, `.sock`.
pub fn socket_path(options: &ObserveOptions, vrrp_pid_file: &Path) -> PathBuf {
    options
        .control_socket
        .clone()
        .unwrap_or_else(|| vrrp_pid_file.with_extension("sock"))
}

/// One instance in the status document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub state: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// The master's address: ours while MASTER, the one last heard while BACKUP.
    pub master: Option<String>,
    pub vips: Vec<String>,
}

/// What the control socket answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub instances: Vec<InstanceStatus>,
}

impl Status {
    pub fn of(snapshot: &Snapshot) -> Status {
        Status {
            pid: std::process::id(),
            instances: snapshot
                .instances
                .iter()
                .map(|inst| InstanceStatus {
                    name: inst.name.clone(),
                    interface: inst.interface.clone(),
                    vrid: inst.vrid,
                    state: inst.state.to_string(),
                    base_priority: inst.base_priority,
                    effective_priority: inst.effective_priority,
                    master: match inst.state {
                        vrrp::router::State::Master => Some(inst.source.to_string()),
                        vrrp::router::State::Backup => inst.master.map(|(a, _)| a.to_string()),
                        _ => None,
                    },
                    vips: inst
                        .vips
                        .iter()
                        .filter(|v| !v.excluded)
                        .map(|v| format!("{}/{}", v.address, v.prefix_len))
                        .collect(),
                })
                .collect(),
        }
    }

    /// The table `keepalived --status` prints.
    pub fn table(&self) -> String {
        let header = ["INSTANCE", "STATE", "PRIORITY", "MASTER", "VIPS"];
        let rows: Vec<[String; 5]> = self
            .instances
            .iter()
            .map(|i| {
                [
                    i.name.clone(),
                    i.state.clone(),
                    format!("{}/{}", i.effective_priority, i.base_priority),
                    i.master.clone().unwrap_or_else(|| "-".into()),
                    if i.vips.is_empty() {
                        "-".into()
                    } else {
                        i.vips.join(",")
                    },
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }
        let line = |cells: [&str; 5]| {
            let mut text = String::new();
            for (n, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if n + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text.trim_end().to_string() + "\n"
        };
        let mut out = line(header);
        for row in &rows {
            out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        }
        out
    }
}

/// Removes the control socket when the VRRP process stops.
#[derive(Debug)]
pub struct Observers {
    socket: Option<PathBuf>,
}

impl Drop for Observers {
    fn drop(&mut self) {
        if let Some(path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Starts the control socket (always) and the metrics endpoint (when asked for).
/// Failures are logged: the VRRP work goes on without them.
pub async fn start(
    options: &ObserveOptions,
    vrrp_pid_file: &Path,
    commands: &CommandSender,
) -> Observers {
    if let Some(address) = options.metrics_listen
        && let Err(e) = crate::metrics::serve(address, commands.clone()).await
    {
        error!("{e}");
    }
    let path = socket_path(options, vrrp_pid_file);
    match listen(&path) {
        Ok(listener) => {
            debug!("control socket {}", path.display());
            tokio::spawn(serve(listener, commands.clone()));
            Observers { socket: Some(path) }
        }
        Err(e) => {
            error!("control socket {}: {e}", path.display());
            Observers { socket: None }
        }
    }
}

fn listen(path: &Path) -> std::io::Result<UnixListener> {
    if path.exists() {
        // A socket left by a daemon that died, unless one answers on it.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another keepalived answers on it",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Root only: the status shows addresses and priorities. The socket is bound in a
    // private (0700) directory, made 0600, then renamed into place, so there is no
    // moment when others could connect to it.
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let private = dir.join(format!(".{name}.{}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    let staged = private.join("sock");
    let _ = std::fs::remove_file(&staged);
    let bound = UnixListener::bind(&staged).and_then(|listener| {
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&staged, path)?;
        Ok(listener)
    });
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&private);
    let listener = bound?;
    info!("Control socket {}", path.display());
    Ok(listener)
}

async fn serve(listener: UnixListener, commands: CommandSender) {
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                error!("control socket: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(snapshot) = crate::metrics::request_snapshot(&commands).await else {
            return;
        };
        let status = Status::of(&snapshot);
        tokio::spawn(async move {
            match serde_json::to_vec(&status) {
                Ok(body) => {
                    if let Err(e) = stream.write_all(&body).await {
                        debug!("control socket client: {e}");
                    }
                }
                Err(e) => error!("control socket: cannot encode the status: {e}"),
            }
        });
    }
}

/// Why `keepalived --status` cannot show anything.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("cannot connect to {path} (is keepalived running?): {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading from {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unexpected answer on {path}: {source}")]
    Decode {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// `keepalived --status`: the running daemon's status from its control socket.
pub fn query(path: &Path) -> Result<Status, StatusError> {
    let mut stream =
        std::os::unix::net::UnixStream::connect(path).map_err(|source| StatusError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
    let read_error = |source| StatusError::Read {
        path: path.to_path_buf(),
        source,
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(read_error)?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body).map_err(read_error)?;
    serde_json::from_slice(&body).map_err(|source| StatusError::Decode {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_sits_beside_the_vrrp_pid_file() {
        let options = ObserveOptions::default();
        assert_eq!(
            socket_path(&options, Path::new("/run/keepalived/ns1/vrrp_klA.pid")),
            PathBuf::from("/run/keepalived/ns1/vrrp_klA.sock")
        );
        let options = ObserveOptions {
            control_socket: Some(PathBuf::from("/tmp/x.sock")),
            ..ObserveOptions::default()
        };
        assert_eq!(
            socket_path(&options, Path::new("/run/vrrp.pid")),
            PathBuf::from("/tmp/x.sock")
        );
    }

    #[test]
    fn table_aligns_columns() {
        let status = Status {
            pid: 1,
            instances: vec![
                InstanceStatus {
                    name: "VI_1".into(),
                    interface: "eth0".into(),
                    vrid: 51,
                    state: "MASTER".into(),
                    base_priority: 150,
                    effective_priority: 150,
                    master: Some("192.0.2.11".into()),
                    vips: vec!["192.0.2.100/24".into(), "192.0.2.101/24".into()],
                },
                InstanceStatus {
                    name: "LONG_NAME".into(),
                    interface: "eth0".into(),
                    vrid: 52,
                    state: "FAULT".into(),
                    base_priority: 100,
                    effective_priority: 90,
                    master: None,
                    vips: vec![],
                },
            ],
        };
        assert_eq!(
            status.table(),
            "INSTANCE   STATE   PRIORITY  MASTER      VIPS\n\
             VI_1       MASTER  150/150   192.0.2.11  192.0.2.100/24,192.0.2.101/24\n\
             LONG_NAME  FAULT   90/100    -           -\n"
        );
    }
}
