//! Receive validation: keepalived 2.2.7's `vrrp_get_header()` + VRID lookup +
//! `vrrp_check_packet()`, in the same order, with the same counters.
//!
//! Order (each step: error variant → counter):
//! 1. headers present (IPv4 header, AH if protocol 51, 8 VRRP bytes) → `malformed_err`
//! 2. VRID of the instance → `vrid_err`
//! 3. IPv4: AH present iff auth type AH → `authtype_mismatch`
//! 4. received length == length implied by the headers and the address count → `packet_len_err`
//! 5. multicast only: TTL / hop limit 255 → `ip_ttl_err`
//! 6. version → `version_err`
//! 7. v2: auth type known → `invalid_authtype`; equal to ours → `authtype_mismatch`;
//!    PASS (constant time) / AH (next header 112, else dropped → `malformed_err`; ICV,
//!    SPI, sequence) → `auth_failure`; interval equal → `advert_interval_err`
//! 8. type ADVERTISEMENT → `invalid_type_rcvd`
//! 9. if checking addresses: address count → `addr_list_err`
//! 10. IPv4 total length == received → `packet_len_err`
//! 11. checksum → `checksum_err` (IPv4 always; IPv6 when the destination is known)
//! 12. multicast destination iff not unicast → `addr_list_err`
//! 13. `advert_rcvd` is counted from here on
//! 14. if checking addresses: every configured VIP present → `addr_list_err`; unicast
//!     source check: a configured peer → `unicast_src_err`, TTL in its range → `ip_ttl_err`
//! 15. priority 0 → `pri_zero_rcvd` (not an error)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use thiserror::Error;

use super::auth::{AUTH_TYPE_AH, AUTH_TYPE_NONE, AUTH_TYPE_PASS, Auth, ah_icv, constant_time_eq};
use super::checksum::{internet_checksum, ipv4_pseudo_header, ipv6_pseudo_header};
use super::header::{
    AH_HEADER_LEN, AhHeader, Ipv4Header, Ipv4HeaderError, VRRP_AUTH_DATA_LEN, VRRP_HEADER_LEN,
    VRRP_TYPE_ADVERT, VrrpHeader,
};
use super::{
    Family, IPPROTO_AH, IPPROTO_VRRP, Stats, UnicastChecksumCompat, VRRP_TTL, WireState,
    expected_vrrp_len, read_addresses, version_number,
};
use crate::advert::{Advert, Version};

/// What the socket layer knows about a received packet besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxMeta {
    /// The bytes start with the IPv4 header: source, destination and TTL come from it.
    Ipv4,
    /// The bytes are the VRRP message; the rest comes from `recvmsg()`.
    Ipv6 {
        source: Ipv6Addr,
        /// From `IPV6_PKTINFO`; without it keepalived treats the packet as unicast, and
        /// we cannot check the checksum.
        destination: Option<Ipv6Addr>,
        /// From `IPV6_HOPLIMIT`; without it the hop limit is not checked.
        hop_limit: Option<u8>,
    },
}

/// A configured `unicast_peer` with its accepted TTL range (`min_ttl`/`max_ttl`,
/// default 0..=255).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnicastPeer {
    pub address: IpAddr,
    pub min_ttl: u8,
    pub max_ttl: u8,
}

/// What the receiving instance is configured for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceExpectations<'a> {
    pub vrid: u8,
    pub version: Version,
    pub auth: Auth,
    /// Configured advert interval in centiseconds (VRRPv2: whole seconds × 100).
    pub interval_cs: u16,
    pub unicast: bool,
    /// The instance's virtual addresses (`vrrp->vip`).
    pub vips: &'a [IpAddr],
    /// keepalived's `check_vip_addr`: always for a master; for a backup unless
    /// `skip_check_adv_addr` and the advert comes from the known master.
    pub check_vip_addr: bool,
    /// `check_unicast_src` (per instance or global).
    pub check_unicast_src: bool,
    pub unicast_peers: &'a [UnicastPeer],
    /// The instance is BACKUP (AH: a valid advert then clears the counter's cycle flag).
    pub is_backup: bool,
    /// Global `vrrp_mcast_group4` (for the old unicast checksum).
    pub mcast_group4: Ipv4Addr,
    /// VRRPv3 over IPv4 checksummed without the pseudo-header.
    pub v3_checksum_as_v2: bool,
}

/// Why a received packet is not accepted (the first failed check).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RxError {
    #[error("packet too short for its headers ({len} bytes)")]
    Truncated { len: usize },
    #[error("not an IPv4 packet")]
    NotIpv4,
    #[error("IPv4 header length below 20 bytes")]
    BadIpHeaderLength,
    #[error("IP protocol {0} is neither VRRP nor AH")]
    UnexpectedProtocol(u8),
    #[error("AH header for next header {0}, not VRRP: dropped")]
    AhNotVrrp(u8),
    #[error("VRID {received}, this instance is {expected}")]
    VridMismatch { received: u8, expected: u8 },
    #[error("AH header present: {ah_present}; it must be present iff auth type is AH")]
    AhPresenceMismatch { ah_present: bool },
    #[error("vrrp packet length {received}, expected {expected}")]
    LengthMismatch { received: usize, expected: usize },
    #[error("invalid TTL/hop limit {ttl}, expected 255")]
    TtlNot255 { ttl: u8 },
    #[error("wrong version {received}, expected {expected}")]
    VersionMismatch { received: u8, expected: u8 },
    #[error("invalid auth type {0}")]
    InvalidAuthType(u8),
    #[error("received auth type {received}, expected {expected}")]
    AuthTypeMismatch { received: u8, expected: u8 },
    #[error("invalid password")]
    PasswordMismatch,
    #[error("IPSEC-AH: invalid HMAC-MD5 ICV (mutated fields or bad password)")]
    AhIcvMismatch,
    #[error("IPSEC-AH: SPI {spi:#010x} is not the source address {sender}")]
    AhSpiMismatch { spi: u32, sender: Ipv4Addr },
    #[error("IPSEC-AH: sequence number {sequence} already processed (local {last})")]
    AhReplay { sequence: u32, last: u32 },
    #[error("advertisement interval mismatch: received {received_secs} s, ours {expected_cs} cs")]
    IntervalMismatch { received_secs: u8, expected_cs: u16 },
    #[error("invalid packet type {0}, expected 1 (advertisement)")]
    InvalidType(u8),
    #[error("received {received} addresses, expected {expected}")]
    AddressCountMismatch { received: u8, expected: usize },
    #[error("IP total length {total_len} differs from the {received} bytes received")]
    TotalLengthMismatch { total_len: u16, received: usize },
    #[error("invalid VRRP checksum {received:#06x}")]
    BadChecksum { received: u16 },
    #[error("unicast/multicast mismatch (instance unicast: {expected_unicast})")]
    CastMismatch { expected_unicast: bool },
    #[error("virtual address {0} missing from the advert")]
    MissingVip(IpAddr),
    #[error("unicast source {0} is not a unicast peer")]
    NotUnicastPeer(IpAddr),
    #[error("TTL/hop limit {ttl} outside {min}..={max}")]
    TtlOutOfRange { ttl: u8, min: u8, max: u8 },
}

impl RxError {
    pub(super) fn from_ipv4(error: Ipv4HeaderError, len: usize) -> Self {
        match error {
            Ipv4HeaderError::Truncated => RxError::Truncated { len },
            Ipv4HeaderError::NotVersion4 => RxError::NotIpv4,
            Ipv4HeaderError::BadHeaderLength => RxError::BadIpHeaderLength,
        }
    }

    /// keepalived's `VRRP_PACKET_DROP` ("not relevant to us") rather than `KO`: an AH
    /// header for another protocol, a VRRPv2 interval mismatch, a foreign VRID.
    /// Both mean "ignore the packet" to the state machine.
    pub fn is_drop(&self) -> bool {
        matches!(
            self,
            RxError::AhNotVrrp(_) | RxError::IntervalMismatch { .. } | RxError::VridMismatch { .. }
        )
    }
}

/// Checks a received packet against the instance; on failure counts the error in
/// `stats` and returns it. See the module documentation for the order.
pub fn validate(
    bytes: &[u8],
    meta: &RxMeta,
    expect: &InstanceExpectations<'_>,
    stats: &mut Stats,
    state: &mut WireState,
) -> Result<Advert, RxError> {
    let result = check(bytes, meta, expect, stats, state);
    if let Err(error) = &result {
        stats.count(error);
    }
    result
}

/// Where things are in the received bytes, from `vrrp_get_header()`.
struct Layout {
    family: Family,
    ip: Option<Ipv4Header>,
    /// Offset of the VRRP header.
    vrrp_offset: usize,
    source: IpAddr,
    ttl: Option<u8>,
    multicast: bool,
    ipv6_destination: Option<Ipv6Addr>,
}

fn layout(bytes: &[u8], meta: &RxMeta) -> Result<Layout, RxError> {
    let len = bytes.len();
    match meta {
        RxMeta::Ipv4 => {
            let ip = Ipv4Header::parse(bytes).map_err(|e| RxError::from_ipv4(e, len))?;
            let vrrp_offset = match ip.protocol {
                IPPROTO_VRRP => ip.header_len,
                IPPROTO_AH => ip.header_len + AH_HEADER_LEN,
                other => return Err(RxError::UnexpectedProtocol(other)),
            };
            if len < vrrp_offset + VRRP_HEADER_LEN {
                return Err(RxError::Truncated { len });
            }
            Ok(Layout {
                family: Family::Ipv4,
                vrrp_offset,
                source: IpAddr::V4(ip.source),
                ttl: Some(ip.ttl),
                multicast: ip.destination.is_multicast(),
                ipv6_destination: None,
                ip: Some(ip),
            })
        }
        RxMeta::Ipv6 {
            source,
            destination,
            hop_limit,
        } => {
            if len < VRRP_HEADER_LEN {
                return Err(RxError::Truncated { len });
            }
            Ok(Layout {
                family: Family::Ipv6,
                ip: None,
                vrrp_offset: 0,
                source: IpAddr::V6(*source),
                ttl: *hop_limit,
                multicast: destination.is_some_and(|d| d.is_multicast()),
                ipv6_destination: *destination,
            })
        }
    }
}

fn check(
    bytes: &[u8],
    meta: &RxMeta,
    expect: &InstanceExpectations<'_>,
    stats: &mut Stats,
    state: &mut WireState,
) -> Result<Advert, RxError> {
    let len = bytes.len();
    let at = layout(bytes, meta)?;
    let vrrp = bytes
        .get(at.vrrp_offset..)
        .ok_or(RxError::Truncated { len })?;
    let hd = VrrpHeader::parse(vrrp).ok_or(RxError::Truncated { len })?;

    // keepalived demultiplexes on the VRID before any instance looks at the packet.
    if hd.vrid != expect.vrid {
        return Err(RxError::VridMismatch {
            received: hd.vrid,
            expected: expect.vrid,
        });
    }

    // RFC 2402 / keepalived: an AH header if and only if we use AH.
    let mut expected_len = 0usize;
    if let Some(ip) = &at.ip {
        let ah_present = ip.protocol == IPPROTO_AH;
        if ah_present != expect.auth.is_ah() {
            return Err(RxError::AhPresenceMismatch { ah_present });
        }
        expected_len = at.vrrp_offset;
    }
    expected_len += expected_vrrp_len(&hd, at.family);

    // RFC 3768 §7.1 / RFC 5798 §7.1: the whole message, addresses included.
    if len != expected_len {
        return Err(RxError::LengthMismatch {
            received: len,
            expected: expected_len,
        });
    }

    // RFC 5798 §7.1: TTL / hop limit 255, except for unicast (keepalived).
    if !expect.unicast
        && let Some(ttl) = at.ttl
        && ttl != VRRP_TTL
    {
        return Err(RxError::TtlNot255 { ttl });
    }

    let our_version = version_number(expect.version);
    if hd.version != our_version {
        return Err(RxError::VersionMismatch {
            received: hd.version,
            expected: our_version,
        });
    }

    if expect.version == Version::V2 {
        check_v2_auth(bytes, &at, &hd, expect, state)?;

        // RFC 3768 §7.1: a v2 interval mismatch is dropped (keepalived: to avoid two
        // masters for one VRID).
        if u32::from(expect.interval_cs) != u32::from(hd.v2_interval_secs()) * 100 {
            return Err(RxError::IntervalMismatch {
                received_secs: hd.v2_interval_secs(),
                expected_cs: expect.interval_cs,
            });
        }
    }

    if hd.kind != VRRP_TYPE_ADVERT {
        return Err(RxError::InvalidType(hd.kind));
    }

    if expect.check_vip_addr && usize::from(hd.address_count) != expect.vips.len() {
        return Err(RxError::AddressCountMismatch {
            received: hd.address_count,
            expected: expect.vips.len(),
        });
    }

    if let Some(ip) = &at.ip
        && usize::from(ip.total_len) != len
    {
        return Err(RxError::TotalLengthMismatch {
            total_len: ip.total_len,
            received: len,
        });
    }

    check_checksum(vrrp, &at, &hd, expect, state)?;

    // Multicast destination if and only if the instance is not unicast.
    if at.multicast == expect.unicast {
        return Err(RxError::CastMismatch {
            expected_unicast: expect.unicast,
        });
    }

    stats.advert_rcvd = stats.advert_rcvd.saturating_add(1);

    let addresses =
        read_addresses(vrrp, hd.address_count, at.family).ok_or(RxError::Truncated { len })?;

    if expect.check_vip_addr {
        // RFC 3768 §7.1 (MAY): the configured addresses must all be in the advert.
        if let Some(missing) = expect.vips.iter().find(|vip| !addresses.contains(vip)) {
            return Err(RxError::MissingVip(*missing));
        }
        if expect.unicast && expect.check_unicast_src {
            let peer = expect
                .unicast_peers
                .iter()
                .find(|peer| peer.address == at.source)
                .ok_or(RxError::NotUnicastPeer(at.source))?;
            if let Some(ttl) = at.ttl
                && (ttl < peer.min_ttl || ttl > peer.max_ttl)
            {
                return Err(RxError::TtlOutOfRange {
                    ttl,
                    min: peer.min_ttl,
                    max: peer.max_ttl,
                });
            }
        }
    }

    if hd.priority == 0 {
        stats.pri_zero_rcvd = stats.pri_zero_rcvd.saturating_add(1);
    }

    let interval_cs = match expect.version {
        Version::V2 => u16::from(hd.v2_interval_secs()) * 100,
        Version::V3 => hd.v3_interval_cs(),
    };
    Ok(Advert {
        version: expect.version,
        vrid: hd.vrid,
        priority: hd.priority,
        interval_cs,
        addresses,
        source: at.source,
    })
}

/// VRRPv2 authentication checks (RFC 2338 §5.3.6, keepalived `vrrp_check_packet()`).
fn check_v2_auth(
    bytes: &[u8],
    at: &Layout,
    hd: &VrrpHeader,
    expect: &InstanceExpectations<'_>,
    state: &mut WireState,
) -> Result<(), RxError> {
    let auth_type = hd.v2_auth_type();
    if !matches!(auth_type, AUTH_TYPE_NONE | AUTH_TYPE_PASS | AUTH_TYPE_AH) {
        return Err(RxError::InvalidAuthType(auth_type));
    }
    if auth_type != expect.auth.type_code() {
        return Err(RxError::AuthTypeMismatch {
            received: auth_type,
            expected: expect.auth.type_code(),
        });
    }
    match (&expect.auth, &at.ip) {
        (Auth::None, _) => Ok(()),
        (Auth::Pass(pass), Some(ip)) => {
            // keepalived reads the password at (IP total length − 8), before it has
            // compared the total length with what was received.
            let end = usize::from(ip.total_len);
            let received = end
                .checked_sub(VRRP_AUTH_DATA_LEN)
                .and_then(|start| bytes.get(start..end))
                .ok_or(RxError::PasswordMismatch)?;
            if constant_time_eq(received, pass) {
                Ok(())
            } else {
                Err(RxError::PasswordMismatch)
            }
        }
        (Auth::Ah { key }, Some(ip)) => check_ah(bytes, ip, at, key, expect, state),
        // VRRP over IPv6 carries no authentication data at all.
        (Auth::Pass(_), None) => Err(RxError::PasswordMismatch),
        (Auth::Ah { .. }, None) => Err(RxError::AhIcvMismatch),
    }
}

/// keepalived `vrrp_in_chk_ipsecah()`: ICV, then SPI, then the sequence number.
fn check_ah(
    bytes: &[u8],
    ip: &Ipv4Header,
    at: &Layout,
    key: &[u8; VRRP_AUTH_DATA_LEN],
    expect: &InstanceExpectations<'_>,
    state: &mut WireState,
) -> Result<(), RxError> {
    let len = bytes.len();
    let ah_bytes: &[u8; AH_HEADER_LEN] = bytes
        .get(ip.header_len..at.vrrp_offset)
        .and_then(|b| b.try_into().ok())
        .ok_or(RxError::Truncated { len })?;
    let ah = AhHeader::parse(ah_bytes).ok_or(RxError::Truncated { len })?;
    if ah.next_header != IPPROTO_VRRP {
        return Err(RxError::AhNotVrrp(ah.next_header));
    }

    let ip_bytes = bytes
        .get(..ip.header_len)
        .ok_or(RxError::Truncated { len })?;
    let vrrp = bytes
        .get(at.vrrp_offset..)
        .ok_or(RxError::Truncated { len })?;
    let icv = ah_icv(key, ip_bytes, expect.unicast, ah_bytes, vrrp);
    if !constant_time_eq(&icv, &ah.icv) {
        return Err(RxError::AhIcvMismatch);
    }

    if ah.spi != u32::from(ip.source) {
        return Err(RxError::AhSpiMismatch {
            spi: ah.spi,
            sender: ip.source,
        });
    }

    let last = state.ah.seq_number;
    if !state.ah.accept_rx(ah.sequence) {
        return Err(RxError::AhReplay {
            sequence: ah.sequence,
            last,
        });
    }
    // keepalived: a backup that sees a valid sequence number at or above its counter
    // (always true right after accepting it) clears the cycle flag.
    if expect.is_backup {
        state.ah.cycle = false;
    }
    Ok(())
}

/// RFC 3768 §7.1 / RFC 5798 §7.1: the checksum. For IPv4 keepalived checks it itself;
/// for IPv6 the kernel does (`IPV6_CHECKSUM`), and we check it again when the
/// destination is known.
fn check_checksum(
    vrrp: &[u8],
    at: &Layout,
    hd: &VrrpHeader,
    expect: &InstanceExpectations<'_>,
    state: &mut WireState,
) -> Result<(), RxError> {
    let vrrp_len = expected_vrrp_len(hd, at.family);
    let message = vrrp
        .get(..vrrp_len)
        .ok_or(RxError::Truncated { len: vrrp.len() })?;
    // A VRRP message is at most 8 + 255 × 16 bytes.
    let len16 = u16::try_from(vrrp_len).unwrap_or(u16::MAX);
    let bad = || RxError::BadChecksum {
        received: hd.checksum,
    };
    match (&at.ip, at.ipv6_destination, &at.source) {
        (Some(ip), _, _) => {
            if hd.version != 3 || expect.v3_checksum_as_v2 {
                return if internet_checksum(message) == 0 {
                    Ok(())
                } else {
                    Err(bad())
                };
            }
            let compat = state.unicast_checksum_compat;
            let destination = if compat.uses_group() {
                expect.mcast_group4
            } else {
                ip.destination
            };
            let verify = |dst: Ipv4Addr| {
                ipv4_pseudo_header(ip.source, dst, len16)
                    .add_bytes(message)
                    .finish()
                    == 0
            };
            if verify(destination) {
                return Ok(());
            }
            // keepalived: a unicast advert from a keepalived ≤ 1.3.5 has the multicast
            // group in its pseudo-header; accept it and switch to that mode.
            if expect.unicast
                && compat == UnicastChecksumCompat::Rfc
                && destination != expect.mcast_group4
                && verify(expect.mcast_group4)
            {
                state.unicast_checksum_compat = UnicastChecksumCompat::Auto;
                return Ok(());
            }
            Err(bad())
        }
        (None, Some(destination), IpAddr::V6(source)) => {
            if ipv6_pseudo_header(*source, destination, len16)
                .add_bytes(message)
                .finish()
                == 0
            {
                Ok(())
            } else {
                Err(bad())
            }
        }
        // IPv6 without IPV6_PKTINFO: left to the kernel.
        _ => Ok(()),
    }
}
