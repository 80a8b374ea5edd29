//! Virtual (and static) IP addresses on interfaces, over rtnetlink.
//!
//! keepalived: `netlink_ipaddress()` in `vrrp_ipaddress.c`, and the option
//! parsing of `parse_ipaddress()` there, whose defaults [`AddressSpec::new`]
//! reproduces.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::netlink::{Change, Netlink, NetlinkError};

/// "forever" for address lifetimes.
pub const INFINITY_LIFE_TIME: u32 = u32::MAX;

fn cache_info(preferred_lft: u32) -> CacheInfo {
    let mut info = CacheInfo::default();
    info.ifa_preferred = preferred_lft;
    info.ifa_valid = INFINITY_LIFE_TIME;
    info
}

/// One address to add, with keepalived's `virtual_ipaddress` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// Interface index (`dev`).
    pub ifindex: u32,
    /// The address itself.
    pub address: IpAddr,
    /// Prefix length (`/N`; keepalived defaults to 32 / 128).
    pub prefix_len: u8,
    /// `peer ADDR`: point-to-point peer.
    pub peer: Option<IpAddr>,
    /// `brd ADDR` (IPv4 only). Unlike `ip addr add`, keepalived adds no
    /// broadcast unless told.
    pub broadcast: Option<Ipv4Addr>,
    /// `scope` as RT_SCOPE_* (0 = global). Ignored for IPv6, as upstream.
    pub scope: u8,
    /// `label` (IPv4 only).
    pub label: Option<String>,
    /// IFA_F_NODAD: on for IPv6 unless `-nodad` (keepalived disables DAD on
    /// VIPs so that a transient split brain cannot leave them `dadfailed`).
    pub nodad: bool,
    /// `preferred_lft` (IPv6 only). keepalived's default is 0 for a /128
    /// (deprecated, so never picked as a source) and forever otherwise.
    pub preferred_lft: u32,
    /// `home` (IFA_F_HOMEADDRESS).
    pub home: bool,
    /// `noprefixroute` (IFA_F_NOPREFIXROUTE).
    pub noprefixroute: bool,
    /// `mngtmpaddr` (IFA_F_MANAGETEMPADDR).
    pub mngtmpaddr: bool,
}

impl AddressSpec {
    /// An address with keepalived's defaults for every option.
    pub fn new(ifindex: u32, address: IpAddr, prefix_len: u8) -> Self {
        let v6 = address.is_ipv6();
        Self {
            ifindex,
            address,
            prefix_len,
            peer: None,
            broadcast: None,
            scope: 0,
            label: None,
            nodad: v6,
            preferred_lft: if v6 && prefix_len == 128 {
                0
            } else {
                INFINITY_LIFE_TIME
            },
            home: false,
            noprefixroute: false,
            mngtmpaddr: false,
        }
    }

    fn describe(&self, verb: &str) -> String {
        format!(
            "{verb} address {}/{} on ifindex {}",
            self.address, self.prefix_len, self.ifindex
        )
    }

    /// The RTM_NEWADDR message keepalived would send.
    pub fn to_message(&self) -> AddressMessage {
        let mut message = AddressMessage::default();
        message.header.index = self.ifindex;
        message.header.prefix_len = self.prefix_len;
        let mut flags = AddressFlags::empty();
        flags.set(AddressFlags::Homeaddress, self.home);
        flags.set(AddressFlags::Noprefixroute, self.noprefixroute);
        flags.set(AddressFlags::Managetempaddr, self.mngtmpaddr);
        match self.address {
            IpAddr::V4(v4) => {
                message.header.family = AddressFamily::Inet;
                message.header.scope = AddressScope::from(self.scope);
                message
                    .attributes
                    .push(AddressAttribute::Local(IpAddr::V4(v4)));
                if let Some(brd) = self.broadcast {
                    message.attributes.push(AddressAttribute::Broadcast(brd));
                }
                if let Some(label) = &self.label {
                    message
                        .attributes
                        .push(AddressAttribute::Label(label.clone()));
                }
            }
            IpAddr::V6(v6) => {
                message.header.family = AddressFamily::Inet6;
                if self.preferred_lft != INFINITY_LIFE_TIME {
                    message
                        .attributes
                        .push(AddressAttribute::CacheInfo(cache_info(self.preferred_lft)));
                }
                flags.set(AddressFlags::Nodad, self.nodad);
                message
                    .attributes
                    .push(AddressAttribute::Local(IpAddr::V6(v6)));
            }
        }
        if !flags.is_empty() {
            message.attributes.push(AddressAttribute::Flags(flags));
            // Old kernels read only the 8-bit header field.
            message.header.flags = AddressHeaderFlags::from_bits_truncate(flags.bits() as u8);
        }
        if let Some(peer) = self.peer {
            message.attributes.push(AddressAttribute::Address(peer));
        }
        message
    }
}

/// An address the kernel reports on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// Interface index.
    pub ifindex: u32,
    /// The local address (IFA_LOCAL, or IFA_ADDRESS when there is none).
    pub address: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Peer address of a point-to-point address.
    pub peer: Option<IpAddr>,
    /// IFA_LABEL.
    pub label: Option<String>,
    /// Scope (RT_SCOPE_*).
    pub scope: u8,
    /// IFA_FLAGS (IFA_F_*), falling back on the 8-bit header field.
    pub flags: u32,
}

impl InterfaceAddress {
    /// From an RTM_NEWADDR/RTM_DELADDR message; `None` if it has no address.
    pub fn from_message(message: &AddressMessage) -> Option<Self> {
        let mut local = None;
        let mut address = None;
        let mut label = None;
        let mut flags = u32::from(message.header.flags.bits());
        for attribute in &message.attributes {
            match attribute {
                AddressAttribute::Local(a) => local = Some(*a),
                AddressAttribute::Address(a) => address = Some(*a),
                AddressAttribute::Label(l) => label = Some(l.clone()),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        let (address, peer) = match (local, address) {
            (Some(local), Some(address)) if local != address => (local, Some(address)),
            (Some(local), _) => (local, None),
            (None, Some(address)) => (address, None),
            (None, None) => return None,
        };
        Some(Self {
            ifindex: message.header.index,
            address,
            prefix_len: message.header.prefix_len,
            peer,
            label,
            scope: u8::from(message.header.scope),
            flags,
        })
    }
}

impl Netlink {
    /// Adds an address. An address already present (EEXIST) is success
    /// ([`Change::AlreadyInPlace`]); its options are then left as they are.
    pub async fn add_address(&self, spec: &AddressSpec) -> Result<Change, NetlinkError> {
        let message = RouteNetlinkMessage::NewAddress(spec.to_message());
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        match self.acked(|| spec.describe("add"), message, flags).await {
            Ok(()) => Ok(Change::Done),
            Err(e) if e.errno() == Some(libc::EEXIST) => Ok(Change::AlreadyInPlace),
            Err(e) => Err(e),
        }
    }

    /// Deletes an address. An address not there (EADDRNOTAVAIL), or an
    /// interface that has gone (ENODEV, which took its addresses with it:
    /// keepalived ignores that too), is success.
    pub async fn delete_address(
        &self,
        ifindex: u32,
        address: IpAddr,
        prefix_len: u8,
    ) -> Result<Change, NetlinkError> {
        let mut message = AddressMessage::default();
        message.header.index = ifindex;
        message.header.prefix_len = prefix_len;
        message.header.family = if address.is_ipv4() {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        };
        message.attributes.push(AddressAttribute::Local(address));
        if address.is_ipv4() {
            message.attributes.push(AddressAttribute::Address(address));
        }
        let op = || format!("delete address {address}/{prefix_len} on ifindex {ifindex}");
        match self
            .acked(
                op,
                RouteNetlinkMessage::DelAddress(message),
                NLM_F_REQUEST | NLM_F_ACK,
            )
            .await
        {
            Ok(()) => Ok(Change::Done),
            Err(e) if matches!(e.errno(), Some(libc::EADDRNOTAVAIL | libc::ENODEV)) => {
                Ok(Change::AlreadyInPlace)
            }
            Err(e) => Err(e),
        }
    }

    /// Lists the addresses of one interface, or of all with `None`.
    pub async fn list_addresses(
        &self,
        ifindex: Option<u32>,
    ) -> Result<Vec<InterfaceAddress>, NetlinkError> {
        let mut request = AddressMessage::default();
        if let Some(index) = ifindex {
            request.header.index = index;
        }
        let answers = self
            .dump(
                || "list addresses".to_owned(),
                RouteNetlinkMessage::GetAddress(request),
            )
            .await?;
        Ok(answers
            .iter()
            .filter_map(|answer| match answer {
                RouteNetlinkMessage::NewAddress(m) => InterfaceAddress::from_message(m),
                _ => None,
            })
            // The kernel ignores the index of a non-strict dump request.
            .filter(|a| ifindex.is_none_or(|i| a.ifindex == i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_host_vip_gets_upstream_defaults() {
        let spec = AddressSpec::new(3, "2001:db8::1".parse().expect("literal"), 128);
        assert!(spec.nodad);
        assert_eq!(spec.preferred_lft, 0);
        let message = spec.to_message();
        assert_eq!(message.header.family, AddressFamily::Inet6);
        let Some(AddressAttribute::CacheInfo(info)) = message
            .attributes
            .iter()
            .find(|a| matches!(a, AddressAttribute::CacheInfo(_)))
        else {
            panic!("no IFA_CACHEINFO")
        };
        assert_eq!(
            (info.ifa_preferred, info.ifa_valid),
            (0, INFINITY_LIFE_TIME)
        );
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Flags(AddressFlags::Nodad))
        );
    }

    #[test]
    fn ipv6_prefix_vip_is_preferred_forever_without_cacheinfo() {
        let spec = AddressSpec::new(3, "2001:db8::1".parse().expect("literal"), 64);
        assert_eq!(spec.preferred_lft, INFINITY_LIFE_TIME);
        let message = spec.to_message();
        assert!(
            !message
                .attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::CacheInfo(_)))
        );
    }

    #[test]
    fn ipv4_vip_has_no_implicit_broadcast_and_keeps_label_scope() {
        let mut spec = AddressSpec::new(2, "192.0.2.10".parse().expect("literal"), 24);
        assert!(!spec.nodad);
        spec.label = Some("eth0:vip".into());
        spec.scope = 253;
        let message = spec.to_message();
        assert!(
            !message
                .attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::Broadcast(_)))
        );
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Label("eth0:vip".into()))
        );
        assert_eq!(message.header.scope, AddressScope::Link);
        assert!(
            !message
                .attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::Flags(_)))
        );
    }

    #[test]
    fn flags_options_map_to_ifa_flags() {
        let mut spec = AddressSpec::new(2, "2001:db8::5".parse().expect("literal"), 64);
        spec.nodad = false;
        spec.home = true;
        spec.noprefixroute = true;
        spec.mngtmpaddr = true;
        let message = spec.to_message();
        let expected =
            AddressFlags::Homeaddress | AddressFlags::Noprefixroute | AddressFlags::Managetempaddr;
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Flags(expected))
        );
    }

    #[test]
    fn parses_peer_and_label_back() {
        let mut spec = AddressSpec::new(4, "10.0.0.1".parse().expect("literal"), 32);
        spec.peer = Some("10.0.0.2".parse().expect("literal"));
        spec.label = Some("lbl".into());
        let parsed = InterfaceAddress::from_message(&spec.to_message()).expect("has address");
        assert_eq!(
            parsed.address,
            "10.0.0.1".parse::<IpAddr>().expect("literal")
        );
        assert_eq!(parsed.peer, Some("10.0.0.2".parse().expect("literal")));
        assert_eq!(parsed.label.as_deref(), Some("lbl"));
        assert_eq!(parsed.ifindex, 4);
    }
}
