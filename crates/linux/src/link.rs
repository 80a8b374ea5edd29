//! Interfaces: lookup over rtnetlink, and keepalived's VMAC (a private-mode
//! macvlan carrying the VRRP virtual MAC) with its sysctls.
//!
//! keepalived: `netlink_link_add_vmac()` / `netlink_link_del_vmac()` in
//! `vrrp_vmac.c`, `set_interface_parameters()` / `clear_rp_filter()` in
//! `vrrp_if_config.c`, `doc/NOTE_vrrp_vmac.txt`.

use std::io;
use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkFlags, LinkInfo as NlLinkInfo, LinkMessage, MacVlanMode,
};

use crate::addr::AddressSpec;
use crate::netlink::{Change, Netlink, NetlinkError};
use crate::sysctl::SysctlChanges;
use crate::{IfRef, MacAddr};

const IPV4_CONF: &str = "net/ipv4/conf";
const IPV6_CONF: &str = "net/ipv6/conf";
const ARPHRD_ETHER: u16 = 1;

/// What the kernel says about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Hardware address, if the link has a 6-byte one.
    pub mac: Option<MacAddr>,
    /// MTU.
    pub mtu: Option<u32>,
    /// IFF_* flags.
    pub flags: u32,
    /// ARPHRD_* link-layer type (1 = Ethernet).
    pub hw_type: u16,
    /// IFLA_LINK: the parent of a macvlan/vlan/veth.
    pub parent: Option<u32>,
    /// IFLA_INFO_KIND, e.g. "macvlan", "veth".
    pub kind: Option<String>,
    /// The macvlan mode, for macvlans.
    pub macvlan_private: Option<bool>,
}

impl LinkInfo {
    /// IFF_UP: administratively up.
    pub fn is_up(&self) -> bool {
        self.flags & LinkFlags::Up.bits() != 0
    }

    /// IFF_RUNNING: keepalived's "link is usable" test is UP and RUNNING.
    pub fn is_running(&self) -> bool {
        self.flags & LinkFlags::Running.bits() != 0
    }

    /// IFF_NOARP: keepalived sends neither GARPs nor NAs on such a link.
    pub fn is_noarp(&self) -> bool {
        self.flags & LinkFlags::Noarp.bits() != 0
    }

    /// Ethernet-type link (ARPHRD_ETHER): the only kind VMACs work on.
    pub fn is_ethernet(&self) -> bool {
        self.hw_type == ARPHRD_ETHER
    }

    /// The index and name, for socket binding.
    pub fn if_ref(&self) -> IfRef {
        IfRef {
            index: self.index,
            name: self.name.clone(),
        }
    }

    /// From an RTM_NEWLINK message; `None` without a name.
    pub fn from_message(message: &LinkMessage) -> Option<Self> {
        let mut info = Self {
            index: message.header.index,
            name: String::new(),
            mac: None,
            mtu: None,
            flags: message.header.flags.bits(),
            hw_type: u16::from(message.header.link_layer_type),
            parent: None,
            kind: None,
            macvlan_private: None,
        };
        let mut has_name = false;
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::IfName(name) => {
                    info.name.clone_from(name);
                    has_name = true;
                }
                LinkAttribute::Address(bytes) => info.mac = MacAddr::from_slice(bytes),
                LinkAttribute::Mtu(mtu) => info.mtu = Some(*mtu),
                LinkAttribute::Link(parent) => info.parent = Some(*parent),
                LinkAttribute::LinkInfo(infos) => {
                    for li in infos {
                        match li {
                            NlLinkInfo::Kind(kind) => info.kind = Some(kind.to_string()),
                            NlLinkInfo::Data(InfoData::MacVlan(data)) => {
                                for d in data {
                                    if let InfoMacVlan::Mode(mode) = d {
                                        info.macvlan_private = Some(*mode == MacVlanMode::Private);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        has_name.then_some(info)
    }
}

/// Kernel limit on interface names, including the terminating NUL.
const IFNAMSIZ: usize = 16;

/// keepalived's default VMAC name, `<prefix>.<VRID>` with the default
/// prefix `vrrp`, for IPv4 and IPv6 alike (the first of
/// [`vmac_name_candidates`]).
pub fn default_vmac_name(vrid: u8) -> String {
    vmac_name_candidates("vrrp", vrid, false)
        .next()
        .unwrap_or_default()
}

/// The names keepalived tries, in order, for a VMAC without a configured
/// name (`create_vmac_name()`; `prefix` is `vmac_prefix`, default `vrrp`):
/// `<prefix>.<VRID>`, then `<prefix><N>.<VRID>` with N = 1, 2, … — for IPv6
/// N = 6 first, then 1…5, 7, …. The caller takes the first one no other
/// instance uses and no unrelated interface has. A name too long for
/// IFNAMSIZ loses the end of the prefix, as upstream.
pub fn vmac_name_candidates(
    prefix: &str,
    vrid: u8,
    ipv6: bool,
) -> impl Iterator<Item = String> + '_ {
    // IPv6 tries 6 first ("vrrp6"), then the rest in order without it.
    let ipv6_first = ipv6.then_some(6u16);
    let rest = (1..=u16::MAX).filter(move |n| !(ipv6 && *n == 6));
    let numbers = std::iter::once(None).chain(ipv6_first.into_iter().chain(rest).map(Some));
    numbers.map(move |num| {
        let tail = match num {
            Some(n) => format!("{n}.{vrid}"),
            None => format!(".{vrid}"),
        };
        let room = (IFNAMSIZ - 1).saturating_sub(tail.len());
        let mut cut = prefix.len().min(room);
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}{tail}", &prefix[..cut])
    })
}

/// The EUI-64 link-local address (RFC 4291 §2.5.1, RFC 4862 §5.3) of `mac`:
/// keepalived gives an IPv6 VMAC the link-local address derived from the
/// parent's MAC, since `addr_gen_mode none` stops the kernel making one.
pub fn link_local_from_mac(mac: MacAddr) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac.0;
    Ipv6Addr::from([
        0xfe,
        0x80,
        0,
        0,
        0,
        0,
        0,
        0,
        a ^ 0x02,
        b,
        c,
        0xff,
        0xfe,
        d,
        e,
        f,
    ])
}

/// A VMAC to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    /// The interface the macvlan sits on (`interface`).
    pub parent: IfRef,
    /// The virtual router id: last byte of the MAC.
    pub vrid: u8,
    /// IPv6 instance: MAC `00:00:5e:00:02:VRID`, `addr_gen_mode none`, and a
    /// link-local address from the parent's MAC.
    pub ipv6: bool,
    /// Interface name (`use_vmac NAME`); see [`default_vmac_name`] and
    /// [`vmac_name_candidates`].
    pub name: String,
    /// The instance has `virtual_ipaddress_excluded` of the other family:
    /// keepalived then keeps IPv6 enabled on an IPv4 VMAC.
    pub other_family_vips: bool,
}

impl VmacSpec {
    /// keepalived's defaults for `use_vmac` with no name.
    pub fn new(parent: IfRef, vrid: u8, ipv6: bool) -> Self {
        Self {
            parent,
            vrid,
            ipv6,
            name: default_vmac_name(vrid),
            other_family_vips: false,
        }
    }

    /// The virtual MAC.
    pub fn mac(&self) -> MacAddr {
        MacAddr::vrrp(self.vrid, self.ipv6)
    }
}

/// Errors of VMAC management.
#[derive(Debug, thiserror::Error)]
pub enum VmacError {
    /// A netlink request failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// An interface of that name exists but is not our macvlan.
    #[error(
        "interface {name} exists and is not a private macvlan on ifindex {parent} with MAC {mac}"
    )]
    NameTaken {
        /// The VMAC name.
        name: String,
        /// The wanted parent.
        parent: u32,
        /// The wanted MAC.
        mac: MacAddr,
    },
    /// The parent is not an Ethernet-type link (keepalived puts the
    /// instance in FAULT).
    #[error("VMAC parent {0} is not an Ethernet interface")]
    ParentNotEthernet(String),
    /// The parent interface does not exist.
    #[error("VMAC parent ifindex {0} not found")]
    ParentMissing(u32),
    /// The VMAC vanished right after being created.
    #[error("VMAC {0} not found after creation")]
    Vanished(String),
    /// A sysctl could not be written.
    #[error("sysctl on {iface}: {source}")]
    Sysctl {
        /// Interface whose sysctl failed.
        iface: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// A VMAC as set up by [`Netlink::create_vmac`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// The macvlan.
    pub link: LinkInfo,
    /// False when an existing matching interface was reused (keepalived
    /// reuses one left over by a previous run, and then must not delete it
    /// unless it is told to).
    pub created: bool,
}

impl Netlink {
    /// Every interface.
    pub async fn list_links(&self) -> Result<Vec<LinkInfo>, NetlinkError> {
        let answers = self
            .dump(
                || "list links".to_owned(),
                RouteNetlinkMessage::GetLink(LinkMessage::default()),
            )
            .await?;
        Ok(answers
            .iter()
            .filter_map(|a| match a {
                RouteNetlinkMessage::NewLink(m) => LinkInfo::from_message(m),
                _ => None,
            })
            .collect())
    }

    /// One interface by name; `Ok(None)` if there is none.
    pub async fn link_by_name(&self, name: &str) -> Result<Option<LinkInfo>, NetlinkError> {
        let mut request = self.handle().link().get().match_name(name.to_owned());
        let message = request.message_mut().clone();
        self.get_one(format!("get link {name}"), message).await
    }

    /// One interface by index; `Ok(None)` if there is none.
    pub async fn link_by_index(&self, index: u32) -> Result<Option<LinkInfo>, NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        self.get_one(format!("get link {index}"), message).await
    }

    async fn get_one(
        &self,
        op: String,
        message: LinkMessage,
    ) -> Result<Option<LinkInfo>, NetlinkError> {
        let mut request =
            netlink_packet_core::NetlinkMessage::from(RouteNetlinkMessage::GetLink(message));
        request.header.flags = NLM_F_REQUEST;
        let mut handle = self.handle().clone();
        let mut responses = handle
            .request(request)
            .map_err(|_| NetlinkError::ConnectionClosed { op: "get link" })?;
        let mut found = None;
        while let Some(response) = futures::StreamExt::next(&mut responses).await {
            match response.payload {
                netlink_packet_core::NetlinkPayload::InnerMessage(
                    RouteNetlinkMessage::NewLink(m),
                ) => {
                    found = LinkInfo::from_message(&m);
                }
                netlink_packet_core::NetlinkPayload::Error(e) if e.code.is_some() => {
                    let source = e.to_io();
                    if matches!(source.raw_os_error(), Some(libc::ENODEV)) {
                        return Ok(None);
                    }
                    return Err(NetlinkError::Kernel { op, source });
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// Sets a link administratively up or down.
    pub async fn set_link_up(&self, index: u32, up: bool) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.change_mask = LinkFlags::Up;
        if up {
            message.header.flags = LinkFlags::Up;
        }
        let op = || format!("set link {index} {}", if up { "up" } else { "down" });
        self.acked(
            op,
            RouteNetlinkMessage::SetLink(message),
            NLM_F_REQUEST | NLM_F_ACK,
        )
        .await
    }

    /// Deletes a link; one already gone is success.
    pub async fn delete_link(&self, index: u32) -> Result<Change, NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        match self
            .acked(
                || format!("delete link {index}"),
                RouteNetlinkMessage::DelLink(message),
                NLM_F_REQUEST | NLM_F_ACK,
            )
            .await
        {
            Ok(()) => Ok(Change::Done),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(Change::AlreadyInPlace),
            Err(e) => Err(e),
        }
    }

    /// Creates (or reuses) the VMAC, applies keepalived's sysctls (recording
    /// the originals in `sysctls`), and brings it up, in keepalived's order
    /// (`netlink_link_add_vmac()`):
    ///
    /// - IPv4 VMACs: [`lower_all_rp_filter`]; on the VMAC `arp_ignore=1`,
    ///   `accept_local=1`, `rp_filter=0`, `promote_secondaries=1`; on the
    ///   parent `arp_ignore=1`, `arp_filter=1`; and `disable_ipv6=1` on the
    ///   VMAC unless [`VmacSpec::other_family_vips`].
    /// - Every VMAC: `addr_gen_mode none`, then up.
    /// - IPv6 VMACs: the EUI-64 link-local address of the parent's MAC
    ///   (nodad, preferred lifetime 0, as keepalived adds it).
    pub async fn create_vmac(
        &self,
        spec: &VmacSpec,
        sysctls: &mut SysctlChanges,
    ) -> Result<Vmac, VmacError> {
        let mac = spec.mac();
        let parent = self
            .link_by_index(spec.parent.index)
            .await?
            .ok_or(VmacError::ParentMissing(spec.parent.index))?;
        if !parent.is_ethernet() {
            return Err(VmacError::ParentNotEthernet(parent.name));
        }
        let mut created = false;
        let link = match self.link_by_name(&spec.name).await? {
            Some(existing) => {
                let ours = existing.kind.as_deref() == Some("macvlan")
                    && existing.parent == Some(spec.parent.index)
                    && existing.mac == Some(mac);
                if !ours {
                    return Err(VmacError::NameTaken {
                        name: spec.name.clone(),
                        parent: spec.parent.index,
                        mac,
                    });
                }
                existing
            }
            None => {
                let mut message = LinkMessage::default();
                message
                    .attributes
                    .push(LinkAttribute::IfName(spec.name.clone()));
                message
                    .attributes
                    .push(LinkAttribute::Link(spec.parent.index));
                message
                    .attributes
                    .push(LinkAttribute::Address(mac.0.to_vec()));
                message.attributes.push(LinkAttribute::LinkInfo(vec![
                    NlLinkInfo::Kind(InfoKind::MacVlan),
                    NlLinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                        MacVlanMode::Private,
                    )])),
                ]));
                let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
                self.acked(
                    || format!("create VMAC {}", spec.name),
                    RouteNetlinkMessage::NewLink(message),
                    flags,
                )
                .await?;
                created = true;
                self.link_by_name(&spec.name)
                    .await?
                    .ok_or_else(|| VmacError::Vanished(spec.name.clone()))?
            }
        };

        let sysctl_error = |iface: &str| {
            let iface = iface.to_owned();
            move |source| VmacError::Sysctl { iface, source }
        };
        if !spec.ipv6 {
            // keepalived: set_interface_parameters(), IPv4 VMACs only, after
            // clear_rp_filter() (which does nothing once all.rp_filter is 0).
            lower_all_rp_filter(sysctls).map_err(sysctl_error("all"))?;
            for (param, value) in [
                ("arp_ignore", 1),
                ("accept_local", 1),
                ("rp_filter", 0),
                ("promote_secondaries", 1),
            ] {
                sysctls
                    .set(IPV4_CONF, &link.name, param, value)
                    .map_err(sysctl_error(&link.name))?;
            }
            for (param, value) in [("arp_ignore", 1), ("arp_filter", 1)] {
                sysctls
                    .set(IPV4_CONF, &spec.parent.name, param, value)
                    .map_err(sysctl_error(&spec.parent.name))?;
            }
        }
        // keepalived: link_set_ipv6(): no IPv6 on an IPv4 VMAC unless the
        // instance has excluded VIPs of the other family.
        let ipv6_enabled = spec.ipv6 || spec.other_family_vips;
        sysctls
            .set(
                IPV6_CONF,
                &link.name,
                "disable_ipv6",
                u32::from(!ipv6_enabled),
            )
            .map_err(sysctl_error(&link.name))?;

        // RFC 5798 §7.4: no link-local address from the virtual MAC, which
        // every router of the VRID shares. Not settable at creation time.
        let mut message = LinkMessage::default();
        message.header.index = link.index;
        message
            .attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
            )]));
        self.acked(
            || format!("set addr_gen_mode none on {}", spec.name),
            RouteNetlinkMessage::SetLink(message),
            NLM_F_REQUEST | NLM_F_ACK,
        )
        .await?;

        self.set_link_up(link.index, true).await?;

        if spec.ipv6
            && let Some(parent_mac) = parent.mac
        {
            // keepalived adds it with every option zeroed: NODAD, and a
            // preferred lifetime of 0 (deprecated), like a /128 VIP.
            let ll_addr = IpAddr::V6(link_local_from_mac(parent_mac));
            let mut ll = AddressSpec::new(link.index, ll_addr, 64);
            ll.preferred_lft = 0;
            self.add_address(&ll).await?;
        }

        let link = self
            .link_by_index(link.index)
            .await?
            .ok_or_else(|| VmacError::Vanished(spec.name.clone()))?;
        Ok(Vmac { link, created })
    }

    /// Deletes a VMAC and forgets its sysctls (they went with it); restores
    /// nothing on the parent (use [`SysctlChanges::restore`] at exit).
    pub async fn delete_vmac(
        &self,
        vmac: &LinkInfo,
        sysctls: &mut SysctlChanges,
    ) -> Result<Change, NetlinkError> {
        sysctls.forget_interface(&vmac.name);
        self.delete_link(vmac.index).await
    }
}

/// keepalived's `clear_rp_filter()`: a VMAC only receives when reverse-path
/// filtering is off, and `all.rp_filter` overrides the per-interface value
/// upwards. If `all.rp_filter` is set, raise `default.rp_filter` and every
/// interface's value to it (so their effective filtering is unchanged), then
/// set `all.rp_filter=0`. Every change is recorded for restoration.
pub fn lower_all_rp_filter(sysctls: &mut SysctlChanges) -> io::Result<()> {
    let all = crate::sysctl::read(IPV4_CONF, "all", "rp_filter")?;
    if all == 0 {
        return Ok(());
    }
    if crate::sysctl::read(IPV4_CONF, "default", "rp_filter")? < all {
        sysctls.set(IPV4_CONF, "default", "rp_filter", all)?;
    }
    for entry in std::fs::read_dir(format!("/proc/sys/{IPV4_CONF}"))? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name == "all" || name == "default" {
            continue;
        }
        match crate::sysctl::read(IPV4_CONF, &name, "rp_filter") {
            Ok(current) if current < all => sysctls.set(IPV4_CONF, &name, "rp_filter", all)?,
            Ok(_) => {}
            // The interface went away meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    sysctls.set(IPV4_CONF, "all", "rp_filter", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmac_names_and_macs() {
        let parent = IfRef {
            index: 2,
            name: "eth0".into(),
        };
        let v4 = VmacSpec::new(parent.clone(), 51, false);
        assert_eq!(v4.name, "vrrp.51");
        assert_eq!(v4.mac().to_string(), "00:00:5e:00:01:33");
        let v6 = VmacSpec::new(parent, 255, true);
        // keepalived names IPv6 VMACs vrrp.<VRID> too; vrrp6 is the fallback.
        assert_eq!(v6.name, "vrrp.255");
        assert_eq!(v6.mac().to_string(), "00:00:5e:00:02:ff");
    }

    #[test]
    fn vmac_name_candidates_follow_upstream_order() {
        let v4: Vec<String> = vmac_name_candidates("vrrp", 51, false).take(3).collect();
        assert_eq!(v4, ["vrrp.51", "vrrp1.51", "vrrp2.51"]);
        let v6: Vec<String> = vmac_name_candidates("vrrp", 51, true).take(8).collect();
        assert_eq!(
            v6,
            [
                "vrrp.51", "vrrp6.51", "vrrp1.51", "vrrp2.51", "vrrp3.51", "vrrp4.51", "vrrp5.51",
                "vrrp7.51"
            ]
        );
        // 15 characters at most: the prefix gives way.
        let long: Vec<String> = vmac_name_candidates("averyverylongprefix", 200, false)
            .take(2)
            .collect();
        assert_eq!(long, ["averyverylo.200", "averyveryl1.200"]);
        assert!(long.iter().all(|n| n.len() == IFNAMSIZ - 1));
    }

    #[test]
    fn eui64_link_local() {
        let ll = link_local_from_mac(MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]));
        assert_eq!(
            ll,
            "fe80::5054:ff:fe12:3456"
                .parse::<Ipv6Addr>()
                .expect("literal")
        );
    }

    #[test]
    fn parses_link_message() {
        let mut message = LinkMessage::default();
        message.header.index = 9;
        message.header.flags = LinkFlags::Up | LinkFlags::Running;
        message
            .attributes
            .push(LinkAttribute::IfName("vrrp.9".into()));
        message
            .attributes
            .push(LinkAttribute::Address(vec![0, 0, 0x5e, 0, 1, 9]));
        message.attributes.push(LinkAttribute::Mtu(1500));
        message.attributes.push(LinkAttribute::Link(2));
        message.attributes.push(LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::MacVlan),
            NlLinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Private,
            )])),
        ]));
        let info = LinkInfo::from_message(&message).expect("named");
        assert_eq!(info.index, 9);
        assert_eq!(info.name, "vrrp.9");
        assert_eq!(info.mac, Some(MacAddr::vrrp(9, false)));
        assert_eq!(info.mtu, Some(1500));
        assert_eq!(info.parent, Some(2));
        assert_eq!(info.kind.as_deref(), Some("macvlan"));
        assert_eq!(info.macvlan_private, Some(true));
        assert!(info.is_up() && info.is_running());
        assert!(!info.is_noarp());
        assert!(!info.is_ethernet(), "header left at its default type");
    }
}
