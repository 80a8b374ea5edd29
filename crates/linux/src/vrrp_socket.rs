//! Raw sockets carrying VRRP adverts (IP protocol 112, or 51 when IPsec AH
//! authentication is used).
//!
//! keepalived: `open_vrrp_send_socket()` / `open_vrrp_read_socket()` in
//! `vrrp.c`, the `if_setsockopt_*()` helpers in `vrrp_if.c`, and
//! `vrrp_send_pkt()` / `vrrp_build_ancillary_data()`. As upstream, each
//! socket is a pair: a send socket that never queues anything (receive
//! buffer and a drop-all filter), and a receive socket that joins the group
//! and is bound to it (multicast) or to the unicast source.

use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, RecvMsg, SockaddrIn, SockaddrIn6,
    SockaddrLike,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::bpf::{self, FilterSpec};
use crate::{IfRef, sys};

/// RFC 5798 §5.1.1.2: 224.0.0.18.
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// RFC 5798 §5.1.2.2: ff02::12.
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// RFC 5798 §5.1.1.3: TTL / hop limit of multicast adverts.
pub const VRRP_TTL: u8 = 255;
/// Offset of the VRRP checksum in the advert, for IPV6_CHECKSUM.
const VRRP_CHECKSUM_OFFSET: i32 = 6;
/// IPTOS_PREC_INTERNETCONTROL / CS6 (keepalived: `if_setsockopt_priority()`).
const TOS_INTERNET_CONTROL: u32 = 0xc0;
const IPV4_MIN_HEADER: usize = 20;

/// Which IP protocol the advert travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpProtocol {
    /// IP protocol 112: plain VRRP.
    Vrrp,
    /// IP protocol 51: IPsec AH around VRRPv2 (keepalived `auth_type AH`).
    Ah,
}

impl VrrpProtocol {
    /// The IP protocol number.
    pub const fn number(self) -> i32 {
        match self {
            Self::Vrrp => 112,
            Self::Ah => 51,
        }
    }
}

/// Multicast to a group, or unicast to peers from a fixed source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<A> {
    /// Join `group` on the interface; only packets to it are received.
    Multicast {
        /// 224.0.0.18 / ff02::12 unless `mcast_dst_ip` says otherwise.
        group: A,
    },
    /// Bind the receive socket to `source` (with IP_FREEBIND, so it works
    /// before the address exists) and send to each peer.
    Unicast {
        /// `unicast_src_ip`.
        source: A,
    },
}

/// How to open a VRRP socket pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions<A> {
    /// The interface adverts go out of and come in on; required for multicast.
    pub interface: Option<IfRef>,
    /// 112, or 51 for AH.
    pub protocol: VrrpProtocol,
    /// Multicast group or unicast source.
    pub delivery: Delivery<A>,
    /// SO_RCVBUF of the receive socket (`vrrp_rx_bufs_policy`); `None` keeps
    /// the kernel default.
    pub receive_buffer: Option<usize>,
    /// Set `receive_buffer` with SO_RCVBUFFORCE, past the `rmem_max` sysctl (needs
    /// CAP_NET_ADMIN; without it the largest SO_RCVBUF allows): for a queue read at
    /// the reader's own pace, which must hold what comes meanwhile.
    pub force_receive_buffer: bool,
    /// Attach the kernel filter of [`crate::bpf`] to the receive socket (and
    /// count what it drops, see [`VrrpSocketV4::drops`]).
    pub kernel_filter: bool,
    /// What the instances on the socket run, for the kernel filter: the VRIDs
    /// (empty: any) and the versions.
    pub filter_scope: FilterScope,
}

/// The instances behind a socket, as far as the kernel filter cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterScope {
    /// VRIDs run on the socket; empty accepts any.
    pub vrids: Vec<u8>,
    /// Some instance runs VRRPv2.
    pub v2: bool,
    /// Some instance runs VRRPv3.
    pub v3: bool,
}

impl Default for FilterScope {
    /// Any VRID, either version.
    fn default() -> Self {
        FilterScope {
            vrids: Vec::new(),
            v2: true,
            v3: true,
        }
    }
}

/// Packets the kernel dropped before they reached us, since the socket opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelDrops {
    /// Refused by the kernel: by the BPF filter, and for IPv6 by the kernel's
    /// checksum verification (arrivals counted by a second socket, minus what
    /// was delivered or lost; packets still queued for us count here until
    /// read).
    pub filtered: u64,
    /// Lost because the receive queue was full (SO_RCVBUF reached).
    pub queue_full: u64,
}

/// Errors of the VRRP sockets.
#[derive(Debug, thiserror::Error)]
pub enum VrrpSocketError {
    /// A socket could not be created or configured; `step` says which call.
    #[error("VRRP socket setup failed at {step}: {source}")]
    Setup {
        /// The failing step, e.g. "IP_HDRINCL".
        step: &'static str,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// Multicast needs an interface to join the group on.
    #[error("multicast VRRP needs an interface")]
    MulticastWithoutInterface,
    /// Sending failed.
    #[error("send to {dest} failed: {source}")]
    Send {
        /// Destination.
        dest: IpAddr,
        /// The kernel's answer.
        #[source]
        source: io::Error,
    },
    /// Receiving failed.
    #[error("receive failed: {0}")]
    Receive(#[source] io::Error),
    /// The kernel handed us something that is not a full IPv4 header.
    #[error("received {len} bytes, too short for an IPv4 header")]
    Truncated {
        /// Bytes received.
        len: usize,
    },
}

fn setup(step: &'static str) -> impl FnOnce(io::Error) -> VrrpSocketError {
    move |source| VrrpSocketError::Setup { step, source }
}

/// What came with one IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedV4 {
    /// Bytes written to the buffer: the IP header, then the VRRP (or AH) packet.
    pub len: usize,
    /// IP source.
    pub source: Ipv4Addr,
    /// IP destination.
    pub dest: Ipv4Addr,
    /// IP TTL.
    pub ttl: u8,
    /// When the kernel received it (SO_TIMESTAMPNS, `CLOCK_REALTIME`).
    pub arrived: Option<SystemTime>,
}

/// What came with one IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedV6 {
    /// Bytes written to the buffer: the VRRP packet only (the kernel strips
    /// the IPv6 header and has verified the checksum).
    pub len: usize,
    /// IPv6 source.
    pub source: Ipv6Addr,
    /// IPv6 destination (IPV6_PKTINFO); `None` if the kernel sent none.
    pub dest: Option<Ipv6Addr>,
    /// Hop limit (IPV6_HOPLIMIT); `None` if the kernel sent none.
    pub hop_limit: Option<u8>,
    /// Arrival interface (IPV6_PKTINFO).
    pub ifindex: Option<u32>,
    /// When the kernel received it (SO_TIMESTAMPNS, `CLOCK_REALTIME`).
    pub arrived: Option<SystemTime>,
}

/// The socket's readability watched by the event loop (see [`VrrpSocketV4::watch`]).
pub type ReceiveWatch = sys::ReadWatch;

fn raw_socket(domain: Domain, protocol: VrrpProtocol) -> Result<Socket, VrrpSocketError> {
    Socket::new(
        domain,
        Type::RAW.nonblocking().cloexec(),
        Some(Protocol::from(protocol.number())),
    )
    .map_err(setup("socket"))
}

/// Send sockets never read: keepalived sets SO_RCVBUF 0 and a filter that
/// drops everything (`if_setsockopt_no_receive()`).
fn make_send_only(socket: &Socket) -> Result<(), VrrpSocketError> {
    socket.set_recv_buffer_size(0).map_err(setup("SO_RCVBUF"))?;
    socket
        .attach_filter(&bpf::to_socket2(&bpf::drop_all()))
        .map_err(setup("SO_ATTACH_FILTER"))
}

/// A send socket, not registered with the event loop while it has room. Registered,
/// its edge-triggered EPOLLOUT fires each time the kernel frees a sent packet, and the
/// loop woke up once more per advert for nothing. It is non-blocking: a send that
/// finds the buffer full (never seen in practice: adverts are tiny and rare) waits for
/// room through a registration made for that wait only.
#[derive(Debug)]
struct SendSocket(Socket);

impl SendSocket {
    async fn send_with(
        &self,
        mut send: impl FnMut(&Socket) -> io::Result<usize>,
    ) -> io::Result<usize> {
        loop {
            match send(&self.0) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    sys::wait_writable(&self.0).await?;
                }
                result => return result,
            }
        }
    }
}

fn bind_device(socket: &Socket, interface: Option<&IfRef>) -> Result<(), VrrpSocketError> {
    match interface {
        Some(ifr) => socket
            .bind_device(Some(ifr.name.as_bytes()))
            .map_err(setup("SO_BINDTODEVICE")),
        None => Ok(()),
    }
}

fn filter_spec<A>(options: &SocketOptions<A>, multicast: bool, ipv6: bool) -> FilterSpec {
    let behind_ah = options.protocol == VrrpProtocol::Ah;
    FilterSpec {
        require_ttl_255: multicast,
        // keepalived runs AH over IPv4 only; an IPv6 AH socket checks the TTL only.
        check_vrrp_header: !(behind_ah && ipv6),
        behind_ah,
        accept_v2: options.filter_scope.v2,
        accept_v3: options.filter_scope.v3 && !behind_ah,
        vrids: options.filter_scope.vrids.clone(),
    }
}

/// Sets SO_RCVBUF to `size` (`None`: keeps the kernel default); `force`: with
/// SO_RCVBUFFORCE, falling back to SO_RCVBUF where that is refused.
fn set_receive_buffer(
    socket: &Socket,
    size: Option<usize>,
    force: bool,
) -> Result<(), VrrpSocketError> {
    let Some(size) = size else {
        return Ok(());
    };
    if force {
        let forced = nix::sys::socket::setsockopt(
            &socket.as_fd(),
            nix::sys::socket::sockopt::RcvBufForce,
            &size,
        );
        if forced.is_ok() {
            return Ok(());
        }
    }
    socket
        .set_recv_buffer_size(size)
        .map_err(setup("SO_RCVBUF"))
}

/// Smallest receive buffer: the counting socket only needs its drop counter.
const COUNTER_RECEIVE_BUFFER: usize = 1;

/// Counts every packet that reaches the receive socket, before its filter: a
/// second receive socket joined alike, without a filter and with the smallest
/// buffer, never read except to count and empty its few queued packets; the
/// rest overflow it and the kernel counts them (SO_MEMINFO drops). What the
/// real socket's filter refused is then arrivals − delivered − queue drops.
///
/// (A socket with the *inverted* filter would count refusals directly, but
/// once its tiny queue is full the kernel counts every arrival as a drop,
/// filter or not, so it over-counts; counting all arrivals is exact.)
#[derive(Debug)]
struct ArrivalCounter {
    socket: Socket,
    drained: AtomicU64,
}

impl ArrivalCounter {
    fn new(socket: Socket) -> ArrivalCounter {
        ArrivalCounter {
            socket,
            drained: AtomicU64::new(0),
        }
    }

    /// Packets that reached the socket since it opened (give or take the few
    /// that arrived since the last call and sit in its queue).
    fn arrivals(&self) -> u64 {
        let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        let mut drained = 0u64;
        // The buffer holds a handful of packets; bounded anyway.
        while drained < 4096 && self.socket.recv(&mut scratch).is_ok() {
            drained += 1;
        }
        let total = self.drained.fetch_add(drained, Ordering::Relaxed) + drained;
        total + u64::from(sys::socket_drops(self.socket.as_fd()).unwrap_or(0))
    }
}

/// The receive side of a socket pair: the socket we read (with the kernel
/// filter, if any) and what accounts for the packets that never reach it.
#[derive(Debug)]
struct Receiver {
    /// Not registered with the event loop: a [`ReceiveWatch`] does that, for as
    /// long as its holder wants to be woken by arrivals.
    socket: Arc<Socket>,
    /// Only when there is a filter: without one, nothing is refused.
    arrivals: Option<ArrivalCounter>,
    /// IPv6 only: the kernel verifies the checksum of a socket with
    /// IPV6_CHECKSUM (or a filter) before its filter and counts a failure as a
    /// socket drop, the same counter as a full queue. This probe, opened alike
    /// but with a filter refusing everything (refusals are not socket drops),
    /// counts exactly those failures, so that they are reported as refused by
    /// the kernel rather than lost.
    checksum_failures: Option<Socket>,
    delivered: AtomicU64,
}

impl Receiver {
    /// Opens the receive socket with `open(program, receive_buffer)` and, when
    /// it has a filter, the [`ArrivalCounter`] alike without one; when the
    /// kernel verifies checksums (`kernel_checksums`, IPv6), the checksum probe.
    fn open(
        program: Option<Vec<bpf::Insn>>,
        receive_buffer: Option<usize>,
        kernel_checksums: bool,
        open: impl Fn(Option<&[bpf::Insn]>, Option<usize>) -> Result<Socket, VrrpSocketError>,
    ) -> Result<Self, VrrpSocketError> {
        let socket = open(program.as_deref(), receive_buffer)?;
        // Arrival times, so that a packet read late still counts from when it came.
        nix::sys::socket::setsockopt(
            &socket.as_fd(),
            nix::sys::socket::sockopt::ReceiveTimestampns,
            &true,
        )
        .map_err(|e| VrrpSocketError::Setup {
            step: "SO_TIMESTAMPNS",
            source: e.into(),
        })?;
        let arrivals = match program {
            Some(_) => Some(ArrivalCounter::new(open(
                None,
                Some(COUNTER_RECEIVE_BUFFER),
            )?)),
            None => None,
        };
        let checksum_failures = if kernel_checksums {
            Some(open(Some(&bpf::drop_all()), Some(COUNTER_RECEIVE_BUFFER))?)
        } else {
            None
        };
        Ok(Self {
            socket: Arc::new(socket),
            arrivals,
            checksum_failures,
            delivered: AtomicU64::new(0),
        })
    }

    /// Counts a packet read from the socket.
    fn delivered_one(&self) {
        self.delivered(1);
    }

    /// Counts packets read from the socket.
    fn delivered(&self, count: usize) {
        self.delivered
            .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The queue's limit in bytes (SO_RCVBUF as the kernel reports it: twice what
    /// was set, for its bookkeeping).
    fn receive_buffer(&self) -> usize {
        self.socket.recv_buffer_size().unwrap_or(0)
    }

    /// Watches the socket's readability from the current runtime's event loop.
    fn watch(&self) -> Result<ReceiveWatch, VrrpSocketError> {
        sys::ReadWatch::new(Arc::clone(&self.socket)).map_err(setup("register receive socket"))
    }

    /// Reads up to `buffer.len() / slot` queued packets with one recvmmsg(2) into
    /// consecutive `slot`-byte slots, with room for `cmsg_space` bytes of control
    /// messages each (0: none), without waiting; `each(slot_index, msg)` sees every
    /// packet read. Returns how many were read (at least one), `WouldBlock` when
    /// none was queued.
    fn try_read_many<S: SockaddrLike + Copy>(
        &self,
        buffer: &mut [u8],
        slot: usize,
        cmsg_space: usize,
        mut each: impl FnMut(usize, &RecvMsg<'_, '_, S>),
    ) -> io::Result<usize> {
        let capacity = buffer.len() / slot.max(1);
        // (nix sizes the control buffers by the capacity of this one.)
        let control = (cmsg_space > 0).then(|| Vec::with_capacity(cmsg_space));
        let mut headers = MultiHeaders::<S>::preallocate(capacity, control);
        let mut slots: Vec<[IoSliceMut<'_>; 1]> = buffer
            .chunks_mut(slot.max(1))
            .map(|chunk| [IoSliceMut::new(chunk)])
            .collect();
        let results = nix::sys::socket::recvmmsg(
            self.socket.as_raw_fd(),
            &mut headers,
            slots.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        )
        .map_err(io::Error::from)?;
        let mut count = 0;
        for (index, msg) in results.enumerate() {
            count = index + 1;
            each(index, &msg);
        }
        self.delivered(count);
        Ok(count)
    }

    fn drops(&self) -> KernelDrops {
        let socket_drops = u64::from(sys::socket_drops(self.socket.as_fd()).unwrap_or(0));
        // Read after the socket's own count: a failure arriving in between makes
        // queue_full smaller for a moment, never larger.
        let bad_checksums = self.checksum_failures.as_ref().map_or(0, |probe| {
            u64::from(sys::socket_drops(probe.as_fd()).unwrap_or(0))
        });
        let queue_full = socket_drops.saturating_sub(bad_checksums);
        let filtered = match &self.arrivals {
            Some(counter) => counter
                .arrivals()
                .saturating_sub(self.delivered.load(Ordering::Relaxed))
                .saturating_sub(queue_full),
            None => bad_checksums,
        };
        KernelDrops {
            filtered,
            queue_full,
        }
    }
}

/// An IPv4 VRRP socket pair. The caller builds whole IP packets (IP_HDRINCL).
#[derive(Debug)]
pub struct VrrpSocketV4 {
    send: SendSocket,
    recv: Receiver,
    multicast: bool,
}

impl VrrpSocketV4 {
    /// Opens and configures both sockets. Must run inside a tokio runtime;
    /// the sockets belong to the calling thread's network namespace.
    pub fn open(options: &SocketOptions<Ipv4Addr>) -> Result<Self, VrrpSocketError> {
        let multicast = matches!(options.delivery, Delivery::Multicast { .. });
        if multicast && options.interface.is_none() {
            return Err(VrrpSocketError::MulticastWithoutInterface);
        }

        let send = raw_socket(Domain::IPV4, options.protocol)?;
        make_send_only(&send)?;
        send.set_multicast_all_v4(false)
            .map_err(setup("IP_MULTICAST_ALL"))?;
        send.set_header_included_v4(true)
            .map_err(setup("IP_HDRINCL"))?;
        bind_device(&send, options.interface.as_ref())?;
        if let Some(ifr) = options.interface.as_ref().filter(|_| multicast) {
            // IP_MULTICAST_IF by index (struct ip_mreqn), like keepalived: the
            // interface may have no IPv4 address to name it by.
            sys::set_ipv4_multicast_if_index(send.as_fd(), ifr.index)
                .map_err(setup("IP_MULTICAST_IF"))?;
            send.set_multicast_loop_v4(false)
                .map_err(setup("IP_MULTICAST_LOOP"))?;
        }
        send.set_tos_v4(TOS_INTERNET_CONTROL)
            .map_err(setup("IP_TOS"))?;

        let program = options
            .kernel_filter
            .then(|| bpf::ipv4_program(&filter_spec(options, multicast, false)));
        // IPv4 raw sockets leave the VRRP checksum to us.
        let recv = Receiver::open(program, options.receive_buffer, false, |program, buffer| {
            Self::receive_socket(options, program, buffer)
        })?;

        Ok(Self {
            send: SendSocket(send),
            recv,
            multicast,
        })
    }

    /// A receive socket: `program` attached before the join, so that nothing
    /// unfiltered is ever queued.
    fn receive_socket(
        options: &SocketOptions<Ipv4Addr>,
        program: Option<&[bpf::Insn]>,
        receive_buffer: Option<usize>,
    ) -> Result<Socket, VrrpSocketError> {
        let recv = raw_socket(Domain::IPV4, options.protocol)?;
        if let Some(program) = program {
            recv.attach_filter(&bpf::to_socket2(program))
                .map_err(setup("SO_ATTACH_FILTER"))?;
        }
        set_receive_buffer(&recv, receive_buffer, options.force_receive_buffer)?;
        // Without this, a raw socket gets every group any socket on the host joined.
        recv.set_multicast_all_v4(false)
            .map_err(setup("IP_MULTICAST_ALL"))?;
        match options.delivery {
            Delivery::Multicast { group } => {
                let index = options.interface.as_ref().map_or(0, |i| i.index);
                recv.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(index))
                    .map_err(setup("IP_ADD_MEMBERSHIP"))?;
                // Bound to the group, unicast packets to us are not delivered here.
                recv.bind(&SockAddr::from(SocketAddrV4::new(group, 0)))
                    .map_err(setup("bind group"))?;
            }
            Delivery::Unicast { source } => {
                recv.set_freebind_v4(true).map_err(setup("IP_FREEBIND"))?;
                recv.bind(&SockAddr::from(SocketAddrV4::new(source, 0)))
                    .map_err(setup("bind source"))?;
            }
        }
        bind_device(&recv, options.interface.as_ref())?;
        Ok(recv)
    }

    /// What the kernel dropped on this socket's way in since it opened.
    pub fn drops(&self) -> KernelDrops {
        self.recv.drops()
    }

    /// Sends `packet` (IP header included) to `dest`: the group, or one
    /// unicast peer. Multicast goes with MSG_DONTROUTE as in keepalived.
    pub async fn send(&self, packet: &[u8], dest: Ipv4Addr) -> Result<usize, VrrpSocketError> {
        let flags = if self.multicast && dest.is_multicast() {
            libc::MSG_DONTROUTE
        } else {
            0
        };
        let addr = SockAddr::from(SocketAddrV4::new(dest, 0));
        self.send
            .send_with(|s| s.send_to_with_flags(packet, &addr, flags))
            .await
            .map_err(|source| VrrpSocketError::Send {
                dest: IpAddr::V4(dest),
                source,
            })
    }

    /// Waits for one packet; `buf` receives the IP header and the payload.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<ReceivedV4, VrrpSocketError> {
        let watch = self.watch()?;
        let len = watch
            .read_with(|| {
                let mut socket: &Socket = &self.recv.socket;
                Ok((socket.read(buf)?, false))
            })
            .await
            .map_err(VrrpSocketError::Receive)?;
        self.recv.delivered_one();
        received_v4(buf, len)
    }

    /// Watches the receive socket from the current runtime's event loop: while the
    /// watch lives, each arriving packet wakes the loop (see [`Self::recv_batch`]);
    /// without one, packets only queue until [`Self::try_recv_batch`].
    pub fn watch(&self) -> Result<ReceiveWatch, VrrpSocketError> {
        self.recv.watch()
    }

    /// The receive queue's limit in bytes (SO_RCVBUF as the kernel reports it).
    pub fn receive_buffer(&self) -> usize {
        self.recv.receive_buffer()
    }

    /// Packets the kernel dropped on the receive socket since it opened: a full
    /// queue (or, IPv6, a bad checksum). One system call, unlike [`Self::drops`].
    pub fn queue_drops(&self) -> u64 {
        u64::from(sys::socket_drops(self.recv.socket.as_fd()).unwrap_or(0))
    }

    /// Waits until `watch` sees packets, then reads as many as are queued, up to the
    /// batch's capacity, in one recvmmsg(2). Every packet read is in `batch`
    /// afterwards (a packet too short for an IP header as an error entry).
    pub async fn recv_batch(
        &self,
        watch: &ReceiveWatch,
        batch: &mut ReceiveBatch<ReceivedV4>,
    ) -> Result<(), VrrpSocketError> {
        wait_and_read(watch, batch, |batch| self.try_recv_batch(batch)).await
    }

    /// Reads what is queued, up to the batch's capacity, without waiting: like
    /// [`Self::recv_batch`], but 0 packets when none is queued.
    pub fn try_recv_batch(
        &self,
        batch: &mut ReceiveBatch<ReceivedV4>,
    ) -> Result<usize, VrrpSocketError> {
        batch.entries.clear();
        let ReceiveBatch {
            buffer,
            slot,
            entries,
        } = batch;
        let read =
            self.recv
                .try_read_many::<SockaddrIn>(buffer, *slot, v4_cmsg_space(), |index, msg| {
                    entries.push((index, Ok(unparsed_v4(msg))));
                });
        let count = would_block_is_none(read)?;
        batch.parse_v4_headers();
        Ok(count)
    }
}

/// Room for an IPv4 packet's control messages: its arrival time.
fn v4_cmsg_space() -> usize {
    nix::cmsg_space!(libc::timespec).capacity()
}

/// Room for an IPv6 packet's control messages: hop limit, packet info, arrival time.
fn v6_cmsg_space() -> usize {
    nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, libc::timespec).capacity()
}

/// Waits until `watch` sees the socket readable, then reads a batch with
/// `try_read` (a non-blocking read returning how many packets it took).
async fn wait_and_read<M>(
    watch: &ReceiveWatch,
    batch: &mut ReceiveBatch<M>,
    mut try_read: impl FnMut(&mut ReceiveBatch<M>) -> Result<usize, VrrpSocketError>,
) -> Result<(), VrrpSocketError> {
    let capacity = batch.buffer.len() / batch.slot;
    watch
        .read_with(|| match try_read(batch) {
            // Nothing queued: the readiness was stale.
            Ok(0) => Err(io::ErrorKind::WouldBlock.into()),
            // Fewer than asked: the queue is empty.
            Ok(count) => Ok(((), count < capacity)),
            Err(VrrpSocketError::Receive(e)) => Err(e),
            Err(other) => Err(io::Error::other(other.to_string())),
        })
        .await
        .map_err(VrrpSocketError::Receive)
}

/// A non-blocking read's count, 0 for `WouldBlock`.
fn would_block_is_none(read: io::Result<usize>) -> Result<usize, VrrpSocketError> {
    match read {
        Ok(count) => Ok(count),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) => Err(VrrpSocketError::Receive(e)),
    }
}

/// What recvmmsg says of an IPv4 packet (its length and arrival time), until its
/// header is read from the buffer (which recvmmsg borrows meanwhile).
fn unparsed_v4(msg: &RecvMsg<'_, '_, SockaddrIn>) -> ReceivedV4 {
    ReceivedV4 {
        len: msg.bytes,
        source: Ipv4Addr::UNSPECIFIED,
        dest: Ipv4Addr::UNSPECIFIED,
        ttl: 0,
        arrived: msg
            .cmsgs()
            .ok()
            .and_then(|mut cmsgs| cmsgs.find_map(arrival_time)),
    }
}

/// The kernel's receive time of a packet, from its SO_TIMESTAMPNS control message.
fn arrival_time(cmsg: ControlMessageOwned) -> Option<SystemTime> {
    match cmsg {
        ControlMessageOwned::ScmTimestampns(at) => {
            let secs = u64::try_from(at.tv_sec()).ok()?;
            let nanos = u32::try_from(at.tv_nsec()).ok()?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
        }
        _ => None,
    }
}

impl ReceiveBatch<ReceivedV4> {
    /// Fills in each packet's addresses and TTL from its IP header.
    fn parse_v4_headers(&mut self) {
        for (index, entry) in self.entries.iter_mut() {
            if let Ok(unparsed) = entry {
                let (len, arrived) = (unparsed.len, unparsed.arrived);
                *entry = received_v4(buffer_slot(&self.buffer, self.slot, *index), len)
                    .map(|parsed| ReceivedV4 { arrived, ..parsed });
            }
        }
    }
}

/// The addresses and TTL of an IPv4 packet from its header.
fn received_v4(buf: &[u8], len: usize) -> Result<ReceivedV4, VrrpSocketError> {
    let header = buf
        .get(..len.min(IPV4_MIN_HEADER))
        .filter(|h| h.len() == IPV4_MIN_HEADER);
    let Some(header) = header else {
        return Err(VrrpSocketError::Truncated { len });
    };
    let octets = |at: usize| [header[at], header[at + 1], header[at + 2], header[at + 3]];
    Ok(ReceivedV4 {
        len,
        source: Ipv4Addr::from(octets(12)),
        dest: Ipv4Addr::from(octets(16)),
        ttl: header[8],
        arrived: None,
    })
}

/// An IPv6 VRRP socket pair. The kernel builds the IPv6 header and the VRRP
/// checksum (IPV6_CHECKSUM at offset 6).
#[derive(Debug)]
pub struct VrrpSocketV6 {
    send: SendSocket,
    recv: Receiver,
    ifindex: u32,
    multicast: bool,
}

impl VrrpSocketV6 {
    /// Opens and configures both sockets. Must run inside a tokio runtime;
    /// the sockets belong to the calling thread's network namespace.
    pub fn open(options: &SocketOptions<Ipv6Addr>) -> Result<Self, VrrpSocketError> {
        let multicast = matches!(options.delivery, Delivery::Multicast { .. });
        if multicast && options.interface.is_none() {
            return Err(VrrpSocketError::MulticastWithoutInterface);
        }
        let ifindex = options.interface.as_ref().map_or(0, |i| i.index);

        let send = raw_socket(Domain::IPV6, options.protocol)?;
        make_send_only(&send)?;
        send.set_multicast_all_v6(false)
            .map_err(setup("IPV6_MULTICAST_ALL"))?;
        sys::set_ipv6_checksum_offset(send.as_fd(), VRRP_CHECKSUM_OFFSET)
            .map_err(setup("IPV6_CHECKSUM"))?;
        send.set_multicast_hops_v6(u32::from(VRRP_TTL))
            .map_err(setup("IPV6_MULTICAST_HOPS"))?;
        bind_device(&send, options.interface.as_ref())?;
        if multicast {
            send.set_multicast_if_v6(ifindex)
                .map_err(setup("IPV6_MULTICAST_IF"))?;
            send.set_multicast_loop_v6(false)
                .map_err(setup("IPV6_MULTICAST_LOOP"))?;
        }
        send.set_tclass_v6(TOS_INTERNET_CONTROL)
            .map_err(setup("IPV6_TCLASS"))?;

        let program = options
            .kernel_filter
            .then(|| bpf::ipv6_program(&filter_spec(options, multicast, true)));
        let recv = Receiver::open(program, options.receive_buffer, true, |program, buffer| {
            Self::receive_socket(options, program, buffer)
        })?;

        Ok(Self {
            send: SendSocket(send),
            recv,
            ifindex,
            multicast,
        })
    }

    /// A receive socket: checksum verification and `program` before the join,
    /// so that nothing unchecked is ever queued. (The kernel verifies and drops
    /// bad checksums once IPV6_CHECKSUM is set, as for keepalived.)
    fn receive_socket(
        options: &SocketOptions<Ipv6Addr>,
        program: Option<&[bpf::Insn]>,
        receive_buffer: Option<usize>,
    ) -> Result<Socket, VrrpSocketError> {
        let ifindex = options.interface.as_ref().map_or(0, |i| i.index);
        let recv = raw_socket(Domain::IPV6, options.protocol)?;
        sys::set_ipv6_checksum_offset(recv.as_fd(), VRRP_CHECKSUM_OFFSET)
            .map_err(setup("IPV6_CHECKSUM"))?;
        if let Some(program) = program {
            recv.attach_filter(&bpf::to_socket2(program))
                .map_err(setup("SO_ATTACH_FILTER"))?;
        }
        set_receive_buffer(&recv, receive_buffer, options.force_receive_buffer)?;
        recv.set_multicast_all_v6(false)
            .map_err(setup("IPV6_MULTICAST_ALL"))?;
        match options.delivery {
            Delivery::Multicast { group } => {
                recv.join_multicast_v6(&group, ifindex)
                    .map_err(setup("IPV6_ADD_MEMBERSHIP"))?;
                let scope = if is_link_scope(&group) { ifindex } else { 0 };
                recv.bind(&SockAddr::from(SocketAddrV6::new(group, 0, 0, scope)))
                    .map_err(setup("bind group"))?;
            }
            Delivery::Unicast { source } => {
                recv.set_freebind_v6(true).map_err(setup("IPV6_FREEBIND"))?;
                // keepalived sets the scope id for a link-local source (open_sockpool_socket()).
                let scope = if is_link_scope(&source) { ifindex } else { 0 };
                recv.bind(&SockAddr::from(SocketAddrV6::new(source, 0, 0, scope)))
                    .map_err(setup("bind source"))?;
            }
        }
        recv.set_recv_hoplimit_v6(true)
            .map_err(setup("IPV6_RECVHOPLIMIT"))?;
        nix::sys::socket::setsockopt(
            &recv.as_fd(),
            nix::sys::socket::sockopt::Ipv6RecvPacketInfo,
            &true,
        )
        .map_err(|e| VrrpSocketError::Setup {
            step: "IPV6_RECVPKTINFO",
            source: e.into(),
        })?;
        bind_device(&recv, options.interface.as_ref())?;
        Ok(recv)
    }

    /// What the kernel dropped on this socket's way in since it opened.
    pub fn drops(&self) -> KernelDrops {
        self.recv.drops()
    }

    /// Sends the VRRP `payload` (checksum field may be zero: the kernel fills
    /// it) from `source` to `dest`. The source and the interface go in
    /// IPV6_PKTINFO; `hop_limit` (keepalived's `unicast_ttl`) in IPV6_HOPLIMIT
    /// for unicast only, as upstream.
    pub async fn send(
        &self,
        payload: &[u8],
        source: Ipv6Addr,
        dest: Ipv6Addr,
        hop_limit: Option<u8>,
    ) -> Result<usize, VrrpSocketError> {
        let to = SockaddrIn6::from(SocketAddrV6::new(
            dest,
            0,
            0,
            if is_link_scope(&dest) {
                self.ifindex
            } else {
                0
            },
        ));
        let pktinfo = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: source.octets(),
            },
            ipi6_ifindex: self.ifindex,
        };
        let unicast = !(self.multicast && dest.is_multicast());
        let hops = hop_limit.map(libc::c_int::from).filter(|_| unicast);
        let flags = if unicast {
            MsgFlags::empty()
        } else {
            MsgFlags::from_bits_retain(libc::MSG_DONTROUTE)
        };
        let iov = [IoSlice::new(payload)];
        self.send
            .send_with(|s| {
                let mut cmsgs = vec![ControlMessage::Ipv6PacketInfo(&pktinfo)];
                if let Some(h) = hops.as_ref() {
                    cmsgs.push(ControlMessage::Ipv6HopLimit(h));
                }
                nix::sys::socket::sendmsg(s.as_raw_fd(), &iov, &cmsgs, flags, Some(&to))
                    .map_err(io::Error::from)
            })
            .await
            .map_err(|source| VrrpSocketError::Send {
                dest: IpAddr::V6(dest),
                source,
            })
    }

    /// Waits for one packet; `buf` receives the VRRP packet.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<ReceivedV6, VrrpSocketError> {
        let watch = self.watch()?;
        let mut cmsg_space = vec![0u8; v6_cmsg_space()];
        watch
            .read_with(|| {
                let mut iov = [IoSliceMut::new(buf)];
                let msg = nix::sys::socket::recvmsg::<SockaddrIn6>(
                    self.recv.socket.as_raw_fd(),
                    &mut iov,
                    Some(cmsg_space.as_mut_slice()),
                    MsgFlags::MSG_DONTWAIT,
                )
                .map_err(io::Error::from)?;
                Ok((received_v6(&msg)?, false))
            })
            .await
            .map_err(VrrpSocketError::Receive)
            .inspect(|_| self.recv.delivered_one())
    }

    /// Watches the receive socket (see [`VrrpSocketV4::watch`]).
    pub fn watch(&self) -> Result<ReceiveWatch, VrrpSocketError> {
        self.recv.watch()
    }

    /// The receive queue's limit in bytes (SO_RCVBUF as the kernel reports it).
    pub fn receive_buffer(&self) -> usize {
        self.recv.receive_buffer()
    }

    /// Packets the kernel dropped on the receive socket since it opened: a full
    /// queue (or, IPv6, a bad checksum). One system call, unlike [`Self::drops`].
    pub fn queue_drops(&self) -> u64 {
        u64::from(sys::socket_drops(self.recv.socket.as_fd()).unwrap_or(0))
    }

    /// Waits until `watch` sees packets, then reads as many as are queued, up to the
    /// batch's capacity, in one recvmmsg(2), each with its hop limit, destination
    /// and arrival time (IPV6_HOPLIMIT, IPV6_PKTINFO, SO_TIMESTAMPNS). Every packet
    /// read is in `batch` afterwards (one whose control messages did not fit as an
    /// error entry).
    pub async fn recv_batch(
        &self,
        watch: &ReceiveWatch,
        batch: &mut ReceiveBatch<ReceivedV6>,
    ) -> Result<(), VrrpSocketError> {
        wait_and_read(watch, batch, |batch| self.try_recv_batch(batch)).await
    }

    /// Reads what is queued, up to the batch's capacity, without waiting: like
    /// [`Self::recv_batch`], but 0 packets when none is queued.
    pub fn try_recv_batch(
        &self,
        batch: &mut ReceiveBatch<ReceivedV6>,
    ) -> Result<usize, VrrpSocketError> {
        batch.entries.clear();
        let ReceiveBatch {
            buffer,
            slot,
            entries,
        } = batch;
        let read =
            self.recv
                .try_read_many::<SockaddrIn6>(buffer, *slot, v6_cmsg_space(), |index, msg| {
                    let received = received_v6(msg).map_err(VrrpSocketError::Receive);
                    entries.push((index, received));
                });
        would_block_is_none(read)
    }
}

/// What came with an IPv6 packet: its source and control messages.
fn received_v6(msg: &RecvMsg<'_, '_, SockaddrIn6>) -> io::Result<ReceivedV6> {
    let source = msg.address.map(|a| a.ip()).unwrap_or(Ipv6Addr::UNSPECIFIED);
    let mut received = ReceivedV6 {
        len: msg.bytes,
        source,
        dest: None,
        hop_limit: None,
        ifindex: None,
        arrived: None,
    };
    for cmsg in msg.cmsgs().map_err(io::Error::from)? {
        match cmsg {
            ControlMessageOwned::Ipv6HopLimit(h) => received.hop_limit = u8::try_from(h).ok(),
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                received.dest = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
                received.ifindex = Some(info.ipi6_ifindex);
            }
            other => {
                if let Some(at) = arrival_time(other) {
                    received.arrived = Some(at);
                }
            }
        }
    }
    Ok(received)
}

/// How many packets one [`ReceiveBatch`] reads at most. Adverts of many
/// instances arrive in bursts (a BACKUP of 1,000 instances gets 1,000 a
/// second); reading several per system call and per readiness saves a
/// recvfrom(2) per packet and the one that finds the queue empty. Small,
/// because each slot is a whole largest-advert buffer.
pub const RECEIVE_BATCH: usize = 8;

/// Buffers for `recv_batch`: [`RECEIVE_BATCH`] slots of `slot` bytes, and what
/// the last call read into them.
#[derive(Debug)]
pub struct ReceiveBatch<M> {
    buffer: Vec<u8>,
    slot: usize,
    /// (slot, what came with the packet) in arrival order.
    entries: Vec<(usize, Result<M, VrrpSocketError>)>,
}

/// What [`ReceiveBatch`] holds about each packet: its length.
pub trait ReceivedLen {
    /// Bytes of the packet.
    fn received_len(&self) -> usize;
}

impl ReceivedLen for ReceivedV4 {
    fn received_len(&self) -> usize {
        self.len
    }
}

impl ReceivedLen for ReceivedV6 {
    fn received_len(&self) -> usize {
        self.len
    }
}

impl<M: ReceivedLen> ReceiveBatch<M> {
    /// Room for [`RECEIVE_BATCH`] packets of up to `slot` bytes each (longer
    /// ones are truncated, as by read(2) into a `slot`-byte buffer).
    pub fn new(slot: usize) -> Self {
        let slot = slot.max(1);
        ReceiveBatch {
            buffer: vec![0; slot * RECEIVE_BATCH],
            slot,
            entries: Vec::with_capacity(RECEIVE_BATCH),
        }
    }

    /// The packets the last `recv_batch` read, in order: the bytes and what
    /// came with them, or why the packet is unusable.
    pub fn packets(&self) -> impl Iterator<Item = Result<(&[u8], &M), &VrrpSocketError>> {
        self.entries.iter().map(|(index, entry)| {
            entry.as_ref().map(|meta| {
                let data = buffer_slot(&self.buffer, self.slot, *index);
                (data.get(..meta.received_len()).unwrap_or(data), meta)
            })
        })
    }
}

fn buffer_slot(buffer: &[u8], slot: usize, index: usize) -> &[u8] {
    let start = index.saturating_mul(slot);
    buffer.get(start..start.saturating_add(slot)).unwrap_or(&[])
}

fn is_link_scope(addr: &Ipv6Addr) -> bool {
    addr.is_unicast_link_local() || (addr.is_multicast() && (addr.segments()[0] & 0x000f) <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_scope_detection() {
        assert!(is_link_scope(&VRRP_GROUP_V6));
        assert!(is_link_scope(&"fe80::1".parse().expect("literal")));
        assert!(!is_link_scope(&"2001:db8::1".parse().expect("literal")));
        assert!(!is_link_scope(&"ff05::12".parse().expect("literal")));
    }

    #[test]
    fn protocol_numbers() {
        assert_eq!(VrrpProtocol::Vrrp.number(), 112);
        assert_eq!(VrrpProtocol::Ah.number(), 51);
    }
}
