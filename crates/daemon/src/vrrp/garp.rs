//! Gratuitous ARP / unsolicited NA bursts, paced per interface as keepalived does
//! (`vrrp_garp_interval`, `vrrp_gna_interval`, and a `garp_group`'s own intervals for
//! its interfaces). With the default interval of 0 a burst goes out at once from the
//! event loop; otherwise the send times are fixed here (so bursts of several instances
//! on one interface stay spaced) and a task sends at those times.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use linux::MacAddr;
use linux::garp::GarpSender;
use tokio::time::Instant;
use tracing::{debug, warn};

/// One address to announce.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub ifindex: u32,
    pub ifname: String,
    pub mac: MacAddr,
    pub address: IpAddr,
}

/// Intervals between gratuitous ARPs and between NAs on one interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Intervals {
    pub arp: Duration,
    pub na: Duration,
}

/// The sender and each interface's next free send slot.
#[derive(Debug)]
pub struct Pacer {
    sender: Arc<GarpSender>,
    default: Intervals,
    per_interface: HashMap<u32, Intervals>,
    next_free: HashMap<(u32, bool), Instant>,
}

impl Pacer {
    pub fn new(
        sender: GarpSender,
        default: Intervals,
        per_interface: HashMap<u32, Intervals>,
    ) -> Self {
        Pacer {
            sender: Arc::new(sender),
            default,
            per_interface,
            next_free: HashMap::new(),
        }
    }

    /// New intervals (a reload); bursts already scheduled keep their times.
    pub fn set_intervals(&mut self, default: Intervals, per_interface: HashMap<u32, Intervals>) {
        self.default = default;
        self.per_interface = per_interface;
    }

    /// Sends `repeat` rounds of announcements for `items`.
    pub async fn burst(&mut self, instance: &str, items: &[Announcement], repeat: u32) {
        let now = Instant::now();
        let mut immediate = Vec::new();
        let mut scheduled = Vec::new();
        for _ in 0..repeat {
            for item in items {
                let intervals = self
                    .per_interface
                    .get(&item.ifindex)
                    .copied()
                    .unwrap_or(self.default);
                let v6 = item.address.is_ipv6();
                let interval = if v6 { intervals.na } else { intervals.arp };
                if interval.is_zero() {
                    immediate.push(item.clone());
                } else {
                    let slot = self
                        .next_free
                        .get(&(item.ifindex, v6))
                        .copied()
                        .unwrap_or(now)
                        .max(now);
                    self.next_free.insert((item.ifindex, v6), slot + interval);
                    scheduled.push((slot, item.clone()));
                }
            }
        }
        for item in &immediate {
            send(&self.sender, instance, item).await;
        }
        if scheduled.is_empty() {
            return;
        }
        scheduled.sort_by_key(|(slot, _)| *slot);
        let sender = Arc::clone(&self.sender);
        let instance = instance.to_string();
        tokio::spawn(async move {
            for (slot, item) in scheduled {
                tokio::time::sleep_until(slot).await;
                send(&sender, &instance, &item).await;
            }
        });
    }
}

async fn send(sender: &GarpSender, instance: &str, item: &Announcement) {
    let result = match item.address {
        IpAddr::V4(v4) => {
            debug!("Sending gratuitous ARP on {} for {v4}", item.ifname);
            sender.send_garp(item.ifindex, item.mac, v4).await
        }
        IpAddr::V6(v6) => {
            debug!(
                "Sending unsolicited Neighbour Advert on {} for {v6}",
                item.ifname
            );
            // keepalived sets the Router flag when the interface forwards IPv6.
            let router = linux::garp::ipv6_forwarding(&item.ifname).unwrap_or(false);
            sender
                .send_unsolicited_na(item.ifindex, item.mac, v6, router)
                .await
        }
    };
    if let Err(e) = result {
        warn!("({instance}) {e}");
    }
}
