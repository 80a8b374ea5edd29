//! Process-level chores: pid files, entering a network namespace, daemonising.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Errors of the process chores, each with what was being done.
#[derive(Debug, Error)]
pub enum ProcessError {
    #[error("cannot open network namespace {path}: {source}")]
    OpenNetns {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot enter network namespace {name}: {source}")]
    Setns {
        name: String,
        #[source]
        source: nix::Error,
    },
    #[error("cannot write pid file {path}: {source}")]
    WritePidFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the daemon process: {0}")]
    Daemonise(#[source] std::io::Error),
}

/// Where `ip netns add NAME` puts a namespace (keepalived looks there too).
pub fn netns_path(name: &str) -> PathBuf {
    Path::new("/var/run/netns").join(name)
}

/// `-s NAME` / `net_namespace NAME`: moves the calling thread into the namespace. Must
/// run before any socket or runtime thread is created, since sockets belong to the
/// namespace of the thread that opens them and new threads inherit the creator's.
pub fn enter_netns(name: &str) -> Result<(), ProcessError> {
    let path = netns_path(name);
    let file = std::fs::File::open(&path).map_err(|source| ProcessError::OpenNetns {
        path: path.clone(),
        source,
    })?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|source| {
        ProcessError::Setns {
            name: name.to_string(),
            source,
        }
    })
}

/// A pid file we wrote, removed again on drop (keepalived removes its pid files on exit).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes our pid to `path`.
    pub fn create(path: &Path) -> Result<PidFile, ProcessError> {
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(|source| {
            ProcessError::WritePidFile {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(PidFile {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// keepalived `keepalived_running()`: the pid file names a live process other than us.
pub fn running_pid(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    if pid == std::process::id() || pid == 0 {
        return None;
    }
    let raw = i32::try_from(pid).ok()?;
    // Signal 0 only checks that the process exists.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).ok()?;
    Some(pid)
}

/// Daemonising without `fork()` (which would need `unsafe` in a threaded Rust
/// program): start ourselves again with `--dont-fork`, detached in a new process group
/// with stdio on /dev/null, and let the caller exit 0. The pid files are written by
/// the detached process, so they name the daemon that runs, as with keepalived.
pub fn respawn_detached(args: &[String]) -> Result<u32, ProcessError> {
    let exe = std::env::current_exe().map_err(ProcessError::Daemonise)?;
    let mut command = std::process::Command::new(exe);
    command
        .args(args.iter().skip(1))
        .arg("--dont-fork")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn().map_err(ProcessError::Daemonise)?;
    Ok(child.id())
}
