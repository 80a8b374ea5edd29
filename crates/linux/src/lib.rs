//! Kernel side of VRRP for keepalived-rs: the thin I/O shell around the
//! sans-IO `vrrp` crate. Linux only; everything async runs on tokio.
//!
//! Every socket or netlink connection belongs to the network namespace of
//! the thread that opens it, and must be opened inside a tokio runtime
//! (it registers with the runtime's reactor).
//!
//! # Public API
//!
//! | module | what | keepalived |
//! | --- | --- | --- |
//! | [`netlink`] | [`Netlink`]: one rtnetlink request connection (`Netlink::new()`), [`NetlinkError`] (with `errno()`), [`Change`] (`Done` / `AlreadyInPlace`) | `keepalived_netlink.c` |
//! | [`addr`] | [`addr::AddressSpec`] (`virtual_ipaddress` options: prefix, `brd`, `scope`, `label`, `peer`, IFA_F_NODAD unless `-nodad`, `preferred_lft` 0 for a v6 /128, `home`, `noprefixroute`, `mngtmpaddr`); `Netlink::{add_address, delete_address, list_addresses}` — idempotent: EEXIST on add, EADDRNOTAVAIL/ENODEV on delete are `AlreadyInPlace` | `vrrp_ipaddress.c` |
//! | [`link`] | [`link::LinkInfo`] (index, name, MAC, MTU, IFF flags with `is_up`/`is_running`/`is_noarp`, ARPHRD type with `is_ethernet`, parent, kind); `Netlink::{list_links, link_by_name, link_by_index, set_link_up, delete_link}`; VMAC: [`link::VmacSpec`] (`vrrp.<VRID>`, [`link::vmac_name_candidates`] for keepalived's fallback names, MAC `00:00:5e:00:0{1,2}:<VRID>`), `Netlink::{create_vmac, delete_vmac}` (keepalived's steps and order; checked against keepalived 2.2.7 in the tests), [`link::lower_all_rp_filter`] | `vrrp_vmac.c`, `vrrp_if_config.c` |
//! | [`sysctl`] | `read`/`write` of `/proc/sys/<prefix>/<if>/<param>`; [`sysctl::SysctlChanges`] remembers originals and `restore()`s them | `vrrp_if_config.c` |
//! | [`monitor`] | [`monitor::Monitor`] (rtnetlink groups link + IPv4/IPv6 addresses) → [`monitor::Event`]: `LinkUp`/`LinkDown`/`LinkDeleted {ifindex, name}` (up = IFF_UP and IFF_RUNNING), `LinkChanged {info}` (name/MAC/MTU), `AddrAdded`/`AddrRemoved {ifindex, addr, prefix}`, `Overrun` (notifications lost: re-dump and re-seed); [`monitor::EventDecoder`] is the pure part (seed it from `list_links`) | `keepalived_netlink.c` |
//! | [`vrrp_socket`] | [`vrrp_socket::VrrpSocketV4`] (IP_HDRINCL: send whole IP packets from `vrrp::packet::encode_ipv4`; `recv` → bytes incl. IP header + [`vrrp_socket::ReceivedV4`] {source, dest, ttl}) and [`vrrp_socket::VrrpSocketV6`] (kernel-built header, IPV6_CHECKSUM at 6; `send(payload, source, dest, unicast hop limit)`; `recv` → payload + [`vrrp_socket::ReceivedV6`] {source, dest, hop_limit, ifindex}); [`vrrp_socket::SocketOptions`]: interface, protocol 112 / 51 (AH), multicast group or unicast source, SO_RCVBUF, kernel filter | `vrrp.c` `open_vrrp_{send,read}_socket()`, `vrrp_if.c` |
//! | [`timer`] | [`timer::DeadlineTimer`]: µs on CLOCK_MONOTONIC since an epoch and a timerfd armed with absolute deadlines (tokio's wheel rounds to 1 ms) | `scheduler.c` (timerfd) |
//! | [`bpf`] | classic BPF receive filters: drop TTL/hop limit ≠ 255 (multicast) and version/type other than v2/v3 advert, in the kernel | — (ours) |
//! | [`proc_events`] | [`proc_events::ProcEventSocket`] (process-event connector: fork/exec/comm/exit of processes; subscribes in the initial network namespace when ours has no connector), pure [`proc_events::parse_messages`] | `track_process.c` |
//! | [`garp`] | [`garp::GarpSender`] (`send_garp`, `send_unsolicited_na`) over one PF_PACKET socket; pure builders [`garp::gratuitous_arp_frame`], [`garp::unsolicited_na_frame`], [`garp::icmpv6_checksum`]; [`garp::ipv6_forwarding`] for the NA Router flag | `vrrp_arp.c`, `vrrp_ndisc.c` |
//!
//! Shared types: [`MacAddr`], [`IfRef`] (index + name).
//!
//! Mapping to `vrrp::packet::RxMeta`: a [`vrrp_socket::ReceivedV4`] is
//! `RxMeta::Ipv4` (the bytes carry the header); a
//! [`vrrp_socket::ReceivedV6`] gives `RxMeta::Ipv6 { source, destination:
//! dest, hop_limit }`.
//!
//! `unsafe` lives only in the private `sys` module (sockaddr_ll,
//! IPV6_CHECKSUM, IP_MULTICAST_IF by index, AsyncFd registration, kill(2) with a
//! real-time signal).

#[allow(unsafe_code)]
mod sys;

pub mod addr;
pub mod bpf;
pub mod garp;
pub mod link;
pub mod monitor;
pub mod netlink;
pub mod proc_events;
pub mod sysctl;
pub mod timer;
pub mod vrrp_socket;

pub use netlink::{Change, Netlink, NetlinkError};
/// `kill(2)` with any signal number (the daemon forwards real-time signals).
pub use sys::{LocalTime, local_time, local_to_epoch, send_signal};

/// Returns the allocator's free memory to the kernel (glibc `malloc_trim`): call it
/// after freeing something large, such as a parsed configuration, so the daemon's
/// resident size reflects what it still uses.
pub fn trim_heap() {
    sys::trim_heap();
}

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
