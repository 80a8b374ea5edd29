//! A hostile host on a VRRP segment: floods IP protocol 112 (and 51) from a
//! node's namespace as fast as one thread can send, with packets a correct
//! router must drop (RFC 5798 §7.1, RFC 3768 §7.1) and valid-looking adverts
//! without the right authentication.
//!
//! IPv4 (VRRPv2/v3 to 224.0.0.18 or a unicast peer) and IPv6 (VRRPv3 to ff02::12 or
//! a peer): the family follows the addresses of the [`FloodSpec`]; either way the
//! flooder writes the whole IP packet, so the TTL / hop limit is its own.
//!
//! Every forged advert is *bait*: if the router under test accepted it, it would
//! change state (priority 0 makes a backup take over early, a higher priority
//! makes a master step down), so a flood that is not dropped shows up as a
//! split brain or a lost VIP, not only in a counter.
//!
//! Used by the daemon's `tests/flood.rs` and by `scripts/bench-flood.sh` through
//! the `vrrp_flood` example of this crate.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::advert::{Advert, Version};
use vrrp::packet::{
    Auth, IPPROTO_VRRP, Ipv4EncodeOptions, Ipv6EncodeOptions, VRRP_TTL, encode_ipv4,
    encode_vrrp_ipv6, internet_checksum, ipv4_pseudo_header, ipv6_pseudo_header,
};

/// One kind of hostile packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A valid advert with TTL / hop limit 64 (RFC 5798 §7.1: must be 255).
    BadTtl,
    /// A valid advert with a wrong VRRP checksum.
    BadChecksum,
    /// Cut in the middle of the VRRP header.
    Truncated,
    /// Version 4 (checksum fixed up).
    BadVersion,
    /// Type 2 (checksum fixed up).
    BadType,
    /// The address count says 3, one address is there (checksum fixed up).
    AddrCount,
    /// A VRID nobody runs.
    UnknownVrid,
    /// VRRPv2 PASS with the wrong password.
    WrongPass,
    /// A valid advert without authentication (for an instance that has some).
    NoAuth,
    /// IPsec AH (protocol 51) with the wrong key.
    WrongAh,
    /// Random bytes of random length.
    Junk,
    /// Random bytes behind a VRRP version/type byte and the bait's VRID, so that
    /// it gets past a kernel filter on version and VRID.
    JunkWithHeader,
}

impl Kind {
    /// Every kind, in the order `--kinds all` uses.
    pub const ALL: [Kind; 12] = [
        Kind::BadTtl,
        Kind::BadChecksum,
        Kind::Truncated,
        Kind::BadVersion,
        Kind::BadType,
        Kind::AddrCount,
        Kind::UnknownVrid,
        Kind::WrongPass,
        Kind::NoAuth,
        Kind::WrongAh,
        Kind::Junk,
        Kind::JunkWithHeader,
    ];

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::BadTtl => "ttl",
            Kind::BadChecksum => "checksum",
            Kind::Truncated => "truncated",
            Kind::BadVersion => "version",
            Kind::BadType => "type",
            Kind::AddrCount => "count",
            Kind::UnknownVrid => "vrid",
            Kind::WrongPass => "pass",
            Kind::NoAuth => "noauth",
            Kind::WrongAh => "ah",
            Kind::Junk => "junk",
            Kind::JunkWithHeader => "junkhdr",
        }
    }

    /// By command-line name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The advert the forged packets are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bait {
    pub version: Version,
    pub vrid: u8,
    /// Priorities used in turn: 0 lures a backup into taking over, 254 makes a
    /// master step down.
    pub priorities: Vec<u8>,
    pub interval_cs: u16,
    /// The virtual addresses it claims (of the flood's family).
    pub addresses: Vec<IpAddr>,
    /// The authentication of adverts that *look* right ([`Kind::NoAuth`] and the
    /// malformed kinds use none; [`Kind::WrongPass`] and [`Kind::WrongAh`] their
    /// own wrong secret).
    pub auth: Auth,
}

/// What to send, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FloodSpec {
    /// The namespace to send from (`ip netns` name).
    pub netns: String,
    /// The interface to send out of.
    pub ifname: String,
    /// IP source of the forged packets (for IPv6 a link-local one looks right).
    pub source: IpAddr,
    /// 224.0.0.18 / ff02::12, or a router's address for unicast instances; of the
    /// same family as `source`.
    pub destination: IpAddr,
    pub kinds: Vec<Kind>,
    pub bait: Bait,
    /// Packets per second; `None` sends as fast as the thread can.
    pub rate: Option<u32>,
}

/// Errors of the flooder.
#[derive(Debug, thiserror::Error)]
pub enum FloodError {
    #[error("cannot enter namespace {netns}: {source}")]
    Namespace {
        netns: String,
        #[source]
        source: std::io::Error,
    },
    #[error("raw socket: {0}")]
    Socket(#[source] std::io::Error),
    #[error("cannot build the bait advert: {0}")]
    Encode(String),
    #[error("no packet kinds given")]
    NoKinds,
    #[error("source {from} and destination {to} are of different families")]
    Families { from: IpAddr, to: IpAddr },
}

/// A running flood; stops when dropped.
#[derive(Debug)]
pub struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
    started: Instant,
}

/// What a flood did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodReport {
    pub sent: u64,
    /// Sends the kernel refused (e.g. ENOBUFS when the device queue is full).
    pub send_errors: u64,
    pub elapsed: Duration,
}

impl FloodReport {
    /// Packets per second sent.
    pub fn rate(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl Flood {
    /// Builds the packets, opens a raw socket in the namespace and starts sending
    /// on a thread of its own.
    pub fn start(spec: &FloodSpec) -> Result<Flood, FloodError> {
        if spec.kinds.is_empty() {
            return Err(FloodError::NoKinds);
        }
        let packets = build_packets(spec)?;
        let (socket, ifindex) = open_socket(&spec.netns, &spec.ifname, spec.destination)?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let destination = SockAddr::from(match spec.destination {
            IpAddr::V4(address) => SocketAddr::new(address.into(), 0),
            // The scope matters for ff02::12 and link-local peers.
            IpAddr::V6(address) => SocketAddr::V6(SocketAddrV6::new(address, 0, 0, ifindex)),
        });
        let rate = spec.rate;
        let thread = {
            let (stop, sent, errors) = (stop.clone(), sent.clone(), errors.clone());
            std::thread::spawn(move || {
                send_loop(&socket, &destination, &packets, rate, &stop, &sent, &errors)
            })
        };
        Ok(Flood {
            stop,
            sent,
            errors,
            thread: Some(thread),
            started: Instant::now(),
        })
    }

    /// Packets sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stops sending and reports.
    pub fn stop(mut self) -> FloodReport {
        self.halt()
    }

    fn halt(&mut self) -> FloodReport {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        FloodReport {
            sent: self.sent.load(Ordering::Relaxed),
            send_errors: self.errors.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.halt();
    }
}

fn send_loop(
    socket: &Socket,
    destination: &SockAddr,
    packets: &[Vec<u8>],
    rate: Option<u32>,
    stop: &AtomicBool,
    sent: &AtomicU64,
    errors: &AtomicU64,
) {
    let started = Instant::now();
    let mut count: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        for packet in packets {
            match socket.send_to(packet, destination) {
                Ok(_) => count += 1,
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    // The device queue is full: give it a moment.
                    std::thread::yield_now();
                }
            }
        }
        sent.store(count, Ordering::Relaxed);
        if let Some(rate) = rate.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(count as f64 / f64::from(rate));
            if let Some(ahead) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(ahead);
            }
        }
    }
}

/// A raw socket of `destination`'s family (IPPROTO_RAW: we write the IP header, so
/// TTL / hop limit and protocol are ours; for IPv6 Linux implies IPV6_HDRINCL)
/// created inside `netns` and bound to `ifname`, with the interface's index. Only
/// the creating thread enters the namespace; the socket keeps it.
fn open_socket(
    netns: &str,
    ifname: &str,
    destination: IpAddr,
) -> Result<(Socket, u32), FloodError> {
    let netns_path = format!("/run/netns/{netns}");
    let ifname = ifname.to_string();
    let netns_name = netns.to_string();
    std::thread::spawn(move || -> Result<(Socket, u32), FloodError> {
        let namespace_error = |source: std::io::Error| FloodError::Namespace {
            netns: netns_name.clone(),
            source,
        };
        let file = std::fs::File::open(&netns_path).map_err(namespace_error)?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| namespace_error(e.into()))?;
        let domain = match destination {
            IpAddr::V4(_) => Domain::IPV4,
            IpAddr::V6(_) => Domain::IPV6,
        };
        let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(libc::IPPROTO_RAW)))
            .map_err(FloodError::Socket)?;
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(FloodError::Socket)?;
        match destination {
            IpAddr::V4(_) => socket.set_multicast_loop_v4(false),
            IpAddr::V6(_) => socket.set_multicast_loop_v6(false),
        }
        .map_err(FloodError::Socket)?;
        let ifindex = nix::net::if_::if_nametoindex(ifname.as_str())
            .map_err(|e| FloodError::Socket(e.into()))?;
        Ok((socket, ifindex))
    })
    .join()
    .map_err(|_| FloodError::Socket(std::io::Error::other("namespace thread panicked")))?
}

/// A small xorshift generator: reproducible junk without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const IPV4_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;

/// Where the family puts things in the IP header the flooder writes.
#[derive(Clone, Copy)]
struct Layout {
    /// Length of the IP header: the VRRP message starts there.
    header: usize,
    /// Offset of the TTL (IPv4) or hop limit (IPv6).
    ttl: usize,
}

impl Layout {
    fn of(spec: &FloodSpec) -> Layout {
        match spec.destination {
            IpAddr::V4(_) => Layout {
                header: IPV4_HEADER,
                ttl: 8,
            },
            IpAddr::V6(_) => Layout {
                header: IPV6_HEADER,
                ttl: 7,
            },
        }
    }
}

/// The packets a flood cycles through: every kind, 16 rounds (random kinds differ
/// per round; priorities alternate).
pub fn build_packets(spec: &FloodSpec) -> Result<Vec<Vec<u8>>, FloodError> {
    if spec.source.is_ipv4() != spec.destination.is_ipv4() {
        return Err(FloodError::Families {
            from: spec.source,
            to: spec.destination,
        });
    }
    let mut rng = Rng::new(0x5eed_0112);
    let mut out = Vec::new();
    for round in 0..16usize {
        let priority = match spec.bait.priorities.as_slice() {
            [] => 0,
            list => list[round % list.len()],
        };
        for kind in &spec.kinds {
            out.push(build(*kind, spec, priority, &mut rng)?);
        }
    }
    Ok(out)
}

fn advert(spec: &FloodSpec, vrid: u8, priority: u8) -> Advert {
    Advert {
        version: spec.bait.version,
        vrid,
        priority,
        interval_cs: spec.bait.interval_cs,
        addresses: spec.bait.addresses.clone(),
        source: spec.source,
    }
}

/// The whole IP packet of `advert`, TTL / hop limit 255.
fn encode(spec: &FloodSpec, advert: &Advert, auth: Auth) -> Result<Vec<u8>, FloodError> {
    let encode_error = |e: vrrp::packet::EncodeError| FloodError::Encode(e.to_string());
    match (spec.source, spec.destination) {
        (IpAddr::V4(_), IpAddr::V4(destination)) => {
            let options = Ipv4EncodeOptions {
                auth,
                destination,
                ttl: VRRP_TTL,
                unicast: !destination.is_multicast(),
                ..Ipv4EncodeOptions::multicast(0)
            };
            encode_ipv4(advert, &options).map_err(encode_error)
        }
        (IpAddr::V6(source), IpAddr::V6(destination)) => {
            let options = Ipv6EncodeOptions { destination, auth };
            let vrrp = encode_vrrp_ipv6(advert, &options).map_err(encode_error)?;
            let mut packet = ipv6_header(source, destination, vrrp.len());
            packet.extend_from_slice(&vrrp);
            Ok(packet)
        }
        (from, to) => Err(FloodError::Families { from, to }),
    }
}

/// The fixed IPv6 header the kernel would write for VRRP (RFC 5798 §5.1.2: next
/// header 112, hop limit 255).
fn ipv6_header(source: Ipv6Addr, destination: Ipv6Addr, payload: usize) -> Vec<u8> {
    let mut header = Vec::with_capacity(IPV6_HEADER);
    // Version 6, traffic class 0xc0 (network control, as keepalived), flow 0.
    header.extend_from_slice(&[0x6c, 0x00, 0x00, 0x00]);
    header.extend_from_slice(&u16::try_from(payload).unwrap_or(u16::MAX).to_be_bytes());
    header.push(IPPROTO_VRRP);
    header.push(VRRP_TTL);
    header.extend_from_slice(&source.octets());
    header.extend_from_slice(&destination.octets());
    header
}

/// Recomputes the VRRP checksum after a mutation (plain VRRP, not AH).
fn fix_checksum(packet: &mut [u8], spec: &FloodSpec) {
    let layout = Layout::of(spec);
    let Some(vrrp) = packet.get_mut(layout.header..) else {
        return;
    };
    if vrrp.len() < 8 {
        return;
    }
    vrrp[6] = 0;
    vrrp[7] = 0;
    let len = u16::try_from(vrrp.len()).unwrap_or(u16::MAX);
    let sum = match (spec.bait.version, spec.source, spec.destination) {
        (_, IpAddr::V6(source), IpAddr::V6(destination)) => {
            ipv6_pseudo_header(source, destination, len)
                .add_bytes(vrrp)
                .finish()
        }
        (Version::V3, IpAddr::V4(source), IpAddr::V4(destination)) => {
            ipv4_pseudo_header(source, destination, len)
                .add_bytes(vrrp)
                .finish()
        }
        _ => internet_checksum(vrrp),
    };
    vrrp[6..8].copy_from_slice(&sum.to_be_bytes());
}

/// Sets the IP length field after the packet was cut or grown.
fn fix_length(packet: &mut [u8], layout: Layout) {
    if layout.header == IPV6_HEADER {
        let payload = packet.len().saturating_sub(IPV6_HEADER);
        let payload = u16::try_from(payload).unwrap_or(u16::MAX);
        packet[4..6].copy_from_slice(&payload.to_be_bytes());
    } else {
        let total = u16::try_from(packet.len()).unwrap_or(u16::MAX);
        packet[2..4].copy_from_slice(&total.to_be_bytes());
    }
}

fn build(kind: Kind, spec: &FloodSpec, priority: u8, rng: &mut Rng) -> Result<Vec<u8>, FloodError> {
    let bait = &spec.bait;
    let Layout { header, ttl } = Layout::of(spec);
    let plain = advert(spec, bait.vrid, priority);
    let fixed = |mut p: Vec<u8>| {
        fix_checksum(&mut p, spec);
        p
    };
    let packet = match kind {
        Kind::BadTtl => {
            let mut p = encode(spec, &plain, Auth::None)?;
            // The kernel fills in the IPv4 header checksum of raw packets.
            p[ttl] = 64;
            p
        }
        Kind::BadChecksum => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[header + 6] ^= 0x5a;
            p
        }
        Kind::Truncated => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p.truncate(header + 6);
            fix_length(&mut p, Layout::of(spec));
            p
        }
        Kind::BadVersion => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[header] = 0x41;
            fixed(p)
        }
        Kind::BadType => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[header] = (p[header] & 0xf0) | 2;
            fixed(p)
        }
        Kind::AddrCount => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[header + 3] = p[header + 3].wrapping_add(2);
            fixed(p)
        }
        Kind::UnknownVrid => {
            let other = if bait.vrid == 255 { 1 } else { bait.vrid + 1 };
            let vrid = other
                .wrapping_add(u8::try_from(rng.below(100)).unwrap_or(0))
                .max(1);
            let vrid = if vrid == bait.vrid {
                vrid.wrapping_add(1).max(1)
            } else {
                vrid
            };
            encode(spec, &advert(spec, vrid, priority), Auth::None)?
        }
        Kind::WrongPass => {
            let v2 = Advert {
                version: Version::V2,
                ..plain
            };
            encode(spec, &v2, Auth::Pass(*b"intruder"))?
        }
        Kind::NoAuth => encode(spec, &plain, Auth::None)?,
        Kind::WrongAh => {
            let v2 = Advert {
                version: Version::V2,
                ..plain
            };
            encode(spec, &v2, Auth::Ah { key: *b"intruder" })?
        }
        Kind::Junk | Kind::JunkWithHeader => {
            let len = usize::try_from(rng.below(600)).unwrap_or(0);
            let mut p = encode(spec, &plain, Auth::None)?;
            p.truncate(header);
            p.extend((0..len).map(|_| rng.next_u64() as u8));
            if kind == Kind::JunkWithHeader {
                let first = match bait.version {
                    Version::V2 => 0x21,
                    Version::V3 => 0x31,
                };
                p.resize(p.len().max(header + 2), 0);
                p[header] = first;
                p[header + 1] = bait.vrid;
            }
            fix_length(&mut p, Layout::of(spec));
            p
        }
    };
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use vrrp::packet::{
        InstanceExpectations, RxMeta, Stats, VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, WireState,
        validate,
    };

    fn spec(kinds: Vec<Kind>) -> FloodSpec {
        FloodSpec {
            netns: "none".into(),
            ifname: "eth0".into(),
            source: Ipv4Addr::new(192, 0, 2, 66).into(),
            destination: VRRP_MCAST_GROUP4.into(),
            kinds,
            bait: Bait {
                version: Version::V2,
                vrid: 51,
                priorities: vec![0],
                interval_cs: 100,
                addresses: vec![Ipv4Addr::new(192, 0, 2, 100).into()],
                auth: Auth::None,
            },
            rate: None,
        }
    }

    /// The VRRPv3-over-IPv6 flood spec: from fe80::66 to ff02::12.
    fn spec6(kinds: Vec<Kind>) -> FloodSpec {
        let mut spec = spec(kinds);
        spec.source = "fe80::66".parse::<Ipv6Addr>().expect("address").into();
        spec.destination = VRRP_MCAST_GROUP6.into();
        spec.bait.version = Version::V3;
        spec.bait.addresses = vec!["2001:db8::100".parse::<Ipv6Addr>().expect("address").into()];
        spec
    }

    /// What the IPv6 receive path sees of a packet the flooder writes: the VRRP
    /// message, with source, destination and hop limit from the header.
    fn received6(packet: &[u8]) -> (Vec<u8>, RxMeta) {
        let address = |at: usize| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&packet[at..at + 16]);
            Ipv6Addr::from(octets)
        };
        let meta = RxMeta::Ipv6 {
            source: address(8),
            destination: Some(address(24)),
            hop_limit: Some(packet[7]),
        };
        (packet[IPV6_HEADER..].to_vec(), meta)
    }

    /// What the attacked instance (VRID 51, 1 s, multicast, BACKUP) checks adverts
    /// against.
    fn attacked_backup(version: Version, auth: Auth, vips: &[IpAddr]) -> InstanceExpectations<'_> {
        InstanceExpectations {
            vrid: 51,
            version,
            auth,
            interval_cs: 100,
            unicast: false,
            vips,
            check_vip_addr: true,
            check_unicast_src: false,
            unicast_peers: &[],
            is_backup: true,
            mcast_group4: VRRP_MCAST_GROUP4,
            v3_checksum_as_v2: false,
        }
    }

    /// The IPv6 flood: each malformed kind is rejected by a VRRPv3 instance, and
    /// the bait itself, with its header, passes.
    #[test]
    fn every_malformed_ipv6_kind_is_rejected_and_the_bait_is_valid() {
        let vips = [IpAddr::V6("2001:db8::100".parse().expect("address"))];
        let expect = attacked_backup(Version::V3, Auth::None, &vips);
        let malformed = [
            Kind::BadTtl,
            Kind::BadChecksum,
            Kind::Truncated,
            Kind::BadVersion,
            Kind::BadType,
            Kind::AddrCount,
            Kind::UnknownVrid,
            Kind::Junk,
            Kind::JunkWithHeader,
        ];
        let mut rng = Rng::new(7);
        for kind in malformed {
            for _ in 0..8 {
                let packet = build(kind, &spec6(vec![kind]), 0, &mut rng).expect("build");
                assert_eq!(packet[0] >> 4, 6, "{kind:?}");
                let payload = u16::from_be_bytes([packet[4], packet[5]]);
                assert_eq!(usize::from(payload), packet.len() - IPV6_HEADER, "{kind:?}");
                let (vrrp, meta) = received6(&packet);
                let result = validate(
                    &vrrp,
                    &meta,
                    &expect,
                    &mut Stats::default(),
                    &mut WireState::default(),
                );
                assert!(result.is_err(), "{kind:?} accepted: {packet:02x?}");
            }
        }
        let bait = build(Kind::NoAuth, &spec6(vec![Kind::NoAuth]), 0, &mut rng).expect("build");
        let (vrrp, meta) = received6(&bait);
        let accepted = validate(
            &vrrp,
            &meta,
            &expect,
            &mut Stats::default(),
            &mut WireState::default(),
        );
        assert!(accepted.is_ok(), "{accepted:?}");
    }

    /// Every hostile kind is rejected by the receive checks of an instance with
    /// PASS authentication; the unchanged bait (to show the test can fail) passes
    /// an instance without.
    #[test]
    fn every_kind_is_rejected_and_the_bait_itself_is_valid() {
        let vips = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
        let expect = |auth| attacked_backup(Version::V2, auth, &vips);
        let pass = Auth::Pass(*b"secret\0\0");
        let mut rng = Rng::new(7);
        for kind in Kind::ALL {
            for _ in 0..8 {
                let packet = build(kind, &spec(vec![kind]), 0, &mut rng).expect("build");
                let result = validate(
                    &packet,
                    &RxMeta::Ipv4,
                    &expect(pass),
                    &mut Stats::default(),
                    &mut WireState::default(),
                );
                assert!(result.is_err(), "{kind:?} accepted: {packet:02x?}");
            }
        }
        let bait = build(Kind::NoAuth, &spec(vec![Kind::NoAuth]), 0, &mut rng).expect("build");
        let accepted = validate(
            &bait,
            &RxMeta::Ipv4,
            &expect(Auth::None),
            &mut Stats::default(),
            &mut WireState::default(),
        );
        assert!(accepted.is_ok(), "{accepted:?}");
    }
}
