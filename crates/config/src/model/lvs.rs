//! Typed model: LVS: virtual servers, groups, real servers, checkers, SSL.
//!
//! Durations are in microseconds (keepalived's TIMER_HZ units) and named `*_us`.
//!
//! Inheritance (keepalived check_data.c `validate_check_config()`): fields that are
//! `Option` on a real server or a checker are `None` when not written in the
//! configuration; after validation the inheritable ones (see each field) are filled
//! from the virtual server / real server, so consumers of a validated configuration
//! can rely on them being `Some`.

use std::net::IpAddr;

pub use crate::script::Script;
use crate::span::Span;

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LvsConfig {
    /// The root `SSL { }` block (used by SSL_GET checkers).
    pub ssl: Option<SslConfig>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
    /// Whether any `virtual_server` keyword was seen (keepalived's
    /// `have_checker_config`: decides whether the checker process is started).
    pub have_checker_config: bool,
    /// Parse-time facts that need the host to judge (users), settled by validation.
    pub(crate) pending: PendingChecks,
}

/// What keepalived decides while parsing with host lookups (script users), which we
/// can only decide at validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PendingChecks {
    /// A second notify/quorum script for a slot: an error ("already specified") only
    /// when the first one could be created (its user resolved); otherwise it takes
    /// the slot. `(virtual server index, real server index, slot, script)`.
    pub(crate) duplicate_scripts: Vec<(usize, Option<usize>, ScriptSlot, Script)>,
    /// MISC_CHECK blocks with `user` but no `misc_path`: keepalived reports the user
    /// when it cannot be set, else the missing path. `(user, group, user line, block end)`.
    pub(crate) pathless_misc: Vec<(String, Option<String>, Span, Option<Span>)>,
    /// MISC_CHECK scripts of real servers removed while parsing: keepalived had already
    /// resolved (and reported) their users.
    pub(crate) orphan_misc_scripts: Vec<Script>,
}

/// Which notify/quorum script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScriptSlot {
    QuorumUp,
    QuorumDown,
    NotifyUp,
    NotifyDown,
}

/// `SSL { password, ca, certificate, key }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SslConfig {
    pub password: Option<String>,
    pub ca_file: Option<String>,
    pub certificate_file: Option<String>,
    pub key_file: Option<String>,
}

/// IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServerGroup {
    pub name: String,
    /// Address ranges (`IP[-END|/MASK] [PORT]`), in order.
    pub ranges: Vec<VsgRange>,
    /// `fwmark N [inet|inet6]` entries, in order.
    pub fwmarks: Vec<VsgFwmark>,
    pub span: Span,
}

impl VirtualServerGroup {
    pub fn has_ipv4(&self) -> bool {
        self.ranges
            .iter()
            .any(|r| Family::of(&r.start) == Family::Inet)
            || self.fwmarks.iter().any(|f| f.family == Some(Family::Inet))
    }
    pub fn has_ipv6(&self) -> bool {
        self.ranges
            .iter()
            .any(|r| Family::of(&r.start) == Family::Inet6)
            || self.fwmarks.iter().any(|f| f.family == Some(Family::Inet6))
    }
    pub fn has_fwmark_without_family(&self) -> bool {
        self.fwmarks.iter().any(|f| f.family.is_none())
    }
}

/// An address (range) entry of a virtual server group. `start == end` for a single address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsgRange {
    pub start: IpAddr,
    pub end: IpAddr,
    /// 0 = no port.
    pub port: u16,
}

/// A fwmark entry of a virtual server group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsgFwmark {
    pub mark: u32,
    pub family: Option<Family>,
}

/// How a virtual server is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsAddress {
    /// `virtual_server IP [PORT]`; port 0 = none.
    Ip { addr: IpAddr, port: u16 },
    /// `virtual_server fwmark N`.
    Fwmark { mark: u32 },
    /// `virtual_server group NAME`.
    Group(String),
}

/// Service protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// IPVS forwarding method (`lvs_method` / deprecated `lb_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingMethod {
    Nat,
    DirectRouting,
    Tunnel,
}

/// IPVS tunnel encapsulation (`lvs_method TUN type ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
}

/// Tunnel checksum option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TunnelChecksum {
    #[default]
    NoCsum,
    Csum,
    RemCsum,
}

/// Forwarding method with its tunnel options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarding {
    pub method: ForwardingMethod,
    pub tunnel_type: TunnelType,
    /// GUE tunnel port (0 unless `type gue`).
    pub tunnel_port: u16,
    pub tunnel_checksum: TunnelChecksum,
}

impl Forwarding {
    pub fn plain(method: ForwardingMethod) -> Forwarding {
        Forwarding {
            method,
            tunnel_type: TunnelType::Ipip,
            tunnel_port: 0,
            tunnel_checksum: TunnelChecksum::NoCsum,
        }
    }
}

/// Scheduler flags (`ops`, `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedulerFlags {
    pub one_packet: bool,
    pub flag1: bool,
    pub flag2: bool,
    pub flag3: bool,
    pub sh_port: bool,
    pub sh_fallback: bool,
    pub mh_port: bool,
    pub mh_fallback: bool,
}

/// Persistence settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Persistence {
    /// Seconds; 0 = not persistent.
    pub timeout: u32,
    /// IPv4 netmask or IPv6 prefix length.
    pub granularity: Option<Granularity>,
    pub engine: Option<String>,
}

/// `persistence_granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    V4Mask(std::net::Ipv4Addr),
    V6Prefix(u8),
}

/// keepalived's IPVS_SVC_PERSISTENT_TIMEOUT (seconds).
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 6 * 60;
/// keepalived's KEEPALIVED_DEFAULT_DELAY (µs).
pub const DEFAULT_DELAY_LOOP_US: u64 = 60_000_000;
/// Default virtual server connect timeout (µs).
pub const DEFAULT_CONNECT_TIMEOUT_US: u64 = 5_000_000;
/// keepalived's IPVS_DEF_SCHED.
pub const DEFAULT_SCHEDULER: &str = "wlc";
/// keepalived's IPVS_WEIGHT_LIMIT (INT32_MAX).
pub const WEIGHT_LIMIT: u32 = i32::MAX as u32;

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    pub address: VsAddress,
    /// Address family: from the address, `ip_family`, the group or the servers.
    pub family: Option<Family>,
    /// `None` until validated (then defaults to UDP with a warning for address services,
    /// and stays `None` for fwmark services, where IPVS ignores it).
    pub protocol: Option<Protocol>,
    /// `lvs_sched` / `lb_algo`; defaults to `wlc` (with a warning) in validation.
    pub scheduler: Option<String>,
    pub scheduler_flags: SchedulerFlags,
    /// `lvs_method` / `lb_kind`; defaults to NAT (with a warning) in validation when a
    /// real or sorry server needs it.
    pub forwarding: Option<Forwarding>,
    pub persistence: Persistence,
    /// `quorum` (default 1; reduced to the total real-server weight in validation).
    pub quorum: u32,
    pub hysteresis: u32,
    pub alpha: bool,
    pub omega: bool,
    pub ha_suspend: bool,
    /// `inhibit_on_failure` (default for the real servers).
    pub inhibit_on_failure: bool,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    /// `smtp_alert`; resolved from global_defs in validation.
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub snmp_name: Option<String>,
    /// `weight` (default real-server weight, 1).
    pub weight: u32,
    /// Defaults for the real servers and their checkers.
    pub connect_timeout_us: u64,
    pub delay_loop_us: u64,
    pub delay_before_retry_us: Option<u64>,
    pub warmup_us: Option<u64>,
    pub retry: Option<u32>,
    pub sorry_server: Option<SorryServer>,
    pub real_servers: Vec<RealServer>,
    pub span: Span,
}

impl VirtualServer {
    pub fn new(address: VsAddress, span: Span) -> VirtualServer {
        let family = match &address {
            VsAddress::Ip { addr, .. } => Some(Family::of(addr)),
            _ => None,
        };
        VirtualServer {
            address,
            family,
            protocol: None,
            scheduler: None,
            scheduler_flags: SchedulerFlags::default(),
            forwarding: None,
            persistence: Persistence::default(),
            quorum: 1,
            hysteresis: 0,
            alpha: false,
            omega: false,
            ha_suspend: false,
            inhibit_on_failure: false,
            quorum_up: None,
            quorum_down: None,
            smtp_alert: None,
            virtualhost: None,
            snmp_name: None,
            weight: 1,
            connect_timeout_us: DEFAULT_CONNECT_TIMEOUT_US,
            delay_loop_us: DEFAULT_DELAY_LOOP_US,
            delay_before_retry_us: None,
            warmup_us: None,
            retry: None,
            sorry_server: None,
            real_servers: Vec::new(),
            span,
        }
    }

    /// keepalived's FMT_VS, for messages.
    pub fn describe(&self) -> String {
        let proto = match self.protocol {
            Some(Protocol::Tcp) => "tcp",
            Some(Protocol::Udp) => "udp",
            Some(Protocol::Sctp) => "sctp",
            None => "none",
        };
        match &self.address {
            VsAddress::Ip { addr, port } => format!("[{addr}]:{proto}:{port}"),
            VsAddress::Fwmark { mark } => format!("FWM {mark}"),
            VsAddress::Group(name) => format!("[{name}]"),
        }
    }

    /// Whether the service is identified by firewall mark (directly or only by a group's fwmarks).
    pub fn is_fwmark(&self) -> bool {
        matches!(self.address, VsAddress::Fwmark { .. })
    }
}

/// `sorry_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServer {
    pub addr: IpAddr,
    /// 0 = take the virtual server's (resolved in validation unless NAT/fwmark).
    pub port: u16,
    /// `sorry_server_lvs_method`, else the virtual server's (resolved in validation).
    pub forwarding: Option<Forwarding>,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    pub addr: IpAddr,
    /// 0 = none (validation copies the virtual server's port where keepalived does).
    pub port: u16,
    /// `weight`; inherits the virtual server's `weight` in validation.
    pub weight: Option<u32>,
    /// `lvs_method`; inherits the virtual server's in validation.
    pub forwarding: Option<Forwarding>,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    /// Inherits the virtual server's `inhibit_on_failure` in validation.
    pub inhibit_on_failure: Option<bool>,
    /// Inherits the virtual server's `alpha` in validation.
    pub alpha: Option<bool>,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    /// Inherit from the virtual server in validation.
    pub retry: Option<u32>,
    pub delay_before_retry_us: Option<u64>,
    pub warmup_us: Option<u64>,
    pub connect_timeout_us: Option<u64>,
    pub delay_loop_us: Option<u64>,
    /// `smtp_alert`; resolved from global_defs in validation (default on).
    pub smtp_alert: Option<bool>,
    pub virtualhost: Option<String>,
    pub snmp_name: Option<String>,
    pub checkers: Vec<Checker>,
    pub span: Span,
}

impl RealServer {
    pub fn new(addr: IpAddr, port: u16, forwarding: Option<Forwarding>, span: Span) -> Self {
        RealServer {
            addr,
            port,
            weight: None,
            forwarding,
            upper_threshold: 0,
            lower_threshold: 0,
            inhibit_on_failure: None,
            alpha: None,
            notify_up: None,
            notify_down: None,
            retry: None,
            delay_before_retry_us: None,
            warmup_us: None,
            connect_timeout_us: None,
            delay_loop_us: None,
            smtp_alert: None,
            virtualhost: None,
            snmp_name: None,
            checkers: Vec::new(),
            span,
        }
    }

    /// keepalived's FMT_RS, for messages.
    pub fn describe(&self) -> String {
        format!("[{}]:{}", self.addr, self.port)
    }
}

/// Settings every checker has (check_api.c `install_checker_common_keywords`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckerCommon {
    /// `connect_ip` (default: the real server's address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (default: the real server's port).
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// Inherits real server → virtual server in validation.
    pub connect_timeout_us: Option<u64>,
    /// `fwmark` put on the checker's packets (SO_MARK).
    pub fwmark: Option<u32>,
    /// Inherit real server → checker default in validation.
    pub retry: Option<u32>,
    pub delay_before_retry_us: Option<u64>,
    pub warmup_us: Option<u64>,
    pub delay_loop_us: Option<u64>,
    pub alpha: Option<bool>,
    pub log_all_failures: bool,
}

/// One health checker of a real server.
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    pub common: CheckerCommon,
    pub kind: CheckerKind,
    pub span: Span,
}

/// HTTP version sent by HTTP_GET/SSL_GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    #[default]
    Http10,
    Http11,
    /// `1.0C`: 1.0 with `Connection: close`.
    Http10Close,
}

/// A `url { }` of HTTP_GET/SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Url {
    pub path: String,
    /// MD5 digest (16 bytes).
    pub digest: Option<[u8; 16]>,
    /// Accepted status codes as inclusive ranges (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub regex_options: Vec<String>,
    pub regex_min_offset: Option<u64>,
    pub regex_max_offset: Option<u64>,
    pub regex_stack: Option<(u64, u64)>,
}

/// The kind-specific part of a checker.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckerKind {
    Http {
        /// `SSL_GET` rather than `HTTP_GET`.
        ssl: bool,
        urls: Vec<Url>,
        protocol: HttpProtocol,
        virtualhost: Option<String>,
        enable_sni: bool,
        fast_recovery: bool,
    },
    Tcp,
    Smtp {
        /// Default `localhost` (keepalived's SMTP_DEFAULT_HELO) after validation.
        helo_name: Option<String>,
        /// Deprecated `host { }` sub-blocks: each becomes an additional checker.
        hosts: Vec<CheckerCommon>,
    },
    Dns {
        /// Query type (default SOA).
        query_type: String,
        /// Query name (default "").
        name: String,
    },
    Misc {
        /// `misc_path` with `user USER [GROUP]` (or the default script user).
        script: Script,
        /// `misc_timeout` in seconds (0 = the virtual server's delay_loop).
        timeout_secs: u32,
        dynamic: bool,
    },
    Udp {
        payload: Option<Vec<u8>>,
        require_reply: bool,
        /// Expected reply as (value, mask) bytes: mask bits set are wildcards (`x`).
        reply: Option<Vec<(u8, u8)>>,
        min_reply_length: u16,
        max_reply_length: u16,
    },
    Ping,
    File {
        track_file: String,
        /// `None` = the track_file's own weight.
        weight: Option<i32>,
        reverse: bool,
    },
    Bfd {
        name: String,
    },
}

impl CheckerKind {
    /// The keyword that configures this kind.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::Http { ssl: false, .. } => "HTTP_GET",
            CheckerKind::Http { ssl: true, .. } => "SSL_GET",
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Smtp { .. } => "SMTP_CHECK",
            CheckerKind::Dns { .. } => "DNS_CHECK",
            CheckerKind::Misc { .. } => "MISC_CHECK",
            CheckerKind::Udp { .. } => "UDP_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::File { .. } => "FILE_CHECK",
            CheckerKind::Bfd { .. } => "BFD_CHECK",
        }
    }

    /// keepalived's per-kind default retry count (`default_retry`).
    pub fn default_retry(&self) -> u32 {
        match self {
            CheckerKind::Misc { .. } => 0,
            CheckerKind::Dns { .. } => 3,
            _ => 1,
        }
    }

    /// keepalived's per-kind default delay_before_retry (µs); `None` = the delay_loop.
    pub fn default_delay_before_retry_us(&self) -> Option<u64> {
        match self {
            CheckerKind::Http { .. } => Some(3_000_000),
            CheckerKind::Dns { .. } => None,
            _ => Some(1_000_000),
        }
    }
}
