//! Host tests of keepalived's checker-side semantics: configuration and
//! health to the IPVS table, quorum with hysteresis, sorry server,
//! inhibit_on_failure, reloads. Against a simulated kernel; the VM tests
//! (tests/vm.rs) compare the same mapping with keepalived 2.2.7 itself.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::net::IpAddr;

use config::model::lvs::LvsConfig;
use ipvs::reconcile::{Op, Release, SimulatedKernel, Table};
use ipvs::{
    AddressFamily, DestKey, Forwarding, Netmask, Protocol, ServiceFlags, ServiceKey, TunnelFlags,
    TunnelType,
};
use lvs::{Lvs, State, desired_table};
use proptest::prelude::*;

fn load(text: &str) -> LvsConfig {
    let loaded = config::load_str(
        "keepalived.conf",
        text,
        &config::LoadOptions::default(),
        &config::FakeSystem::default(),
    );
    // keepalived reports defaults it applies ("no scheduler set") as
    // configuration errors; the configuration is still used.
    assert!(
        !loaded.config.lvs.virtual_servers.is_empty(),
        "{}",
        loaded.render()
    );
    loaded.config.lvs
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

fn table_of(cfg: &LvsConfig) -> Table {
    let (state, _) = State::initial(cfg);
    desired_table(cfg, &state, None).desired.table
}

/// `(dest, weight)` pairs of a service, sorted.
fn weights(table: &Table, key: &ServiceKey) -> Vec<(String, u32)> {
    table.services[key]
        .dests
        .values()
        .map(|d| (d.key().to_string(), d.weight))
        .collect()
}

#[test]
fn group_ranges_and_fwmarks_expand_like_keepalived() {
    let cfg = load(
        "virtual_server_group g {
            10.1.0.254-10.1.1.1 80
            fwmark 9
        }
        virtual_server_group g6 {
            2001:db8::fffe-ffff 443
            fwmark 10 inet6
        }
        virtual_server group g {
            lvs_sched rr
            lvs_method DR
            protocol TCP
            persistence_timeout 50
            persistence_granularity 255.255.255.0
            real_server 192.168.0.2 {
            }
        }
        virtual_server group g6 {
            lvs_sched rr
            lvs_method DR
            protocol TCP
            persistence_timeout 50
            real_server 2001:db8:1::2 {
            }
        }",
    );
    let table = table_of(&cfg);
    let keys: Vec<String> = table.services.keys().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "TCP 10.1.0.254:80",
            "TCP 10.1.0.255:80",
            "TCP 10.1.1.0:80",
            "TCP 10.1.1.1:80",
            "TCP [2001:db8::fffe]:443",
            "TCP [2001:db8::ffff]:443",
            "FWM 9",
            "FWM 10 IPv6",
        ]
    );
    for entry in table.services.values() {
        let svc = &entry.service;
        assert!(svc.flags.contains(ServiceFlags::PERSISTENT));
        assert_eq!(svc.timeout, 50);
        // keepalived resets the netmask for group entries.
        assert_eq!(svc.netmask, Netmask::default_for(svc.key.family()));
        // DR: the real server's port is the service's (0 for fwmark).
        let want_port = match svc.key {
            ServiceKey::Addr { port, .. } => port,
            ServiceKey::Fwmark { .. } => 0,
        };
        let dest = entry.dests.values().next().unwrap();
        assert_eq!((dest.port, dest.forwarding), (want_port, Forwarding::Route));
    }
}

#[test]
fn service_and_real_server_attributes() {
    let cfg = load(
        "virtual_server fwmark 5 {
            lvs_sched sh
            sh-port
            sh-fallback
            lvs_method TUN type gue port 6080 remcsum
            persistence_timeout 100
            persistence_granularity 255.255.0.0
            persistence_engine sip
            real_server 10.0.0.2 {
                weight 7
                uthreshold 9
                lthreshold 3
            }
            real_server 10.0.0.3 {
                lvs_method NAT
                weight 4
            }
        }",
    );
    let table = table_of(&cfg);
    let key = ServiceKey::Fwmark {
        family: AddressFamily::Inet,
        mark: 5,
    };
    let entry = &table.services[&key];
    let svc = &entry.service;
    assert_eq!(svc.scheduler, "sh");
    assert_eq!(
        svc.flags,
        ServiceFlags::PERSISTENT | ServiceFlags::SH_PORT | ServiceFlags::SH_FALLBACK
    );
    assert_eq!(svc.netmask, Netmask::V4("255.255.0.0".parse().unwrap()));
    assert_eq!(svc.pe_name.as_deref(), Some("sip"));
    let tun = &entry.dests[&DestKey {
        addr: ip("10.0.0.2"),
        port: 0,
    }];
    assert_eq!(
        tun.forwarding,
        Forwarding::Tunnel {
            kind: TunnelType::Gue { port: 6080 },
            flags: TunnelFlags::REMCSUM
        }
    );
    assert_eq!(
        (tun.weight, tun.upper_threshold, tun.lower_threshold),
        (7, 9, 3)
    );
    // keepalived's fwmark services keep a NAT real server's port (here none).
    let nat = &entry.dests[&DestKey {
        addr: ip("10.0.0.3"),
        port: 0,
    }];
    assert_eq!((nat.forwarding, nat.weight), (Forwarding::Masq, 4));
}

const QUORUM: &str = "virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 4
    hysteresis 1
    sorry_server 10.9.9.9 8080
    real_server 10.0.0.2 80 {
        weight 2
    }
    real_server 10.0.0.3 80 {
        weight 2
    }
    real_server 10.0.0.4 80 {
        weight 1
        inhibit_on_failure
    }
}";

#[test]
fn quorum_hysteresis_and_sorry_server() {
    let cfg = load(QUORUM);
    let key = tcp("10.0.0.1", 80);
    let mut kernel = SimulatedKernel::default();
    let mut lvs = Lvs::new(cfg, None);
    // 5 >= 4 + 1: quorum up at start, no sorry server.
    assert!(lvs.start(&mut kernel, false).unwrap().report.is_ok());
    assert_eq!(
        weights(&kernel.table, &key),
        [
            ("10.0.0.2:80".into(), 2),
            ("10.0.0.3:80".into(), 2),
            ("10.0.0.4:80".into(), 1)
        ]
    );
    assert!(lvs.take_quorum_changes().is_empty());

    // The inhibited one fails: weight 0, sum 4 >= 4 - 1: still up.
    lvs.set_alive(0, 2, false);
    let sync = lvs.sync(&mut kernel).unwrap();
    assert_eq!(sync.report.applied.len(), 1);
    assert!(matches!(&sync.report.applied[0], Op::EditDest(_, d) if d.weight == 0));
    assert!(lvs.take_quorum_changes().is_empty());

    // Another fails: sum 2 < 3: quorum lost, sorry server in, live servers out,
    // the inhibited one stays at weight 0.
    lvs.set_alive(0, 0, false);
    lvs.sync(&mut kernel).unwrap();
    let changes = lvs.take_quorum_changes();
    assert_eq!(changes.len(), 1);
    assert!(!changes[0].up);
    assert_eq!((changes[0].weight_sum, changes[0].threshold), (2, 3));
    assert_eq!(
        weights(&kernel.table, &key),
        [("10.0.0.4:80".into(), 0), ("10.9.9.9:8080".into(), 1)]
    );

    // Back to 4: not enough to regain (needs 4 + 1), sorry server stays.
    lvs.set_alive(0, 0, true);
    let sync = lvs.sync(&mut kernel).unwrap();
    assert!(sync.report.applied.is_empty(), "{:?}", sync.report.applied);
    assert!(lvs.take_quorum_changes().is_empty());

    // 5: quorum regained, sorry server out, everything back.
    lvs.set_alive(0, 2, true);
    lvs.sync(&mut kernel).unwrap();
    assert!(lvs.take_quorum_changes()[0].up);
    assert_eq!(weights(&kernel.table, &key).len(), 3);
    assert!(!kernel.table.services[&key].dests.contains_key(&DestKey {
        addr: ip("10.9.9.9"),
        port: 8080
    }));
}

#[test]
fn alpha_real_servers_start_down() {
    let cfg = load(
        "virtual_server 10.0.0.1 80 {
            lvs_method NAT
            protocol TCP
            alpha
            real_server 10.0.0.2 80 {
                TCP_CHECK {
                }
            }
            real_server 10.0.0.3 80 {
                inhibit_on_failure
                TCP_CHECK {
                }
            }
            real_server 10.0.0.4 80 {
            }
        }",
    );
    let table = table_of(&cfg);
    // No checker, always up; alpha + inhibit: weight 0; alpha: out.
    assert_eq!(
        weights(&table, &tcp("10.0.0.1", 80)),
        [("10.0.0.3:80".into(), 0), ("10.0.0.4:80".into(), 1)]
    );
    // Default scheduler wlc.
    assert_eq!(
        table.services[&tcp("10.0.0.1", 80)].service.scheduler,
        "wlc"
    );
}

#[test]
fn reload_keeps_health_and_edits_only_what_changed() {
    let mut kernel = SimulatedKernel::default();
    let mut lvs = Lvs::new(load(QUORUM), None);
    lvs.start(&mut kernel, false).unwrap();
    lvs.set_alive(0, 1, false);
    lvs.sync(&mut kernel).unwrap();
    let key = tcp("10.0.0.1", 80);
    assert_eq!(weights(&kernel.table, &key).len(), 2);

    // New weight for .2, .3 is still down after the reload (its health is kept),
    // .4 is gone, a new VS appears.
    let new = QUORUM
        .replace(
            "weight 2\n    }\n    real_server 10.0.0.3",
            "weight 3\n    }\n    real_server 10.0.0.3",
        )
        .replace(
            "    real_server 10.0.0.4 80 {\n        weight 1\n        inhibit_on_failure\n    }\n",
            "",
        )
        + "\nvirtual_server 10.0.0.9 80 {\n lvs_method NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\n";
    let sync = lvs.reload(&mut kernel, load(&new), None).unwrap();
    let new_key = tcp("10.0.0.9", 80);
    let mut applied: Vec<String> = sync
        .report
        .applied
        .iter()
        .map(ToString::to_string)
        .collect();
    applied.sort();
    assert_eq!(
        applied,
        [
            "add 10.0.0.2:80 to TCP 10.0.0.9:80 (weight 1)",
            "add service TCP 10.0.0.9:80 (wlc)",
            "delete 10.0.0.4:80 from TCP 10.0.0.1:80",
            "edit 10.0.0.2:80 of TCP 10.0.0.1:80 (weight 3)",
        ]
    );
    assert!(kernel.table.services.contains_key(&new_key));
    // Removing a virtual server on reload removes its service.
    let sync = lvs.reload(&mut kernel, load(QUORUM), None).unwrap();
    assert!(sync.report.applied.contains(&Op::DelService(new_key)));
    // -I: nothing removed at exit.
    lvs.stop(&mut kernel, Release::Keep);
    assert!(kernel.table.services.contains_key(&key));
}

#[test]
fn release_mode_from_global_settings() {
    use config::model::global::{GlobalConfig, LvsFlushOnStop};
    let mut global = GlobalConfig::default();
    assert_eq!(lvs::release_mode(&global, false), Release::Remove);
    assert_eq!(lvs::release_mode(&global, true), Release::Keep);
    global.lvs_flush_on_stop = LvsFlushOnStop::Full;
    assert_eq!(lvs::release_mode(&global, false), Release::Flush);
    global.lvs_flush_on_stop = LvsFlushOnStop::Vs;
    assert_eq!(lvs::release_mode(&global, false), Release::ServicesOnly);
    assert_eq!(lvs::release_mode(&global, true), Release::Keep);
}

#[test]
fn kernel_refusal_names_the_virtual_server_line_and_the_rest_is_programmed() {
    let text = "virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
    }
}
virtual_server 10.0.0.5 80 {
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
    }
}";
    let loaded = config::load_str(
        "keepalived.conf",
        text,
        &config::LoadOptions::default(),
        &config::FakeSystem::default(),
    );
    let mut kernel = SimulatedKernel::default();
    kernel.missing_schedulers.insert("wrr".into());
    let mut lvs = Lvs::new(loaded.config.lvs, Some(loaded.sources));
    let sync = lvs.start(&mut kernel, false).unwrap();
    assert_eq!(sync.report.failed.len(), 1);
    let message = sync.report.failed[0].to_string();
    assert!(
        message.starts_with(
            "keepalived.conf:8: virtual_server [10.0.0.5]:tcp:80: add service TCP 10.0.0.5:80 (wrr): "
        ),
        "{message}"
    );
    assert!(kernel.table.services.contains_key(&tcp("10.0.0.1", 80)));
}

proptest! {
    /// Quorum is a pure function of the live weight with hysteresis: it
    /// never flaps inside the band, and the table follows it: the sorry
    /// server is in exactly while quorum is down.
    #[test]
    fn quorum_follows_weight_with_hysteresis(events in prop::collection::vec((0usize..3, any::<bool>()), 1..40)) {
        let cfg = load(QUORUM);
        let key = tcp("10.0.0.1", 80);
        let sorry = DestKey { addr: ip("10.9.9.9"), port: 8080 };
        let mut kernel = SimulatedKernel::default();
        let mut lvs = Lvs::new(cfg, None);
        lvs.start(&mut kernel, false).unwrap();
        let mut up = true;
        for (rs, alive) in events {
            lvs.set_alive(0, rs, alive);
            let report = lvs.sync(&mut kernel).unwrap().report;
            prop_assert!(report.is_ok());
            let state = &lvs.state().virtual_servers[0];
            let sum = state.weight_sum();
            if up && (sum == 0 || sum < 3) { up = false; } else if !up && sum >= 5 { up = true; }
            prop_assert_eq!(state.quorum_up, up);
            let dests = &kernel.table.services[&key].dests;
            prop_assert_eq!(dests.contains_key(&sorry), !up);
            // The table is what a fresh mapping of the state says.
            let fresh = desired_table(lvs.config(), lvs.state(), None).desired.table;
            prop_assert!(kernel.table.same_config(&fresh));
        }
    }
}

#[test]
fn shared_fwmark_of_a_group_is_merged_and_reported() {
    // A TCP and a UDP virtual server on one group: the addresses give one
    // service per protocol, the fwmark one shared service (keepalived's
    // second add fails with EEXIST and it adds its real servers to it).
    let cfg = load(
        "virtual_server_group g {
            10.0.0.1 53
            fwmark 3
        }
        virtual_server group g {
            lvs_sched rr
            lvs_method NAT
            protocol TCP
            real_server 10.1.0.1 53 {
            }
        }
        virtual_server group g {
            lvs_sched wrr
            lvs_method NAT
            protocol UDP
            real_server 10.1.0.2 53 {
            }
        }",
    );
    let (state, _) = State::initial(&cfg);
    let mapped = desired_table(&cfg, &state, None);
    let table = &mapped.desired.table;
    assert_eq!(table.services.len(), 3);
    let fwm = ServiceKey::Fwmark {
        family: AddressFamily::Inet,
        mark: 3,
    };
    assert_eq!(table.services[&fwm].service.scheduler, "rr");
    assert_eq!(table.services[&fwm].dests.len(), 2);
    assert_eq!(mapped.warnings.len(), 1, "{:?}", mapped.warnings);
    assert!(
        mapped.warnings[0].contains("FWM 3"),
        "{:?}",
        mapped.warnings
    );
}
