//! Wire types of the "IPVS" generic netlink family (`include/uapi/linux/ip_vs.h`):
//! commands, attribute enums with encode/decode, and conversions between
//! attributes and the typed model.
//!
//! Attribute order and sizes follow what ipvsadm 1.31 (libipvs) sends, so
//! that our requests can be compared byte for byte with captured ones
//! (`tests/golden.rs`): addresses are always 16 bytes (`union nf_inet_addr`),
//! ports are big-endian u16, nested attributes carry `NLA_F_NESTED`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::DecodeError;
use crate::model::{
    AddressFamily, Daemon, DaemonState, Dest, DestCounters, DestKey, Forwarding, IFNAME_MAX_LEN,
    Info, Netmask, PE_NAME_MAX_LEN, Protocol, SCHED_NAME_MAX_LEN, Service, ServiceFlags,
    ServiceKey, Stats, Timeouts, TunnelFlags, TunnelType,
};
use crate::nla::{self, EncodeError, NlaWriter, RawNla};

/// The generic netlink family name and the version we speak.
pub const IPVS_GENL_NAME: &str = "IPVS";
pub const IPVS_GENL_VERSION: u8 = 1;

macro_rules! raw_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident : $raw:ty { $($(#[$vmeta:meta])* $variant:ident = $value:expr => $text:expr,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn to_raw(self) -> $raw {
                match self { $($name::$variant => $value,)* }
            }

            pub const fn from_raw(raw: $raw) -> Option<Self> {
                match raw { $($value => Some($name::$variant),)* _ => None }
            }

            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

raw_enum! {
    /// `IPVS_CMD_*`.
    pub enum IpvsCmd: u8 {
        NewService = 1 => "IPVS_CMD_NEW_SERVICE",
        SetService = 2 => "IPVS_CMD_SET_SERVICE",
        DelService = 3 => "IPVS_CMD_DEL_SERVICE",
        GetService = 4 => "IPVS_CMD_GET_SERVICE",
        NewDest = 5 => "IPVS_CMD_NEW_DEST",
        SetDest = 6 => "IPVS_CMD_SET_DEST",
        DelDest = 7 => "IPVS_CMD_DEL_DEST",
        GetDest = 8 => "IPVS_CMD_GET_DEST",
        NewDaemon = 9 => "IPVS_CMD_NEW_DAEMON",
        DelDaemon = 10 => "IPVS_CMD_DEL_DAEMON",
        GetDaemon = 11 => "IPVS_CMD_GET_DAEMON",
        SetConfig = 12 => "IPVS_CMD_SET_CONFIG",
        GetConfig = 13 => "IPVS_CMD_GET_CONFIG",
        /// Only used as the command of GET_INFO replies.
        SetInfo = 14 => "IPVS_CMD_SET_INFO",
        GetInfo = 15 => "IPVS_CMD_GET_INFO",
        Zero = 16 => "IPVS_CMD_ZERO",
        Flush = 17 => "IPVS_CMD_FLUSH",
    }
}

impl IpvsCmd {
    /// Whether replies to this command carry info attributes at the top level
    /// (`IPVS_INFO_ATTR_*` reuse the numbers of `IPVS_CMD_ATTR_*`).
    const fn has_info_attrs(self) -> bool {
        matches!(self, IpvsCmd::SetInfo | IpvsCmd::GetInfo)
    }
}

// IPVS_CMD_ATTR_*
const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;
const CMD_ATTR_DAEMON: u16 = 3;
const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
const CMD_ATTR_TIMEOUT_UDP: u16 = 6;
// IPVS_INFO_ATTR_*
const INFO_ATTR_VERSION: u16 = 1;
const INFO_ATTR_CONN_TAB_SIZE: u16 = 2;
// IPVS_SVC_ATTR_*
const SVC_ATTR_AF: u16 = 1;
const SVC_ATTR_PROTOCOL: u16 = 2;
const SVC_ATTR_ADDR: u16 = 3;
const SVC_ATTR_PORT: u16 = 4;
const SVC_ATTR_FWMARK: u16 = 5;
const SVC_ATTR_SCHED_NAME: u16 = 6;
const SVC_ATTR_FLAGS: u16 = 7;
const SVC_ATTR_TIMEOUT: u16 = 8;
const SVC_ATTR_NETMASK: u16 = 9;
const SVC_ATTR_STATS: u16 = 10;
const SVC_ATTR_PE_NAME: u16 = 11;
const SVC_ATTR_STATS64: u16 = 12;
// IPVS_DEST_ATTR_*
const DEST_ATTR_ADDR: u16 = 1;
const DEST_ATTR_PORT: u16 = 2;
const DEST_ATTR_FWD_METHOD: u16 = 3;
const DEST_ATTR_WEIGHT: u16 = 4;
const DEST_ATTR_U_THRESH: u16 = 5;
const DEST_ATTR_L_THRESH: u16 = 6;
const DEST_ATTR_ACTIVE_CONNS: u16 = 7;
const DEST_ATTR_INACT_CONNS: u16 = 8;
const DEST_ATTR_PERSIST_CONNS: u16 = 9;
const DEST_ATTR_STATS: u16 = 10;
const DEST_ATTR_ADDR_FAMILY: u16 = 11;
const DEST_ATTR_STATS64: u16 = 12;
const DEST_ATTR_TUN_TYPE: u16 = 13;
const DEST_ATTR_TUN_PORT: u16 = 14;
const DEST_ATTR_TUN_FLAGS: u16 = 15;
// IPVS_DAEMON_ATTR_*
const DAEMON_ATTR_STATE: u16 = 1;
const DAEMON_ATTR_MCAST_IFN: u16 = 2;
const DAEMON_ATTR_SYNC_ID: u16 = 3;
const DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
const DAEMON_ATTR_MCAST_GROUP: u16 = 5;
const DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
const DAEMON_ATTR_MCAST_PORT: u16 = 7;
const DAEMON_ATTR_MCAST_TTL: u16 = 8;
// IPVS_STATS_ATTR_* (1..=10; 11 is padding for the u64 ones)
const STATS_ATTR_PAD: u16 = 11;
// IP_VS_CONN_F_* forwarding methods
const FWD_MASQ: u32 = 0;
const FWD_LOCAL: u32 = 1;
const FWD_TUNNEL: u32 = 2;
const FWD_ROUTE: u32 = 3;
const FWD_BYPASS: u32 = 4;
const FWD_MASK: u32 = 7;
// IP_VS_CONN_F_TUNNEL_TYPE_*
const TUN_IPIP: u8 = 0;
const TUN_GUE: u8 = 1;
const TUN_GRE: u8 = 2;

/// `union nf_inet_addr` as sent on the wire: 16 bytes, IPv4 in the first 4.
pub type InetAddr = [u8; 16];

fn inet_addr(addr: &IpAddr) -> InetAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mut bytes = [0; 16];
            bytes[..4].copy_from_slice(&v4.octets());
            bytes
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn ip_from_inet(family: AddressFamily, bytes: &InetAddr) -> IpAddr {
    match family {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::from(*bytes)),
    }
}

/// Reads an address attribute; the kernel sends 16 bytes, 4 are accepted too.
fn read_inet(nla: &RawNla<'_>, what: &'static str) -> Result<InetAddr, DecodeError> {
    let mut bytes = [0; 16];
    match nla.payload.len() {
        4 | 16 => {
            bytes
                .get_mut(..nla.payload.len())
                .ok_or(DecodeError::Truncated { what })?
                .copy_from_slice(nla.payload);
            Ok(bytes)
        }
        len => Err(DecodeError::BadPayloadLength { what, len }),
    }
}

fn check_name(what: &'static str, value: &str, max: usize) -> Result<(), EncodeError> {
    // `max` counts the terminating NUL, as the kernel's policy does.
    if value.len() >= max {
        return Err(EncodeError::StringTooLong {
            what,
            len: value.len(),
            max: max - 1,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------- statistics

impl Stats {
    const FIELDS: usize = 10;

    fn values(&self) -> [u64; Self::FIELDS] {
        [
            self.conns,
            self.in_packets,
            self.out_packets,
            self.in_bytes,
            self.out_bytes,
            self.cps,
            self.in_pps,
            self.out_pps,
            self.in_bps,
            self.out_bps,
        ]
    }

    fn from_values(v: [u64; Self::FIELDS]) -> Self {
        let [
            conns,
            in_packets,
            out_packets,
            in_bytes,
            out_bytes,
            cps,
            in_pps,
            out_pps,
            in_bps,
            out_bps,
        ] = v;
        Stats {
            conns,
            in_packets,
            out_packets,
            in_bytes,
            out_bytes,
            cps,
            in_pps,
            out_pps,
            in_bps,
            out_bps,
        }
    }

    /// Parses a `*_ATTR_STATS` (u32 counters, u64 bytes) or `*_ATTR_STATS64`
    /// (all u64) nest; the width is taken from each attribute's length.
    pub fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut values = [0u64; Self::FIELDS];
        for nla in nla::iter(payload) {
            let nla = nla?;
            if nla.kind == STATS_ATTR_PAD {
                continue;
            }
            let Some(slot) = usize::from(nla.kind)
                .checked_sub(1)
                .and_then(|index| values.get_mut(index))
            else {
                continue; // newer kernels may add counters
            };
            *slot = match nla.payload.len() {
                4 => u64::from(nla.u32("stats counter")?),
                _ => nla.u64("stats counter")?,
            };
        }
        Ok(Self::from_values(values))
    }

    /// Emits the 64-bit form (as the kernel's STATS64 nest).
    pub fn emit(&self) -> Result<NlaWriter, EncodeError> {
        let mut w = NlaWriter::new();
        for (kind, value) in (1u16..).zip(self.values()) {
            w.put_u64(kind, value)?;
        }
        Ok(w)
    }
}

// ------------------------------------------------------------------ service

/// Attributes inside `IPVS_CMD_ATTR_SERVICE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceNla {
    Af(u16),
    Protocol(u16),
    Addr(InetAddr),
    /// Host-order value; big-endian on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    /// `struct ip_vs_flags`: the kernel applies `flags` under `mask`.
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    /// The 4 payload bytes as a native u32: for IPv4 the mask in network
    /// order, for IPv6 the prefix length.
    Netmask(u32),
    Stats(Stats),
    PeName(String),
    Stats64(Stats),
    Other {
        kind: u16,
        payload: Vec<u8>,
    },
}

impl ServiceNla {
    pub fn emit(&self, w: &mut NlaWriter) -> Result<(), EncodeError> {
        match self {
            ServiceNla::Af(v) => w.put_u16(SVC_ATTR_AF, *v),
            ServiceNla::Protocol(v) => w.put_u16(SVC_ATTR_PROTOCOL, *v),
            ServiceNla::Addr(v) => w.put(SVC_ATTR_ADDR, v),
            ServiceNla::Port(v) => w.put_be16(SVC_ATTR_PORT, *v),
            ServiceNla::Fwmark(v) => w.put_u32(SVC_ATTR_FWMARK, *v),
            ServiceNla::SchedName(v) => w.put_cstr(SVC_ATTR_SCHED_NAME, v),
            ServiceNla::Flags { flags, mask } => {
                let mut bytes = [0; 8];
                bytes[..4].copy_from_slice(&flags.to_ne_bytes());
                bytes[4..].copy_from_slice(&mask.to_ne_bytes());
                w.put(SVC_ATTR_FLAGS, &bytes)
            }
            ServiceNla::Timeout(v) => w.put_u32(SVC_ATTR_TIMEOUT, *v),
            ServiceNla::Netmask(v) => w.put_u32(SVC_ATTR_NETMASK, *v),
            ServiceNla::Stats(v) => w.put_nested(SVC_ATTR_STATS, v.emit()?),
            ServiceNla::PeName(v) => w.put_cstr(SVC_ATTR_PE_NAME, v),
            ServiceNla::Stats64(v) => w.put_nested(SVC_ATTR_STATS64, v.emit()?),
            ServiceNla::Other { kind, payload } => w.put(*kind, payload),
        }
    }

    pub fn parse(nla: &RawNla<'_>) -> Result<Self, DecodeError> {
        Ok(match nla.kind {
            SVC_ATTR_AF => ServiceNla::Af(nla.u16("service family")?),
            SVC_ATTR_PROTOCOL => ServiceNla::Protocol(nla.u16("service protocol")?),
            SVC_ATTR_ADDR => ServiceNla::Addr(read_inet(nla, "service address")?),
            SVC_ATTR_PORT => ServiceNla::Port(nla.be16("service port")?),
            SVC_ATTR_FWMARK => ServiceNla::Fwmark(nla.u32("service fwmark")?),
            SVC_ATTR_SCHED_NAME => ServiceNla::SchedName(nla.cstr("scheduler name")?),
            SVC_ATTR_FLAGS => {
                let what = "service flags";
                let bytes: [u8; 8] =
                    nla.payload
                        .try_into()
                        .map_err(|_| DecodeError::BadPayloadLength {
                            what,
                            len: nla.payload.len(),
                        })?;
                let [f0, f1, f2, f3, m0, m1, m2, m3] = bytes;
                ServiceNla::Flags {
                    flags: u32::from_ne_bytes([f0, f1, f2, f3]),
                    mask: u32::from_ne_bytes([m0, m1, m2, m3]),
                }
            }
            SVC_ATTR_TIMEOUT => ServiceNla::Timeout(nla.u32("service timeout")?),
            SVC_ATTR_NETMASK => ServiceNla::Netmask(nla.u32("service netmask")?),
            SVC_ATTR_STATS => ServiceNla::Stats(Stats::parse(nla.payload)?),
            SVC_ATTR_PE_NAME => ServiceNla::PeName(nla.cstr("persistence engine")?),
            SVC_ATTR_STATS64 => ServiceNla::Stats64(Stats::parse(nla.payload)?),
            kind => ServiceNla::Other {
                kind,
                payload: nla.payload.to_vec(),
            },
        })
    }
}

/// The attributes that identify a service (all a DEL/GET/ZERO or a
/// destination command needs), in ipvsadm's order.
pub fn service_key_nlas(key: &ServiceKey) -> Vec<ServiceNla> {
    match key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => vec![
            ServiceNla::Af(AddressFamily::of(addr).to_raw()),
            ServiceNla::Protocol(protocol.to_raw()),
            ServiceNla::Addr(inet_addr(addr)),
            ServiceNla::Port(*port),
        ],
        ServiceKey::Fwmark { family, mark } => {
            vec![ServiceNla::Af(family.to_raw()), ServiceNla::Fwmark(*mark)]
        }
    }
}

/// All attributes of a service for NEW/SET, in ipvsadm's order. The flags
/// go with an all-ones mask, so the kernel takes them as given.
pub fn service_nlas(service: &Service) -> Result<Vec<ServiceNla>, EncodeError> {
    check_name("scheduler name", &service.scheduler, SCHED_NAME_MAX_LEN)?;
    let family = service.key.family();
    let netmask = match (family, service.netmask) {
        (AddressFamily::Inet, Netmask::V4(mask)) => u32::from_ne_bytes(mask.octets()),
        (AddressFamily::Inet6, Netmask::V6Prefix(prefix)) if prefix <= 128 => u32::from(prefix),
        (AddressFamily::Inet6, Netmask::V6Prefix(_)) => {
            return Err(EncodeError::Invalid(
                "IPv6 netmask prefix length is greater than 128",
            ));
        }
        _ => {
            return Err(EncodeError::Invalid(
                "netmask kind does not match the service's address family",
            ));
        }
    };
    let mut nlas = service_key_nlas(&service.key);
    nlas.push(ServiceNla::SchedName(service.scheduler.clone()));
    if let Some(pe) = &service.pe_name {
        check_name("persistence engine name", pe, PE_NAME_MAX_LEN)?;
        nlas.push(ServiceNla::PeName(pe.clone()));
    }
    nlas.push(ServiceNla::Flags {
        flags: service.flags.0,
        mask: u32::MAX,
    });
    nlas.push(ServiceNla::Timeout(service.timeout));
    nlas.push(ServiceNla::Netmask(netmask));
    Ok(nlas)
}

/// Builds a [`Service`] from the attributes of a GET reply.
pub fn service_from_nlas(nlas: &[ServiceNla]) -> Result<Service, DecodeError> {
    let mut af = None;
    let mut protocol = None;
    let mut addr = None;
    let mut port = None;
    let mut fwmark = None;
    let mut scheduler = None;
    let mut flags = 0;
    let mut timeout = 0;
    let mut netmask = None;
    let mut pe_name = None;
    let mut stats = None;
    let mut stats64 = None;
    for nla in nlas {
        match nla {
            ServiceNla::Af(v) => af = Some(*v),
            ServiceNla::Protocol(v) => protocol = Some(*v),
            ServiceNla::Addr(v) => addr = Some(*v),
            ServiceNla::Port(v) => port = Some(*v),
            ServiceNla::Fwmark(v) => fwmark = Some(*v),
            ServiceNla::SchedName(v) => scheduler = Some(v.clone()),
            ServiceNla::Flags { flags: f, .. } => flags = *f,
            ServiceNla::Timeout(v) => timeout = *v,
            ServiceNla::Netmask(v) => netmask = Some(*v),
            ServiceNla::Stats(v) => stats = Some(*v),
            ServiceNla::PeName(v) => pe_name = Some(v.clone()),
            ServiceNla::Stats64(v) => stats64 = Some(*v),
            ServiceNla::Other { .. } => {}
        }
    }
    let af = af.ok_or(DecodeError::Missing {
        what: "service family",
    })?;
    let family = AddressFamily::from_raw(af).ok_or(DecodeError::UnknownAddressFamily(af))?;
    // keepalived/ipvsadm: a non-zero fwmark makes it a fwmark service.
    let key = match fwmark {
        Some(mark) if mark != 0 => ServiceKey::Fwmark { family, mark },
        _ => {
            let raw = protocol.ok_or(DecodeError::Missing {
                what: "service protocol",
            })?;
            ServiceKey::Addr {
                protocol: Protocol::from_raw(raw).ok_or(DecodeError::UnknownProtocol(raw))?,
                addr: ip_from_inet(
                    family,
                    &addr.ok_or(DecodeError::Missing {
                        what: "service address",
                    })?,
                ),
                port: port.ok_or(DecodeError::Missing {
                    what: "service port",
                })?,
            }
        }
    };
    let netmask = match (family, netmask) {
        (_, None) => Netmask::default_for(family),
        (AddressFamily::Inet, Some(raw)) => Netmask::V4(Ipv4Addr::from(raw.to_ne_bytes())),
        (AddressFamily::Inet6, Some(raw)) => Netmask::V6Prefix(
            u8::try_from(raw)
                .ok()
                .filter(|p| *p <= 128)
                .ok_or(DecodeError::BadPrefixLength(raw))?,
        ),
    };
    Ok(Service {
        key,
        scheduler: scheduler.ok_or(DecodeError::Missing {
            what: "scheduler name",
        })?,
        flags: ServiceFlags(flags),
        timeout,
        netmask,
        // The kernel sends an empty name for "none" on some versions.
        pe_name: pe_name.filter(|name| !name.is_empty()),
        stats: stats64.or(stats),
    })
}

/// Attributes of a GET reply for a service we encoded: used by tests.
pub fn service_reply_nlas(service: &Service) -> Result<Vec<ServiceNla>, EncodeError> {
    let mut nlas = service_nlas(service)?;
    if let Some(stats) = service.stats {
        nlas.push(ServiceNla::Stats64(stats));
    }
    Ok(nlas)
}

// --------------------------------------------------------------- destination

/// Attributes inside `IPVS_CMD_ATTR_DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestNla {
    Addr(InetAddr),
    /// Host-order value; big-endian on the wire.
    Port(u16),
    FwdMethod(u32),
    Weight(u32),
    UpperThreshold(u32),
    LowerThreshold(u32),
    ActiveConns(u32),
    InactiveConns(u32),
    PersistentConns(u32),
    Stats(Stats),
    AddrFamily(u16),
    Stats64(Stats),
    TunType(u8),
    /// Host-order value; big-endian on the wire.
    TunPort(u16),
    TunFlags(u16),
    Other {
        kind: u16,
        payload: Vec<u8>,
    },
}

impl DestNla {
    pub fn emit(&self, w: &mut NlaWriter) -> Result<(), EncodeError> {
        match self {
            DestNla::Addr(v) => w.put(DEST_ATTR_ADDR, v),
            DestNla::Port(v) => w.put_be16(DEST_ATTR_PORT, *v),
            DestNla::FwdMethod(v) => w.put_u32(DEST_ATTR_FWD_METHOD, *v),
            DestNla::Weight(v) => w.put_u32(DEST_ATTR_WEIGHT, *v),
            DestNla::UpperThreshold(v) => w.put_u32(DEST_ATTR_U_THRESH, *v),
            DestNla::LowerThreshold(v) => w.put_u32(DEST_ATTR_L_THRESH, *v),
            DestNla::ActiveConns(v) => w.put_u32(DEST_ATTR_ACTIVE_CONNS, *v),
            DestNla::InactiveConns(v) => w.put_u32(DEST_ATTR_INACT_CONNS, *v),
            DestNla::PersistentConns(v) => w.put_u32(DEST_ATTR_PERSIST_CONNS, *v),
            DestNla::Stats(v) => w.put_nested(DEST_ATTR_STATS, v.emit()?),
            DestNla::AddrFamily(v) => w.put_u16(DEST_ATTR_ADDR_FAMILY, *v),
            DestNla::Stats64(v) => w.put_nested(DEST_ATTR_STATS64, v.emit()?),
            DestNla::TunType(v) => w.put_u8(DEST_ATTR_TUN_TYPE, *v),
            DestNla::TunPort(v) => w.put_be16(DEST_ATTR_TUN_PORT, *v),
            DestNla::TunFlags(v) => w.put_u16(DEST_ATTR_TUN_FLAGS, *v),
            DestNla::Other { kind, payload } => w.put(*kind, payload),
        }
    }

    pub fn parse(nla: &RawNla<'_>) -> Result<Self, DecodeError> {
        Ok(match nla.kind {
            DEST_ATTR_ADDR => DestNla::Addr(read_inet(nla, "real server address")?),
            DEST_ATTR_PORT => DestNla::Port(nla.be16("real server port")?),
            DEST_ATTR_FWD_METHOD => DestNla::FwdMethod(nla.u32("forwarding method")?),
            DEST_ATTR_WEIGHT => DestNla::Weight(nla.u32("weight")?),
            DEST_ATTR_U_THRESH => DestNla::UpperThreshold(nla.u32("upper threshold")?),
            DEST_ATTR_L_THRESH => DestNla::LowerThreshold(nla.u32("lower threshold")?),
            DEST_ATTR_ACTIVE_CONNS => DestNla::ActiveConns(nla.u32("active connections")?),
            DEST_ATTR_INACT_CONNS => DestNla::InactiveConns(nla.u32("inactive connections")?),
            DEST_ATTR_PERSIST_CONNS => DestNla::PersistentConns(nla.u32("persistent connections")?),
            DEST_ATTR_STATS => DestNla::Stats(Stats::parse(nla.payload)?),
            DEST_ATTR_ADDR_FAMILY => DestNla::AddrFamily(nla.u16("real server family")?),
            DEST_ATTR_STATS64 => DestNla::Stats64(Stats::parse(nla.payload)?),
            DEST_ATTR_TUN_TYPE => DestNla::TunType(nla.u8("tunnel type")?),
            DEST_ATTR_TUN_PORT => DestNla::TunPort(nla.be16("tunnel port")?),
            DEST_ATTR_TUN_FLAGS => DestNla::TunFlags(nla.u16("tunnel flags")?),
            kind => DestNla::Other {
                kind,
                payload: nla.payload.to_vec(),
            },
        })
    }
}

/// The attributes that identify a real server (for DEL), in ipvsadm's order.
pub fn dest_key_nlas(key: &DestKey) -> Vec<DestNla> {
    vec![
        DestNla::AddrFamily(AddressFamily::of(&key.addr).to_raw()),
        DestNla::Addr(inet_addr(&key.addr)),
        DestNla::Port(key.port),
    ]
}

/// All attributes of a real server for NEW/SET, in ipvsadm's order (which
/// always sends the tunnel attributes, zero when not tunnelling).
pub fn dest_nlas(dest: &Dest) -> Vec<DestNla> {
    let (fwd, tun_type, tun_port, tun_flags) = match dest.forwarding {
        Forwarding::Masq => (FWD_MASQ, TUN_IPIP, 0, 0),
        Forwarding::Local => (FWD_LOCAL, TUN_IPIP, 0, 0),
        Forwarding::Route => (FWD_ROUTE, TUN_IPIP, 0, 0),
        Forwarding::Bypass => (FWD_BYPASS, TUN_IPIP, 0, 0),
        Forwarding::Tunnel { kind, flags } => match kind {
            TunnelType::Ipip => (FWD_TUNNEL, TUN_IPIP, 0, flags.0),
            TunnelType::Gue { port } => (FWD_TUNNEL, TUN_GUE, port, flags.0),
            TunnelType::Gre => (FWD_TUNNEL, TUN_GRE, 0, flags.0),
        },
    };
    let mut nlas = dest_key_nlas(&dest.key());
    nlas.extend([
        DestNla::FwdMethod(fwd),
        DestNla::Weight(dest.weight),
        DestNla::TunType(tun_type),
        DestNla::TunPort(tun_port),
        DestNla::TunFlags(tun_flags),
        DestNla::UpperThreshold(dest.upper_threshold),
        DestNla::LowerThreshold(dest.lower_threshold),
    ]);
    nlas
}

/// Builds a [`Dest`] from the attributes of a GET reply. Without an
/// address family attribute (kernels before 4.x), the service's is used.
pub fn dest_from_nlas(
    nlas: &[DestNla],
    service_family: AddressFamily,
) -> Result<Dest, DecodeError> {
    let mut addr = None;
    let mut port = None;
    let mut fwd = None;
    let mut weight = 0;
    let mut upper = 0;
    let mut lower = 0;
    let mut family = service_family;
    let mut tun_type = TUN_IPIP;
    let mut tun_port = 0;
    let mut tun_flags = 0;
    let mut counters = None::<DestCounters>;
    let mut stats = None;
    let mut stats64 = None;
    for nla in nlas {
        match nla {
            DestNla::Addr(v) => addr = Some(*v),
            DestNla::Port(v) => port = Some(*v),
            DestNla::FwdMethod(v) => fwd = Some(*v),
            DestNla::Weight(v) => weight = *v,
            DestNla::UpperThreshold(v) => upper = *v,
            DestNla::LowerThreshold(v) => lower = *v,
            DestNla::ActiveConns(v) => counters.get_or_insert_default().active_conns = *v,
            DestNla::InactiveConns(v) => counters.get_or_insert_default().inactive_conns = *v,
            DestNla::PersistentConns(v) => {
                counters.get_or_insert_default().persistent_conns = *v;
            }
            DestNla::Stats(v) => stats = Some(*v),
            DestNla::AddrFamily(v) => {
                family =
                    AddressFamily::from_raw(*v).ok_or(DecodeError::UnknownAddressFamily(*v))?;
            }
            DestNla::Stats64(v) => stats64 = Some(*v),
            DestNla::TunType(v) => tun_type = *v,
            DestNla::TunPort(v) => tun_port = *v,
            DestNla::TunFlags(v) => tun_flags = *v,
            DestNla::Other { .. } => {}
        }
    }
    if let Some(stats) = stats64.or(stats) {
        counters.get_or_insert_default().stats = stats;
    }
    let fwd = fwd.ok_or(DecodeError::Missing {
        what: "forwarding method",
    })?;
    let forwarding = match fwd & FWD_MASK {
        FWD_MASQ => Forwarding::Masq,
        FWD_LOCAL => Forwarding::Local,
        FWD_ROUTE => Forwarding::Route,
        FWD_BYPASS => Forwarding::Bypass,
        FWD_TUNNEL => Forwarding::Tunnel {
            kind: match tun_type {
                TUN_IPIP => TunnelType::Ipip,
                TUN_GUE => TunnelType::Gue { port: tun_port },
                TUN_GRE => TunnelType::Gre,
                other => return Err(DecodeError::UnknownTunnelType(other)),
            },
            flags: TunnelFlags(tun_flags),
        },
        other => return Err(DecodeError::UnknownForwarding(other)),
    };
    Ok(Dest {
        addr: ip_from_inet(
            family,
            &addr.ok_or(DecodeError::Missing {
                what: "real server address",
            })?,
        ),
        port: port.ok_or(DecodeError::Missing {
            what: "real server port",
        })?,
        forwarding,
        weight,
        upper_threshold: upper,
        lower_threshold: lower,
        counters,
    })
}

/// Attributes of a GET reply for a destination we encoded: used by tests.
pub fn dest_reply_nlas(dest: &Dest) -> Vec<DestNla> {
    let mut nlas = dest_nlas(dest);
    if let Some(c) = dest.counters {
        nlas.extend([
            DestNla::ActiveConns(c.active_conns),
            DestNla::InactiveConns(c.inactive_conns),
            DestNla::PersistentConns(c.persistent_conns),
            DestNla::Stats64(c.stats),
        ]);
    }
    nlas
}

// -------------------------------------------------------------- sync daemon

/// Attributes inside `IPVS_CMD_ATTR_DAEMON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonNla {
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxLen(u16),
    McastGroup(Ipv4Addr),
    McastGroup6(Ipv6Addr),
    McastPort(u16),
    McastTtl(u8),
    Other { kind: u16, payload: Vec<u8> },
}

impl DaemonNla {
    pub fn emit(&self, w: &mut NlaWriter) -> Result<(), EncodeError> {
        match self {
            DaemonNla::State(v) => w.put_u32(DAEMON_ATTR_STATE, *v),
            DaemonNla::McastIfn(v) => w.put_cstr(DAEMON_ATTR_MCAST_IFN, v),
            DaemonNla::SyncId(v) => w.put_u32(DAEMON_ATTR_SYNC_ID, *v),
            DaemonNla::SyncMaxLen(v) => w.put_u16(DAEMON_ATTR_SYNC_MAXLEN, *v),
            DaemonNla::McastGroup(v) => w.put(DAEMON_ATTR_MCAST_GROUP, &v.octets()),
            DaemonNla::McastGroup6(v) => w.put(DAEMON_ATTR_MCAST_GROUP6, &v.octets()),
            DaemonNla::McastPort(v) => w.put_u16(DAEMON_ATTR_MCAST_PORT, *v),
            DaemonNla::McastTtl(v) => w.put_u8(DAEMON_ATTR_MCAST_TTL, *v),
            DaemonNla::Other { kind, payload } => w.put(*kind, payload),
        }
    }

    pub fn parse(nla: &RawNla<'_>) -> Result<Self, DecodeError> {
        Ok(match nla.kind {
            DAEMON_ATTR_STATE => DaemonNla::State(nla.u32("daemon state")?),
            DAEMON_ATTR_MCAST_IFN => DaemonNla::McastIfn(nla.cstr("daemon interface")?),
            DAEMON_ATTR_SYNC_ID => DaemonNla::SyncId(nla.u32("daemon syncid")?),
            DAEMON_ATTR_SYNC_MAXLEN => DaemonNla::SyncMaxLen(nla.u16("daemon maxlen")?),
            DAEMON_ATTR_MCAST_GROUP => {
                DaemonNla::McastGroup(Ipv4Addr::from(nla.u32("daemon group")?.to_ne_bytes()))
            }
            DAEMON_ATTR_MCAST_GROUP6 => {
                let bytes: [u8; 16] =
                    nla.payload
                        .try_into()
                        .map_err(|_| DecodeError::BadPayloadLength {
                            what: "daemon group6",
                            len: nla.payload.len(),
                        })?;
                DaemonNla::McastGroup6(Ipv6Addr::from(bytes))
            }
            DAEMON_ATTR_MCAST_PORT => DaemonNla::McastPort(nla.u16("daemon port")?),
            DAEMON_ATTR_MCAST_TTL => DaemonNla::McastTtl(nla.u8("daemon ttl")?),
            kind => DaemonNla::Other {
                kind,
                payload: nla.payload.to_vec(),
            },
        })
    }
}

/// Attributes to start a sync daemon, in ipvsadm's order.
pub fn daemon_nlas(daemon: &Daemon) -> Result<Vec<DaemonNla>, EncodeError> {
    check_name("sync daemon interface", &daemon.interface, IFNAME_MAX_LEN)?;
    // The kernel keeps the syncid in a u8 and would silently truncate.
    if daemon.sync_id > u32::from(u8::MAX) {
        return Err(EncodeError::Invalid("sync daemon syncid is not in 0..=255"));
    }
    let mut nlas = vec![
        DaemonNla::State(daemon.state.to_raw()),
        DaemonNla::McastIfn(daemon.interface.clone()),
        DaemonNla::SyncId(daemon.sync_id),
    ];
    if let Some(v) = daemon.max_len {
        nlas.push(DaemonNla::SyncMaxLen(v));
    }
    if let Some(v) = daemon.port {
        nlas.push(DaemonNla::McastPort(v));
    }
    if let Some(v) = daemon.ttl {
        nlas.push(DaemonNla::McastTtl(v));
    }
    match daemon.group {
        Some(IpAddr::V4(group)) => nlas.push(DaemonNla::McastGroup(group)),
        Some(IpAddr::V6(group)) => nlas.push(DaemonNla::McastGroup6(group)),
        None => {}
    }
    Ok(nlas)
}

/// Attributes to stop a sync daemon.
pub fn daemon_stop_nlas(state: DaemonState) -> Vec<DaemonNla> {
    vec![DaemonNla::State(state.to_raw())]
}

/// Builds a [`Daemon`] from the attributes of a GET_DAEMON reply.
pub fn daemon_from_nlas(nlas: &[DaemonNla]) -> Result<Daemon, DecodeError> {
    let mut state = None;
    let mut interface = None;
    let mut sync_id = 0;
    let mut daemon = Daemon::new(DaemonState::Master, String::new(), 0);
    for nla in nlas {
        match nla {
            DaemonNla::State(v) => {
                state = Some(DaemonState::from_raw(*v).ok_or(DecodeError::UnknownDaemonState(*v))?);
            }
            DaemonNla::McastIfn(v) => interface = Some(v.clone()),
            DaemonNla::SyncId(v) => sync_id = *v,
            DaemonNla::SyncMaxLen(v) => daemon.max_len = Some(*v),
            DaemonNla::McastGroup(v) => daemon.group = Some(IpAddr::V4(*v)),
            DaemonNla::McastGroup6(v) => daemon.group = Some(IpAddr::V6(*v)),
            DaemonNla::McastPort(v) => daemon.port = Some(*v),
            DaemonNla::McastTtl(v) => daemon.ttl = Some(*v),
            DaemonNla::Other { .. } => {}
        }
    }
    daemon.state = state.ok_or(DecodeError::Missing {
        what: "daemon state",
    })?;
    daemon.interface = interface.ok_or(DecodeError::Missing {
        what: "daemon interface",
    })?;
    daemon.sync_id = sync_id;
    Ok(daemon)
}

// ------------------------------------------------------------------ message

/// Top-level attributes of an IPVS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdNla {
    Service(Vec<ServiceNla>),
    Dest(Vec<DestNla>),
    Daemon(Vec<DaemonNla>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    /// Only in GET_INFO replies.
    InfoVersion(u32),
    /// Only in GET_INFO replies.
    InfoConnTabSize(u32),
    Other {
        kind: u16,
        payload: Vec<u8>,
    },
}

/// An IPVS generic netlink message: `struct genlmsghdr` + attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    pub cmd: IpvsCmd,
    pub nlas: Vec<CmdNla>,
}

impl IpvsMessage {
    pub fn new(cmd: IpvsCmd, nlas: Vec<CmdNla>) -> Self {
        IpvsMessage { cmd, nlas }
    }

    /// The genl payload (genl header and attributes, without `nlmsghdr`).
    pub fn emit(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = NlaWriter::new();
        for nla in &self.nlas {
            match nla {
                CmdNla::Service(inner) => {
                    let mut nested = NlaWriter::new();
                    for n in inner {
                        n.emit(&mut nested)?;
                    }
                    w.put_nested(CMD_ATTR_SERVICE, nested)?;
                }
                CmdNla::Dest(inner) => {
                    let mut nested = NlaWriter::new();
                    for n in inner {
                        n.emit(&mut nested)?;
                    }
                    w.put_nested(CMD_ATTR_DEST, nested)?;
                }
                CmdNla::Daemon(inner) => {
                    let mut nested = NlaWriter::new();
                    for n in inner {
                        n.emit(&mut nested)?;
                    }
                    w.put_nested(CMD_ATTR_DAEMON, nested)?;
                }
                CmdNla::TimeoutTcp(v) => w.put_u32(CMD_ATTR_TIMEOUT_TCP, *v)?,
                CmdNla::TimeoutTcpFin(v) => w.put_u32(CMD_ATTR_TIMEOUT_TCP_FIN, *v)?,
                CmdNla::TimeoutUdp(v) => w.put_u32(CMD_ATTR_TIMEOUT_UDP, *v)?,
                CmdNla::InfoVersion(v) => w.put_u32(INFO_ATTR_VERSION, *v)?,
                CmdNla::InfoConnTabSize(v) => w.put_u32(INFO_ATTR_CONN_TAB_SIZE, *v)?,
                CmdNla::Other { kind, payload } => w.put(*kind, payload)?,
            }
        }
        let attrs = w.into_bytes();
        let mut out = Vec::with_capacity(4 + attrs.len());
        out.extend_from_slice(&[self.cmd.to_raw(), IPVS_GENL_VERSION, 0, 0]);
        out.extend_from_slice(&attrs);
        Ok(out)
    }

    /// Parses a genl payload (genl header and attributes).
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&raw_cmd, rest) = bytes.split_first().ok_or(DecodeError::Truncated {
            what: "genl header",
        })?;
        let attrs = rest.get(3..).ok_or(DecodeError::Truncated {
            what: "genl header",
        })?;
        let cmd = IpvsCmd::from_raw(raw_cmd).ok_or(DecodeError::UnknownCommand(raw_cmd))?;
        let mut nlas = Vec::new();
        for nla in nla::iter(attrs) {
            let nla = nla?;
            let parsed = if cmd.has_info_attrs() {
                match nla.kind {
                    INFO_ATTR_VERSION => CmdNla::InfoVersion(nla.u32("info version")?),
                    INFO_ATTR_CONN_TAB_SIZE => CmdNla::InfoConnTabSize(nla.u32("info table size")?),
                    kind => CmdNla::Other {
                        kind,
                        payload: nla.payload.to_vec(),
                    },
                }
            } else {
                match nla.kind {
                    CMD_ATTR_SERVICE => {
                        CmdNla::Service(parse_nested(nla.payload, ServiceNla::parse)?)
                    }
                    CMD_ATTR_DEST => CmdNla::Dest(parse_nested(nla.payload, DestNla::parse)?),
                    CMD_ATTR_DAEMON => CmdNla::Daemon(parse_nested(nla.payload, DaemonNla::parse)?),
                    CMD_ATTR_TIMEOUT_TCP => CmdNla::TimeoutTcp(nla.u32("tcp timeout")?),
                    CMD_ATTR_TIMEOUT_TCP_FIN => CmdNla::TimeoutTcpFin(nla.u32("tcp fin timeout")?),
                    CMD_ATTR_TIMEOUT_UDP => CmdNla::TimeoutUdp(nla.u32("udp timeout")?),
                    kind => CmdNla::Other {
                        kind,
                        payload: nla.payload.to_vec(),
                    },
                }
            };
            nlas.push(parsed);
        }
        Ok(IpvsMessage { cmd, nlas })
    }

    /// The service nest of this message, if any.
    pub fn service(&self) -> Option<&[ServiceNla]> {
        self.nlas.iter().find_map(|nla| match nla {
            CmdNla::Service(inner) => Some(inner.as_slice()),
            _ => None,
        })
    }

    /// The destination nest of this message, if any.
    pub fn dest(&self) -> Option<&[DestNla]> {
        self.nlas.iter().find_map(|nla| match nla {
            CmdNla::Dest(inner) => Some(inner.as_slice()),
            _ => None,
        })
    }

    /// The daemon nest of this message, if any.
    pub fn daemon(&self) -> Option<&[DaemonNla]> {
        self.nlas.iter().find_map(|nla| match nla {
            CmdNla::Daemon(inner) => Some(inner.as_slice()),
            _ => None,
        })
    }

    /// Timeouts from a GET_CONFIG reply (missing ones are 0).
    pub fn timeouts(&self) -> Timeouts {
        let mut t = Timeouts::default();
        for nla in &self.nlas {
            match nla {
                CmdNla::TimeoutTcp(v) => t.tcp = *v,
                CmdNla::TimeoutTcpFin(v) => t.tcp_fin = *v,
                CmdNla::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        t
    }

    /// Version and table size from a GET_INFO reply.
    pub fn info(&self) -> Result<Info, DecodeError> {
        let mut version = None;
        let mut size = None;
        for nla in &self.nlas {
            match nla {
                CmdNla::InfoVersion(v) => version = Some(*v),
                CmdNla::InfoConnTabSize(v) => size = Some(*v),
                _ => {}
            }
        }
        Ok(Info {
            version: version.ok_or(DecodeError::Missing {
                what: "IPVS version",
            })?,
            conn_table_size: size.ok_or(DecodeError::Missing {
                what: "connection table size",
            })?,
        })
    }
}

fn parse_nested<T>(
    payload: &[u8],
    parse: fn(&RawNla<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    nla::iter(payload).map(|nla| parse(&nla?)).collect()
}

// --------------------------------------------------------- request builders

/// `IPVS_CMD_NEW_SERVICE` / `SET_SERVICE` with the full service.
pub fn service_request(cmd: IpvsCmd, service: &Service) -> Result<IpvsMessage, EncodeError> {
    Ok(IpvsMessage::new(
        cmd,
        vec![CmdNla::Service(service_nlas(service)?)],
    ))
}

/// A command about one service, by key (DEL/GET service, GET_DEST dump, ZERO).
pub fn service_key_request(cmd: IpvsCmd, key: &ServiceKey) -> IpvsMessage {
    IpvsMessage::new(cmd, vec![CmdNla::Service(service_key_nlas(key))])
}

/// `IPVS_CMD_NEW_DEST` / `SET_DEST`: the service key and the full destination.
pub fn dest_request(cmd: IpvsCmd, service: &ServiceKey, dest: &Dest) -> IpvsMessage {
    IpvsMessage::new(
        cmd,
        vec![
            CmdNla::Service(service_key_nlas(service)),
            CmdNla::Dest(dest_nlas(dest)),
        ],
    )
}

/// `IPVS_CMD_DEL_DEST`: the service key and the destination key.
pub fn dest_key_request(cmd: IpvsCmd, service: &ServiceKey, dest: &DestKey) -> IpvsMessage {
    IpvsMessage::new(
        cmd,
        vec![
            CmdNla::Service(service_key_nlas(service)),
            CmdNla::Dest(dest_key_nlas(dest)),
        ],
    )
}

/// `IPVS_CMD_SET_CONFIG` with the three timeouts (0 = leave unchanged).
pub fn timeouts_request(timeouts: &Timeouts) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::SetConfig,
        vec![
            CmdNla::TimeoutTcp(timeouts.tcp),
            CmdNla::TimeoutTcpFin(timeouts.tcp_fin),
            CmdNla::TimeoutUdp(timeouts.udp),
        ],
    )
}

/// `IPVS_CMD_NEW_DAEMON`.
pub fn new_daemon_request(daemon: &Daemon) -> Result<IpvsMessage, EncodeError> {
    Ok(IpvsMessage::new(
        IpvsCmd::NewDaemon,
        vec![CmdNla::Daemon(daemon_nlas(daemon)?)],
    ))
}

/// `IPVS_CMD_DEL_DAEMON`.
pub fn del_daemon_request(state: DaemonState) -> IpvsMessage {
    IpvsMessage::new(
        IpvsCmd::DelDaemon,
        vec![CmdNla::Daemon(daemon_stop_nlas(state))],
    )
}

/// A command without attributes (GET_INFO, GET_CONFIG, FLUSH, ZERO all,
/// GET_SERVICE / GET_DAEMON dumps).
pub fn bare_request(cmd: IpvsCmd) -> IpvsMessage {
    IpvsMessage::new(cmd, Vec::new())
}
