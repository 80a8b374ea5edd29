//! One `vrrp_instance` made runnable: the state machine's config, the wire settings
//! (auth, peers, source, group) and the resolved interfaces and addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use config::model::vrrp::{AuthType, Broadcast, InitialState, IpAddress, TrackRef, VrrpInstance};
use config::model::{Config, GlobalConfig};
use linux::addr::AddressSpec;
use linux::{IfRef, MacAddr};
use vrrp::advert::Version;
use vrrp::packet::{Auth, Family, UnicastPeer, VRRP_AUTH_DATA_LEN, WireState};
use vrrp::router::{GarpConfig, RouterConfig, TrackerConfig, TrackerId, TrackerStatus};

use super::RunError;

/// A virtual (or excluded) address, ready for netlink.
#[derive(Debug, Clone)]
pub struct Vip {
    pub spec: AddressSpec,
    /// Interface name, for logs and GARPs.
    pub ifname: String,
    /// Source MAC of its gratuitous ARPs / NAs (the VMAC's when on one).
    pub mac: MacAddr,
    /// `no_track`: deleting it by hand does not make us leave MASTER.
    pub no_track: bool,
}

/// An instance's runtime data besides its router.
#[derive(Debug)]
pub struct Instance {
    pub name: String,
    pub family: Family,
    pub version: Version,
    pub vrid: u8,
    pub auth: Auth,
    pub interval_cs: u16,
    /// The configured interface (keepalived `configured_ifp`).
    pub interface: IfRef,
    /// The interface adverts go out of and come in on (the VMAC unless
    /// `vmac_xmit_base`), keepalived `vrrp->ifp` / the sockpool's interface.
    pub xmit: IfRef,
    pub source: IpAddr,
    /// `mcast_src_ip` / `unicast_src_ip` given: the source never follows the
    /// interface's addresses (keepalived VRRP_FLAG_SADDR_FROM_CONFIG).
    pub source_configured: bool,
    /// Multicast group, or `None` when unicast.
    pub group: Option<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    /// `unicast_ttl`: IPv4 defaults to 255 (validation fills it in); IPv6 keeps the
    /// kernel's default hop limit unless configured, as keepalived does.
    pub unicast_ttl: Option<u8>,
    pub check_unicast_src: bool,
    pub skip_check_adv_addr: bool,
    /// Addresses carried in adverts (`vrrp->vip`).
    pub advertised: Vec<IpAddr>,
    /// VIPs then eVIPs, as installed.
    pub addresses: Vec<Vip>,
    pub wire: WireState,
    pub rx_stats: vrrp::packet::Stats,
    /// Paces the lines about refused adverts (the counters see every one).
    pub reject_log: super::rxguard::LogLimiter,
    /// This instance's part of its pool's SO_RCVBUF (`kernel_rx_buf_size` /
    /// `vrrp_rx_bufs_policy`); `None` leaves the kernel default.
    pub rx_buf_share: Option<usize>,
    /// Index of the socket pool carrying it.
    pub pool: usize,
    /// Notify scripts, if any: most instances have none, and the set is ~1 KB (a
    /// quarter of an instance's memory), so it is boxed and absent when empty.
    pub notify: Option<Box<config::model::vrrp::Notify>>,
    /// What it tracks, if anything: absent for most instances, so boxed (four empty
    /// vectors inline would be 96 B of every instance).
    tracked: Option<Box<Tracked>>,
    /// `virtual_routes` and `virtual_rules`: absent for most instances, so boxed (two
    /// empty vectors inline would be 48 B of every instance).
    routes_and_rules: Option<Box<RoutesAndRules>>,
    /// No source address yet: held in FAULT by the [`NO_SOURCE_TRACKER`].
    pub awaiting_source: bool,
    /// Transitions and cleared counters, for dumps and metrics.
    pub history: super::snapshot::History,
    /// `use_vmac` (a reload matches instances only with the same setting).
    pub vmac: bool,
    /// Settings only the dumps and status read.
    pub reported: super::snapshot::Reported,
}

/// `virtual_routes`, set with the VIPs, and `virtual_rules`, set after the routes.
#[derive(Debug)]
struct RoutesAndRules {
    routes: Vec<super::routes::RouteSpec>,
    rules: Vec<super::rules::RuleSpec>,
}

/// The trackers of an instance, by kind.
#[derive(Debug, Default)]
pub struct Tracked {
    /// `track_script`: indices into the configuration's `vrrp_script`s.
    pub scripts: Vec<usize>,
    /// `track_interface`: interface indices.
    pub links: Vec<u32>,
    /// `track_file`: indices into the configuration's `track_file`s.
    pub files: Vec<usize>,
    /// `track_process`: indices into the configuration's `vrrp_track_process`es.
    pub processes: Vec<usize>,
}

/// A weight-0 tracker that holds an instance in FAULT until its interface has an
/// address to send from.
pub const NO_SOURCE_TRACKER: u32 = 0x7fff_ffff;

/// Tracker ids: scripts use their index, interfaces this bit plus their ifindex.
pub const INTERFACE_TRACKER: u32 = 0x8000_0000;
/// Tracker ids of `track_file`s: this bit plus their index.
pub const FILE_TRACKER: u32 = 0x4000_0000;

impl Instance {
    pub fn is_unicast(&self) -> bool {
        self.group.is_none()
    }

    /// `virtual_routes`, set with the VIPs.
    pub fn routes(&self) -> &[super::routes::RouteSpec] {
        self.routes_and_rules
            .as_deref()
            .map_or(&[], |r| r.routes.as_slice())
    }

    pub fn routes_mut(&mut self) -> &mut [super::routes::RouteSpec] {
        self.routes_and_rules
            .as_deref_mut()
            .map_or(&mut [], |r| r.routes.as_mut_slice())
    }

    /// `virtual_rules`, set with the VIPs (after the routes).
    pub fn rules(&self) -> &[super::rules::RuleSpec] {
        self.routes_and_rules
            .as_deref()
            .map_or(&[], |r| r.rules.as_slice())
    }

    pub fn set_routes_and_rules(
        &mut self,
        routes: Vec<super::routes::RouteSpec>,
        rules: Vec<super::rules::RuleSpec>,
    ) {
        self.routes_and_rules = (!routes.is_empty() || !rules.is_empty())
            .then(|| Box::new(RoutesAndRules { routes, rules }));
    }

    /// What it tracks (empty lists when nothing).
    pub fn tracked(&self) -> &Tracked {
        static NONE: Tracked = Tracked {
            scripts: Vec::new(),
            links: Vec::new(),
            files: Vec::new(),
            processes: Vec::new(),
        };
        self.tracked.as_deref().unwrap_or(&NONE)
    }

    pub fn set_tracked(&mut self, tracked: Tracked) {
        let empty = tracked.scripts.is_empty()
            && tracked.links.is_empty()
            && tracked.files.is_empty()
            && tracked.processes.is_empty();
        self.tracked = (!empty).then(|| Box::new(tracked));
    }

    /// The notify scripts (an empty set when none are configured).
    pub fn notify(&self) -> &config::model::vrrp::Notify {
        static NONE: std::sync::LazyLock<config::model::vrrp::Notify> =
            std::sync::LazyLock::new(Default::default);
        self.notify.as_deref().unwrap_or(&NONE)
    }
}

/// Interface lookups the builder needs (from a link and address dump).
pub trait Interfaces {
    fn by_name(&self, name: &str) -> Option<(IfRef, Option<MacAddr>)>;
    /// keepalived's primary address of an interface: the first IPv4 address, or the
    /// IPv6 link-local one.
    fn primary(&self, ifindex: u32, family: Family) -> Option<IpAddr>;
}

/// keepalived `auth_type` + `auth_pass` (the password is zero-padded to 8 bytes).
pub fn auth_of(inst: &VrrpInstance) -> Auth {
    let mut key = [0u8; VRRP_AUTH_DATA_LEN];
    if let Some(pass) = &inst.auth_pass {
        for (slot, byte) in key.iter_mut().zip(pass.bytes()) {
            *slot = byte;
        }
    }
    match inst.auth_type {
        Some(AuthType::Pass) => Auth::Pass(key),
        Some(AuthType::Ah) => Auth::Ah { key },
        None => Auth::None,
    }
}

fn seconds(value: Option<u32>, default: Duration) -> Duration {
    value.map_or(default, |s| Duration::from_secs(u64::from(s)))
}

/// keepalived's GARP settings of an instance: its own, else the globals
/// (`vrrp_garp_*`); the lower-priority ones default to the master ones.
pub fn garp_config(inst: &VrrpInstance, global: &GlobalConfig) -> GarpConfig {
    let master_delay = seconds(inst.garp_master_delay, global.vrrp_garp_master_delay);
    let master_repeat = inst
        .garp_master_repeat
        .unwrap_or(global.vrrp_garp_master_repeat);
    GarpConfig {
        master_delay,
        master_repeat,
        master_refresh: seconds(inst.garp_master_refresh, global.vrrp_garp_master_refresh),
        master_refresh_repeat: inst
            .garp_master_refresh_repeat
            .unwrap_or(global.vrrp_garp_master_refresh_repeat),
        lower_prio_delay: inst
            .garp_lower_prio_delay
            .map(|s| Duration::from_secs(u64::from(s)))
            .or(global.vrrp_garp_lower_prio_delay)
            .unwrap_or(master_delay),
        lower_prio_repeat: inst
            .garp_lower_prio_repeat
            .or(global.vrrp_garp_lower_prio_repeat)
            .unwrap_or(master_repeat),
    }
}

/// `version 3`, else VRRPv2.
fn version_of(inst: &VrrpInstance) -> Version {
    if inst.version == Some(3) {
        Version::V3
    } else {
        Version::V2
    }
}

/// The interval in centiseconds (validation already rounded v2 to whole seconds).
fn interval_cs(inst: &VrrpInstance) -> u16 {
    let us = if inst.advert_int_us == 0 {
        1_000_000
    } else {
        inst.advert_int_us
    };
    u16::try_from((us / 10_000).max(1)).unwrap_or(u16::MAX)
}

/// The state machine's configuration for an instance.
pub fn router_config(
    inst: &VrrpInstance,
    global: &GlobalConfig,
    source: IpAddr,
    advertised: Vec<IpAddr>,
    interface_up: bool,
) -> RouterConfig {
    let vrid = inst.vrid.unwrap_or(0);
    let mut rc = RouterConfig::new(
        inst.name.clone(),
        version_of(inst),
        vrid,
        inst.priority,
        source,
    );
    rc.advert_interval_cs = interval_cs(inst);
    rc.wants_master = inst.initial_state == Some(InitialState::Master);
    rc.virtual_addresses = advertised;
    rc.nopreempt = inst.nopreempt;
    rc.preempt_delay = Duration::from_micros(inst.preempt_delay_us);
    rc.down_timer_adverts = inst
        .down_timer_adverts
        .map_or(3, |d| u8::try_from(d).unwrap_or(3));
    rc.lower_prio_no_advert = inst
        .lower_prio_no_advert
        .unwrap_or(global.vrrp_lower_prio_no_advert);
    rc.higher_prio_send_advert = inst
        .higher_prio_send_advert
        .unwrap_or(global.vrrp_higher_prio_send_advert);
    rc.notify_priority_changes = inst
        .notify_priority_changes
        .unwrap_or(global.vrrp_notify_priority_changes);
    rc.garp = garp_config(inst, global);
    rc.interface_up = interface_up || inst.dont_track_primary;
    rc
}

/// `brd +` / `brd -` resolved against the prefix.
fn broadcast(addr: &IpAddress) -> Option<Ipv4Addr> {
    let IpAddr::V4(v4) = addr.addr else {
        return None;
    };
    let host_mask = u32::MAX
        .checked_shr(u32::from(addr.prefix_len))
        .unwrap_or(0);
    match addr.broadcast? {
        Broadcast::Addr(a) => Some(a),
        Broadcast::Plus => Some(Ipv4Addr::from(u32::from(v4) | host_mask)),
        Broadcast::Minus => Some(Ipv4Addr::from(u32::from(v4) & !host_mask)),
    }
}

/// One `virtual_ipaddress` line as an [`AddressSpec`] with keepalived's defaults.
pub fn address_spec(addr: &IpAddress, ifindex: u32) -> AddressSpec {
    let mut spec = AddressSpec::new(ifindex, addr.addr, addr.prefix_len);
    spec.broadcast = broadcast(addr);
    spec.scope = addr.scope;
    spec.label = addr.label.clone();
    spec.peer = addr.peer;
    spec.home = addr.home;
    spec.noprefixroute = addr.noprefixroute;
    spec.mngtmpaddr = addr.mngtmpaddr;
    if addr.addr.is_ipv6() {
        // keepalived: IPv6 VIPs get IFA_F_NODAD unless `-nodad` (the model's
        // `nodad`) opts out.
        spec.nodad = !addr.nodad;
    }
    if let Some(lft) = addr.preferred_lft {
        spec.preferred_lft = lft;
    }
    spec
}

/// Resolved interfaces of an instance: configured, transmit (maybe a VMAC) and the
/// default interface of its VIPs.
pub struct InstanceLinks {
    pub interface: IfRef,
    pub xmit: IfRef,
    pub vip_default: IfRef,
    pub vip_default_mac: Option<MacAddr>,
}

/// Builds the instance data (everything but the router and the pool index).
pub fn build(
    inst: &VrrpInstance,
    config: &Config,
    links: &InstanceLinks,
    interfaces: &dyn Interfaces,
) -> Result<Instance, RunError> {
    let name = inst.name.clone();
    let family = match inst.family {
        Some(config::model::vrrp::Family::V6) => Family::Ipv6,
        _ => Family::Ipv4,
    };
    let version = version_of(inst);
    let vrid = inst.vrid.ok_or_else(|| RunError::Instance {
        name: name.clone(),
        reason: "no virtual_router_id".into(),
    })?;
    // keepalived VRRP_PKT_SADDR: the configured source, else the configured
    // interface's primary address (IPv6: its link-local address).
    // Without one (yet: DHCP, IPv6 DAD at boot) a multicast instance waits in FAULT
    // for an address to appear, as keepalived does ("src address not configured").
    let found = inst
        .source_ip
        .or_else(|| interfaces.primary(links.interface.index, family))
        .or_else(|| interfaces.primary(links.xmit.index, family));
    let awaiting_source = found.is_none();
    if awaiting_source && inst.unicast {
        return Err(RunError::Instance {
            name,
            reason: format!("interface {} has no address to send from", links.xmit.name),
        });
    }
    let source = found.unwrap_or(match family {
        Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let group = if inst.unicast {
        None
    } else {
        Some(inst.mcast_dst_ip.unwrap_or(match family {
            Family::Ipv4 => IpAddr::V4(config.global.vrrp_mcast_group4),
            Family::Ipv6 => IpAddr::V6(config.global.vrrp_mcast_group6),
        }))
    };
    let unicast_peers = inst
        .unicast_peers
        .iter()
        .map(|p| UnicastPeer {
            address: p.addr,
            min_ttl: p.min_ttl,
            max_ttl: p.max_ttl,
        })
        .collect();
    let mut addresses = Vec::with_capacity(inst.vips.len() + inst.evips.len());
    for addr in inst.vips.iter().chain(&inst.evips) {
        let (ifref, mac) = match &addr.dev {
            Some(dev) => interfaces.by_name(dev).ok_or_else(|| RunError::Instance {
                name: name.clone(),
                reason: format!("interface {dev} of {} does not exist", addr.addr),
            })?,
            None => (links.vip_default.clone(), links.vip_default_mac),
        };
        addresses.push(Vip {
            spec: address_spec(addr, ifref.index),
            ifname: ifref.name.clone(),
            mac: mac.unwrap_or_default(),
            no_track: addr.no_track,
        });
    }
    Ok(Instance {
        name,
        family,
        version,
        vrid,
        auth: auth_of(inst),
        interval_cs: interval_cs(inst),
        interface: links.interface.clone(),
        xmit: links.xmit.clone(),
        source,
        source_configured: inst.source_ip.is_some(),
        group,
        unicast_peers,
        unicast_ttl: inst.unicast_ttl,
        check_unicast_src: inst.check_unicast_src || config.global.vrrp_check_unicast_src,
        skip_check_adv_addr: inst
            .skip_check_adv_addr
            .unwrap_or(config.global.vrrp_skip_check_adv_addr),
        advertised: inst.vips.iter().map(|v| v.addr).collect(),
        addresses,
        wire: WireState::default(),
        rx_stats: vrrp::packet::Stats::default(),
        reject_log: super::rxguard::LogLimiter::default(),
        rx_buf_share: None,
        pool: 0,
        notify: (inst.notify != config::model::vrrp::Notify::default())
            .then(|| Box::new(inst.notify.clone())),
        tracked: None,
        routes_and_rules: None,
        awaiting_source,
        history: super::snapshot::History::default(),
        vmac: inst.vmac.is_some(),
        reported: super::snapshot::Reported::of(inst),
    })
}

/// The multicast group as the socket layer wants it.
pub fn group_v4(group: Option<IpAddr>) -> Ipv4Addr {
    match group {
        Some(IpAddr::V4(g)) => g,
        _ => vrrp::packet::VRRP_MCAST_GROUP4,
    }
}

pub fn group_v6(group: Option<IpAddr>) -> Ipv6Addr {
    match group {
        Some(IpAddr::V6(g)) => g,
        _ => vrrp::packet::VRRP_MCAST_GROUP6,
    }
}

/// Adds the trackers of one kind of `track_*` reference to an instance's: its own
/// references, then its sync group's (keepalived `sync_group_tracking_init()`), each
/// tracked object once. `resolve` gives a reference's tracker id, current status and
/// the key the instance records it by, or `None` to skip it (unknown object).
/// Returns the keys of the trackers added.
pub fn add_trackers<K>(
    trackers: &mut Vec<TrackerConfig>,
    own: &[TrackRef],
    group: &[TrackRef],
    mut resolve: impl FnMut(&TrackRef) -> Option<(TrackerId, TrackerStatus, K)>,
) -> Vec<K> {
    let mut keys = Vec::new();
    for tracked in own.iter().chain(group) {
        let Some((id, initial, key)) = resolve(tracked) else {
            continue;
        };
        if trackers.iter().any(|t| t.id == id) {
            continue;
        }
        trackers.push(TrackerConfig {
            id,
            weight: tracked.weight,
            reverse: tracked.reverse,
            initial,
        });
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(text: &str, prefix: u8, brd: Option<Broadcast>) -> IpAddress {
        IpAddress {
            addr: text.parse().expect("literal"),
            prefix_len: prefix,
            broadcast: brd,
            dev: None,
            scope: 0,
            label: None,
            peer: None,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            preferred_lft: None,
            track_group: None,
            use_vmac: false,
            span: None,
        }
    }

    #[test]
    fn broadcast_plus_and_minus_follow_the_prefix() {
        let spec = address_spec(&vip("192.0.2.100", 24, Some(Broadcast::Plus)), 2);
        assert_eq!(spec.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
        let spec = address_spec(&vip("192.0.2.100", 24, Some(Broadcast::Minus)), 2);
        assert_eq!(spec.broadcast, Some(Ipv4Addr::new(192, 0, 2, 0)));
        let spec = address_spec(&vip("192.0.2.100", 32, Some(Broadcast::Plus)), 2);
        assert_eq!(spec.broadcast, Some(Ipv4Addr::new(192, 0, 2, 100)));
        let spec = address_spec(&vip("192.0.2.100", 24, None), 2);
        assert_eq!(spec.broadcast, None);
    }

    #[test]
    fn ipv6_vip_gets_nodad_and_deprecated_for_a_host_route() {
        let spec = address_spec(&vip("2001:db8::100", 128, None), 2);
        assert!(spec.nodad);
        assert_eq!(spec.preferred_lft, 0);
        let spec = address_spec(&vip("2001:db8::100", 64, None), 2);
        assert_eq!(spec.preferred_lft, linux::addr::INFINITY_LIFE_TIME);
    }

    #[test]
    fn password_is_zero_padded() {
        let inst = VrrpInstance {
            auth_type: Some(AuthType::Pass),
            auth_pass: Some("secret".into()),
            ..VrrpInstance::default()
        };
        assert_eq!(auth_of(&inst), Auth::Pass(*b"secret\0\0"));
    }
}
