//! The thin tokio driver: one task per checker running [`Probe`]s on the
//! [`CheckerState`] schedule, and an aggregator turning checker transitions into
//! real-server liveness (for `lvs::Lvs::set_alive` + `sync`).

use std::collections::HashMap;
use std::time::Duration;

use config::model::lvs::{CheckerKind, LvsConfig};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::checks::MiscResult;
use crate::engine::{CheckerState, RealServerHealth, Timing, Transition};
use crate::probe::{BuildError, Probe};

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

/// Every checker of the configuration.
pub fn checkers(cfg: &LvsConfig) -> Result<Vec<CheckerTask>, BuildError> {
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
                    probe: Probe::from_config(vs, rs, checker, tls.as_ref())?,
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
    let mut state = CheckerState::new(task.timing, origin.elapsed(), fastrand::f64());
    let mut last_weight = MiscResult::Up;
    loop {
        tokio::time::sleep_until(origin + state.next_run()).await;
        let result = task.probe.run_with_weight().await;
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
        let transition = state.record(origin.elapsed(), result.is_ok());
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
    let origin = Instant::now();
    tasks
        .into_iter()
        .map(|task| tokio::spawn(run_checker(task, origin, reports.clone())))
        .collect()
}

/// Real-server liveness from checker transitions.
#[derive(Debug, Default)]
pub struct Aggregator {
    servers: HashMap<(usize, usize), RealServerHealth>,
}

impl Aggregator {
    /// Initial state: each checker up unless in alpha mode.
    pub fn new(tasks: &[CheckerTask]) -> Aggregator {
        let mut initial: HashMap<(usize, usize), Vec<bool>> = HashMap::new();
        for task in tasks {
            let slots = initial.entry((task.id.vs, task.id.rs)).or_default();
            if slots.len() <= task.id.checker {
                slots.resize(task.id.checker + 1, true);
            }
            if let Some(slot) = slots.get_mut(task.id.checker) {
                *slot = !task.timing.alpha;
            }
        }
        Aggregator {
            servers: initial
                .into_iter()
                .map(|(key, up)| (key, RealServerHealth::new(up)))
                .collect(),
        }
    }

    pub fn alive(&self, vs: usize, rs: usize) -> Option<bool> {
        self.servers.get(&(vs, rs)).map(RealServerHealth::alive)
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
/// up) and MISC_CHECK dynamic weights. Returns whether anything changed; the
/// caller then runs [`lvs::Lvs::sync`] (and reads its quorum changes).
pub fn apply(aggregator: &mut Aggregator, report: &Report, lvs: &mut lvs::Lvs) -> bool {
    let mut changed = false;
    if let Some(weight) = report.weight {
        let weight = match weight {
            MiscResult::UpWithWeight(weight) => Some(i64::from(weight)),
            MiscResult::Up => {
                let cfg = lvs.config();
                cfg.virtual_servers.get(report.id.vs).and_then(|vs| {
                    vs.real_servers
                        .get(report.id.rs)
                        .map(|rs| lvs::health::configured_weight(vs, rs))
                })
            }
        };
        if let Some(weight) = weight {
            lvs.set_weight(report.id.vs, report.id.rs, weight);
            changed = true;
        }
    }
    if let Some((vs, rs, alive)) = aggregator.apply(report) {
        lvs.set_alive(vs, rs, alive);
        changed = true;
    }
    changed
}
