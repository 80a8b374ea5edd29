//! The advertisement as the state machine sees it, after the wire format and its checks.

use std::net::IpAddr;

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in whole seconds, optional PASS/AH authentication.
    V2,
    /// RFC 5798: IPv4 and IPv6, interval in centiseconds.
    V3,
}

/// A received (already validated) or to-be-sent advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    pub version: Version,
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// 0 = the master is stopping (RFC 5798 §6.4.3), 255 = address owner.
    pub priority: u8,
    /// Advertisement interval in centiseconds (v2 seconds × 100).
    pub interval_cs: u16,
    /// The virtual addresses carried in the packet.
    pub addresses: Vec<IpAddr>,
    /// The sender's (primary) address: the IP source of the packet.
    pub source: IpAddr,
}
