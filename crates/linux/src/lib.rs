//! Kernel side of VRRP for keepalived-rs: the thin I/O shell around the
//! sans-IO `vrrp` crate.
//!
//! (API overview: see the end of the implementation; filled in below.)

#[allow(unsafe_code)]
mod sys;

pub mod addr;
pub mod bpf;
pub mod garp;
pub mod link;
pub mod monitor;
pub mod netlink;
pub mod sysctl;
pub mod vrrp_socket;

pub use netlink::{Change, Netlink, NetlinkError};

use std::fmt;

/// An Ethernet (EUI-48) hardware address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The VRRP virtual MAC of RFC 5798 §7.3: `00:00:5e:00:01:VRID` for IPv4,
    /// `00:00:5e:00:02:VRID` for IPv6.
    pub const fn vrrp(vrid: u8, ipv6: bool) -> Self {
        Self([0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid])
    }

    /// From a netlink hardware-address attribute; `None` unless 6 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 6]>::try_from(bytes).ok().map(Self)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An interface by index and name (the name is needed for SO_BINDTODEVICE
/// and /proc/sys paths, the index for everything else).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfRef {
    /// Kernel interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
}
