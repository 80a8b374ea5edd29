//! Typed model: VRRP: instances, sync groups, trackers, static addresses/routes/rules.
//!
//! Values that keepalived leaves "unset" until the whole configuration is read (and then
//! derives from other settings or from `global_defs`) are `Option`s here; validation
//! fills them in the way `vrrp_complete_instance()` does.

use std::net::IpAddr;

pub use crate::script::Script;
use crate::span::Span;

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpConfig {
    /// `static_ipaddress { }`.
    pub static_addresses: Vec<IpAddress>,
    /// `static_routes { }`.
    pub static_routes: Vec<Route>,
    /// `static_rules { }`.
    pub static_rules: Vec<Rule>,
    /// `track_group NAME { group { ... } }`.
    pub static_track_groups: Vec<StaticTrackGroup>,
    /// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`.
    pub linkbeat_interfaces: Vec<LinkbeatInterface>,
    /// `interface_up_down_delays { IF DOWN [UP] }`.
    pub up_down_delays: Vec<InterfaceDelays>,
    /// `track_file NAME { }` (also `vrrp_track_file`); shared with the checker.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process NAME { }`.
    pub track_processes: Vec<TrackProcess>,
    /// `vrrp_script NAME { }`.
    pub scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group NAME { }`.
    pub sync_groups: Vec<SyncGroup>,
    /// `garp_group { }`.
    pub garp_groups: Vec<GarpGroup>,
    /// `vrrp_instance NAME { }`.
    pub instances: Vec<VrrpInstance>,
}

/// Address family of an instance or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// How a `brd` was given for an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// An explicit address.
    Addr(std::net::Ipv4Addr),
    /// `brd +`: all host bits set.
    Plus,
    /// `brd -`: all host bits clear.
    Minus,
}

/// One address line (`virtual_ipaddress`, `virtual_ipaddress_excluded`, `static_ipaddress`).
#[derive(Debug, Clone, PartialEq)]
pub struct IpAddress {
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub broadcast: Option<Broadcast>,
    /// `dev IF` (`None`: the instance's interface, or the default one for static addresses).
    pub dev: Option<String>,
    /// `scope` value (0 = global).
    pub scope: u8,
    pub label: Option<String>,
    pub peer: Option<IpAddr>,
    pub home: bool,
    pub nodad: bool,
    pub mngtmpaddr: bool,
    pub noprefixroute: bool,
    pub autojoin: bool,
    pub no_track: bool,
    /// `preferred_lft` (`u32::MAX` = forever); IPv6 default depends on the prefix.
    pub preferred_lft: Option<u32>,
    /// `track_group NAME` (static addresses only).
    pub track_group: Option<String>,
    /// `use_vmac` (VIPs only).
    pub use_vmac: bool,
    pub span: Option<Span>,
}

/// One route line; the words are kept with the fields validation needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Route {
    /// The destination (`None` for `default` without a family).
    pub dst: Option<IpAddr>,
    pub dst_prefix: u8,
    pub family: Option<Family>,
    /// Route type word (`blackhole`, `unreachable`, ...), if given.
    pub route_type: Option<String>,
    pub via: Option<IpAddr>,
    pub src: Option<IpAddr>,
    pub dev: Option<String>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub no_track: bool,
    pub track_group: Option<String>,
    /// All words as written, for consumers that need options we do not model.
    pub words: Vec<String>,
    pub span: Option<Span>,
}

/// One rule line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    pub family: Option<Family>,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub priority: Option<u32>,
    pub table: Option<u32>,
    pub fwmark: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub no_track: bool,
    pub track_group: Option<String>,
    pub words: Vec<String>,
    pub span: Option<Span>,
}

/// `track_group NAME { group { INSTANCE... } }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StaticTrackGroup {
    pub name: String,
    pub instances: Option<Vec<String>>,
    pub span: Option<Span>,
}

/// Polling method for `linkbeat_interfaces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkbeatType {
    Default,
    Mii,
    Ethtool,
    Ioctl,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkbeatInterface {
    pub interface: String,
    pub kind: LinkbeatType,
    pub span: Option<Span>,
}

/// `interface_up_down_delays` entry (µs).
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceDelays {
    pub interface: String,
    pub down_us: u64,
    pub up_us: u64,
    pub span: Option<Span>,
}

/// `track_file NAME { file PATH; weight W [reverse]; init_file [V] [overwrite] }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFile {
    pub name: String,
    pub path: Option<String>,
    pub weight: i32,
    pub reverse: bool,
    /// `init_file`: `Some((value, overwrite))`.
    pub init: Option<(i32, bool)>,
    pub span: Option<Span>,
}

/// How a tracked process's parameters are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamMatch {
    None,
    Exact,
    Initial,
    Partial,
}

/// `vrrp_track_process NAME { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackProcess {
    pub name: String,
    pub process: Option<String>,
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    pub weight: i32,
    pub reverse: bool,
    pub quorum: u32,
    pub quorum_max: u32,
    pub terminate_delay_us: u64,
    pub fork_delay_us: u64,
    pub full_command: bool,
    pub span: Option<Span>,
}

/// `vrrp_script NAME { }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    pub name: String,
    pub script: Option<Script>,
    /// Seconds.
    pub interval: u32,
    /// Seconds.
    pub timeout: u32,
    pub weight: i32,
    pub reverse: bool,
    pub rise: u32,
    pub fall: u32,
    /// `user USER [GROUP]`, where given.
    pub user: Option<(String, Option<String>, Span)>,
    pub init_fail: bool,
    pub span: Option<Span>,
    /// Set while loading for a script keepalived drops when its block closes (no
    /// command); its `user` is still checked. Never set after validation.
    pub discarded: bool,
}

impl VrrpScript {
    /// keepalived's alloc_vrrp_script() defaults.
    pub fn new(name: &str, span: Option<Span>) -> Self {
        VrrpScript {
            name: name.to_string(),
            script: None,
            interval: 1,
            timeout: 0,
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
            span,
            discarded: false,
        }
    }
}

/// A weighted reference to a tracked object (`track_script`, `track_file`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRef {
    pub name: String,
    /// `None`: the object's own weight.
    pub weight: i32,
    pub reverse: bool,
    pub span: Option<Span>,
}

/// `vrrp_sync_group NAME { }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncGroup {
    pub name: String,
    pub members: Option<Vec<String>>,
    pub group_span: Option<Span>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub track_processes: Vec<TrackRef>,
    pub track_bfds: Vec<TrackRef>,
    pub notify: Notify,
    pub smtp_alert: Option<bool>,
    pub tracking_weight: bool,
    pub notify_priority_changes: Option<bool>,
    pub span: Option<Span>,
}

/// The notify scripts of an instance or sync group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Notify {
    pub backup: Option<Box<Script>>,
    pub master: Option<Box<Script>>,
    pub fault: Option<Box<Script>>,
    pub stop: Option<Box<Script>>,
    pub deleted: Option<Box<Script>>,
    /// `notify_deleted` given (with or without a script).
    pub notify_deleted: bool,
    pub notify: Option<Box<Script>>,
    pub master_rx_lower_pri: Option<Box<Script>>,
}

/// `garp_group { garp_interval; gna_interval; interface; interfaces { } }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GarpGroup {
    pub garp_interval_us: Option<u64>,
    pub gna_interval_us: Option<u64>,
    pub interfaces: Vec<(String, Option<Span>)>,
    pub span: Option<Span>,
    /// Set while loading for a group keepalived discards when its block closes (no
    /// interval): its interfaces were still looked up. Never set after validation.
    pub discarded: bool,
}

/// Initial state wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// `authentication { auth_type }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    Pass,
    Ah,
}

/// A unicast peer with its accepted TTL range.
#[derive(Debug, Clone, PartialEq)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: u8,
    pub max_ttl: u8,
    pub span: Option<Span>,
}

/// `use_vmac [NAME] [MAC]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vmac {
    pub ifname: Option<String>,
    /// Where the name was given (an existing interface of that name is refused).
    pub ifname_span: Option<Span>,
    pub mac: Option<[u8; 6]>,
    /// Only 5 octets given: the last is the VRID.
    pub mac_uses_vrid: bool,
}

/// `use_ipvlan [NAME] [ADDR] [bridge|private|vepa]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ipvlan {
    pub ifname: Option<String>,
    /// Where the name was given (an existing interface of that name is refused).
    pub ifname_span: Option<Span>,
    pub addr: Option<(IpAddr, u8)>,
    pub mode: Option<String>,
}

/// `old_unicast_checksum [never]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumCompat {
    Config,
    Never,
}

/// `vrrp_instance NAME { }`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VrrpInstance {
    pub name: String,
    pub span: Option<Span>,
    /// The line that closed the block (keepalived's end-of-block checks report there).
    pub end_span: Option<Span>,
    pub interface: Option<String>,
    pub interface_span: Option<Span>,
    /// Every `interface` line, in order: keepalived looks each one up as it is read
    /// (and complains about each missing one); the last one decides.
    pub interface_lines: Vec<(String, Option<Span>)>,
    pub vrf: Option<String>,
    pub vrf_span: Option<Span>,
    pub family: Option<Family>,
    /// 2 or 3; `None` until given or derived.
    pub version: Option<u8>,
    pub initial_state: Option<InitialState>,
    pub vrid: Option<u8>,
    /// 0 = not given (derived from the state).
    pub priority: u8,
    /// Advertisement interval in µs (0 = not given: 1 s).
    pub advert_int_us: u64,
    pub unicast_ttl: Option<u8>,
    pub source_ip: Option<IpAddr>,
    pub source_from_config: bool,
    pub mcast_dst_ip: Option<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    pub unicast_configured: bool,
    /// Set by validation: unicast peers are really used.
    pub unicast: bool,
    pub unicast_fault_no_peer: bool,
    pub check_unicast_src: bool,
    pub old_unicast_checksum: Option<ChecksumCompat>,
    pub dont_track_primary: bool,
    pub track_src_ip: bool,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub track_processes: Vec<TrackRef>,
    pub track_bfds: Vec<TrackRef>,
    pub vips: Vec<IpAddress>,
    pub evips: Vec<IpAddress>,
    pub vroutes: Vec<Route>,
    pub vrules: Vec<Rule>,
    pub promote_secondaries: bool,
    pub linkbeat_use_polling: bool,
    /// `accept`/`no_accept`; `None` until derived.
    pub accept: Option<bool>,
    pub skip_check_adv_addr: Option<bool>,
    pub strict_mode: Option<bool>,
    pub nopreempt: bool,
    pub preempt_delay_us: u64,
    pub debug: u32,
    pub notify: Notify,
    pub smtp_alert: Option<bool>,
    pub notify_priority_changes: Option<bool>,
    /// Seconds.
    pub garp_master_delay: Option<u32>,
    /// Seconds.
    pub garp_master_refresh: Option<u32>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh_repeat: Option<u32>,
    /// Seconds.
    pub garp_lower_prio_delay: Option<u32>,
    pub garp_lower_prio_repeat: Option<u32>,
    pub down_timer_adverts: Option<u32>,
    /// `garp_extra_if [all] SECS`.
    pub garp_extra_if: Option<u32>,
    pub garp_extra_if_all: bool,
    pub lower_prio_no_advert: Option<bool>,
    pub higher_prio_send_advert: Option<bool>,
    pub kernel_rx_buf_size: Option<u32>,
    pub auth_type: Option<AuthType>,
    /// Up to 8 bytes.
    pub auth_pass: Option<String>,
    pub vmac: Option<Vmac>,
    pub vmac_addr: bool,
    pub vmac_xmit_base: bool,
    pub ipvlan: Option<Ipvlan>,
    pub lvs_sync_daemon_interface: Option<String>,
    /// The sync group this instance belongs to (set by validation).
    pub sync_group: Option<String>,
}
