//! Plain `Instant` loop benchmark of the wire codec (`cargo bench -p vrrp --bench packet`).
//!
//! Prints ns per advert built and per advert decoded + validated, for the shapes the
//! lab measured, next to keepalived's measured whole-daemon cost
//! (/work/shared/lab/README.md: about 7 µs of CPU per advert sent and 3.6 µs per advert
//! received, syscalls and timers included; ours is only the codec part).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use vrrp::advert::{Advert, Version};
use vrrp::packet::{
    Auth, InstanceExpectations, Ipv4EncodeOptions, Ipv6EncodeOptions, RxMeta, Stats, V3Checksum,
    VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, WireState, encode_ipv4, encode_vrrp_ipv6, validate,
};
use vrrp::router::{Input, Router, RouterConfig, Timestamp};

const KEEPALIVED_TX_NS: f64 = 7_000.0;
const KEEPALIVED_RX_NS: f64 = 3_600.0;

fn time_per_iter(iterations: u32, mut f: impl FnMut(u32)) -> f64 {
    // Warm-up, then the measured loop.
    for i in 0..iterations / 10 {
        f(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

struct Shape {
    name: &'static str,
    version: Version,
    auth: Auth,
    vips: Vec<IpAddr>,
    source: IpAddr,
}

fn main() {
    let key = Auth::key_from_pass(b"secret");
    let v4_source = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
    let one_vip4 = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    let many_vip4: Vec<IpAddr> = (0..20u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(198, 18, 0, i)))
        .collect();
    let shapes = [
        Shape {
            name: "v2 ipv4 1 vip, no auth",
            version: Version::V2,
            auth: Auth::None,
            vips: one_vip4.clone(),
            source: v4_source,
        },
        Shape {
            name: "v2 ipv4 1 vip, PASS",
            version: Version::V2,
            auth: Auth::Pass(key),
            vips: one_vip4.clone(),
            source: v4_source,
        },
        Shape {
            name: "v2 ipv4 1 vip, AH",
            version: Version::V2,
            auth: Auth::Ah { key },
            vips: one_vip4.clone(),
            source: v4_source,
        },
        Shape {
            name: "v3 ipv4 1 vip",
            version: Version::V3,
            auth: Auth::None,
            vips: one_vip4,
            source: v4_source,
        },
        Shape {
            name: "v3 ipv4 20 vips",
            version: Version::V3,
            auth: Auth::None,
            vips: many_vip4,
            source: v4_source,
        },
        Shape {
            name: "v3 ipv6 1 vip",
            version: Version::V3,
            auth: Auth::None,
            vips: vec![IpAddr::V6(
                "2001:db8::100".parse().unwrap_or(Ipv6Addr::LOCALHOST),
            )],
            source: IpAddr::V6("fe80::1".parse().unwrap_or(Ipv6Addr::LOCALHOST)),
        },
    ];

    let iterations = 200_000;
    println!(
        "{:<28} {:>12} {:>18}   (keepalived, whole daemon: ~{:.0} ns/advert sent, ~{:.0} ns/advert received)",
        "shape", "build ns", "decode+valid. ns", KEEPALIVED_TX_NS, KEEPALIVED_RX_NS
    );
    for shape in &shapes {
        let advert = Advert {
            version: shape.version,
            vrid: 51,
            priority: 150,
            interval_cs: 100,
            addresses: shape.vips.clone(),
            source: shape.source,
        };
        let is_v6 = matches!(shape.source, IpAddr::V6(_));
        let v4_options = |ip_id: u16, ah_sequence: u32| Ipv4EncodeOptions {
            auth: shape.auth,
            destination: VRRP_MCAST_GROUP4,
            ttl: 255,
            unicast: false,
            ip_id,
            ah_sequence,
            v3_checksum: V3Checksum::PseudoHeader,
        };
        let v6_options = Ipv6EncodeOptions {
            destination: VRRP_MCAST_GROUP6,
            auth: Auth::None,
        };
        let build = |i: u32| {
            let bytes = if is_v6 {
                encode_vrrp_ipv6(black_box(&advert), &v6_options)
            } else {
                encode_ipv4(black_box(&advert), &v4_options(i as u16, i + 1))
            };
            black_box(bytes).map(|b| b.len()).unwrap_or(0)
        };
        let build_ns = time_per_iter(iterations, |i| {
            black_box(build(i));
        });

        // Pre-built packets with increasing AH sequence numbers, validated in order.
        let packets: Vec<Vec<u8>> = (0..iterations)
            .map(|i| {
                if is_v6 {
                    encode_vrrp_ipv6(&advert, &v6_options).unwrap_or_default()
                } else {
                    encode_ipv4(&advert, &v4_options(i as u16, i + 1)).unwrap_or_default()
                }
            })
            .collect();
        let expect = InstanceExpectations {
            vrid: 51,
            version: shape.version,
            auth: if is_v6 { Auth::None } else { shape.auth },
            interval_cs: 100,
            unicast: false,
            vips: &shape.vips,
            check_vip_addr: true,
            check_unicast_src: false,
            unicast_peers: &[],
            is_backup: true,
            mcast_group4: VRRP_MCAST_GROUP4,
            v3_checksum_as_v2: false,
        };
        let meta = match shape.source {
            IpAddr::V4(_) => RxMeta::Ipv4,
            IpAddr::V6(source) => RxMeta::Ipv6 {
                source,
                destination: Some(VRRP_MCAST_GROUP6),
                hop_limit: Some(255),
            },
        };
        let mut stats = Stats::default();
        let mut state = WireState::default();
        let start = Instant::now();
        for packet in &packets {
            let _ = black_box(validate(
                black_box(packet),
                &meta,
                &expect,
                &mut stats,
                &mut state,
            ));
        }
        let rx_ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
        assert_eq!(
            stats.advert_rcvd,
            u64::from(iterations),
            "{}: every advert must validate",
            shape.name
        );
        println!("{:<28} {:>12.0} {:>18.0}", shape.name, build_ns, rx_ns);
    }
    end_to_end(iterations);
}

/// The whole receive path of a BACKUP: decode + validate + state machine handle, per
/// advert (v2, IPv4, no auth), next to keepalived's ~3.6 µs per advert received.
fn end_to_end(iterations: u32) {
    let vips = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    let master = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 150,
        interval_cs: 100,
        addresses: vips.clone(),
        source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
    };
    let options = |ip_id: u16| Ipv4EncodeOptions {
        auth: Auth::None,
        destination: VRRP_MCAST_GROUP4,
        ttl: 255,
        unicast: false,
        ip_id,
        ah_sequence: 0,
        v3_checksum: V3Checksum::PseudoHeader,
    };
    let packets: Vec<Vec<u8>> = (0..iterations)
        .map(|i| encode_ipv4(&master, &options(i as u16)).unwrap_or_default())
        .collect();
    let mut config = RouterConfig::new(
        "VI_1",
        Version::V2,
        51,
        100,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 12)),
    );
    config.virtual_addresses = vips.clone();
    let Ok(mut backup) = Router::new(config) else {
        println!("end-to-end: router config rejected");
        return;
    };
    let _ = backup.handle(Timestamp::ZERO, Input::Start);
    while backup.poll_action().is_some() {}
    let expect = InstanceExpectations {
        vrid: 51,
        version: Version::V2,
        auth: Auth::None,
        interval_cs: 100,
        unicast: false,
        vips: &vips,
        check_vip_addr: false,
        check_unicast_src: false,
        unicast_peers: &[],
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    };
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let start = Instant::now();
    for (n, packet) in packets.iter().enumerate() {
        let now = Timestamp::from_micros(n as u64 * 1_000_000);
        if let Ok(advert) = validate(packet, &RxMeta::Ipv4, &expect, &mut stats, &mut state) {
            let _ = backup.handle(now, Input::Advert(advert));
            while let Some(action) = backup.poll_action() {
                black_box(action);
            }
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iterations);
    println!(
        "{:<28} {:>31.0}   (keepalived: ~{:.0} ns/advert received)",
        "backup rx: decode+valid.+handle", ns, KEEPALIVED_RX_NS
    );
}
