//! VRRP wire codec: encode/decode of VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) adverts,
//! checksums, PASS/AH authentication and receive validation, byte-for-byte as
//! keepalived 2.2.7 does it. Sans-IO: bytes in, bytes out, no sockets, no clock.
//!
//! # API
//!
//! Sending:
//! - [`encode_ipv4`]`(&Advert, &Ipv4EncodeOptions) -> Vec<u8>`: the whole IPv4 packet,
//!   for a raw socket with `IP_HDRINCL` (keepalived builds the IP header itself:
//!   TOS 0xc0, TTL 255 or `unicast_ttl`, an incrementing IP id, no fragment flags),
//!   with the IPsec AH header when [`Auth::Ah`] is configured. The IP header checksum
//!   is filled in too (the kernel would recompute the same value).
//! - [`encode_vrrp_ipv6`]`(&Advert, &Ipv6EncodeOptions) -> Vec<u8>`: the VRRP message
//!   alone; the kernel adds the IPv6 header and, with `IPV6_CHECKSUM`, recomputes the
//!   checksum we fill in.
//! - [`WireState`] holds what changes from packet to packet: the IP id, the AH
//!   sequence counter ([`AhSequence`], shared with the receive replay check, as in
//!   keepalived) and the unicast checksum compatibility mode.
//!
//! Receiving:
//! - [`validate`]`(bytes, &RxMeta, &InstanceExpectations, &mut Stats, &mut WireState)
//!   -> Result<Advert, RxError>` runs keepalived's `vrrp_check_packet()` checks in its
//!   order, returns a typed [`RxError`] for the first failure and counts it in [`Stats`]
//!   (field names = keepalived's stats/JSON names). For IPv4 `bytes` is the packet from
//!   the raw socket (IP header included); for IPv6 it is the VRRP message and the
//!   addresses and hop limit come from the ancillary data in [`RxMeta::Ipv6`].
//! - [`decode_ipv4`] / [`decode_vrrp`] parse without checking anything against an
//!   instance (for tools, tests and the fuzzer).
//!
//! Nothing here panics on any input: all reads are `get()` and lengths are checked.
//!
//! # Where we differ from keepalived 2.2.7 (deliberately)
//!
//! - `advert_interval_err` counts VRRPv2 interval mismatches; keepalived declares the
//!   counter but never increments it (the packet is dropped silently).
//! - Failures keepalived only logs or never sees get their own counters
//!   (`version_err`, `checksum_err`, `vrid_err`, `malformed_err`, `unicast_src_err`);
//!   none of them appear in keepalived's stats/JSON output.
//! - A packet that is not IPv4, has IHL < 5 or a protocol other than 112/51 is refused
//!   as malformed; keepalived trusts its raw socket to deliver only 112/51.
//! - IPv6: we verify the checksum when the destination is known (keepalived leaves it
//!   to the kernel's `IPV6_CHECKSUM`, which drops bad packets before we would see them).
//!   PASS or AH configured on an IPv6 instance fails authentication (keepalived reads
//!   bytes outside the message there).
//! - `v3_checksum_as_v2` is a later keepalived keyword, not in 2.2.7; 2.2.7's
//!   `old_unicast_checksum` (with its auto-detection) is [`UnicastChecksumCompat`].
//! - Not implemented: `auth_hmac` (keepalived ≥ 2.4).

mod auth;
mod checksum;
mod header;
mod stats;
mod validate;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

use crate::advert::{Advert, Version};
use auth::ah_icv;

pub use auth::{
    AUTH_TYPE_AH, AUTH_TYPE_NONE, AUTH_TYPE_PASS, AhSequence, Auth, constant_time_eq, hmac_md5_96,
};
pub use checksum::{Accumulator, internet_checksum, ipv4_pseudo_header, ipv6_pseudo_header};
pub use header::{
    AH_HEADER_LEN, AH_ICV_LEN, AH_PAYLOAD_LEN, AhHeader, IPV4_HEADER_LEN, Ipv4Header,
    Ipv4HeaderError, VRRP_AUTH_DATA_LEN, VRRP_HEADER_LEN, VRRP_TYPE_ADVERT, VrrpHeader,
};
pub use stats::Stats;
pub use validate::{InstanceExpectations, RxError, RxMeta, UnicastPeer, validate};

/// IP protocol number of VRRP (RFC 5798 §5.1.1.4).
pub const IPPROTO_VRRP: u8 = 112;
/// IP protocol number of IPsec AH (RFC 2402).
pub const IPPROTO_AH: u8 = 51;
/// TTL / hop limit of multicast adverts, required on receive (RFC 5798 §5.1.1.3).
pub const VRRP_TTL: u8 = 255;
/// TOS keepalived puts on IPv4 adverts: "internetwork control" (`vrrp_build_ip4()`).
pub const VRRP_IPV4_TOS: u8 = 0xc0;
/// Default multicast groups (RFC 5798 §5.1.1.2, §5.1.2.2).
pub const VRRP_MCAST_GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
pub const VRRP_MCAST_GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// Largest VRRPv3 interval: 12 bits of centiseconds (RFC 5798 §5.2.7).
pub const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// Largest address count of the VRRP header's 8-bit field (keepalived `VRRP_MAX_ADDR`).
pub const VRRP_MAX_ADDRESSES: usize = 255;
/// MTU keepalived assumes when an instance has no interface (`DEFAULT_MTU`).
pub const DEFAULT_MTU: usize = 1500;

/// How many virtual addresses fit in one advert on a link of `mtu` bytes; keepalived
/// moves the excess to eVIPs (`vrrp_complete_instance()`: Ethernet + IP + VRRP headers,
/// plus v2 auth data and, with AH, the AH header, counted only for IPv4 VRRPv2).
pub fn max_advertised_addresses(
    family: Family,
    version: Version,
    auth: &Auth,
    mtu: usize,
) -> usize {
    const ETHER_HEADER_LEN: usize = 14;
    const IPV6_HEADER_LEN: usize = 40;
    let header_len = match family {
        Family::Ipv4 => {
            let v2_extra = match (version, auth) {
                (Version::V2, Auth::Ah { .. }) => VRRP_AUTH_DATA_LEN + AH_HEADER_LEN,
                (Version::V2, _) => VRRP_AUTH_DATA_LEN,
                (Version::V3, _) => 0,
            };
            ETHER_HEADER_LEN + IPV4_HEADER_LEN + VRRP_HEADER_LEN + v2_extra
        }
        Family::Ipv6 => ETHER_HEADER_LEN + IPV6_HEADER_LEN + VRRP_HEADER_LEN,
    };
    (mtu.saturating_sub(header_len) / family.address_len()).min(VRRP_MAX_ADDRESSES)
}

/// Address family of a VRRP instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(address: &IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }

    /// Bytes per address in the VRRP address list.
    pub fn address_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

/// Which pseudo-header goes into a VRRPv3-over-IPv4 checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum V3Checksum {
    /// RFC 5798 §5.2.8: pseudo-header with the packet's own destination (the peer's
    /// address when unicast).
    #[default]
    PseudoHeader,
    /// keepalived ≤ 1.3.5 (`old_unicast_checksum`): the pseudo-header carries the
    /// multicast group even on unicast packets.
    PseudoHeaderWithGroup(Ipv4Addr),
    /// No pseudo-header, as VRRPv2 (later keepalived's `v3_checksum_as_v2`).
    AsV2,
}

/// keepalived's `unicast_chksum_compat` (`chksum_compatibility_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnicastChecksumCompat {
    /// RFC checksum; switch to [`Self::Auto`] when a unicast advert only verifies with
    /// the multicast group in the pseudo-header (the default).
    #[default]
    Rfc,
    /// `old_unicast_checksum never`: RFC checksum, no switching.
    Never,
    /// `old_unicast_checksum`: the old (group) pseudo-header, configured.
    Config,
    /// The old pseudo-header, detected from a received advert.
    Auto,
}

impl UnicastChecksumCompat {
    /// Whether the old, group-address pseudo-header is in use.
    pub fn uses_group(self) -> bool {
        matches!(self, Self::Config | Self::Auto)
    }
}

/// What changes from one packet to the next for an instance. One per instance, used
/// by both the sender and [`validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireState {
    /// Last IPv4 id sent.
    pub ip_id: u16,
    /// keepalived's `ipsecah_counter`.
    pub ah: AhSequence,
    pub unicast_checksum_compat: UnicastChecksumCompat,
}

impl WireState {
    /// The IPv4 id of the next advert. keepalived skips 0 because the kernel would
    /// replace an id of 0 with its own (`vrrp_update_pkt()`).
    pub fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        if self.ip_id == 0 {
            self.ip_id = 1;
        }
        self.ip_id
    }

    /// The VRRPv3 checksum mode to send with, given the instance's settings.
    pub fn v3_checksum(&self, v3_checksum_as_v2: bool, mcast_group4: Ipv4Addr) -> V3Checksum {
        if v3_checksum_as_v2 {
            V3Checksum::AsV2
        } else if self.unicast_checksum_compat.uses_group() {
            V3Checksum::PseudoHeaderWithGroup(mcast_group4)
        } else {
            V3Checksum::PseudoHeader
        }
    }

    /// Everything per-packet for the next IPv4 advert: a fresh IP id and, with AH, the
    /// next sequence number (keepalived advances both once per advert, even when it is
    /// sent to several unicast peers).
    pub fn next_ipv4_ids(&mut self, auth: &Auth) -> (u16, u32) {
        let ip_id = self.next_ip_id();
        let sequence = if auth.is_ah() { self.ah.next_tx() } else { 0 };
        (ip_id, sequence)
    }
}

/// Everything [`encode_ipv4`] needs besides the advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4EncodeOptions {
    pub auth: Auth,
    /// The multicast group, or the unicast peer this copy goes to.
    pub destination: Ipv4Addr,
    /// 255 for multicast; `unicast_ttl` (default 255) for unicast.
    pub ttl: u8,
    /// Whether the instance is unicast: AH then zeroes the TTL in the ICV input.
    pub unicast: bool,
    pub ip_id: u16,
    /// AH sequence number (ignored without AH).
    pub ah_sequence: u32,
    pub v3_checksum: V3Checksum,
}

impl Ipv4EncodeOptions {
    /// Multicast to 224.0.0.18, TTL 255, no auth.
    pub fn multicast(ip_id: u16) -> Self {
        Self {
            auth: Auth::None,
            destination: VRRP_MCAST_GROUP4,
            ttl: VRRP_TTL,
            unicast: false,
            ip_id,
            ah_sequence: 0,
            v3_checksum: V3Checksum::PseudoHeader,
        }
    }
}

/// Everything [`encode_vrrp_ipv6`] needs besides the advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6EncodeOptions {
    /// ff02::12 or the unicast peer; used for the checksum pseudo-header.
    pub destination: Ipv6Addr,
    /// Only the VRRPv2 auth type byte uses it: VRRP over IPv6 carries no auth data.
    pub auth: Auth,
}

/// Why an advert cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("source address {0} is not of the packet's address family")]
    SourceFamily(IpAddr),
    #[error("virtual address {0} is not of the packet's address family")]
    AddressFamily(IpAddr),
    #[error("{0} virtual addresses do not fit the 8-bit count")]
    TooManyAddresses(usize),
    #[error("interval of {0} cs does not fit the VRRPv2 8-bit seconds field")]
    V2IntervalTooLong(u16),
    #[error("interval of {0} cs does not fit the VRRPv3 12-bit field")]
    V3IntervalTooLong(u16),
}

fn version_number(version: Version) -> u8 {
    match version {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

/// Builds the VRRP header, addresses and (v2 over IPv4) auth data, checksum field 0.
fn vrrp_body(advert: &Advert, family: Family, auth: &Auth) -> Result<Vec<u8>, EncodeError> {
    let count = u8::try_from(advert.addresses.len())
        .map_err(|_| EncodeError::TooManyAddresses(advert.addresses.len()))?;
    let word = match advert.version {
        // keepalived: `adver_int / TIMER_HZ`, i.e. whole seconds, truncated.
        Version::V2 => {
            let secs = u8::try_from(advert.interval_cs / 100)
                .map_err(|_| EncodeError::V2IntervalTooLong(advert.interval_cs))?;
            [auth.type_code(), secs]
        }
        Version::V3 => {
            if advert.interval_cs > V3_MAX_INTERVAL_CS {
                return Err(EncodeError::V3IntervalTooLong(advert.interval_cs));
            }
            advert.interval_cs.to_be_bytes()
        }
    };
    let with_auth_data = advert.version == Version::V2 && family == Family::Ipv4;
    let mut out = Vec::with_capacity(
        VRRP_HEADER_LEN + advert.addresses.len() * family.address_len() + VRRP_AUTH_DATA_LEN,
    );
    VrrpHeader {
        version: version_number(advert.version),
        kind: VRRP_TYPE_ADVERT,
        vrid: advert.vrid,
        priority: advert.priority,
        address_count: count,
        word,
        checksum: 0,
    }
    .write(&mut out);
    for address in &advert.addresses {
        match (family, address) {
            (Family::Ipv4, IpAddr::V4(v4)) => out.extend_from_slice(&v4.octets()),
            (Family::Ipv6, IpAddr::V6(v6)) => out.extend_from_slice(&v6.octets()),
            _ => return Err(EncodeError::AddressFamily(*address)),
        }
    }
    if with_auth_data {
        // keepalived copies the password only for PASS; the zeroed buffer stays for
        // none and AH (`vrrp_build_vrrp_v2()`).
        let data = match auth {
            Auth::Pass(pass) => *pass,
            Auth::None | Auth::Ah { .. } => [0; VRRP_AUTH_DATA_LEN],
        };
        out.extend_from_slice(&data);
    }
    Ok(out)
}

fn set_checksum(vrrp: &mut [u8], checksum: u16) {
    if let Some(field) = vrrp.get_mut(6..8) {
        field.copy_from_slice(&checksum.to_be_bytes());
    }
}

/// Builds the full IPv4 packet: IP header, AH header if configured, VRRP message.
pub fn encode_ipv4(advert: &Advert, options: &Ipv4EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let IpAddr::V4(source) = advert.source else {
        return Err(EncodeError::SourceFamily(advert.source));
    };
    let mut vrrp = vrrp_body(advert, Family::Ipv4, &options.auth)?;
    // At most 8 + 255 × 4 + 8 bytes: always fits.
    let vrrp_len = u16::try_from(vrrp.len()).unwrap_or(u16::MAX);
    let checksum = match (advert.version, options.v3_checksum) {
        (Version::V2, _) | (Version::V3, V3Checksum::AsV2) => internet_checksum(&vrrp),
        (Version::V3, V3Checksum::PseudoHeader) => {
            ipv4_pseudo_header(source, options.destination, vrrp_len)
                .add_bytes(&vrrp)
                .finish()
        }
        (Version::V3, V3Checksum::PseudoHeaderWithGroup(group)) => {
            ipv4_pseudo_header(source, group, vrrp_len)
                .add_bytes(&vrrp)
                .finish()
        }
    };
    set_checksum(&mut vrrp, checksum);

    let ah_len = if options.auth.is_ah() {
        AH_HEADER_LEN
    } else {
        0
    };
    let total_len = IPV4_HEADER_LEN + ah_len + vrrp.len();
    let ip = Ipv4Header {
        header_len: IPV4_HEADER_LEN,
        tos: VRRP_IPV4_TOS,
        total_len: u16::try_from(total_len).unwrap_or(u16::MAX),
        id: options.ip_id,
        frag_off: 0,
        ttl: options.ttl,
        protocol: if options.auth.is_ah() {
            IPPROTO_AH
        } else {
            IPPROTO_VRRP
        },
        checksum: 0,
        source,
        destination: options.destination,
    };

    // Headers first with zero checksum / ICV, then patched in place: one allocation.
    let mut out = Vec::with_capacity(total_len);
    ip.write(&mut out);
    if let Auth::Ah { key } = &options.auth {
        AhHeader {
            next_header: IPPROTO_VRRP,
            payload_len: AH_PAYLOAD_LEN,
            reserved: 0,
            // keepalived: SPI = the source address.
            spi: u32::from(source),
            sequence: options.ah_sequence,
            icv: [0; AH_ICV_LEN],
        }
        .write(&mut out);
        let mut ah_bytes = [0u8; AH_HEADER_LEN];
        ah_bytes.copy_from_slice(&out[IPV4_HEADER_LEN..]);
        let icv = ah_icv(
            key,
            &out[..IPV4_HEADER_LEN],
            options.unicast,
            &ah_bytes,
            &vrrp,
        );
        out[IPV4_HEADER_LEN + AH_HEADER_LEN - AH_ICV_LEN..].copy_from_slice(&icv);
    }
    let ip_checksum = internet_checksum(&out[..IPV4_HEADER_LEN]);
    out[10..12].copy_from_slice(&ip_checksum.to_be_bytes());
    out.extend_from_slice(&vrrp);
    Ok(out)
}

/// Builds the VRRP message for IPv6 (no IP header: the kernel adds it), with the
/// checksum over the IPv6 pseudo-header (source = `advert.source`).
pub fn encode_vrrp_ipv6(
    advert: &Advert,
    options: &Ipv6EncodeOptions,
) -> Result<Vec<u8>, EncodeError> {
    let IpAddr::V6(source) = advert.source else {
        return Err(EncodeError::SourceFamily(advert.source));
    };
    let mut vrrp = vrrp_body(advert, Family::Ipv6, &options.auth)?;
    // At most 8 + 255 × 16 bytes.
    let vrrp_len = u16::try_from(vrrp.len()).unwrap_or(u16::MAX);
    let checksum = ipv6_pseudo_header(source, options.destination, vrrp_len)
        .add_bytes(&vrrp)
        .finish();
    set_checksum(&mut vrrp, checksum);
    Ok(vrrp)
}

/// A VRRP message parsed without checking it against an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpMessage {
    pub header: VrrpHeader,
    pub addresses: Vec<IpAddr>,
    /// The 8 bytes after the addresses (VRRPv2 over IPv4 only).
    pub auth_data: Option<[u8; VRRP_AUTH_DATA_LEN]>,
}

impl VrrpMessage {
    /// The advert as the state machine sees it; `None` for a version other than 2/3.
    pub fn to_advert(&self, source: IpAddr) -> Option<Advert> {
        let (version, interval_cs) = match self.header.version {
            2 => (Version::V2, u16::from(self.header.v2_interval_secs()) * 100),
            3 => (Version::V3, self.header.v3_interval_cs()),
            _ => return None,
        };
        Some(Advert {
            version,
            vrid: self.header.vrid,
            priority: self.header.priority,
            interval_cs,
            addresses: self.addresses.clone(),
            source,
        })
    }
}

/// Expected VRRP message length from its header (keepalived `expected_vrrp_pkt_len()`):
/// the v2 auth data counts only over IPv4.
pub fn expected_vrrp_len(header: &VrrpHeader, family: Family) -> usize {
    let auth = if family == Family::Ipv4 && header.version == 2 {
        VRRP_AUTH_DATA_LEN
    } else {
        0
    };
    VRRP_HEADER_LEN + usize::from(header.address_count) * family.address_len() + auth
}

fn read_addresses(bytes: &[u8], count: u8, family: Family) -> Option<Vec<IpAddr>> {
    let len = usize::from(count) * family.address_len();
    let list = bytes.get(VRRP_HEADER_LEN..VRRP_HEADER_LEN + len)?;
    let addresses = match family {
        Family::Ipv4 => list
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(|o| IpAddr::V4(Ipv4Addr::from(o)))
            .collect(),
        Family::Ipv6 => list
            .chunks_exact(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok())
            .map(|o| IpAddr::V6(Ipv6Addr::from(o)))
            .collect(),
    };
    Some(addresses)
}

/// Parses a VRRP message whose length must match its address count exactly.
pub fn decode_vrrp(bytes: &[u8], family: Family) -> Result<VrrpMessage, RxError> {
    let header = VrrpHeader::parse(bytes).ok_or(RxError::Truncated { len: bytes.len() })?;
    let expected = expected_vrrp_len(&header, family);
    if bytes.len() != expected {
        return Err(RxError::LengthMismatch {
            received: bytes.len(),
            expected,
        });
    }
    let addresses = read_addresses(bytes, header.address_count, family)
        .ok_or(RxError::Truncated { len: bytes.len() })?;
    let auth_data = if family == Family::Ipv4 && header.version == 2 {
        let start = VRRP_HEADER_LEN + usize::from(header.address_count) * 4;
        let data = bytes
            .get(start..start + VRRP_AUTH_DATA_LEN)
            .and_then(|d| <[u8; VRRP_AUTH_DATA_LEN]>::try_from(d).ok())
            .ok_or(RxError::Truncated { len: bytes.len() })?;
        Some(data)
    } else {
        None
    };
    Ok(VrrpMessage {
        header,
        addresses,
        auth_data,
    })
}

/// A received IPv4 packet, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedIpv4 {
    pub ip: Ipv4Header,
    pub ah: Option<AhHeader>,
    pub vrrp: VrrpMessage,
}

/// Parses an IPv4 packet carrying VRRP, directly or behind AH. The IP total length
/// must equal the buffer length.
pub fn decode_ipv4(bytes: &[u8]) -> Result<DecodedIpv4, RxError> {
    let ip = Ipv4Header::parse(bytes).map_err(|e| RxError::from_ipv4(e, bytes.len()))?;
    if usize::from(ip.total_len) != bytes.len() {
        return Err(RxError::TotalLengthMismatch {
            total_len: ip.total_len,
            received: bytes.len(),
        });
    }
    let after_ip = bytes
        .get(ip.header_len..)
        .ok_or(RxError::Truncated { len: bytes.len() })?;
    let (ah, vrrp_bytes) = match ip.protocol {
        IPPROTO_VRRP => (None, after_ip),
        IPPROTO_AH => {
            let ah = AhHeader::parse(after_ip).ok_or(RxError::Truncated { len: bytes.len() })?;
            if ah.next_header != IPPROTO_VRRP {
                return Err(RxError::AhNotVrrp(ah.next_header));
            }
            let rest = after_ip
                .get(AH_HEADER_LEN..)
                .ok_or(RxError::Truncated { len: bytes.len() })?;
            (Some(ah), rest)
        }
        other => return Err(RxError::UnexpectedProtocol(other)),
    };
    let vrrp = decode_vrrp(vrrp_bytes, Family::Ipv4)?;
    Ok(DecodedIpv4 { ip, ah, vrrp })
}
