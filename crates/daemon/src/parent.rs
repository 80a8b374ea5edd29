//! The parent (watchdog) process, as keepalived's `main.c` runs it.
//!
//! - Starts a VRRP child and a checker child (ourselves again, with `--role`) when the
//!   configuration has work for them (`--all` forces both, `-P`/`-C` pick one).
//! - Restarts a child that dies (keepalived `calc_restart_delay()`: the first restart is
//!   immediate, then 1 s doubling up to 60 s; immediate again once a child ran for
//!   more than 60 s); `-R` stops the daemon instead; a child exiting with a permanent
//!   error (FATAL, CONFIG, missing permission) stops the daemon with that code.
//! - Forwards signals: SIGHUP (after its own checks, and `reload_check_config`),
//!   SIGUSR1 to both children (and writes `keepalived_parent.data`), SIGUSR2 /
//!   STATS_CLEAR / JSON to the VRRP child only.
//!   SIGTERM/SIGINT stop the children, wait for them (priority-0 adverts, VIPs
//!   removed) up to `child_wait_time`, then exit.
//! - Writes `-p`, reports READY/RELOADING/STOPPING to systemd.
//!
//! Children are reaped here with `waitpid(-1)` on SIGCHLD (not through tokio::process),
//! because the parent is also the child subreaper: scripts orphaned by a crashed child
//! are re-parented to us and must be reaped too. Each child runs in its own process
//! group, so that the scripts a crashed child left behind can be ended with it
//! (keepalived gives its scripts PDEATHSIG; see [`stop_leftovers`]).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{Signal as SignalStream, SignalKind, signal};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::child::{ControlSignal, ControlSignals, SIGJSON, SIGSTATS_CLEAR};
use crate::daemon::{self, DaemonOptions, ParentConfig, Settings, VERSION, Work, exit_code};
use crate::logging;
use crate::process::{self, PidFile, Role};
use crate::reload_time::{self, FileChanged, ReloadTime, TimeError};
use crate::systemd::{NOTIFY_SOCKET, Notifier};

/// keepalived `CHILD_WAIT_SECS`: how long a stop waits for the children.
const DEFAULT_CHILD_WAIT: Duration = Duration::from_secs(5);
/// keepalived gives the `reload_check_config` run 5 s.
const CONFIG_CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// A child that ran longer than this is restarted at once.
const STABLE_RUN: Duration = Duration::from_secs(60);
/// The longest respawn delay.
const MAX_RESTART_DELAY: u64 = 60;

/// The children, in keepalived's start order (checker first).
const CHILDREN: [Role; 2] = [Role::Checker, Role::Vrrp];

/// Runs the parent; returns the exit code.
pub fn run(options: &DaemonOptions) -> i32 {
    // The parent's log ident needs `instance`/`net_namespace` from the configuration,
    // but the namespace must be entered before anything else: read it first, log after.
    let loaded = match daemon::enter_namespace_and_load(options) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let settings = Settings::of(options, &loaded.config);
    logging::init(&options.log_for(Role::Parent, &settings));
    info!("Starting Keepalived v{VERSION} (keepalived-rs)");
    if let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        info!("Running on Linux {}", release.trim());
    }
    let quoted: Vec<String> = options.args.iter().map(|a| format!("'{a}'")).collect();
    info!("Command line: {}", quoted.join(" "));
    info!("Opening file '{}'.", options.config_file.display());
    if loaded.diags.aborted || loaded.diags.exit_override == Some(exit_code::NO_CONFIG) {
        // keepalived's parent stops here (parse abandoned, missing include): the
        // children would only say the same.
        for line in loaded.render().lines() {
            warn!("{line}");
        }
        return loaded.exit_code();
    }
    if settings.instance.is_some() || settings.namespace.is_some() {
        info!(
            "Changing syslog ident to {}",
            process::syslog_ident(
                Role::Parent,
                settings.namespace.as_deref(),
                settings.instance.as_deref()
            )
        );
    }
    if !options.vrrp_only && !options.checker_only && !loaded.config.bfd.instances.is_empty() {
        warn!("bfd_instance configuration found: the BFD process is not implemented yet");
    }

    let paths = &settings.pid_paths;
    daemon::create_pid_dirs(&[&paths.parent, &paths.vrrp, &paths.checker]);
    // keepalived `keepalived_running()`: any of our pid files naming a live process.
    let work = Work::of(&loaded.config);
    let mine = [Role::Parent, Role::Vrrp, Role::Checker]
        .into_iter()
        .filter(|role| options.wants(*role, work));
    for role in mine {
        if let Some(pid) = process::running_pid(paths.of(role)) {
            info!("daemon is already running (pid {pid})");
            return exit_code::OK;
        }
    }
    let pid_file = match PidFile::create(&paths.parent) {
        Ok(file) => file,
        Err(e) => {
            // keepalived `pidfile_write()` + main(): this line, then a normal stop
            // with exit status 0.
            info!(
                "pidfile_write : Cannot open {} pidfile",
                paths.parent.display()
            );
            warn!("{e}");
            return exit_code::OK;
        }
    };
    let core_pattern = options.core_pattern.as_deref().and_then(|pattern| {
        process::set_core_pattern(pattern)
            .map_err(|e| info!("Unable to read/write core_pattern: {e}"))
            .ok()
    });
    // keepalived: PR_SET_CHILD_SUBREAPER, so the children's children are not lost to
    // init when a child dies.
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        warn!("cannot become child subreaper: {e}");
    }

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
    let code = runtime.block_on(async {
        // The parent keeps only what it asks of the configuration (the children
        // read their own), and gives the rest back to the kernel.
        let config::Loaded {
            config,
            diags,
            sources,
        } = loaded;
        drop((diags, sources));
        let config = ParentConfig::of(config);
        linux::trim_heap();
        let mut watchdog = match Watchdog::new(options, settings.clone(), config) {
            Ok(w) => w,
            Err(e) => {
                error!("cannot install signal handlers: {e}");
                return exit_code::FATAL;
            }
        };
        watchdog.run().await
    });
    if let Some(previous) = core_pattern {
        process::restore_core_pattern(&previous);
    }
    drop(pid_file);
    info!("Stopped Keepalived v{VERSION} (keepalived-rs)");
    code
}

/// A child process slot.
struct Slot {
    role: Role,
    pid: Option<Pid>,
    started: Instant,
    /// keepalived's `next_restart_delay`, in seconds.
    next_delay: u64,
    restart_at: Option<Instant>,
    /// The delayed restart completes a startup or reload this child had not
    /// reported yet (systemd still waits for READY=1).
    restart_tracked: bool,
}

/// The `reload_check_config` run in progress.
struct ConfigCheck {
    pid: Pid,
    deadline: Instant,
    log: String,
    killed: bool,
}

/// What the pipe readers report.
struct ConfigRead {
    pid: Pid,
}

struct Signals {
    /// What the parent acts on or forwards.
    control: ControlSignals,
    chld: SignalStream,
}

struct Watchdog<'a> {
    options: &'a DaemonOptions,
    settings: Settings,
    config: ParentConfig,
    slots: Vec<Slot>,
    notifier: Notifier,
    signals: Signals,
    reads_tx: UnboundedSender<ConfigRead>,
    reads_rx: UnboundedReceiver<ConfigRead>,
    /// Children that have not yet reported reading their configuration.
    pending: HashSet<Role>,
    /// Startup reported already (later completions are reloads).
    started_up: bool,
    reload_queued: bool,
    check: Option<ConfigCheck>,
    /// Set when the daemon must stop, with the exit code.
    terminate: Option<i32>,
    /// `reload_time_file` changes, when it is configured.
    reload_time_changes: Option<UnboundedReceiver<FileChanged>>,
    /// The scheduled reload and when it is due on our clock.
    scheduled_reload: Option<(ReloadTime, Instant)>,
}

impl<'a> Watchdog<'a> {
    fn new(
        options: &'a DaemonOptions,
        settings: Settings,
        config: ParentConfig,
    ) -> std::io::Result<Watchdog<'a>> {
        let signals = Signals {
            control: ControlSignals::install()?,
            chld: signal(SignalKind::child())?,
        };
        let (reads_tx, reads_rx) = unbounded_channel();
        let now = Instant::now();
        Ok(Watchdog {
            options,
            settings,
            config,
            slots: CHILDREN
                .into_iter()
                .map(|role| Slot {
                    role,
                    pid: None,
                    started: now,
                    next_delay: 0,
                    restart_at: None,
                    restart_tracked: false,
                })
                .collect(),
            notifier: Notifier::from_env(),
            signals,
            reads_tx,
            reads_rx,
            pending: HashSet::new(),
            started_up: false,
            reload_queued: false,
            check: None,
            terminate: None,
            reload_time_changes: None,
            scheduled_reload: None,
        })
    }

    async fn run(&mut self) -> i32 {
        let mut any = false;
        for role in CHILDREN {
            if self.options.wants(role, self.config.work) {
                self.start_child(role, true);
                any = true;
            }
        }
        if !any {
            info!("Warning - keepalived has no configuration to run");
            self.report_loaded();
        }
        self.start_reload_monitor();
        while self.terminate.is_none() {
            let wake = self.next_wake();
            tokio::select! {
                _ = self.signals.chld.recv() => self.reap(false),
                Some(read) = self.reads_rx.recv() => self.config_read(read.pid),
                Some(FileChanged) = next_change(&mut self.reload_time_changes) => {
                    self.read_reload_time();
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                    self.timers();
                }
                control = self.signals.control.recv() => self.control_signal(control),
            }
        }
        let code = self.terminate.unwrap_or(exit_code::OK);
        self.stop_children().await;
        code
    }

    fn control_signal(&mut self, control: ControlSignal) {
        match control {
            ControlSignal::Stop => self.terminate = Some(exit_code::OK),
            ControlSignal::Reload => self.reload_signal(),
            ControlSignal::DumpData => {
                self.forward(Signal::SIGUSR1, &[Role::Vrrp, Role::Checker]);
                self.write_parent_data();
            }
            ControlSignal::DumpStats => self.forward(Signal::SIGUSR2, &[Role::Vrrp]),
            ControlSignal::DumpJson => self.forward_raw(SIGJSON),
            ControlSignal::ClearStats => self.forward_raw(SIGSTATS_CLEAR),
        }
    }

    fn slot(&mut self, role: Role) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.role == role)
    }

    fn next_wake(&self) -> Option<Instant> {
        let restarts = self.slots.iter().filter_map(|s| s.restart_at);
        let check = self.check.as_ref().map(|c| c.deadline);
        let reload = self.scheduled_reload.map(|(_, due)| due);
        restarts.chain(check).chain(reload).min()
    }

    /// Delayed restarts, the config-check timeout and the scheduled reload.
    fn timers(&mut self) {
        let now = Instant::now();
        if let Some((time, due)) = self.scheduled_reload
            && due <= now
        {
            self.scheduled_reload = None;
            self.scheduled_reload_due(time);
        }
        let due: Vec<Role> = self
            .slots
            .iter()
            .filter(|s| s.restart_at.is_some_and(|at| at <= now))
            .map(|s| s.role)
            .collect();
        for role in due {
            let track = self.slot(role).is_some_and(|slot| {
                slot.restart_at = None;
                slot.restart_tracked
            });
            self.start_child(role, track);
        }
        if let Some(check) = self.check.as_mut()
            && check.deadline <= now
        {
            // keepalived: SIGTERM, then SIGKILL 2 s later.
            let signal = if check.killed {
                Signal::SIGKILL
            } else {
                info!("config check timed out");
                Signal::SIGTERM
            };
            check.killed = true;
            check.deadline = now + Duration::from_secs(2);
            let _ = killpg(check.pid, signal);
        }
    }

    /// Starts `role`'s child: ourselves again, same options plus `--role`. `track`:
    /// its reading of the configuration completes a startup or reload (a respawn
    /// completes nothing, as with keepalived).
    fn start_child(&mut self, role: Role, track: bool) {
        let spawned = spawn_self(
            &self.options.args,
            &[
                format!("--role={}", role.arg()),
                format!("--role-parent={}", std::process::id()),
            ],
            self.reads_tx.clone(),
        );
        match spawned {
            Ok(pid) => {
                info!("Starting {} child process, pid={pid}", role.title());
                if let Some(slot) = self.slot(role) {
                    slot.pid = Some(pid);
                    slot.started = Instant::now();
                    slot.restart_at = None;
                }
                if track {
                    self.pending.insert(role);
                }
            }
            Err(e) => {
                error!("{} child process: cannot start: {e}", role.title());
                self.child_gone(role, None);
            }
        }
    }

    /// A child said it has read its configuration (start or reload).
    fn config_read(&mut self, pid: Pid) {
        let Some(role) = self.role_of(pid) else {
            return;
        };
        if self.pending.remove(&role) && self.pending.is_empty() {
            self.report_loaded();
        }
    }

    /// keepalived `child_reloaded_thread()`: every child has read its configuration.
    fn report_loaded(&mut self) {
        info!(
            "{} complete",
            if self.started_up { "Reload" } else { "Startup" }
        );
        self.started_up = true;
        self.notifier.ready();
        if self.reload_queued {
            self.reload_queued = false;
            self.start_reload();
        }
    }

    /// The child running as `pid`, if it is one of ours.
    fn role_of(&self, pid: Pid) -> Option<Role> {
        self.slots
            .iter()
            .find(|s| s.pid == Some(pid))
            .map(|s| s.role)
    }

    /// Collects every exited child (ours and orphans re-parented to us). While
    /// `stopping`, a dead child is only forgotten: not reported, not restarted.
    fn reap(&mut self, stopping: bool) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(status) => {
                    let Some(pid) = status.pid() else {
                        continue;
                    };
                    if !stopping && self.check.as_ref().is_some_and(|c| c.pid == pid) {
                        self.config_check_done(status);
                        continue;
                    }
                    let Some(role) = self.role_of(pid) else {
                        continue;
                    };
                    self.forget_child(role, pid);
                    if !stopping {
                        self.child_died(role, status);
                    }
                }
            }
        }
    }

    /// Clears `role`'s slot after its process `pid` exited, with the pid file it
    /// left and the scripts still in its process group.
    fn forget_child(&mut self, role: Role, pid: Pid) {
        if let Some(slot) = self.slot(role) {
            slot.pid = None;
        }
        process::remove_stale_pid_file(self.settings.pid_paths.of(role), pid.as_raw());
        stop_leftovers(pid);
    }

    fn child_died(&mut self, role: Role, status: WaitStatus) {
        let program = process::syslog_ident(role, None, None);
        let pid = status.pid();
        match status {
            WaitStatus::Exited(_, code) => {
                if let Some(name) = exit_code::permanent(code) {
                    info!("{program} exited with permanent error {name}. Terminating");
                    let errno = if code == exit_code::MISSING_PERMISSION {
                        libc::EPERM
                    } else {
                        libc::EINVAL
                    };
                    self.notifier.errno(errno);
                    self.terminate = Some(code);
                    return;
                }
                if code != 0 {
                    info!("{program} exited with status {code}");
                }
            }
            WaitStatus::Signaled(_, signal, _) => {
                let hint = if signal == Signal::SIGKILL {
                    " - has rlimit_rttime been exceeded?"
                } else {
                    ""
                };
                info!(
                    "{program} exited due to signal {} ({}){hint}",
                    signal as i32,
                    signal_description(signal)
                );
            }
            _ => {}
        }
        self.child_gone(role, pid);
    }

    /// keepalived `vrrp_respawn_thread()`: restart, or stop with `-R`.
    fn child_gone(&mut self, role: Role, pid: Option<Pid>) {
        // A child that died before reading its configuration: its replacement
        // completes the startup or reload in its place.
        let was_pending = self.pending.remove(&role);
        let pid_text = pid.map_or_else(|| "-".to_string(), |p| p.to_string());
        if self.options.dont_respawn {
            error!("{} child process({pid_text}) died: Exiting", role.title());
            self.terminate = Some(exit_code::OK);
            return;
        }
        error!(
            "{} child process({pid_text}) died: Respawning",
            role.title()
        );
        let Some(slot) = self.slot(role) else {
            return;
        };
        let delay = restart_delay(slot.started.elapsed(), &mut slot.next_delay);
        if let Some(delay) = delay {
            info!(
                "Restart of {} process delayed {delay} seconds to limit respawn rate",
                role.title()
            );
        }
        match delay {
            Some(secs) if secs > 0 => {
                slot.restart_at = Some(Instant::now() + Duration::from_secs(secs));
                slot.restart_tracked = was_pending;
            }
            _ => self.start_child(role, was_pending),
        }
    }

    /// keepalived `print_parent_data()`: SIGUSR1 also dumps the parent's global
    /// definitions to `keepalived_parent.data`.
    fn write_parent_data(&self) {
        info!(
            "Printing parent data for process({}) on signal",
            std::process::id()
        );
        let name = crate::dump::data_file_name("keepalived_parent.data", &self.config.global);
        crate::dump::write_file(
            &name,
            &crate::dump::data::render_parent(&self.config.global),
        );
    }

    fn forward(&self, signal: Signal, roles: &[Role]) {
        for slot in self.slots.iter().filter(|s| roles.contains(&s.role)) {
            if let Some(pid) = slot.pid {
                let _ = kill(pid, signal);
            }
        }
    }

    /// Real-time signals (nix's `Signal` has only the classic ones): VRRP child only.
    fn forward_raw(&self, signal: i32) {
        let pid = self
            .slots
            .iter()
            .find(|s| s.role == Role::Vrrp)
            .and_then(|s| s.pid);
        if let Some(pid) = pid
            && let Err(e) = send_raw_signal(pid, signal)
        {
            warn!("cannot forward signal {signal}: {e}");
        }
    }

    /// SIGHUP: keepalived queues it while a reload is still being read.
    fn reload_signal(&mut self) {
        if !self.pending.is_empty() || self.check.is_some() {
            self.reload_queued = true;
            if self.options.log.detail > 0 {
                info!("Reload already in progress, request queued");
            }
            return;
        }
        self.start_reload();
    }

    fn start_reload(&mut self) {
        let Some(check_log) = self.config.global.reload_check_config.clone() else {
            self.do_reload(true);
            return;
        };
        // keepalived `start_validate_reload_conf_child()`: run `keepalived -t` with
        // the same options, its output in the check log, before touching anything.
        if self.options.log.detail > 0 {
            info!("validate conf before Reload");
        }
        if let Err(e) = std::fs::File::create(&check_log) {
            info!("truncate of config check log {check_log} failed - {e}");
        }
        self.create_reload_file();
        match spawn_config_check(&self.options.args, &check_log) {
            Ok(pid) => {
                self.check = Some(ConfigCheck {
                    pid,
                    deadline: Instant::now() + CONFIG_CHECK_TIMEOUT,
                    log: check_log,
                    killed: false,
                });
            }
            Err(e) => {
                info!("Could not run config-test: {e}");
                self.remove_reload_file();
            }
        }
    }

    fn config_check_done(&mut self, status: WaitStatus) {
        let Some(check) = self.check.take() else {
            return;
        };
        self.remove_reload_file();
        match status {
            WaitStatus::Exited(_, 0) => self.do_reload(false),
            WaitStatus::Exited(..) => {
                info!(
                    "New config failed validation, see {} for details",
                    check.log
                );
                self.after_refused_reload();
            }
            other => {
                info!("reload_check exited abnormally: {other:?}");
                self.after_refused_reload();
            }
        }
    }

    fn after_refused_reload(&mut self) {
        if self.reload_queued {
            self.reload_queued = false;
            self.start_reload();
        }
    }

    /// keepalived `do_reload()`: the parent reads the configuration (refusing changes
    /// a reload cannot make), then signals the children, starting any that the new
    /// configuration needs and that is not running.
    fn do_reload(&mut self, mark_reload_file: bool) {
        info!("Reloading ...");
        info!("Opening file '{}'.", self.options.config_file.display());
        if mark_reload_file {
            self.create_reload_file();
        }
        let loaded = daemon::load_globals(self.options);
        if mark_reload_file {
            self.remove_reload_file();
        }
        let new = Settings::of(self.options, &loaded.config);
        let mut unsupported = false;
        if new.namespace != self.settings.namespace {
            info!("Cannot change network namespace at a reload - please restart keepalived");
            unsupported = true;
        }
        if new.instance != self.settings.instance {
            info!("Cannot change instance name at a reload - please restart keepalived");
            unsupported = true;
        }
        if unsupported {
            self.after_refused_reload();
            return;
        }
        self.config = ParentConfig::of(loaded.config);
        linux::trim_heap();
        self.notifier.reloading();
        for role in CHILDREN {
            let (pid, waiting) = match self.slots.iter().find(|s| s.role == role) {
                Some(slot) => (slot.pid, slot.restart_at.is_some()),
                None => continue,
            };
            match pid {
                Some(pid) => {
                    let _ = kill(pid, Signal::SIGHUP);
                    self.pending.insert(role);
                }
                None if !waiting && self.options.wants(role, self.config.work) => {
                    self.start_child(role, true);
                }
                None => {}
            }
        }
        if self.pending.is_empty() {
            self.report_loaded();
        }
    }

    /// keepalived `start_reload_monitor()`: watch `reload_time_file`, read it now.
    fn start_reload_monitor(&mut self) {
        let Some(path) = self.config.global.reload_time_file.clone() else {
            return;
        };
        let (tx, rx) = unbounded_channel();
        match reload_time::watch(PathBuf::from(&path), tx) {
            Ok(()) => self.reload_time_changes = Some(rx),
            Err(e) => {
                info!("Unable to monitor reload timer file {path} - ignoring: {e}");
                return;
            }
        }
        self.read_reload_time();
    }

    /// keepalived `read_file()` of the reload monitor: (re)schedule or cancel.
    fn read_reload_time(&mut self) {
        let Some(path) = self.config.global.reload_time_file.clone() else {
            return;
        };
        let Some(line) = reload_time::read_file(std::path::Path::new(&path)) else {
            self.cancel_scheduled_reload();
            return;
        };
        let time = match reload_time::parse(&line, std::time::SystemTime::now()) {
            Ok(time) => time,
            Err(e) => {
                info!("{e}");
                match e {
                    TimeError::Past(_) => info!("Reload date/time is in the past - ignoring"),
                    _ => info!("Invalid reload time '{line}' specified - ignoring"),
                }
                self.cancel_scheduled_reload();
                return;
            }
        };
        let previous = self.scheduled_reload.map(|(t, _)| t);
        if previous.map(|p| p.at) == Some(time.at) {
            return;
        }
        let wanted = reload_time::format(time.at);
        match previous {
            Some(old) => info!(
                "Reload time updated from {} to {wanted}",
                reload_time::format(old.at)
            ),
            None => info!("Scheduling reload for {wanted}"),
        }
        let wait = time
            .at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        self.scheduled_reload = Some((time, Instant::now() + wait));
    }

    fn cancel_scheduled_reload(&mut self) {
        if let Some((time, _)) = self.scheduled_reload.take() {
            info!(
                "Cancelling reload scheduled for {}",
                reload_time::format(time.at)
            );
        }
    }

    /// keepalived `reload_timer_thread()`: the file goes (unless it repeats a time of
    /// day), then a reload as on SIGHUP.
    fn scheduled_reload_due(&mut self, time: ReloadTime) {
        if let Some(path) = self.config.global.reload_time_file.clone() {
            if !self.config.global.reload_repeat || time.date_given {
                let _ = std::fs::remove_file(&path);
            } else {
                // Repeating: the same time of day, tomorrow.
                self.read_reload_time();
            }
        }
        self.reload_signal();
    }

    fn create_reload_file(&self) {
        if let Some(path) = self.settings.reload_file(&self.config.global)
            && let Err(e) = std::fs::write(&path, "")
        {
            info!("Failed to create reload file ({}) - {e}", path.display());
        }
    }

    fn remove_reload_file(&self) {
        if let Some(path) = self.settings.reload_file(&self.config.global) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// keepalived `sigend()`: SIGTERM to every child, wait for them up to
    /// `child_wait_time`, then SIGKILL what is left.
    async fn stop_children(&mut self) {
        info!("Stopping");
        self.notifier.stopping();
        self.forward(Signal::SIGTERM, &CHILDREN);
        if let Some(check) = &self.check {
            let _ = killpg(check.pid, Signal::SIGTERM);
        }
        let wait = self
            .config
            .global
            .child_wait_time
            .unwrap_or(DEFAULT_CHILD_WAIT);
        let mut deadline = Instant::now() + wait;
        let mut killed = false;
        loop {
            self.reap(true);
            if self.slots.iter().all(|s| s.pid.is_none()) {
                break;
            }
            if Instant::now() >= deadline {
                if killed {
                    break;
                }
                for slot in &self.slots {
                    if let Some(pid) = slot.pid {
                        info!(
                            "{} child process({pid}) did not stop in {} s - killing it",
                            slot.role.title(),
                            wait.as_secs()
                        );
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                }
                killed = true;
                deadline = Instant::now() + Duration::from_secs(2);
            }
            tokio::select! {
                _ = self.signals.chld.recv() => {}
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }
}

/// The next change of `reload_time_file`, or never when it is not watched.
async fn next_change(changes: &mut Option<UnboundedReceiver<FileChanged>>) -> Option<FileChanged> {
    match changes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// keepalived `calc_restart_delay()`: `None` after a run longer than a minute (restart
/// at once, sequence reset); otherwise the delay to use now, 0 for the first restart,
/// then 1, 2, 4 ... 32, 60 seconds.
fn restart_delay(ran: Duration, next_delay: &mut u64) -> Option<u64> {
    if ran > STABLE_RUN {
        *next_delay = 0;
        return None;
    }
    let delay = *next_delay;
    *next_delay = match delay {
        0 => 1,
        d if d > 30 => MAX_RESTART_DELAY,
        d => d * 2,
    };
    Some(delay)
}

/// Scripts a dead child left in its process group: keepalived's scripts die with
/// their parent (PDEATHSIG); ours are ended here, by the group the child led.
fn stop_leftovers(child: Pid) {
    let _ = killpg(child, Signal::SIGTERM);
}

fn signal_description(signal: Signal) -> &'static str {
    match signal {
        Signal::SIGKILL => "Killed",
        Signal::SIGTERM => "Terminated",
        Signal::SIGSEGV => "Segmentation fault",
        Signal::SIGABRT => "Aborted",
        Signal::SIGINT => "Interrupt",
        Signal::SIGHUP => "Hangup",
        Signal::SIGBUS => "Bus error",
        Signal::SIGILL => "Illegal instruction",
        Signal::SIGFPE => "Floating point exception",
        _ => "Signal",
    }
}

/// `kill(2)` with a raw signal number (real-time signals).
fn send_raw_signal(pid: Pid, signal: i32) -> std::io::Result<()> {
    linux::send_signal(pid.as_raw(), signal)
}

/// Our own executable; keepalived strips " (deleted)" so that an upgraded binary
/// is used for the restarted children.
fn own_executable() -> std::io::Result<PathBuf> {
    let exe = std::fs::read_link("/proc/self/exe").or_else(|_| std::env::current_exe())?;
    let text = exe.to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(path) => PathBuf::from(path),
        None => exe,
    })
}

/// Starts ourselves with `args` (minus argv[0]) plus `extra`, in a process group of its
/// own, with stdin the write end of a pipe on which it reports reading its
/// configuration (a task of the event loop forwards each report).
fn spawn_self(
    args: &[String],
    extra: &[String],
    reads: UnboundedSender<ConfigRead>,
) -> std::io::Result<Pid> {
    let (reader, writer) = std::io::pipe()?;
    let mut command = std::process::Command::new(own_executable()?);
    command
        .args(args.iter().skip(1))
        .args(extra)
        .env_remove(NOTIFY_SOCKET)
        .stdin(writer);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn()?;
    // Dropping `command` closes our copy of the write end, so the reader sees EOF
    // when the child exits.
    drop(command);
    let raw = i32::try_from(child.id()).map_err(std::io::Error::other)?;
    let pid = Pid::from_raw(raw);
    // The child is reaped by waitpid(-1) in the event loop, not through `child`.
    drop(child);
    // Read on the event loop rather than by a thread of its own: a thread costs its
    // stack and a malloc arena (~50 kB resident) for a line per (re)load.
    let mut reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())?;
    tokio::spawn(async move {
        let mut buf = [0u8; 64];
        while let Ok(n) = reader.read(&mut buf).await {
            if n == 0 {
                return;
            }
            for _ in buf.iter().take(n).filter(|b| **b == b'\n') {
                if reads.send(ConfigRead { pid }).is_err() {
                    return;
                }
            }
        }
    });
    Ok(pid)
}

/// `reload_check_config`: `keepalived <same options> --config-test=LOG`.
fn spawn_config_check(args: &[String], log: &str) -> std::io::Result<Pid> {
    let mut command = std::process::Command::new(own_executable()?);
    command
        .args(args.iter().skip(1))
        .arg(format!("--config-test={log}"))
        .env_remove(NOTIFY_SOCKET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn()?;
    let raw = i32::try_from(child.id()).map_err(std::io::Error::other)?;
    Ok(Pid::from_raw(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_delays_follow_keepalived() {
        let mut next = 0;
        let quick = Duration::from_secs(1);
        let delays: Vec<Option<u64>> = (0..10).map(|_| restart_delay(quick, &mut next)).collect();
        let expected = [0, 1, 2, 4, 8, 16, 32, 60, 60, 60];
        assert_eq!(
            delays,
            expected.iter().map(|d| Some(*d)).collect::<Vec<_>>()
        );
        // A child that ran more than a minute is restarted at once and the sequence
        // starts again.
        assert_eq!(restart_delay(Duration::from_secs(61), &mut next), None);
        assert_eq!(restart_delay(quick, &mut next), Some(0));
        assert_eq!(restart_delay(quick, &mut next), Some(1));
    }
}
