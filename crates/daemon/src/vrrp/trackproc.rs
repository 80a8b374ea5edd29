//! `vrrp_track_process`: how many processes match a name (and parameters), against a
//! quorum (keepalived `core/track_process.c`, `vrrp_track.c`).
//!
//! - A process matches on its `comm` (the kernel's 15-character name), or with
//!   `full_command` (implied by parameters or `param_match`) on `argv[0]` of its
//!   command line; parameters compare `exact`ly, as a `partial` prefix of whole words,
//!   or `initial` (the last configured word may be a prefix of the process's word).
//! - A tracker is up while `quorum <= count <= quorum_max`; a change is reported as
//!   "Quorum gained/lost for tracked process NAME" and becomes a tracker input with the
//!   weight (weight 0: FAULT while down, `reverse` flips it), as for `vrrp_script`.
//! - A process exiting applies `terminate_delay`, a fork of a tracked process
//!   `fork_delay`, before the status changes (a change undone in the meantime is
//!   never reported). An exec of a matching program counts at once.
//!
//! The counts follow the kernel's process-event connector
//! ([`linux::proc_events`]) after one `/proc` scan. **Fallback:** where the connector
//! is unavailable — it exists only in the initial network namespace, and a daemon run
//! in another one (the usual lab and container case) cannot subscribe — `/proc` is
//! rescanned every [`SCAN_INTERVAL`] instead; a lost-events overrun also triggers a
//! rescan. (keepalived 2.2.7 simply has no process tracking there.)

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use config::model::vrrp::{ParamMatch, TrackProcess};
use linux::proc_events::{ProcEvent, ProcEventSocket, ProcEventsError};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::time::Instant;
use tracing::{info, warn};
use vrrp::router::TrackerId;

use super::net::NetEvent;

/// Tracker ids of `vrrp_track_process`es: this bit plus their index (see
/// `instance::{INTERFACE,FILE}_TRACKER` for the others).
pub const PROCESS_TRACKER: u32 = 0x2000_0000;
/// The bits that tell tracker kinds apart.
const KIND_BITS: u32 = 0xe000_0000;

/// How often `/proc` is rescanned without the connector.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(500);

/// The process index of a tracker id, if it is a process tracker.
pub fn index_of(id: TrackerId) -> Option<usize> {
    if id.0 & KIND_BITS != PROCESS_TRACKER {
        return None;
    }
    usize::try_from(id.0 & !KIND_BITS).ok()
}

/// What a process looks like in `/proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcInfo {
    /// `comm` (from `/proc/PID/stat`).
    pub comm: String,
    /// `/proc/PID/cmdline`: NUL-terminated words (read only when some tracker needs it).
    pub cmdline: Vec<u8>,
}

/// One `vrrp_track_process`, ready to match.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    process: String,
    /// The configured parameters, each NUL-terminated (keepalived's layout).
    params: Vec<u8>,
    param_match: ParamMatch,
    full_command: bool,
    quorum: u32,
    quorum_max: u32,
    fork_delay: Duration,
    terminate_delay: Duration,
}

impl Matcher {
    /// `None` without a `process` line (keepalived drops such a tracker).
    pub fn new(config: &TrackProcess) -> Option<Matcher> {
        let process = config.process.clone()?;
        let mut params = Vec::new();
        for word in &config.params {
            params.extend_from_slice(word.as_bytes());
            params.push(0);
        }
        Some(Matcher {
            name: config.name.clone(),
            process,
            params,
            param_match: config.param_match,
            full_command: config.full_command,
            quorum: config.quorum,
            quorum_max: config.quorum_max,
            fork_delay: Duration::from_micros(config.fork_delay_us),
            terminate_delay: Duration::from_micros(config.terminate_delay_us),
        })
    }

    /// Whether `info` is one of this tracker's processes (keepalived
    /// `check_process()` / `check_params()`).
    pub fn matches(&self, info: &ProcInfo) -> bool {
        if !self.full_command {
            return info.comm == self.process;
        }
        let mut words = info.cmdline.splitn(2, |&b| b == 0);
        let argv0 = words.next().unwrap_or_default();
        if argv0 != self.process.as_bytes() {
            return false;
        }
        let rest = words.next().unwrap_or_default();
        match self.param_match {
            ParamMatch::None => true,
            ParamMatch::Exact => rest == self.params.as_slice(),
            ParamMatch::Partial => rest.starts_with(&self.params),
            ParamMatch::Initial => {
                // The last configured word without its NUL: a prefix of the word there.
                let stem = self.params.get(..self.params.len().saturating_sub(1));
                rest.len() >= self.params.len() && stem.is_some_and(|s| rest.starts_with(s))
            }
        }
    }

    fn in_quorum(&self, count: u32) -> bool {
        self.quorum <= count && count <= self.quorum_max
    }
}

/// Reads a process from `/proc`; `None` when it is gone or a zombie.
pub fn read_proc(pid: u32, with_cmdline: bool) -> Option<ProcInfo> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let stat = String::from_utf8_lossy(&stat);
    // "PID (COMM) STATE ...": COMM may itself contain ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    if stat.get(close + 1..)?.trim_start().starts_with('Z') {
        return None;
    }
    let cmdline = if with_cmdline {
        std::fs::read(format!("/proc/{pid}/cmdline")).ok()?
    } else {
        Vec::new()
    };
    Some(ProcInfo { comm, cmdline })
}

/// Every process in `/proc`.
pub fn scan_proc(with_cmdline: bool) -> Vec<(u32, ProcInfo)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, read_proc(pid, with_cmdline)?)))
        .collect()
}

/// Why a count changed: which delay applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// A matching program was executed (or found by a scan): no delay.
    Exec,
    /// A tracked process forked: `fork_delay`.
    Fork,
    /// A tracked process exited (or vanished from a scan): `terminate_delay`.
    Exit,
    /// A process stopped matching (new program or name): no delay.
    Changed,
}

/// The counting state machine, with time passed in (pure: tested without processes).
#[derive(Debug)]
pub struct Tracker {
    matchers: Vec<Matcher>,
    /// Tracked pids and the trackers that count them.
    pids: HashMap<u32, Vec<usize>>,
    counts: Vec<u32>,
    up: Vec<bool>,
    pending: Vec<Option<Instant>>,
    needs_cmdline: bool,
}

impl Tracker {
    pub fn new(matchers: Vec<Matcher>) -> Tracker {
        let n = matchers.len();
        let needs_cmdline = matchers.iter().any(|m| m.full_command);
        let up = matchers.iter().map(|m| m.in_quorum(0)).collect();
        Tracker {
            matchers,
            pids: HashMap::new(),
            counts: vec![0; n],
            up,
            pending: vec![None; n],
            needs_cmdline,
        }
    }

    /// The current status of every tracker.
    pub fn statuses(&self) -> &[bool] {
        &self.up
    }

    fn matching(&self, info: &ProcInfo) -> Vec<usize> {
        self.matchers
            .iter()
            .enumerate()
            .filter(|(_, m)| m.matches(info))
            .map(|(i, _)| i)
            .collect()
    }

    /// Sets which trackers count `pid`; returns the status changes due now.
    fn set_pid(
        &mut self,
        pid: u32,
        now_in: Vec<usize>,
        gain: Cause,
        loss: Cause,
        now: Instant,
    ) -> Vec<(usize, bool)> {
        let before = if now_in.is_empty() {
            self.pids.remove(&pid).unwrap_or_default()
        } else {
            self.pids.insert(pid, now_in.clone()).unwrap_or_default()
        };
        let mut changes = Vec::new();
        for &i in before.iter().filter(|i| !now_in.contains(i)) {
            if let Some(c) = self.counts.get_mut(i) {
                *c = c.saturating_sub(1);
            }
            changes.extend(self.evaluate(i, loss, now));
        }
        for &i in now_in.iter().filter(|i| !before.contains(i)) {
            if let Some(c) = self.counts.get_mut(i) {
                *c = c.saturating_add(1);
            }
            changes.extend(self.evaluate(i, gain, now));
        }
        changes
    }

    /// Applies a count change of tracker `i`: at once, or after the cause's delay.
    fn evaluate(&mut self, i: usize, cause: Cause, now: Instant) -> Option<(usize, bool)> {
        let matcher = self.matchers.get(i)?;
        let want = matcher.in_quorum(self.counts.get(i).copied().unwrap_or(0));
        let delay = match cause {
            Cause::Fork => matcher.fork_delay,
            Cause::Exit => matcher.terminate_delay,
            Cause::Exec | Cause::Changed => Duration::ZERO,
        };
        let up = self.up.get_mut(i)?;
        let pending = self.pending.get_mut(i)?;
        if want == *up {
            // A change undone before its delay ran out is never reported.
            *pending = None;
            return None;
        }
        if delay.is_zero() {
            *pending = None;
            *up = want;
            return Some((i, want));
        }
        if pending.is_none() {
            *pending = Some(now + delay);
        }
        None
    }

    /// The initial (or recovery) state from a full scan.
    pub fn apply_scan(&mut self, procs: &[(u32, ProcInfo)], now: Instant) -> Vec<(usize, bool)> {
        let seen: HashSet<u32> = procs.iter().map(|(pid, _)| *pid).collect();
        let gone: Vec<u32> = self
            .pids
            .keys()
            .filter(|p| !seen.contains(p))
            .copied()
            .collect();
        let mut changes = Vec::new();
        for pid in gone {
            changes.extend(self.set_pid(pid, Vec::new(), Cause::Exec, Cause::Exit, now));
        }
        for (pid, info) in procs {
            let now_in = self.matching(info);
            if now_in.is_empty() && !self.pids.contains_key(pid) {
                continue;
            }
            changes.extend(self.set_pid(*pid, now_in, Cause::Exec, Cause::Changed, now));
        }
        changes
    }

    /// One connector event; `read` looks a process up in `/proc`.
    pub fn apply_event(
        &mut self,
        event: &ProcEvent,
        now: Instant,
        read: impl Fn(u32, bool) -> Option<ProcInfo>,
    ) -> Vec<(usize, bool)> {
        match event {
            ProcEvent::Fork { parent, child } => {
                // keepalived: a child of a tracked process counts for the same trackers.
                let Some(inherited) = self.pids.get(parent).cloned() else {
                    return Vec::new();
                };
                self.set_pid(*child, inherited, Cause::Fork, Cause::Changed, now)
            }
            ProcEvent::Exec { pid } | ProcEvent::Comm { pid, .. } => {
                let now_in = read(*pid, self.needs_cmdline)
                    .map(|info| self.matching(&info))
                    .unwrap_or_default();
                if now_in.is_empty() && !self.pids.contains_key(pid) {
                    return Vec::new();
                }
                self.set_pid(*pid, now_in, Cause::Exec, Cause::Changed, now)
            }
            ProcEvent::Exit { pid } => {
                if !self.pids.contains_key(pid) {
                    return Vec::new();
                }
                self.set_pid(*pid, Vec::new(), Cause::Exec, Cause::Exit, now)
            }
        }
    }

    /// The earliest delayed change.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.iter().flatten().min().copied()
    }

    /// Delayed changes that are due.
    pub fn fire(&mut self, now: Instant) -> Vec<(usize, bool)> {
        let mut changes = Vec::new();
        for i in 0..self.matchers.len() {
            let due = self
                .pending
                .get(i)
                .copied()
                .flatten()
                .is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            if let Some(slot) = self.pending.get_mut(i) {
                *slot = None;
            }
            let want = self
                .matchers
                .get(i)
                .is_some_and(|m| m.in_quorum(self.counts.get(i).copied().unwrap_or(0)));
            if let Some(up) = self.up.get_mut(i)
                && *up != want
            {
                *up = want;
                changes.push((i, want));
            }
        }
        changes
    }
}

/// What the reader thread hands to the tracking task.
enum Feed {
    Events(Vec<ProcEvent>),
    /// Events were lost: rescan.
    Overrun,
}

/// Starts tracking every configured process; returns each one's initial status
/// (indexed like the configuration). Changes arrive as [`NetEvent::Process`].
pub fn start(configs: &[TrackProcess], events: UnboundedSender<NetEvent>) -> Vec<bool> {
    let matchers: Vec<Option<Matcher>> = configs.iter().map(Matcher::new).collect();
    // Trackers without a process line stay "down"; they never match anything.
    let index_map: Vec<usize> = matchers
        .iter()
        .enumerate()
        .filter(|(_, m)| m.is_some())
        .map(|(i, _)| i)
        .collect();
    let mut initial = vec![false; configs.len()];
    if index_map.is_empty() {
        return initial;
    }
    let mut tracker = Tracker::new(matchers.into_iter().flatten().collect());
    // Subscribe first, then scan: nothing that starts in between is missed.
    let socket = match ProcEventSocket::open() {
        Ok(socket) => {
            info!(
                "track_process: following process events{}",
                if socket.via_initial_namespace {
                    " (connector of the initial network namespace)"
                } else {
                    ""
                }
            );
            Some(socket)
        }
        Err(e) => {
            info!(
                "track_process: {e} - scanning /proc every {} ms instead",
                SCAN_INTERVAL.as_millis()
            );
            None
        }
    };
    let needs_cmdline = tracker.needs_cmdline;
    let _ = tracker.apply_scan(&scan_proc(needs_cmdline), Instant::now());
    for (local, &global) in index_map.iter().enumerate() {
        if let (Some(slot), Some(&up)) = (initial.get_mut(global), tracker.statuses().get(local)) {
            *slot = up;
        }
    }
    let (feed_tx, mut feed_rx) = unbounded_channel();
    let connected = socket.is_some();
    if let Some(mut socket) = socket {
        let spawned = std::thread::Builder::new()
            .name("track-process".into())
            .spawn(move || {
                loop {
                    let feed = match socket.recv() {
                        Ok(list) if list.is_empty() => continue,
                        Ok(list) => Feed::Events(list),
                        Err(ProcEventsError::Overrun) => Feed::Overrun,
                        Err(e) => {
                            warn!("track_process: {e} - process tracking stopped");
                            return;
                        }
                    };
                    if feed_tx.send(feed).is_err() {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            warn!("cannot start the process event reader: {e}");
        }
    } else {
        drop(feed_tx);
    }
    let names: Vec<String> = tracker.matchers.iter().map(|m| m.name.clone()).collect();
    tokio::spawn(async move {
        let report = |changes: Vec<(usize, bool)>| -> bool {
            for (local, up) in changes {
                let Some(&index) = index_map.get(local) else {
                    continue;
                };
                let name = names.get(local).map_or("", String::as_str);
                // keepalived's wording (process_update_track_process_status()).
                info!(
                    "Quorum {} for tracked process {name}",
                    if up { "gained" } else { "lost" }
                );
                if events.send(NetEvent::Process { index, up }).is_err() {
                    return false;
                }
            }
            true
        };
        let mut scan = tokio::time::interval(SCAN_INTERVAL);
        scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut feed_open = connected;
        loop {
            let deadline = tracker.next_deadline();
            let changes = tokio::select! {
                feed = feed_rx.recv(), if feed_open => match feed {
                    Some(Feed::Events(list)) => {
                        let now = Instant::now();
                        list.iter()
                            .flat_map(|e| tracker.apply_event(e, now, read_proc))
                            .collect::<Vec<_>>()
                    }
                    Some(Feed::Overrun) => {
                        warn!("track_process: process events lost - rescanning /proc");
                        tracker.apply_scan(&scan_proc(needs_cmdline), Instant::now())
                    }
                    None => {
                        // The reader stopped: keep going by scanning.
                        feed_open = false;
                        Vec::new()
                    }
                },
                _ = scan.tick(), if !feed_open => {
                    tracker.apply_scan(&scan_proc(needs_cmdline), Instant::now())
                }
                () = async {
                    match deadline {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                } => tracker.fire(Instant::now()),
            };
            if !report(changes) {
                return;
            }
        }
    });
    initial
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(process: &str, params: &[&str], param_match: ParamMatch) -> TrackProcess {
        TrackProcess {
            name: "p".into(),
            process: Some(process.into()),
            params: params.iter().map(|s| (*s).to_string()).collect(),
            param_match,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: u32::MAX,
            terminate_delay_us: 0,
            fork_delay_us: 0,
            full_command: !params.is_empty() || param_match != ParamMatch::None,
            span: None,
        }
    }

    fn proc(comm: &str, argv: &[&str]) -> ProcInfo {
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        ProcInfo {
            comm: comm.into(),
            cmdline,
        }
    }

    fn matcher(c: &TrackProcess) -> Matcher {
        Matcher::new(c).expect("process given")
    }

    #[test]
    fn comm_or_full_command() {
        let by_comm = matcher(&config("nginx", &[], ParamMatch::None));
        assert!(by_comm.matches(&proc("nginx", &["/usr/sbin/nginx", "-g"])));
        assert!(!by_comm.matches(&proc("nginx-debug", &["nginx"])));
        let mut full = config("/usr/sbin/nginx", &[], ParamMatch::None);
        full.full_command = true;
        let full = matcher(&full);
        assert!(full.matches(&proc("nginx", &["/usr/sbin/nginx", "-g", "x"])));
        assert!(!full.matches(&proc("nginx", &["nginx"])));
    }

    #[test]
    fn param_match_exact_partial_initial() {
        let exact = matcher(&config("sleep", &["100", "x"], ParamMatch::Exact));
        assert!(exact.matches(&proc("sleep", &["sleep", "100", "x"])));
        assert!(!exact.matches(&proc("sleep", &["sleep", "100", "x", "y"])));
        assert!(!exact.matches(&proc("sleep", &["sleep", "100", "xy"])));
        assert!(!exact.matches(&proc("sleep", &["sleep", "100"])));
        let none = matcher(&config("sleep", &[], ParamMatch::Exact));
        assert!(none.matches(&proc("sleep", &["sleep"])));
        assert!(!none.matches(&proc("sleep", &["sleep", "1"])));

        let partial = matcher(&config("sleep", &["100", "x"], ParamMatch::Partial));
        assert!(partial.matches(&proc("sleep", &["sleep", "100", "x", "y"])));
        assert!(!partial.matches(&proc("sleep", &["sleep", "100", "xy"])));

        let initial = matcher(&config("sleep", &["100", "x"], ParamMatch::Initial));
        assert!(initial.matches(&proc("sleep", &["sleep", "100", "xy", "z"])));
        assert!(initial.matches(&proc("sleep", &["sleep", "100", "x"])));
        assert!(!initial.matches(&proc("sleep", &["sleep", "100"])));
        assert!(!initial.matches(&proc("sleep", &["sleep", "1000", "x"])));
    }

    fn no_proc(_: u32, _: bool) -> Option<ProcInfo> {
        None
    }

    #[test]
    fn quorum_and_quorum_max() {
        let mut c = config("worker", &[], ParamMatch::None);
        c.quorum = 2;
        c.quorum_max = 3;
        let mut t = Tracker::new(vec![matcher(&c)]);
        let now = Instant::now();
        let w = proc("worker", &[]);
        assert_eq!(t.apply_scan(&[(1, w.clone())], now), vec![]);
        assert_eq!(t.statuses(), &[false]);
        let reader = |_: u32, _: bool| Some(proc("worker", &[]));
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 2 }, now, reader),
            vec![(0, true)]
        );
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 3 }, now, reader),
            vec![]
        );
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 4 }, now, reader),
            vec![(0, false)],
            "above quorum_max"
        );
        assert_eq!(
            t.apply_event(&ProcEvent::Exit { pid: 4 }, now, no_proc),
            vec![(0, true)]
        );
        // Unknown pids and repeated events change nothing.
        assert_eq!(
            t.apply_event(&ProcEvent::Exit { pid: 99 }, now, no_proc),
            vec![]
        );
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 3 }, now, reader),
            vec![]
        );
        // Exec of another program: no longer counted.
        let other = |_: u32, _: bool| Some(proc("bash", &[]));
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 3 }, now, other),
            vec![]
        );
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 2 }, now, other),
            vec![(0, false)]
        );
    }

    #[test]
    fn terminate_and_fork_delays() {
        let mut c = config("worker", &[], ParamMatch::None);
        c.terminate_delay_us = 2_000_000;
        c.fork_delay_us = 1_000_000;
        let mut t = Tracker::new(vec![matcher(&c)]);
        let t0 = Instant::now();
        t.apply_scan(&[(10, proc("worker", &[]))], t0);
        assert_eq!(t.statuses(), &[true]);
        // Exit: the loss waits for terminate_delay...
        assert_eq!(
            t.apply_event(&ProcEvent::Exit { pid: 10 }, t0, no_proc),
            vec![]
        );
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(t.fire(t0 + Duration::from_secs(1)), vec![]);
        assert_eq!(t.fire(t0 + Duration::from_secs(2)), vec![(0, false)]);
        // ...and is never reported if the process is back in time.
        let reader = |_: u32, _: bool| Some(proc("worker", &[]));
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 11 }, t0, reader),
            vec![(0, true)]
        );
        t.apply_event(&ProcEvent::Exit { pid: 11 }, t0, no_proc);
        assert_eq!(
            t.apply_event(&ProcEvent::Exec { pid: 12 }, t0, reader),
            vec![]
        );
        assert_eq!(t.next_deadline(), None);
        // Fork of a tracked process: fork_delay before the gain counts.
        t.apply_event(&ProcEvent::Exit { pid: 12 }, t0, no_proc);
        t.fire(t0 + Duration::from_secs(5));
        assert_eq!(t.statuses(), &[false]);
        let mut q = c.clone();
        q.quorum = 2;
        let mut t = Tracker::new(vec![matcher(&q)]);
        t.apply_scan(&[(20, proc("worker", &[]))], t0);
        assert_eq!(
            t.apply_event(
                &ProcEvent::Fork {
                    parent: 20,
                    child: 21
                },
                t0,
                no_proc
            ),
            vec![]
        );
        assert_eq!(t.fire(t0 + Duration::from_secs(1)), vec![(0, true)]);
        // Forks of untracked processes are ignored.
        assert_eq!(
            t.apply_event(
                &ProcEvent::Fork {
                    parent: 7,
                    child: 8
                },
                t0,
                no_proc
            ),
            vec![]
        );
    }

    #[test]
    fn scans_diff_against_what_is_known() {
        let c = config("worker", &[], ParamMatch::None);
        let mut t = Tracker::new(vec![matcher(&c)]);
        let now = Instant::now();
        assert_eq!(
            t.apply_scan(&[(1, proc("worker", &[])), (2, proc("bash", &[]))], now),
            vec![(0, true)]
        );
        assert_eq!(
            t.apply_scan(&[(2, proc("bash", &[]))], now),
            vec![(0, false)]
        );
    }

    #[test]
    fn reads_our_own_process() {
        let me = read_proc(std::process::id(), true).expect("our /proc entry");
        assert!(!me.comm.is_empty());
        assert!(!me.cmdline.is_empty());
        assert!(
            scan_proc(false)
                .iter()
                .any(|(p, _)| *p == std::process::id())
        );
    }

    #[test]
    fn tracker_ids_do_not_collide() {
        assert_eq!(index_of(TrackerId(PROCESS_TRACKER | 5)), Some(5));
        assert_eq!(index_of(TrackerId(5)), None);
        assert_eq!(
            index_of(TrackerId(super::super::instance::FILE_TRACKER | 5)),
            None
        );
        assert_eq!(
            index_of(TrackerId(super::super::instance::INTERFACE_TRACKER | 5)),
            None
        );
        assert_eq!(
            index_of(TrackerId(super::super::instance::NO_SOURCE_TRACKER)),
            None
        );
    }

    /// The whole tracker, with a real process: the test's own `sleep` stopping and
    /// starting is reported (through the connector where this namespace has one —
    /// the initial one, where tests run — else through the /proc scan).
    #[tokio::test]
    async fn a_real_process_stopping_and_starting_is_reported() {
        let unique = format!("2999.{}7", std::process::id());
        let spawn = || {
            std::process::Command::new("sleep")
                .arg(&unique)
                .spawn()
                .expect("sleep")
        };
        let mut child = spawn();
        let mut c = config("sleep", &[unique.as_str()], ParamMatch::Exact);
        c.name = "sleeper".into();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        assert_eq!(start(&[c], tx), vec![true]);
        let _ = child.kill();
        let _ = child.wait();
        let next = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        assert!(
            matches!(
                next,
                Ok(Some(NetEvent::Process {
                    index: 0,
                    up: false
                }))
            ),
            "{next:?}"
        );
        let mut child = spawn();
        let next = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            matches!(next, Ok(Some(NetEvent::Process { index: 0, up: true }))),
            "{next:?}"
        );
    }
}
