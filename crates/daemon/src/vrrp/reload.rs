//! SIGHUP reload of the VRRP runtime without flaps (keepalived `reload_vrrp_thread`,
//! `vrrp_complete_init`, `clear_diff_vrrp`, `clear_diff_script`, reference §3.12).
//!
//! keepalived rebuilds every instance from the new configuration and carries the state
//! of the old one it matches (`vrrp_exist`: same VRID, family and configured interface;
//! unicast ones also the same source; multicast ones also the same `use_vmac` and
//! group). We do the same, and go one step further for the common case: an instance
//! whose state-machine configuration did not change keeps its very router — timers,
//! counters, master, everything — so an unchanged instance sees no reload at all (no
//! early advert, no restarted down timer, no netlink request). Only its runtime data
//! (notify scripts, peers, ...) is swapped for the new one.
//!
//! - Matched and changed: a new router with [`Router::restore_from`] the old one (a
//!   MASTER stays MASTER and advertises at once, a BACKUP restarts its down timer);
//!   VIPs, eVIPs, routes and rules only in the old configuration are removed, new ones
//!   added (the core asks for the whole set, existing ones are no-ops), and gratuitous
//!   ARPs/NAs go out when an address was added, as keepalived does.
//! - Removed: a MASTER sends its priority-0 advert and drops its VIPs; the notify is
//!   FAULT, or DELETED with `notify_deleted` (keepalived's default kept FAULT).
//! - Added: starts like at startup (BACKUP, or FAULT).
//! - Sync groups kept whole when nothing in them changed, otherwise rebuilt from
//!   restored members ([`SyncGroup::restore_from`]: an all-MASTER group stays MASTER).
//! - `vrrp_script` checkers of unchanged scripts keep running; changed ones restart
//!   from their previous result (keepalived "considered successful on reload"),
//!   removed ones stop. `track_file`s are re-read and re-watched when they change.
//! - `static_ipaddress`/`static_routes`/`static_rules`: the difference is applied;
//!   notify FIFOs are closed and reopened (keepalived does both).
//! - An instance that cannot be built from the new configuration keeps running with
//!   its previous configuration; every netlink error is logged with its context.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use config::model::vrrp::{TrackFile, VrrpScript};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use tracing::{error, info, warn};
use vrrp::router::{Action, Input, Router, RouterConfig, State, SyncGroup, TrackerStatus};

use super::instance::{self, Instance};
use super::net::NetEvent;
use super::{
    HostInterfaces, Output, Unit, VrrpRuntime, fifo, garp, garp_groups, routes, rules, scripts,
    trackfile,
};

/// Reload bookkeeping of the runtime.
#[derive(Debug)]
pub(super) struct Reloads {
    /// Whether the routers run already (not during `vrrp_startup_delay`).
    pub units_started: bool,
    /// The `vrrp_track_process`es being followed (they are not restarted by a reload).
    pub track_processes: Vec<config::model::vrrp::TrackProcess>,
    /// Completed reloads, for whoever reports "Reload complete".
    done: watch::Sender<u64>,
}

impl Default for Reloads {
    fn default() -> Self {
        Reloads {
            units_started: false,
            track_processes: Vec::new(),
            done: watch::Sender::new(0),
        }
    }
}

/// One running `vrrp_script` checker.
#[derive(Debug)]
struct Checker {
    script: VrrpScript,
    token: usize,
    abort: Option<tokio::task::AbortHandle>,
}

/// The `vrrp_script` checkers, in configuration order. Their events carry a token, so
/// a checker that survives a reload keeps reporting to the right script.
#[derive(Debug, Default)]
pub(super) struct Checkers {
    running: Vec<Checker>,
    next_token: usize,
}

impl Checkers {
    /// Starts every checker; returns their initial status (keepalived: good unless
    /// `init_fail`).
    pub fn start(
        &mut self,
        scripts: &[VrrpScript],
        events: &UnboundedSender<NetEvent>,
    ) -> Vec<bool> {
        scripts
            .iter()
            .map(|script| {
                let up = !script.init_fail;
                let checker = self.spawn(script, up, events);
                self.running.push(checker);
                up
            })
            .collect()
    }

    fn spawn(
        &mut self,
        script: &VrrpScript,
        up: bool,
        events: &UnboundedSender<NetEvent>,
    ) -> Checker {
        let token = self.next_token;
        self.next_token += 1;
        Checker {
            script: script.clone(),
            token,
            abort: scripts::spawn_checker(token, script, up, events.clone()),
        }
    }

    /// The configuration index of the script a checker event belongs to (`None`: a
    /// checker a reload stopped).
    pub fn index_of(&self, token: usize) -> Option<usize> {
        self.running.iter().position(|c| c.token == token)
    }

    /// keepalived `clear_diff_script`: scripts are matched by name; an unchanged one
    /// keeps its checker, a changed one restarts from its previous result, a new one
    /// starts from its initial status. Returns the status of every script and whether
    /// it is the same script at the same index as before (a router tracking only such
    /// scripts can be kept as it is).
    fn reload(
        &mut self,
        scripts: &[VrrpScript],
        previous_up: &[bool],
        events: &UnboundedSender<NetEvent>,
    ) -> (Vec<bool>, Vec<bool>) {
        let mut old: Vec<Option<(Checker, bool)>> = std::mem::take(&mut self.running)
            .into_iter()
            .zip(previous_up.iter().copied().chain(std::iter::repeat(true)))
            .map(Some)
            .collect();
        let mut statuses = Vec::with_capacity(scripts.len());
        let mut stable = Vec::with_capacity(scripts.len());
        for (index, script) in scripts.iter().enumerate() {
            let found = old.iter().position(|o| {
                o.as_ref()
                    .is_some_and(|(c, _)| c.script.name == script.name)
            });
            let taken = found.and_then(|position| {
                old.get_mut(position)
                    .and_then(Option::take)
                    .map(|entry| (position, entry))
            });
            match taken {
                Some((position, (checker, up))) if same_script(&checker.script, script) => {
                    stable.push(position == index);
                    statuses.push(up);
                    self.running.push(Checker {
                        script: script.clone(),
                        ..checker
                    });
                }
                Some((position, (checker, up))) => {
                    if let Some(abort) = &checker.abort {
                        abort.abort();
                    }
                    info!(
                        "VRRP_Script({}) considered {} on reload",
                        script.name,
                        if up { "successful" } else { "unsuccessful" }
                    );
                    stable.push(position == index);
                    statuses.push(up);
                    let checker = self.spawn(script, up, events);
                    self.running.push(checker);
                }
                None => {
                    let up = !script.init_fail;
                    stable.push(false);
                    statuses.push(up);
                    let checker = self.spawn(script, up, events);
                    self.running.push(checker);
                }
            }
        }
        for (checker, _) in old.into_iter().flatten() {
            if let Some(abort) = checker.abort {
                abort.abort();
            }
        }
        (statuses, stable)
    }
}

/// The same checker configuration (source positions aside).
fn same_script(a: &VrrpScript, b: &VrrpScript) -> bool {
    let command = |s: &VrrpScript| {
        s.script
            .as_ref()
            .map(|c| (c.args.clone(), c.uid_gid, c.verdict))
    };
    a.interval == b.interval
        && a.timeout == b.timeout
        && a.rise == b.rise
        && a.fall == b.fall
        && a.init_fail == b.init_fail
        && command(a) == command(b)
}

/// The same `vrrp_track_process` list (source positions aside).
fn same_processes(
    a: &[config::model::vrrp::TrackProcess],
    b: &[config::model::vrrp::TrackProcess],
) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let mut x = x.clone();
            x.span = y.span;
            x == *y
        })
}

/// The `track_file` watcher and the files it watches.
#[derive(Debug, Default)]
pub(super) struct TrackFiles {
    /// (name, path) per configuration index.
    files: Vec<(String, Option<String>)>,
    /// Watch token per configuration index.
    tokens: Vec<usize>,
    next_token: usize,
    stop: Option<Arc<AtomicBool>>,
}

impl TrackFiles {
    /// keepalived `init_track_files`: initialise (`init_file`), read and watch every
    /// file; returns their values.
    pub fn start(
        &mut self,
        config: &config::Config,
        events: &UnboundedSender<NetEvent>,
    ) -> Vec<i64> {
        let files = &config.vrrp.track_files;
        if let Some(stop) = self.stop.take() {
            stop.store(true, Ordering::Relaxed);
        }
        self.files = files
            .iter()
            .map(|f| (f.name.clone(), f.path.clone()))
            .collect();
        self.tokens.clear();
        let mut watched = Vec::new();
        let values = files
            .iter()
            .map(|tf| {
                let token = self.next_token;
                self.next_token += 1;
                self.tokens.push(token);
                let Some(path) = tf.path.as_ref().map(std::path::PathBuf::from) else {
                    return 0;
                };
                // Problems found later name the configuration line of the track file.
                let origin = config.locate(tf.span).unwrap_or_default();
                trackfile::init_file(&path, tf.init, &origin);
                let initial = trackfile::read_value(&path, &origin).unwrap_or(0);
                watched.push(trackfile::Watched {
                    index: token,
                    path,
                    initial,
                    origin,
                });
                initial
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        trackfile::spawn_watch(watched, events.clone(), stop.clone());
        self.stop = Some(stop);
        values
    }

    /// The configuration index of a watch event (`None`: a watcher a reload replaced).
    pub fn index_of(&self, token: usize) -> Option<usize> {
        self.tokens.iter().position(|&t| t == token)
    }

    /// Whether the new configuration names the same files in the same order.
    fn unchanged(&self, files: &[TrackFile]) -> bool {
        self.files.len() == files.len()
            && self
                .files
                .iter()
                .zip(files)
                .all(|((name, path), f)| *name == f.name && *path == f.path)
    }
}

/// One instance of the new configuration.
struct Entry {
    name: String,
    /// Built from the new configuration; `None`: it could not be, and the matched old
    /// instance (`old`) goes on with its previous configuration.
    built: Option<(Instance, Router)>,
    /// The old instance it continues (keepalived `vrrp_exist`).
    old: Option<usize>,
    track_primary: bool,
}

/// How the routers of a new unit come about.
enum Plan {
    /// The old unit moves over untouched.
    Keep { old_unit: usize },
    /// New routers, restored from the old ones where matched.
    Rebuild,
}

/// A unit of the new configuration: a lone instance or a sync group (entry indices).
struct NewUnit {
    group: Option<(String, Box<config::model::vrrp::Notify>)>,
    members: Vec<usize>,
    plan: Plan,
}

impl VrrpRuntime {
    /// Receives the number of reloads handled (applied, or refused by the runtime):
    /// one per [`crate::control::Command::Reload`], for the parent's "Reload complete".
    pub fn reloads_done(&self) -> watch::Receiver<u64> {
        self.reloads.done.subscribe()
    }

    /// Applies a new configuration (SIGHUP). See the module documentation.
    pub(super) async fn reload(&mut self, mut config: config::Config) {
        // The caller logged "Reloading" when it read the configuration.
        let began = std::time::Instant::now();
        // Process tracking follows the configuration it started with: the instances
        // are built against that list, so their process trackers keep their indices.
        if !same_processes(&self.reloads.track_processes, &config.vrrp.track_processes) {
            warn!(
                "Reload: vrrp_track_process changes take effect at the next restart - the running process tracking stays"
            );
            config.vrrp.track_processes = self.reloads.track_processes.clone();
        }
        self.apply(&config).await;
        // Dumps and status show the configuration now running.
        self.config = Arc::new(super::snapshot::kept_config(&config));
        info!("Reload finished in {} usec", began.elapsed().as_micros());
        self.reloads.done.send_modify(|count| *count += 1);
    }

    async fn apply(&mut self, config: &config::Config) {
        let host = match (
            self.netlink.list_links().await,
            self.netlink.list_addresses(None).await,
        ) {
            (Ok(links), Ok(addresses)) => HostInterfaces { links, addresses },
            (Err(e), _) | (_, Err(e)) => {
                error!(
                    "Reload: cannot list interfaces and addresses: {e} - the running configuration stays"
                );
                return;
            }
        };
        let mut host = host;
        self.log_assigned_addresses(&host);
        self.link_names = host
            .links
            .iter()
            .map(|l| (l.index, l.name.clone()))
            .collect();
        self.mcast_group4 = config.global.vrrp_mcast_group4;

        let (script_up, scripts_stable) =
            self.checkers
                .reload(&config.vrrp.scripts, &self.script_up, &self.events_tx);
        self.script_up = script_up;
        let files_stable = self.track_files.unchanged(&config.vrrp.track_files);
        if !files_stable {
            self.file_values = self.track_files.start(config, &self.events_tx);
        }

        // Build every instance of the new configuration.
        let mut entries = Vec::with_capacity(config.vrrp.instances.len());
        for inst in &config.vrrp.instances {
            let built = match self.build_instance(inst, config, &mut host).await {
                Ok(built) => Some(built),
                Err(e) => {
                    error!("{e} - cannot apply the new configuration of this instance");
                    None
                }
            };
            entries.push(Entry {
                name: inst.name.clone(),
                built,
                old: None,
                track_primary: !inst.dont_track_primary,
            });
        }
        let old_matched = self.match_instances(&mut entries);
        entries.retain(|e| e.built.is_some() || e.old.is_some());

        let trackers_stable = |router: &Router| {
            router.config().trackers.iter().all(|t| {
                let id = t.id.0;
                if id & instance::INTERFACE_TRACKER != 0
                    || id == instance::NO_SOURCE_TRACKER
                    || super::trackproc::index_of(t.id).is_some()
                {
                    true
                } else if id & instance::FILE_TRACKER != 0 {
                    files_stable
                } else {
                    usize::try_from(id)
                        .ok()
                        .and_then(|index| scripts_stable.get(index))
                        .copied()
                        .unwrap_or(false)
                }
            })
        };
        let mut layout = self.layout(config, &entries);
        for unit in &mut layout {
            unit.plan = self.plan(unit, &entries, &trackers_stable);
        }

        // In the old index space: removed instances leave, stale addresses go.
        for (i, matched) in old_matched.iter().enumerate() {
            if !matched {
                self.remove_instance(i).await;
            }
        }
        let mut addresses_added = vec![false; entries.len()];
        for (j, entry) in entries.iter().enumerate() {
            if let (Some(i), Some((new, _))) = (entry.old, &entry.built)
                && let Some(slot) = addresses_added.get_mut(j)
            {
                *slot = self.remove_stale_addresses(i, new).await;
            }
        }

        self.swap_in(entries, layout, &host, &addresses_added).await;
        self.reload_static(config, &host).await;
        self.fifos.clear();
        self.fifos = [
            fifo::NotifyFifo::open(&config.global.notify_fifo, ""),
            fifo::NotifyFifo::open(&config.global.vrrp_notify_fifo, "vrrp_"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let Some(pacer) = &mut self.garp {
            pacer.set_intervals(
                garp::Intervals {
                    arp: config.global.vrrp_garp_interval,
                    na: config.global.vrrp_gna_interval,
                },
                garp_groups(config, &host),
            );
        }
    }

    /// keepalived logs the interfaces' own addresses again (not our VIPs).
    fn log_assigned_addresses(&self, host: &HostInterfaces) {
        let ours: HashSet<(u32, std::net::IpAddr)> = self
            .instances
            .iter()
            .flat_map(|inst| &inst.addresses)
            .map(|v| (v.spec.ifindex, v.spec.address))
            .collect();
        for link in host.links.iter().filter(|l| l.name != "lo") {
            for a in host
                .addresses
                .iter()
                .filter(|a| a.ifindex == link.index && !ours.contains(&(a.ifindex, a.address)))
            {
                info!("Assigned address {} for interface {}", a.address, link.name);
            }
        }
    }

    /// keepalived `vrrp_exist`: pairs each old instance with the new one it continues.
    /// An entry that could not be built continues the old instance of the same name.
    /// Returns, per old instance, whether it continues.
    fn match_instances(&self, entries: &mut [Entry]) -> Vec<bool> {
        let mut old_matched = vec![false; self.instances.len()];
        // Candidates by (VRID, family, configured interface), in configuration order:
        // a thousand instances would otherwise mean a million comparisons.
        let mut candidates: HashMap<(u8, bool, u32), Vec<usize>> = HashMap::new();
        for (j, entry) in entries.iter().enumerate() {
            if let Some((new, _)) = &entry.built {
                candidates.entry(identity(new)).or_default().push(j);
            }
        }
        for (i, old) in self.instances.iter().enumerate() {
            let mut found = None;
            for &j in candidates
                .get(&identity(old))
                .map_or(&[][..], Vec::as_slice)
            {
                let Some(entry) = entries.get(j) else {
                    continue;
                };
                let Some((new, _)) = &entry.built else {
                    continue;
                };
                if entry.old.is_some() {
                    continue;
                }
                match continues(old, new) {
                    Continues::No => continue,
                    Continues::Yes => found = Some(j),
                    Continues::Stop => {}
                }
                break;
            }
            if let Some(entry) = found.and_then(|j| entries.get_mut(j)) {
                entry.old = Some(i);
                if let Some(slot) = old_matched.get_mut(i) {
                    *slot = true;
                }
            }
        }
        for entry in entries.iter_mut().filter(|e| e.built.is_none()) {
            let same_name = self.instances.iter().enumerate().find(|(i, old)| {
                old.name == entry.name && !old_matched.get(*i).copied().unwrap_or(true)
            });
            if let Some((i, _)) = same_name {
                warn!(
                    "({}) keeps running with its previous configuration",
                    entry.name
                );
                entry.old = Some(i);
                if let Some(slot) = old_matched.get_mut(i) {
                    *slot = true;
                }
            }
        }
        old_matched
    }

    /// The new units: sync groups in configuration order, then the lone instances (as
    /// at startup).
    fn layout(&self, config: &config::Config, entries: &[Entry]) -> Vec<NewUnit> {
        let by_name: HashMap<&str, usize> = entries
            .iter()
            .enumerate()
            .map(|(j, e)| (e.name.as_str(), j))
            .collect();
        let mut grouped = vec![false; entries.len()];
        let mut layout = Vec::new();
        for sg in &config.vrrp.sync_groups {
            let mut members = Vec::new();
            for name in sg.members.iter().flatten() {
                if let Some(&j) = by_name.get(name.as_str())
                    && let Some(slot) = grouped.get_mut(j)
                    && !*slot
                {
                    *slot = true;
                    members.push(j);
                }
            }
            if !members.is_empty() {
                layout.push(NewUnit {
                    group: Some((sg.name.clone(), Box::new(sg.notify.clone()))),
                    members,
                    plan: Plan::Rebuild,
                });
            }
        }
        for (j, _) in grouped.iter().enumerate().filter(|(_, g)| !**g) {
            layout.push(NewUnit {
                group: None,
                members: vec![j],
                plan: Plan::Rebuild,
            });
        }
        layout
    }

    /// Whether a new unit can take over its old unit as it is: same shape (lone, or the
    /// same group with the same members in the same order) and, for every member, the
    /// same state-machine configuration, transmit interface and trackers.
    fn plan(
        &self,
        unit: &NewUnit,
        entries: &[Entry],
        trackers_stable: &dyn Fn(&Router) -> bool,
    ) -> Plan {
        let mut old_members = Vec::new();
        for &j in &unit.members {
            let Some(entry) = entries.get(j) else {
                return Plan::Rebuild;
            };
            let Some(i) = entry.old else {
                return Plan::Rebuild;
            };
            let Some(old_router) = self.router_of(i) else {
                return Plan::Rebuild;
            };
            if let Some((new, router)) = &entry.built {
                let same_links = self
                    .instances
                    .get(i)
                    .is_some_and(|old| old.xmit.index == new.xmit.index);
                if !same_links
                    || !same_router_config(old_router.config(), router.config())
                    || !trackers_stable(old_router)
                {
                    return Plan::Rebuild;
                }
            }
            old_members.push(i);
        }
        let Some(&(old_unit, _)) = old_members.first().and_then(|&i| self.member_of.get(i)) else {
            return Plan::Rebuild;
        };
        let same_shape = match (self.units.get(old_unit), &unit.group) {
            (Some(Unit::Single { .. }), None) => true,
            (Some(Unit::Group { group, members, .. }), Some((name, _))) => {
                group.name() == name && *members == old_members
            }
            _ => false,
        };
        if same_shape {
            Plan::Keep { old_unit }
        } else {
            Plan::Rebuild
        }
    }

    fn router_of(&self, i: usize) -> Option<&Router> {
        let &(u, m) = self.member_of.get(i)?;
        self.units.get(u)?.router(m)
    }

    /// An instance gone from the configuration (keepalived `clear_diff_vrrp`): a MASTER
    /// sends priority 0 and releases its VIPs; notify FAULT (DELETED with
    /// `notify_deleted`), unless it was in FAULT already.
    async fn remove_instance(&mut self, i: usize) {
        let Some(&(u, m)) = self.member_of.get(i) else {
            return;
        };
        let (state, priority) = self.router_status(i);
        if let Some(inst) = self.instances.get(i) {
            info!("({}) removed from the configuration", inst.name);
        }
        let now = self.now();
        if let Some(unit) = self.units.get_mut(u) {
            unit.handle(now, m, Input::Stop);
        }
        // Only the leaving instance's advert and VIP removal: it is not "stopping" (no
        // STOP notify, and `-V` does not keep its VIPs).
        while let Some(output) = self.units.get_mut(u).and_then(Unit::poll) {
            match output {
                Output::Member(k, Action::SendAdvert(advert)) if k == i => {
                    self.send_advert(k, &advert).await;
                }
                Output::Member(k, Action::RemoveVips) if k == i => self.remove_vips(k).await,
                _ => {}
            }
        }
        let Some(inst) = self.instances.get(i) else {
            return;
        };
        let notify = inst.notify();
        if !notify.notify_deleted && state == State::Fault {
            return;
        }
        let (word, script) = if notify.notify_deleted {
            ("DELETED", notify.deleted.as_ref())
        } else {
            ("FAULT", notify.fault.as_ref())
        };
        let line = fifo::event_line("INSTANCE", &inst.name, word, priority);
        if let Some(script) = script {
            scripts::run_notify(script, &[]);
        }
        if let Some(script) = &notify.notify {
            scripts::run_notify(
                script,
                &[
                    "INSTANCE".to_string(),
                    inst.name.clone(),
                    word.to_string(),
                    priority.to_string(),
                ],
            );
        }
        self.write_fifos(&line);
    }

    /// keepalived `clear_diff_vrrp_vip`/`_vroutes`/`_vrules`: while the old instance
    /// holds its VIPs, the addresses, routes and rules the new configuration no longer
    /// has are removed. Returns whether the new configuration adds an address (GARPs
    /// follow then).
    async fn remove_stale_addresses(&mut self, i: usize, new: &Instance) -> bool {
        let holds = self.router_of(i).is_some_and(Router::vips_set);
        let Some(old) = self.instances.get(i) else {
            return false;
        };
        if !holds {
            return false;
        }
        for rule in old.rules().iter().filter(|r| !new.rules().contains(r)) {
            if let Err(e) = rules::delete(&self.netlink, rule).await {
                error!("({}) reload: cannot remove {e}", old.name);
            }
        }
        for route in old.routes().iter().filter(|r| !new.routes().contains(r)) {
            if let Err(e) = routes::delete(&self.netlink, route).await {
                error!("({}) reload: cannot remove {e}", old.name);
            }
        }
        for vip in old
            .addresses
            .iter()
            .filter(|v| !new.addresses.iter().any(|n| n.spec == v.spec))
        {
            let spec = &vip.spec;
            if let Err(e) = self
                .netlink
                .delete_address(spec.ifindex, spec.address, spec.prefix_len)
                .await
            {
                error!(
                    "({}) reload: cannot remove {}/{} from {}: {e}",
                    old.name, spec.address, spec.prefix_len, vip.ifname
                );
            }
        }
        new.addresses
            .iter()
            .any(|n| !old.addresses.iter().any(|v| v.spec == n.spec))
            || new.routes().iter().any(|r| !old.routes().contains(r))
            || new.rules().iter().any(|r| !old.rules().contains(r))
    }

    /// Replaces instances and units with the new ones, re-files the timers, re-maps the
    /// socket pools, drops unused VMACs and starts what is new.
    async fn swap_in(
        &mut self,
        mut entries: Vec<Entry>,
        layout: Vec<NewUnit>,
        host: &HostInterfaces,
        addresses_added: &[bool],
    ) {
        // New routers of rebuilt units, restored from the old ones (borrowed).
        let mut rebuilt: Vec<Option<Unit>> = Vec::with_capacity(layout.len());
        for unit in &layout {
            if let Plan::Keep { .. } = unit.plan {
                rebuilt.push(None);
                continue;
            }
            let mut routers = Vec::new();
            for &j in &unit.members {
                let Some(entry) = entries.get_mut(j) else {
                    continue;
                };
                let old_router = entry.old.and_then(|i| self.router_of(i));
                let fresh = match entry.built.as_mut() {
                    Some((_, router)) => Some(router.clone()),
                    None => old_router.and_then(|r| Router::new(r.config().clone()).ok()),
                };
                let Some(mut fresh) = fresh else {
                    continue;
                };
                if let Some(previous) = old_router {
                    fresh.restore_from(previous);
                }
                routers.push(fresh);
            }
            if routers.len() != unit.members.len() {
                // Not expected: every entry has a new or an old router.
                error!("reload: a unit lost a member - it is not restarted");
                rebuilt.push(None);
                continue;
            }
            rebuilt.push(match &unit.group {
                None => routers.into_iter().next().map(|router| Unit::Single {
                    router: Box::new(router),
                    instance: unit.members.first().copied().unwrap_or(0),
                }),
                Some((name, notify)) => {
                    let mut group = SyncGroup::new(name.clone(), routers);
                    let previous = self.units.iter().find_map(|u| match u {
                        Unit::Group { group: g, .. } if g.name() == name => Some(g),
                        _ => None,
                    });
                    if let Some(previous) = previous {
                        group.restore_from(previous);
                    }
                    Some(Unit::Group {
                        group: Box::new(group),
                        members: unit.members.clone(),
                        notify: notify.clone(),
                    })
                }
            });
        }

        let mut old_units: Vec<Option<Unit>> = std::mem::take(&mut self.units)
            .into_iter()
            .map(Some)
            .collect();
        let mut old_instances: Vec<Option<Instance>> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        let old_down_links = std::mem::take(&mut self.down_links);

        let mut kept_instance = vec![false; entries.len()];
        let mut units = Vec::with_capacity(layout.len());
        // An instance left without a unit (not expected) is found in none.
        let mut member_of = vec![(usize::MAX, 0); entries.len()];
        let mut to_start = Vec::new();
        for (unit_spec, fresh) in layout.into_iter().zip(rebuilt) {
            let u = units.len();
            let members = unit_spec.members.clone();
            let unit = match (unit_spec.plan, fresh) {
                (Plan::Keep { old_unit }, _) => {
                    for &j in &unit_spec.members {
                        if let Some(slot) = kept_instance.get_mut(j) {
                            *slot = true;
                        }
                    }
                    match old_units.get_mut(old_unit).and_then(Option::take) {
                        Some(Unit::Single { router, .. }) => Unit::Single {
                            router,
                            instance: unit_spec.members.first().copied().unwrap_or(0),
                        },
                        Some(Unit::Group { group, .. }) => Unit::Group {
                            group,
                            members: unit_spec.members.clone(),
                            notify: unit_spec
                                .group
                                .map(|(_, notify)| notify)
                                .unwrap_or_default(),
                        },
                        None => continue,
                    }
                }
                (Plan::Rebuild, Some(unit)) => {
                    to_start.push(u);
                    unit
                }
                (Plan::Rebuild, None) => continue,
            };
            for (m, &j) in members.iter().enumerate() {
                if let Some(slot) = member_of.get_mut(j) {
                    *slot = (u, m);
                }
            }
            units.push(unit);
        }

        let mut instances = Vec::with_capacity(entries.len());
        let mut down_links = Vec::with_capacity(entries.len());
        let mut track_primary = Vec::with_capacity(entries.len());
        for (j, entry) in entries.into_iter().enumerate() {
            let old = entry
                .old
                .and_then(|i| old_instances.get_mut(i).and_then(Option::take));
            let kept = kept_instance.get(j).copied().unwrap_or(false);
            let carried_links = entry
                .old
                .and_then(|i| old_down_links.get(i))
                .cloned()
                .unwrap_or_default();
            let instance = match (entry.built, old) {
                (Some((mut new, _)), Some(old)) => {
                    // keepalived `restore_vrrp_state`: counters and the AH sequence go on.
                    new.wire = old.wire;
                    new.rx_stats = old.rx_stats;
                    new.history = old.history;
                    new
                }
                (Some((new, _)), None) => new,
                (None, Some(old)) => old,
                (None, None) => continue,
            };
            // A kept router has been told about its links: keep what it was told. A
            // new one starts from the link states of the dump.
            down_links.push(if kept {
                carried_links
            } else {
                [instance.interface.index, instance.xmit.index]
                    .into_iter()
                    .filter(|ix| {
                        !host
                            .links
                            .iter()
                            .find(|l| l.index == *ix)
                            .is_some_and(|l| l.is_up() && l.is_running())
                    })
                    .collect()
            });
            track_primary.push(entry.track_primary);
            instances.push(instance);
        }
        self.instances = instances;
        self.down_links = down_links;
        self.track_primary = track_primary;
        self.member_of = member_of;
        self.units = units;
        self.timers.clear();
        self.scheduled = vec![None; self.units.len()];
        for u in 0..self.units.len() {
            self.reschedule(u);
        }
        self.open_pools();
        self.drop_unused_vmacs().await;

        if !self.reloads.units_started {
            return;
        }
        let now = self.now();
        for u in to_start {
            if let Some(unit) = self.units.get_mut(u) {
                unit.start(now);
            }
            self.drain(u).await;
        }
        // Addresses new in the configuration of a MASTER (rebuilt ones got the whole
        // set from the core already; kept ones only differ in eVIPs, routes or rules).
        for (j, &added) in addresses_added.iter().enumerate() {
            if !added {
                continue;
            }
            let Some(router) = self.router_of(j) else {
                continue;
            };
            if router.state() != State::Master || !router.vips_set() {
                continue;
            }
            let repeat = router.config().garp.master_repeat;
            if kept_instance.get(j).copied().unwrap_or(false) {
                self.add_vips(j).await;
            }
            // keepalived `vrrp_send_link_update` after `restore_vrrp_state` added one.
            if repeat > 0 {
                self.send_gratuitous(j, repeat).await;
            }
        }
    }

    /// A reload changed the instances behind a pool (its kernel filter's VRIDs and
    /// versions, or its receive buffer): the pool gets a new socket under the same
    /// index. The old receive task ends at its next packet, which it drops (it finds its
    /// socket orphaned), so no advert is seen twice and none is missed.
    pub(super) fn refit_pools(
        &mut self,
        sizing: &HashMap<super::PoolKey, super::net::ReceivePlan>,
    ) {
        for (p, pool) in self.pools.iter_mut().enumerate() {
            let Some(plan) = sizing.get(&pool.key) else {
                continue;
            };
            // The gap alone changes on the running task.
            pool.gap_us.store(
                u64::try_from(plan.gap.as_micros()).unwrap_or(u64::MAX),
                std::sync::atomic::Ordering::Relaxed,
            );
            if pool.plan.scope == plan.scope
                && pool.plan.receive_buffer == plan.receive_buffer
                && pool.plan.force_buffer == plan.force_buffer
            {
                pool.plan.gap = plan.gap;
                continue;
            }
            match super::net::open(&pool.key, &pool.interface, plan) {
                Ok(socket) => {
                    super::net::spawn_receiver(
                        p,
                        socket.clone(),
                        pool.gap_us.clone(),
                        self.events_tx.clone(),
                        super::net::label(&pool.key, &pool.interface),
                    );
                    pool.socket = socket;
                    pool.plan = plan.clone();
                }
                Err(e) => error!(
                    "reload: cannot reopen the VRRP socket on {} for its new instances: {e}",
                    pool.interface.name
                ),
            }
        }
    }

    /// keepalived `clear_diff_vrrp` (VMAC part): VMACs we created that no instance uses
    /// any more are deleted.
    async fn drop_unused_vmacs(&mut self) {
        let used: HashSet<u32> = self
            .instances
            .iter()
            .flat_map(|inst| {
                std::iter::once(inst.xmit.index)
                    .chain(inst.addresses.iter().map(|v| v.spec.ifindex))
            })
            .collect();
        let (keep, drop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.vmacs)
            .into_iter()
            .partition(|(link, _)| used.contains(&link.index));
        self.vmacs = keep;
        for (link, _) in drop {
            info!("Deleting VMAC {} (no longer used)", link.name);
            if let Err(e) = self.netlink.delete_link(link.index).await {
                error!("reload: cannot delete VMAC {}: {e}", link.name);
            }
        }
    }

    /// keepalived `clear_diff_static_addresses`/`_routes`/`_rules`, then the new
    /// entries are set.
    async fn reload_static(&mut self, config: &config::Config, host: &HostInterfaces) {
        let old_addresses = std::mem::take(&mut self.static_addresses);
        let old_routes = std::mem::take(&mut self.static_routes);
        let old_rules = std::mem::take(&mut self.static_rules);
        self.static_no_track.clear();
        // Resolve the new entries without touching the kernel yet.
        let default_if = config
            .global
            .default_interface
            .clone()
            .unwrap_or_else(|| "eth0".to_string());
        let mut addresses = Vec::new();
        for addr in &config.vrrp.static_addresses {
            let dev = addr.dev.clone().unwrap_or_else(|| default_if.clone());
            let Some((ifref, _)) = super::instance::Interfaces::by_name(host, &dev) else {
                warn!(
                    "static address {}: interface {dev} does not exist - ignored",
                    addr.addr
                );
                continue;
            };
            if addr.no_track {
                self.static_no_track.insert((ifref.index, addr.addr));
            }
            addresses.push((instance::address_spec(addr, ifref.index), dev));
        }
        let ifindex_of = |name: &str| {
            super::instance::Interfaces::by_name(host, name).map(|(ifref, _)| ifref.index)
        };
        let mut new_routes = Vec::new();
        for route in &config.vrrp.static_routes {
            match routes::spec(route, &ifindex_of) {
                Some(spec) => new_routes.push(spec),
                None => warn!(
                    "static route '{}' cannot be resolved - ignored",
                    route.words.join(" ")
                ),
            }
        }
        let new_rules: Vec<rules::RuleSpec> =
            config.vrrp.static_rules.iter().map(rules::spec).collect();

        for rule in old_rules.iter().filter(|r| !new_rules.contains(r)) {
            if let Err(e) = rules::delete(&self.netlink, rule).await {
                error!("reload: cannot remove static {e}");
            }
        }
        for route in old_routes.iter().filter(|r| !new_routes.contains(r)) {
            if let Err(e) = routes::delete(&self.netlink, route).await {
                error!("reload: cannot remove static {e}");
            }
        }
        for (spec, dev) in old_addresses
            .iter()
            .filter(|(spec, _)| !addresses.iter().any(|(n, _)| n == spec))
        {
            if let Err(e) = self
                .netlink
                .delete_address(spec.ifindex, spec.address, spec.prefix_len)
                .await
            {
                error!(
                    "reload: cannot remove static address {} from {dev}: {e}",
                    spec.address
                );
            }
        }
        for (spec, dev) in addresses
            .iter()
            .filter(|(spec, _)| !old_addresses.iter().any(|(o, _)| o == spec))
        {
            if let Err(e) = self.netlink.add_address(spec).await {
                error!(
                    "reload: cannot add static address {}/{} to {dev}: {e}",
                    spec.address, spec.prefix_len
                );
            }
        }
        for route in new_routes.iter().filter(|r| !old_routes.contains(r)) {
            if let Err(e) = routes::add(&self.netlink, route).await {
                error!("reload: cannot add static {e}");
            }
        }
        for rule in new_rules.iter().filter(|r| !old_rules.contains(r)) {
            if let Err(e) = rules::add(&self.netlink, rule).await {
                error!("reload: cannot add static {e}");
            }
        }
        self.static_addresses = addresses;
        self.static_routes = new_routes;
        self.static_rules = new_rules;
    }
}

/// keepalived `vrrp_exist`'s verdict on one candidate.
#[derive(Debug, PartialEq, Eq)]
enum Continues {
    /// Not this one; look further.
    No,
    Yes,
    /// The first instance with this VRID, family and interface differs in a way that
    /// makes the old one a different instance: no match at all.
    Stop,
}

/// What `vrrp_exist` compares first: VRID, family, configured interface.
fn identity(inst: &Instance) -> (u8, bool, u32) {
    (
        inst.vrid,
        inst.family == vrrp::packet::Family::Ipv6,
        inst.interface.index,
    )
}

/// keepalived `vrrp_exist`: same VRID, family and configured interface, and unicast on
/// both or neither; unicast ones must have the same source, multicast ones the same
/// `use_vmac` and group.
fn continues(old: &Instance, new: &Instance) -> Continues {
    if old.vrid != new.vrid
        || old.family != new.family
        || old.interface.index != new.interface.index
        || old.is_unicast() != new.is_unicast()
    {
        return Continues::No;
    }
    if old.is_unicast() {
        return if old.source == new.source {
            Continues::Yes
        } else {
            Continues::No
        };
    }
    if old.vmac != new.vmac || old.group != new.group {
        return Continues::Stop;
    }
    Continues::Yes
}

/// The same state-machine configuration, leaving out what describes the moment the
/// router was built (tracker and link status then).
fn same_router_config(old: &RouterConfig, new: &RouterConfig) -> bool {
    let normalised = |config: &RouterConfig| {
        let mut config = config.clone();
        config.interface_up = true;
        for tracker in &mut config.trackers {
            tracker.initial = TrackerStatus::Up;
        }
        config
    };
    normalised(old) == normalised(new)
}
