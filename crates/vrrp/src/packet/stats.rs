//! Per-instance counters, named as keepalived names them in its SIGUSR2 stats and
//! JSON dumps (`vrrp_stats` in `include/vrrp.h`, `vrrp_json.c`).

use super::validate::RxError;

/// Counters of one VRRP instance.
///
/// The first block are keepalived's JSON field names, in its order. The state machine
/// bumps `advert_sent`, `become_master`, `release_master` and `pri_zero_sent`; the
/// receive checks ([`super::validate()`]) bump the others.
///
/// The second block are counters keepalived does not print: `version_err`,
/// `checksum_err` and `vrid_err` exist in keepalived only for SNMP (`vers_err`,
/// `chk_err`, `vrid_err`); `malformed_err` and `unicast_src_err` count drops that
/// keepalived only logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    /// keepalived 2.2.7 declares this but never increments it (a VRRPv2 interval
    /// mismatch is dropped silently); we count that drop here, as the name says.
    pub advert_interval_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,

    /// VRRP version differs from the instance's (keepalived SNMP `vers_err`).
    pub version_err: u64,
    /// Bad VRRP checksum (keepalived SNMP `chk_err`).
    pub checksum_err: u64,
    /// Advert for another VRID (keepalived ignores it before any instance sees it).
    pub vrid_err: u64,
    /// Too short for its headers, not IPv4, bad IHL, unknown protocol, or an AH header
    /// that does not carry VRRP (keepalived: logged or silently dropped).
    pub malformed_err: u64,
    /// Unicast source is not a configured peer (keepalived: logged only).
    pub unicast_src_err: u64,
}

impl Stats {
    /// Counts a receive failure in the counter keepalived uses for it.
    pub fn count(&mut self, error: &RxError) {
        let counter = match error {
            RxError::Truncated { .. }
            | RxError::NotIpv4
            | RxError::BadIpHeaderLength
            | RxError::UnexpectedProtocol(_)
            | RxError::AhNotVrrp(_) => &mut self.malformed_err,
            RxError::VridMismatch { .. } => &mut self.vrid_err,
            RxError::AhPresenceMismatch { .. } | RxError::AuthTypeMismatch { .. } => {
                &mut self.authtype_mismatch
            }
            RxError::LengthMismatch { .. } | RxError::TotalLengthMismatch { .. } => {
                &mut self.packet_len_err
            }
            RxError::TtlNot255 { .. } | RxError::TtlOutOfRange { .. } => &mut self.ip_ttl_err,
            RxError::VersionMismatch { .. } => &mut self.version_err,
            RxError::InvalidAuthType(_) => &mut self.invalid_authtype,
            RxError::PasswordMismatch
            | RxError::AhIcvMismatch
            | RxError::AhSpiMismatch { .. }
            | RxError::AhReplay { .. } => &mut self.auth_failure,
            RxError::IntervalMismatch { .. } => &mut self.advert_interval_err,
            RxError::InvalidType(_) => &mut self.invalid_type_rcvd,
            RxError::AddressCountMismatch { .. }
            | RxError::CastMismatch { .. }
            | RxError::MissingVip(_) => &mut self.addr_list_err,
            RxError::BadChecksum { .. } => &mut self.checksum_err,
            RxError::NotUnicastPeer(_) => &mut self.unicast_src_err,
        };
        *counter = counter.saturating_add(1);
    }
}
