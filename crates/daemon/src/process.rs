//! Process-level chores: pid files, entering a network namespace, daemonising, the
//! roles of the daemon's processes, umask and core dumps.

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
    #[error("Invalid --umask option {0}")]
    Umask(String),
    #[error("cannot set the parent-death signal: {0}")]
    Pdeathsig(#[source] nix::Error),
}

/// Which of keepalived's processes this one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The watchdog: starts, restarts and signals the others.
    Parent,
    /// The VRRP child.
    Vrrp,
    /// The health-checker child.
    Checker,
}

impl Role {
    /// keepalived's program name, used as syslog ident (`PROG_VRRP`, ...).
    pub fn program(self) -> &'static str {
        match self {
            Role::Parent => "Keepalived",
            Role::Vrrp => "Keepalived_vrrp",
            Role::Checker => "Keepalived_healthcheckers",
        }
    }

    /// What keepalived calls the child in its messages ("Starting VRRP child process").
    pub fn title(self) -> &'static str {
        match self {
            Role::Parent => "Parent",
            Role::Vrrp => "VRRP",
            Role::Checker => "Healthcheck",
        }
    }

    /// The tag keepalived inserts in a `-g` log file name (`keepalived_vrrp.log`).
    pub fn log_file_tag(self) -> Option<&'static str> {
        match self {
            Role::Parent => None,
            Role::Vrrp => Some("vrrp"),
            Role::Checker => Some("check"),
        }
    }

    /// The value of the hidden `--role` option that starts this child.
    pub fn arg(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::Vrrp => "vrrp",
            Role::Checker => "checker",
        }
    }

    pub fn from_arg(arg: &str) -> Option<Role> {
        match arg {
            "parent" => Some(Role::Parent),
            "vrrp" => Some(Role::Vrrp),
            "checker" => Some(Role::Checker),
            _ => None,
        }
    }
}

/// keepalived's `make_syslog_ident()`: `NAME[_NETNS][_INSTANCE]`.
pub fn syslog_ident(role: Role, namespace: Option<&str>, instance: Option<&str>) -> String {
    let mut ident = role.program().to_string();
    for part in [namespace, instance].into_iter().flatten() {
        ident.push('_');
        ident.push_str(part);
    }
    ident
}

/// The pid files of the three processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidPaths {
    /// `-p`.
    pub parent: PathBuf,
    /// `-r`.
    pub vrrp: PathBuf,
    /// `-c`.
    pub checker: PathBuf,
}

impl PidPaths {
    pub fn of(&self, role: Role) -> &Path {
        match role {
            Role::Parent => &self.parent,
            Role::Vrrp => &self.vrrp,
            Role::Checker => &self.checker,
        }
    }

    /// keepalived's defaults: `/run/keepalived.pid`, `/run/vrrp.pid`,
    /// `/run/checkers.pid`; in `/run/keepalived/` with `use_pid_dir`, a network
    /// namespace or an instance name (then `keepalived_NAME.pid`, ...). keepalived
    /// bind-mounts `/run/keepalived/NETNS` over `/run/keepalived` in its own mount
    /// namespace; we write to that directory directly, so the files land where
    /// keepalived's would. Explicit `-p`/`-r`/`-c` win.
    pub fn resolve(
        explicit: [Option<&Path>; 3],
        instance: Option<&str>,
        namespace: Option<&str>,
        use_pid_dir: bool,
    ) -> PidPaths {
        let in_dir = instance.is_some() || namespace.is_some() || use_pid_dir;
        let mut dir = PathBuf::from(if in_dir { "/run/keepalived" } else { "/run" });
        if let Some(ns) = namespace {
            dir.push(ns);
        }
        let default = |base: &str| match instance {
            Some(name) => dir.join(format!("{base}_{name}.pid")),
            None => dir.join(format!("{base}.pid")),
        };
        let [parent, vrrp, checker] = explicit;
        PidPaths {
            parent: parent.map_or_else(|| default("keepalived"), Path::to_path_buf),
            vrrp: vrrp.map_or_else(|| default("vrrp"), Path::to_path_buf),
            checker: checker.map_or_else(|| default("checkers"), Path::to_path_buf),
        }
    }

    /// keepalived's `reload_file` default: the parent's pid file name with `.reload`.
    pub fn default_reload_file(
        instance: Option<&str>,
        namespace: Option<&str>,
        use_pid_dir: bool,
    ) -> PathBuf {
        let paths = PidPaths::resolve([None, None, None], instance, namespace, use_pid_dir);
        paths.parent.with_extension("reload")
    }
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
    /// Writes our pid to `path`, readable by everyone whatever `-u` says (keepalived
    /// writes its pid files rw-r--r--, so that tools can read them).
    pub fn create(path: &Path) -> Result<PidFile, ProcessError> {
        use std::os::unix::fs::PermissionsExt;
        let error = |source| ProcessError::WritePidFile {
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(error)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(error)?;
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

/// keepalived `process_running()`: the pid file names a live process other than us.
pub fn running_pid(path: &Path) -> Option<u32> {
    let pid = u32::try_from(read_pid(path)?).ok()?;
    (pid != std::process::id() && pid != 0 && is_running(pid)).then_some(pid)
}

/// Whether `pid` exists and is not a zombie. A zombie exists for kill(0) but runs
/// nothing: a child killed together with its parent stays one until init reaps it,
/// which some inits (containers) never do. keepalived would refuse to start then; we
/// start.
pub fn is_running(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 only checks that the process exists.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).is_ok() && !is_zombie(pid)
}

/// Whether `/proc/PID/stat` shows the process as a zombie (or dead).
fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may itself
    // contain ") ".
    stat.rfind(')')
        .and_then(|end| stat.get(end + 1..))
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|state| state == "Z" || state == "X")
}

/// The pid a pid file names, if it can be read.
pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Removes `path` if it still names `pid` (a child that died without cleaning up).
pub fn remove_stale_pid_file(path: &Path, pid: i32) {
    if read_pid(path) == Some(pid) {
        let _ = std::fs::remove_file(path);
    }
}

/// keepalived's child start: the child gets SIGTERM when the parent dies (so a killed
/// parent still means priority-0 adverts and VIPs removed), and exits at once if the
/// parent already died before the setting took effect.
pub fn die_with_parent(expected_parent: Option<i32>) -> Result<(), ProcessError> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
        .map_err(ProcessError::Pdeathsig)?;
    if let Some(parent) = expected_parent
        && nix::unistd::getppid().as_raw() != parent
    {
        // keepalived: "Check our parent hasn't already changed since the fork".
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM);
    }
    Ok(())
}

/// `-u MASK`: keepalived parses it with `strtoll(.., 0)` (so `022`, `0x12`, `18`) and
/// accepts only permission bits.
pub fn parse_umask(text: &str) -> Result<u32, ProcessError> {
    let invalid = || ProcessError::Umask(text.to_string());
    let value = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).map_err(|_| invalid())?
    } else if text.len() > 1
        && let Some(octal) = text.strip_prefix('0')
    {
        u32::from_str_radix(octal, 8).map_err(|_| invalid())?
    } else {
        text.parse::<u32>().map_err(|_| invalid())?
    };
    if value & !0o777 != 0 {
        return Err(invalid());
    }
    Ok(value)
}

/// Sets the process umask (`-u`).
pub fn set_umask(bits: u32) {
    let mode = nix::sys::stat::Mode::from_bits_truncate(bits);
    nix::sys::stat::umask(mode);
}

/// `-m`: unlimited core file size for this process and the children it starts.
pub fn enable_core_dumps() -> Result<(), nix::Error> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, setrlimit};
    setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY)
}

/// `-M[PATTERN]`: sets `/proc/sys/kernel/core_pattern`, returning the previous value
/// so that it can be restored on exit (keepalived does the same).
pub fn set_core_pattern(pattern: &str) -> std::io::Result<String> {
    const PATH: &str = "/proc/sys/kernel/core_pattern";
    let previous = std::fs::read_to_string(PATH)?;
    std::fs::write(PATH, pattern)?;
    Ok(previous.trim_end_matches('\n').to_string())
}

/// Restores what [`set_core_pattern`] returned.
pub fn restore_core_pattern(previous: &str) {
    let _ = std::fs::write("/proc/sys/kernel/core_pattern", previous);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_follow_keepalived_naming() {
        let none = [None, None, None];
        let paths = PidPaths::resolve(none, None, None, false);
        assert_eq!(paths.parent, PathBuf::from("/run/keepalived.pid"));
        assert_eq!(paths.vrrp, PathBuf::from("/run/vrrp.pid"));
        assert_eq!(paths.checker, PathBuf::from("/run/checkers.pid"));
        let paths = PidPaths::resolve(none, Some("klA"), None, false);
        assert_eq!(
            paths.parent,
            PathBuf::from("/run/keepalived/keepalived_klA.pid")
        );
        assert_eq!(paths.vrrp, PathBuf::from("/run/keepalived/vrrp_klA.pid"));
        assert_eq!(
            paths.checker,
            PathBuf::from("/run/keepalived/checkers_klA.pid")
        );
        let paths = PidPaths::resolve(none, None, Some("ns1"), false);
        assert_eq!(
            paths.parent,
            PathBuf::from("/run/keepalived/ns1/keepalived.pid")
        );
        assert_eq!(paths.vrrp, PathBuf::from("/run/keepalived/ns1/vrrp.pid"));
        let paths = PidPaths::resolve(none, None, None, true);
        assert_eq!(paths.checker, PathBuf::from("/run/keepalived/checkers.pid"));
        let explicit = Path::new("/x/v.pid");
        let paths = PidPaths::resolve([None, Some(explicit), None], Some("i"), None, false);
        assert_eq!(paths.vrrp, explicit);
        assert_eq!(
            PidPaths::default_reload_file(None, None, false),
            PathBuf::from("/run/keepalived.reload")
        );
        assert_eq!(
            PidPaths::default_reload_file(Some("i"), None, false),
            PathBuf::from("/run/keepalived/keepalived_i.reload")
        );
    }

    #[test]
    fn a_zombie_named_by_a_pid_file_is_not_a_running_daemon() {
        let dir = std::env::temp_dir().join(format!("kars-zombie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pid_file = dir.join("vrrp.pid");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        std::fs::write(&pid_file, format!("{}\n", child.id())).expect("pid file");
        assert_eq!(
            running_pid(&pid_file),
            Some(child.id()),
            "a live process runs"
        );
        child.kill().expect("kill");
        // Not reaped yet: the process is a zombie until wait().
        lab::wait_for(
            "sleep to become a zombie",
            std::time::Duration::from_secs(5),
            std::time::Duration::from_millis(5),
            || is_zombie(child.id()).then_some(()),
        )
        .expect("the killed child is a zombie until reaped");
        assert_eq!(running_pid(&pid_file), None, "a zombie runs nothing");
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn syslog_idents_are_keepalived_s() {
        assert_eq!(syslog_ident(Role::Parent, None, None), "Keepalived");
        assert_eq!(
            syslog_ident(Role::Vrrp, Some("ns"), Some("i")),
            "Keepalived_vrrp_ns_i"
        );
        assert_eq!(
            syslog_ident(Role::Checker, None, None),
            "Keepalived_healthcheckers"
        );
    }

    #[test]
    fn umask_is_parsed_like_strtoll_base_0() {
        assert_eq!(parse_umask("022").ok(), Some(0o22));
        assert_eq!(parse_umask("0x12").ok(), Some(0x12));
        assert_eq!(parse_umask("18").ok(), Some(18));
        assert_eq!(parse_umask("0").ok(), Some(0));
        assert!(parse_umask("01000").is_err());
        assert!(parse_umask("abc").is_err());
        assert!(parse_umask("").is_err());
    }
}
