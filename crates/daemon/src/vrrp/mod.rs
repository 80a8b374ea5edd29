//! The VRRP runtime: one event loop owning every router (no locks on the hot path).
//!
//! ```text
//!  pool receive tasks ─┐                      ┌─> raw sockets (adverts)
//!  link/addr monitor ──┼─> mpsc ─> event loop ┼─> rtnetlink (VIPs)
//!  timer (earliest deadline of all routers) ──┘ └─> packet socket (GARP/NA)
//! ```
//!
//! - [`VrrpRuntime::start`] resolves interfaces, creates VMACs, removes leftover VIPs
//!   (keepalived does this at startup: "(VI_1) removing VIPs."), opens the socket pools
//!   and starts every router (keepalived always enters BACKUP first).
//! - [`VrrpRuntime::run`] drives everything until a [`crate::control::Command::Stop`],
//!   then stops every router (priority-0 advert, VIPs removed) and cleans up.
//! - Timers: a `BTreeSet` of (deadline, unit) — the earliest entry is the one sleep.
//! - Actions are performed in the order the state machine emits them.
//!
//! The runtime needs a tokio current-thread runtime in the network namespace it should
//! work in; it knows nothing about processes, so a VRRP child process (issue 6) can run it.

pub mod fifo;
pub mod garp;
pub mod instance;
pub mod net;
mod pacing;
mod relink;
mod reload;
pub mod routes;
pub mod rules;
pub mod rxguard;
pub mod scripts;
pub mod snapshot;
pub mod trackfile;
pub mod trackproc;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use futures::FutureExt;
use linux::addr::InterfaceAddress;
use linux::garp::GarpSender;
use linux::link::{LinkInfo, VmacSpec};
use linux::monitor::Event as LinkEvent;
use linux::sysctl::SysctlChanges;
use linux::{IfRef, MacAddr, Netlink};
use thiserror::Error;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tracing::{debug, error, info, warn};
use vrrp::advert::Advert;
use vrrp::packet::{
    Family, InstanceExpectations, Ipv4EncodeOptions, Ipv6EncodeOptions, RxMeta, encode_ipv4,
    encode_vrrp_ipv6, validate,
};
use vrrp::router::{
    Action, GroupAction, Input, LogEvent, Router, State, SyncGroup, Timestamp, TrackerConfig,
    TrackerId, TrackerStatus,
};

use crate::control::{Command, CommandReceiver};
use instance::{Instance, InstanceLinks, Interfaces};
use net::{NetEvent, Pool, PoolKey, PoolSocket};

/// Why the runtime cannot start (a single instance failing is logged and skipped).
#[derive(Debug, Error)]
pub enum RunError {
    #[error("netlink: {0}")]
    Netlink(#[from] linux::NetlinkError),
    #[error("({name}) {reason}")]
    Instance { name: String, reason: String },
    #[error("cannot create the timer: {0}")]
    Timer(std::io::Error),
}

/// Daemon-level options that change how the runtime behaves.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// `-V`: leave VIPs in place on stop.
    pub dont_release_vrrp: bool,
    /// `-X`: leaving MASTER always removes the VIPs (see `RouterConfig::release_vips_always`).
    pub release_vips: bool,
    /// `-a`: log every address addition/deletion seen on netlink.
    pub address_monitoring: bool,
    /// `-D`: detail logs (e.g. our VIPs changing on netlink).
    pub log_detail: bool,
}

/// Routers driven together: a lone instance or a sync group.
#[derive(Debug)]
enum Unit {
    Single {
        router: Box<Router>,
        instance: usize,
    },
    Group {
        group: Box<SyncGroup>,
        members: Vec<usize>,
        notify: Box<config::model::vrrp::Notify>,
    },
}

/// How much further back than its pool's pacing gap a packet's arrival time may
/// place it (it also waited in the channel to the loop).
const ARRIVAL_SLACK: std::time::Duration = std::time::Duration::from_millis(5);

/// What a unit asks for, with instance indices resolved.
enum Output {
    Member(usize, Action),
    GroupState {
        name: String,
        to: State,
    },
    GroupNotify {
        name: String,
        state: State,
        notify: Box<config::model::vrrp::Notify>,
    },
    Nothing,
}

impl Unit {
    /// Its routers: the one, or the sync group's members.
    fn routers(&self) -> &[Router] {
        match self {
            Unit::Single { router, .. } => std::slice::from_ref(router),
            Unit::Group { group, .. } => group.members(),
        }
    }

    fn router(&self, member: usize) -> Option<&Router> {
        match self {
            Unit::Single { router, .. } => Some(router),
            Unit::Group { group, .. } => group.member(member),
        }
    }

    fn handle(&mut self, now: Timestamp, member: usize, input: Input) {
        let result = match self {
            Unit::Single { router, .. } => router.handle(now, input),
            Unit::Group { group, .. } => group.handle(now, member, input),
        };
        if let Err(e) = result {
            warn!("internal: input refused by the state machine: {e}");
        }
    }

    fn start(&mut self, now: Timestamp) {
        match self {
            Unit::Single { router, .. } => {
                let _ = router.handle(now, Input::Start);
            }
            Unit::Group { group, .. } => group.start(now),
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        match self {
            Unit::Single { router, .. } => router.handle_timeout(now),
            Unit::Group { group, .. } => group.handle_timeout(now),
        }
    }

    fn next_deadline(&self) -> Option<Timestamp> {
        match self {
            Unit::Single { router, .. } => router.next_deadline(),
            Unit::Group { group, .. } => group.next_deadline(),
        }
    }

    fn poll(&mut self) -> Option<Output> {
        match self {
            Unit::Single { router, instance } => {
                router.poll_action().map(|a| Output::Member(*instance, a))
            }
            Unit::Group {
                group,
                members,
                notify,
            } => {
                let action = group.poll_action()?;
                Some(match action {
                    GroupAction::Member { index, action } => match members.get(index) {
                        Some(&i) => Output::Member(i, action),
                        None => Output::Nothing,
                    },
                    GroupAction::GroupStateChanged { to, .. } => Output::GroupState {
                        name: group.name().to_string(),
                        to,
                    },
                    GroupAction::GroupNotify { state } => Output::GroupNotify {
                        name: group.name().to_string(),
                        state,
                        notify: notify.clone(),
                    },
                })
            }
        }
    }

    fn members(&self) -> Vec<usize> {
        match self {
            Unit::Single { instance, .. } => vec![*instance],
            Unit::Group { members, .. } => members.clone(),
        }
    }
}

/// Link and address facts from one dump, for building instances.
struct HostInterfaces {
    links: Vec<LinkInfo>,
    addresses: Vec<InterfaceAddress>,
}

impl Interfaces for HostInterfaces {
    fn by_name(&self, name: &str) -> Option<(IfRef, Option<MacAddr>)> {
        self.links
            .iter()
            .find(|l| l.name == name)
            .map(|l| (l.if_ref(), l.mac))
    }

    fn primary(&self, ifindex: u32, family: Family) -> Option<IpAddr> {
        self.addresses
            .iter()
            .filter(|a| a.ifindex == ifindex)
            .map(|a| a.address)
            .find(|a| match (family, a) {
                (Family::Ipv4, IpAddr::V4(_)) => true,
                (Family::Ipv6, IpAddr::V6(v6)) => v6.is_unicast_link_local(),
                _ => false,
            })
    }
}

/// The VRRP runtime. See the module documentation.
pub struct VrrpRuntime {
    /// The clock of every [`Timestamp`] and the one timer of the loop (a timerfd:
    /// tokio's wheel would fire Master_Down 1–2 ms late).
    clock: linux::timer::DeadlineTimer,
    options: RuntimeOptions,
    mcast_group4: std::net::Ipv4Addr,
    instances: Vec<Instance>,
    /// Per instance: (unit, member index in the unit).
    member_of: Vec<(usize, usize)>,
    /// Per instance: interfaces it depends on that are down now.
    down_links: Vec<HashSet<u32>>,
    /// Per instance: `dont_track_primary`.
    track_primary: Vec<bool>,
    units: Vec<Unit>,
    pools: Vec<Pool>,
    netlink: Netlink,
    garp: Option<garp::Pacer>,
    timers: BTreeSet<(Timestamp, usize)>,
    scheduled: Vec<Option<Timestamp>>,
    /// VMACs we created (deleted again on stop).
    vmacs: Vec<(IfRef, VmacSpec)>,
    sysctls: SysctlChanges,
    /// `static_ipaddress` (set at start, removed at stop, as keepalived).
    static_addresses: Vec<(linux::addr::AddressSpec, String)>,
    /// `static_ipaddress` entries marked `no_track`.
    static_no_track: HashSet<(u32, IpAddr)>,
    /// Interface names by index (for logs).
    link_names: HashMap<u32, String>,
    /// `static_routes`.
    static_routes: Vec<routes::RouteSpec>,
    /// `static_rules`.
    static_rules: Vec<rules::RuleSpec>,
    /// `notify_fifo` and `vrrp_notify_fifo`.
    fifos: Vec<fifo::NotifyFifo>,
    /// `vrrp_startup_delay`: the routers start this long after the runtime.
    startup_delay: std::time::Duration,
    /// Current value of every `track_file`.
    file_values: Vec<i64>,
    /// Current result of every `vrrp_script` (for routers rebuilt later).
    script_up: Vec<bool>,
    /// Current quorum status of every `vrrp_track_process`.
    process_up: Vec<bool>,
    /// `smtp_alert` mail, when configured.
    alerts: Option<crate::alert::Alerter>,
    /// Interfaces that are down now.
    links_down: HashSet<u32>,
    events_tx: UnboundedSender<NetEvent>,
    events_rx: UnboundedReceiver<NetEvent>,
    /// The configuration running, for dumps, metrics and status.
    config: std::sync::Arc<config::Config>,
    /// `vrrp_script` checkers (restarted selectively by a reload).
    checkers: reload::Checkers,
    /// `track_file` watcher (replaced by a reload that changes the files).
    track_files: reload::TrackFiles,
    /// SIGHUP reload bookkeeping.
    reloads: reload::Reloads,
}

impl VrrpRuntime {
    /// Builds every instance of `config` and starts them (see the module docs).
    pub async fn start(
        config: &config::Config,
        options: RuntimeOptions,
    ) -> Result<VrrpRuntime, RunError> {
        let netlink = Netlink::new()?;
        let mut host = HostInterfaces {
            links: netlink.list_links().await?,
            addresses: netlink.list_addresses(None).await?,
        };
        // keepalived lists the addresses of the interfaces it may use (not loopback).
        for link in host.links.iter().filter(|l| l.name != "lo") {
            let family_addrs = host.addresses.iter().filter(|a| a.ifindex == link.index);
            for a in family_addrs {
                info!("Assigned address {} for interface {}", a.address, link.name);
            }
        }
        let (events_tx, events_rx) = unbounded_channel();
        let mut runtime = VrrpRuntime {
            clock: linux::timer::DeadlineTimer::new().map_err(RunError::Timer)?,
            options,
            mcast_group4: config.global.vrrp_mcast_group4,
            // Sized once: grown by doubling, 1000 instances would leave 24 unused
            // slots of ~660 B.
            instances: Vec::with_capacity(config.vrrp.instances.len()),
            member_of: Vec::with_capacity(config.vrrp.instances.len()),
            down_links: Vec::with_capacity(config.vrrp.instances.len()),
            track_primary: Vec::with_capacity(config.vrrp.instances.len()),
            units: Vec::new(),
            pools: Vec::new(),
            netlink,
            garp: None,
            timers: BTreeSet::new(),
            scheduled: Vec::new(),
            vmacs: Vec::new(),
            sysctls: SysctlChanges::new(),
            static_addresses: Vec::new(),
            static_routes: Vec::new(),
            static_no_track: HashSet::new(),
            link_names: HashMap::new(),
            static_rules: Vec::new(),
            script_up: Vec::new(),
            process_up: Vec::new(),
            alerts: None,
            file_values: Vec::new(),
            links_down: HashSet::new(),
            fifos: Vec::new(),
            startup_delay: config.global.vrrp_startup_delay,
            events_tx,
            events_rx,
            config: std::sync::Arc::new(snapshot::kept_config(config)),
            checkers: reload::Checkers::default(),
            track_files: reload::TrackFiles::default(),
            reloads: reload::Reloads::default(),
        };
        match GarpSender::new() {
            Ok(sender) => {
                runtime.garp = Some(garp::Pacer::new(
                    sender,
                    garp::Intervals {
                        arp: config.global.vrrp_garp_interval,
                        na: config.global.vrrp_gna_interval,
                    },
                    garp_groups(config, &host),
                ));
            }
            Err(e) => error!("cannot open the gratuitous ARP socket: {e}"),
        }

        runtime.link_names = host
            .links
            .iter()
            .map(|l| (l.index, l.name.clone()))
            .collect();
        runtime.set_static(config, &host).await;
        runtime.fifos = [
            fifo::NotifyFifo::open(&config.global.notify_fifo, ""),
            fifo::NotifyFifo::open(&config.global.vrrp_notify_fifo, "vrrp_"),
        ]
        .into_iter()
        .flatten()
        .collect();

        // vrrp_script checkers first: instances start with their initial status.
        runtime.script_up = runtime
            .checkers
            .start(&config.vrrp.scripts, &runtime.events_tx);
        runtime.process_up =
            trackproc::start(&config.vrrp.track_processes, runtime.events_tx.clone());
        runtime.alerts = crate::alert::Alerter::start(config, runtime.options.log_detail);
        runtime.reloads.track_processes = config.vrrp.track_processes.clone();
        // track_file: initialise, read, watch.
        runtime.file_values = runtime.track_files.start(config, &runtime.events_tx);
        runtime.links_down = host
            .links
            .iter()
            .filter(|l| !(l.is_up() && l.is_running()))
            .map(|l| l.index)
            .collect();

        // Instances and their routers, by configuration name.
        let mut routers: HashMap<String, (usize, Router)> = HashMap::new();
        for inst in &config.vrrp.instances {
            match runtime.build_instance(inst, config, &mut host).await {
                Ok((mut instance, router)) => {
                    let mtu = host
                        .links
                        .iter()
                        .find(|l| l.index == instance.xmit.index)
                        .and_then(|l| l.mtu);
                    let advert_len = rxguard::advert_len(
                        instance.family,
                        instance.version,
                        instance.advertised.len(),
                        instance.auth.is_ah(),
                    );
                    instance.rx_buf_share = rxguard::receive_buffer_share(
                        inst.kernel_rx_buf_size,
                        &config.global.vrrp_rx_bufs_policy,
                        config.global.vrrp_rx_bufs_multiplier,
                        advert_len,
                        mtu,
                    );
                    let index = runtime.instances.len();
                    runtime.down_links.push(HashSet::new());
                    runtime.track_primary.push(!inst.dont_track_primary);
                    runtime.instances.push(instance);
                    runtime.member_of.push((0, 0));
                    routers.insert(inst.name.clone(), (index, router));
                }
                Err(e) => error!("{e} - instance not started"),
            }
        }
        // Seed down links: an instance whose interface is down starts in FAULT.
        for (i, inst) in runtime.instances.iter().enumerate() {
            for index in [inst.interface.index, inst.xmit.index] {
                let up = host
                    .links
                    .iter()
                    .find(|l| l.index == index)
                    .is_some_and(|l| l.is_up() && l.is_running());
                if !up && let Some(set) = runtime.down_links.get_mut(i) {
                    set.insert(index);
                }
            }
        }

        // Sync groups first (in configuration order), then the lone instances.
        for sg in &config.vrrp.sync_groups {
            let mut members = Vec::new();
            let mut group_routers = Vec::new();
            for name in sg.members.iter().flatten() {
                if let Some((index, router)) = routers.remove(name) {
                    members.push(index);
                    group_routers.push(router);
                }
            }
            if group_routers.is_empty() {
                continue;
            }
            let unit = runtime.units.len();
            for (m, &i) in members.iter().enumerate() {
                if let Some(slot) = runtime.member_of.get_mut(i) {
                    *slot = (unit, m);
                }
            }
            runtime.units.push(Unit::Group {
                group: Box::new(SyncGroup::new(sg.name.clone(), group_routers)),
                members,
                notify: Box::new(sg.notify.clone()),
            });
        }
        let mut singles: Vec<(usize, Router)> = routers.into_values().collect();
        singles.sort_by_key(|(i, _)| *i);
        for (instance, router) in singles {
            let unit = runtime.units.len();
            if let Some(slot) = runtime.member_of.get_mut(instance) {
                *slot = (unit, 0);
            }
            runtime.units.push(Unit::Single {
                router: Box::new(router),
                instance,
            });
        }
        runtime.scheduled = vec![None; runtime.units.len()];

        runtime.open_pools();
        match linux::monitor::Monitor::new() {
            Ok(monitor) => net::spawn_monitor(monitor, &host.links, runtime.events_tx.clone()),
            Err(e) => error!("cannot monitor links and addresses: {e}"),
        }

        // keepalived removes any VIPs left over by a previous run before starting.
        runtime.remove_leftovers().await;
        if runtime.startup_delay.is_zero() {
            runtime.start_units().await;
        }
        Ok(runtime)
    }

    /// `static_ipaddress` and `static_routes`: resolved and set once (keepalived sets
    /// them at startup whatever the VRRP state, and removes them at stop).
    async fn set_static(&mut self, config: &config::Config, host: &HostInterfaces) {
        let default_if = config
            .global
            .default_interface
            .clone()
            .unwrap_or_else(|| "eth0".to_string());
        for addr in &config.vrrp.static_addresses {
            let dev = addr.dev.clone().unwrap_or_else(|| default_if.clone());
            let Some((ifref, _)) = host.by_name(&dev) else {
                warn!(
                    "static address {}: interface {dev} does not exist - ignored",
                    addr.addr
                );
                continue;
            };
            let spec = instance::address_spec(addr, ifref.index);
            if addr.no_track {
                self.static_no_track.insert((ifref.index, addr.addr));
            }
            if let Err(e) = self.netlink.add_address(&spec).await {
                error!(
                    "cannot add static address {}/{} to {dev}: {e}",
                    spec.address, spec.prefix_len
                );
            }
            self.static_addresses.push((spec, dev));
        }
        for route in &config.vrrp.static_routes {
            let ifindex_of = |name: &str| host.by_name(name).map(|(ifref, _)| ifref.index);
            let Some(spec) = routes::spec(route, &ifindex_of) else {
                warn!(
                    "static route '{}' cannot be resolved - ignored",
                    route.words.join(" ")
                );
                continue;
            };
            if let Err(e) = routes::add(&self.netlink, &spec).await {
                error!("cannot add static {e}");
            }
            self.static_routes.push(spec);
        }
        for rule in &config.vrrp.static_rules {
            let spec = rules::spec(rule);
            if let Err(e) = rules::add(&self.netlink, &spec).await {
                error!("cannot add static {e}");
            }
            self.static_rules.push(spec);
        }
    }

    /// Startup clean-up of every instance's VIPs, routes and rules. The requests go out
    /// together (the kernel answers them in order): with hundreds of instances,
    /// one round trip each would delay the start.
    async fn remove_leftovers(&mut self) {
        type Removal<'a> = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
        let netlink = &self.netlink;
        let mut removals: Vec<Removal<'_>> = Vec::new();
        for inst in &self.instances {
            info!("({}) removing VIPs.", inst.name);
            for rule in inst.rules() {
                removals.push(Box::pin(
                    rules::delete(netlink, rule).map(|r| r.map(drop).map_err(|e| e.to_string())),
                ));
            }
            for route in inst.routes() {
                removals.push(Box::pin(
                    routes::delete(netlink, route).map(|r| r.map(drop).map_err(|e| e.to_string())),
                ));
            }
            for vip in &inst.addresses {
                let spec = &vip.spec;
                removals.push(Box::pin(
                    netlink
                        .delete_address(spec.ifindex, spec.address, spec.prefix_len)
                        .map(|r| r.map(drop).map_err(|e| e.to_string())),
                ));
            }
        }
        for result in futures::future::join_all(removals).await {
            if let Err(e) = result {
                error!("cannot remove a leftover address, route or rule: {e}");
            }
        }
    }

    /// Starts every router (keepalived: all enter BACKUP, or FAULT).
    async fn start_units(&mut self) {
        self.reloads.units_started = true;
        let now = self.now();
        for u in 0..self.units.len() {
            if let Some(unit) = self.units.get_mut(u) {
                unit.start(now);
            }
            self.drain_with(u, true).await;
        }
    }

    async fn build_instance(
        &mut self,
        inst: &config::model::vrrp::VrrpInstance,
        config: &config::Config,
        host: &mut HostInterfaces,
    ) -> Result<(Instance, Router), RunError> {
        let fail = |reason: String| RunError::Instance {
            name: inst.name.clone(),
            reason,
        };
        let ifname = inst
            .interface
            .clone()
            .ok_or_else(|| fail("no interface given".into()))?;
        let (interface, mac) = host
            .by_name(&ifname)
            .ok_or_else(|| fail(format!("interface {ifname} does not exist")))?;
        let ipv6 = inst.family == Some(config::model::vrrp::Family::V6);
        let mut links = InstanceLinks {
            interface: interface.clone(),
            xmit: interface.clone(),
            vip_default: interface.clone(),
            vip_default_mac: mac,
        };
        if let (Some(vmac), Some(vrid)) = (&inst.vmac, inst.vrid) {
            let mut spec = VmacSpec::new(interface.clone(), vrid, ipv6);
            if let Some(name) = &vmac.ifname {
                spec.name = name.clone();
            }
            let created = self
                .netlink
                .create_vmac(&spec, &mut self.sysctls)
                .await
                .map_err(|e| fail(format!("cannot create VMAC {}: {e}", spec.name)))?;
            info!(
                "({}) Creating VMAC interface {}",
                inst.name, created.link.name
            );
            if created.created {
                self.vmacs.push((created.link.if_ref(), spec.clone()));
            }
            links.vip_default = created.link.if_ref();
            links.vip_default_mac = created.link.mac.or(Some(spec.mac()));
            if !inst.vmac_xmit_base {
                links.xmit = created.link.if_ref();
            }
            host.links.push(created.link);
            // The IPv6 VMAC got a link-local address: refresh the address list.
            host.addresses = self.netlink.list_addresses(None).await?;
        }
        let mut instance = instance::build(inst, config, &links, host)?;
        let mut trackers = Vec::new();
        // keepalived `sync_group_tracking_init()`: a sync group's trackers apply to
        // every member, after the member's own.
        let group = inst
            .sync_group
            .as_ref()
            .and_then(|name| config.vrrp.sync_groups.iter().find(|g| &g.name == name));
        let group_refs =
            |pick: fn(&config::model::vrrp::SyncGroup) -> &[config::model::vrrp::TrackRef]| {
                group.map(pick).unwrap_or(&[])
            };
        let scripts = instance::add_trackers(
            &mut trackers,
            &inst.track_scripts,
            group_refs(|g| &g.track_scripts),
            |tracked| {
                let index = config
                    .vrrp
                    .scripts
                    .iter()
                    .position(|s| s.name == tracked.name)?;
                let up = self.script_up.get(index).copied().unwrap_or(true);
                let id = TrackerId(u32::try_from(index).unwrap_or(u32::MAX));
                Some((id, status_of(up), index))
            },
        );
        let files = instance::add_trackers(
            &mut trackers,
            &inst.track_files,
            group_refs(|g| &g.track_files),
            |tracked| {
                let index = config
                    .vrrp
                    .track_files
                    .iter()
                    .position(|f| f.name == tracked.name)?;
                let id = TrackerId(instance::FILE_TRACKER | u32::try_from(index).unwrap_or(0));
                let value = self.file_values.get(index).copied().unwrap_or(0);
                Some((id, TrackerStatus::Value(value), index))
            },
        );
        let links_tracked = instance::add_trackers(
            &mut trackers,
            &inst.track_interfaces,
            group_refs(|g| &g.track_interfaces),
            |tracked| {
                let Some(link) = host.links.iter().find(|l| l.name == tracked.name) else {
                    warn!(
                        "({}) tracked interface {} does not exist - ignored",
                        inst.name, tracked.name
                    );
                    return None;
                };
                let id = TrackerId(instance::INTERFACE_TRACKER | link.index);
                Some((id, status_of(link.is_up() && link.is_running()), link.index))
            },
        );
        let processes = instance::add_trackers(
            &mut trackers,
            &inst.track_processes,
            group_refs(|g| &g.track_processes),
            |tracked| {
                let index = config
                    .vrrp
                    .track_processes
                    .iter()
                    .position(|p| p.name == tracked.name)?;
                let id = TrackerId(trackproc::PROCESS_TRACKER | u32::try_from(index).unwrap_or(0));
                let up = self.process_up.get(index).copied().unwrap_or(false);
                Some((id, status_of(up), index))
            },
        );
        instance.set_tracked(instance::Tracked {
            scripts,
            links: links_tracked,
            files,
            processes,
        });
        let up = [links.interface.index, links.xmit.index].iter().all(|ix| {
            host.links
                .iter()
                .find(|l| l.index == *ix)
                .is_some_and(|l| l.is_up() && l.is_running())
        });
        let mut router_config = instance::router_config(
            inst,
            &config.global,
            instance.source,
            instance.advertised.clone(),
            up,
        );
        // keepalived: -V too, since a previous run may have left the VIPs behind.
        router_config.release_vips_always =
            self.options.release_vips || self.options.dont_release_vrrp;
        if instance.awaiting_source {
            info!(
                "({}): entering FAULT state (src address not configured)",
                inst.name
            );
            trackers.push(TrackerConfig {
                id: TrackerId(instance::NO_SOURCE_TRACKER),
                weight: 0,
                reverse: false,
                initial: TrackerStatus::Down,
            });
        }
        router_config.trackers = trackers;
        let router = Router::new(router_config).map_err(|e| fail(e.to_string()))?;
        let mut routes = Vec::new();
        for route in &inst.vroutes {
            let ifindex_of = |name: &str| {
                if name == links.vip_default.name {
                    return Some(links.vip_default.index);
                }
                host.by_name(name).map(|(ifref, _)| ifref.index)
            };
            match routes::spec(route, &ifindex_of) {
                Some(spec) => routes.push(spec),
                None => warn!(
                    "({}) virtual route '{}' cannot be resolved - ignored",
                    inst.name,
                    route.words.join(" ")
                ),
            }
        }
        instance.set_routes_and_rules(routes, inst.vrules.iter().map(rules::spec).collect());
        Ok((instance, router))
    }

    fn open_pools(&mut self) {
        let key_of = |inst: &Instance| PoolKey {
            ifindex: inst.xmit.index,
            ipv6: inst.family == Family::Ipv6,
            ah: inst.auth.is_ah(),
            group: inst.group,
            unicast_source: if inst.is_unicast() {
                Some(inst.source)
            } else {
                None
            },
        };
        // What each pool's kernel filter accepts and its SO_RCVBUF (keepalived sums
        // the instances' shares per socket), known before any socket opens.
        let mut members: HashMap<PoolKey, Vec<(&Instance, u8)>> = HashMap::new();
        for (i, inst) in self.instances.iter().enumerate() {
            let priority = self
                .member_of
                .get(i)
                .and_then(|&(u, m)| self.units.get(u)?.router(m))
                .map_or(0, Router::base_priority);
            members
                .entry(key_of(inst))
                .or_default()
                .push((inst, priority));
        }
        let sizing: HashMap<PoolKey, net::ReceivePlan> = members
            .into_iter()
            .map(|(key, list)| {
                let scope = rxguard::filter_scope(list.iter().map(|(i, _)| (i.vrid, i.version)));
                let buffer = rxguard::pool_receive_buffer(list.iter().map(|(i, _)| i.rx_buf_share));
                let timing: Vec<(std::time::Duration, u8)> = list
                    .iter()
                    .map(|(i, priority)| {
                        let interval =
                            std::time::Duration::from_millis(10) * u32::from(i.interval_cs);
                        (interval, *priority)
                    })
                    .collect();
                (key, net::ReceivePlan::new(scope, buffer, &timing))
            })
            .collect();
        // A reload reuses the pools it already has (their receive tasks keep running).
        self.refit_pools(&sizing);
        let mut by_key: HashMap<PoolKey, usize> = HashMap::new();
        for (p, pool) in self.pools.iter_mut().enumerate() {
            pool.by_vrid.clear();
            by_key.insert(pool.key.clone(), p);
        }
        for (i, inst) in self.instances.iter_mut().enumerate() {
            let key = key_of(inst);
            let plan = sizing.get(&key).cloned().unwrap_or_default();
            let pool = match by_key.get(&key) {
                Some(&p) => p,
                None => match net::open(&key, &inst.xmit, &plan) {
                    Ok(socket) => {
                        let p = self.pools.len();
                        info!(
                            "VRRP sockpool: [ifindex({:3}), family({}), proto({}), {}, address({})]",
                            key.ifindex,
                            if key.ipv6 { "IPv6" } else { "IPv4" },
                            if key.ah { 51 } else { 112 },
                            if key.group.is_some() {
                                "multicast"
                            } else {
                                "unicast"
                            },
                            key.group
                                .or(key.unicast_source)
                                .map_or(String::new(), |a| a.to_string())
                        );
                        let gap_us = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                            u64::try_from(plan.gap.as_micros()).unwrap_or(u64::MAX),
                        ));
                        net::spawn_receiver(
                            p,
                            socket.clone(),
                            gap_us.clone(),
                            self.events_tx.clone(),
                            net::label(&key, &inst.xmit),
                        );
                        self.pools.push(Pool {
                            key: key.clone(),
                            interface: inst.xmit.clone(),
                            socket,
                            by_vrid: HashMap::new(),
                            plan,
                            gap_us,
                        });
                        by_key.insert(key, p);
                        p
                    }
                    Err(e) => {
                        error!(
                            "({}) cannot open VRRP socket on {}: {e}",
                            inst.name, inst.xmit.name
                        );
                        usize::MAX
                    }
                },
            };
            inst.pool = pool;
            if let Some(p) = self.pools.get_mut(pool)
                && p.by_vrid.insert(inst.vrid, i).is_some()
            {
                error!(
                    "({}) VRID {} is used by another instance on {} - adverts go to this one",
                    inst.name, inst.vrid, inst.xmit.name
                );
            }
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.clock.now_micros())
    }

    /// The state of every instance, by name (for tests and dumps).
    pub fn states(&self) -> Vec<(String, State)> {
        self.instances
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let state = self
                    .member_of
                    .get(i)
                    .and_then(|&(u, m)| self.units.get(u)?.router(m))
                    .map_or(State::Init, Router::state);
                (inst.name.clone(), state)
            })
            .collect()
    }

    /// Runs until [`Command::Stop`] arrives (or every command sender is gone), then
    /// stops every instance gracefully.
    pub async fn run(mut self, mut commands: CommandReceiver) {
        if !self.startup_delay.is_zero() {
            info!(
                "Delaying startup for {} seconds",
                self.startup_delay.as_secs_f64()
            );
            let delay = tokio::time::sleep(self.startup_delay);
            tokio::pin!(delay);
            loop {
                tokio::select! {
                    biased;
                    command = commands.recv() => {
                        if !self.on_command(command).await {
                            self.stop().await;
                            return;
                        }
                    }
                    () = &mut delay => break,
                }
            }
            self.start_units().await;
        }
        loop {
            let next = self.timers.first().map(|(at, _)| at.as_micros());
            if let Err(e) = self.clock.arm(next) {
                error!("cannot arm the timer: {e}");
            }
            tokio::select! {
                biased;
                command = commands.recv() => {
                    if !self.on_command(command).await {
                        break;
                    }
                }
                expired = self.clock.expired() => {
                    if let Err(e) = expired {
                        // Not expected from a timerfd; pause so it cannot spin the loop.
                        error!("timer: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    self.fire_timers().await;
                }
                event = self.events_rx.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => break,
                },
            }
        }
        self.stop().await;
    }

    /// Handles one operator command; false when the runtime should stop.
    async fn on_command(&mut self, command: Option<Command>) -> bool {
        match command {
            None | Some(Command::Stop) => false,
            Some(Command::Reload(config)) => {
                self.reload(*config).await;
                true
            }
            Some(Command::DumpData) => {
                crate::dump::write_data(&self.snapshot());
                true
            }
            Some(Command::DumpStats { clear }) => {
                crate::dump::write_stats(&self.snapshot());
                if clear {
                    self.clear_stats();
                }
                true
            }
            Some(Command::DumpJson) => {
                crate::dump::write_json(&self.snapshot());
                true
            }
            Some(Command::Snapshot(reply)) => {
                let _ = reply.send(Box::new(self.snapshot()));
                true
            }
        }
    }

    async fn fire_timers(&mut self) {
        let now = self.now();
        let master_down_due = self
            .timers
            .iter()
            .take_while(|(at, _)| *at <= now)
            .any(|&(_, u)| self.awaits_adverts(u));
        if master_down_due {
            self.read_queued().await;
        }
        // Reading may have taken time.
        let now = self.now();
        // Take the due units first: each is handled once per wake-up, so a deadline
        // that is not in the future after handling cannot spin the loop.
        let mut due = Vec::new();
        while let Some(&(at, u)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, u));
            if let Some(slot) = self.scheduled.get_mut(u) {
                *slot = None;
            }
            due.push(u);
        }
        for u in due {
            if let Some(unit) = self.units.get_mut(u) {
                unit.handle_timeout(now);
            }
            self.drain(u).await;
        }
    }

    /// Re-files a unit's deadline after it changed state.
    fn reschedule(&mut self, u: usize) {
        let next = self.units.get(u).and_then(Unit::next_deadline);
        let Some(slot) = self.scheduled.get_mut(u) else {
            return;
        };
        if *slot == next {
            return;
        }
        if let Some(old) = slot.take() {
            self.timers.remove(&(old, u));
        }
        if let Some(at) = next {
            self.timers.insert((at, u));
            *slot = Some(at);
        }
    }

    /// Feeds an input to an instance's unit, firing any due timer first so events are
    /// seen in time order.
    async fn feed(&mut self, instance: usize, input: Input) {
        let now = self.now();
        self.feed_at(instance, input, now).await;
    }

    /// [`Self::feed`] of an input that came at `now` (a packet read late).
    async fn feed_at(&mut self, instance: usize, input: Input, now: Timestamp) {
        let Some(&(u, m)) = self.member_of.get(instance) else {
            return;
        };
        if let Some(unit) = self.units.get_mut(u) {
            if unit.next_deadline().is_some_and(|at| at <= now) {
                unit.handle_timeout(now);
            }
            unit.handle(now, m, input);
        }
        self.drain(u).await;
    }

    /// Performs a unit's actions in order, then re-files its deadline.
    async fn drain(&mut self, u: usize) {
        self.drain_with(u, false).await;
    }

    /// keepalived notifies a sync group after its members when it changes state,
    /// but before them at startup (compared in tests/notify_compare.rs).
    async fn drain_with(&mut self, u: usize, group_first: bool) {
        let mut group_notifies = Vec::new();
        while let Some(output) = self.units.get_mut(u).and_then(Unit::poll) {
            match output {
                Output::Member(i, action) => self.perform(i, action).await,
                Output::GroupState { name, to } => {
                    info!("VRRP_Group({name}) Syncing instances to {to} state");
                }
                Output::GroupNotify {
                    name,
                    state,
                    notify,
                } if group_first => self.group_notify(&name, state, &notify),
                Output::GroupNotify {
                    name,
                    state,
                    notify,
                } => group_notifies.push((name, state, notify)),
                Output::Nothing => {}
            }
        }
        for (name, state, notify) in group_notifies {
            self.group_notify(&name, state, &notify);
        }
        self.reschedule(u);
    }

    /// A sync group's FIFO line, notify scripts and mail for entering `state`.
    fn group_notify(&mut self, name: &str, state: State, notify: &config::model::vrrp::Notify) {
        self.write_fifos(&fifo::line("GROUP", name, state, 0));
        scripts::notify_state(notify, "GROUP", name, state, 0);
        if let Some(alerts) = &self.alerts {
            alerts.vrrp_group(name, state);
        }
    }

    async fn perform(&mut self, i: usize, action: Action) {
        // Adverts are the hot path: the instance name is only cloned for the rest.
        if let Action::SendAdvert(advert) = &action {
            self.send_advert(i, advert).await;
            return;
        }
        let name = self
            .instances
            .get(i)
            .map(|inst| inst.name.clone())
            .unwrap_or_default();
        match action {
            Action::SendAdvert(_) => {}
            Action::SendGratuitous { repeat, .. } => self.send_gratuitous(i, repeat).await,
            Action::AddVips => self.add_vips(i).await,
            Action::RemoveVips => {
                if !self.stopping_keeps_vips(i) {
                    self.remove_vips(i).await;
                }
            }
            Action::StateChanged { from, to } => {
                if let Some(inst) = self.instances.get_mut(i) {
                    inst.history.record_transition();
                }
                log_transition(&name, from, to);
            }
            Action::Notify { state, priority } => {
                let line = fifo::line("INSTANCE", &name, state, priority);
                for f in &mut self.fifos {
                    f.write_line(&line);
                }
                if let Some(inst) = self.instances.get(i) {
                    scripts::notify_state(inst.notify(), "INSTANCE", &name, state, priority);
                }
                if let Some(alerts) = &self.alerts {
                    alerts.vrrp_instance(&name, state);
                }
            }
            Action::NotifyMasterRxLowerPriority { .. } => {
                // keepalived `send_event_notify()`: the script without arguments, and
                // a FIFO line with our effective priority.
                let (_, priority) = self.router_status(i);
                self.write_fifos(&fifo::event_line(
                    "INSTANCE",
                    &name,
                    "MASTER_RX_LOWER_PRI",
                    priority,
                ));
                if let Some(script) = self
                    .instances
                    .get(i)
                    .and_then(|inst| inst.notify().master_rx_lower_pri.as_ref())
                {
                    scripts::run_notify(script, &[]);
                }
            }
            Action::NotifyPriorityChange { priority } => {
                let (state, _) = self.router_status(i);
                let word = if state == State::Master {
                    "MASTER_PRIORITY"
                } else {
                    "BACKUP_PRIORITY"
                };
                self.write_fifos(&fifo::event_line("INSTANCE", &name, word, priority));
            }
            Action::Sync(_) => {}
            Action::Log(event) => log_event(&name, &event),
        }
    }

    fn write_fifos(&mut self, line: &str) {
        for f in &mut self.fifos {
            f.write_line(line);
        }
    }

    /// An instance's current state and effective priority.
    fn router_status(&self, i: usize) -> (State, u8) {
        self.member_of
            .get(i)
            .and_then(|&(u, m)| self.units.get(u)?.router(m))
            .map_or((State::Init, 0), |r| (r.state(), r.effective_priority()))
    }

    /// `-V`: at stop, the VIPs stay.
    fn stopping_keeps_vips(&self, i: usize) -> bool {
        self.options.dont_release_vrrp
            && self
                .member_of
                .get(i)
                .and_then(|&(u, m)| self.units.get(u)?.router(m))
                .is_some_and(|r| r.state() == State::Stop)
    }

    async fn send_advert(&mut self, i: usize, advert: &Advert) {
        let mcast_group4 = self.mcast_group4;
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        let Some(pool) = self.pools.get(inst.pool) else {
            return;
        };
        if advert.priority == 0 {
            info!("({}) sent 0 priority", inst.name);
        }
        // The group, else the unicast peers (no allocation per advert).
        let peers = if inst.group.is_some() {
            &[][..]
        } else {
            &inst.unicast_peers[..]
        };
        let destinations = inst
            .group
            .into_iter()
            .chain(peers.iter().map(|p| p.address));
        let unicast = inst.is_unicast();
        match &pool.socket {
            PoolSocket::V4(socket) => {
                let (ip_id, ah_sequence) = inst.wire.next_ipv4_ids(&inst.auth);
                let v3_checksum = inst.wire.v3_checksum(false, mcast_group4);
                for dest in destinations {
                    let IpAddr::V4(destination) = dest else {
                        continue;
                    };
                    let options = Ipv4EncodeOptions {
                        auth: inst.auth,
                        destination,
                        ttl: if unicast {
                            inst.unicast_ttl.unwrap_or(255)
                        } else {
                            255
                        },
                        unicast,
                        ip_id,
                        ah_sequence,
                        v3_checksum,
                    };
                    let encoded = if advert.source == inst.source {
                        encode_ipv4(advert, &options)
                    } else {
                        // The source moved to another address (on_source_removed).
                        encode_ipv4(
                            &Advert {
                                source: inst.source,
                                ..advert.clone()
                            },
                            &options,
                        )
                    };
                    match encoded {
                        Ok(packet) => {
                            if let Err(e) = socket.send(&packet, destination).await {
                                warn!("({}) {e}", inst.name);
                            }
                        }
                        Err(e) => error!("({}) cannot encode advert: {e}", inst.name),
                    }
                }
            }
            PoolSocket::V6(socket) => {
                let IpAddr::V6(source) = inst.source else {
                    return;
                };
                for dest in destinations {
                    let IpAddr::V6(destination) = dest else {
                        continue;
                    };
                    let options = Ipv6EncodeOptions {
                        destination,
                        auth: inst.auth,
                    };
                    match encode_vrrp_ipv6(advert, &options) {
                        Ok(payload) => {
                            let hops = inst.unicast_ttl.filter(|_| unicast);
                            if let Err(e) = socket.send(&payload, source, destination, hops).await {
                                warn!("({}) {e}", inst.name);
                            }
                        }
                        Err(e) => error!("({}) cannot encode advert: {e}", inst.name),
                    }
                }
            }
        }
    }

    async fn send_gratuitous(&mut self, i: usize, repeat: u32) {
        let (Some(inst), Some(garp)) = (self.instances.get(i), self.garp.as_mut()) else {
            return;
        };
        for vip in &inst.addresses {
            let kind = if vip.spec.address.is_ipv4() {
                "gratuitous ARPs"
            } else {
                "unsolicited neighbour advert"
            };
            info!(
                "({}) Sending/queueing {kind} on {} for {}",
                inst.name, vip.ifname, vip.spec.address
            );
        }
        let items: Vec<garp::Announcement> = inst
            .addresses
            .iter()
            .map(|vip| garp::Announcement {
                ifindex: vip.spec.ifindex,
                ifname: vip.ifname.clone(),
                mac: vip.mac,
                address: vip.spec.address,
            })
            .collect();
        garp.burst(&inst.name, &items, repeat).await;
    }

    async fn add_vips(&mut self, i: usize) {
        let Some(inst) = self.instances.get(i) else {
            return;
        };
        info!("({}) setting VIPs.", inst.name);
        for vip in &inst.addresses {
            if let Err(e) = self.netlink.add_address(&vip.spec).await {
                error!(
                    "({}) cannot add {}/{} to {}: {e}",
                    inst.name, vip.spec.address, vip.spec.prefix_len, vip.ifname
                );
            }
        }
        for route in inst.routes() {
            if let Err(e) = routes::add(&self.netlink, route).await {
                error!("({}) cannot add {e}", inst.name);
            }
        }
        for rule in inst.rules() {
            if let Err(e) = rules::add(&self.netlink, rule).await {
                error!("({}) cannot add {e}", inst.name);
            }
        }
    }

    async fn remove_vips(&mut self, i: usize) {
        let Some(inst) = self.instances.get(i) else {
            return;
        };
        info!("({}) removing VIPs.", inst.name);
        for rule in inst.rules() {
            if let Err(e) = rules::delete(&self.netlink, rule).await {
                error!("({}) cannot remove {e}", inst.name);
            }
        }
        for route in inst.routes() {
            if let Err(e) = routes::delete(&self.netlink, route).await {
                error!("({}) cannot remove {e}", inst.name);
            }
        }
        for vip in &inst.addresses {
            let spec = &vip.spec;
            if let Err(e) = self
                .netlink
                .delete_address(spec.ifindex, spec.address, spec.prefix_len)
                .await
            {
                error!(
                    "({}) cannot remove {}/{} from {}: {e}",
                    inst.name, spec.address, spec.prefix_len, vip.ifname
                );
            }
        }
    }

    async fn on_event(&mut self, event: NetEvent) {
        match event {
            NetEvent::Packets { pool, batch } => {
                let clocks = self.clocks();
                for (data, meta, arrived) in batch.iter() {
                    let at = self.arrival(clocks, pool, arrived);
                    self.on_packet(pool, data, meta, at).await;
                }
            }
            NetEvent::ReceiveError { pool, error } => {
                let name = self.pools.get(pool).map(|p| p.interface.name.clone());
                warn!(
                    "VRRP receive error on {}: {error}",
                    name.unwrap_or_default()
                );
            }
            NetEvent::Link(event) => self.on_link_event(event).await,
            NetEvent::TrackFile { index, value } => {
                let Some(index) = self.track_files.index_of(index) else {
                    return;
                };
                if let Some(slot) = self.file_values.get_mut(index) {
                    *slot = value;
                }
                let id = TrackerId(instance::FILE_TRACKER | u32::try_from(index).unwrap_or(0));
                self.feed_tracker(id, TrackerStatus::Value(value), |inst| {
                    inst.tracked().files.contains(&index)
                })
                .await;
            }
            NetEvent::Process { index, up } => {
                if let Some(slot) = self.process_up.get_mut(index) {
                    *slot = up;
                }
                let id = TrackerId(trackproc::PROCESS_TRACKER | u32::try_from(index).unwrap_or(0));
                self.feed_tracker(id, status_of(up), |inst| {
                    inst.tracked().processes.contains(&index)
                })
                .await;
            }
            NetEvent::Script { index, up } => {
                let Some(index) = self.checkers.index_of(index) else {
                    return;
                };
                if let Some(slot) = self.script_up.get_mut(index) {
                    *slot = up;
                }
                let id = TrackerId(u32::try_from(index).unwrap_or(u32::MAX));
                self.feed_tracker(id, status_of(up), |inst| {
                    inst.tracked().scripts.contains(&index)
                })
                .await;
            }
        }
    }

    /// Both clocks now: the loop's (monotonic) and the kernel's packet stamps' (real).
    fn clocks(&self) -> (Timestamp, std::time::SystemTime) {
        (self.now(), std::time::SystemTime::now())
    }

    /// When a packet of `pool` came, on the loop's clock: `now` less how long ago the
    /// kernel stamped it, at most the pool's pacing gap and [`ARRIVAL_SLACK`] (a
    /// step of the real-time clock cannot move a packet further back than a read
    /// can delay it). No stamp: now.
    fn arrival(
        &self,
        (now, real_now): (Timestamp, std::time::SystemTime),
        pool: usize,
        arrived: Option<std::time::SystemTime>,
    ) -> Timestamp {
        let Some(arrived) = arrived else {
            return now;
        };
        let gap = self
            .pools
            .get(pool)
            .map_or(std::time::Duration::ZERO, |p| p.plan.gap);
        let age = pacing::packet_age(real_now, arrived, gap + ARRIVAL_SLACK);
        now.sub_micros(u64::try_from(age.as_micros()).unwrap_or(0))
    }

    /// Reads every pool's queue before a BACKUP's Master_Down timer fires: an advert
    /// that came before the deadline must restart the timer (RFC 5798 §6.4.2), even if
    /// its pool is paced and has not read it yet. What the receive tasks already
    /// forwarded goes first, to keep the order of arrival.
    async fn read_queued(&mut self) {
        while let Ok(event) = self.events_rx.try_recv() {
            self.on_event(event).await;
        }
        for p in 0..self.pools.len() {
            let Some(socket) = self.pools.get(p).map(|pool| pool.socket.clone()) else {
                continue;
            };
            let mut packets = Vec::new();
            if let Err(e) = net::read_queued(&socket, |data, meta, arrived| {
                packets.push((data.to_vec(), meta, arrived));
            }) {
                debug!("reading the queue of pool {p} before a timer: {e}");
            }
            let clocks = self.clocks();
            for (data, meta, arrived) in packets {
                let at = self.arrival(clocks, p, arrived);
                self.on_packet(p, &data, meta, at).await;
            }
        }
    }

    /// Whether a unit has a router in BACKUP, whose timer is a Master_Down timer.
    fn awaits_adverts(&self, u: usize) -> bool {
        self.units
            .get(u)
            .is_some_and(|unit| unit.routers().iter().any(|r| r.state() == State::Backup))
    }

    async fn on_packet(&mut self, pool: usize, data: &[u8], meta: RxMeta, at: Timestamp) {
        let Some(p) = self.pools.get(pool) else {
            return;
        };
        let family = if p.key.ipv6 {
            Family::Ipv6
        } else {
            Family::Ipv4
        };
        let Some(vrid) = net::vrid_of(data, family) else {
            return;
        };
        let Some(&i) = p.by_vrid.get(&vrid) else {
            // keepalived ignores adverts for VRIDs it does not run.
            return;
        };
        let source = match meta {
            RxMeta::Ipv4 => net::ipv4_source(data),
            RxMeta::Ipv6 { source, .. } => Some(IpAddr::V6(source)),
        };
        let Some(&(u, m)) = self.member_of.get(i) else {
            return;
        };
        let Some(router) = self.units.get(u).and_then(|unit| unit.router(m)) else {
            return;
        };
        let state = router.state();
        let from_master = source.is_some() && router.master().map(|(a, _)| a) == source;
        let Some(inst) = self.instances.get_mut(i) else {
            return;
        };
        // keepalived: the VIP list is checked always as MASTER, and as BACKUP unless
        // skip_check_adv_addr and the advert comes from the master we know.
        let check_vip_addr = state != State::Backup || !(inst.skip_check_adv_addr && from_master);
        let expect = InstanceExpectations {
            vrid: inst.vrid,
            version: inst.version,
            auth: inst.auth,
            interval_cs: inst.interval_cs,
            unicast: inst.is_unicast(),
            vips: &inst.advertised,
            check_vip_addr,
            check_unicast_src: inst.check_unicast_src,
            unicast_peers: &inst.unicast_peers,
            is_backup: state == State::Backup,
            mcast_group4: self.mcast_group4,
            v3_checksum_as_v2: false,
        };
        match validate(data, &meta, &expect, &mut inst.rx_stats, &mut inst.wire) {
            Ok(advert) => self.feed_at(i, Input::Advert(advert), at).await,
            Err(e) => match inst.reject_log.admit(std::time::Instant::now()) {
                rxguard::Admit::Suppress => {}
                rxguard::Admit::Log { suppressed } => {
                    if suppressed > 0 {
                        info!(
                            "({}) {suppressed} more refused adverts not logged (rate limit)",
                            inst.name
                        );
                    }
                    if e.is_drop() {
                        debug!("({}) advert dropped: {e}", inst.name);
                    } else {
                        info!(
                            "({}) bad advert from {}: {e}",
                            inst.name,
                            source.map_or_else(String::new, |s| s.to_string())
                        );
                    }
                }
            },
        }
    }

    async fn on_link_event(&mut self, event: LinkEvent) {
        match event {
            LinkEvent::LinkDeleted { ifindex, name } => {
                self.link_down(ifindex, &name).await;
                self.recreate_vmac(ifindex).await;
            }
            LinkEvent::LinkDown { ifindex, name } => self.link_down(ifindex, &name).await,
            LinkEvent::LinkUp { ifindex, name } => {
                self.lower_link_returned(ifindex, &name).await;
                self.track_link(ifindex, true).await;
                for i in self.instances_on_link(ifindex) {
                    let newly_up = self
                        .down_links
                        .get_mut(i)
                        .is_some_and(|set| set.remove(&ifindex) && set.is_empty());
                    if newly_up {
                        if let Some(inst) = self.instances.get(i) {
                            info!("({}) Interface {name} is up", inst.name);
                        }
                        self.feed(i, Input::InterfaceUp).await;
                    }
                }
            }
            LinkEvent::AddrRemoved {
                ifindex,
                addr,
                prefix: _,
            } => {
                self.report_address(ifindex, addr, "removed from");
                self.on_source_removed(ifindex, addr).await;
                self.on_address_removed(ifindex, addr).await;
                self.reinstate_static(ifindex, addr).await;
            }
            LinkEvent::AddrAdded {
                ifindex,
                addr,
                prefix: _,
            } => {
                self.report_address(ifindex, addr, "added to");
                self.on_address_added(ifindex, addr).await;
            }
            LinkEvent::LinkChanged { info } => {
                self.link_names.insert(info.index, info.name.clone());
                // A new MAC (or name) for an interface our VIPs live on: later GARPs
                // and NAs use it, as keepalived's do.
                for inst in &mut self.instances {
                    for vip in inst
                        .addresses
                        .iter_mut()
                        .filter(|v| v.spec.ifindex == info.index)
                    {
                        if let Some(mac) = info.mac {
                            vip.mac = mac;
                        }
                        vip.ifname.clone_from(&info.name);
                    }
                }
            }
            LinkEvent::Overrun => warn!("Netlink: notifications lost (receive buffer overrun)"),
        }
    }

    /// keepalived's "Netlink reflector reports IP ..." line: with `-a` for every
    /// address, with `-D` for our VIPs.
    fn report_address(&self, ifindex: u32, addr: IpAddr, what: &str) {
        let vip_name = self
            .instances
            .iter()
            .flat_map(|inst| &inst.addresses)
            .find(|v| v.spec.ifindex == ifindex && v.spec.address == addr)
            .map(|v| v.ifname.clone());
        if self.options.address_monitoring || (self.options.log_detail && vip_name.is_some()) {
            let ifname = vip_name
                .or_else(|| self.link_names.get(&ifindex).cloned())
                .unwrap_or_else(|| ifindex.to_string());
            info!("Netlink reflector reports IP {addr} {what} {ifname}");
        }
    }

    /// keepalived `reinstate_static_address()`: a static address deleted from outside
    /// is put back (unless `no_track`).
    async fn reinstate_static(&mut self, ifindex: u32, addr: IpAddr) {
        let Some((spec, dev)) = self
            .static_addresses
            .iter()
            .find(|(spec, _)| spec.ifindex == ifindex && spec.address == addr)
        else {
            return;
        };
        if self.static_no_track.contains(&(ifindex, addr)) {
            return;
        }
        info!("Restoring deleted static address {addr} on {dev}");
        if let Err(e) = self.netlink.add_address(spec).await {
            error!("cannot restore static address {addr} on {dev}: {e}");
        }
    }

    /// An instance waiting for a source address gets one: its router is rebuilt with
    /// that address (it is in the adverts and in the equal-priority comparison) and
    /// started again, leaving FAULT for BACKUP. Members of sync groups stay in FAULT
    /// until restarted (their group cannot swap a member).
    async fn on_address_added(&mut self, ifindex: u32, addr: IpAddr) {
        let waiting: Vec<usize> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, inst)| {
                inst.awaiting_source
                    && (inst.interface.index == ifindex || inst.xmit.index == ifindex)
                    && match (inst.family, addr) {
                        (Family::Ipv4, IpAddr::V4(_)) => true,
                        (Family::Ipv6, IpAddr::V6(v6)) => v6.is_unicast_link_local(),
                        _ => false,
                    }
                    && !inst.addresses.iter().any(|v| v.spec.address == addr)
            })
            .map(|(i, _)| i)
            .collect();
        for i in waiting {
            let Some(&(u, _)) = self.member_of.get(i) else {
                continue;
            };
            let Some(Unit::Single { router, .. }) = self.units.get_mut(u) else {
                warn!(
                    "address {addr} appeared, but a sync group member cannot take it without a restart"
                );
                continue;
            };
            let mut config = router.config().clone();
            config.primary_address = addr;
            config
                .trackers
                .retain(|t| t.id != TrackerId(instance::NO_SOURCE_TRACKER));
            // The new router starts from the trackers' current status.
            for tracker in &mut config.trackers {
                if let Some(index) = trackproc::index_of(tracker.id) {
                    let up = self.process_up.get(index).copied().unwrap_or(false);
                    tracker.initial = status_of(up);
                    continue;
                }
                if tracker.id.0 & instance::INTERFACE_TRACKER == 0
                    && tracker.id.0 & instance::FILE_TRACKER != 0
                {
                    let index = usize::try_from(tracker.id.0 & !instance::FILE_TRACKER).ok();
                    let value = index
                        .and_then(|i| self.file_values.get(i))
                        .copied()
                        .unwrap_or(0);
                    tracker.initial = TrackerStatus::Value(value);
                    continue;
                }
                let up = if tracker.id.0 & instance::INTERFACE_TRACKER != 0 {
                    !self
                        .links_down
                        .contains(&(tracker.id.0 & !instance::INTERFACE_TRACKER))
                } else {
                    usize::try_from(tracker.id.0)
                        .ok()
                        .and_then(|index| self.script_up.get(index))
                        .copied()
                        .unwrap_or(true)
                };
                tracker.initial = status_of(up);
            }
            config.interface_up = self
                .down_links
                .get(i)
                .is_none_or(std::collections::HashSet::is_empty);
            let mut fresh = match Router::new(config) {
                Ok(r) => r,
                Err(e) => {
                    error!("{e}");
                    continue;
                }
            };
            fresh.restore_from(router);
            **router = fresh;
            if let Some(inst) = self.instances.get_mut(i) {
                inst.source = addr;
                inst.awaiting_source = false;
                info!("({}) source address {addr} now configured", inst.name);
            }
            let now = self.now();
            if let Some(unit) = self.units.get_mut(u) {
                unit.start(now);
            }
            self.drain(u).await;
        }
    }

    /// An interface went down or away: its instances enter FAULT.
    async fn link_down(&mut self, ifindex: u32, name: &str) {
        self.track_link(ifindex, false).await;
        for i in self.instances_on_link(ifindex) {
            let newly_down = self
                .down_links
                .get_mut(i)
                .is_some_and(|set| set.insert(ifindex) && set.len() == 1);
            if newly_down {
                if let Some(inst) = self.instances.get(i) {
                    info!("({}) Interface {name} is down - entering FAULT", inst.name);
                }
                self.feed(i, Input::InterfaceDown).await;
            }
        }
    }

    /// keepalived recreates a VMAC of its own that was deleted from outside. The new
    /// link has a new index: the instances, their VIPs and routes and the socket pool
    /// move to it, and the instances leave FAULT once nothing else is down.
    async fn recreate_vmac(&mut self, old: u32) {
        let Some(position) = self.vmacs.iter().position(|(link, _)| link.index == old) else {
            return;
        };
        let (old_link, spec) = self.vmacs.remove(position);
        info!(
            "VMAC interface {} was deleted - recreating it",
            old_link.name
        );
        let created = match self.netlink.create_vmac(&spec, &mut self.sysctls).await {
            Ok(created) => created,
            Err(e) => {
                error!("cannot recreate VMAC {}: {e}", spec.name);
                // Kept: it is created again when its lower device returns (relink.rs).
                self.vmacs.push((old_link, spec));
                return;
            }
        };
        let new_link = created.link.if_ref();
        let mac = created.link.mac.unwrap_or(spec.mac());
        self.vmacs.push((new_link.clone(), spec));
        self.link_names
            .insert(new_link.index, new_link.name.clone());
        let mut moved = Vec::new();
        for (i, inst) in self.instances.iter_mut().enumerate() {
            let mut touched = false;
            if inst.xmit.index == old {
                inst.xmit = new_link.clone();
                touched = true;
            }
            for vip in inst.addresses.iter_mut().filter(|v| v.spec.ifindex == old) {
                vip.spec.ifindex = new_link.index;
                vip.ifname.clone_from(&new_link.name);
                vip.mac = mac;
                touched = true;
            }
            for route in inst
                .routes_mut()
                .iter_mut()
                .filter(|r| r.ifindex == Some(old))
            {
                route.ifindex = Some(new_link.index);
            }
            if touched {
                moved.push(i);
            }
        }
        for p in 0..self.pools.len() {
            let Some(pool) = self.pools.get(p) else {
                continue;
            };
            if pool.key.ifindex != old {
                continue;
            }
            let key = PoolKey {
                ifindex: new_link.index,
                ..pool.key.clone()
            };
            match net::open(&key, &new_link, &pool.plan) {
                Ok(socket) => {
                    net::spawn_receiver(
                        p,
                        socket.clone(),
                        pool.gap_us.clone(),
                        self.events_tx.clone(),
                        net::label(&key, &new_link),
                    );
                    if let Some(pool) = self.pools.get_mut(p) {
                        pool.key = key;
                        pool.interface = new_link.clone();
                        pool.socket = socket;
                    }
                }
                Err(e) => error!("cannot reopen the VRRP socket on {}: {e}", new_link.name),
            }
        }
        for i in moved {
            let now_clear = self
                .down_links
                .get_mut(i)
                .is_some_and(|set| set.remove(&old) && set.is_empty());
            if now_clear {
                self.feed(i, Input::InterfaceUp).await;
            }
        }
    }

    /// `track_interface`: the interface's status as a tracker input.
    async fn track_link(&mut self, ifindex: u32, up: bool) {
        if up {
            self.links_down.remove(&ifindex);
        } else {
            self.links_down.insert(ifindex);
        }
        let id = TrackerId(instance::INTERFACE_TRACKER | ifindex);
        self.feed_tracker(id, status_of(up), |inst| {
            inst.tracked().links.contains(&ifindex)
        })
        .await;
    }

    /// Feeds a tracker's new status to every instance that tracks it.
    async fn feed_tracker(
        &mut self,
        id: TrackerId,
        status: TrackerStatus,
        tracks: impl Fn(&Instance) -> bool,
    ) {
        let tracking: Vec<usize> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, inst)| tracks(inst))
            .map(|(i, _)| i)
            .collect();
        for i in tracking {
            self.feed(i, Input::Tracker { id, status }).await;
        }
    }

    fn instances_on_link(&self, ifindex: u32) -> Vec<usize> {
        self.instances
            .iter()
            .enumerate()
            .filter(|(i, inst)| {
                self.track_primary.get(*i).copied().unwrap_or(true)
                    && (inst.interface.index == ifindex || inst.xmit.index == ifindex)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The address an instance sends from went away. keepalived
    /// (`netlink_if_address_filter`, RTM_DELADDR) moves the source to another address
    /// of the interface when it has one, else downs the instance (FAULT) and takes the
    /// next address that appears. Without this the adverts kept the deleted source:
    /// the peer then knew its master by an address nobody owns any more. The kernel's
    /// list is asked rather than the events replayed, since the new address's event
    /// may come before or after this one.
    async fn on_source_removed(&mut self, ifindex: u32, addr: IpAddr) {
        let affected: Vec<usize> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, inst)| {
                inst.source == addr
                    && !inst.source_configured
                    && !inst.awaiting_source
                    // A unicast source is also the pool socket's bound address.
                    && !inst.is_unicast()
                    && (inst.interface.index == ifindex || inst.xmit.index == ifindex)
            })
            .map(|(i, _)| i)
            .collect();
        if affected.is_empty() {
            return;
        }
        let Ok(present) = self.netlink.list_addresses(Some(ifindex)).await else {
            return;
        };
        if present.iter().any(|a| a.address == addr) {
            return;
        }
        for i in affected {
            let Some(inst) = self.instances.get_mut(i) else {
                continue;
            };
            let replacement = present.iter().map(|a| a.address).find(|candidate| {
                (match (inst.family, candidate) {
                    (Family::Ipv4, IpAddr::V4(_)) => true,
                    (Family::Ipv6, IpAddr::V6(v6)) => v6.is_unicast_link_local(),
                    _ => false,
                }) && !inst.addresses.iter().any(|v| v.spec.address == *candidate)
            });
            if let Some(new) = replacement {
                info!(
                    "({}) source address {addr} removed, now sending from {new}",
                    inst.name
                );
                inst.source = new;
                continue;
            }
            info!(
                "({}): entering FAULT state (src address {addr} removed)",
                inst.name
            );
            // on_address_added rebuilds the router around the next address.
            inst.awaiting_source = true;
            self.feed(i, Input::InterfaceDown).await;
        }
    }

    /// A VIP vanished while we are MASTER: keepalived (`netlink_if_address_filter` →
    /// `set_vrrp_backup`) releases everything with a priority-0 advert and goes
    /// BACKUP; with nobody else taking over it becomes MASTER again after Skew_Time
    /// and puts the VIP back. `no_track` VIPs are left alone.
    async fn on_address_removed(&mut self, ifindex: u32, addr: IpAddr) {
        let mut hit = Vec::new();
        for (i, inst) in self.instances.iter().enumerate() {
            let tracked = inst
                .addresses
                .iter()
                .any(|v| v.spec.ifindex == ifindex && v.spec.address == addr && !v.no_track);
            let is_master_with_vips = self
                .member_of
                .get(i)
                .and_then(|&(u, m)| self.units.get(u)?.router(m))
                .is_some_and(|r| r.state() == State::Master && r.vips_set());
            if tracked && is_master_with_vips {
                hit.push(i);
            }
        }
        if hit.is_empty() {
            return;
        }
        // Notifications are asynchronous: make sure the address is really gone (and
        // this is not the echo of our own earlier removal).
        let present = match self.netlink.list_addresses(Some(ifindex)).await {
            Ok(list) => list.iter().any(|a| a.address == addr),
            Err(_) => false,
        };
        if present {
            return;
        }
        for i in hit {
            if let Some(inst) = self.instances.get(i) {
                info!(
                    "({}) virtual address {addr} was deleted - releasing and going BACKUP",
                    inst.name
                );
            }
            self.feed(i, Input::VirtualAddressDeleted).await;
        }
    }

    /// Graceful stop: every router sends its priority-0 advert (if MASTER) and drops
    /// its VIPs; then VMACs and sysctls are put back.
    async fn stop(&mut self) {
        let now = self.now();
        for u in 0..self.units.len() {
            let members = self.units.get(u).map(Unit::members).unwrap_or_default();
            for (m, _) in members.iter().enumerate() {
                if let Some(unit) = self.units.get_mut(u) {
                    unit.handle(now, m, Input::Stop);
                }
            }
            self.drain(u).await;
            // keepalived also runs a sync group's STOP notifies at shutdown.
            if let Some(Unit::Group { group, notify, .. }) = self.units.get(u) {
                let (name, notify) = (group.name().to_string(), notify.clone());
                self.group_notify(&name, State::Stop, &notify);
            }
        }
        for spec in std::mem::take(&mut self.static_rules) {
            if let Err(e) = rules::delete(&self.netlink, &spec).await {
                warn!("cannot remove static {e}");
            }
        }
        for spec in std::mem::take(&mut self.static_routes) {
            if let Err(e) = routes::delete(&self.netlink, &spec).await {
                warn!("cannot remove static {e}");
            }
        }
        for (spec, dev) in std::mem::take(&mut self.static_addresses) {
            if let Err(e) = self
                .netlink
                .delete_address(spec.ifindex, spec.address, spec.prefix_len)
                .await
            {
                warn!(
                    "cannot remove static address {} from {dev}: {e}",
                    spec.address
                );
            }
        }
        for (vmac, _) in std::mem::take(&mut self.vmacs) {
            if let Err(e) = self.netlink.delete_link(vmac.index).await {
                warn!("cannot delete VMAC {}: {e}", vmac.name);
            }
        }
        if let Err(e) = self.sysctls.restore() {
            warn!("cannot restore interface sysctls: {e}");
        }
    }
}

/// `garp_group { garp_interval; gna_interval; interface(s) }`: per-interface intervals
/// (unset ones keep the global `vrrp_garp_interval` / `vrrp_gna_interval`).
fn garp_groups(config: &config::Config, host: &HostInterfaces) -> HashMap<u32, garp::Intervals> {
    let mut map = HashMap::new();
    for group in &config.vrrp.garp_groups {
        let intervals = garp::Intervals {
            arp: group.garp_interval_us.map_or(
                config.global.vrrp_garp_interval,
                std::time::Duration::from_micros,
            ),
            na: group.gna_interval_us.map_or(
                config.global.vrrp_gna_interval,
                std::time::Duration::from_micros,
            ),
        };
        for (name, _) in &group.interfaces {
            if let Some((ifref, _)) = host.by_name(name) {
                map.insert(ifref.index, intervals);
            }
        }
    }
    map
}

fn status_of(up: bool) -> TrackerStatus {
    if up {
        TrackerStatus::Up
    } else {
        TrackerStatus::Down
    }
}

fn log_transition(name: &str, from: State, to: State) {
    match to {
        State::Backup if from == State::Init => info!("({name}) Entering BACKUP STATE (init)"),
        State::Backup => info!("({name}) Entering BACKUP STATE"),
        State::Master => {
            if from == State::Backup {
                info!("({name}) Receive advertisement timeout");
            }
            info!("({name}) Entering MASTER STATE");
        }
        State::Fault => info!("({name}) Entering FAULT STATE"),
        State::Stop => debug!("({name}) Stopping"),
        State::Init => {}
    }
}

/// keepalived's wording for each event (`vrrp.c`, `vrrp_track.c`).
fn log_event(name: &str, event: &LogEvent) {
    match event {
        LogEvent::DiscardedLowerPriority { from, priority } => {
            info!("({name}) received lower priority ({priority}) advert from {from} - discarding");
        }
        LogEvent::MasterReceivedLowerPriority {
            from,
            priority,
            ours,
            forcing_election,
        } => {
            let tail = if *forcing_election {
                ", forcing new election"
            } else {
                ""
            };
            info!(
                "({name}) Received advert from {from} with lower priority {priority}, ours {ours}{tail}"
            );
        }
        LogEvent::MasterReceivedHigherPriority {
            from,
            priority,
            ours,
        } => info!(
            "({name}) Master received advert from {from} with higher priority {priority}, ours {ours}"
        ),
        LogEvent::EqualPriorityFromOwnAddress => info!(
            "({name}) WARNING - equal priority advert received from remote host with our IP address."
        ),
        LogEvent::OwnerConflict { .. } => info!(
            "({name}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority"
        ),
        LogEvent::EffectivePriorityChanged { from, to } => {
            info!("({name}) Changing effective priority from {from} to {to}");
        }
        LogEvent::PreemptDelayStarted => info!("({name}) start preempt delay"),
        LogEvent::PreemptDelayStopped => info!("({name}) stop preempt delay"),
        LogEvent::MasterIntervalAdopted { from_cs, to_cs } => info!(
            "({name}) advertisement interval updated from {}ms to {}ms by master",
            u32::from(*from_cs) * 10,
            u32::from(*to_cs) * 10
        ),
    }
}
