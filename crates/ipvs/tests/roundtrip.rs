//! Property tests: decode(encode(x)) == x for every model type and at the
//! message level, and arbitrary kernel bytes never panic the decoders.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::socket::split_messages;
use ipvs::wire::{self, CmdNla, IpvsMessage};
use ipvs::{
    AddressFamily, Daemon, DaemonState, Dest, DestCounters, Forwarding, IpvsCmd, Netmask, Protocol,
    Service, ServiceFlags, ServiceKey, Stats, Timeouts, TunnelFlags, TunnelType,
};
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn family() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![Just(AddressFamily::Inet), Just(AddressFamily::Inet6)]
}

fn service_key() -> impl Strategy<Value = ServiceKey> {
    let protocol = prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ];
    prop_oneof![
        (protocol, ip(), any::<u16>()).prop_map(|(protocol, addr, port)| ServiceKey::Addr {
            protocol,
            addr,
            port
        }),
        // fwmark 0 means "not a fwmark service" to the kernel
        (family(), 1..=u32::MAX).prop_map(|(family, mark)| ServiceKey::Fwmark { family, mark }),
    ]
}

fn stats() -> impl Strategy<Value = Stats> {
    any::<[u64; 10]>().prop_map(|v| Stats {
        conns: v[0],
        in_packets: v[1],
        out_packets: v[2],
        in_bytes: v[3],
        out_bytes: v[4],
        cps: v[5],
        in_pps: v[6],
        out_pps: v[7],
        in_bps: v[8],
        out_bps: v[9],
    })
}

fn service() -> impl Strategy<Value = Service> {
    (
        service_key(),
        "[a-z0-9]{1,15}",
        any::<u32>(),
        any::<u32>(),
        any::<[u8; 4]>(),
        0u8..=128,
        proptest::option::of("[a-z]{1,15}"),
        proptest::option::of(stats()),
    )
        .prop_map(
            |(key, scheduler, flags, timeout, mask, prefix, pe_name, stats)| Service {
                netmask: match key.family() {
                    AddressFamily::Inet => Netmask::V4(Ipv4Addr::from(mask)),
                    AddressFamily::Inet6 => Netmask::V6Prefix(prefix),
                },
                key,
                scheduler,
                flags: ServiceFlags(flags),
                timeout,
                pe_name,
                stats,
            },
        )
}

fn forwarding() -> impl Strategy<Value = Forwarding> {
    let tunnel = (
        prop_oneof![
            Just(TunnelType::Ipip),
            any::<u16>().prop_map(|port| TunnelType::Gue { port }),
            Just(TunnelType::Gre),
        ],
        any::<u16>(),
    )
        .prop_map(|(kind, flags)| Forwarding::Tunnel {
            kind,
            flags: TunnelFlags(flags),
        });
    prop_oneof![
        Just(Forwarding::Masq),
        Just(Forwarding::Local),
        Just(Forwarding::Route),
        Just(Forwarding::Bypass),
        tunnel,
    ]
}

fn dest() -> impl Strategy<Value = Dest> {
    (
        ip(),
        any::<u16>(),
        forwarding(),
        any::<[u32; 3]>(),
        proptest::option::of((any::<[u32; 3]>(), stats())),
    )
        .prop_map(
            |(addr, port, forwarding, [weight, upper, lower], counters)| Dest {
                addr,
                port,
                forwarding,
                weight,
                upper_threshold: upper,
                lower_threshold: lower,
                counters: counters.map(|([active, inactive, persistent], stats)| DestCounters {
                    active_conns: active,
                    inactive_conns: inactive,
                    persistent_conns: persistent,
                    stats,
                }),
            },
        )
}

fn daemon() -> impl Strategy<Value = Daemon> {
    (
        prop_oneof![Just(DaemonState::Master), Just(DaemonState::Backup)],
        "[a-z0-9]{1,15}",
        0u32..=255,
        proptest::option::of(any::<u16>()),
        proptest::option::of(ip()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(state, interface, sync_id, max_len, group, port, ttl)| Daemon {
                state,
                interface,
                sync_id,
                max_len,
                group,
                port,
                ttl,
            },
        )
}

/// Emits `msg` and parses it back, as a kernel reply would arrive.
fn through_the_wire(msg: &IpvsMessage) -> IpvsMessage {
    IpvsMessage::parse(&msg.emit().unwrap()).unwrap()
}

proptest! {
    #[test]
    fn service_roundtrips(svc in service()) {
        let msg = IpvsMessage::new(
            IpvsCmd::NewService,
            vec![CmdNla::Service(wire::service_reply_nlas(&svc).unwrap())],
        );
        let back = through_the_wire(&msg);
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(wire::service_from_nlas(back.service().unwrap()).unwrap(), svc);
    }

    #[test]
    fn service_key_roundtrips(key in service_key()) {
        let back = through_the_wire(&wire::service_key_request(IpvsCmd::GetDest, &key));
        // A key-only nest lacks the scheduler: decode it via a full service.
        prop_assert!(back.service().is_some());
        let svc = Service::new(key, "rr");
        let full = through_the_wire(&wire::service_request(IpvsCmd::NewService, &svc).unwrap());
        prop_assert_eq!(wire::service_from_nlas(full.service().unwrap()).unwrap().key, key);
    }

    #[test]
    fn dest_roundtrips(dest in dest(), svc_family in family()) {
        let msg = IpvsMessage::new(IpvsCmd::NewDest, vec![CmdNla::Dest(wire::dest_reply_nlas(&dest))]);
        let back = through_the_wire(&msg);
        prop_assert_eq!(&back, &msg);
        // The dest carries its own family attribute: the service's does not matter.
        prop_assert_eq!(wire::dest_from_nlas(back.dest().unwrap(), svc_family).unwrap(), dest);
    }

    #[test]
    fn daemon_roundtrips(daemon in daemon()) {
        let back = through_the_wire(&wire::new_daemon_request(&daemon).unwrap());
        prop_assert_eq!(wire::daemon_from_nlas(back.daemon().unwrap()).unwrap(), daemon);
    }

    #[test]
    fn timeouts_roundtrip(t in any::<[u32; 3]>()) {
        let timeouts = Timeouts { tcp: t[0], tcp_fin: t[1], udp: t[2] };
        prop_assert_eq!(through_the_wire(&wire::timeouts_request(&timeouts)).timeouts(), timeouts);
    }

    #[test]
    fn info_roundtrips(version in any::<u32>(), size in any::<u32>()) {
        let msg = IpvsMessage::new(
            IpvsCmd::SetInfo,
            vec![CmdNla::InfoVersion(version), CmdNla::InfoConnTabSize(size)],
        );
        let info = through_the_wire(&msg).info().unwrap();
        prop_assert_eq!((info.version, info.conn_table_size), (version, size));
    }

    /// Whatever the kernel (or anything on the socket) sends, decoding
    /// returns a value or an error; it never panics.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = split_messages(&bytes);
        if let Ok(msg) = IpvsMessage::parse(&bytes) {
            if let Some(nlas) = msg.service() {
                let _ = wire::service_from_nlas(nlas);
            }
            if let Some(nlas) = msg.dest() {
                let _ = wire::dest_from_nlas(nlas, AddressFamily::Inet);
            }
            if let Some(nlas) = msg.daemon() {
                let _ = wire::daemon_from_nlas(nlas);
            }
            let _ = msg.info();
        }
    }

    /// Corrupting one byte of a valid reply never panics the decoders either.
    #[test]
    fn corrupted_replies_never_panic(svc in service(), dest in dest(), at in any::<usize>(), byte in any::<u8>()) {
        let msg = IpvsMessage::new(
            IpvsCmd::NewDest,
            vec![
                CmdNla::Service(wire::service_reply_nlas(&svc).unwrap()),
                CmdNla::Dest(wire::dest_reply_nlas(&dest)),
            ],
        );
        let mut bytes = msg.emit().unwrap();
        let index = at % bytes.len();
        bytes[index] = byte;
        if let Ok(msg) = IpvsMessage::parse(&bytes) {
            if let Some(nlas) = msg.service() {
                let _ = wire::service_from_nlas(nlas);
            }
            if let Some(nlas) = msg.dest() {
                let _ = wire::dest_from_nlas(nlas, AddressFamily::Inet6);
            }
        }
    }
}

#[test]
fn names_too_long_for_the_kernel_are_encode_errors() {
    let key = ServiceKey::Fwmark {
        family: AddressFamily::Inet,
        mark: 1,
    };
    assert!(
        wire::service_request(IpvsCmd::NewService, &Service::new(key, "x".repeat(16))).is_err()
    );
    assert!(wire::service_request(IpvsCmd::NewService, &Service::new(key, "x".repeat(15))).is_ok());
    let daemon = Daemon::new(DaemonState::Master, "i".repeat(16), 1);
    assert!(wire::new_daemon_request(&daemon).is_err());
    let daemon = Daemon::new(DaemonState::Master, "eth0", 256);
    assert!(wire::new_daemon_request(&daemon).is_err());
    let daemon = Daemon::new(DaemonState::Master, "eth0", 255);
    assert!(wire::new_daemon_request(&daemon).is_ok());
    let mismatched = Service {
        netmask: Netmask::V6Prefix(64),
        ..Service::new(key, "rr")
    };
    assert!(wire::service_request(IpvsCmd::NewService, &mismatched).is_err());
}

#[test]
fn ipv4_netmask_is_sent_in_network_order_and_ipv6_as_prefix_length() {
    let v4 = Service {
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
        ..Service::new(
            ServiceKey::Fwmark {
                family: AddressFamily::Inet,
                mark: 1,
            },
            "rr",
        )
    };
    let bytes = wire::service_request(IpvsCmd::NewService, &v4)
        .unwrap()
        .emit()
        .unwrap();
    assert!(bytes.ends_with(&[8, 0, 9, 0, 255, 255, 255, 0]));
    let v6 = Service {
        netmask: Netmask::V6Prefix(64),
        ..Service::new(
            ServiceKey::Fwmark {
                family: AddressFamily::Inet6,
                mark: 1,
            },
            "rr",
        )
    };
    let bytes = wire::service_request(IpvsCmd::NewService, &v6)
        .unwrap()
        .emit()
        .unwrap();
    let mut netmask_attr = vec![8, 0, 9, 0];
    netmask_attr.extend_from_slice(&64u32.to_ne_bytes());
    assert!(bytes.ends_with(&netmask_attr));
}

#[test]
fn same_config_ignores_hashed_and_stats() {
    let svc = Service::new(
        ServiceKey::Fwmark {
            family: AddressFamily::Inet,
            mark: 7,
        },
        "wlc",
    );
    let from_kernel = Service {
        flags: svc.flags | ServiceFlags::HASHED,
        stats: Some(Stats::default()),
        ..svc.clone()
    };
    assert!(svc.same_config(&from_kernel));
    assert!(!svc.same_config(&Service {
        scheduler: "rr".into(),
        ..from_kernel
    }));
}
