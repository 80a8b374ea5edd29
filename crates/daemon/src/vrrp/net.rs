//! Socket pools: one VRRP socket pair per (interface, family, protocol, group or
//! unicast source), shared by every instance that uses it and demultiplexed by VRID
//! (keepalived's `sock_t` pool, `vrrp_scheduler.c`). Each pool has a receive task that
//! forwards packets to the event loop, at once or at the pace of [`super::pacing`];
//! the loop alone owns the routers.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use linux::IfRef;
use linux::monitor::{Event as LinkEvent, Monitor};
use linux::vrrp_socket::{
    Delivery, FilterScope, KernelDrops, ReceiveBatch, ReceiveWatch, ReceivedV4, ReceivedV6,
    SocketOptions, VrrpProtocol, VrrpSocketError, VrrpSocketV4, VrrpSocketV6,
};
use tokio::sync::mpsc::UnboundedSender;
use tracing::{debug, info, warn};
use vrrp::packet::{Family, IPPROTO_AH, RxMeta};

use super::pacing::{self, NextRead, ReadPacing};
use super::rxguard;

/// What identifies a pool (keepalived `already_exist_sock()`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub ifindex: u32,
    pub ipv6: bool,
    pub ah: bool,
    /// The group when multicast.
    pub group: Option<IpAddr>,
    /// The source when unicast.
    pub unicast_source: Option<IpAddr>,
}

/// The open socket pair of a pool.
#[derive(Debug, Clone)]
pub enum PoolSocket {
    V4(Arc<VrrpSocketV4>),
    V6(Arc<VrrpSocketV6>),
}

impl PoolSocket {
    /// What the kernel dropped on the way to this socket.
    fn drops(&self) -> KernelDrops {
        match self {
            PoolSocket::V4(s) => s.drops(),
            PoolSocket::V6(s) => s.drops(),
        }
    }

    /// The receive queue's limit in bytes.
    fn receive_buffer(&self) -> usize {
        match self {
            PoolSocket::V4(s) => s.receive_buffer(),
            PoolSocket::V6(s) => s.receive_buffer(),
        }
    }

    /// Packets the kernel dropped for a full receive queue (or, IPv6, a bad
    /// checksum) since the socket opened: one system call, unlike [`Self::drops`].
    fn queue_drops(&self) -> u64 {
        match self {
            PoolSocket::V4(s) => s.queue_drops(),
            PoolSocket::V6(s) => s.queue_drops(),
        }
    }

    fn watch(&self) -> Result<ReceiveWatch, String> {
        match self {
            PoolSocket::V4(s) => s.watch(),
            PoolSocket::V6(s) => s.watch(),
        }
        .map_err(|e| e.to_string())
    }

    /// Whether only the receive task still holds the socket (its pool moved on, e.g.
    /// to a recreated VMAC).
    fn is_orphaned(&self) -> bool {
        match self {
            PoolSocket::V4(s) => Arc::strong_count(s) == 1,
            PoolSocket::V6(s) => Arc::strong_count(s) == 1,
        }
    }
}

/// One pool: its socket and the instances on it by VRID.
#[derive(Debug)]
pub struct Pool {
    pub key: PoolKey,
    pub interface: IfRef,
    pub socket: PoolSocket,
    pub by_vrid: HashMap<u8, usize>,
    /// How its socket is opened and read (kept to reopen it alike).
    pub plan: ReceivePlan,
    /// The receive task's pacing gap in µs, which a reload may change.
    pub gap_us: Arc<AtomicU64>,
}

/// How a pool's socket is opened and read, from the instances on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceivePlan {
    /// What the kernel filter lets through.
    pub scope: FilterScope,
    /// SO_RCVBUF; `None` is the kernel default.
    pub receive_buffer: Option<usize>,
    /// `receive_buffer` is set past `rmem_max`: it is sized for pacing.
    pub force_buffer: bool,
    /// The pacing gap ([`pacing::gap`]); zero reads each arrival at once.
    pub gap: Duration,
}

impl ReceivePlan {
    /// The plan of a pool of `instances` (advert interval, priority), whose shares of
    /// SO_RCVBUF add up to `configured`. A paced pool's queue must hold what comes
    /// while it is not read: its buffer is at least [`pacing::paced_receive_buffer`]
    /// once that is over the kernel's usual default.
    pub fn new(
        scope: FilterScope,
        configured: Option<usize>,
        instances: &[(Duration, u8)],
    ) -> ReceivePlan {
        let gap = pacing::gap(instances.iter().copied());
        let paced = pacing::paced_receive_buffer(instances.len());
        let (receive_buffer, force_buffer) =
            if gap.is_zero() || paced <= pacing::USUAL_DEFAULT_BUFFER {
                (configured, false)
            } else {
                match configured {
                    Some(size) if size >= paced => (Some(size), false),
                    _ => (Some(paced), true),
                }
            };
        ReceivePlan {
            scope,
            receive_buffer,
            force_buffer,
            gap,
        }
    }
}

/// Everything the receive and monitor tasks hand to the event loop.
#[derive(Debug)]
pub enum NetEvent {
    /// Adverts read together from a pool's socket, in arrival order.
    Packets {
        pool: usize,
        batch: PacketBatch,
    },
    ReceiveError {
        pool: usize,
        error: String,
    },
    Link(LinkEvent),
    /// A `vrrp_script` changed status. `index` is the checker's token, mapped to the
    /// configuration's index by `reload::Checkers` (checkers outlive reloads).
    Script {
        index: usize,
        up: bool,
    },
    /// A `vrrp_track_process` (by index in the configuration) gained or lost quorum.
    Process {
        index: usize,
        up: bool,
    },
    /// A `track_file` has a new value. `index` is the watch token, mapped to the
    /// configuration's index by `reload::TrackFiles`.
    TrackFile {
        index: usize,
        value: i64,
    },
}

/// Opens the socket pair of a pool.
pub fn open(
    key: &PoolKey,
    interface: &IfRef,
    plan: &ReceivePlan,
) -> Result<PoolSocket, VrrpSocketError> {
    let protocol = if key.ah {
        VrrpProtocol::Ah
    } else {
        VrrpProtocol::Vrrp
    };
    if key.ipv6 {
        let delivery = match (key.group, key.unicast_source) {
            (_, Some(IpAddr::V6(source))) => Delivery::Unicast { source },
            (Some(IpAddr::V6(group)), _) => Delivery::Multicast { group },
            _ => Delivery::Multicast {
                group: vrrp::packet::VRRP_MCAST_GROUP6,
            },
        };
        let options = SocketOptions::<Ipv6Addr> {
            interface: Some(interface.clone()),
            protocol,
            delivery,
            receive_buffer: plan.receive_buffer,
            force_receive_buffer: plan.force_buffer,
            kernel_filter: true,
            filter_scope: plan.scope.clone(),
        };
        Ok(PoolSocket::V6(Arc::new(VrrpSocketV6::open(&options)?)))
    } else {
        let delivery = match (key.group, key.unicast_source) {
            (_, Some(IpAddr::V4(source))) => Delivery::Unicast { source },
            (Some(IpAddr::V4(group)), _) => Delivery::Multicast { group },
            _ => Delivery::Multicast {
                group: vrrp::packet::VRRP_MCAST_GROUP4,
            },
        };
        let options = SocketOptions::<Ipv4Addr> {
            interface: Some(interface.clone()),
            protocol,
            delivery,
            receive_buffer: plan.receive_buffer,
            force_receive_buffer: plan.force_buffer,
            kernel_filter: true,
            filter_scope: plan.scope.clone(),
        };
        Ok(PoolSocket::V4(Arc::new(VrrpSocketV4::open(&options)?)))
    }
}

/// Largest packet we read: an IPv4 header with options, AH, 255 IPv6-sized addresses.
const RECEIVE_BUFFER: usize = 60 + 24 + 8 + 255 * 16 + 8;
/// Pause after a receive error, so a persistent error cannot spin the CPU.
const ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// A pool's name in logs: "eth0 IPv4 proto 112 224.0.0.18".
pub fn label(key: &PoolKey, interface: &IfRef) -> String {
    format!(
        "{} {} proto {} {}",
        interface.name,
        if key.ipv6 { "IPv6" } else { "IPv4" },
        if key.ah { 51 } else { 112 },
        key.group
            .or(key.unicast_source)
            .map_or(String::new(), |a| a.to_string())
    )
}

/// Spawns the task that forwards this pool's packets to the event loop. It also
/// accounts for every packet that reached the socket: received here, or dropped
/// by the kernel (filter or full queue), reported every
/// [`rxguard::DROP_REPORT_EVERY`] while there are drops.
///
/// It reads each arrival at once while the socket is watched, and once per gap
/// (`gap_us`, see [`super::pacing`]) with the socket unwatched while adverts come
/// faster than that.
pub fn spawn_receiver(
    pool: usize,
    socket: PoolSocket,
    gap_us: Arc<AtomicU64>,
    events: UnboundedSender<NetEvent>,
    label: String,
) {
    tokio::spawn(async move {
        let mut batch = PoolBatch::for_socket(&socket);
        let mut report = rxguard::DropReport::default();
        let mut tick = tokio::time::interval(rxguard::DROP_REPORT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let gap = || Duration::from_micros(gap_us.load(Ordering::Relaxed));
        let mut pacing = ReadPacing::new(gap(), socket.receive_buffer());
        let mut queue_drops = socket.queue_drops();
        let mut watch = match socket.watch() {
            Ok(watch) => Some(watch),
            Err(error) => {
                let _ = events.send(NetEvent::ReceiveError { pool, error });
                return;
            }
        };
        let mut resume_at = Instant::now();
        // Packets read since the last pacing decision.
        let mut packets = 0;
        let mut paced_once = false;
        loop {
            let mut failed = false;
            let wake = match &watch {
                Some(watching) => tokio::select! {
                    received = batch.receive(&socket, watching) => Wake::Arrival(received),
                    _ = tick.tick() => Wake::Report,
                },
                None => tokio::select! {
                    () = tokio::time::sleep_until(resume_at.into()) => Wake::PacedRound,
                    _ = tick.tick() => Wake::Report,
                },
            };
            if matches!(wake, Wake::Report) {
                if !report_drops(&mut report, &label, &socket) {
                    return;
                }
                continue;
            }
            if socket.is_orphaned() {
                return;
            }
            if let Wake::Arrival(received) = wake {
                let Some(read) = forward(pool, &batch, received, &events, &mut report) else {
                    return;
                };
                packets += read.packets;
                failed |= read.failed;
                if read.packets == linux::vrrp_socket::RECEIVE_BATCH {
                    // More may be queued: read on before deciding anything.
                    continue;
                }
            } else {
                // Everything queued, a batch at a time (bounded: a flood cannot hold
                // the loop here; what is left is read on the next round).
                for _ in 0..READS_PER_ROUND {
                    let received = batch.try_receive(&socket);
                    let Some(read) = forward(pool, &batch, received, &events, &mut report) else {
                        return;
                    };
                    packets += read.packets;
                    failed |= read.failed;
                    if read.packets < linux::vrrp_socket::RECEIVE_BATCH || read.failed {
                        break;
                    }
                }
            }
            if failed {
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
            let drops_now = socket.queue_drops();
            let overflowed = pacing.is_paused() && drops_now > queue_drops;
            queue_drops = drops_now;
            pacing.set_gap(gap());
            let next = pacing.after_wake(Instant::now(), std::mem::take(&mut packets), overflowed);
            match next {
                NextRead::Watch => {
                    if watch.is_none() {
                        match socket.watch() {
                            Ok(watching) => watch = Some(watching),
                            Err(error) => {
                                let _ = events.send(NetEvent::ReceiveError { pool, error });
                                return;
                            }
                        }
                    }
                }
                NextRead::Pause(gap) => {
                    if !paced_once {
                        paced_once = true;
                        debug!(
                            "VRRP sockpool {label}: adverts come more often than every {} ms; \
                             reading them every {} ms, each at its arrival time",
                            gap.as_secs_f64() * 1000.0,
                            gap.as_secs_f64() * 1000.0
                        );
                    }
                    // Out of the event loop's epoll set: arrivals only queue.
                    watch = None;
                    resume_at = Instant::now() + gap;
                }
            }
        }
    });
}

/// What woke a pool's receive task.
enum Wake {
    /// The watched socket had packets: what reading them gave.
    Arrival(Result<(), String>),
    /// A paced pool's gap is over.
    PacedRound,
    /// Time to report the kernel's drops.
    Report,
}

/// Batches read in one paced round at most (a flood is read on over several).
const READS_PER_ROUND: usize = 64;

/// Logs the kernel's drops of the last period; false when the pool moved on and
/// the task should end.
fn report_drops(report: &mut rxguard::DropReport, label: &str, socket: &PoolSocket) -> bool {
    match report.period(label, socket.drops()) {
        rxguard::Report::Quiet => {}
        rxguard::Report::Debug(line) => debug!("{line}"),
        rxguard::Report::Info(line) => info!("{line}"),
        rxguard::Report::Warn(line) => warn!("{line}"),
    }
    !socket.is_orphaned()
}

/// What one read handed to the event loop.
struct Forwarded {
    packets: usize,
    failed: bool,
}

/// Hands what the last read put in `batch` to the event loop, in order: the packets
/// as one event, and any error. `None` when the loop is gone.
fn forward(
    pool: usize,
    batch: &PoolBatch,
    received: Result<(), String>,
    events: &UnboundedSender<NetEvent>,
    report: &mut rxguard::DropReport,
) -> Option<Forwarded> {
    let mut failed = false;
    let mut count = 0;
    let mut packets = PacketBatch::default();
    let mut send = |event: NetEvent| {
        failed |= matches!(event, NetEvent::ReceiveError { .. });
        events.send(event).is_ok()
    };
    let mut delivered = match received {
        Ok(()) => batch.visit_packets(|packet| match packet {
            Ok((data, meta, arrived)) => {
                report.received += 1;
                count += 1;
                packets.push(data, meta, arrived);
                true
            }
            // Keep the order: what was read before the error goes first.
            Err(error) => {
                let before = std::mem::take(&mut packets);
                (before.is_empty()
                    || send(NetEvent::Packets {
                        pool,
                        batch: before,
                    }))
                    && send(NetEvent::ReceiveError { pool, error })
            }
        }),
        Err(error) => send(NetEvent::ReceiveError { pool, error }),
    };
    if delivered && !packets.is_empty() {
        delivered = send(NetEvent::Packets {
            pool,
            batch: packets,
        });
    }
    delivered.then_some(Forwarded {
        packets: count,
        failed,
    })
}

/// Reads what is queued on a pool's socket now, without waiting, and hands each
/// packet to `each` in order with its arrival time: for the event loop, which must
/// see every advert that came before it lets a Master_Down timer fire.
pub fn read_queued(
    socket: &PoolSocket,
    mut each: impl FnMut(&[u8], RxMeta, Option<SystemTime>),
) -> Result<usize, String> {
    let mut batch = PoolBatch::for_socket(socket);
    let mut total = 0;
    for _ in 0..READS_PER_ROUND {
        batch.try_receive(socket)?;
        let mut count = 0;
        batch.visit_packets(|packet| {
            if let Ok((data, meta, arrived)) = packet {
                each(data, meta, arrived);
            }
            count += 1;
            true
        });
        total += count;
        if count < linux::vrrp_socket::RECEIVE_BATCH {
            break;
        }
    }
    Ok(total)
}

/// Packets read together, handed to the event loop as one event: one
/// allocation and one channel message per batch rather than per packet.
#[derive(Debug, Default)]
pub struct PacketBatch {
    bytes: Vec<u8>,
    /// Where each packet is in `bytes`, what came with it, and when the kernel
    /// received it.
    packets: Vec<(std::ops::Range<usize>, RxMeta, Option<SystemTime>)>,
}

impl PacketBatch {
    fn push(&mut self, data: &[u8], meta: RxMeta, arrived: Option<SystemTime>) {
        if self.packets.is_empty() {
            self.bytes
                .reserve(data.len() * linux::vrrp_socket::RECEIVE_BATCH);
            self.packets.reserve(linux::vrrp_socket::RECEIVE_BATCH);
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.packets.push((start..self.bytes.len(), meta, arrived));
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The packets in arrival order, with their arrival times.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], RxMeta, Option<SystemTime>)> {
        self.packets.iter().map(|(range, meta, arrived)| {
            (
                self.bytes.get(range.clone()).unwrap_or(&[]),
                *meta,
                *arrived,
            )
        })
    }
}

const WRONG_FAMILY: &str = "receive buffers of the wrong address family";

/// A pool's receive buffers, of its socket's family.
enum PoolBatch {
    V4(ReceiveBatch<ReceivedV4>),
    V6(ReceiveBatch<ReceivedV6>),
}

impl PoolBatch {
    fn for_socket(socket: &PoolSocket) -> Self {
        match socket {
            PoolSocket::V4(_) => PoolBatch::V4(ReceiveBatch::new(RECEIVE_BUFFER)),
            PoolSocket::V6(_) => PoolBatch::V6(ReceiveBatch::new(RECEIVE_BUFFER)),
        }
    }

    /// Waits for packets and reads what is queued (up to a batch).
    async fn receive(&mut self, socket: &PoolSocket, watch: &ReceiveWatch) -> Result<(), String> {
        match (socket, self) {
            (PoolSocket::V4(s), PoolBatch::V4(batch)) => s.recv_batch(watch, batch).await,
            (PoolSocket::V6(s), PoolBatch::V6(batch)) => s.recv_batch(watch, batch).await,
            // A pool's socket never changes family; its batch is made for it.
            _ => return Err(WRONG_FAMILY.into()),
        }
        .map_err(|e| e.to_string())
    }

    /// Reads what is queued (up to a batch) without waiting; none is no error.
    fn try_receive(&mut self, socket: &PoolSocket) -> Result<(), String> {
        match (socket, self) {
            (PoolSocket::V4(s), PoolBatch::V4(batch)) => s.try_recv_batch(batch).map(drop),
            (PoolSocket::V6(s), PoolBatch::V6(batch)) => s.try_recv_batch(batch).map(drop),
            _ => return Err(WRONG_FAMILY.into()),
        }
        .map_err(|e| e.to_string())
    }

    /// Hands each packet the last receive read to `visit` in order (bytes and
    /// receive metadata, or why the packet is unusable) while it returns true;
    /// true when every packet was visited.
    fn visit_packets(
        &self,
        mut visit: impl FnMut(Result<(&[u8], RxMeta, Option<SystemTime>), String>) -> bool,
    ) -> bool {
        match self {
            PoolBatch::V4(batch) => batch.packets().all(|packet| {
                visit(
                    packet
                        .map(|(data, r)| (data, RxMeta::Ipv4, r.arrived))
                        .map_err(|e| e.to_string()),
                )
            }),
            PoolBatch::V6(batch) => batch.packets().all(|packet| {
                visit(
                    packet
                        .map(|(data, r)| {
                            (
                                data,
                                RxMeta::Ipv6 {
                                    source: r.source,
                                    destination: r.dest,
                                    hop_limit: r.hop_limit,
                                },
                                r.arrived,
                            )
                        })
                        .map_err(|e| e.to_string()),
                )
            }),
        }
    }
}

/// Spawns the link/address monitor, seeded with the current links.
pub fn spawn_monitor(
    mut monitor: Monitor,
    links: &[linux::link::LinkInfo],
    events: UnboundedSender<NetEvent>,
) {
    for link in links {
        monitor.decoder_mut().seed(link);
    }
    tokio::spawn(async move {
        while let Some(event) = monitor.next().await {
            if events.send(NetEvent::Link(event)).is_err() {
                return;
            }
        }
    });
}

/// The VRID of a received packet, before any check (for demultiplexing). IPv4: after
/// the IP header and, for protocol 51, the 24-byte AH header; IPv6: the VRRP message.
pub fn vrid_of(data: &[u8], family: Family) -> Option<u8> {
    match family {
        Family::Ipv4 => {
            let ihl = usize::from(data.first()? & 0x0f) * 4;
            let ah = if *data.get(9)? == IPPROTO_AH { 24 } else { 0 };
            data.get(ihl + ah + 1).copied()
        }
        Family::Ipv6 => data.get(1).copied(),
    }
}

/// The IPv4 source of a received packet.
pub fn ipv4_source(data: &[u8]) -> Option<IpAddr> {
    let octets: [u8; 4] = data.get(12..16)?.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrid_found_after_ip_and_ah_headers() {
        // keepalived's v2 advert from the lab capture: VRID 0x33.
        let plain = [
            0x45, 0xc0, 0x00, 0x28, 0x00, 0x05, 0x00, 0x00, 0xff, 0x70, 0x18, 0x83, 0xc0, 0x00,
            0x02, 0x0b, 0xe0, 0x00, 0x00, 0x12, 0x21, 0x33, 0x96, 0x01,
        ];
        assert_eq!(vrid_of(&plain, Family::Ipv4), Some(51));
        assert_eq!(
            ipv4_source(&plain),
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)))
        );
        let mut ah = plain[..20].to_vec();
        ah[9] = IPPROTO_AH;
        ah.extend_from_slice(&[0; 24]);
        ah.extend_from_slice(&[0x21, 7]);
        assert_eq!(vrid_of(&ah, Family::Ipv4), Some(7));
        assert_eq!(vrid_of(&[0x31, 9, 100], Family::Ipv6), Some(9));
        assert_eq!(vrid_of(&[0x45], Family::Ipv4), None);
        assert_eq!(vrid_of(&[], Family::Ipv6), None);
    }
}
