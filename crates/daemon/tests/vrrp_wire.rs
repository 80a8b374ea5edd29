//! Packets on the wire match keepalived's: the same configuration runs on node a,
//! first under Debian's keepalived 2.2.7, then under ours, while tcpdump on node b
//! captures. For every instance (v2, v3, IPv6, PASS, AH, unicast v4/v6, VMAC v4/v6, unicast VMAC with vmac_xmit_base) the
//! first MASTER advert of each daemon must be byte-identical: the Ethernet header,
//! the IP header except the IPv4 id and header checksum, the AH header except its
//! sequence number and ICV (both depend on the id and the packet count), and the whole
//! VRRP message, checksum included.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{Daemon, can_run, config, pair, start, stop, wait_vip};
use lab::{Lab, have_program, wait_for};

/// (IPv6?, IP protocol, VRID, destination address bytes).
type Key = (bool, u8, u8, Vec<u8>);

const PRIORITY: u8 = 150;
const INSTANCES: usize = 10;

/// Ethernet frames of a classic pcap file (tcpdump -w, link type Ethernet).
fn pcap_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let Some(magic) = bytes.get(..4) else {
        return frames;
    };
    let little = magic == [0xd4, 0xc3, 0xb2, 0xa1];
    let read_u32 = |at: usize| -> Option<usize> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        let v = if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        };
        usize::try_from(v).ok()
    };
    let mut at = 24;
    while let Some(len) = read_u32(at + 8) {
        let Some(frame) = bytes.get(at + 16..at + 16 + len) else {
            break;
        };
        frames.push(frame.to_vec());
        at += 16 + len;
    }
    frames
}

/// The first advert with our priority per (family, protocol, VRID, destination).
fn adverts(frames: &[Vec<u8>]) -> BTreeMap<Key, Vec<u8>> {
    let mut found = BTreeMap::new();
    for frame in frames {
        let Some(ethertype) = frame.get(12..14) else {
            continue;
        };
        let key_and_vrrp = match ethertype {
            [0x08, 0x00] => {
                let ihl = usize::from(frame.get(14).copied().unwrap_or(0) & 0x0f) * 4;
                let proto = frame.get(14 + 9).copied().unwrap_or(0);
                let vrrp_at = 14 + ihl + if proto == 51 { 24 } else { 0 };
                let dest = frame.get(30..34).unwrap_or(&[]).to_vec();
                Some(((false, proto, dest), vrrp_at))
            }
            [0x86, 0xdd] => {
                let proto = frame.get(14 + 6).copied().unwrap_or(0);
                let dest = frame.get(38..54).unwrap_or(&[]).to_vec();
                Some(((true, proto, dest), 54))
            }
            _ => None,
        };
        let Some(((ipv6, proto, dest), vrrp_at)) = key_and_vrrp else {
            continue;
        };
        let (Some(&vrid), Some(&priority)) = (frame.get(vrrp_at + 1), frame.get(vrrp_at + 2))
        else {
            continue;
        };
        if priority == PRIORITY {
            found
                .entry((ipv6, proto, vrid, dest))
                .or_insert_with(|| frame.clone());
        }
    }
    found
}

/// The bytes that must match: everything but the IPv4 id and checksum and the AH
/// sequence number and ICV.
fn comparable(frame: &[u8]) -> Vec<u8> {
    let mut out = frame.to_vec();
    if frame.get(12..14) == Some(&[0x08, 0x00]) {
        let ihl = usize::from(frame.get(14).copied().unwrap_or(0) & 0x0f) * 4;
        for at in [18, 19, 24, 25] {
            if let Some(b) = out.get_mut(at) {
                *b = 0;
            }
        }
        if frame.get(23) == Some(&51) {
            for at in 14 + ihl + 8..14 + ihl + 24 {
                if let Some(b) = out.get_mut(at) {
                    *b = 0;
                }
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `daemon` on a with the matrix configuration and captures on b until every
/// instance has sent a MASTER advert.
fn capture(lab: &mut Lab, daemon: Daemon) -> BTreeMap<Key, Vec<u8>> {
    let dir = lab.node("b").expect("b").dir.clone();
    let pcap = dir.join(format!("{daemon:?}.pcap"));
    let pcap_arg = pcap.display().to_string();
    let tcpdump = lab
        .spawn(
            "b",
            "tcpdump.log",
            &[
                "tcpdump",
                "-i",
                "eth0",
                "-U",
                "-nn",
                "-w",
                &pcap_arg,
                "ip proto 112 or ip proto 51 or ip6 proto 112",
            ],
        )
        .expect("tcpdump");
    let log = dir.join("tcpdump.log");
    wait_for(
        "tcpdump listening",
        Duration::from_secs(10),
        common::POLL,
        || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|t| t.matches("listening on").count() > usize::from(daemon == Daemon::Ours))
        },
    )
    .expect("tcpdump starts");

    let running = start(lab, "a", daemon, &config(11, 12, u32::from(PRIORITY)));
    wait_vip(lab, "a", "eth0", "192.0.2.100/24", Duration::from_secs(10)).expect("a MASTER");
    let found = wait_for(
        "a MASTER advert of every instance",
        Duration::from_secs(10),
        common::POLL * 5,
        || {
            let found = adverts(&pcap_frames(&std::fs::read(&pcap).ok()?));
            (found.len() >= INSTANCES).then_some(found)
        },
    );
    let found = match found {
        Ok(f) => f,
        Err(e) => panic!(
            "{e}: captured {:?}\n{}",
            adverts(&pcap_frames(&std::fs::read(&pcap).unwrap_or_default())).keys(),
            running.log_text()
        ),
    };
    assert_eq!(stop(lab, &running), Some(0));
    if let Some(p) = lab.process(tcpdump) {
        let _ = p.signal(2);
        let _ = p.child.wait();
    }
    let _ = std::fs::remove_file(Path::new(&pcap));
    found
}

#[test]
fn adverts_match_keepalived_byte_for_byte() {
    if !can_run(true) {
        return;
    }
    if !have_program("tcpdump") {
        println!("SKIP: tcpdump not installed");
        return;
    }
    let mut lab = pair("wire");
    let theirs = capture(&mut lab, Daemon::Upstream);
    let ours = capture(&mut lab, Daemon::Ours);
    assert_eq!(
        theirs.keys().collect::<Vec<_>>(),
        ours.keys().collect::<Vec<_>>(),
        "different sets of adverts"
    );
    for (key, their_frame) in &theirs {
        let our_frame = ours.get(key).expect("same keys");
        assert_eq!(
            hex(&comparable(our_frame)),
            hex(&comparable(their_frame)),
            "advert {key:?} differs (ours left, keepalived right)"
        );
    }
    println!(
        "compared {} adverts byte for byte: {:?}",
        theirs.len(),
        theirs
            .keys()
            .map(|(v6, proto, vrid, _)| format!(
                "{}/{proto}/vrid {vrid}",
                if *v6 { "IPv6" } else { "IPv4" }
            ))
            .collect::<Vec<_>>()
    );
}
