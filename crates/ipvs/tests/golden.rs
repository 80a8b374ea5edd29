//! Golden-byte tests: our requests against the generic netlink messages
//! ipvsadm 1.31 sent for the same operation, captured with strace in the
//! ipvs-vm guest by `testdata/capture-golden.sh` into
//! `testdata/ipvsadm-golden.txt` (genl header + attributes, no nlmsghdr);
//! and the decoders against the kernel's (Linux 6.1) replies to ipvsadm's
//! listings, captured by `testdata/capture-replies.sh` into
//! `testdata/kernel-replies.txt`. No root or IPVS needed.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipvs::wire::{self, dest_from_nlas, service_from_nlas};
use ipvs::{
    AddressFamily, CmdNla, Daemon, DaemonNla, DaemonState, Dest, DestKey, DestNla, Forwarding,
    IpvsCmd, IpvsMessage, Netmask, Protocol, Service, ServiceFlags, ServiceKey, ServiceNla,
    Timeouts, TunnelFlags, TunnelType,
};

struct Case {
    cmd_line: String,
    flags: String,
    payload: Vec<u8>,
}

fn load() -> BTreeMap<String, Case> {
    let text = include_str!("../testdata/ipvsadm-golden.txt");
    let mut cases = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = None;
        let mut cmd_line = String::new();
        let mut flags = String::new();
        let mut payload = Vec::new();
        for line in block.lines() {
            let (key, value) = line.split_once(' ').unwrap();
            match key {
                "case" => name = Some(value.to_string()),
                "cmd" => cmd_line = value.to_string(),
                "flags" => flags = value.to_string(),
                "payload" => payload = hex(value),
                other => panic!("unknown key {other}"),
            }
        }
        cases.insert(
            name.unwrap(),
            Case {
                cmd_line,
                flags,
                payload,
            },
        );
    }
    cases
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

fn udp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip(addr),
        port,
    }
}

fn fwmark(family: AddressFamily, mark: u32) -> ServiceKey {
    ServiceKey::Fwmark { family, mark }
}

/// How our request relates to ipvsadm's.
enum Expect {
    /// Byte for byte the same.
    Exact(IpvsMessage),
    /// ipvsadm adds attributes the kernel ignores for this command (the whole
    /// service for destination commands, dest/daemon details for deletes):
    /// ours must equal ipvsadm's restricted to the identifying attributes,
    /// in the same order.
    KeyOnly(IpvsMessage),
}

fn expected(name: &str) -> (Expect, &'static str) {
    const DO: &str = "NLM_F_REQUEST|NLM_F_ACK";
    const DUMP: &str = "NLM_F_REQUEST|NLM_F_ACK|0x300";
    use Expect::{Exact, KeyOnly};
    let svc80 = tcp("10.0.0.1", 80);
    let svc6 = tcp("2001:db8::1", 443);
    match name {
        "svc_add_tcp4_rr" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_tcp4_rr()).unwrap()),
            DO,
        ),
        "svc_add_udp4_persistent" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_udp4_persistent()).unwrap()),
            DO,
        ),
        "svc_add_sctp4" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_sctp4()).unwrap()),
            DO,
        ),
        "svc_add_fwmark4_sh_flags" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_fwmark4()).unwrap()),
            DO,
        ),
        "svc_add_fwmark6_mh" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_fwmark6()).unwrap()),
            DO,
        ),
        "svc_add_tcp6_wrr" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_tcp6()).unwrap()),
            DO,
        ),
        "svc_add_udp4_ops_pe" => (
            Exact(wire::service_request(IpvsCmd::NewService, &svc_udp4_ops_pe()).unwrap()),
            DO,
        ),
        "svc_edit_tcp4" => (
            Exact(
                wire::service_request(
                    IpvsCmd::SetService,
                    &Service::new(svc80, "wlc").persistent(120),
                )
                .unwrap(),
            ),
            DO,
        ),
        "dest_add_route" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc80, &dest_route())),
            DO,
        ),
        "dest_add_masq_thresholds" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc80, &dest_masq())),
            DO,
        ),
        "dest_add_tun_ipip" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc80, &dest_ipip())),
            DO,
        ),
        "dest_add_tun_gue" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc80, &dest_gue())),
            DO,
        ),
        "dest_add_tun_gre" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc80, &dest_gre())),
            DO,
        ),
        "dest_add_tcp6_masq" => (
            KeyOnly(wire::dest_request(IpvsCmd::NewDest, &svc6, &dest6())),
            DO,
        ),
        "dest_add_fwmark_route" => (
            KeyOnly(wire::dest_request(
                IpvsCmd::NewDest,
                &fwmark(AddressFamily::Inet, 42),
                &Dest::new(ip("127.0.0.7"), 0, Forwarding::Route, 0),
            )),
            DO,
        ),
        "dest_edit_masq" => (
            KeyOnly(wire::dest_request(
                IpvsCmd::SetDest,
                &svc80,
                &Dest::new(ip("127.0.0.3"), 8080, Forwarding::Masq, 7),
            )),
            DO,
        ),
        "dest_get_dump" => (
            Exact(wire::service_key_request(IpvsCmd::GetDest, &svc80)),
            DUMP,
        ),
        "dest_del" => (
            KeyOnly(wire::dest_key_request(
                IpvsCmd::DelDest,
                &svc80,
                &DestKey {
                    addr: ip("127.0.0.3"),
                    port: 8080,
                },
            )),
            DO,
        ),
        "zero_service" => (
            KeyOnly(wire::service_key_request(IpvsCmd::Zero, &svc80)),
            DO,
        ),
        "zero_all" => (Exact(wire::bare_request(IpvsCmd::Zero)), DO),
        "timeouts_set" => (
            Exact(wire::timeouts_request(&Timeouts {
                tcp: 900,
                tcp_fin: 120,
                udp: 300,
            })),
            DO,
        ),
        "timeouts_get" => (Exact(wire::bare_request(IpvsCmd::GetConfig)), DO),
        "daemon_start_master" => (
            Exact(wire::new_daemon_request(&daemon_master()).unwrap()),
            DO,
        ),
        "daemon_start_backup_full" => (
            Exact(wire::new_daemon_request(&daemon_backup_full()).unwrap()),
            DO,
        ),
        "daemon_get" => (Exact(wire::bare_request(IpvsCmd::GetDaemon)), DUMP),
        "daemon_stop_master" => (KeyOnly(wire::del_daemon_request(DaemonState::Master)), DO),
        "daemon_stop_backup" => (KeyOnly(wire::del_daemon_request(DaemonState::Backup)), DO),
        "svc_del_tcp4" => (
            KeyOnly(wire::service_key_request(IpvsCmd::DelService, &svc80)),
            DO,
        ),
        "svc_del_fwmark6" => (
            KeyOnly(wire::service_key_request(
                IpvsCmd::DelService,
                &fwmark(AddressFamily::Inet6, 43),
            )),
            DO,
        ),
        "flush" => (Exact(wire::bare_request(IpvsCmd::Flush)), DO),
        other => panic!("golden case {other} has no expectation in tests/golden.rs"),
    }
}

fn svc_tcp4_rr() -> Service {
    Service::new(tcp("10.0.0.1", 80), "rr")
}

fn svc_udp4_persistent() -> Service {
    Service {
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
        ..Service::new(udp("10.0.0.1", 53), "wlc").persistent(300)
    }
}

fn svc_sctp4() -> Service {
    Service::new(
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: ip("10.0.0.2"),
            port: 9000,
        },
        "lc",
    )
}

fn svc_fwmark4() -> Service {
    Service::new(fwmark(AddressFamily::Inet, 42), "sh")
        .with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT)
}

fn svc_fwmark6() -> Service {
    Service {
        netmask: Netmask::V6Prefix(64),
        ..Service::new(fwmark(AddressFamily::Inet6, 43), "mh")
            .with_flags(ServiceFlags::MH_FALLBACK | ServiceFlags::MH_PORT)
            .persistent(60)
    }
}

fn svc_tcp6() -> Service {
    Service::new(tcp("2001:db8::1", 443), "wrr")
}

fn svc_udp4_ops_pe() -> Service {
    Service {
        pe_name: Some("sip".into()),
        ..Service::new(udp("10.0.0.3", 5060), "rr")
            .with_flags(ServiceFlags::ONE_PACKET)
            .persistent(100)
    }
}

fn dest_route() -> Dest {
    Dest::new(ip("127.0.0.2"), 80, Forwarding::Route, 1)
}

fn dest_masq() -> Dest {
    Dest {
        upper_threshold: 100,
        lower_threshold: 10,
        ..Dest::new(ip("127.0.0.3"), 8080, Forwarding::Masq, 5)
    }
}

fn dest_ipip() -> Dest {
    // ipvsadm puts the service port on tunnelled/routed real servers.
    Dest::new(ip("127.0.0.4"), 80, Forwarding::IPIP, 2)
}

fn dest_gue() -> Dest {
    Dest::new(
        ip("127.0.0.5"),
        80,
        Forwarding::Tunnel {
            kind: TunnelType::Gue { port: 6080 },
            flags: TunnelFlags::CSUM,
        },
        1,
    )
}

fn dest_gre() -> Dest {
    Dest::new(
        ip("127.0.0.6"),
        80,
        Forwarding::Tunnel {
            kind: TunnelType::Gre,
            flags: TunnelFlags::CSUM,
        },
        1,
    )
}

fn dest6() -> Dest {
    Dest::new(ip("2001:db8::10"), 443, Forwarding::Masq, 3)
}

fn daemon_master() -> Daemon {
    Daemon::new(DaemonState::Master, "ipvssync0", 5)
}

fn daemon_backup_full() -> Daemon {
    Daemon {
        max_len: Some(1400),
        group: Some(ip("224.0.0.82")),
        port: Some(8849),
        ttl: Some(2),
        ..Daemon::new(DaemonState::Backup, "ipvssync0", 7)
    }
}

/// ipvsadm's message restricted to the attributes that identify objects.
fn key_attributes_only(msg: &IpvsMessage) -> IpvsMessage {
    let nlas = msg
        .nlas
        .iter()
        .map(|nla| match nla {
            CmdNla::Service(inner) => CmdNla::Service(
                inner
                    .iter()
                    .filter(|n| {
                        matches!(
                            n,
                            ServiceNla::Af(_)
                                | ServiceNla::Protocol(_)
                                | ServiceNla::Addr(_)
                                | ServiceNla::Port(_)
                                | ServiceNla::Fwmark(_)
                        )
                    })
                    .cloned()
                    .collect(),
            ),
            CmdNla::Daemon(inner) => CmdNla::Daemon(
                inner
                    .iter()
                    .filter(|n| matches!(n, DaemonNla::State(_)))
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect();
    IpvsMessage::new(msg.cmd, nlas)
}

/// For DEL_DEST ipvsadm also sends forwarding/weight/... (ignored): keep the key.
fn dest_key_only(msg: &IpvsMessage) -> IpvsMessage {
    let nlas = msg
        .nlas
        .iter()
        .map(|nla| match nla {
            CmdNla::Dest(inner) => CmdNla::Dest(
                inner
                    .iter()
                    .filter(|n| {
                        matches!(
                            n,
                            DestNla::AddrFamily(_) | DestNla::Addr(_) | DestNla::Port(_)
                        )
                    })
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect();
    IpvsMessage::new(msg.cmd, nlas)
}

#[test]
fn every_captured_request_matches_ours() {
    let cases = load();
    assert_eq!(cases.len(), 30, "cases in testdata/ipvsadm-golden.txt");
    for (name, case) in &cases {
        let (expect, flags) = expected(name);
        assert_eq!(case.flags, flags, "{name}: netlink flags");
        // What ipvsadm sent parses, and re-encodes to the same bytes.
        let theirs = IpvsMessage::parse(&case.payload)
            .unwrap_or_else(|e| panic!("{name}: cannot parse ipvsadm's bytes: {e}"));
        assert_eq!(
            to_hex(&theirs.emit().unwrap()),
            to_hex(&case.payload),
            "{name}: parse/emit of ipvsadm's bytes is not the identity"
        );
        match expect {
            Expect::Exact(ours) => assert_eq!(
                to_hex(&ours.emit().unwrap()),
                to_hex(&case.payload),
                "{name} ({}): our bytes differ from ipvsadm's",
                case.cmd_line
            ),
            Expect::KeyOnly(ours) => {
                let mut restricted = key_attributes_only(&theirs);
                if name == "dest_del" {
                    restricted = dest_key_only(&restricted);
                }
                assert_eq!(
                    to_hex(&ours.emit().unwrap()),
                    to_hex(&restricted.emit().unwrap()),
                    "{name} ({}): our bytes differ from ipvsadm's identifying attributes",
                    case.cmd_line
                );
                assert_ne!(ours, theirs, "{name}: should be Exact");
            }
        }
    }
}

/// ipvsadm's service and real server bytes decode to the model values we
/// would have sent (the decode side of the golden test).
#[test]
fn ipvsadm_bytes_decode_to_the_model() {
    let cases = load();
    let service_of = |name: &str| {
        let msg = IpvsMessage::parse(&cases[name].payload).unwrap();
        service_from_nlas(msg.service().unwrap()).unwrap()
    };
    assert_eq!(service_of("svc_add_tcp4_rr"), svc_tcp4_rr());
    assert_eq!(service_of("svc_add_udp4_persistent"), svc_udp4_persistent());
    assert_eq!(service_of("svc_add_sctp4"), svc_sctp4());
    assert_eq!(service_of("svc_add_fwmark4_sh_flags"), svc_fwmark4());
    assert_eq!(service_of("svc_add_fwmark6_mh"), svc_fwmark6());
    assert_eq!(service_of("svc_add_tcp6_wrr"), svc_tcp6());
    assert_eq!(service_of("svc_add_udp4_ops_pe"), svc_udp4_ops_pe());

    let dest_of = |name: &str| {
        let msg = IpvsMessage::parse(&cases[name].payload).unwrap();
        let family = service_from_nlas(msg.service().unwrap())
            .unwrap()
            .key
            .family();
        dest_from_nlas(msg.dest().unwrap(), family).unwrap()
    };
    assert_eq!(dest_of("dest_add_route"), dest_route());
    assert_eq!(dest_of("dest_add_masq_thresholds"), dest_masq());
    assert_eq!(dest_of("dest_add_tun_ipip"), dest_ipip());
    assert_eq!(dest_of("dest_add_tun_gue"), dest_gue());
    assert_eq!(dest_of("dest_add_tun_gre"), dest_gre());
    assert_eq!(dest_of("dest_add_tcp6_masq"), dest6());

    let daemon_of = |name: &str| {
        let msg = IpvsMessage::parse(&cases[name].payload).unwrap();
        wire::daemon_from_nlas(msg.daemon().unwrap()).unwrap()
    };
    assert_eq!(daemon_of("daemon_start_master"), daemon_master());
    assert_eq!(daemon_of("daemon_start_backup_full"), daemon_backup_full());

    let timeouts = IpvsMessage::parse(&cases["timeouts_set"].payload)
        .unwrap()
        .timeouts();
    assert_eq!(
        timeouts,
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }
    );
}

/// Kernel replies captured by `testdata/capture-replies.sh`: block name ->
/// the IPVS messages ipvsadm received, parsed.
fn load_replies() -> BTreeMap<String, Vec<IpvsMessage>> {
    let text = include_str!("../testdata/kernel-replies.txt");
    let mut replies = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut name = String::new();
        let mut messages = Vec::new();
        for line in block.lines() {
            let (key, value) = line.split_once(' ').unwrap();
            match key {
                "reply" => name = value.to_string(),
                "cmd" => {}
                "message" => messages.push(
                    IpvsMessage::parse(&hex(value))
                        .unwrap_or_else(|e| panic!("{name}: kernel message does not parse: {e}")),
                ),
                other => panic!("unknown key {other}"),
            }
        }
        replies.insert(name, messages);
    }
    replies
}

fn replies_with(messages: &[IpvsMessage], cmd: IpvsCmd) -> Vec<&IpvsMessage> {
    messages.iter().filter(|m| m.cmd == cmd).collect()
}

fn zero_stats_service(svc: Service) -> Service {
    Service {
        flags: svc.flags | ServiceFlags::HASHED,
        stats: Some(ipvs::Stats::default()),
        ..svc
    }
}

fn zero_counters_dest(dest: Dest) -> Dest {
    Dest {
        counters: Some(ipvs::DestCounters::default()),
        ..dest
    }
}

#[test]
fn kernel_replies_decode_to_the_model() {
    let replies = load_replies();
    let listing = &replies["info_and_services"];

    let info = replies_with(listing, IpvsCmd::SetInfo)[0].info().unwrap();
    assert_eq!(info.version_triple(), (1, 2, 1));
    assert_eq!(info.conn_table_size, 4096);

    // A service dump: the kernel adds HASHED and both statistics nests.
    let services: Vec<Service> = replies_with(listing, IpvsCmd::NewService)
        .iter()
        .map(|m| service_from_nlas(m.service().unwrap()).unwrap())
        .collect();
    let want = vec![
        zero_stats_service(svc_tcp4_rr()),
        zero_stats_service(svc_tcp6()),
        zero_stats_service(svc_udp4_ops_pe()),
        zero_stats_service(svc_fwmark6()),
    ];
    assert_eq!(services, want);

    let dests_of = |name: &str, family: AddressFamily| -> Vec<Dest> {
        let messages = &replies[name];
        assert_eq!(replies_with(messages, IpvsCmd::NewService).len(), 1);
        replies_with(messages, IpvsCmd::NewDest)
            .iter()
            .map(|m| dest_from_nlas(m.dest().unwrap(), family).unwrap())
            .collect()
    };
    let gre_weight_0 = Dest {
        weight: 0,
        ..dest_gre()
    };
    assert_eq!(
        dests_of("service_tcp4_with_dests", AddressFamily::Inet),
        [
            gre_weight_0,
            dest_gue(),
            dest_ipip(),
            dest_masq(),
            dest_route()
        ]
        .into_iter()
        .map(zero_counters_dest)
        .collect::<Vec<_>>()
    );
    // An IPv4 tunnel real server in an IPv6 service: its own family attribute wins.
    let v4_in_v6 = Dest::new(ip("192.0.2.10"), 443, Forwarding::IPIP, 4);
    assert_eq!(
        dests_of("service_tcp6_mixed_dests", AddressFamily::Inet6),
        [v4_in_v6, dest6()]
            .into_iter()
            .map(zero_counters_dest)
            .collect::<Vec<_>>()
    );

    let timeouts = replies_with(&replies["timeouts"], IpvsCmd::SetConfig)[0].timeouts();
    assert_eq!(
        timeouts,
        Timeouts {
            tcp: 1000,
            tcp_fin: 60,
            udp: 200
        }
    );

    let daemons: Vec<Daemon> = replies_with(&replies["daemons"], IpvsCmd::NewDaemon)
        .iter()
        .map(|m| wire::daemon_from_nlas(m.daemon().unwrap()).unwrap())
        .collect();
    let master_with_kernel_defaults = Daemon {
        max_len: Some(1472),
        group: Some(ip("224.0.0.81")),
        port: Some(8848),
        ttl: Some(1),
        ..daemon_master()
    };
    assert_eq!(daemons, [master_with_kernel_defaults, daemon_backup_full()]);
}
