//! The typed model of IPVS objects: virtual services, real servers
//! (destinations), sync daemons, timeouts and statistics.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Address family of a service or destination (`AF_INET` / `AF_INET6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    Inet,
    Inet6,
}

impl AddressFamily {
    pub const fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }

    pub(crate) const fn to_raw(self) -> u16 {
        match self {
            AddressFamily::Inet => 2,   // AF_INET
            AddressFamily::Inet6 => 10, // AF_INET6
        }
    }

    pub(crate) const fn from_raw(raw: u16) -> Option<Self> {
        match raw {
            2 => Some(AddressFamily::Inet),
            10 => Some(AddressFamily::Inet6),
            _ => None,
        }
    }
}

/// Transport protocol of an address-based virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub(crate) const fn to_raw(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    pub(crate) const fn from_raw(raw: u16) -> Option<Self> {
        match raw {
            6 => Some(Protocol::Tcp),
            17 => Some(Protocol::Udp),
            132 => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// What identifies a virtual service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// protocol + virtual address + port; the family is the address's.
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    /// firewall mark (`-f`), per address family.
    Fwmark { family: AddressFamily, mark: u32 },
}

impl ServiceKey {
    pub fn family(&self) -> AddressFamily {
        match self {
            ServiceKey::Addr { addr, .. } => AddressFamily::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

/// Formats like `ipvsadm -Ln`: `TCP 10.0.0.1:80`, `UDP [2001:db8::1]:53`, `FWM 42 IPv6`.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => write!(f, "{protocol} {}", SocketDisplay(*addr, *port)),
            ServiceKey::Fwmark {
                family: AddressFamily::Inet,
                mark,
            } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark {
                family: AddressFamily::Inet6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

struct SocketDisplay(IpAddr, u16);

impl fmt::Display for SocketDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(addr) => write!(f, "{addr}:{}", self.1),
            IpAddr::V6(addr) => write!(f, "[{addr}]:{}", self.1),
        }
    }
}

/// The scheduler names Debian's kernels and ipvsadm know (`ip_vs_<name>`
/// modules). `twos` needs Linux 6.2 or later.
pub const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos",
];

/// The kernel's limit for scheduler names (`IP_VS_SCHEDNAME_MAXLEN`, incl. NUL).
pub const SCHED_NAME_MAX_LEN: usize = 16;
/// The kernel's limit for persistence engine names (`IP_VS_PENAME_MAXLEN`, incl. NUL).
pub const PE_NAME_MAX_LEN: usize = 16;
/// The kernel's limit for the sync daemon interface (`IP_VS_IFNAME_MAXLEN`, incl. NUL).
pub const IFNAME_MAX_LEN: usize = 16;

/// Virtual service flags (`IP_VS_SVC_F_*`). The scheduler flags mean
/// different things per scheduler, hence the aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    pub const NONE: Self = Self(0);
    pub const PERSISTENT: Self = Self(0x0001);
    /// Set by the kernel on every service in its table; GET returns it.
    pub const HASHED: Self = Self(0x0002);
    pub const ONE_PACKET: Self = Self(0x0004);
    pub const SCHED1: Self = Self(0x0008);
    pub const SCHED2: Self = Self(0x0010);
    pub const SCHED3: Self = Self(0x0020);
    pub const SH_FALLBACK: Self = Self::SCHED1;
    pub const SH_PORT: Self = Self::SCHED2;
    pub const MH_FALLBACK: Self = Self::SCHED1;
    pub const MH_PORT: Self = Self::SCHED2;

    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

impl std::ops::BitOr for ServiceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

/// Persistence granularity: an IPv4 mask, or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Netmask {
    V4(Ipv4Addr),
    V6Prefix(u8),
}

impl Netmask {
    /// What ipvsadm sends when `-M` is not given: a host mask.
    pub const fn default_for(family: AddressFamily) -> Self {
        match family {
            AddressFamily::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            AddressFamily::Inet6 => Netmask::V6Prefix(128),
        }
    }
}

/// A virtual service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub key: ServiceKey,
    /// Scheduler module name without the `ip_vs_` prefix, e.g. `"wlc"`.
    pub scheduler: String,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    pub netmask: Netmask,
    /// Persistence engine, e.g. `"sip"`.
    pub pe_name: Option<String>,
    /// Counters; filled on GET, ignored when sending.
    pub stats: Option<Stats>,
}

impl Service {
    /// A service with ipvsadm's defaults: no flags, no persistence, host netmask.
    pub fn new(key: ServiceKey, scheduler: impl Into<String>) -> Self {
        Service {
            key,
            scheduler: scheduler.into(),
            flags: ServiceFlags::NONE,
            timeout: 0,
            netmask: Netmask::default_for(key.family()),
            pe_name: None,
            stats: None,
        }
    }

    /// Makes the service persistent for `timeout` seconds (`ipvsadm -p`).
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags = self.flags | ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    pub fn with_flags(mut self, flags: ServiceFlags) -> Self {
        self.flags = self.flags | flags;
        self
    }

    /// Whether `other` has the same configuration: ignores statistics and
    /// the kernel-maintained [`ServiceFlags::HASHED`].
    pub fn same_config(&self, other: &Service) -> bool {
        self.key == other.key
            && self.scheduler == other.scheduler
            && self.flags.without(ServiceFlags::HASHED) == other.flags.without(ServiceFlags::HASHED)
            && self.timeout == other.timeout
            && self.netmask == other.netmask
            && self.pe_name == other.pe_name
    }
}

/// Tunnel encapsulation type (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    Ipip,
    /// Generic UDP Encapsulation to this UDP port.
    Gue {
        port: u16,
    },
    Gre,
}

/// Tunnel checksum flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`); ipvsadm's
/// `--tun-nocsum` is the empty set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelFlags(pub u16);

impl TunnelFlags {
    pub const NOCSUM: Self = Self(0);
    pub const CSUM: Self = Self(1 << 0);
    pub const REMCSUM: Self = Self(1 << 1);
}

/// Packet forwarding method of a real server (`IP_VS_CONN_F_FWD_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forwarding {
    /// NAT (`-m`).
    Masq,
    Local,
    /// IP tunnelling (`-i`).
    Tunnel {
        kind: TunnelType,
        flags: TunnelFlags,
    },
    /// Direct routing / gatewaying (`-g`).
    Route,
    Bypass,
}

impl Forwarding {
    /// Plain IP-in-IP tunnelling, as `ipvsadm -i` without `--tun-*`.
    pub const IPIP: Self = Forwarding::Tunnel {
        kind: TunnelType::Ipip,
        flags: TunnelFlags::NOCSUM,
    };
}

/// What identifies a real server within its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SocketDisplay(self.addr, self.port).fmt(f)
    }
}

/// A real server (destination) of a virtual service. Its address family is
/// its address's; it may differ from the service's only with tunnelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    pub addr: IpAddr,
    pub port: u16,
    pub forwarding: Forwarding,
    /// 0 stops new connections (quiescent); the kernel rejects > `i32::MAX`.
    pub weight: u32,
    /// Upper connection threshold, 0 = none.
    pub upper_threshold: u32,
    /// Lower connection threshold, 0 = none.
    pub lower_threshold: u32,
    /// Connection counters and statistics; filled on GET, ignored when sending.
    pub counters: Option<DestCounters>,
}

impl Dest {
    pub fn new(addr: IpAddr, port: u16, forwarding: Forwarding, weight: u32) -> Self {
        Dest {
            addr,
            port,
            forwarding,
            weight,
            upper_threshold: 0,
            lower_threshold: 0,
            counters: None,
        }
    }

    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }

    pub fn family(&self) -> AddressFamily {
        AddressFamily::of(&self.addr)
    }

    /// Whether `other` has the same configuration (ignores counters).
    pub fn same_config(&self, other: &Dest) -> bool {
        Dest {
            counters: None,
            ..self.clone()
        } == Dest {
            counters: None,
            ..other.clone()
        }
    }
}

/// Per real server connection counts and statistics, as the kernel reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestCounters {
    pub active_conns: u32,
    pub inactive_conns: u32,
    pub persistent_conns: u32,
    pub stats: Stats,
}

/// Service or destination statistics (`IPVS_STATS_ATTR_*`); taken from the
/// 64-bit set when the kernel sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub conns: u64,
    pub in_packets: u64,
    pub out_packets: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub cps: u64,
    pub in_pps: u64,
    pub out_pps: u64,
    pub in_bps: u64,
    pub out_bps: u64,
}

/// Connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`). When
/// setting, 0 leaves that value unchanged (kernel semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// Version and connection table size (`ipvsadm -Ln` header line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Info {
    /// e.g. `0x010201` for 1.2.1.
    pub version: u32,
    pub conn_table_size: u32,
}

impl Info {
    /// `(major, minor, patch)`.
    pub const fn version_triple(&self) -> (u8, u8, u8) {
        let [_, major, minor, patch] = self.version.to_be_bytes();
        (major, minor, patch)
    }
}

/// Connection synchronisation daemon role (`IP_VS_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    pub(crate) const fn to_raw(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
        }
    }

    pub(crate) const fn from_raw(raw: u32) -> Option<Self> {
        match raw {
            1 => Some(DaemonState::Master),
            2 => Some(DaemonState::Backup),
            _ => None,
        }
    }
}

impl fmt::Display for DaemonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        })
    }
}

/// A connection synchronisation daemon. `None` fields are left to the
/// kernel's defaults when starting (maxlen from the interface MTU, group
/// 224.0.0.81 / ff02::8848... see ip_vs_sync.c, port 8848, TTL 1); GET
/// returns them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub state: DaemonState,
    /// Multicast interface (`--mcast-interface`).
    pub interface: String,
    /// `--syncid`, 0..=255 (larger values are an encode error).
    pub sync_id: u32,
    /// `--sync-maxlen`: UDP payload size.
    pub max_len: Option<u16>,
    /// `--mcast-group`, IPv4 or IPv6.
    pub group: Option<IpAddr>,
    /// `--mcast-port`.
    pub port: Option<u16>,
    /// `--mcast-ttl`.
    pub ttl: Option<u8>,
}

impl Daemon {
    pub fn new(state: DaemonState, interface: impl Into<String>, sync_id: u32) -> Self {
        Daemon {
            state,
            interface: interface.into(),
            sync_id,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }
}
