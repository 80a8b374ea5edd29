//! Gratuitous ARP and unsolicited Neighbour Advertisements, sent on
//! `PF_PACKET` sockets so that they go out even while the VIP is not (yet)
//! usable as a source address.
//!
//! keepalived: `vrrp_arp.c` (`send_gratuitous_arp_immediate()`) and
//! `vrrp_ndisc.c` (`ndisc_send_unsolicited_na_immediate()`). Pacing
//! (`vrrp_garp_interval`, `garp_group`, repeats) is the caller's job.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use socket2::{Domain, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::MacAddr;
use crate::sys;

/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

const ETHER_HEADER_LEN: usize = 14;
const ARP_ETHER_IPV4_LEN: usize = 28;
/// Length of a gratuitous ARP frame (no padding, as keepalived sends it).
pub const GARP_FRAME_LEN: usize = ETHER_HEADER_LEN + ARP_ETHER_IPV4_LEN;

const IPV6_HEADER_LEN: usize = 40;
const NA_HEADER_LEN: usize = 24;
const TLLA_OPTION_LEN: usize = 8;
/// Length of an unsolicited NA frame with a target link-layer address option.
pub const NA_FRAME_LEN: usize =
    ETHER_HEADER_LEN + IPV6_HEADER_LEN + NA_HEADER_LEN + TLLA_OPTION_LEN;

const ARPHRD_ETHER: u16 = 1;
const ARPOP_REQUEST: u16 = 1;
const IPPROTO_ICMPV6: u8 = 58;
const ICMPV6_NEIGHBOUR_ADVERT: u8 = 136;
/// RFC 4861 §4.4: R flag.
const NA_FLAG_ROUTER: u8 = 0x80;
/// RFC 4861 §4.4: O flag.
const NA_FLAG_OVERRIDE: u8 = 0x20;
/// RFC 4861 §4.6.1: option type 2, target link-layer address.
const ND_OPT_TARGET_LINKADDR: u8 = 2;
/// RFC 4861 §7.1.2: NDP messages must carry hop limit 255.
const ND_HOP_LIMIT: u8 = 255;

const BROADCAST_MAC: MacAddr = MacAddr([0xff; 6]);
/// RFC 2464 §7: 33:33 followed by the low 32 bits of ff02::1.
const ALL_NODES_MAC: MacAddr = MacAddr([0x33, 0x33, 0, 0, 0, 1]);

/// Errors of the GARP/NA sender.
#[derive(Debug, thiserror::Error)]
pub enum GarpError {
    /// The packet socket could not be opened (needs CAP_NET_RAW).
    #[error("cannot open packet socket: {0}")]
    Open(#[source] io::Error),
    /// The frame could not be sent on the interface.
    #[error("cannot send {what} on ifindex {ifindex}: {source}")]
    Send {
        /// "gratuitous ARP" or "neighbour advertisement".
        what: &'static str,
        /// Interface the frame was for.
        ifindex: u32,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// The kernel took only part of the frame.
    #[error("short send on ifindex {ifindex}: {sent} of {len} bytes")]
    ShortSend {
        /// Interface the frame was for.
        ifindex: u32,
        /// Bytes taken.
        sent: usize,
        /// Bytes offered.
        len: usize,
    },
}

/// Builds a gratuitous ARP: an ARP *request* (op 1) whose sender and target
/// protocol addresses are both the VIP, sender hardware address `mac`,
/// target hardware address and Ethernet destination broadcast.
///
/// keepalived sends a request rather than a reply (RFC 5227 §3 calls both
/// acceptable); its target MAC is the broadcast address, not zero.
pub fn gratuitous_arp_frame(mac: MacAddr, vip: Ipv4Addr) -> [u8; GARP_FRAME_LEN] {
    let mut frame = [0u8; GARP_FRAME_LEN];
    let (eth, arp) = frame.split_at_mut(ETHER_HEADER_LEN);
    write_ether_header(eth, BROADCAST_MAC, mac, ETHERTYPE_ARP);
    arp[0..2].copy_from_slice(&ARPHRD_ETHER.to_be_bytes());
    arp[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    arp[4] = 6;
    arp[5] = 4;
    arp[6..8].copy_from_slice(&ARPOP_REQUEST.to_be_bytes());
    arp[8..14].copy_from_slice(&mac.0);
    arp[14..18].copy_from_slice(&vip.octets());
    arp[18..24].copy_from_slice(&BROADCAST_MAC.0);
    arp[24..28].copy_from_slice(&vip.octets());
    frame
}

/// Builds an unsolicited Neighbour Advertisement (RFC 4861 §7.2.6) for
/// `vip`: from `vip` to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit
/// 255, Override set, Router set when `router` (keepalived: when forwarding
/// is on for the interface), Solicited clear, with a target link-layer
/// address option carrying `mac`, and the ICMPv6 checksum filled in.
pub fn unsolicited_na_frame(mac: MacAddr, vip: Ipv6Addr, router: bool) -> [u8; NA_FRAME_LEN] {
    let mut frame = [0u8; NA_FRAME_LEN];
    let (eth, rest) = frame.split_at_mut(ETHER_HEADER_LEN);
    write_ether_header(eth, ALL_NODES_MAC, mac, ETHERTYPE_IPV6);
    let (ip6, icmp) = rest.split_at_mut(IPV6_HEADER_LEN);

    let payload_len = (NA_HEADER_LEN + TLLA_OPTION_LEN) as u16;
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    ip6[0] = 0x60; // version 6, traffic class 0, flow label 0
    ip6[4..6].copy_from_slice(&payload_len.to_be_bytes());
    ip6[6] = IPPROTO_ICMPV6;
    ip6[7] = ND_HOP_LIMIT;
    ip6[8..24].copy_from_slice(&vip.octets());
    ip6[24..40].copy_from_slice(&all_nodes.octets());

    icmp[0] = ICMPV6_NEIGHBOUR_ADVERT;
    icmp[1] = 0; // code
    // icmp[2..4]: checksum, filled below
    icmp[4] = NA_FLAG_OVERRIDE | if router { NA_FLAG_ROUTER } else { 0 };
    icmp[8..24].copy_from_slice(&vip.octets());
    icmp[24] = ND_OPT_TARGET_LINKADDR;
    icmp[25] = 1; // length in units of 8 octets
    icmp[26..32].copy_from_slice(&mac.0);

    let checksum = icmpv6_checksum(vip, all_nodes, icmp);
    icmp[2..4].copy_from_slice(&checksum.to_be_bytes());
    frame
}

fn write_ether_header(eth: &mut [u8], dest: MacAddr, source: MacAddr, ethertype: u16) {
    eth[0..6].copy_from_slice(&dest.0);
    eth[6..12].copy_from_slice(&source.0);
    eth[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

/// The ICMPv6 checksum (RFC 4443 §2.3): the RFC 1071 one's-complement sum over
/// the IPv6 pseudo-header (RFC 8200 §8.1) and the message, whose checksum
/// field must be zero.
pub fn icmpv6_checksum(source: Ipv6Addr, dest: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(u16::from_be_bytes([*last, 0]));
        }
    };
    add(&source.octets());
    add(&dest.octets());
    // Upper-layer length (32 bits) then three zero bytes and the next header.
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    add(&len.to_be_bytes());
    add(&[0, 0, 0, IPPROTO_ICMPV6]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Sends GARPs and unsolicited NAs. One instance serves every interface: the
/// interface is chosen per frame (like keepalived's single `garp_fd` and
/// `ndisc_fd`).
///
/// The packet socket is opened with protocol 0, so the kernel never queues
/// received frames to it (keepalived opens it with ETH_P_ARP / ETH_P_IPV6 and
/// so receives, and discards, every ARP / IPv6 frame on the host).
#[derive(Debug)]
pub struct GarpSender {
    socket: AsyncFd<Socket>,
}

impl GarpSender {
    /// Opens the packet socket. Must be called inside a tokio runtime; the
    /// socket belongs to the network namespace of the calling thread.
    pub fn new() -> Result<Self, GarpError> {
        let socket = Socket::new(Domain::PACKET, Type::RAW.nonblocking().cloexec(), None)
            .map_err(GarpError::Open)?;
        let socket = sys::register(socket).map_err(GarpError::Open)?;
        Ok(Self { socket })
    }

    /// Sends one gratuitous ARP for `vip` on interface `ifindex`, with source
    /// MAC `mac` (the interface's, or the VMAC's).
    pub async fn send_garp(
        &self,
        ifindex: u32,
        mac: MacAddr,
        vip: Ipv4Addr,
    ) -> Result<(), GarpError> {
        let frame = gratuitous_arp_frame(mac, vip);
        self.send_frame(
            "gratuitous ARP",
            ifindex,
            ETHERTYPE_ARP,
            BROADCAST_MAC,
            &frame,
        )
        .await
    }

    /// Sends one unsolicited NA for `vip` on interface `ifindex`; `router`
    /// sets the R flag (see [`ipv6_forwarding`]).
    pub async fn send_unsolicited_na(
        &self,
        ifindex: u32,
        mac: MacAddr,
        vip: Ipv6Addr,
        router: bool,
    ) -> Result<(), GarpError> {
        let frame = unsolicited_na_frame(mac, vip, router);
        self.send_frame(
            "neighbour advertisement",
            ifindex,
            ETHERTYPE_IPV6,
            ALL_NODES_MAC,
            &frame,
        )
        .await
    }

    async fn send_frame(
        &self,
        what: &'static str,
        ifindex: u32,
        ethertype: u16,
        dest: MacAddr,
        frame: &[u8],
    ) -> Result<(), GarpError> {
        let send_error = |source| GarpError::Send {
            what,
            ifindex,
            source,
        };
        let addr = sys::packet_sockaddr(ifindex, ethertype, dest.0).map_err(send_error)?;
        let sent = loop {
            let mut guard = self.socket.writable().await.map_err(send_error)?;
            match guard.try_io(|fd| fd.get_ref().send_to(frame, &addr)) {
                Ok(result) => break result.map_err(send_error)?,
                Err(_would_block) => continue,
            }
        };
        if sent == frame.len() {
            Ok(())
        } else {
            Err(GarpError::ShortSend {
                ifindex,
                sent,
                len: frame.len(),
            })
        }
    }
}

/// Whether IPv6 forwarding is on for `ifname`: keepalived sets the NA Router
/// flag from `/proc/sys/net/ipv6/conf/<if>/forwarding` (re-read at most every
/// 5 s; that caching is the caller's).
pub fn ipv6_forwarding(ifname: &str) -> io::Result<bool> {
    let value = crate::sysctl::read("net/ipv6/conf", ifname, "forwarding")?;
    Ok(value != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::icmpv6::NeighborAdvertisementHeader;
    use etherparse::{
        ArpOperation, EtherType, Icmpv6Type, LinkSlice, NetSlice, SlicedPacket, TransportSlice,
    };

    const MAC: MacAddr = MacAddr([0x00, 0x00, 0x5e, 0x00, 0x01, 0x33]);

    #[test]
    fn garp_bytes_are_keepalived_request() {
        let frame = gratuitous_arp_frame(MAC, Ipv4Addr::new(192, 0, 2, 10));
        #[rustfmt::skip]
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   // dest: broadcast
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33,   // source: VMAC
            0x08, 0x06,                           // ARP
            0x00, 0x01, 0x08, 0x00, 6, 4,         // Ethernet / IPv4
            0x00, 0x01,                           // request
            0x00, 0x00, 0x5e, 0x00, 0x01, 0x33,   // sender MAC
            192, 0, 2, 10,                        // sender IP = VIP
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   // target MAC: broadcast
            192, 0, 2, 10,                        // target IP = VIP
        ];
        assert_eq!(frame, expected);
    }

    #[test]
    fn garp_parses_with_etherparse() {
        let frame = gratuitous_arp_frame(MAC, Ipv4Addr::new(10, 1, 2, 3));
        let packet = SlicedPacket::from_ethernet(&frame).expect("valid frame");
        let Some(LinkSlice::Ethernet2(eth)) = packet.link else {
            panic!("not ethernet")
        };
        assert_eq!(eth.ether_type(), EtherType::ARP);
        let Some(NetSlice::Arp(arp)) = packet.net else {
            panic!("not arp")
        };
        assert_eq!(arp.operation(), ArpOperation::REQUEST);
        assert_eq!(arp.sender_hw_addr(), &MAC.0);
        assert_eq!(arp.sender_protocol_addr(), &[10, 1, 2, 3]);
        assert_eq!(arp.target_protocol_addr(), &[10, 1, 2, 3]);
    }

    fn parse_na(frame: &[u8]) -> (etherparse::Ipv6HeaderSlice<'_>, etherparse::Icmpv6Slice<'_>) {
        let ip_start = ETHER_HEADER_LEN;
        let ip = etherparse::Ipv6HeaderSlice::from_slice(&frame[ip_start..]).expect("ipv6 header");
        let packet = SlicedPacket::from_ethernet(frame).expect("valid frame");
        let Some(TransportSlice::Icmpv6(icmp)) = packet.transport else {
            panic!("not icmpv6")
        };
        (ip, icmp)
    }

    #[test]
    fn na_has_override_target_option_and_valid_checksum() {
        let vip: Ipv6Addr = "2001:db8::10".parse().expect("literal");
        let frame = unsolicited_na_frame(MAC, vip, false);
        assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(&frame[6..12], &MAC.0);
        let (ip, icmp) = parse_na(&frame);
        assert_eq!(ip.hop_limit(), 255);
        assert_eq!(ip.source_addr(), vip);
        assert_eq!(
            ip.destination_addr(),
            "ff02::1".parse::<Ipv6Addr>().expect("literal")
        );
        assert_eq!(
            icmp.icmp_type(),
            Icmpv6Type::NeighborAdvertisement(NeighborAdvertisementHeader {
                router: false,
                solicited: false,
                r#override: true
            })
        );
        // etherparse recomputes the checksum over the pseudo-header.
        let header = icmp.header();
        let recomputed = header
            .icmp_type
            .calc_checksum(ip.source(), ip.destination(), icmp.payload())
            .expect("small payload");
        assert_eq!(icmp.checksum(), recomputed);
        // Target address then option 2, length 1, the MAC.
        assert_eq!(icmp.payload()[0..16], vip.octets());
        assert_eq!(
            icmp.payload()[16..24],
            [2, 1, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33]
        );
    }

    #[test]
    fn na_router_flag_follows_forwarding() {
        let vip: Ipv6Addr = "fe80::1".parse().expect("literal");
        let with_router = unsolicited_na_frame(MAC, vip, true);
        let flags_at = ETHER_HEADER_LEN + IPV6_HEADER_LEN + 4;
        assert_eq!(with_router[flags_at], 0xa0);
        let (ip, icmp) = parse_na(&with_router);
        assert_eq!(
            icmp.icmp_type(),
            Icmpv6Type::NeighborAdvertisement(NeighborAdvertisementHeader {
                router: true,
                solicited: false,
                r#override: true
            })
        );
        let recomputed = icmp
            .header()
            .icmp_type
            .calc_checksum(ip.source(), ip.destination(), icmp.payload())
            .expect("small payload");
        assert_eq!(icmp.checksum(), recomputed);
    }

    #[test]
    fn checksum_of_message_with_its_checksum_is_zero() {
        let vip: Ipv6Addr = "2001:db8:1::ffff".parse().expect("literal");
        let frame = unsolicited_na_frame(MAC, vip, true);
        let icmp = &frame[ETHER_HEADER_LEN + IPV6_HEADER_LEN..];
        let all_nodes: Ipv6Addr = "ff02::1".parse().expect("literal");
        // Summing a message that already holds its checksum gives 0xffff,
        // i.e. a complemented result of 0 (RFC 1071 §1).
        assert_eq!(icmpv6_checksum(vip, all_nodes, icmp), 0);
    }
}
