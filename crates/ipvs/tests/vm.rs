//! Kernel tests: every operation against a real `ip_vs`, cross-checked with
//! ipvsadm. They flush the IPVS table, so they run only inside the ipvs-vm
//! guest (`IPVS_VM=1`, see `run-vm-tests.sh`) or with
//! `IPVS_TESTS_ALLOW_HOST=1`; elsewhere each test prints why it skipped.
//! `IPVS_VM_TESTS_REQUIRED=1` turns a skip into a failure.
//!
//! The central check is differential: the same object is created once with
//! ipvsadm and once with this crate, and `ipvsadm -Ln` / `ipvsadm -S -n`
//! must print the same, and our GET must decode both to the model value.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::time::Duration;

use ipvs::{
    AddressFamily, Daemon, DaemonState, Dest, DestKey, Error, Forwarding, Ipvs, IpvsCmd, Netmask,
    Protocol, SCHEDULERS, Service, ServiceFlags, ServiceKey, Target, Timeouts, TunnelFlags,
    TunnelType,
};

type Env = lab::ipvs_vm::VmTest<Ipvs>;

/// The kernel table to `test` alone, empty (services and sync daemons).
fn env(test: &str) -> Option<Env> {
    let mut env = lab::ipvs_vm::enter(test, Ipvs::connect)?;
    env.ipvs.flush().unwrap();
    for daemon in env.ipvs.daemons().unwrap() {
        env.ipvs.del_daemon(daemon.state).unwrap();
    }
    Some(env)
}

fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new("ipvsadm").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ipvsadm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `ipvsadm -Ln` and `ipvsadm -S -n`: what an operator sees.
fn table() -> (String, String) {
    (ipvsadm(&["-Ln"]), ipvsadm(&["-S", "-n"]))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(protocol: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol,
        addr: ip(addr),
        port,
    }
}

fn fwmark(family: AddressFamily, mark: u32) -> ServiceKey {
    ServiceKey::Fwmark { family, mark }
}

/// ipvsadm and we create `svc`: same listing, and GET gives `svc` back.
fn check_service_like_ipvsadm(env: &mut Env, args: &[&str], svc: &Service) {
    env.ipvs.flush().unwrap();
    ipvsadm(args);
    let theirs = table();
    let got = env.ipvs.services().unwrap();
    assert_eq!(got.len(), 1, "{args:?}");
    assert!(
        svc.same_config(&got[0]),
        "{args:?}: GET of ipvsadm's service\n  got  {:?}\n  want {svc:?}",
        got[0]
    );

    env.ipvs.flush().unwrap();
    env.ipvs.add_service(svc).unwrap();
    assert_eq!(table(), theirs, "{args:?}: ipvsadm -Ln / -S -n differ");
    let got = env.ipvs.services().unwrap();
    assert_eq!(got.len(), 1);
    assert!(svc.same_config(&got[0]), "{:?} vs {svc:?}", got[0]);
    assert!(got[0].flags.contains(ServiceFlags::HASHED));
    assert!(got[0].stats.is_some(), "GET returns statistics");
    let one = env.ipvs.service(&svc.key).unwrap();
    assert!(svc.same_config(&one));
}

#[test]
fn info_matches_ipvsadm_header() {
    let Some(mut env) = env("info_matches_ipvsadm_header") else {
        return;
    };
    let info = env.ipvs.info().unwrap();
    let (major, minor, patch) = info.version_triple();
    let header = format!(
        "IP Virtual Server version {major}.{minor}.{patch} (size={})",
        info.conn_table_size
    );
    let listed = ipvsadm(&["-Ln"]);
    assert_eq!(listed.lines().next(), Some(header.as_str()));
    assert_eq!(info.version, 0x010201);
}

#[test]
fn services_of_every_kind_match_ipvsadm() {
    let Some(mut env) = env("services_of_every_kind_match_ipvsadm") else {
        return;
    };
    let tcp4 = Service::new(key(Protocol::Tcp, "10.0.0.1", 80), "rr");
    check_service_like_ipvsadm(&mut env, &["-A", "-t", "10.0.0.1:80", "-s", "rr"], &tcp4);
    assert_eq!(ipvsadm(&["-S", "-n"]), "-A -t 10.0.0.1:80 -s rr\n");

    let udp_persistent = Service {
        netmask: Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)),
        ..Service::new(key(Protocol::Udp, "10.0.0.1", 53), "wlc").persistent(300)
    };
    check_service_like_ipvsadm(
        &mut env,
        &[
            "-A",
            "-u",
            "10.0.0.1:53",
            "-s",
            "wlc",
            "-p",
            "300",
            "-M",
            "255.255.255.0",
        ],
        &udp_persistent,
    );

    let sctp = Service::new(key(Protocol::Sctp, "10.0.0.2", 9000), "lc");
    check_service_like_ipvsadm(
        &mut env,
        &["-A", "--sctp-service", "10.0.0.2:9000", "-s", "lc"],
        &sctp,
    );

    let fwm4 = Service::new(fwmark(AddressFamily::Inet, 42), "sh")
        .with_flags(ServiceFlags::SH_FALLBACK | ServiceFlags::SH_PORT);
    check_service_like_ipvsadm(
        &mut env,
        &["-A", "-f", "42", "-s", "sh", "-b", "sh-fallback,sh-port"],
        &fwm4,
    );
    assert_eq!(
        ipvsadm(&["-S", "-n"]),
        "-A -f 42 -s sh -b sh-fallback,sh-port\n"
    );

    let fwm6 = Service {
        netmask: Netmask::V6Prefix(64),
        ..Service::new(fwmark(AddressFamily::Inet6, 43), "mh")
            .with_flags(ServiceFlags::MH_FALLBACK | ServiceFlags::MH_PORT)
            .persistent(60)
    };
    check_service_like_ipvsadm(
        &mut env,
        &[
            "-A",
            "-f",
            "43",
            "-6",
            "-s",
            "mh",
            "-b",
            "mh-fallback,mh-port",
            "-p",
            "60",
            "-M",
            "64",
        ],
        &fwm6,
    );

    let tcp6 = Service::new(key(Protocol::Tcp, "2001:db8::1", 443), "wrr");
    check_service_like_ipvsadm(
        &mut env,
        &["-A", "-t", "[2001:db8::1]:443", "-s", "wrr"],
        &tcp6,
    );
    assert_eq!(ipvsadm(&["-S", "-n"]), "-A -t [2001:db8::1]:443 -s wrr\n");

    let ops_pe = Service {
        pe_name: Some("sip".into()),
        ..Service::new(key(Protocol::Udp, "10.0.0.3", 5060), "rr")
            .with_flags(ServiceFlags::ONE_PACKET)
            .persistent(100)
    };
    check_service_like_ipvsadm(
        &mut env,
        &[
            "-A",
            "-u",
            "10.0.0.3:5060",
            "-s",
            "rr",
            "-o",
            "-p",
            "100",
            "--pe",
            "sip",
        ],
        &ops_pe,
    );
}

#[test]
fn edit_and_delete_service() {
    let Some(mut env) = env("edit_and_delete_service") else {
        return;
    };
    let k = key(Protocol::Tcp, "10.0.0.1", 80);
    env.ipvs.add_service(&Service::new(k, "rr")).unwrap();
    let edited = Service::new(k, "wlc").persistent(120);
    env.ipvs.edit_service(&edited).unwrap();
    let ours = table();
    assert!(env.ipvs.service(&k).unwrap().same_config(&edited));

    env.ipvs.flush().unwrap();
    ipvsadm(&["-A", "-t", "10.0.0.1:80", "-s", "rr"]);
    ipvsadm(&["-E", "-t", "10.0.0.1:80", "-s", "wlc", "-p", "120"]);
    assert_eq!(table(), ours);

    env.ipvs.del_service(&k).unwrap();
    assert!(env.ipvs.services().unwrap().is_empty());
    assert_eq!(ipvsadm(&["-S", "-n"]), "");
    let again = env.ipvs.del_service(&k).unwrap_err();
    assert!(
        matches!(
            &again,
            Error::NotFound { cmd: IpvsCmd::DelService, target: Target::Service(t), .. } if *t == k
        ),
        "{again:?}"
    );
    assert!(matches!(env.ipvs.service(&k), Err(Error::NotFound { .. })));
    assert!(matches!(
        env.ipvs.edit_service(&edited),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn all_schedulers() {
    let Some(mut env) = env("all_schedulers") else {
        return;
    };
    let mut saved = String::new();
    for (port, scheduler) in (8000u16..).zip(SCHEDULERS) {
        let svc = Service::new(key(Protocol::Tcp, "10.0.0.9", port), scheduler);
        match env.ipvs.add_service(&svc) {
            Ok(()) => saved.push_str(&format!("-A -t 10.0.0.9:{port} -s {scheduler}\n")),
            // ip_vs_twos appeared in Linux 6.2; the guest runs 6.1.
            Err(Error::NotFound { cmd, .. }) if scheduler == "twos" => {
                assert_eq!(cmd, IpvsCmd::NewService);
                eprintln!("scheduler twos: module not available in this kernel (NotFound)");
            }
            Err(e) => panic!("scheduler {scheduler}: {e}"),
        }
    }
    let got = env.ipvs.services().unwrap();
    assert!(got.len() >= 13, "{got:?}");
    for svc in &got {
        let ServiceKey::Addr { port, .. } = svc.key else {
            panic!("{svc:?}")
        };
        let index = usize::from(port - 8000);
        assert_eq!(svc.scheduler, SCHEDULERS[index]);
    }
    let mut listed: Vec<_> = ipvsadm(&["-S", "-n"]).lines().map(String::from).collect();
    let mut want: Vec<_> = saved.lines().map(String::from).collect();
    listed.sort();
    want.sort();
    assert_eq!(listed, want);

    let unknown = Service::new(key(Protocol::Tcp, "10.0.0.9", 9999), "nosuch");
    assert!(matches!(
        env.ipvs.add_service(&unknown),
        Err(Error::NotFound {
            cmd: IpvsCmd::NewService,
            ..
        })
    ));
}

/// ipvsadm and we add `dest` to `svc`: same listing, GET gives `dest` back.
fn check_dest_like_ipvsadm(env: &mut Env, svc: &Service, args: &[&str], dest: &Dest) {
    env.ipvs.flush().unwrap();
    env.ipvs.add_service(svc).unwrap();
    ipvsadm(args);
    let theirs = table();
    let got = env.ipvs.dests(&svc.key).unwrap();
    assert_eq!(got.len(), 1, "{args:?}");
    assert!(
        dest.same_config(&got[0]),
        "{args:?}: GET of ipvsadm's real server\n  got  {:?}\n  want {dest:?}",
        got[0]
    );
    assert!(got[0].counters.is_some());

    env.ipvs.flush().unwrap();
    env.ipvs.add_service(svc).unwrap();
    env.ipvs.add_dest(&svc.key, dest).unwrap();
    assert_eq!(table(), theirs, "{args:?}: ipvsadm -Ln / -S -n differ");
    let got = env.ipvs.dests(&svc.key).unwrap();
    assert_eq!(got.len(), 1);
    assert!(dest.same_config(&got[0]), "{:?} vs {dest:?}", got[0]);
}

#[test]
fn real_servers_of_every_forwarding_method_match_ipvsadm() {
    let Some(mut env) = env("real_servers_of_every_forwarding_method_match_ipvsadm") else {
        return;
    };
    let svc = Service::new(key(Protocol::Tcp, "10.0.0.1", 80), "rr");
    let t = "10.0.0.1:80";
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &["-a", "-t", t, "-r", "127.0.0.2:80", "-g", "-w", "1"],
        &Dest::new(ip("127.0.0.2"), 80, Forwarding::Route, 1),
    );
    assert_eq!(
        ipvsadm(&["-S", "-n"]),
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 127.0.0.2:80 -g -w 1\n"
    );
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &[
            "-a",
            "-t",
            t,
            "-r",
            "127.0.0.3:8080",
            "-m",
            "-w",
            "5",
            "-x",
            "100",
            "-y",
            "10",
        ],
        &Dest {
            upper_threshold: 100,
            lower_threshold: 10,
            ..Dest::new(ip("127.0.0.3"), 8080, Forwarding::Masq, 5)
        },
    );
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &["-a", "-t", t, "-r", "127.0.0.4", "-i", "-w", "2"],
        &Dest::new(ip("127.0.0.4"), 80, Forwarding::IPIP, 2),
    );
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &[
            "-a",
            "-t",
            t,
            "-r",
            "127.0.0.5",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6080",
            "--tun-csum",
        ],
        &Dest::new(
            ip("127.0.0.5"),
            80,
            Forwarding::Tunnel {
                kind: TunnelType::Gue { port: 6080 },
                flags: TunnelFlags::CSUM,
            },
            1,
        ),
    );
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &[
            "-a",
            "-t",
            t,
            "-r",
            "127.0.0.5",
            "-i",
            "--tun-type",
            "gue",
            "--tun-port",
            "6081",
            "--tun-remcsum",
        ],
        &Dest::new(
            ip("127.0.0.5"),
            80,
            Forwarding::Tunnel {
                kind: TunnelType::Gue { port: 6081 },
                flags: TunnelFlags::REMCSUM,
            },
            1,
        ),
    );
    check_dest_like_ipvsadm(
        &mut env,
        &svc,
        &[
            "-a",
            "-t",
            t,
            "-r",
            "127.0.0.6",
            "-i",
            "--tun-type",
            "gre",
            "--tun-csum",
        ],
        &Dest::new(
            ip("127.0.0.6"),
            80,
            Forwarding::Tunnel {
                kind: TunnelType::Gre,
                flags: TunnelFlags::CSUM,
            },
            1,
        ),
    );

    let svc6 = Service::new(key(Protocol::Tcp, "2001:db8::1", 443), "wrr");
    check_dest_like_ipvsadm(
        &mut env,
        &svc6,
        &[
            "-a",
            "-t",
            "[2001:db8::1]:443",
            "-r",
            "[2001:db8::10]:443",
            "-m",
            "-w",
            "3",
        ],
        &Dest::new(ip("2001:db8::10"), 443, Forwarding::Masq, 3),
    );

    let fwm = Service::new(fwmark(AddressFamily::Inet, 42), "sh");
    check_dest_like_ipvsadm(
        &mut env,
        &fwm,
        &["-a", "-f", "42", "-r", "127.0.0.7", "-g", "-w", "0"],
        &Dest::new(ip("127.0.0.7"), 0, Forwarding::Route, 0),
    );
}

#[test]
fn edit_delete_and_mixed_family_real_servers() {
    let Some(mut env) = env("edit_delete_and_mixed_family_real_servers") else {
        return;
    };
    let k = key(Protocol::Tcp, "10.0.0.1", 80);
    env.ipvs.add_service(&Service::new(k, "wlc")).unwrap();
    let masq = Dest::new(ip("127.0.0.3"), 8080, Forwarding::Masq, 5);
    let route = Dest::new(ip("127.0.0.2"), 80, Forwarding::Route, 1);
    env.ipvs.add_dest(&k, &masq).unwrap();
    env.ipvs.add_dest(&k, &route).unwrap();

    let duplicate = env.ipvs.add_dest(&k, &masq).unwrap_err();
    assert!(
        matches!(&duplicate, Error::AlreadyExists { cmd: IpvsCmd::NewDest, target: Target::Dest(s, d) } if *s == k && *d == masq.key()),
        "{duplicate:?}"
    );
    assert_eq!(
        duplicate.to_string(),
        "IPVS_CMD_NEW_DEST service TCP 10.0.0.1:80 real server 127.0.0.3:8080: already exists"
    );

    let edited = Dest {
        upper_threshold: 50,
        lower_threshold: 5,
        ..Dest::new(ip("127.0.0.3"), 8080, Forwarding::Masq, 9)
    };
    env.ipvs.edit_dest(&k, &edited).unwrap();
    let mut got = env.ipvs.dests(&k).unwrap();
    got.sort_by_key(Dest::key);
    assert_eq!(got.len(), 2);
    assert!(got[0].same_config(&route), "{:?}", got[0]);
    assert!(got[1].same_config(&edited), "{:?}", got[1]);
    // ipvsadm -S does not save thresholds; -Ln --thresholds shows them.
    let saved = ipvsadm(&["-S", "-n"]);
    assert!(
        saved.contains("-a -t 10.0.0.1:80 -r 127.0.0.3:8080 -m -w 9\n"),
        "{saved}"
    );
    let thresholds = ipvsadm(&["-Ln", "--thresholds"]);
    assert!(
        thresholds.lines().any(|l| l.split_whitespace().take(4).eq([
            "->",
            "127.0.0.3:8080",
            "50",
            "5"
        ])),
        "{thresholds}"
    );

    env.ipvs.del_dest(&k, &masq.key()).unwrap();
    let got = env.ipvs.dests(&k).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].same_config(&route));
    assert!(matches!(
        env.ipvs.del_dest(&k, &masq.key()),
        Err(Error::NotFound {
            cmd: IpvsCmd::DelDest,
            ..
        })
    ));
    assert!(matches!(
        env.ipvs.edit_dest(&k, &masq),
        Err(Error::NotFound {
            cmd: IpvsCmd::SetDest,
            ..
        })
    ));

    // A real server on a service that does not exist.
    let missing = key(Protocol::Udp, "10.9.9.9", 1);
    assert!(matches!(
        env.ipvs.add_dest(&missing, &route),
        Err(Error::NotFound {
            cmd: IpvsCmd::NewDest,
            ..
        })
    ));
    assert!(env.ipvs.dests(&missing).unwrap().is_empty());

    // Mixed families need tunnelling (kernel: EINVAL otherwise).
    let k6 = key(Protocol::Tcp, "2001:db8::1", 80);
    env.ipvs.add_service(&Service::new(k6, "rr")).unwrap();
    let v4_masq = Dest::new(ip("192.0.2.10"), 80, Forwarding::Masq, 1);
    assert!(matches!(
        env.ipvs.add_dest(&k6, &v4_masq),
        Err(Error::InvalidArgument {
            cmd: IpvsCmd::NewDest,
            ..
        })
    ));
    let v4_tunnel = Dest::new(ip("192.0.2.10"), 80, Forwarding::IPIP, 1);
    env.ipvs.add_dest(&k6, &v4_tunnel).unwrap();
    let got = env.ipvs.dests(&k6).unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].same_config(&v4_tunnel), "{:?}", got[0]);
    assert_eq!(got[0].family(), AddressFamily::Inet);
    // ... and the sync protocol cannot carry them (kernel: EINVAL).
    let err = env
        .ipvs
        .new_daemon(&Daemon::new(DaemonState::Master, sync_interface(), 1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                cmd: IpvsCmd::NewDaemon,
                ..
            }
        ),
        "{err:?}"
    );

    // Weights above i32::MAX and inverted thresholds (kernel: ERANGE).
    let heavy = Dest::new(ip("127.0.0.8"), 80, Forwarding::Route, u32::MAX);
    assert!(matches!(
        env.ipvs.add_dest(&k, &heavy),
        Err(Error::OutOfRange {
            cmd: IpvsCmd::NewDest,
            ..
        })
    ));
    let inverted = Dest {
        upper_threshold: 5,
        lower_threshold: 50,
        ..Dest::new(ip("127.0.0.8"), 80, Forwarding::Route, 1)
    };
    assert!(matches!(
        env.ipvs.add_dest(&k, &inverted),
        Err(Error::OutOfRange { .. })
    ));
    assert_eq!(env.ipvs.dests(&k).unwrap().len(), 1);
}

#[test]
fn duplicate_service_is_a_typed_already_exists() {
    let Some(mut env) = env("duplicate_service_is_a_typed_already_exists") else {
        return;
    };
    let k = fwmark(AddressFamily::Inet6, 7);
    env.ipvs.add_service(&Service::new(k, "rr")).unwrap();
    let err = env.ipvs.add_service(&Service::new(k, "wlc")).unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { cmd: IpvsCmd::NewService, target: Target::Service(t) } if *t == k),
        "{err:?}"
    );
    assert_eq!(err.errno(), Some(ipvs::Errno::EEXIST));
    assert_eq!(
        err.to_string(),
        "IPVS_CMD_NEW_SERVICE service FWM 7 IPv6: already exists"
    );
    // The failed add changed nothing.
    assert_eq!(env.ipvs.service(&k).unwrap().scheduler, "rr");
}

#[test]
fn timeouts_roundtrip_and_match_ipvsadm() {
    let Some(mut env) = env("timeouts_roundtrip_and_match_ipvsadm") else {
        return;
    };
    let original = env.ipvs.timeouts().unwrap();
    assert_eq!(
        ipvsadm(&["-Ln", "--timeout"]),
        format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            original.tcp, original.tcp_fin, original.udp
        )
    );
    let wanted = Timeouts {
        tcp: 1000,
        tcp_fin: 60,
        udp: 200,
    };
    env.ipvs.set_timeouts(&wanted).unwrap();
    assert_eq!(env.ipvs.timeouts().unwrap(), wanted);
    assert_eq!(
        ipvsadm(&["-Ln", "--timeout"]),
        "Timeout (tcp tcpfin udp): 1000 60 200\n"
    );
    // 0 leaves a value unchanged.
    env.ipvs
        .set_timeouts(&Timeouts {
            tcp: 0,
            tcp_fin: 30,
            udp: 0,
        })
        .unwrap();
    assert_eq!(
        env.ipvs.timeouts().unwrap(),
        Timeouts {
            tcp_fin: 30,
            ..wanted
        }
    );
    ipvsadm(&["--set", "1100", "70", "210"]);
    assert_eq!(
        env.ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 1100,
            tcp_fin: 70,
            udp: 210
        }
    );
    env.ipvs.set_timeouts(&original).unwrap();
    assert_eq!(env.ipvs.timeouts().unwrap(), original);
}

fn sync_interface() -> &'static str {
    const NAME: &str = "ipvssync0";
    // A multicast-capable interface with an address; lo is not enough.
    let exists = Command::new("ip")
        .args(["link", "show", NAME])
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        for args in [
            &["link", "add", NAME, "type", "dummy"][..],
            &["link", "set", NAME, "multicast", "on", "up"],
            &["addr", "add", "192.0.2.1/24", "dev", NAME],
        ] {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(out.status.success(), "ip {args:?}: {out:?}");
        }
    }
    NAME
}

/// The line `ipvsadm -Ln --daemon` prints for a daemon as we decoded it.
fn daemon_line(d: &Daemon) -> String {
    format!(
        "{} sync daemon (mcast={}, syncid={}, maxlen={}, group={}, port={}, ttl={})\n",
        d.state,
        d.interface,
        d.sync_id,
        d.max_len.unwrap(),
        d.group.unwrap(),
        d.port.unwrap(),
        d.ttl.unwrap()
    )
}

#[test]
fn sync_daemons_start_list_and_stop() {
    let Some(mut env) = env("sync_daemons_start_list_and_stop") else {
        return;
    };
    let ifname = sync_interface();
    let master = Daemon::new(DaemonState::Master, ifname, 5);
    env.ipvs.new_daemon(&master).unwrap();
    let daemons = env.ipvs.daemons().unwrap();
    assert_eq!(daemons.len(), 1);
    let got = &daemons[0];
    assert_eq!(
        (got.state, got.interface.as_str(), got.sync_id),
        (DaemonState::Master, ifname, 5)
    );
    // The kernel reports its defaults (ipvsadm's documented ones).
    assert_eq!(got.group, Some(ip("224.0.0.81")));
    assert_eq!(got.port, Some(8848));
    assert_eq!(got.ttl, Some(1));
    assert!(got.max_len.is_some());
    assert_eq!(ipvsadm(&["-Ln", "--daemon"]), daemon_line(got));

    let err = env.ipvs.new_daemon(&master).unwrap_err();
    assert!(
        matches!(
            err,
            Error::AlreadyExists {
                cmd: IpvsCmd::NewDaemon,
                target: Target::Daemon(DaemonState::Master)
            }
        ),
        "{err:?}"
    );

    let backup = Daemon {
        max_len: Some(1400),
        group: Some(ip("224.0.0.82")),
        port: Some(8849),
        ttl: Some(2),
        ..Daemon::new(DaemonState::Backup, ifname, 7)
    };
    env.ipvs.new_daemon(&backup).unwrap();
    let daemons = env.ipvs.daemons().unwrap();
    assert_eq!(daemons.len(), 2);
    let got_backup = daemons
        .iter()
        .find(|d| d.state == DaemonState::Backup)
        .unwrap();
    assert_eq!(got_backup, &backup);
    let listed = ipvsadm(&["-Ln", "--daemon"]);
    assert!(listed.contains(&daemon_line(&backup)), "{listed}");

    env.ipvs.del_daemon(DaemonState::Master).unwrap();
    env.ipvs.del_daemon(DaemonState::Backup).unwrap();
    assert!(env.ipvs.daemons().unwrap().is_empty());
    assert_eq!(ipvsadm(&["-Ln", "--daemon"]), "");
    let err = env.ipvs.del_daemon(DaemonState::Master).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                cmd: IpvsCmd::DelDaemon,
                ..
            }
        ),
        "{err:?}"
    );

    // ipvsadm-started daemons decode too.
    ipvsadm(&[
        "--start-daemon",
        "master",
        "--mcast-interface",
        ifname,
        "--syncid",
        "9",
        "--mcast-port",
        "8850",
        "--mcast-ttl",
        "3",
    ]);
    let daemons = env.ipvs.daemons().unwrap();
    assert_eq!(daemons.len(), 1);
    assert_eq!(
        (daemons[0].sync_id, daemons[0].port, daemons[0].ttl),
        (9, Some(8850), Some(3))
    );
    env.ipvs.del_daemon(DaemonState::Master).unwrap();
}

#[test]
fn statistics_zero_and_flush() {
    let Some(mut env) = env("statistics_zero_and_flush") else {
        return;
    };
    // A local service: our own connection goes through IPVS (LOCAL_OUT)
    // and is delivered to the listener (forwarding Local).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let k = key(Protocol::Tcp, "127.0.0.1", port);
    env.ipvs.add_service(&Service::new(k, "rr")).unwrap();
    let local = Dest::new(ip("127.0.0.1"), port, Forwarding::Local, 1);
    env.ipvs.add_dest(&k, &local).unwrap();
    assert_eq!(env.ipvs.service(&k).unwrap().stats.unwrap().conns, 0);

    let client =
        TcpStream::connect_timeout(&(ip("127.0.0.1"), port).into(), Duration::from_secs(10))
            .unwrap();
    let (_accepted, _) = listener.accept().unwrap();
    drop(client);

    // Connection counts are immediate.
    let dest = &env.ipvs.dests(&k).unwrap()[0];
    let counters = dest.counters.unwrap();
    assert_eq!(
        counters.active_conns + counters.inactive_conns,
        1,
        "{counters:?}"
    );
    // Statistics are folded in by the kernel's rate estimator, every 2 s
    // (ip_vs_est.c): poll for them, bounded.
    let poll = Duration::from_millis(100);
    let stats = lab::wait_for(
        "the estimator to count",
        Duration::from_secs(20),
        poll,
        || {
            let stats = env.ipvs.service(&k).unwrap().stats.unwrap();
            (stats.conns > 0).then_some(stats)
        },
    )
    .unwrap();
    assert_eq!(stats.conns, 1, "{stats:?}");
    assert!(stats.in_packets >= 1 && stats.in_bytes > 0, "{stats:?}");
    let dest = &env.ipvs.dests(&k).unwrap()[0];
    assert_eq!(dest.counters.unwrap().stats.conns, 1, "{dest:?}");

    env.ipvs.zero_service(&k).unwrap();
    let stats = env.ipvs.service(&k).unwrap().stats.unwrap();
    assert_eq!((stats.conns, stats.in_packets, stats.in_bytes), (0, 0, 0));

    // ZERO for all services, and for an unknown one.
    env.ipvs.zero().unwrap();
    assert!(matches!(
        env.ipvs.zero_service(&key(Protocol::Tcp, "10.9.9.9", 1)),
        Err(Error::NotFound {
            cmd: IpvsCmd::Zero,
            ..
        })
    ));

    env.ipvs
        .add_service(&Service::new(fwmark(AddressFamily::Inet, 1), "rr"))
        .unwrap();
    assert_eq!(env.ipvs.services().unwrap().len(), 2);
    env.ipvs.flush().unwrap();
    assert!(env.ipvs.services().unwrap().is_empty());
    assert_eq!(ipvsadm(&["-S", "-n"]), "");
}

#[test]
fn many_services_need_a_multipart_dump() {
    let Some(mut env) = env("many_services_need_a_multipart_dump") else {
        return;
    };
    // ~200 bytes per service: 600 of them exceed one 32 KiB dump datagram.
    let keys: Vec<_> = (1..=600u32)
        .map(|mark| fwmark(AddressFamily::Inet6, mark))
        .collect();
    for k in &keys {
        env.ipvs.add_service(&Service::new(*k, "rr")).unwrap();
    }
    let mut got: Vec<_> = env
        .ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    got.sort();
    assert_eq!(got, keys);
    assert_eq!(ipvsadm(&["-S", "-n"]).lines().count(), 600);
    let real_server = DestKey {
        addr: ip("2001:db8::5"),
        port: 0,
    };
    assert!(matches!(
        env.ipvs.del_dest(&keys[0], &real_server),
        Err(Error::NotFound { .. })
    ));
    env.ipvs.flush().unwrap();
}
