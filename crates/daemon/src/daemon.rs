//! `keepalived -f FILE` without `-t`: the VRRP subsystem in this process.
//!
//! keepalived runs a parent and a VRRP child; for now one process does the VRRP work
//! and writes its pid to both pid files (`-p` and `-r`), so scripts that signal either
//! reach the daemon. The runtime itself ([`crate::vrrp::VrrpRuntime`]) knows nothing
//! about processes, so the parent/child split can come later without touching it.
//!
//! Signals: SIGTERM and SIGINT stop gracefully (priority-0 adverts, VIPs removed,
//! exit 0). SIGHUP (reload) and the dump signals are logged as not implemented yet
//! (and do not kill the daemon).

use std::path::PathBuf;

use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info, warn};

use crate::control::{self, Command};
use crate::logging::{self, LogOptions};
use crate::process::{self, PidFile};
use crate::vrrp::{RuntimeOptions, VrrpRuntime};

/// keepalived's default pid files (Debian build).
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";
pub const DEFAULT_VRRP_PID_FILE: &str = "/run/vrrp.pid";

/// What `main` passes down from the command line.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub config_file: PathBuf,
    pub load: config::LoadOptions,
    /// `-n`.
    pub dont_fork: bool,
    pub log: LogOptions,
    /// `-p`.
    pub pid_file: Option<PathBuf>,
    /// `-r`.
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-s`.
    pub namespace: Option<String>,
    /// `-P`.
    pub vrrp_only: bool,
    pub runtime: RuntimeOptions,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the daemon; returns the exit code.
pub fn run(options: &DaemonOptions, args: &[String]) -> i32 {
    if !options.dont_fork {
        return match process::respawn_detached(args) {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("keepalived: {e}");
                1
            }
        };
    }
    logging::init(&options.log);
    info!("Starting Keepalived v{VERSION} (keepalived-rs)");
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        info!("Running on Linux {}", release.trim());
    }
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    info!("Command line: {}", quoted.join(" "));

    // The namespace must be entered before any socket or thread exists, and before
    // the configuration is checked (interfaces are looked up there).
    if let Some(ns) = &options.namespace
        && let Err(e) = process::enter_netns(ns)
    {
        error!("{e}");
        return 1;
    }
    info!("Opening file '{}'.", options.config_file.display());
    let mut loaded = load(options);
    if options.namespace.is_none()
        && let Some(ns) = loaded.config.global.net_namespace.clone()
    {
        if let Err(e) = process::enter_netns(&ns) {
            error!("{e}");
            return 1;
        }
        loaded = load(options);
    }
    for line in loaded.render().lines() {
        warn!("{line}");
    }
    let code = loaded.exit_code();
    if code == config::diag::exit_code::UNRUNNABLE || code == config::diag::exit_code::ABORTED {
        error!("Configuration cannot be run - exiting");
        return 1;
    }

    if options.vrrp_only {
        // -P: the checker and BFD subsystems are not wanted.
    } else if loaded.config.lvs.have_checker_config || !loaded.config.bfd.instances.is_empty() {
        warn!(
            "virtual_server / bfd_instance configuration found: the checker and BFD \
             processes are not implemented yet - running VRRP only"
        );
    }
    if loaded.config.vrrp.instances.is_empty() {
        info!("No VRRP instances configured");
    }

    let namespace = options
        .namespace
        .clone()
        .or_else(|| loaded.config.global.net_namespace.clone());
    let (default_pid, default_vrrp_pid) = default_pid_files(
        loaded.config.global.instance.as_deref(),
        namespace.as_deref(),
        loaded.config.global.use_pid_dir,
    );
    if options.pid_file.is_none() || options.vrrp_pid_file.is_none() {
        for dir in [default_pid.parent(), default_vrrp_pid.parent()]
            .into_iter()
            .flatten()
        {
            if let Err(e) = std::fs::create_dir_all(dir) {
                warn!("cannot create pid directory {}: {e}", dir.display());
            }
        }
    }
    let pid_path = options.pid_file.clone().unwrap_or(default_pid);
    let vrrp_pid_path = options.vrrp_pid_file.clone().unwrap_or(default_vrrp_pid);
    // keepalived: a second daemon with the same pid file exits 0.
    if let Some(pid) = process::running_pid(&pid_path) {
        info!("daemon is already running (pid {pid})");
        return 0;
    }
    let pid_files = match (PidFile::create(&pid_path), PidFile::create(&vrrp_pid_path)) {
        (Ok(a), Ok(b)) => vec![a, b],
        (Err(e), _) | (_, Err(e)) => {
            error!("{e}");
            return 1;
        }
    };

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the event loop: {e}");
            return 1;
        }
    };
    let config = loaded.config;
    let code = runtime.block_on(async {
        let (commands_tx, commands) = control::channel();
        if let Err(e) = forward_signals(commands_tx) {
            error!("cannot install signal handlers: {e}");
            return 1;
        }
        info!("Starting VRRP child process, pid={}", std::process::id());
        let vrrp = match VrrpRuntime::start(&config, options.runtime.clone()).await {
            Ok(v) => v,
            Err(e) => {
                error!("{e}");
                return 1;
            }
        };
        info!("Startup complete");
        vrrp.run(commands).await;
        0
    });
    info!("Stopped Keepalived v{VERSION} (keepalived-rs)");
    drop(pid_files);
    code
}

/// keepalived's default pid files: `/run/keepalived.pid` and `/run/vrrp.pid`; in
/// `/run/keepalived/` with `use_pid_dir`, a network namespace or an instance name
/// (then `keepalived_NAME.pid`, `vrrp_NAME.pid`). keepalived bind-mounts
/// `/run/keepalived/NETNS` over `/run/keepalived` in its own mount namespace; we write
/// to that directory directly, so the files land where keepalived's would.
pub fn default_pid_files(
    instance: Option<&str>,
    namespace: Option<&str>,
    use_pid_dir: bool,
) -> (PathBuf, PathBuf) {
    if instance.is_none() && namespace.is_none() && !use_pid_dir {
        return (
            PathBuf::from(DEFAULT_PID_FILE),
            PathBuf::from(DEFAULT_VRRP_PID_FILE),
        );
    }
    let mut dir = PathBuf::from("/run/keepalived");
    if let Some(ns) = namespace {
        dir.push(ns);
    }
    match instance {
        Some(name) => (
            dir.join(format!("keepalived_{name}.pid")),
            dir.join(format!("vrrp_{name}.pid")),
        ),
        None => (dir.join("keepalived.pid"), dir.join("vrrp.pid")),
    }
}

fn load(options: &DaemonOptions) -> config::Loaded {
    config::load_file(&options.config_file, &options.load, &config::HostSystem)
}

/// Turns signals into runtime commands: SIGTERM/SIGINT stop, SIGHUP reloads (the new
/// configuration is loaded and checked here first), SIGUSR1/SIGUSR2 dump.
fn forward_signals(commands: control::CommandSender) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    tokio::spawn(async move {
        loop {
            let command = tokio::select! {
                _ = term.recv() => Command::Stop,
                _ = int.recv() => Command::Stop,
                _ = hup.recv() => {
                    warn!("Reload (SIGHUP) is not implemented yet - ignored");
                    continue;
                }
                _ = usr1.recv() => Command::DumpData,
                _ = usr2.recv() => Command::DumpStats { clear: false },
            };
            let stop = matches!(command, Command::Stop);
            if stop {
                info!("Stopping");
            }
            if commands.send(command).is_err() || stop {
                return;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_follow_keepalived_naming() {
        assert_eq!(
            default_pid_files(None, None, false),
            (
                PathBuf::from("/run/keepalived.pid"),
                PathBuf::from("/run/vrrp.pid")
            )
        );
        assert_eq!(
            default_pid_files(Some("klA"), None, false),
            (
                PathBuf::from("/run/keepalived/keepalived_klA.pid"),
                PathBuf::from("/run/keepalived/vrrp_klA.pid")
            )
        );
        assert_eq!(
            default_pid_files(None, Some("ns1"), false),
            (
                PathBuf::from("/run/keepalived/ns1/keepalived.pid"),
                PathBuf::from("/run/keepalived/ns1/vrrp.pid")
            )
        );
        assert_eq!(
            default_pid_files(None, None, true).1,
            PathBuf::from("/run/keepalived/vrrp.pid")
        );
    }
}
