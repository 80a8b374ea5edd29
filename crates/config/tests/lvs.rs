//! LVS, checker and BFD configuration: the typed model, keepalived's defaults and
//! inheritance, deprecated synonyms, and the (level, line) of diagnostics.

use std::net::IpAddr;

use config::model::lvs::{
    CheckerKind, Family, ForwardingMethod, Granularity, HttpProtocol, Protocol, RealServer,
    TunnelChecksum, TunnelType, VirtualServer, VsAddress,
};
use config::{FakeSystem, Level, LoadOptions, Loaded};

fn host() -> FakeSystem {
    FakeSystem {
        interfaces: vec!["lo".into(), "eth0".into()],
        users: vec![("root".into(), 0, 0)],
        groups: vec![("root".into(), 0)],
        hostname: "lb1".into(),
    }
}

fn load(text: &str) -> Loaded {
    config::load_str("k.conf", text, &LoadOptions::default(), &host())
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

/// (level, line) of every diagnostic that counts (notes excluded); no line = 0.
fn findings(loaded: &Loaded) -> Vec<(Level, u32)> {
    loaded
        .diags
        .items
        .iter()
        .filter(|d| d.level != Level::Note)
        .map(|d| (d.level, d.span.map(|s| s.line).unwrap_or(0)))
        .collect()
}

fn vs(loaded: &Loaded, index: usize) -> &VirtualServer {
    loaded
        .config
        .lvs
        .virtual_servers
        .get(index)
        .expect("virtual server")
}

fn rs(vs: &VirtualServer, index: usize) -> &RealServer {
    vs.real_servers.get(index).expect("real server")
}

#[test]
fn a_complete_virtual_server_is_modelled_without_findings() {
    let loaded = load(
        "virtual_server 192.168.1.10 443 {
    delay_loop 6
    lvs_sched wrr
    lvs_method DR
    protocol tcp
    persistence_timeout 50
    persistence_granularity 255.255.255.0
    quorum 2
    hysteresis 1
    alpha
    omega
    ha_suspend
    virtualhost www.example.com
    sorry_server 192.168.1.99 443
    sorry_server_inhibit
    real_server 192.168.1.1 443 {
        weight 3
        inhibit_on_failure
        uthreshold 100
        lthreshold 10
        TCP_CHECK {
            connect_port 443
            connect_timeout 3.5
        }
    }
    real_server 192.168.1.2 443 {
        weight 2
    }
}
",
    );
    assert_eq!(findings(&loaded), vec![]);
    assert_eq!(loaded.exit_code(), 0);
    let v = vs(&loaded, 0);
    assert_eq!(
        v.address,
        VsAddress::Ip {
            addr: ip("192.168.1.10"),
            port: 443
        }
    );
    assert_eq!(v.family, Some(Family::Inet));
    assert_eq!(v.protocol, Some(Protocol::Tcp));
    assert_eq!(v.scheduler.as_deref(), Some("wrr"));
    assert_eq!(
        v.forwarding.map(|f| f.method),
        Some(ForwardingMethod::DirectRouting)
    );
    assert_eq!(v.persistence.timeout, 50);
    assert_eq!(
        v.persistence.granularity,
        Some(Granularity::V4Mask("255.255.255.0".parse().expect("mask")))
    );
    assert_eq!((v.quorum, v.hysteresis), (2, 1));
    assert!(v.alpha && v.omega && v.ha_suspend);
    assert_eq!(v.delay_loop_us, 6_000_000);
    let sorry = v.sorry_server.as_ref().expect("sorry server");
    assert_eq!(
        (sorry.addr, sorry.port, sorry.inhibit),
        (ip("192.168.1.99"), 443, true)
    );
    let r = rs(v, 0);
    assert_eq!(
        (r.weight, r.upper_threshold, r.lower_threshold),
        (Some(3), 100, 10)
    );
    assert_eq!(r.inhibit_on_failure, Some(true));
    let check = r.checkers.first().expect("checker");
    assert_eq!(check.kind, CheckerKind::Tcp);
    assert_eq!(check.common.connect_port, Some(443));
    assert_eq!(check.common.connect_timeout_us, Some(3_500_000));
}

#[test]
fn deprecated_synonyms_are_accepted() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind TUN
    protocol UDP
    real_server 10.0.0.2 80 {
        HTTP_GET {
            url {
                path /
            }
            nb_get_retry 4
        }
    }
}
",
    );
    let v = vs(&loaded, 0);
    assert_eq!(v.scheduler.as_deref(), Some("rr"));
    assert_eq!(
        v.forwarding.map(|f| f.method),
        Some(ForwardingMethod::Tunnel)
    );
    let check = rs(v, 0).checkers.first().expect("checker");
    assert_eq!(check.common.retry, Some(4));
    // keepalived flags nb_get_retry as a configuration error (exit code 5).
    assert_eq!(findings(&loaded), vec![(Level::GeneralError, 10)]);
    assert_eq!(loaded.exit_code(), 5);
}

#[test]
fn defaults_flow_from_virtual_server_to_real_server_to_checker() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    delay_loop 10
    retry 5
    warmup 2
    delay_before_retry 7
    connect_timeout 4
    weight 9
    alpha
    inhibit_on_failure
    real_server 10.0.0.2 80 {
        delay_loop 20
        TCP_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
            retry 1
        }
    }
    real_server 10.0.0.3 80 {
        weight 1
        alpha off
        MISC_CHECK {
            misc_path /bin/true
        }
        DNS_CHECK {
        }
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![(Level::Security, 0)],
        "only: scripts without enable_script_security"
    );
    let v = vs(&loaded, 0);
    let first = rs(v, 0);
    assert_eq!(first.weight, Some(9), "weight from the virtual server");
    assert_eq!(first.alpha, Some(true));
    assert_eq!(first.inhibit_on_failure, Some(true));
    assert_eq!(first.retry, Some(5));
    assert_eq!(first.delay_loop_us, Some(20_000_000));
    assert_eq!(first.connect_timeout_us, Some(4_000_000));
    let tcp = &first.checkers.first().expect("tcp").common;
    assert_eq!(tcp.retry, Some(5));
    assert_eq!(tcp.delay_loop_us, Some(20_000_000));
    assert_eq!(tcp.warmup_us, Some(2_000_000));
    assert_eq!(tcp.delay_before_retry_us, Some(7_000_000));
    assert_eq!(tcp.connect_timeout_us, Some(4_000_000));
    assert_eq!(tcp.alpha, Some(true));
    let http = &first.checkers.get(1).expect("http").common;
    assert_eq!(http.retry, Some(1), "the checker's own value wins");

    let second = rs(v, 1);
    assert_eq!(second.alpha, Some(false));
    let misc = second.checkers.first().expect("misc");
    let dns = second.checkers.get(1).expect("dns");
    // Without real/virtual server values the kind's defaults apply: MISC retries 0
    // times, DNS 3 times and waits a delay_loop between retries.
    let vs_without_retry = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.3 80 {
        MISC_CHECK {
            misc_path /bin/true
        }
        DNS_CHECK {
        }
        HTTP_GET {
            url {
                path /
            }
        }
    }
}
",
    );
    let r = rs(vs(&vs_without_retry, 0), 0);
    let kinds: Vec<(Option<u32>, Option<u64>)> = r
        .checkers
        .iter()
        .map(|c| (c.common.retry, c.common.delay_before_retry_us))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Some(0), Some(1_000_000)),
            (Some(3), Some(60_000_000)),
            (Some(1), Some(3_000_000)),
        ]
    );
    assert!(matches!(misc.kind, CheckerKind::Misc { .. }));
    assert!(
        matches!(&dns.kind, CheckerKind::Dns { query_type, name } if query_type == "SOA" && name.is_empty())
    );
}

#[test]
fn missing_protocol_scheduler_and_method_get_keepalived_defaults_with_errors() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    real_server 10.0.0.2 80 {
    }
}
",
    );
    let v = vs(&loaded, 0);
    assert_eq!(v.protocol, Some(Protocol::Udp));
    assert_eq!(v.scheduler.as_deref(), Some("wlc"));
    assert_eq!(v.forwarding.map(|f| f.method), Some(ForwardingMethod::Nat));
    assert_eq!(
        rs(v, 0).forwarding.map(|f| f.method),
        Some(ForwardingMethod::Nat)
    );
    // Reported after reading, without a line, as keepalived does.
    assert_eq!(
        findings(&loaded),
        vec![
            (Level::GeneralError, 0),
            (Level::GeneralError, 0),
            (Level::GeneralError, 0)
        ]
    );
    assert_eq!(loaded.exit_code(), 5);
}

#[test]
fn handler_errors_are_reported_at_their_line_with_keepalived_levels() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo fastest
    lvs_method NAT
    quorum 0
    real_server 10.0.0.2 80 {
        weight -1
        lvs_method TUN type gue
        TCP_CHECK {
            connect_port 0
        }
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![
            (Level::GeneralError, 3),
            (Level::InvalidNumber, 5),
            (Level::GeneralError, 5),
            (Level::InvalidNumber, 7),
            (Level::GeneralError, 7),
            (Level::GeneralError, 8),
            (Level::InvalidNumber, 10),
            (Level::GeneralError, 10),
            // no scheduler after the invalid one
            (Level::GeneralError, 0),
        ]
    );
    let v = vs(&loaded, 0);
    assert_eq!(v.quorum, 1, "an invalid quorum is set to 1");
    // The method is taken even though the tunnel options were rejected.
    assert_eq!(
        rs(v, 0).forwarding.map(|f| (f.method, f.tunnel_type)),
        Some((ForwardingMethod::Tunnel, TunnelType::Ipip))
    );
}

#[test]
fn tunnel_options() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method TUN type gue port 6080 csum
    real_server 10.0.0.2 80 {
    }
    real_server 10.0.0.3 80 {
        lvs_method TUN type gre remcsum
    }
}
",
    );
    assert_eq!(findings(&loaded), vec![(Level::GeneralError, 8)]);
    let v = vs(&loaded, 0);
    let f = rs(v, 0).forwarding.expect("inherited");
    assert_eq!(
        (f.tunnel_type, f.tunnel_port, f.tunnel_checksum),
        (TunnelType::Gue, 6080, TunnelChecksum::Csum)
    );
}

#[test]
fn invalid_servers_are_skipped_with_their_block() {
    let loaded = load(
        "virtual_server 10.0.0.300 80 {
    protocol TCP
    real_server 10.0.0.2 80 {
    }
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.x 80 {
        weight 5
    }
    real_server 10.0.0.2 80 {
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![(Level::GeneralError, 1), (Level::GeneralError, 10)]
    );
    assert_eq!(loaded.config.lvs.virtual_servers.len(), 1);
    assert_eq!(vs(&loaded, 0).real_servers.len(), 1);
}

#[test]
fn real_server_checks_after_reading() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method DR
    quorum 5
    sorry_server 10.0.0.2 80
    real_server 10.0.0.2 80 {
        inhibit_on_failure
    }
    real_server 10.0.0.2 80 {
    }
    real_server 10.0.0.3 8080 {
    }
    real_server 10.0.0.4 {
    }
}
virtual_server 10.0.0.9 80 {
    protocol TCP
}
",
    );
    let v = vs(&loaded, 0);
    // duplicate removed, sorry server inhibit aligned, quorum reduced to 3, ports set
    // to the virtual server's (DR).
    assert_eq!(v.real_servers.len(), 3);
    assert_eq!(v.sorry_server.as_ref().map(|s| s.inhibit), Some(true));
    assert_eq!(v.quorum, 3);
    assert_eq!(v.hysteresis, 0);
    let ports: Vec<u16> = v.real_servers.iter().map(|r| r.port).collect();
    assert_eq!(ports, vec![80, 80, 80]);
    assert_eq!(
        loaded.config.lvs.virtual_servers.len(),
        1,
        "no real servers"
    );
    // duplicate, inhibit, quorum, port mismatch, empty virtual server (+ its scheduler
    // is never checked): all without a line.
    assert_eq!(findings(&loaded), vec![(Level::GeneralError, 0); 5]);
}

#[test]
fn fwmark_and_group_virtual_servers() {
    let loaded = load(
        "virtual_server_group web {
    10.0.0.1 80
    10.0.0.10-20 80
    10.0.1.0/24 80
    fwmark 7 inet
}
virtual_server_group empty {
}
virtual_server group web {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.2 80 {
    }
}
virtual_server fwmark 3 {
    protocol TCP
    lvs_sched rr
    lvs_method DR
    real_server 10.0.0.2 80 {
    }
}
",
    );
    let groups = &loaded.config.lvs.virtual_server_groups;
    assert_eq!(groups.len(), 1, "the empty group is removed");
    let web = groups.first().expect("group");
    let ranges: Vec<(IpAddr, IpAddr, u16)> = web
        .ranges
        .iter()
        .map(|r| (r.start, r.end, r.port))
        .collect();
    assert_eq!(
        ranges,
        vec![
            (ip("10.0.0.1"), ip("10.0.0.1"), 80),
            (ip("10.0.0.10"), ip("10.0.0.20"), 80),
            (ip("10.0.1.0"), ip("10.0.1.255"), 80),
        ]
    );
    assert_eq!(
        web.fwmarks.first().map(|f| (f.mark, f.family)),
        Some((7, Some(Family::Inet)))
    );
    assert_eq!(vs(&loaded, 0).address, VsAddress::Group("web".into()));
    let fw = vs(&loaded, 1);
    assert_eq!(fw.address, VsAddress::Fwmark { mark: 3 });
    assert_eq!(fw.protocol, None, "protocol is ignored for fwmark services");
    assert_eq!(rs(fw, 0).port, 0, "port cleared for fwmark + DR");
    // empty group at its closing line; protocol-for-fwmark and port cleared after reading
    assert_eq!(
        findings(&loaded),
        vec![
            (Level::GeneralError, 8),
            (Level::GeneralError, 0),
            (Level::GeneralError, 0)
        ]
    );
}

#[test]
fn checker_kinds_are_modelled() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.2 80 {
        SSL_GET {
            url {
                path /health
                digest 0123456789abcdef0123456789ABCDEF
                status_code 200 300-302
                virtualhost a.example
            }
            http_protocol 1.1
            enable_sni
            fast_recovery
        }
        SMTP_CHECK {
            helo_name mx.example
            host {
                connect_ip 10.0.0.7
                connect_port 25
            }
        }
        UDP_CHECK {
            payload 01 02 ff
            require_reply 0a xX
            min_reply_length 2
        }
        PING_CHECK {
        }
        DNS_CHECK {
            type aaaa
            name example.com
        }
        MISC_CHECK {
            misc_path \"/usr/bin/echo 'a b'\"
            misc_timeout 5
            misc_dynamic
            user root
        }
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![(Level::Security, 0)],
        "only: scripts without enable_script_security"
    );
    let checkers = &rs(vs(&loaded, 0), 0).checkers;
    let kinds: Vec<&str> = checkers.iter().map(|c| c.kind.keyword()).collect();
    assert_eq!(
        kinds,
        vec![
            "SSL_GET",
            "SMTP_CHECK",
            "UDP_CHECK",
            "PING_CHECK",
            "DNS_CHECK",
            "MISC_CHECK"
        ]
    );
    let Some(CheckerKind::Http {
        ssl,
        urls,
        protocol,
        enable_sni,
        fast_recovery,
        ..
    }) = checkers.first().map(|c| &c.kind)
    else {
        panic!("SSL_GET expected");
    };
    assert!(*ssl && *enable_sni && *fast_recovery);
    assert_eq!(*protocol, HttpProtocol::Http11);
    let url = urls.first().expect("url");
    assert_eq!(url.path, "/health");
    assert_eq!(url.status_codes, vec![(200, 200), (300, 302)]);
    assert_eq!(url.digest.map(|d| d[15]), Some(0xef));
    let Some(CheckerKind::Smtp { helo_name, hosts }) = checkers.get(1).map(|c| &c.kind) else {
        panic!("SMTP_CHECK expected");
    };
    assert_eq!(helo_name.as_deref(), Some("mx.example"));
    assert_eq!(
        hosts.first().map(|h| (h.connect_ip, h.connect_port)),
        Some((Some(ip("10.0.0.7")), Some(25)))
    );
    let Some(CheckerKind::Udp {
        payload,
        reply,
        min_reply_length,
        ..
    }) = checkers.get(2).map(|c| &c.kind)
    else {
        panic!("UDP_CHECK expected");
    };
    assert_eq!(payload.as_deref(), Some(&[1u8, 2, 0xff][..]));
    assert_eq!(reply.as_deref(), Some(&[(0x0a, 0), (0, 0xff)][..]));
    assert_eq!(*min_reply_length, 2);
    assert!(
        matches!(checkers.get(4).map(|c| &c.kind), Some(CheckerKind::Dns { query_type, name }) if query_type == "AAAA" && name == "example.com")
    );
    let Some(CheckerKind::Misc {
        script,
        timeout_secs,
        dynamic,
    }) = checkers.get(5).map(|c| &c.kind)
    else {
        panic!("MISC_CHECK expected");
    };
    assert_eq!(script.args, vec!["/usr/bin/echo", "a b"]);
    assert_eq!(script.user.as_deref(), Some("root"));
    assert_eq!((*timeout_secs, *dynamic), (5, true));
}

#[test]
fn checker_block_end_errors_are_at_the_closing_line() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.2 80 {
        TCP_CHECK {
            connect_ip fe80::2
        }
        HTTP_GET {
        }
        MISC_CHECK {
        }
        MISC_CHECK {
            misc_path /bin/true
            user nosuchuser
        }
        FILE_CHECK {
        }
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![
            (Level::GeneralError, 8),
            (Level::GeneralError, 10),
            (Level::GeneralError, 12),
            (Level::GeneralError, 18),
            (Level::GeneralError, 15),
        ]
    );
    assert!(rs(vs(&loaded, 0), 0).checkers.is_empty());
}

#[test]
fn misc_check_users_of_a_dropped_real_server_are_still_checked() {
    // keepalived resolves the user while parsing, before the real server is dropped
    // for its address family.
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server fe80::2 80 {
        MISC_CHECK {
            misc_path /bin/true
            user nosuchuser
        }
    }
    real_server 10.0.0.2 80 {
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![(Level::GeneralError, 10), (Level::GeneralError, 8)]
    );
}

#[test]
fn bfd_instances_and_bfd_checks() {
    let loaded = load(
        "bfd_instance b1 {
    neighbor_ip 10.0.0.2
    source_ip 10.0.0.1
    min_rx 50
    min_tx 20.5
    idle_tx 2000
    multiplier 3
    max_hops 300
}
bfd_instance b2 {
    min_rx 5
}
bfd_instance b1 {
    neighbor_ip 10.0.0.3
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.2 80 {
        BFD_CHECK {
            name b1
        }
        BFD_CHECK {
            name nope
        }
    }
}
",
    );
    let bfd = &loaded.config.bfd;
    assert_eq!(bfd.instances.len(), 1);
    let b1 = bfd.instances.first().expect("b1");
    assert_eq!(b1.neighbor, ip("10.0.0.2"));
    assert_eq!(b1.source, Some(ip("10.0.0.1")));
    assert_eq!(
        (b1.min_rx_us, b1.min_tx_us, b1.idle_tx_us),
        (50_000, 20_500, 2_000_000)
    );
    assert_eq!((b1.multiplier, b1.ttl), (3, 255));
    assert_eq!(
        bfd.checker_tracked,
        vec!["b1".to_string(), "b2".to_string()]
    );
    let checkers = &rs(vs(&loaded, 0), 0).checkers;
    assert_eq!(checkers.len(), 1);
    // Reported pass by pass (checker, VRRP, BFD), as keepalived -t does.
    let mut found = findings(&loaded);
    found.sort_by_key(|(level, line)| (*line, *level));
    assert_eq!(
        found,
        vec![
            (Level::InvalidNumber, 8),
            (Level::GeneralError, 8),
            (Level::GeneralError, 12),
            // b1 again: the BFD process and the VRRP/checker processes each object
            (Level::GeneralError, 13),
            (Level::GeneralError, 13),
            (Level::GeneralError, 13),
            (Level::GeneralError, 25),
        ]
    );
}

#[test]
fn ssl_block() {
    let loaded = load(
        "SSL {
    password secret
    ca /etc/ca.pem
    certificate /etc/cert.pem
    key /etc/key.pem
    key /etc/other.pem
}
",
    );
    let ssl = loaded.config.lvs.ssl.as_ref().expect("ssl");
    assert_eq!(ssl.password.as_deref(), Some("secret"));
    assert_eq!(ssl.key_file.as_deref(), Some("/etc/other.pem"));
    assert_eq!(findings(&loaded), vec![(Level::GeneralError, 6)]);
}

#[test]
fn keepalived_quirks_are_kept() {
    let loaded = load(
        "virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    sh-port
    quorum_up /bin/true nosuchuser
    quorum_up /usr/bin/true
    real_server 10.0.0.2 80 {
        DNS_CHECK {
            name a.example.com
        }
        TCP_CHECK {
            connect_ip bogus
        }
    }
}
",
    );
    assert_eq!(
        findings(&loaded),
        vec![
            // sh-port needs lvs_sched sh
            (Level::GeneralError, 5),
            // keepalived's label test rejects a one-character first label
            (Level::GeneralError, 10),
            (Level::GeneralError, 13),
            // scripts without enable_script_security
            (Level::Security, 0),
        ],
        "the second quorum_up is no duplicate: the first one had no valid user"
    );
    let v = vs(&loaded, 0);
    assert_eq!(
        v.quorum_up.as_ref().map(|s| s.args.clone()),
        Some(vec!["/usr/bin/true".to_string()])
    );
    assert!(!v.scheduler_flags.sh_port);
    // The TCP_CHECK stays: its destination is cleared, not the real server's.
    assert_eq!(rs(v, 0).checkers.len(), 2);
}

#[test]
fn file_check_uses_track_files_defined_before() {
    let loaded = load(
        "track_file tf1 {
    file /tmp/keepalived-lvs-test-tf1
    weight -7 reverse
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server 10.0.0.2 80 {
        FILE_CHECK {
            track_file tf1
        }
        FILE_CHECK {
            track_file tf1
            weight 3
        }
        FILE_CHECK {
            track_file tf2
        }
    }
}
track_file tf2 {
    file /tmp/keepalived-lvs-test-tf2
}
",
    );
    // tf2 is defined after its use: keepalived does not find it.
    assert_eq!(
        findings(&loaded),
        vec![(Level::GeneralError, 18), (Level::GeneralError, 19)]
    );
    let files: Vec<(String, Option<i32>, bool)> = rs(vs(&loaded, 0), 0)
        .checkers
        .iter()
        .filter_map(|c| match &c.kind {
            CheckerKind::File {
                track_file,
                weight,
                reverse,
            } => Some((track_file.clone(), *weight, *reverse)),
            _ => None,
        })
        .collect();
    assert_eq!(
        files,
        vec![
            ("tf1".to_string(), Some(-7), true),
            ("tf1".to_string(), Some(3), false),
        ]
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const KEYWORDS: &[&str] = &[
        "lvs_sched",
        "lvs_method",
        "protocol",
        "quorum",
        "hysteresis",
        "persistence_timeout",
        "persistence_granularity",
        "sorry_server",
        "sorry_server_lvs_method",
        "ip_family",
        "weight",
        "delay_loop",
        "connect_ip",
        "connect_port",
        "bindto",
        "bind_if",
        "retry",
        "url",
        "path",
        "digest",
        "status_code",
        "payload",
        "require_reply",
        "name",
        "type",
        "misc_path",
        "user",
        "track_file",
        "helo_name",
        "host",
        "}",
        "{",
    ];
    const WORDS: &[&str] = &[
        "",
        "0",
        "-1",
        "80",
        "65536",
        "x",
        "TUN",
        "type",
        "gue",
        "port",
        "csum",
        "fe80::1",
        "10.0.0.1",
        "10.0.0.1-5",
        "10.0.0.0/24",
        "1.0",
        "3X",
        "a..b",
        "/bin/true",
        "root",
        "\"a b\"",
        "255.255.255.0",
        "inet6",
    ];

    fn line() -> impl Strategy<Value = String> {
        (
            prop::sample::select(KEYWORDS),
            prop::collection::vec(prop::sample::select(WORDS), 0..4),
        )
            .prop_map(|(k, args)| format!("{k} {}", args.join(" ")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever is written inside the LVS blocks, loading never panics and every
        /// finding has a sensible line.
        #[test]
        fn any_lines_inside_lvs_blocks_load(
            vs_lines in prop::collection::vec(line(), 0..8),
            rs_lines in prop::collection::vec(line(), 0..8),
            checker in prop::sample::select(&["TCP_CHECK", "HTTP_GET", "SMTP_CHECK", "UDP_CHECK", "DNS_CHECK", "MISC_CHECK", "FILE_CHECK", "BFD_CHECK"][..]),
            ck_lines in prop::collection::vec(line(), 0..8),
        ) {
            let text = format!(
                "virtual_server 10.0.0.1 80 {{\n{}\nreal_server 10.0.0.2 80 {{\n{}\n{checker} {{\n{}\n}}\n}}\n}}\n",
                vs_lines.join("\n"),
                rs_lines.join("\n"),
                ck_lines.join("\n"),
            );
            let loaded = load(&text);
            let last_line = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
            for d in &loaded.diags.items {
                if let Some(span) = d.span {
                    prop_assert!(span.line >= 1 && span.line <= last_line);
                }
            }
        }
    }
}

#[test]
fn virtual_server_group_without_brace_or_with_extra_words_aborts() {
    // keepalived hands alloc_value_block() a word list without the keyword, so where
    // it would name the block (missing '{', extra parameters) it aborts instead.
    for (text, line) in [
        ("virtual_server_group fred\n  10.0.0.1 80\n}\n", 2),
        ("virtual_server_group fred x {\n  10.0.0.1 80\n}\n", 1),
    ] {
        let loaded = load(text);
        // (Without its '{' the block's lines are unknown keywords in the other passes.)
        let aborts: Vec<_> = findings(&loaded)
            .into_iter()
            .filter(|(level, _)| *level == Level::MissingParameter)
            .collect();
        assert_eq!(aborts, vec![(Level::MissingParameter, line)]);
        assert_eq!(loaded.exit_code(), 2);
    }
}
