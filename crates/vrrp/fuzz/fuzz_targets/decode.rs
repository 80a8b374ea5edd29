//! Fuzzes the receive path: any bytes through `validate()` (IPv4 and IPv6 metadata,
//! expectations chosen by the first input byte) and the plain decoders. Whatever
//! decodes must re-encode and decode to the same advert.

#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp::advert::Version;
use vrrp::packet::{
    Auth, Family, InstanceExpectations, Ipv4EncodeOptions, RxMeta, Stats, UnicastPeer,
    VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6, WireState, decode_ipv4, decode_vrrp, encode_ipv4,
    validate,
};

fuzz_target!(|data: &[u8]| {
    let (flags, bytes) = match data.split_first() {
        Some((flags, rest)) => (*flags, rest),
        None => (0, data),
    };
    let vips = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    let peers = [UnicastPeer {
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
        min_ttl: 1,
        max_ttl: 255,
    }];
    let auth = match flags >> 6 {
        0 => Auth::None,
        1 => Auth::Pass(*b"secret\0\0"),
        _ => Auth::Ah {
            key: *b"secret\0\0",
        },
    };
    let expect = InstanceExpectations {
        vrid: bytes.get(21).copied().unwrap_or(51),
        version: if flags & 1 == 0 {
            Version::V2
        } else {
            Version::V3
        },
        auth,
        interval_cs: 100,
        unicast: flags & 2 != 0,
        vips: &vips,
        check_vip_addr: flags & 4 != 0,
        check_unicast_src: flags & 8 != 0,
        unicast_peers: &peers,
        is_backup: flags & 16 != 0,
        mcast_group4: VRRP_MCAST_GROUP4,
        v3_checksum_as_v2: flags & 32 != 0,
    };
    let mut stats = Stats::default();
    let mut state = WireState::default();
    let _ = validate(bytes, &RxMeta::Ipv4, &expect, &mut stats, &mut state);
    let v6 = RxMeta::Ipv6 {
        source: Ipv6Addr::LOCALHOST,
        destination: Some(VRRP_MCAST_GROUP6),
        hop_limit: Some(255),
    };
    let _ = validate(bytes, &v6, &expect, &mut stats, &mut state);
    let _ = decode_vrrp(bytes, Family::Ipv6);

    if let Ok(packet) = decode_ipv4(bytes)
        && let Some(advert) = packet.vrrp.to_advert(IpAddr::V4(packet.ip.source))
    {
        let rebuilt = encode_ipv4(&advert, &Ipv4EncodeOptions::multicast(packet.ip.id))
            .expect("a decoded advert always re-encodes");
        let again = decode_ipv4(&rebuilt).expect("our own packet decodes");
        assert_eq!(
            again.vrrp.to_advert(IpAddr::V4(again.ip.source)),
            Some(advert)
        );
    }
});
