//! A hostile host on a VRRP segment: floods IP protocol 112 (and 51) from a
//! node's namespace as fast as one thread can send, with packets a correct
//! router must drop (RFC 5798 §7.1, RFC 3768 §7.1) and valid-looking adverts
//! without the right authentication.
//!
//! Every forged advert is *bait*: if the router under test accepted it, it would
//! change state (priority 0 makes a backup take over early, a higher priority
//! makes a master step down), so a flood that is not dropped shows up as a
//! split brain or a lost VIP, not only in a counter.
//!
//! Used by the daemon's `tests/flood.rs` and by `scripts/bench-flood.sh` through
//! the `vrrp_flood` example of this crate.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::advert::{Advert, Version};
use vrrp::packet::{Auth, Ipv4EncodeOptions, encode_ipv4, internet_checksum, ipv4_pseudo_header};

/// One kind of hostile packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A valid advert with TTL 64 (RFC 5798 §7.1: must be 255).
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
    pub addresses: Vec<Ipv4Addr>,
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
    /// IP source of the forged packets.
    pub source: Ipv4Addr,
    /// 224.0.0.18, or a router's address for unicast instances.
    pub destination: Ipv4Addr,
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
        let socket = open_socket(&spec.netns, &spec.ifname)?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let destination = SockAddr::from(SocketAddrV4::new(spec.destination, 0));
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

/// A raw IPv4 socket (IPPROTO_RAW: we write the IP header, so TTL and protocol are
/// ours) created inside `netns` and bound to `ifname`. Only the creating thread
/// enters the namespace; the socket keeps it.
fn open_socket(netns: &str, ifname: &str) -> Result<Socket, FloodError> {
    let netns_path = format!("/run/netns/{netns}");
    let ifname = ifname.to_string();
    let netns_name = netns.to_string();
    std::thread::spawn(move || -> Result<Socket, FloodError> {
        let namespace_error = |source: std::io::Error| FloodError::Namespace {
            netns: netns_name.clone(),
            source,
        };
        let file = std::fs::File::open(&netns_path).map_err(namespace_error)?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| namespace_error(e.into()))?;
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(libc::IPPROTO_RAW)),
        )
        .map_err(FloodError::Socket)?;
        socket
            .bind_device(Some(ifname.as_bytes()))
            .map_err(FloodError::Socket)?;
        socket
            .set_multicast_loop_v4(false)
            .map_err(FloodError::Socket)?;
        Ok(socket)
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

/// The packets of a flood, whole IPv4 packets, several per kind (junk varies).
pub fn build_packets(spec: &FloodSpec) -> Result<Vec<Vec<u8>>, FloodError> {
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
        addresses: spec.bait.addresses.iter().map(|a| IpAddr::V4(*a)).collect(),
        source: IpAddr::V4(spec.source),
    }
}

fn encode(spec: &FloodSpec, advert: &Advert, auth: Auth) -> Result<Vec<u8>, FloodError> {
    let multicast = spec.destination.is_multicast();
    let options = Ipv4EncodeOptions {
        auth,
        destination: spec.destination,
        ttl: 255,
        unicast: !multicast,
        ..Ipv4EncodeOptions::multicast(0)
    };
    encode_ipv4(advert, &options).map_err(|e| FloodError::Encode(e.to_string()))
}

/// Recomputes the VRRP checksum after a mutation (plain VRRP, not AH).
fn fix_checksum(packet: &mut [u8], version: Version, source: Ipv4Addr, destination: Ipv4Addr) {
    let Some(vrrp) = packet.get_mut(IPV4_HEADER..) else {
        return;
    };
    if vrrp.len() < 8 {
        return;
    }
    vrrp[6] = 0;
    vrrp[7] = 0;
    let sum = match version {
        Version::V2 => internet_checksum(vrrp),
        Version::V3 => {
            let len = u16::try_from(vrrp.len()).unwrap_or(u16::MAX);
            ipv4_pseudo_header(source, destination, len)
                .add_bytes(vrrp)
                .finish()
        }
    };
    vrrp[6..8].copy_from_slice(&sum.to_be_bytes());
}

fn build(kind: Kind, spec: &FloodSpec, priority: u8, rng: &mut Rng) -> Result<Vec<u8>, FloodError> {
    let bait = &spec.bait;
    let plain = advert(spec, bait.vrid, priority);
    let fixed = |mut p: Vec<u8>| {
        fix_checksum(&mut p, bait.version, spec.source, spec.destination);
        p
    };
    let packet = match kind {
        Kind::BadTtl => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[8] = 64;
            p
        }
        Kind::BadChecksum => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[IPV4_HEADER + 6] ^= 0x5a;
            p
        }
        Kind::Truncated => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p.truncate(IPV4_HEADER + 6);
            p
        }
        Kind::BadVersion => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[IPV4_HEADER] = 0x41;
            fixed(p)
        }
        Kind::BadType => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[IPV4_HEADER] = (p[IPV4_HEADER] & 0xf0) | 2;
            fixed(p)
        }
        Kind::AddrCount => {
            let mut p = encode(spec, &plain, Auth::None)?;
            p[IPV4_HEADER + 3] = p[IPV4_HEADER + 3].wrapping_add(2);
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
            p.truncate(IPV4_HEADER);
            p.extend((0..len).map(|_| rng.next_u64() as u8));
            if kind == Kind::JunkWithHeader {
                let first = match bait.version {
                    Version::V2 => 0x21,
                    Version::V3 => 0x31,
                };
                p.resize(p.len().max(IPV4_HEADER + 2), 0);
                p[IPV4_HEADER] = first;
                p[IPV4_HEADER + 1] = bait.vrid;
            }
            let total = u16::try_from(p.len()).unwrap_or(u16::MAX);
            p[2..4].copy_from_slice(&total.to_be_bytes());
            p
        }
    };
    Ok(packet)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrrp::packet::{
        InstanceExpectations, RxMeta, Stats, VRRP_MCAST_GROUP4, WireState, validate,
    };

    fn spec(kinds: Vec<Kind>) -> FloodSpec {
        FloodSpec {
            netns: "none".into(),
            ifname: "eth0".into(),
            source: Ipv4Addr::new(192, 0, 2, 66),
            destination: VRRP_MCAST_GROUP4,
            kinds,
            bait: Bait {
                version: Version::V2,
                vrid: 51,
                priorities: vec![0],
                interval_cs: 100,
                addresses: vec![Ipv4Addr::new(192, 0, 2, 100)],
                auth: Auth::None,
            },
            rate: None,
        }
    }

    /// Every hostile kind is rejected by the receive checks of an instance with
    /// PASS authentication; the unchanged bait (to show the test can fail) passes
    /// an instance without.
    #[test]
    fn every_kind_is_rejected_and_the_bait_itself_is_valid() {
        let vips = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
        let expect = |auth| InstanceExpectations {
            vrid: 51,
            version: Version::V2,
            auth,
            interval_cs: 100,
            unicast: false,
            vips: &vips,
            check_vip_addr: true,
            check_unicast_src: false,
            unicast_peers: &[],
            is_backup: true,
            mcast_group4: VRRP_MCAST_GROUP4,
            v3_checksum_as_v2: false,
        };
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
