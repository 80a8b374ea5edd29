//! Kernel notifications of link and address changes (rtnetlink multicast
//! groups RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR), as typed
//! events.
//!
//! keepalived: `kernel_netlink_init()` / `netlink_if_link_filter()` /
//! `netlink_if_address_filter()` in `keepalived_netlink.c`. As there, a
//! link is "up" when it is both IFF_UP and IFF_RUNNING.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::AsyncSocket;
use rtnetlink::MulticastGroup;

use crate::addr::InterfaceAddress;
use crate::link::LinkInfo;
use crate::netlink::NetlinkError;

/// One change the kernel reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The link became UP and RUNNING (or was first seen so).
    LinkUp {
        /// Interface index.
        ifindex: u32,
        /// Interface name.
        name: String,
    },
    /// The link stopped being UP and RUNNING (or was first seen so).
    LinkDown {
        /// Interface index.
        ifindex: u32,
        /// Interface name.
        name: String,
    },
    /// The name, MAC or MTU of a known link changed (keepalived follows
    /// these: a new MAC means GARPs with the new source, a rename changes the
    /// sysctl paths and SO_BINDTODEVICE).
    LinkChanged {
        /// The link as it is now.
        info: LinkInfo,
    },
    /// The link was deleted.
    LinkDeleted {
        /// Interface index.
        ifindex: u32,
        /// Interface name.
        name: String,
    },
    /// An address appeared.
    AddrAdded {
        /// Interface index.
        ifindex: u32,
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
    /// An address went away.
    AddrRemoved {
        /// Interface index.
        ifindex: u32,
        /// The address.
        addr: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
    /// The kernel dropped notifications (ENOBUFS: our receive buffer was
    /// full). State may have changed unseen: re-read links and addresses
    /// (`Netlink::list_links` / `list_addresses`) and re-seed the decoder.
    Overrun,
}

/// Turns notifications into [`Event`]s, remembering each link's last state
/// so that the many RTM_NEWLINK messages that change nothing we care about
/// (statistics, carrier counters…) produce no event.
#[derive(Debug, Default)]
pub struct EventDecoder {
    links: HashMap<u32, LinkInfo>,
}

/// keepalived's test for a usable link.
fn usable(link: &LinkInfo) -> bool {
    link.is_up() && link.is_running()
}

impl EventDecoder {
    /// A decoder that knows no link yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Seeds the state of a link (from a dump taken before subscribing), so
    /// that its first notification only yields an event if it changed.
    pub fn seed(&mut self, link: &LinkInfo) {
        self.links.insert(link.index, link.clone());
    }

    /// Forgets every link (after an overrun, their state is unknown).
    pub fn forget_links(&mut self) {
        self.links.clear();
    }

    /// The events carried by `message`, in order (usually zero or one).
    pub fn decode(&mut self, message: &RouteNetlinkMessage) -> Vec<Event> {
        let mut events = Vec::new();
        match message {
            RouteNetlinkMessage::NewLink(m) => {
                let Some(info) = LinkInfo::from_message(m) else {
                    return events;
                };
                let previous = self.links.insert(info.index, info.clone());
                let (ifindex, name) = (info.index, info.name.clone());
                let up = usable(&info);
                if previous.as_ref().map(usable) != Some(up) {
                    events.push(if up {
                        Event::LinkUp { ifindex, name }
                    } else {
                        Event::LinkDown { ifindex, name }
                    });
                }
                if let Some(previous) = previous
                    && (previous.name != info.name
                        || previous.mac != info.mac
                        || previous.mtu != info.mtu)
                {
                    events.push(Event::LinkChanged { info });
                }
            }
            RouteNetlinkMessage::DelLink(m) => {
                let Some(info) = LinkInfo::from_message(m) else {
                    return events;
                };
                self.links.remove(&info.index);
                events.push(Event::LinkDeleted {
                    ifindex: info.index,
                    name: info.name,
                });
            }
            RouteNetlinkMessage::NewAddress(m) => {
                let Some(a) = InterfaceAddress::from_message(m) else {
                    return events;
                };
                events.push(Event::AddrAdded {
                    ifindex: a.ifindex,
                    addr: a.address,
                    prefix: a.prefix_len,
                });
            }
            RouteNetlinkMessage::DelAddress(m) => {
                let Some(a) = InterfaceAddress::from_message(m) else {
                    return events;
                };
                events.push(Event::AddrRemoved {
                    ifindex: a.ifindex,
                    addr: a.address,
                    prefix: a.prefix_len,
                });
            }
            _ => {}
        }
        events
    }
}

/// SO_RCVBUF of the monitor socket.
const MONITOR_RECEIVE_BUFFER: usize = 1024 * 1024;

type Notifications =
    UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, netlink_sys::SocketAddr)>;

/// A subscription to link and address notifications.
///
/// Subscribe first, then dump (`Netlink::list_links`) and
/// [`EventDecoder::seed`]: a change between the dump and the subscription
/// would otherwise be lost, while one between subscription and dump at
/// worst repeats an event.
#[derive(Debug)]
pub struct Monitor {
    notifications: Notifications,
    decoder: EventDecoder,
    pending: VecDeque<Event>,
}

impl Monitor {
    /// Subscribes in the calling thread's network namespace and spawns the
    /// connection task on the current tokio runtime.
    pub fn new() -> Result<Self, NetlinkError> {
        Self::with_receive_buffer(MONITOR_RECEIVE_BUFFER)
    }

    /// As [`Monitor::new`], with the socket receive buffer (SO_RCVBUF) size.
    pub fn with_receive_buffer(bytes: usize) -> Result<Self, NetlinkError> {
        let groups = [
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ];
        let (mut connection, _handle, notifications) =
            rtnetlink::new_multicast_connection(&groups).map_err(NetlinkError::Open)?;
        // keepalived enlarges its monitor socket's buffer too: an interface
        // flap with many addresses is a burst of notifications.
        connection
            .socket_mut()
            .socket_mut()
            .set_rx_buf_sz(bytes)
            .map_err(NetlinkError::Open)?;
        tokio::spawn(connection);
        Ok(Self {
            notifications,
            decoder: EventDecoder::new(),
            pending: VecDeque::new(),
        })
    }

    /// The decoder, e.g. to [`EventDecoder::seed`] it with a link dump.
    pub fn decoder_mut(&mut self) -> &mut EventDecoder {
        &mut self.decoder
    }

    /// The next event; `None` when the connection has closed.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            let (message, _from) = self.notifications.next().await?;
            match message.payload {
                NetlinkPayload::InnerMessage(inner) => {
                    self.pending.extend(self.decoder.decode(&inner));
                }
                NetlinkPayload::Overrun(_) => {
                    // Link states we remember may be stale now.
                    self.decoder.forget_links();
                    self.pending.push_back(Event::Overrun);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::address::{AddressAttribute, AddressMessage};
    use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};

    fn link(index: u32, flags: LinkFlags, mtu: u32) -> RouteNetlinkMessage {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = flags;
        m.attributes
            .push(LinkAttribute::IfName(format!("if{index}")));
        m.attributes.push(LinkAttribute::Mtu(mtu));
        RouteNetlinkMessage::NewLink(m)
    }

    fn up(ifindex: u32) -> Event {
        Event::LinkUp {
            ifindex,
            name: format!("if{ifindex}"),
        }
    }

    fn down(ifindex: u32) -> Event {
        Event::LinkDown {
            ifindex,
            name: format!("if{ifindex}"),
        }
    }

    #[test]
    fn link_events_only_on_transitions() {
        let mut d = EventDecoder::new();
        let running = LinkFlags::Up | LinkFlags::Running;
        assert_eq!(d.decode(&link(3, running, 1500)), vec![up(3)]);
        assert_eq!(d.decode(&link(3, running, 1500)), vec![]);
        // UP without RUNNING (no carrier) is down for keepalived.
        assert_eq!(d.decode(&link(3, LinkFlags::Up, 1500)), vec![down(3)]);
        assert_eq!(d.decode(&link(3, LinkFlags::empty(), 1500)), vec![]);
    }

    #[test]
    fn seeded_link_reports_only_changes() {
        let mut d = EventDecoder::new();
        let running = LinkFlags::Up | LinkFlags::Running;
        let RouteNetlinkMessage::NewLink(m) = link(5, running, 1500) else {
            unreachable!()
        };
        d.seed(&LinkInfo::from_message(&m).expect("named"));
        assert_eq!(d.decode(&link(5, running, 1500)), vec![]);
        // An MTU change alone is a LinkChanged; with a state change, both.
        let changed = d.decode(&link(5, running, 9000));
        assert!(
            matches!(changed.as_slice(), [Event::LinkChanged { info }] if info.mtu == Some(9000))
        );
        let both = d.decode(&link(5, LinkFlags::Up, 1400));
        assert_eq!(both.first(), Some(&down(5)));
        assert!(matches!(both.get(1), Some(Event::LinkChanged { info }) if info.mtu == Some(1400)));
        d.forget_links();
        assert_eq!(d.decode(&link(5, LinkFlags::Up, 1400)), vec![down(5)]);
    }

    #[test]
    fn address_events() {
        let mut d = EventDecoder::new();
        let mut m = AddressMessage::default();
        m.header.index = 4;
        m.header.prefix_len = 24;
        let addr: IpAddr = "192.0.2.1".parse().expect("literal");
        m.attributes.push(AddressAttribute::Local(addr));
        let added = d.decode(&RouteNetlinkMessage::NewAddress(m.clone()));
        assert_eq!(
            added,
            vec![Event::AddrAdded {
                ifindex: 4,
                addr,
                prefix: 24
            }]
        );
        let removed = d.decode(&RouteNetlinkMessage::DelAddress(m));
        assert_eq!(
            removed,
            vec![Event::AddrRemoved {
                ifindex: 4,
                addr,
                prefix: 24
            }]
        );
    }
}
