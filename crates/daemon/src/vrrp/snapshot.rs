//! A plain-data picture of the VRRP runtime at one instant, for the dump files
//! (`keepalived.data`, `.stats`, `.json`), the Prometheus metrics and `--status`.
//!
//! Taking a snapshot copies what the renderers need out of the runtime, so they run
//! without borrowing it (and the metrics server and status socket can be handed one
//! over a channel).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use vrrp::advert::Version;
use vrrp::packet::{Auth, Family};
use vrrp::router::{Router, State, TrackerStatus};

use super::VrrpRuntime;
use super::instance::{FILE_TRACKER, INTERFACE_TRACKER, Instance, NO_SOURCE_TRACKER};

/// What a runtime remembers about an instance beyond its router: transitions and the
/// counters zeroed by STATS_CLEAR.
#[derive(Debug, Clone)]
pub struct History {
    /// keepalived `last_transition`: wall-clock time of the last state change (the
    /// instance's creation until the first).
    pub last_transition: SystemTime,
    /// State changes since start (INIT → BACKUP counts, as it does for keepalived's
    /// `become_master`-style counters).
    pub transitions: u64,
    /// The router's own counters when the stats were last cleared: the counters
    /// reported are the router's minus these. Boxed and absent until a STATS_CLEAR
    /// (48 B of every instance otherwise).
    pub router_stats_cleared_at: Option<Box<vrrp::router::Stats>>,
}

impl Default for History {
    fn default() -> Self {
        History {
            last_transition: SystemTime::now(),
            transitions: 0,
            router_stats_cleared_at: None,
        }
    }
}

/// Configuration settings of an instance that only the dumps and the status read (the
/// runtime does not keep the parsed `vrrp_instance`s: ~1.7 KB each, half the VRRP
/// child's heap at 1000 instances). Unresolved `Option`s are resolved against the
/// running `global_defs` when reported, as before.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reported {
    pub accept: Option<bool>,
    pub strict_mode: Option<bool>,
    pub smtp_alert: Option<bool>,
    pub vmac_xmit_base: bool,
    pub source_from_config: bool,
    pub promote_secondaries: bool,
    pub dont_track_primary: bool,
}

impl Reported {
    pub fn of(inst: &config::model::vrrp::VrrpInstance) -> Reported {
        Reported {
            accept: inst.accept,
            strict_mode: inst.strict_mode,
            smtp_alert: inst.smtp_alert,
            vmac_xmit_base: inst.vmac_xmit_base,
            source_from_config: inst.source_from_config,
            promote_secondaries: inst.promote_secondaries,
            dont_track_primary: inst.dont_track_primary,
        }
    }
}

/// What the runtime keeps of a configuration for its dumps and status: the global
/// settings and the names of the `vrrp_script`s and `track_file`s its trackers refer
/// to by index. The instances live in the runtime's own tables ([`Reported`]).
pub fn kept_config(config: &config::Config) -> config::Config {
    config::Config {
        global: config.global.clone(),
        vrrp: config::model::vrrp::VrrpConfig {
            scripts: config.vrrp.scripts.clone(),
            track_files: config.vrrp.track_files.clone(),
            ..Default::default()
        },
        ..Default::default()
    }
}

impl History {
    pub fn record_transition(&mut self) {
        self.last_transition = SystemTime::now();
        self.transitions = self.transitions.saturating_add(1);
    }
}

/// keepalived's per-instance counters (`vrrp_stats`) plus the receive errors it only
/// reports over SNMP or logs: the receive counters with the router's sent/transition
/// counts filled in.
pub type Counters = vrrp::packet::Stats;

/// What a tracker watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerKind {
    Script,
    Interface,
    File,
}

impl TrackerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrackerKind::Script => "script",
            TrackerKind::Interface => "interface",
            TrackerKind::File => "file",
        }
    }
}

/// One tracker of an instance and its current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerSnapshot {
    pub kind: TrackerKind,
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
    pub status: TrackerStatus,
}

impl TrackerSnapshot {
    /// Up (script succeeded, interface running, file value non-zero).
    pub fn is_up(&self) -> bool {
        match self.status {
            TrackerStatus::Up => true,
            TrackerStatus::Down => false,
            TrackerStatus::Value(v) => v != 0,
        }
    }
}

/// One virtual (or excluded) address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSnapshot {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// keepalived's description without the trailing ` set`
    /// ("192.0.2.100/24 dev eth0 scope global").
    pub description: String,
    pub excluded: bool,
}

/// One `vrrp_instance`: configuration-derived fields and live state.
#[derive(Debug, Clone)]
pub struct InstanceSnapshot {
    pub name: String,
    pub vrid: u8,
    pub version: u8,
    pub ipv6: bool,
    pub sync_group: Option<String>,
    pub state: State,
    pub want_state: State,
    /// Configured priority (keepalived `base_priority`).
    pub base_priority: u8,
    pub effective_priority: u8,
    /// Address and priority of the master last heard (while BACKUP).
    pub master: Option<(IpAddr, u8)>,
    pub advert_interval: Duration,
    pub master_advert_interval: Duration,
    pub master_down_interval: Duration,
    /// Wall-clock time of the router's next timer (keepalived "Read timeout").
    pub next_timer: Option<SystemTime>,
    /// The configured interface.
    pub interface: String,
    /// Index of the interface adverts go out of (the IPv6 group's scope).
    pub xmit_index: u32,
    /// The VMAC's name, when `use_vmac`.
    pub vmac_interface: Option<String>,
    pub vmac_xmit_base: bool,
    pub source: IpAddr,
    pub source_from_config: bool,
    /// Multicast group, `None` when unicast.
    pub multicast_group: Option<IpAddr>,
    /// (address, min_ttl, max_ttl).
    pub unicast_peers: Vec<(IpAddr, u8, u8)>,
    pub unicast_ttl: Option<u8>,
    pub check_unicast_src: bool,
    pub vips: Vec<VipSnapshot>,
    pub vips_set: bool,
    pub garp: vrrp::router::GarpConfig,
    pub down_timer_adverts: u8,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub accept: bool,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub promote_secondaries: bool,
    pub dont_track_primary: bool,
    pub skip_check_adv_addr: bool,
    pub strict_mode: bool,
    pub smtp_alert: bool,
    pub notify_deleted: bool,
    pub notify_priority_changes: bool,
    /// keepalived `auth_type`: 0 none, 1 PASS, 2 AH.
    pub auth_type: u8,
    /// The PASS password or AH key as text (keepalived prints them in its dumps).
    pub auth_pass: Option<String>,
    /// Notify scripts: (keepalived's dump label, JSON key, command line).
    pub notify_scripts: Vec<(&'static str, &'static str, String)>,
    pub trackers: Vec<TrackerSnapshot>,
    /// Weight-0 trackers and interfaces currently holding the instance in FAULT.
    pub faults: u32,
    pub counters: Counters,
    pub transitions: u64,
    pub last_transition: SystemTime,
    /// Socket pool this instance sends and receives on.
    pub pool: usize,
}

/// One `vrrp_sync_group`.
#[derive(Debug, Clone)]
pub struct SyncGroupSnapshot {
    pub name: String,
    pub state: State,
    pub members: Vec<String>,
}

/// One VRRP socket pool (interface, family, protocol, multicast or unicast).
#[derive(Debug, Clone)]
pub struct PoolSnapshot {
    pub interface: String,
    pub ipv6: bool,
    pub ah: bool,
    pub multicast: bool,
    /// The unicast source address the pool sends from.
    pub unicast_source: Option<IpAddr>,
    /// (instance name, VRID) of the instances using it.
    pub instances: Vec<(String, u8)>,
}

/// One `vrrp_script` and its current result.
#[derive(Debug, Clone)]
pub struct ScriptSnapshot {
    pub name: String,
    pub command: String,
    pub up: bool,
}

/// The whole runtime.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken: SystemTime,
    /// The configuration running (global settings are read from it).
    pub config: Arc<config::Config>,
    pub instances: Vec<InstanceSnapshot>,
    pub sync_groups: Vec<SyncGroupSnapshot>,
    pub pools: Vec<PoolSnapshot>,
    pub scripts: Vec<ScriptSnapshot>,
}

impl VrrpRuntime {
    /// Copies the runtime's state out (see the module documentation).
    pub fn snapshot(&self) -> Snapshot {
        let now_wall = SystemTime::now();
        let now = self.now();
        let instances = self
            .instances
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| {
                let &(u, m) = self.member_of.get(i)?;
                let router = self.units.get(u)?.router(m)?;
                let next_timer = router.next_deadline().map(|at| {
                    now_wall + Duration::from_micros(at.as_micros().saturating_sub(now.as_micros()))
                });
                Some(self.instance_snapshot(inst, u, router, next_timer))
            })
            .collect();
        let sync_groups = self
            .units
            .iter()
            .filter_map(|unit| match unit {
                super::Unit::Group { group, members, .. } => Some(SyncGroupSnapshot {
                    name: group.name().to_string(),
                    state: group.state(),
                    members: members
                        .iter()
                        .filter_map(|&i| self.instances.get(i).map(|inst| inst.name.clone()))
                        .collect(),
                }),
                super::Unit::Single { .. } => None,
            })
            .collect();
        let pools = self
            .pools
            .iter()
            .enumerate()
            .map(|(p, pool)| {
                let mut instances: Vec<(String, u8)> = self
                    .instances
                    .iter()
                    .filter(|inst| inst.pool == p)
                    .map(|inst| (inst.name.clone(), inst.vrid))
                    .collect();
                instances.sort_by_key(|(_, vrid)| *vrid);
                PoolSnapshot {
                    interface: pool.interface.name.clone(),
                    ipv6: pool.key.ipv6,
                    ah: pool.key.ah,
                    multicast: pool.key.group.is_some(),
                    unicast_source: pool.key.unicast_source,
                    instances,
                }
            })
            .collect();
        let scripts = self
            .config
            .vrrp
            .scripts
            .iter()
            .enumerate()
            .map(|(index, script)| ScriptSnapshot {
                name: script.name.clone(),
                command: script
                    .script
                    .as_ref()
                    .map(|s| s.args.join(" "))
                    .unwrap_or_default(),
                up: self.script_up.get(index).copied().unwrap_or(false),
            })
            .collect();
        Snapshot {
            taken: now_wall,
            config: Arc::clone(&self.config),
            instances,
            sync_groups,
            pools,
            scripts,
        }
    }

    /// STATS_CLEAR: every counter of every instance starts again from zero.
    pub fn clear_stats(&mut self) {
        for (i, inst) in self.instances.iter_mut().enumerate() {
            inst.rx_stats = vrrp::packet::Stats::default();
            let router_stats = self
                .member_of
                .get(i)
                .and_then(|&(u, m)| self.units.get(u)?.router(m))
                .map(|r| *r.stats());
            if let Some(stats) = router_stats {
                inst.history.router_stats_cleared_at = Some(Box::new(stats));
            }
        }
    }

    fn instance_snapshot(
        &self,
        inst: &Instance,
        unit: usize,
        router: &Router,
        next_timer: Option<SystemTime>,
    ) -> InstanceSnapshot {
        let reported = &inst.reported;
        let global = &self.config.global;
        let router_config = router.config();
        let vmac_interface = self
            .vmacs
            .iter()
            .find(|(_, spec)| spec.parent.index == inst.interface.index && spec.vrid == inst.vrid)
            .map(|(link, _)| link.name.clone())
            .or_else(|| (inst.xmit.index != inst.interface.index).then(|| inst.xmit.name.clone()));
        let vip_count = inst.advertised.len();
        let vips = inst
            .addresses
            .iter()
            .enumerate()
            .map(|(n, vip)| VipSnapshot {
                address: vip.spec.address,
                prefix_len: vip.spec.prefix_len,
                description: describe_vip(vip, &inst.interface, &self.vmacs),
                excluded: n >= vip_count,
            })
            .collect();
        let notify_scripts = {
            let n = inst.notify();
            [
                ("Backup", "script_backup", &n.backup),
                ("Master", "script_master", &n.master),
                ("Fault", "script_fault", &n.fault),
                ("Stop", "script_stop", &n.stop),
                ("Deleted", "script_deleted", &n.deleted),
                ("Generic", "script", &n.notify),
                (
                    "Master rx lower pri",
                    "script_master_rx_lower_pri",
                    &n.master_rx_lower_pri,
                ),
            ]
            .into_iter()
            .filter_map(|(label, key, script)| {
                script.as_ref().map(|s| (label, key, s.args.join(" ")))
            })
            .collect()
        };
        let trackers = router_config
            .trackers
            .iter()
            .filter(|t| t.id.0 != NO_SOURCE_TRACKER)
            .map(|t| self.tracker_snapshot(t))
            .collect::<Vec<_>>();
        let faults = u32::try_from(
            trackers
                .iter()
                .filter(|t| t.weight == 0 && t.is_up() == t.reverse)
                .count(),
        )
        .unwrap_or(u32::MAX)
        .saturating_add(u32::from(
            !router_config.interface_up && router.has_own_fault(),
        ));
        let cleared = inst
            .history
            .router_stats_cleared_at
            .as_deref()
            .copied()
            .unwrap_or_default();
        let own = router.stats();
        // The receive checks count into `rx_stats`; what the state machine counts
        // comes from the router, less what it had at the last STATS_CLEAR.
        let counters = Counters {
            advert_sent: own.advert_sent.saturating_sub(cleared.advert_sent),
            become_master: own.become_master.saturating_sub(cleared.become_master),
            release_master: own.release_master.saturating_sub(cleared.release_master),
            pri_zero_sent: own.pri_zero_sent.saturating_sub(cleared.pri_zero_sent),
            ..inst.rx_stats
        };
        let (auth_type, auth_pass) = match inst.auth {
            Auth::None => (0, None),
            Auth::Pass(key) => (1, Some(key_text(&key))),
            Auth::Ah { key } => (2, Some(key_text(&key))),
        };
        InstanceSnapshot {
            name: inst.name.clone(),
            vrid: inst.vrid,
            version: match inst.version {
                Version::V2 => 2,
                Version::V3 => 3,
            },
            ipv6: inst.family == Family::Ipv6,
            // keepalived: the group validation put it in, which is the unit it runs in.
            sync_group: match self.units.get(unit) {
                Some(super::Unit::Group { group, .. }) => Some(group.name().to_string()),
                _ => None,
            },
            state: router.state(),
            want_state: router.want_state(),
            base_priority: router_config.priority,
            effective_priority: router.effective_priority(),
            master: router.master(),
            advert_interval: Duration::from_millis(u64::from(inst.interval_cs) * 10),
            master_advert_interval: router.master_adver_interval(),
            master_down_interval: router.master_down_interval(),
            next_timer,
            interface: inst.interface.name.clone(),
            xmit_index: inst.xmit.index,
            vmac_interface,
            vmac_xmit_base: reported.vmac_xmit_base,
            source: inst.source,
            source_from_config: reported.source_from_config,
            multicast_group: inst.group,
            unicast_peers: inst
                .unicast_peers
                .iter()
                .map(|p| (p.address, p.min_ttl, p.max_ttl))
                .collect(),
            unicast_ttl: inst.unicast_ttl,
            check_unicast_src: inst.check_unicast_src,
            vips,
            vips_set: router.vips_set(),
            garp: router_config.garp.clone(),
            down_timer_adverts: router_config.down_timer_adverts,
            lower_prio_no_advert: router_config.lower_prio_no_advert,
            higher_prio_send_advert: router_config.higher_prio_send_advert,
            // keepalived: accept is on unless strict mode turns it off.
            accept: reported.accept.unwrap_or(!global.vrrp_strict),
            nopreempt: router_config.nopreempt,
            preempt_delay: router_config.preempt_delay,
            promote_secondaries: reported.promote_secondaries,
            dont_track_primary: reported.dont_track_primary,
            skip_check_adv_addr: inst.skip_check_adv_addr,
            strict_mode: reported.strict_mode.unwrap_or(global.vrrp_strict),
            smtp_alert: reported
                .smtp_alert
                .or(global.smtp_alert_vrrp)
                .or(global.smtp_alert)
                .unwrap_or(false),
            notify_deleted: inst.notify().notify_deleted,
            notify_priority_changes: router_config.notify_priority_changes,
            auth_type,
            auth_pass,
            notify_scripts,
            trackers,
            faults,
            counters,
            transitions: inst.history.transitions,
            last_transition: inst.history.last_transition,
            pool: inst.pool,
        }
    }

    fn tracker_snapshot(&self, tracker: &vrrp::router::TrackerConfig) -> TrackerSnapshot {
        let id = tracker.id.0;
        let (kind, name, status) = if id & INTERFACE_TRACKER != 0 {
            let ifindex = id & !INTERFACE_TRACKER;
            let up = !self.links_down.contains(&ifindex);
            (
                TrackerKind::Interface,
                self.link_names
                    .get(&ifindex)
                    .cloned()
                    .unwrap_or_else(|| ifindex.to_string()),
                super::status_of(up),
            )
        } else if id & FILE_TRACKER != 0 {
            let index = usize::try_from(id & !FILE_TRACKER).unwrap_or(usize::MAX);
            (
                TrackerKind::File,
                self.config
                    .vrrp
                    .track_files
                    .get(index)
                    .map(|f| f.name.clone())
                    .unwrap_or_default(),
                TrackerStatus::Value(self.file_values.get(index).copied().unwrap_or(0)),
            )
        } else {
            let index = usize::try_from(id).unwrap_or(usize::MAX);
            (
                TrackerKind::Script,
                self.config
                    .vrrp
                    .scripts
                    .get(index)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                super::status_of(self.script_up.get(index).copied().unwrap_or(true)),
            )
        };
        TrackerSnapshot {
            kind,
            name,
            weight: tracker.weight,
            reverse: tracker.reverse,
            status,
        }
    }
}

/// keepalived `format_ipaddress()` without the live ` set` suffix.
fn describe_vip(
    vip: &super::instance::Vip,
    interface: &linux::IfRef,
    vmacs: &[(linux::IfRef, linux::link::VmacSpec)],
) -> String {
    let spec = &vip.spec;
    let mut text = format!("{}/{}", spec.address, spec.prefix_len);
    if let Some(brd) = spec.broadcast {
        text.push_str(&format!(" brd {brd}"));
    }
    text.push_str(&format!(" dev {}", vip.ifname));
    // keepalived: an address on a VMAC names the VMAC's base interface too.
    if let Some((_, vmac)) = vmacs.iter().find(|(link, _)| link.index == spec.ifindex) {
        text.push_str(&format!("@{}", vmac.parent.name));
    } else if spec.ifindex != interface.index && vip.ifname.starts_with("vrrp") {
        text.push_str(&format!("@{}", interface.name));
    }
    text.push_str(&format!(" scope {}", scope_name(spec.scope)));
    if let Some(label) = &spec.label {
        text.push_str(&format!(" label {label}"));
    }
    if let Some(peer) = spec.peer {
        text.push_str(&format!(" peer {peer}/{}", spec.prefix_len));
    }
    if spec.home {
        text.push_str(" home");
    }
    if spec.noprefixroute {
        text.push_str(" noprefixroute");
    }
    if vip.no_track {
        text.push_str(" no_track");
    }
    if spec.address.is_ipv6() {
        match spec.preferred_lft {
            0 => text.push_str(" deprecated"),
            u32::MAX => text.push_str(" preferred_lft forever"),
            lft => text.push_str(&format!(" preferred_lft {lft}")),
        }
    }
    text
}

/// An authentication key as text, up to its first NUL (keepalived prints it so).
fn key_text(key: &[u8]) -> String {
    let end = key.iter().position(|&b| b == 0).unwrap_or(key.len());
    String::from_utf8_lossy(key.get(..end).unwrap_or(&[])).into_owned()
}

/// `/etc/iproute2/rt_scopes` names keepalived prints.
fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}
