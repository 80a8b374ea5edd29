//! Receive validation: one test per check, in keepalived's order, each asserting the
//! typed error and the counter it bumps; plus encoder limits.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp::advert::{Advert, Version};
use vrrp::packet::{
    AH_HEADER_LEN, Auth, EncodeError, Family, IPV4_HEADER_LEN, InstanceExpectations,
    Ipv4EncodeOptions, Ipv6EncodeOptions, RxError, RxMeta, Stats, UnicastPeer, V3Checksum,
    VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, WireState, decode_ipv4, decode_vrrp, encode_ipv4,
    encode_vrrp_ipv6, hmac_md5_96, internet_checksum, validate,
};

const SOURCE: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 11);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 12);
const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn advert(version: Version) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 150,
        interval_cs: 100,
        addresses: vec![IpAddr::V4(VIP)],
        source: IpAddr::V4(SOURCE),
    }
}

fn options(auth: Auth) -> Ipv4EncodeOptions {
    Ipv4EncodeOptions {
        auth,
        ..Ipv4EncodeOptions::multicast(7)
    }
}

fn packet(version: Version, auth: Auth) -> Vec<u8> {
    encode_ipv4(&advert(version), &options(auth)).unwrap()
}

const VIPS: &[IpAddr] = &[IpAddr::V4(VIP)];

fn expect(version: Version, auth: Auth) -> InstanceExpectations<'static> {
    InstanceExpectations {
        vrid: 51,
        version,
        auth,
        interval_cs: 100,
        unicast: false,
        vips: VIPS,
        check_vip_addr: true,
        check_unicast_src: false,
        unicast_peers: &[],
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    }
}

/// Runs validation on fresh state; returns the result and the counters.
fn run(bytes: &[u8], expect: &InstanceExpectations<'_>) -> (Result<Advert, RxError>, Stats) {
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let result = validate(bytes, &RxMeta::Ipv4, expect, &mut stats, &mut state);
    (result, stats)
}

/// Recomputes the IPv4 header checksum and the VRRP checksum after a mutation.
fn fix_v2_checksum(bytes: &mut [u8]) {
    bytes[IPV4_HEADER_LEN + 6] = 0;
    bytes[IPV4_HEADER_LEN + 7] = 0;
    let sum = internet_checksum(&bytes[IPV4_HEADER_LEN..]);
    bytes[IPV4_HEADER_LEN + 6..IPV4_HEADER_LEN + 8].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn valid_adverts_are_accepted_and_counted() {
    for version in [Version::V2, Version::V3] {
        let (result, stats) = run(&packet(version, Auth::None), &expect(version, Auth::None));
        assert_eq!(result, Ok(advert(version)));
        assert_eq!(
            stats,
            Stats {
                advert_rcvd: 1,
                ..Stats::default()
            }
        );
    }
}

#[test]
fn truncated_and_malformed_packets() {
    let good = packet(Version::V2, Auth::None);
    let e = expect(Version::V2, Auth::None);
    for len in [0, 1, 19, 20, 27] {
        let (result, stats) = run(&good[..len], &e);
        assert_eq!(result, Err(RxError::Truncated { len }));
        assert_eq!(stats.malformed_err, 1);
    }
    let mut not_v4 = good.clone();
    not_v4[0] = 0x65;
    assert_eq!(run(&not_v4, &e).0, Err(RxError::NotIpv4));
    let mut short_ihl = good.clone();
    short_ihl[0] = 0x44;
    assert_eq!(run(&short_ihl, &e).0, Err(RxError::BadIpHeaderLength));
    let mut udp = good.clone();
    udp[9] = 17;
    assert_eq!(run(&udp, &e).0, Err(RxError::UnexpectedProtocol(17)));
}

#[test]
fn other_vrid_is_counted_as_vrid_err() {
    let e = InstanceExpectations {
        vrid: 52,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&packet(Version::V2, Auth::None), &e);
    assert_eq!(
        result,
        Err(RxError::VridMismatch {
            received: 51,
            expected: 52
        })
    );
    assert!(result.unwrap_err().is_drop());
    assert_eq!(stats.vrid_err, 1);
}

#[test]
fn ah_header_without_ah_config_and_vice_versa() {
    let key = Auth::key_from_pass(b"secret");
    let (result, stats) = run(
        &packet(Version::V2, Auth::None),
        &expect(Version::V2, Auth::Ah { key }),
    );
    assert_eq!(
        result,
        Err(RxError::AhPresenceMismatch { ah_present: false })
    );
    assert_eq!(stats.authtype_mismatch, 1);
}

#[test]
fn length_must_match_exactly() {
    let mut padded = packet(Version::V2, Auth::None);
    padded.extend_from_slice(&[0, 0]);
    let (result, stats) = run(&padded, &expect(Version::V2, Auth::None));
    assert_eq!(
        result,
        Err(RxError::LengthMismatch {
            received: 42,
            expected: 40
        })
    );
    assert_eq!(stats.packet_len_err, 1);
}

#[test]
fn ttl_must_be_255_for_multicast_only() {
    let mut low_ttl = packet(Version::V3, Auth::None);
    low_ttl[8] = 64;
    let (result, stats) = run(&low_ttl, &expect(Version::V3, Auth::None));
    assert_eq!(result, Err(RxError::TtlNot255 { ttl: 64 }));
    assert_eq!(stats.ip_ttl_err, 1);

    // Unicast: any TTL (no unicast source check configured).
    let unicast = encode_ipv4(
        &advert(Version::V3),
        &Ipv4EncodeOptions {
            destination: PEER,
            ttl: 64,
            unicast: true,
            ..options(Auth::None)
        },
    )
    .unwrap();
    let e = InstanceExpectations {
        unicast: true,
        ..expect(Version::V3, Auth::None)
    };
    assert!(run(&unicast, &e).0.is_ok());
}

#[test]
fn ttl_is_checked_before_version() {
    let mut both = packet(Version::V2, Auth::None);
    both[8] = 1;
    let (result, stats) = run(&both, &expect(Version::V3, Auth::None));
    assert_eq!(result, Err(RxError::TtlNot255 { ttl: 1 }));
    assert_eq!(stats.version_err, 0);
}

#[test]
fn version_mismatch() {
    let (result, stats) = run(
        &packet(Version::V2, Auth::None),
        &expect(Version::V3, Auth::None),
    );
    assert_eq!(
        result,
        Err(RxError::VersionMismatch {
            received: 2,
            expected: 3
        })
    );
    assert_eq!(stats.version_err, 1);
}

#[test]
fn v2_auth_type_checks() {
    let mut unknown = packet(Version::V2, Auth::None);
    unknown[IPV4_HEADER_LEN + 4] = 3;
    let (result, stats) = run(&unknown, &expect(Version::V2, Auth::None));
    assert_eq!(result, Err(RxError::InvalidAuthType(3)));
    assert_eq!(stats.invalid_authtype, 1);

    let pass = Auth::Pass(Auth::key_from_pass(b"pw"));
    let (result, stats) = run(&packet(Version::V2, pass), &expect(Version::V2, Auth::None));
    assert_eq!(
        result,
        Err(RxError::AuthTypeMismatch {
            received: 1,
            expected: 0
        })
    );
    assert_eq!(stats.authtype_mismatch, 1);

    let (result, stats) = run(
        &packet(Version::V2, pass),
        &expect(Version::V2, Auth::Pass(Auth::key_from_pass(b"pw2"))),
    );
    assert_eq!(result, Err(RxError::PasswordMismatch));
    assert_eq!(stats.auth_failure, 1);
    assert!(
        run(&packet(Version::V2, pass), &expect(Version::V2, pass))
            .0
            .is_ok()
    );
}

#[test]
fn v2_interval_mismatch_is_dropped_and_counted() {
    let e = InstanceExpectations {
        interval_cs: 200,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&packet(Version::V2, Auth::None), &e);
    assert_eq!(
        result,
        Err(RxError::IntervalMismatch {
            received_secs: 1,
            expected_cs: 200
        })
    );
    assert!(result.unwrap_err().is_drop());
    assert_eq!(stats.advert_interval_err, 1);

    // VRRPv3: the master's interval is adopted, not checked.
    let e3 = InstanceExpectations {
        interval_cs: 200,
        ..expect(Version::V3, Auth::None)
    };
    assert_eq!(
        run(&packet(Version::V3, Auth::None), &e3)
            .0
            .unwrap()
            .interval_cs,
        100
    );
}

#[test]
fn packet_type_must_be_advertisement() {
    let mut bad_type = packet(Version::V2, Auth::None);
    bad_type[IPV4_HEADER_LEN] = 0x22;
    let (result, stats) = run(&bad_type, &expect(Version::V2, Auth::None));
    assert_eq!(result, Err(RxError::InvalidType(2)));
    assert_eq!(stats.invalid_type_rcvd, 1);
}

#[test]
fn address_count_checked_only_when_checking_addresses() {
    let two_vips = [IpAddr::V4(VIP), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101))];
    let e = InstanceExpectations {
        vips: &two_vips,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&packet(Version::V2, Auth::None), &e);
    assert_eq!(
        result,
        Err(RxError::AddressCountMismatch {
            received: 1,
            expected: 2
        })
    );
    assert_eq!(stats.addr_list_err, 1);
    let lax = InstanceExpectations {
        check_vip_addr: false,
        ..e
    };
    assert!(run(&packet(Version::V2, Auth::None), &lax).0.is_ok());
}

#[test]
fn ip_total_length_must_match() {
    let mut bad = packet(Version::V2, Auth::None);
    bad[3] += 4;
    let (result, stats) = run(&bad, &expect(Version::V2, Auth::None));
    assert_eq!(
        result,
        Err(RxError::TotalLengthMismatch {
            total_len: 44,
            received: 40
        })
    );
    assert_eq!(stats.packet_len_err, 1);
}

#[test]
fn bad_checksums() {
    for version in [Version::V2, Version::V3] {
        let mut bad = packet(version, Auth::None);
        bad[IPV4_HEADER_LEN + 7] ^= 0x40;
        let (result, stats) = run(&bad, &expect(version, Auth::None));
        assert!(
            matches!(result, Err(RxError::BadChecksum { .. })),
            "{result:?}"
        );
        assert_eq!(stats.checksum_err, 1);
        assert_eq!(stats.advert_rcvd, 0);
    }
    // A VRRPv3 checksum computed as v2 only passes when configured so.
    let as_v2 = encode_ipv4(
        &advert(Version::V3),
        &Ipv4EncodeOptions {
            v3_checksum: V3Checksum::AsV2,
            ..options(Auth::None)
        },
    )
    .unwrap();
    assert!(run(&as_v2, &expect(Version::V3, Auth::None)).0.is_err());
    let e = InstanceExpectations {
        v3_checksum_as_v2: true,
        ..expect(Version::V3, Auth::None)
    };
    assert!(run(&as_v2, &e).0.is_ok());
}

#[test]
fn checksum_is_checked_before_addresses() {
    let mut bad = packet(Version::V2, Auth::None);
    bad[IPV4_HEADER_LEN + 8] = 10; // VIP 10.0.2.100: missing VIP and bad checksum
    let (result, _) = run(&bad, &expect(Version::V2, Auth::None));
    assert!(matches!(result, Err(RxError::BadChecksum { .. })));
}

#[test]
fn multicast_destination_iff_not_unicast() {
    let e = InstanceExpectations {
        unicast: true,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&packet(Version::V2, Auth::None), &e);
    assert_eq!(
        result,
        Err(RxError::CastMismatch {
            expected_unicast: true
        })
    );
    assert_eq!(stats.addr_list_err, 1);
}

#[test]
fn missing_vip_is_counted_after_advert_rcvd() {
    let other = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200))];
    let e = InstanceExpectations {
        vips: &other,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&packet(Version::V2, Auth::None), &e);
    assert_eq!(result, Err(RxError::MissingVip(other[0])));
    assert_eq!(stats.addr_list_err, 1);
    assert_eq!(stats.advert_rcvd, 1, "keepalived counts the advert first");
}

#[test]
fn unicast_source_check() {
    let unicast = encode_ipv4(
        &advert(Version::V2),
        &Ipv4EncodeOptions {
            destination: PEER,
            ttl: 60,
            unicast: true,
            ..options(Auth::None)
        },
    )
    .unwrap();
    let peers = [UnicastPeer {
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 13)),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let e = InstanceExpectations {
        unicast: true,
        check_unicast_src: true,
        unicast_peers: &peers,
        ..expect(Version::V2, Auth::None)
    };
    let (result, stats) = run(&unicast, &e);
    assert_eq!(result, Err(RxError::NotUnicastPeer(IpAddr::V4(SOURCE))));
    assert_eq!(stats.unicast_src_err, 1);

    let peers = [UnicastPeer {
        address: IpAddr::V4(SOURCE),
        min_ttl: 64,
        max_ttl: 255,
    }];
    let e = InstanceExpectations {
        unicast_peers: &peers,
        ..e
    };
    let (result, stats) = run(&unicast, &e);
    assert_eq!(
        result,
        Err(RxError::TtlOutOfRange {
            ttl: 60,
            min: 64,
            max: 255
        })
    );
    assert_eq!(stats.ip_ttl_err, 1);
}

#[test]
fn priority_zero_is_accepted_and_counted() {
    let stopping = Advert {
        priority: 0,
        ..advert(Version::V3)
    };
    let bytes = encode_ipv4(&stopping, &options(Auth::None)).unwrap();
    let (result, stats) = run(&bytes, &expect(Version::V3, Auth::None));
    assert_eq!(result, Ok(stopping));
    assert_eq!(stats.pri_zero_rcvd, 1);
    assert_eq!(stats.advert_rcvd, 1);
}

#[test]
fn ah_checks_next_header_spi_and_sequence() {
    let key = Auth::key_from_pass(b"secret");
    let auth = Auth::Ah { key };
    let e = expect(Version::V2, auth);
    let build = |sequence: u32| {
        encode_ipv4(
            &advert(Version::V2),
            &Ipv4EncodeOptions {
                ah_sequence: sequence,
                ..options(auth)
            },
        )
        .unwrap()
    };

    // Next header other than VRRP: dropped before the ICV is looked at.
    let mut other = build(1);
    other[IPV4_HEADER_LEN] = 6;
    let (result, stats) = run(&other, &e);
    assert_eq!(result, Err(RxError::AhNotVrrp(6)));
    assert_eq!(stats.malformed_err, 1);

    // A valid ICV over a wrong SPI.
    let mut wrong_spi = build(1);
    wrong_spi[IPV4_HEADER_LEN + 4..IPV4_HEADER_LEN + 8].copy_from_slice(&[10, 0, 0, 1]);
    let mut icv_input = wrong_spi.clone();
    icv_input[1] = 0; // TOS
    icv_input[10] = 0; // IP checksum
    icv_input[11] = 0;
    icv_input[IPV4_HEADER_LEN + 12..IPV4_HEADER_LEN + AH_HEADER_LEN].fill(0);
    let icv = hmac_md5_96(&key, &[&icv_input]);
    wrong_spi[IPV4_HEADER_LEN + 12..IPV4_HEADER_LEN + AH_HEADER_LEN].copy_from_slice(&icv);
    let (result, stats) = run(&wrong_spi, &e);
    assert_eq!(
        result,
        Err(RxError::AhSpiMismatch {
            spi: 0x0a00_0001,
            sender: SOURCE
        })
    );
    assert_eq!(stats.auth_failure, 1);

    // Sequence numbers must increase strictly; the counter follows them.
    let mut stats = Stats::default();
    let mut state = WireState::default();
    for (sequence, ok) in [(5, true), (5, false), (4, false), (9, true)] {
        let result = validate(&build(sequence), &RxMeta::Ipv4, &e, &mut stats, &mut state);
        assert_eq!(result.is_ok(), ok, "sequence {sequence}: {result:?}");
    }
    assert_eq!(state.ah.seq_number, 9);
    assert_eq!(stats.auth_failure, 2);
    assert_eq!(stats.advert_rcvd, 2);

    // The shared counter then drives what we send (keepalived's ipsecah_counter).
    let (_, next) = state.next_ipv4_ids(&auth);
    assert_eq!(next, 10);
}

#[test]
fn ipv6_adverts() {
    let source: Ipv6Addr = "fe80::1".parse().unwrap();
    let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
    let advert6 = Advert {
        version: Version::V3,
        vrid: 51,
        priority: 100,
        interval_cs: 10,
        addresses: vec![IpAddr::V6(vip)],
        source: IpAddr::V6(source),
    };
    let bytes = encode_vrrp_ipv6(
        &advert6,
        &Ipv6EncodeOptions {
            destination: VRRP_MCAST_GROUP6,
            auth: Auth::None,
        },
    )
    .unwrap();
    assert_eq!(bytes.len(), 24);
    let vips = [IpAddr::V6(vip)];
    let e = InstanceExpectations {
        version: Version::V3,
        vips: &vips,
        ..expect(Version::V3, Auth::None)
    };
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let meta = |destination, hop_limit| RxMeta::Ipv6 {
        source,
        destination,
        hop_limit,
    };
    assert_eq!(
        validate(
            &bytes,
            &meta(Some(VRRP_MCAST_GROUP6), Some(255)),
            &e,
            &mut stats,
            &mut state
        ),
        Ok(advert6.clone())
    );
    // Without IPV6_PKTINFO keepalived takes the packet as unicast.
    assert_eq!(
        validate(&bytes, &meta(None, None), &e, &mut stats, &mut state),
        Err(RxError::CastMismatch {
            expected_unicast: false
        })
    );
    // Checksum over another destination fails.
    assert!(matches!(
        validate(
            &bytes,
            &meta(Some("ff02::13".parse().unwrap()), Some(255)),
            &e,
            &mut stats,
            &mut state
        ),
        Err(RxError::BadChecksum { .. })
    ));
    assert_eq!(
        validate(&bytes[..7], &meta(None, None), &e, &mut stats, &mut state),
        Err(RxError::Truncated { len: 7 })
    );
    assert_eq!(stats.advert_rcvd, 1);
}

#[test]
fn full_address_lists_round_trip() {
    let v4: Vec<IpAddr> = (0..255u8)
        .map(|i| IpAddr::V4(Ipv4Addr::new(198, 18, 0, i)))
        .collect();
    assert_eq!(v4.len(), 255);
    let a = Advert {
        addresses: v4.clone(),
        ..advert(Version::V2)
    };
    let bytes = encode_ipv4(&a, &options(Auth::Pass(*b"12345678"))).unwrap();
    assert_eq!(bytes.len(), 20 + 8 + 255 * 4 + 8);
    let decoded = decode_ipv4(&bytes).unwrap();
    assert_eq!(decoded.vrrp.header.address_count, 255);
    assert_eq!(decoded.vrrp.auth_data, Some(*b"12345678"));
    assert_eq!(decoded.vrrp.to_advert(a.source), Some(a));

    let v6: Vec<IpAddr> = (0..255u16)
        .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)))
        .collect();
    let a6 = Advert {
        version: Version::V3,
        addresses: v6,
        source: IpAddr::V6(Ipv6Addr::LOCALHOST),
        ..advert(Version::V3)
    };
    let bytes = encode_vrrp_ipv6(
        &a6,
        &Ipv6EncodeOptions {
            destination: VRRP_MCAST_GROUP6,
            auth: Auth::None,
        },
    )
    .unwrap();
    assert_eq!(bytes.len(), 8 + 255 * 16);
    let message = decode_vrrp(&bytes, Family::Ipv6).unwrap();
    assert_eq!(message.to_advert(a6.source), Some(a6));
}

#[test]
fn encoder_refuses_what_the_wire_cannot_carry() {
    let too_many = Advert {
        addresses: vec![IpAddr::V4(VIP); 256],
        ..advert(Version::V3)
    };
    assert_eq!(
        encode_ipv4(&too_many, &options(Auth::None)),
        Err(EncodeError::TooManyAddresses(256))
    );
    let long_v3 = Advert {
        interval_cs: 4096,
        ..advert(Version::V3)
    };
    assert_eq!(
        encode_ipv4(&long_v3, &options(Auth::None)),
        Err(EncodeError::V3IntervalTooLong(4096))
    );
    let long_v2 = Advert {
        interval_cs: 25_600,
        ..advert(Version::V2)
    };
    assert_eq!(
        encode_ipv4(&long_v2, &options(Auth::None)),
        Err(EncodeError::V2IntervalTooLong(25_600))
    );
    let mixed = Advert {
        addresses: vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
        ..advert(Version::V3)
    };
    assert_eq!(
        encode_ipv4(&mixed, &options(Auth::None)),
        Err(EncodeError::AddressFamily(IpAddr::V6(Ipv6Addr::LOCALHOST)))
    );
    assert!(matches!(
        encode_vrrp_ipv6(
            &advert(Version::V3),
            &Ipv6EncodeOptions {
                destination: VRRP_MCAST_GROUP6,
                auth: Auth::None
            }
        ),
        Err(EncodeError::SourceFamily(_))
    ));
}

#[test]
fn address_capacity_follows_keepalived() {
    use vrrp::packet::{DEFAULT_MTU, max_advertised_addresses};
    let ah = Auth::Ah { key: [0; 8] };
    // IPv4: the 8-bit count is the limit at 1500 bytes.
    assert_eq!(
        max_advertised_addresses(Family::Ipv4, Version::V2, &ah, DEFAULT_MTU),
        255
    );
    // IPv6: (1500 - 14 - 40 - 8) / 16 = 89.
    assert_eq!(
        max_advertised_addresses(Family::Ipv6, Version::V3, &Auth::None, DEFAULT_MTU),
        89
    );
    // Small MTU: (576 - 14 - 20 - 8 - 8 - 24) / 4 = 125 for v2 + AH; v3 ignores AH: 133.
    assert_eq!(
        max_advertised_addresses(Family::Ipv4, Version::V2, &ah, 576),
        125
    );
    assert_eq!(
        max_advertised_addresses(Family::Ipv4, Version::V3, &ah, 576),
        133
    );
    assert_eq!(
        max_advertised_addresses(Family::Ipv6, Version::V3, &Auth::None, 10),
        0
    );
}

#[test]
fn ip_id_skips_zero() {
    let mut state = WireState {
        ip_id: u16::MAX,
        ..WireState::default()
    };
    assert_eq!(state.next_ip_id(), 1);
    assert_eq!(state.next_ip_id(), 2);
}

#[test]
fn v2_mutation_helper_produces_valid_checksums() {
    // Guards the helper used to build targeted bad packets.
    let mut p = packet(Version::V2, Auth::None);
    p[IPV4_HEADER_LEN + 2] = 10; // priority
    fix_v2_checksum(&mut p);
    let (result, _) = run(&p, &expect(Version::V2, Auth::None));
    assert_eq!(result.unwrap().priority, 10);
}
