//! The thin tokio driver: one task per checker running [`Probe`]s on the
//! [`CheckerState`] schedule, and an aggregator turning checker transitions into
//! real-server liveness (for `lvs::Lvs::set_alive` + `sync`).

use std::collections::HashMap;
use std::time::Duration;

use config::model::lvs::{CheckerKind, LvsConfig};
use config::model::vrrp::TrackFile;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::checks::MiscResult;
use crate::engine::{CheckerState, RealServerHealth, Timing, Transition};
use crate::file::{FileCheck, FileEvent, FileStatus};
use crate::probe::{BuildError, Probe, ProbeKind};

/// Identifies a checker: virtual server, real server and checker indexes in the
/// configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckerId {
    pub vs: usize,
    pub rs: usize,
    pub checker: usize,
}

/// A checker changed state.
#[derive(Debug)]
pub struct Report {
    pub id: CheckerId,
    /// The checker went up or down (`None`: only the weight changed).
    pub transition: Option<Transition>,
    /// MISC_CHECK with misc_dynamic: the weight it asks for changed
    /// (`Up` = back to the configured weight).
    pub weight: Option<MiscResult>,
    /// FILE_CHECK: what the checker now adds to the real server's weight
    /// (0 while in FAULT).
    pub file_weight: Option<i64>,
    /// Why the last check failed (for the log), on a transition to down.
    pub reason: Option<String>,
}

/// A checker with its probe and schedule.
#[derive(Debug, Clone)]
pub struct CheckerTask {
    pub id: CheckerId,
    pub probe: Probe,
    pub timing: Timing,
}

impl CheckerTask {
    /// The state the checker starts in: a FILE_CHECK is up unless its file
    /// says FAULT now (keepalived reads the files before the first table is
    /// built), the others are up unless in `alpha` mode; plus the weight the
    /// checker adds to its real server's.
    pub fn initial_state(&self) -> (bool, i64) {
        match &self.probe.kind {
            ProbeKind::File(check) => match check.read() {
                Some(FileStatus::Weight(weight)) => (true, weight),
                Some(FileStatus::Fault) => (false, 0),
                // keepalived keeps 0 then, which is up with no extra weight
                // unless `weight 0 reverse`.
                None => match check.status(0) {
                    FileStatus::Weight(weight) => (true, weight),
                    FileStatus::Fault => (false, 0),
                },
            },
            _ => (!self.timing.alpha, 0),
        }
    }
}

/// Every checker of the configuration (FILE_CHECK fails: no track files).
pub fn checkers(cfg: &LvsConfig) -> Result<Vec<CheckerTask>, BuildError> {
    checkers_with_track_files(cfg, &[])
}

/// Every checker of the configuration, FILE_CHECKs following `track_files`.
pub fn checkers_with_track_files(
    cfg: &LvsConfig,
    track_files: &[TrackFile],
) -> Result<Vec<CheckerTask>, BuildError> {
    let wants_tls = cfg.virtual_servers.iter().any(|vs| {
        vs.real_servers.iter().any(|rs| {
            rs.checkers
                .iter()
                .any(|c| matches!(c.kind, CheckerKind::Http { ssl: true, .. }))
        })
    });
    let tls = if wants_tls {
        Some(crate::tls::client_config(cfg.ssl.as_ref())?)
    } else {
        None
    };
    let mut tasks = Vec::new();
    for (vs_index, vs) in cfg.virtual_servers.iter().enumerate() {
        for (rs_index, rs) in vs.real_servers.iter().enumerate() {
            for (checker_index, checker) in rs.checkers.iter().enumerate() {
                tasks.push(CheckerTask {
                    id: CheckerId {
                        vs: vs_index,
                        rs: rs_index,
                        checker: checker_index,
                    },
                    probe: Probe::from_config_with_files(
                        vs,
                        rs,
                        checker,
                        tls.as_ref(),
                        track_files,
                    )?,
                    timing: Timing::of(checker),
                });
            }
        }
    }
    Ok(tasks)
}

/// Runs one checker forever, sending its transitions; ends when the receiver is
/// dropped.
pub async fn run_checker(task: CheckerTask, origin: Instant, reports: mpsc::Sender<Report>) {
    run_checker_from(task, origin, reports, None).await;
}

/// As [`run_checker`]; `resumed` is the up state carried over a reload.
pub async fn run_checker_from(
    task: CheckerTask,
    origin: Instant,
    reports: mpsc::Sender<Report>,
    resumed: Option<bool>,
) {
    let now = crate::clock::now().saturating_duration_since(origin);
    let mut state = match resumed {
        Some(is_up) => CheckerState::resumed(task.timing, now, fastrand::f64(), is_up),
        None => CheckerState::new(task.timing, now, fastrand::f64()),
    };
    let mut last_weight = MiscResult::Up;
    loop {
        tokio::time::sleep_until(origin + state.next_run()).await;
        // Boxed so the check's future (sockets, TLS, response reader) lives only
        // while the check runs: an idle checker's task stays small.
        let result = Box::pin(task.probe.run_with_weight()).await;
        let reason = result.as_ref().err().map(ToString::to_string);
        // keepalived: a dynamic weight is applied whenever the exit status
        // changes, independently of the up/down retries.
        let weight = match result {
            Ok(Some(asked)) if asked != last_weight => {
                last_weight = asked;
                Some(asked)
            }
            _ => None,
        };
        let finished = crate::clock::now().saturating_duration_since(origin);
        let transition = state.record(finished, result.is_ok());
        // keepalived: a failed MISC_CHECK gives back its dynamic weight.
        let weight = match transition {
            Some(Transition::Down { .. }) if last_weight != MiscResult::Up => {
                last_weight = MiscResult::Up;
                Some(MiscResult::Up)
            }
            _ => weight,
        };
        if transition.is_some() || weight.is_some() {
            let report = Report {
                id: task.id,
                transition,
                weight,
                file_weight: None,
                reason,
            };
            if reports.send(report).await.is_err() {
                return;
            }
        }
    }
}

/// Spawns every checker on the current runtime.
pub fn spawn(tasks: Vec<CheckerTask>, reports: mpsc::Sender<Report>) -> Vec<JoinHandle<()>> {
    spawn_resumed(tasks, reports, |_| None)
}

/// Spawns every checker; `resumed` gives the up state a checker keeps over a
/// reload (`None`: a new checker). Timed checkers get one task each; the
/// FILE_CHECKs share one inotify watcher, whose changes a forwarding task turns
/// into reports (aborting it stops the watcher).
pub fn spawn_resumed(
    tasks: Vec<CheckerTask>,
    reports: mpsc::Sender<Report>,
    resumed: impl Fn(CheckerId) -> Option<bool>,
) -> Vec<JoinHandle<()>> {
    let origin = crate::clock::now();
    let mut handles = Vec::new();
    let mut files = Vec::new();
    for task in tasks {
        if let ProbeKind::File(check) = &task.probe.kind {
            let (up, weight) = task.initial_state();
            let status = if up {
                FileStatus::Weight(weight)
            } else {
                FileStatus::Fault
            };
            files.push((task.id, check.clone(), status));
            continue;
        }
        let from = resumed(task.id);
        handles.push(tokio::spawn(run_checker_from(
            task,
            origin,
            reports.clone(),
            from,
        )));
    }
    if !files.is_empty() {
        handles.push(tokio::spawn(forward_file_events(files, reports)));
    }
    handles
}

/// Runs the FILE_CHECK watcher and turns its verdicts into reports.
async fn forward_file_events(
    files: Vec<(CheckerId, FileCheck, FileStatus)>,
    reports: mpsc::Sender<Report>,
) {
    let (sender, mut events) = mpsc::channel(64);
    let mut last: Vec<(CheckerId, FileStatus)> = files.iter().map(|(id, _, s)| (*id, *s)).collect();
    let watched = files
        .into_iter()
        .enumerate()
        .map(|(index, (_, check, status))| (index, check, Some(status)))
        .collect();
    if let Err(error) = crate::file::spawn_watcher(watched, sender) {
        // Without inotify the files keep their start-up verdicts.
        let _ = error;
        return;
    }
    while let Some(FileEvent { index, status }) = events.recv().await {
        let Some((id, previous)) = last.get_mut(index) else {
            continue;
        };
        let transition = match (*previous, status) {
            (FileStatus::Weight(_), FileStatus::Fault) => Some(Transition::Down { retries: 0 }),
            (FileStatus::Fault, FileStatus::Weight(_)) => Some(Transition::Up),
            _ => None,
        };
        *previous = status;
        let report = Report {
            id: *id,
            transition,
            weight: None,
            file_weight: Some(match status {
                FileStatus::Weight(weight) => weight,
                FileStatus::Fault => 0,
            }),
            reason: (status == FileStatus::Fault).then(|| "tracked file in FAULT state".into()),
        };
        if reports.send(report).await.is_err() {
            return;
        }
    }
}

/// How a checker changes its real server's weight (keepalived `cur_weight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeightShare {
    /// FILE_CHECK: added to the configured weight.
    Delta(i64),
    /// MISC_CHECK misc_dynamic: the weight asked for.
    Absolute(i64),
}

/// Real-server liveness and dynamic weights from checker transitions.
#[derive(Debug, Default)]
pub struct Aggregator {
    servers: HashMap<(usize, usize), RealServerHealth>,
    shares: HashMap<CheckerId, WeightShare>,
}

impl Aggregator {
    /// Initial state: see [`CheckerTask::initial_state`].
    pub fn new(tasks: &[CheckerTask]) -> Aggregator {
        Aggregator::with_states(tasks, |_| None)
    }

    /// Initial state, except for the checkers `resumed` gives an up state for
    /// (carried over a reload).
    pub fn with_states(
        tasks: &[CheckerTask],
        resumed: impl Fn(CheckerId) -> Option<bool>,
    ) -> Aggregator {
        let mut initial: HashMap<(usize, usize), Vec<bool>> = HashMap::new();
        let mut shares = HashMap::new();
        for task in tasks {
            let slots = initial.entry((task.id.vs, task.id.rs)).or_default();
            if slots.len() <= task.id.checker {
                slots.resize(task.id.checker + 1, true);
            }
            let (up, weight) = task.initial_state();
            let up = match &task.probe.kind {
                ProbeKind::File(_) => up,
                _ => resumed(task.id).unwrap_or(up),
            };
            if let Some(slot) = slots.get_mut(task.id.checker) {
                *slot = up;
            }
            if weight != 0 {
                shares.insert(task.id, WeightShare::Delta(weight));
            }
        }
        Aggregator {
            servers: initial
                .into_iter()
                .map(|(key, up)| (key, RealServerHealth::new(up)))
                .collect(),
            shares,
        }
    }

    pub fn alive(&self, vs: usize, rs: usize) -> Option<bool> {
        self.servers.get(&(vs, rs)).map(RealServerHealth::alive)
    }

    /// Whether checker `id` is up now.
    pub fn checker_up(&self, id: CheckerId) -> Option<bool> {
        self.servers.get(&(id.vs, id.rs))?.checker_up(id.checker)
    }

    /// The weight of real server `(vs, rs)` given its configured weight: the
    /// configured one changed by its FILE_CHECKs and dynamic MISC_CHECKs
    /// (keepalived `iweight` + the checkers' `cur_weight`).
    pub fn effective_weight(&self, vs: usize, rs: usize, configured: i64) -> i64 {
        self.shares
            .iter()
            .filter(|(id, _)| id.vs == vs && id.rs == rs)
            .fold(configured, |weight, (_, share)| match share {
                WeightShare::Delta(delta) => weight.saturating_add(*delta),
                WeightShare::Absolute(asked) => weight.saturating_add(asked - configured),
            })
    }

    /// Records a report's weight share; returns whether it changed.
    fn apply_weight(&mut self, report: &Report) -> bool {
        let share = match (report.weight, report.file_weight) {
            (_, Some(delta)) => Some(WeightShare::Delta(delta)),
            (Some(MiscResult::UpWithWeight(weight)), None) => {
                Some(WeightShare::Absolute(i64::from(weight)))
            }
            (Some(MiscResult::Up), None) => None,
            (None, None) => return false,
        };
        let before = self.shares.get(&report.id).copied();
        match share {
            Some(WeightShare::Delta(0)) | None => self.shares.remove(&report.id),
            Some(share) => self.shares.insert(report.id, share),
        };
        before != self.shares.get(&report.id).copied()
    }

    /// Applies a report; returns `(vs, rs, alive)` when the real server's liveness
    /// changed.
    pub fn apply(&mut self, report: &Report) -> Option<(usize, usize, bool)> {
        let up = match report.transition? {
            Transition::Up => true,
            Transition::Down { .. } => false,
        };
        let server = self.servers.get_mut(&(report.id.vs, report.id.rs))?;
        server
            .update(report.id.checker, up)
            .map(|alive| (report.id.vs, report.id.rs, alive))
    }
}

/// Waits for the next report, at most `limit`.
pub async fn next_report(reports: &mut mpsc::Receiver<Report>, limit: Duration) -> Option<Report> {
    tokio::time::timeout(limit, reports.recv())
        .await
        .ok()
        .flatten()
}

/// Applies a report to the IPVS runtime: real-server liveness (all checkers
/// up) and dynamic weights (MISC_CHECK misc_dynamic, FILE_CHECK). Returns
/// whether anything changed; the caller then runs [`lvs::Lvs::sync`] (and
/// reads its quorum changes).
pub fn apply(aggregator: &mut Aggregator, report: &Report, lvs: &mut lvs::Lvs) -> bool {
    let mut changed = false;
    let (vs, rs) = (report.id.vs, report.id.rs);
    if aggregator.apply_weight(report) {
        let configured = lvs.config().virtual_servers.get(vs).and_then(|v| {
            v.real_servers
                .get(rs)
                .map(|r| lvs::health::configured_weight(v, r))
        });
        if let Some(configured) = configured {
            lvs.set_weight(vs, rs, aggregator.effective_weight(vs, rs, configured));
            changed = true;
        }
    }
    if let Some((vs, rs, alive)) = aggregator.apply(report) {
        lvs.set_alive(vs, rs, alive);
        changed = true;
    }
    changed
}
