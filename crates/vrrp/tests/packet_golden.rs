//! Golden tests against adverts captured from the real keepalived 2.2.7 (`tcpdump -xx`):
//! each decodes, validates, and re-encodes byte-identical, AH ICV included.
//!
//! - `shared/lab/samples/tcpdump-vrrpv{2,3}-hex.txt`: the lab's captures (multicast, no
//!   auth), read from the shared directory next to the repository; skipped if absent.
//! - `tests/fixtures/keepalived-*-hex.txt`: our captures (PASS, AH multicast, AH
//!   unicast, VRRPv3 unicast, VRRPv3 IPv6), with the klA config that produced them.

#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use vrrp::advert::Version;
use vrrp::packet::{
    Auth, Family, InstanceExpectations, Ipv4EncodeOptions, Ipv6EncodeOptions, RxError, RxMeta,
    Stats, UnicastChecksumCompat, UnicastPeer, V3Checksum, VRRP_MCAST_GROUP4, WireState,
    decode_ipv4, decode_vrrp, encode_ipv4, encode_vrrp_ipv6, validate,
};

/// The frames of a `tcpdump -xx` text dump (Ethernet header included).
fn parse_tcpdump_hex(text: &str) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("0x")
            && let Some((offset, data)) = rest.split_once(':')
            && offset.chars().all(|c| c.is_ascii_hexdigit())
        {
            let frame = current.get_or_insert_with(Vec::new);
            // Hex groups are single-space separated; two spaces start the ASCII column.
            let hex_part = data.trim_start().split("  ").next().unwrap_or("");
            for group in hex_part.split_whitespace() {
                let mut chars = group.as_bytes().chunks(2);
                for pair in &mut chars {
                    let s = std::str::from_utf8(pair).expect("ascii");
                    frame.push(u8::from_str_radix(s, 16).expect("hex byte"));
                }
            }
        } else if let Some(frame) = current.take() {
            frames.push(frame);
        }
    }
    if let Some(frame) = current.take() {
        frames.push(frame);
    }
    frames
}

enum Frame {
    Ipv4(Vec<u8>),
    Ipv6 {
        source: Ipv6Addr,
        destination: Ipv6Addr,
        hop_limit: u8,
        payload: Vec<u8>,
    },
}

fn strip_ethernet(frame: &[u8]) -> Frame {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let l3 = &frame[14..];
    match ethertype {
        0x0800 => {
            // Drop Ethernet padding: keep exactly the IPv4 total length.
            let total = usize::from(u16::from_be_bytes([l3[2], l3[3]]));
            Frame::Ipv4(l3[..total].to_vec())
        }
        0x86dd => {
            let payload_len = usize::from(u16::from_be_bytes([l3[4], l3[5]]));
            let source: [u8; 16] = l3[8..24].try_into().unwrap();
            let destination: [u8; 16] = l3[24..40].try_into().unwrap();
            Frame::Ipv6 {
                source: Ipv6Addr::from(source),
                destination: Ipv6Addr::from(destination),
                hop_limit: l3[7],
                payload: l3[40..40 + payload_len].to_vec(),
            }
        }
        other => panic!("unexpected ethertype {other:#06x}"),
    }
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lab's shared samples, next to the repository (`../shared`) or at /work/shared.
fn shared_sample(name: &str) -> Option<String> {
    let candidates: [PathBuf; 2] = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/lab/samples"),
        PathBuf::from("/work/shared/lab/samples"),
    ];
    for dir in candidates {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            return Some(text);
        }
    }
    println!("skipping: shared sample {name} not found (../shared or /work/shared)");
    None
}

struct Case {
    auth: Auth,
    unicast: bool,
    vips: Vec<IpAddr>,
    peers: Vec<UnicastPeer>,
    /// How the sender computed a VRRPv3 checksum.
    v3_checksum: V3Checksum,
    /// The receiver's `old_unicast_checksum` setting.
    compat: UnicastChecksumCompat,
}

impl Case {
    fn new(auth: Auth, unicast: bool, vips: Vec<IpAddr>, peers: Vec<UnicastPeer>) -> Self {
        Self {
            auth,
            unicast,
            vips,
            peers,
            v3_checksum: V3Checksum::PseudoHeader,
            compat: UnicastChecksumCompat::Rfc,
        }
    }
}

fn secret() -> [u8; 8] {
    Auth::key_from_pass(b"secret")
}

fn vip4() -> Vec<IpAddr> {
    vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))]
}

fn peer_b() -> Vec<UnicastPeer> {
    vec![UnicastPeer {
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
        min_ttl: 0,
        max_ttl: 255,
    }]
}

/// Decodes, validates (all frames in order, sharing one WireState) and re-encodes.
/// Returns the packets for further checks.
fn check_ipv4_capture(text: &str, case: &Case) -> (Vec<Vec<u8>>, WireState) {
    let frames = parse_tcpdump_hex(text);
    assert!(!frames.is_empty(), "no frames in capture");
    let mut stats = Stats::default();
    let mut state = WireState {
        unicast_checksum_compat: case.compat,
        ..WireState::default()
    };
    let mut packets = Vec::new();
    for frame in &frames {
        let Frame::Ipv4(packet) = strip_ethernet(frame) else {
            panic!("expected IPv4");
        };
        let decoded = decode_ipv4(&packet).expect("decodes");
        let advert = decoded
            .vrrp
            .to_advert(IpAddr::V4(decoded.ip.source))
            .expect("v2 or v3");
        assert_eq!(advert.vrid, 51);
        assert_eq!(advert.priority, 150);
        assert_eq!(advert.addresses, case.vips);

        // Re-encode with what the sender had: identical bytes.
        let options = Ipv4EncodeOptions {
            auth: case.auth,
            destination: decoded.ip.destination,
            ttl: decoded.ip.ttl,
            unicast: case.unicast,
            ip_id: decoded.ip.id,
            ah_sequence: decoded.ah.map_or(0, |ah| ah.sequence),
            v3_checksum: case.v3_checksum,
        };
        let rebuilt = encode_ipv4(&advert, &options).expect("encodes");
        assert_eq!(hex(&rebuilt), hex(&packet), "re-encoded packet differs");

        let expect = InstanceExpectations {
            vrid: 51,
            version: advert.version,
            auth: case.auth,
            interval_cs: advert.interval_cs,
            unicast: case.unicast,
            vips: &case.vips,
            check_vip_addr: true,
            check_unicast_src: case.unicast,
            unicast_peers: &case.peers,
            is_backup: true,
            mcast_group4: VRRP_MCAST_GROUP4,
            v3_checksum_as_v2: false,
        };
        let validated = validate(&packet, &RxMeta::Ipv4, &expect, &mut stats, &mut state)
            .unwrap_or_else(|e| panic!("keepalived's advert refused: {e}"));
        assert_eq!(validated, advert);
        packets.push(packet);
    }
    assert_eq!(
        stats,
        Stats {
            advert_rcvd: frames.len() as u64,
            ..Stats::default()
        }
    );
    (packets, state)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn lab_vrrpv2_multicast_capture() {
    let Some(text) = shared_sample("tcpdump-vrrpv2-hex.txt") else {
        return;
    };
    let case = Case::new(Auth::None, false, vip4(), vec![]);
    check_ipv4_capture(&text, &case);
}

#[test]
fn lab_vrrpv3_multicast_capture() {
    let Some(text) = shared_sample("tcpdump-vrrpv3-hex.txt") else {
        return;
    };
    let case = Case::new(Auth::None, false, vip4(), vec![]);
    let (packets, _) = check_ipv4_capture(&text, &case);
    let decoded = decode_ipv4(&packets[0]).unwrap();
    assert_eq!(decoded.vrrp.header.version, 3);
    assert_eq!(decoded.vrrp.header.v3_interval_cs(), 10);
}

#[test]
fn pass_auth_capture() {
    let case = Case::new(Auth::Pass(secret()), false, vip4(), vec![]);
    let (packets, mut state) = check_ipv4_capture(&fixture("keepalived-v2-pass-hex.txt"), &case);

    // The same packet with another password configured: auth_failure.
    let expect = InstanceExpectations {
        vrid: 51,
        version: Version::V2,
        auth: Auth::Pass(Auth::key_from_pass(b"secreT")),
        interval_cs: 100,
        unicast: false,
        vips: &case.vips,
        check_vip_addr: true,
        check_unicast_src: false,
        unicast_peers: &[],
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    };
    let mut stats = Stats::default();
    let result = validate(&packets[0], &RxMeta::Ipv4, &expect, &mut stats, &mut state);
    assert_eq!(result, Err(RxError::PasswordMismatch));
    assert_eq!(stats.auth_failure, 1);
    assert_eq!(stats.advert_rcvd, 0);

    // Configured without auth: the auth type differs.
    let expect = InstanceExpectations {
        auth: Auth::None,
        ..expect
    };
    let result = validate(&packets[0], &RxMeta::Ipv4, &expect, &mut stats, &mut state);
    assert_eq!(
        result,
        Err(RxError::AuthTypeMismatch {
            received: 1,
            expected: 0
        })
    );
    assert_eq!(stats.authtype_mismatch, 1);
}

fn ah_expectations<'a>(
    vips: &'a [IpAddr],
    peers: &'a [UnicastPeer],
    unicast: bool,
) -> InstanceExpectations<'a> {
    InstanceExpectations {
        vrid: 51,
        version: Version::V2,
        auth: Auth::Ah { key: secret() },
        interval_cs: 100,
        unicast,
        vips,
        check_vip_addr: true,
        check_unicast_src: unicast,
        unicast_peers: peers,
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    }
}

#[test]
fn ah_multicast_capture() {
    let case = Case::new(Auth::Ah { key: secret() }, false, vip4(), vec![]);
    let (packets, mut state) = check_ipv4_capture(&fixture("keepalived-v2-ah-hex.txt"), &case);
    let last_seq = decode_ipv4(packets.last().unwrap())
        .unwrap()
        .ah
        .unwrap()
        .sequence;
    assert_eq!(state.ah.seq_number, last_seq);

    let expect = ah_expectations(&case.vips, &case.peers, false);
    let mut stats = Stats::default();

    // Replaying the first capture: the sequence number was already seen.
    let result = validate(&packets[0], &RxMeta::Ipv4, &expect, &mut stats, &mut state);
    assert!(
        matches!(result, Err(RxError::AhReplay { .. })),
        "{result:?}"
    );
    assert_eq!(stats.auth_failure, 1);

    // A flipped ICV bit, a wrong key, a changed IP id: all break the ICV.
    let mut fresh = WireState::default();
    let mut corrupt = packets[0].clone();
    corrupt[20 + 12] ^= 0x01;
    assert_eq!(
        validate(&corrupt, &RxMeta::Ipv4, &expect, &mut stats, &mut fresh),
        Err(RxError::AhIcvMismatch)
    );
    let wrong_key = InstanceExpectations {
        auth: Auth::Ah {
            key: Auth::key_from_pass(b"secreT"),
        },
        ..expect
    };
    assert_eq!(
        validate(
            &packets[0],
            &RxMeta::Ipv4,
            &wrong_key,
            &mut stats,
            &mut fresh
        ),
        Err(RxError::AhIcvMismatch)
    );
    // TOS and the IP checksum are mutable fields: changing them keeps the ICV valid.
    let mut tos_changed = packets[0].clone();
    tos_changed[1] = 0x00;
    tos_changed[10] ^= 0xff;
    assert!(validate(&tos_changed, &RxMeta::Ipv4, &expect, &mut stats, &mut fresh).is_ok());
    assert_eq!(stats.auth_failure, 3);

    // Without AH configured the AH header itself is the mismatch.
    let plain = InstanceExpectations {
        auth: Auth::None,
        ..expect
    };
    assert_eq!(
        validate(
            &packets[1],
            &RxMeta::Ipv4,
            &plain,
            &mut stats,
            &mut WireState::default()
        ),
        Err(RxError::AhPresenceMismatch { ah_present: true })
    );
    assert_eq!(stats.authtype_mismatch, 1);
}

#[test]
fn ah_unicast_capture_zeroes_ttl_in_icv() {
    let case = Case::new(Auth::Ah { key: secret() }, true, vip4(), peer_b());
    let (packets, _) = check_ipv4_capture(&fixture("keepalived-v2-ah-unicast-hex.txt"), &case);

    // Unicast: the TTL is mutable, so a router hop does not break the ICV...
    let expect = ah_expectations(&case.vips, &case.peers, true);
    let mut hopped = packets[0].clone();
    hopped[8] = 254;
    let mut stats = Stats::default();
    assert!(
        validate(
            &hopped,
            &RxMeta::Ipv4,
            &expect,
            &mut stats,
            &mut WireState::default()
        )
        .is_ok()
    );
    // ...but it does for a multicast-configured receiver, where TTL is in the ICV (and
    // would anyway fail the TTL 255 check first).
    let mut multicast_ttl = packets[0].clone();
    multicast_ttl[8] = 254;
    let expect_mc = ah_expectations(&case.vips, &case.peers, false);
    assert_eq!(
        validate(
            &multicast_ttl,
            &RxMeta::Ipv4,
            &expect_mc,
            &mut stats,
            &mut WireState::default()
        ),
        Err(RxError::TtlNot255 { ttl: 254 })
    );
}

#[test]
fn vrrpv3_unicast_capture_uses_peer_in_pseudo_header() {
    let case = Case::new(Auth::None, true, vip4(), peer_b());
    let (packets, state) = check_ipv4_capture(&fixture("keepalived-v3-unicast-hex.txt"), &case);
    assert_eq!(state.unicast_checksum_compat, Default::default());

    // A peer with the old (pre-1.3.6) checksum: accepted, and we switch to its mode.
    let decoded = decode_ipv4(&packets[0]).unwrap();
    let advert = decoded
        .vrrp
        .to_advert(IpAddr::V4(decoded.ip.source))
        .unwrap();
    let old = encode_ipv4(
        &advert,
        &Ipv4EncodeOptions {
            auth: Auth::None,
            destination: decoded.ip.destination,
            ttl: 255,
            unicast: true,
            ip_id: 9,
            ah_sequence: 0,
            v3_checksum: V3Checksum::PseudoHeaderWithGroup(VRRP_MCAST_GROUP4),
        },
    )
    .unwrap();
    assert_ne!(old[26..28], packets[0][26..28]);
    let expect = InstanceExpectations {
        vrid: 51,
        version: Version::V3,
        auth: Auth::None,
        interval_cs: 100,
        unicast: true,
        vips: &case.vips,
        check_vip_addr: true,
        check_unicast_src: true,
        unicast_peers: &case.peers,
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    };
    let mut state = WireState::default();
    let mut stats = Stats::default();
    assert!(validate(&old, &RxMeta::Ipv4, &expect, &mut stats, &mut state).is_ok());
    assert_eq!(state.unicast_checksum_compat, UnicastChecksumCompat::Auto);
    assert_eq!(
        state.v3_checksum(false, VRRP_MCAST_GROUP4),
        V3Checksum::PseudoHeaderWithGroup(VRRP_MCAST_GROUP4)
    );
}

#[test]
fn vrrpv3_ipv6_capture() {
    let frames = parse_tcpdump_hex(&fixture("keepalived-v3-ipv6-hex.txt"));
    assert_eq!(frames.len(), 3);
    let vips = vec![IpAddr::V6("2001:db8::100".parse().unwrap())];
    let mut stats = Stats::default();
    let mut state = WireState::default();
    for frame in &frames {
        let Frame::Ipv6 {
            source,
            destination,
            hop_limit,
            payload,
        } = strip_ethernet(frame)
        else {
            panic!("expected IPv6");
        };
        assert_eq!(hop_limit, 255);
        let message = decode_vrrp(&payload, Family::Ipv6).expect("decodes");
        let advert = message.to_advert(IpAddr::V6(source)).unwrap();
        assert_eq!(advert.interval_cs, 100);
        assert_eq!(advert.addresses, vips);

        // The checksum in the capture is the kernel's (IPV6_CHECKSUM); ours is equal.
        let rebuilt = encode_vrrp_ipv6(
            &advert,
            &Ipv6EncodeOptions {
                destination,
                auth: Auth::None,
            },
        )
        .unwrap();
        assert_eq!(hex(&rebuilt), hex(&payload));

        let expect = InstanceExpectations {
            vrid: 51,
            version: Version::V3,
            auth: Auth::None,
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
        let meta = RxMeta::Ipv6 {
            source,
            destination: Some(destination),
            hop_limit: Some(hop_limit),
        };
        assert_eq!(
            validate(&payload, &meta, &expect, &mut stats, &mut state),
            Ok(advert)
        );

        // A corrupted checksum is caught when the destination is known.
        let mut bad = payload.clone();
        bad[7] ^= 0x10;
        assert!(matches!(
            validate(&bad, &meta, &expect, &mut stats, &mut state),
            Err(RxError::BadChecksum { .. })
        ));
        // Hop limit 254 on a multicast instance.
        let meta_hop = RxMeta::Ipv6 {
            source,
            destination: Some(destination),
            hop_limit: Some(254),
        };
        assert_eq!(
            validate(&payload, &meta_hop, &expect, &mut stats, &mut state),
            Err(RxError::TtlNot255 { ttl: 254 })
        );
    }
    assert_eq!(stats.advert_rcvd, 3);
    assert_eq!(stats.checksum_err, 3);
    assert_eq!(stats.ip_ttl_err, 3);
}

#[test]
fn vrrpv3_unicast_old_checksum_capture() {
    // keepalived with `old_unicast_checksum`: the pseudo-header carries 224.0.0.18 even
    // though the packet goes to the peer (tcpdump flags it "bad vrrp cksum").
    let text = fixture("keepalived-v3-unicast-old-checksum-hex.txt");
    let mut case = Case::new(Auth::None, true, vip4(), peer_b());
    case.v3_checksum = V3Checksum::PseudoHeaderWithGroup(VRRP_MCAST_GROUP4);
    case.compat = UnicastChecksumCompat::Config;
    let (packets, state) = check_ipv4_capture(&text, &case);
    assert_eq!(state.unicast_checksum_compat, UnicastChecksumCompat::Config);

    // Default receiver: accepts it and switches to the old mode (keepalived "auto").
    case.compat = UnicastChecksumCompat::Rfc;
    let (_, state) = check_ipv4_capture(&text, &case);
    assert_eq!(state.unicast_checksum_compat, UnicastChecksumCompat::Auto);

    // `old_unicast_checksum never`: refused.
    let expect = InstanceExpectations {
        vrid: 51,
        version: Version::V3,
        auth: Auth::None,
        interval_cs: 100,
        unicast: true,
        vips: &case.vips,
        check_vip_addr: true,
        check_unicast_src: true,
        unicast_peers: &case.peers,
        is_backup: true,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: false,
    };
    let mut never = WireState {
        unicast_checksum_compat: UnicastChecksumCompat::Never,
        ..WireState::default()
    };
    let mut stats = Stats::default();
    assert!(matches!(
        validate(&packets[0], &RxMeta::Ipv4, &expect, &mut stats, &mut never),
        Err(RxError::BadChecksum { .. })
    ));
    assert_eq!(stats.checksum_err, 1);
}

#[test]
fn pass_auth_truncated_password_and_three_vips_capture() {
    // auth_pass "longpassword" is cut to 8 bytes by keepalived; VIPs keep config order.
    let vips = vec![
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 101)),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 102)),
    ];
    let case = Case::new(
        Auth::Pass(Auth::key_from_pass(b"longpassword")),
        false,
        vips,
        vec![],
    );
    let (packets, _) = check_ipv4_capture(&fixture("keepalived-v2-pass-long-3vips-hex.txt"), &case);
    assert_eq!(&packets[0][packets[0].len() - 8..], b"longpass");
}

#[test]
fn tcpdump_parser_reads_ascii_and_plain_dumps() {
    let with_ascii = "x\n\t0x0000:  0100 5e00  ..^.\n\t0x0010:  ab                 .\n1 packet\n";
    assert_eq!(
        parse_tcpdump_hex(with_ascii),
        vec![vec![1, 0, 0x5e, 0, 0xab]]
    );
}
