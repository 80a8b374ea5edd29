//! Property tests: encode → decode/validate round trips for every version, family and
//! auth; and any bytes (random or mutated adverts) → an answer, never a panic.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp::advert::{Advert, Version};
use vrrp::packet::{
    Auth, Family, InstanceExpectations, Ipv4EncodeOptions, Ipv6EncodeOptions, RxMeta, Stats,
    UnicastPeer, V3Checksum, VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, WireState, decode_ipv4,
    decode_vrrp, encode_ipv4, encode_vrrp_ipv6, validate,
};

#[derive(Debug, Clone)]
struct Case {
    advert: Advert,
    auth: Auth,
    unicast: bool,
    destination: IpAddr,
    ttl: u8,
    ip_id: u16,
    ah_sequence: u32,
}

fn auth_strategy() -> impl Strategy<Value = Auth> {
    prop_oneof![
        Just(Auth::None),
        any::<[u8; 8]>().prop_map(Auth::Pass),
        any::<[u8; 8]>().prop_map(|key| Auth::Ah { key }),
    ]
}

fn ipv4_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Version::V2), Just(Version::V3)],
        1u8..=255,
        any::<u8>(),
        prop::collection::vec(any::<[u8; 4]>(), 0..40),
        any::<[u8; 4]>(),
        auth_strategy(),
        any::<bool>(),
        any::<[u8; 4]>(),
        (
            any::<u8>(),
            any::<u16>(),
            1u32..u32::MAX,
            1u16..=4095,
            1u8..=255,
        ),
    )
        .prop_map(
            |(version, vrid, priority, vips, source, auth, unicast, peer, rest)| {
                let (ttl, ip_id, ah_sequence, interval_v3, interval_v2) = rest;
                let (interval_cs, auth) = match version {
                    Version::V2 => (u16::from(interval_v2) * 100, auth),
                    Version::V3 => (interval_v3, Auth::None),
                };
                let destination = if unicast {
                    // Unicast peers are never multicast addresses.
                    let mut octets = peer;
                    octets[0] = 10;
                    IpAddr::V4(Ipv4Addr::from(octets))
                } else {
                    IpAddr::V4(VRRP_MCAST_GROUP4)
                };
                Case {
                    advert: Advert {
                        version,
                        vrid,
                        priority,
                        interval_cs,
                        addresses: vips.into_iter().map(|o| IpAddr::V4(o.into())).collect(),
                        source: IpAddr::V4(source.into()),
                    },
                    auth,
                    unicast,
                    destination,
                    ttl: if unicast { ttl } else { 255 },
                    ip_id,
                    ah_sequence,
                }
            },
        )
}

fn ipv6_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Version::V2), Just(Version::V3)],
        1u8..=255,
        any::<u8>(),
        prop::collection::vec(any::<[u8; 16]>(), 0..20),
        any::<[u8; 16]>(),
        1u16..=4095,
        any::<bool>(),
    )
        .prop_map(
            |(version, vrid, priority, vips, source, interval, unicast)| {
                let interval_cs = match version {
                    Version::V2 => (interval % 255 + 1) * 100,
                    Version::V3 => interval,
                };
                let destination = if unicast {
                    IpAddr::V6("2001:db8::12".parse().unwrap())
                } else {
                    IpAddr::V6(VRRP_MCAST_GROUP6)
                };
                Case {
                    advert: Advert {
                        version,
                        vrid,
                        priority,
                        interval_cs,
                        addresses: vips.into_iter().map(|o| IpAddr::V6(o.into())).collect(),
                        source: IpAddr::V6(source.into()),
                    },
                    auth: Auth::None,
                    unicast,
                    destination,
                    ttl: 255,
                    ip_id: 0,
                    ah_sequence: 0,
                }
            },
        )
}

fn encode(case: &Case) -> Vec<u8> {
    match case.destination {
        IpAddr::V4(destination) => encode_ipv4(
            &case.advert,
            &Ipv4EncodeOptions {
                auth: case.auth,
                destination,
                ttl: case.ttl,
                unicast: case.unicast,
                ip_id: case.ip_id,
                ah_sequence: case.ah_sequence,
                v3_checksum: V3Checksum::PseudoHeader,
            },
        )
        .unwrap(),
        IpAddr::V6(destination) => encode_vrrp_ipv6(
            &case.advert,
            &Ipv6EncodeOptions {
                destination,
                auth: case.auth,
            },
        )
        .unwrap(),
    }
}

fn meta(case: &Case) -> RxMeta {
    match (case.advert.source, case.destination) {
        (IpAddr::V6(source), IpAddr::V6(destination)) => RxMeta::Ipv6 {
            source,
            destination: Some(destination),
            hop_limit: Some(case.ttl),
        },
        _ => RxMeta::Ipv4,
    }
}

fn check_roundtrip(case: &Case) -> Result<(), TestCaseError> {
    let bytes = encode(case);
    // Decode without an instance.
    let decoded = match case.destination {
        IpAddr::V4(_) => {
            let packet = decode_ipv4(&bytes).unwrap();
            prop_assert_eq!(packet.ip.ttl, case.ttl);
            prop_assert_eq!(packet.ip.id, case.ip_id);
            prop_assert_eq!(packet.ah.is_some(), case.auth.is_ah());
            packet.vrrp
        }
        IpAddr::V6(_) => decode_vrrp(&bytes, Family::Ipv6).unwrap(),
    };
    prop_assert_eq!(
        decoded.to_advert(case.advert.source),
        Some(case.advert.clone())
    );

    // Validate as the peer instance would, with the AH counter just below.
    let peers = [UnicastPeer {
        address: case.advert.source,
        min_ttl: 0,
        max_ttl: 255,
    }];
    let expect = InstanceExpectations {
        vrid: case.advert.vrid,
        version: case.advert.version,
        auth: case.auth,
        interval_cs: case.advert.interval_cs,
        unicast: case.unicast,
        vips: &case.advert.addresses,
        check_vip_addr: true,
        check_unicast_src: case.unicast,
        unicast_peers: &peers,
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    };
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let result = validate(&bytes, &meta(case), &expect, &mut stats, &mut state);
    prop_assert_eq!(result, Ok(case.advert.clone()));
    prop_assert_eq!(stats.advert_rcvd, 1);
    prop_assert_eq!(stats.pri_zero_rcvd, u64::from(case.advert.priority == 0));
    Ok(())
}

fn any_expectations_check(bytes: &[u8], meta: &RxMeta, flags: u8, vrid: u8, auth: Auth) {
    let vips = [
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    let peers = [UnicastPeer {
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
        min_ttl: 1,
        max_ttl: 254,
    }];
    let expect = InstanceExpectations {
        vrid,
        version: if flags & 1 == 0 {
            Version::V2
        } else {
            Version::V3
        },
        auth,
        interval_cs: 100,
        unicast: flags & 2 != 0,
        vips: &vips[..usize::from(flags >> 6) % 3],
        check_vip_addr: flags & 4 != 0,
        check_unicast_src: flags & 8 != 0,
        unicast_peers: &peers,
        is_backup: flags & 16 != 0,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: flags & 32 != 0,
    };
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let result = validate(bytes, meta, &expect, &mut stats, &mut state);
    // Exactly one error counter moves on failure; advert_rcvd may precede a late error.
    if result.is_ok() {
        assert_eq!(stats.advert_rcvd, 1);
    }
    let _ = decode_ipv4(bytes);
    let _ = decode_vrrp(bytes, Family::Ipv4);
    let _ = decode_vrrp(bytes, Family::Ipv6);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ipv4_round_trip(case in ipv4_case()) {
        check_roundtrip(&case)?;
    }

    #[test]
    fn ipv6_round_trip(case in ipv6_case()) {
        check_roundtrip(&case)?;
    }

    #[test]
    fn any_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        flags in any::<u8>(),
        vrid in any::<u8>(),
        auth in auth_strategy(),
        hop_limit in any::<Option<u8>>(),
    ) {
        any_expectations_check(&bytes, &RxMeta::Ipv4, flags, vrid, auth);
        let v6 = RxMeta::Ipv6 {
            source: Ipv6Addr::LOCALHOST,
            destination: if flags & 128 != 0 { Some(VRRP_MCAST_GROUP6) } else { None },
            hop_limit,
        };
        any_expectations_check(&bytes, &v6, flags, vrid, auth);
    }

    /// Valid adverts with bytes flipped or cut: reaches the deep checks.
    #[test]
    fn mutated_adverts_never_panic(
        case in ipv4_case(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        flags in any::<u8>(),
    ) {
        let mut bytes = encode(&case);
        for (index, value) in flips {
            let i = index.index(bytes.len());
            bytes[i] ^= value;
        }
        if flags & 128 != 0 {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        any_expectations_check(&bytes, &RxMeta::Ipv4, flags, case.advert.vrid, case.auth);
    }
}
