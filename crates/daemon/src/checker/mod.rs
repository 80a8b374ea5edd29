//! The checker runtime: every `virtual_server`'s real servers checked, their results
//! applied to the kernel's IPVS table (crate `lvs` over crate `ipvs`), notify scripts,
//! FIFO lines and alerts sent. It runs in the checker child process
//! (`crate::child`, started by the parent when the configuration has virtual servers
//! or with `-C`).
//!
//! keepalived 2.2.7 (`check/check_daemon.c`, `check/ipwrapper.c`):
//! * start: `lvs_flush`, track files read, then the table (virtual servers, live
//!   real servers, sorry servers of virtual servers without quorum);
//! * a checker transition: its checker line ("TCP connection to [..]:tcp:80
//!   success."); when the real server's liveness changes, "Adding service .. to VS
//!   .." / "Removing service .. from VS .." ("Enabling"/"Disabling" with
//!   `inhibit_on_failure`), the IPVS change, `notify_up`/`notify_down` (run with the
//!   arguments as configured, nothing appended), the FIFO line `RS <rs> <vs>
//!   UP|DOWN`, then quorum: "Gained quorum ..."/"Lost quorum ...", sorry server,
//!   `quorum_up`/`quorum_down`, FIFO line `VS <vs> UP|DOWN`;
//! * reload: unchanged real servers keep their IPVS entries (and counters) and
//!   their checkers' up/down state; every checker is scheduled afresh, as
//!   keepalived re-registers its checker threads;
//! * stop: our IPVS entries removed (`-I` keeps them, `lvs_flush_on_stop` flushes),
//!   `lvs_timeouts` restored.
//!
//! smtp_alert: keepalived mails on checker and quorum transitions; they go through
//! `crate::alert` (the same sender as VRRP's), when `smtp_server` and
//! `notification_email` are configured and the server's `smtp_alert` is on.

mod dump;
pub mod format;

use std::collections::HashMap;

use check::driver::{self, Aggregator, CheckerId, CheckerTask, Report};
use check::engine::Transition;
use config::model::global::GlobalConfig;
use config::model::lvs::{LvsConfig, RealServer, VirtualServer};
use config::model::vrrp::TrackFile;
use ipvs::reconcile::{ApplyReport, Kernel};
use lvs::{Lvs, QuorumChange, TimeoutKeeper};
use thiserror::Error;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::control::{Command, CommandReceiver};
use crate::vrrp::fifo::NotifyFifo;
use crate::vrrp::scripts::run_notify;

/// Why the checker runtime cannot start.
#[derive(Debug, Error)]
pub enum CheckerError {
    #[error("IPVS: {0}")]
    Ipvs(String),
    #[error("checker configuration: {0}")]
    Build(#[from] check::probe::BuildError),
}

/// Daemon-level options for the checker runtime.
#[derive(Debug, Clone, Default)]
pub struct CheckerOptions {
    /// `-D`: detail logs.
    pub log_detail: bool,
    /// `-I`: leave the IPVS table in place at exit.
    pub dont_release_ipvs: bool,
}

/// Reports waiting for the runtime; checkers block when it is full.
const REPORT_QUEUE: usize = 1024;

/// The checker runtime. See the module documentation.
pub struct CheckerRuntime {
    options: CheckerOptions,
    global: GlobalConfig,
    lvs: Lvs,
    kernel: Box<dyn Kernel + Send>,
    /// A second handle for `lvs_timeouts` (only with the real kernel).
    timeouts: Option<(ipvs::Ipvs, TimeoutKeeper)>,
    aggregator: Aggregator,
    handles: Vec<JoinHandle<()>>,
    reports: mpsc::Receiver<Report>,
    fifos: Vec<NotifyFifo>,
    track_files: Vec<TrackFile>,
    /// Started without virtual servers and without ip_vs; a reload that brings
    /// virtual servers connects.
    idle: bool,
    /// The SMTP sender, when the configuration sends mail.
    alerter: Option<crate::alert::Alerter>,
}

impl CheckerRuntime {
    /// Builds the virtual servers of `config` in the kernel's IPVS table and starts
    /// their checks.
    pub async fn start(
        config: &config::Config,
        options: CheckerOptions,
    ) -> Result<CheckerRuntime, CheckerError> {
        if config.lvs.virtual_servers.is_empty() {
            // Nothing to program (`--all` without virtual servers): the kernel
            // need not even have ip_vs.
            let idle = Box::new(ipvs::reconcile::SimulatedKernel::default());
            let mut runtime = CheckerRuntime::start_with_kernel(config, options, idle).await?;
            runtime.idle = true;
            return Ok(runtime);
        }
        let ipvs = ipvs::Ipvs::connect().map_err(|e| CheckerError::Ipvs(e.to_string()))?;
        let timeouts = ipvs::Ipvs::connect()
            .ok()
            .map(|second| (second, TimeoutKeeper::new()));
        let mut runtime = CheckerRuntime::build(config, options, Box::new(ipvs))?;
        runtime.timeouts = timeouts;
        runtime.apply_timeouts();
        runtime.initial_sync(config.global.lvs_flush);
        Ok(runtime)
    }

    /// As [`CheckerRuntime::start`] over any [`Kernel`] (a simulated table in tests,
    /// where this host has no `ip_vs`).
    pub async fn start_with_kernel(
        config: &config::Config,
        options: CheckerOptions,
        kernel: Box<dyn Kernel + Send>,
    ) -> Result<CheckerRuntime, CheckerError> {
        let mut runtime = CheckerRuntime::build(config, options, kernel)?;
        runtime.initial_sync(config.global.lvs_flush);
        Ok(runtime)
    }

    fn build(
        config: &config::Config,
        options: CheckerOptions,
        kernel: Box<dyn Kernel + Send>,
    ) -> Result<CheckerRuntime, CheckerError> {
        let track_files = config.vrrp.track_files.clone();
        let tasks = driver::checkers_with_track_files(&config.lvs, &track_files)?;
        let aggregator = Aggregator::new(&tasks);
        let lvs = Lvs::with_health(config.lvs.clone(), None, |vs, rs| {
            known_health(&config.lvs, &aggregator, vs, rs)
        });
        let (sender, reports) = mpsc::channel(REPORT_QUEUE);
        let alerter = crate::alert::Alerter::start(config, options.log_detail);
        let mut runtime = CheckerRuntime {
            options,
            global: config.global.clone(),
            lvs,
            kernel,
            timeouts: None,
            aggregator,
            handles: Vec::new(),
            reports,
            fifos: Vec::new(),
            track_files,
            idle: false,
            alerter,
        };
        runtime.open_fifos();
        runtime.activate(tasks, sender, |_| None);
        Ok(runtime)
    }

    fn open_fifos(&mut self) {
        self.fifos.clear();
        self.fifos
            .extend(NotifyFifo::open(&self.global.notify_fifo, ""));
        self.fifos
            .extend(NotifyFifo::open(&self.global.lvs_notify_fifo, "lvs_"));
    }

    fn apply_timeouts(&mut self) {
        if let Some((ipvs, keeper)) = &mut self.timeouts
            && let Err(e) = keeper.apply(ipvs, &self.global.lvs_timeouts)
        {
            warn!("Unable to set lvs_timeouts: {e}");
        }
    }

    /// Logs "Activating healthchecker ..." for each checker and spawns them.
    fn activate(
        &mut self,
        tasks: Vec<CheckerTask>,
        sender: mpsc::Sender<Report>,
        resumed: impl Fn(CheckerId) -> Option<bool>,
    ) {
        let config = self.lvs.config();
        for task in &tasks {
            if let Some((vs, rs)) = server(config, task.id.vs, task.id.rs) {
                info!(
                    "Activating healthchecker for service {} for VS {}",
                    format::rs(vs, rs),
                    format::vs(vs)
                );
            }
        }
        self.handles = driver::spawn_resumed(tasks, sender, resumed);
    }

    /// The first table, and the start-up quorum reports.
    fn initial_sync(&mut self, lvs_flush: bool) {
        if lvs_flush {
            info!("Flushing LVS table");
        }
        match self.lvs.start(self.kernel.as_mut(), lvs_flush) {
            Ok(sync) => log_sync(&sync.report, &sync.warnings),
            Err(e) => warn!("{e}"),
        }
        let mut changes = self.lvs.take_quorum_changes();
        // keepalived judges quorum before any real server is in the table
        // (`set_quorum_states` at configuration time: down), so a virtual server
        // that starts with quorum "gains" it at start: log, quorum_up, FIFO line.
        let config = self.lvs.config();
        for (index, (vs, state)) in config
            .virtual_servers
            .iter()
            .zip(&self.lvs.state().virtual_servers)
            .enumerate()
        {
            let threshold = i64::from(vs.quorum) + i64::from(vs.hysteresis);
            if state.quorum_up && threshold > 0 {
                changes.push(QuorumChange {
                    vs: index,
                    up: true,
                    weight_sum: state.weight_sum(),
                    threshold,
                });
            }
        }
        for change in changes {
            self.quorum_changed(change, true);
        }
    }

    /// Runs until [`Command::Stop`] arrives or every sender is gone.
    pub async fn run(mut self, mut commands: CommandReceiver) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Stop) => break,
                    Some(Command::Reload(config)) => self.reload(&config),
                    Some(Command::DumpData) => self.dump_data(),
                    Some(other) => debug!("checker: {other:?} has nothing to do here"),
                },
                Some(report) = self.reports.recv() => self.handle(report),
            }
        }
        self.stop();
    }

    /// The configuration in force.
    pub fn lvs(&self) -> &Lvs {
        &self.lvs
    }

    fn handle(&mut self, report: Report) {
        let id = report.id;
        let Some((vs, rs)) = server(self.lvs.config(), id.vs, id.rs) else {
            return;
        };
        let (vs_name, rs_name) = (format::vs(vs), format::rs(vs, rs));
        let kind = rs.checkers.get(id.checker).map(|c| c.kind.clone());
        let smtp_alert = rs.smtp_alert.unwrap_or(false);
        let rs_was_alive = self.aggregator.alive(id.vs, id.rs);
        if let (Some(kind), Some(transition)) = (&kind, report.transition) {
            match transition {
                Transition::Up => info!("{}", format::checker_up(kind, &rs_name, &vs_name)),
                Transition::Down { retries } => {
                    info!(
                        "{}",
                        format::checker_down(kind, &rs_name, &vs_name, retries)
                    );
                    if let Some(reason) = &report.reason {
                        info!("{rs_name}: {reason}");
                    }
                }
            }
        }
        let weight_before = self.rs_weight(id.vs, id.rs);
        let alive_before = self.rs_alive(id.vs, id.rs);
        if !driver::apply(&mut self.aggregator, &report, &mut self.lvs) {
            return;
        }
        let alive_after = self.rs_alive(id.vs, id.rs);
        let weight_after = self.rs_weight(id.vs, id.rs);
        if let (Some(before), Some(after)) = (weight_before, weight_after)
            && lvs::health::real_weight(before) != lvs::health::real_weight(after)
            && let Some((vs, rs)) = server(self.lvs.config(), id.vs, id.rs)
        {
            info!(
                "Changing weight from {} to {} for {}active service {} of VS {}",
                lvs::health::real_weight(before),
                lvs::health::real_weight(after),
                if alive_after == Some(true) { "" } else { "in" },
                format::rs(vs, rs),
                format::vs(vs)
            );
        }
        if alive_before != alive_after
            && let Some(alive) = alive_after
        {
            self.log_rs_change(id.vs, id.rs, alive);
        }
        self.sync();
        if let (Some(kind), Some(transition)) = (&kind, report.transition) {
            let up = transition == Transition::Up;
            // keepalived: a checker mails when it changes the server's liveness,
            // or on every transition unless no_checker_emails.
            if smtp_alert
                && (rs_was_alive != self.aggregator.alive(id.vs, id.rs)
                    || !self.global.no_checker_emails)
            {
                self.smtp_alert(crate::alert::real_server_mail(
                    &rs_name,
                    &vs_name,
                    up,
                    format::alert_message(kind, up),
                ));
            }
        }
        if alive_before != alive_after
            && let Some(alive) = alive_after
        {
            self.rs_notifies(id.vs, id.rs, alive);
        }
        for change in self.lvs.take_quorum_changes() {
            self.quorum_changed(change, false);
        }
    }

    fn rs_alive(&self, vs: usize, rs: usize) -> Option<bool> {
        let state = self.lvs.state().virtual_servers.get(vs)?;
        state.real_servers.get(rs).map(|r| r.alive)
    }

    fn rs_weight(&self, vs: usize, rs: usize) -> Option<i64> {
        let state = self.lvs.state().virtual_servers.get(vs)?;
        state.real_servers.get(rs).map(|r| r.weight)
    }

    fn log_rs_change(&self, vs_index: usize, rs_index: usize, alive: bool) {
        let Some((vs, rs)) = server(self.lvs.config(), vs_index, rs_index) else {
            return;
        };
        let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
        let verb = match (alive, inhibit) {
            (true, true) => "Enabl",
            (true, false) => "Add",
            (false, true) => "Disabl",
            (false, false) => "Remov",
        };
        let preposition = match (inhibit, alive) {
            (true, _) => "of",
            (false, true) => "to",
            (false, false) => "from",
        };
        info!(
            "{verb}ing service {} {preposition} VS {}",
            format::rs(vs, rs),
            format::vs(vs)
        );
    }

    /// keepalived `do_rs_notifies`: the script, then the FIFO line.
    fn rs_notifies(&mut self, vs_index: usize, rs_index: usize, alive: bool) {
        let Some((vs, rs)) = server(self.lvs.config(), vs_index, rs_index) else {
            return;
        };
        let script = if alive {
            &rs.notify_up
        } else {
            &rs.notify_down
        };
        if let Some(script) = script {
            run_notify(script, &[]);
        }
        let line = format!(
            "RS {} {} {}\n",
            format::rs(vs, rs),
            format::vs(vs),
            if alive { "UP" } else { "DOWN" }
        );
        for fifo in &mut self.fifos {
            fifo.write_line(&line);
        }
    }

    /// keepalived `update_quorum_state` logs and `do_vs_notifies`.
    fn quorum_changed(&mut self, change: QuorumChange, init: bool) {
        let Some(vs) = self.lvs.config().virtual_servers.get(change.vs).cloned() else {
            return;
        };
        // keepalived reports a start with quorum down only to put the sorry
        // server in.
        if init && !change.up && vs.sorry_server.is_none() {
            return;
        }
        let name = format::vs(&vs);
        if change.up {
            info!(
                "Gained quorum {}+{}={} <= {} for VS {name}",
                vs.quorum, vs.hysteresis, change.threshold, change.weight_sum
            );
            if let Some(sorry) = &vs.sorry_server
                && !init
            {
                info!(
                    "{} sorry server {} from VS {name}",
                    if sorry.inhibit {
                        "Disabling"
                    } else {
                        "Removing"
                    },
                    format::address(&vs, sorry.addr, sorry.port)
                );
                info!("Adding alive servers to the pool for VS {name}");
            }
        } else {
            info!(
                "{} {}-{}={} > {} for VS {name}",
                if init {
                    "Starting with quorum down"
                } else {
                    "Lost quorum"
                },
                vs.quorum,
                vs.hysteresis,
                change.threshold,
                change.weight_sum
            );
            if let Some(sorry) = &vs.sorry_server {
                info!(
                    "{} sorry server {} to VS {name}",
                    if sorry.inhibit { "Enabling" } else { "Adding" },
                    format::address(&vs, sorry.addr, sorry.port)
                );
                info!("Removing alive servers from the pool for VS {name}");
            }
        }
        let script = if change.up {
            &vs.quorum_up
        } else {
            &vs.quorum_down
        };
        if let Some(script) = script {
            run_notify(script, &[]);
        }
        let line = format!("VS {name} {}\n", if change.up { "UP" } else { "DOWN" });
        for fifo in &mut self.fifos {
            fifo.write_line(&line);
        }
        if vs.smtp_alert.unwrap_or(false) {
            let what = match (change.up, init) {
                (true, true) => "Starting with quorum up",
                (true, false) => "Gained quorum",
                (false, true) => "Starting with quorum down",
                (false, false) => "Lost quorum",
            };
            let message = format!(
                "=> {what} {}+{}={} <= {} <=",
                vs.quorum, vs.hysteresis, change.threshold, change.weight_sum
            );
            self.smtp_alert(crate::alert::virtual_server_mail(
                &name, change.up, &message,
            ));
        }
    }

    /// keepalived `smtp_alert(SMTP_MSG_RS / SMTP_MSG_VS, ...)`: queued, never waited for.
    fn smtp_alert(&self, mail: crate::alert::Mail) {
        match &self.alerter {
            Some(alerter) => alerter.send(mail),
            None => debug!("smtp_alert (no smtp_server): {}", mail.subject),
        }
    }

    fn sync(&mut self) {
        match self.lvs.sync(self.kernel.as_mut()) {
            Ok(sync) => log_sync(&sync.report, &sync.warnings),
            Err(e) => warn!("{e}"),
        }
    }

    /// SIGHUP: the new configuration takes over; see the module documentation.
    fn reload(&mut self, config: &config::Config) {
        info!("Reloading");
        let track_files = config.vrrp.track_files.clone();
        let tasks = match driver::checkers_with_track_files(&config.lvs, &track_files) {
            Ok(tasks) => tasks,
            Err(e) => {
                warn!("Reload refused - checker configuration: {e}");
                return;
            }
        };
        if self.idle && !config.lvs.virtual_servers.is_empty() {
            match ipvs::Ipvs::connect() {
                Ok(ipvs) => {
                    self.kernel = Box::new(ipvs);
                    self.timeouts = ipvs::Ipvs::connect()
                        .ok()
                        .map(|second| (second, TimeoutKeeper::new()));
                    self.idle = false;
                }
                Err(e) => {
                    warn!("Reload refused - IPVS: {e}");
                    return;
                }
            }
        }
        // Checkers still configured (same virtual server, real server address and
        // port, same settings) keep their up/down state.
        let carried = carried_states(self.lvs.config(), &self.aggregator, &config.lvs);
        for handle in self.handles.drain(..) {
            handle.abort();
        }
        let old_config = self.lvs.config().clone();
        let old_quorum: Vec<bool> = self
            .lvs
            .state()
            .virtual_servers
            .iter()
            .map(|v| v.quorum_up)
            .collect();
        self.aggregator = Aggregator::with_states(&tasks, |id| carried.get(&id).copied());
        match self
            .lvs
            .reload(self.kernel.as_mut(), config.lvs.clone(), None)
        {
            Ok(sync) => log_sync(&sync.report, &sync.warnings),
            Err(e) => warn!("{e}"),
        }
        // The checkers' verdicts win over the address-only carry-over of `lvs`.
        let new_config = self.lvs.config().clone();
        for (vs_index, vs) in new_config.virtual_servers.iter().enumerate() {
            for (rs_index, rs) in vs.real_servers.iter().enumerate() {
                if let Some(alive) = self.aggregator.alive(vs_index, rs_index)
                    && self.rs_alive(vs_index, rs_index) != Some(alive)
                {
                    self.lvs.set_alive(vs_index, rs_index, alive);
                }
                let configured = lvs::health::configured_weight(vs, rs);
                let weight = self
                    .aggregator
                    .effective_weight(vs_index, rs_index, configured);
                if weight != configured {
                    self.lvs.set_weight(vs_index, rs_index, weight);
                }
            }
        }
        self.sync();
        for change in self.lvs.take_quorum_changes() {
            // A virtual server that was there before and keeps its quorum state
            // reports nothing (keepalived: its sorry server is already set).
            let unchanged = new_config
                .virtual_servers
                .get(change.vs)
                .and_then(|vs| {
                    old_config
                        .virtual_servers
                        .iter()
                        .position(|old| lvs::health::same_vs(old, vs))
                })
                .and_then(|old| old_quorum.get(old))
                .is_some_and(|up| *up == change.up);
            if !unchanged {
                self.quorum_changed(change, true);
            }
        }
        self.global = config.global.clone();
        self.alerter = crate::alert::Alerter::start(config, self.options.log_detail);
        self.track_files = track_files;
        self.open_fifos();
        self.apply_timeouts();
        let (sender, reports) = mpsc::channel(REPORT_QUEUE);
        self.reports = reports;
        self.activate(tasks, sender, |id| carried.get(&id).copied());
    }

    fn dump_data(&self) {
        let mut text = crate::dump::data::render_parent(&self.global);
        text.push_str(&dump::render(
            &self.lvs,
            &self.aggregator,
            &self.track_files,
        ));
        let name = crate::dump::data_file_name("keepalived_check.data", &self.global);
        crate::dump::write_file(&name, &text);
    }

    /// keepalived at exit: our IPVS entries removed as configured, timeouts
    /// restored, FIFOs we created removed.
    fn stop(mut self) {
        for handle in self.handles.drain(..) {
            handle.abort();
        }
        let mode = lvs::release_mode(&self.global, self.options.dont_release_ipvs);
        if mode != ipvs::reconcile::Release::Keep {
            let config = self.lvs.config().clone();
            for (vs_index, vs) in config.virtual_servers.iter().enumerate() {
                for (rs_index, rs) in vs.real_servers.iter().enumerate() {
                    if self.rs_alive(vs_index, rs_index) == Some(true) {
                        info!(
                            "Shutting down service {} from VS {}",
                            format::rs(vs, rs),
                            format::vs(vs)
                        );
                    }
                }
                if vs.omega {
                    // keepalived: with omega the notifies run at shutdown too.
                    if let Some(script) = &vs.quorum_down {
                        run_notify(script, &[]);
                    }
                }
            }
        }
        let report = self.lvs.stop(self.kernel.as_mut(), mode);
        log_sync(&report, &[]);
        if let Some((ipvs, keeper)) = &mut self.timeouts
            && let Err(e) = keeper.restore(ipvs)
        {
            warn!("Unable to restore the IPVS timeouts: {e}");
        }
    }
}

/// The virtual and real server of configuration indexes.
fn server(cfg: &LvsConfig, vs: usize, rs: usize) -> Option<(&VirtualServer, &RealServer)> {
    let vs = cfg.virtual_servers.get(vs)?;
    Some((vs, vs.real_servers.get(rs)?))
}

/// A real server's state when its checkers know it before the first table:
/// FILE_CHECKs in FAULT or adding weight.
fn known_health(
    cfg: &LvsConfig,
    aggregator: &Aggregator,
    vs_index: usize,
    rs_index: usize,
) -> Option<lvs::RsState> {
    let (vs, rs) = server(cfg, vs_index, rs_index)?;
    let configured = lvs::health::configured_weight(vs, rs);
    let weight = aggregator.effective_weight(vs_index, rs_index, configured);
    let alive = aggregator.alive(vs_index, rs_index)?;
    let initially = lvs::health::initially_alive(vs, rs);
    (weight != configured || alive != initially).then_some(lvs::RsState {
        // An alpha checker still starts the server down.
        alive: alive && initially,
        weight,
    })
}

/// Up states of the checkers of `new` that `old` had with the same settings on
/// the same real server of the same virtual server.
fn carried_states(
    old: &LvsConfig,
    aggregator: &Aggregator,
    new: &LvsConfig,
) -> HashMap<CheckerId, bool> {
    let mut carried = HashMap::new();
    for (vs_index, vs) in new.virtual_servers.iter().enumerate() {
        let Some(old_vs_index) = old
            .virtual_servers
            .iter()
            .position(|o| lvs::health::same_vs(o, vs))
        else {
            continue;
        };
        let Some(old_vs) = old.virtual_servers.get(old_vs_index) else {
            continue;
        };
        for (rs_index, rs) in vs.real_servers.iter().enumerate() {
            let Some(old_rs_index) = old_vs
                .real_servers
                .iter()
                .position(|o| o.addr == rs.addr && o.port == rs.port)
            else {
                continue;
            };
            let Some(old_rs) = old_vs.real_servers.get(old_rs_index) else {
                continue;
            };
            let mut taken = vec![false; old_rs.checkers.len()];
            for (checker_index, checker) in rs.checkers.iter().enumerate() {
                let matching = old_rs.checkers.iter().enumerate().position(|(i, o)| {
                    !taken.get(i).copied().unwrap_or(true)
                        && o.common == checker.common
                        && o.kind == checker.kind
                });
                let Some(old_index) = matching else {
                    continue;
                };
                if let Some(slot) = taken.get_mut(old_index) {
                    *slot = true;
                }
                let old_id = CheckerId {
                    vs: old_vs_index,
                    rs: old_rs_index,
                    checker: old_index,
                };
                if let Some(up) = aggregator.checker_up(old_id) {
                    carried.insert(
                        CheckerId {
                            vs: vs_index,
                            rs: rs_index,
                            checker: checker_index,
                        },
                        up,
                    );
                }
            }
        }
    }
    carried
}

fn log_sync(report: &ApplyReport, warnings: &[String]) {
    for warning in warnings {
        warn!("{warning}");
    }
    for failure in &report.failed {
        warn!("{failure}");
    }
    for op in &report.skipped {
        debug!("not sent (its service is missing): {op:?}");
    }
}
