//! A child process of the watchdog: the VRRP subsystem ([`crate::vrrp::VrrpRuntime`])
//! or the checker ([`crate::checker::CheckerRuntime`]), started by the parent as
//! `keepalived <same options> --role=vrrp|checker --role-parent=PID`.
//!
//! The child dies with its parent (PDEATHSIG SIGTERM, as keepalived's children), writes
//! its own pid file (`-r` / `-c`), reads the configuration itself, and turns signals
//! into [`Command`]s: SIGTERM/SIGINT stop, SIGHUP reloads (the configuration is read
//! again and refused, with its diagnostics logged, if `keepalived -t` would fail on
//! it), SIGUSR1/SIGUSR2/STATS_CLEAR/JSON dump. After reading the configuration (at
//! start and at each reload) it tells the parent on its standard input, which the
//! parent made the write end of a pipe (keepalived uses an eventfd for this).

use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{error, info, warn};

use crate::checker::{CheckerOptions, CheckerRuntime};
use crate::control::{self, Command, CommandSender};
use crate::daemon::{self, DaemonOptions, Settings, VERSION, exit_code};
use crate::logging;
use crate::process::{self, PidFile, Role};
use crate::vrrp::VrrpRuntime;

/// glibc's SIGRTMIN on Linux (the kernel's 32 plus the two glibc keeps).
const SIGRTMIN: i32 = 34;
/// keepalived's `SIGJSON` (SIGRTMIN+2) and `SIGSTATS_CLEAR` (SIGRTMAX-1).
pub const SIGJSON: i32 = SIGRTMIN + 2;
pub const SIGSTATS_CLEAR: i32 = 64 - 1;

/// Runs the child `role`; returns its exit code (keepalived's codes: see
/// [`exit_code`]).
pub fn run(options: &DaemonOptions, role: Role) -> i32 {
    if let Err(e) = process::die_with_parent(options.role_parent) {
        eprintln!("{e}");
        return exit_code::FATAL;
    }
    // The parent entered the namespace already; the child inherited it. Loading again
    // here (rather than receiving the parent's copy) is what keepalived's children do
    // at a reload, and keeps the processes independent.
    let loaded = daemon::load(options);
    let settings = Settings::of(options, &loaded.config);
    logging::init(&options.log_for(role, &settings));
    for line in loaded.render().lines() {
        warn!("{line}");
    }
    if daemon::unrunnable(&loaded) {
        error!("Configuration cannot be run - exiting");
        return exit_code::CONFIG;
    }
    let pid_file = match PidFile::create(settings.pid_paths.of(role)) {
        Ok(file) => file,
        Err(e) => {
            error!("{} child process: {e}", role.title());
            return exit_code::FATAL;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error!("cannot start the event loop: {e}");
            return exit_code::FATAL;
        }
    };
    // Only the configuration is needed from here on: the file text and diagnostics
    // (the size of the file) go now, not at exit.
    let config::Loaded {
        config,
        diags,
        sources,
    } = loaded;
    drop((diags, sources));
    let code = runtime.block_on(async move {
        let (commands_tx, commands) = control::channel();
        let observers_tx = commands_tx.clone();
        if let Err(e) = handle_signals(options.clone(), role, commands_tx) {
            error!("cannot install signal handlers: {e}");
            return exit_code::FATAL;
        }
        match role {
            Role::Checker => {
                let checker_options = CheckerOptions {
                    log_detail: options.log.detail > 0,
                    dont_release_ipvs: options.dont_release_ipvs,
                };
                let checker = match CheckerRuntime::start(&config, checker_options).await {
                    Ok(c) => c,
                    Err(e) => {
                        error!("{e}");
                        return exit_code::FATAL;
                    }
                };
                tell_parent_config_read(options);
                // The runtime keeps its own copy of what it needs (the virtual
                // servers, global settings, track files): the parsed configuration
                // goes, and its pages back to the kernel (~8 KiB per real server).
                drop(config);
                linux::trim_heap();
                checker.run(commands).await;
            }
            _ => {
                let vrrp = match VrrpRuntime::start(&config, options.runtime.clone()).await {
                    Ok(v) => v,
                    Err(e) => {
                        error!("{e}");
                        return exit_code::FATAL;
                    }
                };
                tell_parent_config_read(options);
                // The control socket and metrics endpoint live as long as the runtime.
                let _observers = crate::status::start(
                    &options.observe,
                    settings.pid_paths.of(Role::Vrrp),
                    &observers_tx,
                )
                .await;
                drop(observers_tx);
                // The parent's "Reload complete" waits for the reload to be applied,
                // not just read: the runtime counts the reloads it has finished.
                let mut reloads = vrrp.reloads_done();
                let notify_options = options.clone();
                tokio::spawn(async move {
                    while reloads.changed().await.is_ok() {
                        tell_parent_config_read(&notify_options);
                    }
                });
                // The runtime keeps what it needs: the parsed configuration (~2 KB
                // per instance) goes, and its pages back to the kernel.
                drop(config);
                linux::trim_heap();
                // On a task of its own, not in block_on's future: a task that another
                // task (a pool's receiver) wakes runs in the same scheduler tick, while
                // waking block_on's future costs an extra non-blocking epoll_wait per
                // advert first (tokio's current-thread scheduler).
                if let Err(e) = tokio::spawn(vrrp.run(commands)).await {
                    error!("VRRP event loop: {e}");
                    return exit_code::FATAL;
                }
            }
        }
        exit_code::OK
    });
    drop(pid_file);
    if code == exit_code::OK {
        info!("Stopped");
    }
    if options.role_parent.is_none() {
        info!("Stopped Keepalived v{VERSION} (keepalived-rs)");
    }
    code
}

/// keepalived `notify_config_read()`: one line on the pipe the parent gave us as stdin.
/// The parent logs "Startup complete" / "Reload complete" and tells systemd READY=1
/// once every child has done this.
pub fn tell_parent_config_read(options: &DaemonOptions) {
    if options.role_parent.is_some() {
        let _ = nix::unistd::write(std::io::stdin(), b"\n");
    }
}

/// The signals every keepalived process takes from outside; the parent forwards them
/// to its children, which take the same set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlSignal {
    /// SIGTERM, SIGINT.
    Stop,
    /// SIGHUP.
    Reload,
    /// SIGUSR1.
    DumpData,
    /// SIGUSR2.
    DumpStats,
    /// keepalived's `SIGSTATS_CLEAR`.
    ClearStats,
    /// keepalived's `SIGJSON`.
    DumpJson,
}

/// The handlers of [`ControlSignal`]s, installed together.
pub struct ControlSignals {
    term: Signal,
    int: Signal,
    hup: Signal,
    usr1: Signal,
    usr2: Signal,
    json: Signal,
    stats_clear: Signal,
}

impl ControlSignals {
    pub fn install() -> std::io::Result<ControlSignals> {
        Ok(ControlSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
            json: signal(SignalKind::from_raw(SIGJSON))?,
            stats_clear: signal(SignalKind::from_raw(SIGSTATS_CLEAR))?,
        })
    }

    /// The next signal (cancel safe: usable in `select!`).
    pub async fn recv(&mut self) -> ControlSignal {
        tokio::select! {
            _ = self.term.recv() => ControlSignal::Stop,
            _ = self.int.recv() => ControlSignal::Stop,
            _ = self.hup.recv() => ControlSignal::Reload,
            _ = self.usr1.recv() => ControlSignal::DumpData,
            _ = self.usr2.recv() => ControlSignal::DumpStats,
            _ = self.stats_clear.recv() => ControlSignal::ClearStats,
            _ = self.json.recv() => ControlSignal::DumpJson,
        }
    }
}

/// Turns signals into commands for the runtime. The VRRP child takes every signal the
/// parent forwards; the checker only stop, reload and SIGUSR1 (keepalived sends it
/// nothing else).
fn handle_signals(
    options: DaemonOptions,
    role: Role,
    commands: CommandSender,
) -> std::io::Result<()> {
    let mut signals = ControlSignals::install()?;
    let vrrp = role == Role::Vrrp;
    tokio::spawn(async move {
        loop {
            let command = match signals.recv().await {
                ControlSignal::Stop => Command::Stop,
                ControlSignal::Reload => match reload(&options).await {
                    Some(config) => Command::Reload(Box::new(config)),
                    None => continue,
                },
                ControlSignal::DumpData => Command::DumpData,
                ControlSignal::DumpStats if vrrp => Command::DumpStats { clear: false },
                ControlSignal::ClearStats if vrrp => Command::DumpStats { clear: true },
                ControlSignal::DumpJson if vrrp => Command::DumpJson,
                ControlSignal::DumpStats | ControlSignal::ClearStats | ControlSignal::DumpJson => {
                    continue;
                }
            };
            let stop = matches!(command, Command::Stop);
            let reloading = matches!(command, Command::Reload(_));
            if stop {
                info!("Stopping");
            }
            let sent = commands.send(command).is_ok();
            // The VRRP runtime reports a reload once it has applied it (see `run`).
            if reloading && (!vrrp || !sent) {
                tell_parent_config_read(&options);
            }
            if !sent || stop {
                return;
            }
        }
    });
    Ok(())
}

/// SIGHUP: reads the configuration again, off the event loop (adverts keep going while
/// a large file is read). A configuration `keepalived -t` would fail on (errors, fatal
/// errors, abandoned parsing) is refused: its diagnostics are logged (file:line) and the
/// running one stays.
async fn reload(options: &DaemonOptions) -> Option<config::Config> {
    info!("Reloading");
    let reading = options.clone();
    let loaded = match tokio::task::spawn_blocking(move || daemon::load(&reading)).await {
        Ok(loaded) => loaded,
        Err(e) => {
            error!("Reload: reading the configuration failed: {e}");
            tell_parent_config_read(options);
            return None;
        }
    };
    let code = loaded.exit_code();
    for line in loaded.render().lines() {
        warn!("{line}");
    }
    // Script-security findings (exit code 6) do not stop keepalived from running the
    // configuration, so they do not stop a reload either.
    if code != config::diag::exit_code::OK && code != config::diag::exit_code::SECURITY {
        error!(
            "New configuration has errors (keepalived -t exit code {}) - keeping the running configuration",
            loaded.exit_code()
        );
        tell_parent_config_read(options);
        return None;
    }
    Some(loaded.config)
}
