//! Host tests of `ipvs::reconcile` (no kernel): the diff is correct and
//! minimal for random desired/current tables, and the reconciler's
//! ownership rules hold against a simulated kernel.
#![allow(clippy::unwrap_used)] // In tests a panic is the failure report.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use ipvs::reconcile::{
    DesiredTable, Kernel, Op, Owned, Reconciler, Release, SimulatedKernel, Table, plan,
};
use ipvs::{
    AddressFamily, Dest, DestKey, Error, Forwarding, Protocol, Service, ServiceFlags, ServiceKey,
    Stats,
};
use proptest::prelude::*;

/// A small key space so that desired and current overlap a lot.
fn service_key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (
            0u8..4,
            prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp)]
        )
            .prop_map(|(n, protocol)| {
                ServiceKey::Addr {
                    protocol,
                    addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
                    port: 80,
                }
            }),
        (1u32..3).prop_map(|mark| ServiceKey::Fwmark {
            family: AddressFamily::Inet,
            mark
        }),
    ]
}

fn service(key: ServiceKey) -> impl Strategy<Value = Service> {
    (
        prop_oneof![Just("rr"), Just("wlc")],
        prop_oneof![Just(0u32), Just(300)],
    )
        .prop_map(move |(sched, timeout)| {
            let svc = Service::new(key, sched);
            if timeout > 0 {
                svc.persistent(timeout)
            } else {
                svc
            }
        })
}

fn dest() -> impl Strategy<Value = Dest> {
    (
        0u8..5,
        0u32..3,
        prop_oneof![Just(Forwarding::Masq), Just(Forwarding::Route)],
    )
        .prop_map(|(n, weight, fwd)| {
            Dest::new(IpAddr::V4(Ipv4Addr::new(192, 168, 0, n)), 8080, fwd, weight)
        })
}

fn table() -> impl Strategy<Value = Table> {
    prop::collection::vec(
        service_key().prop_flat_map(|key| (service(key), prop::collection::vec(dest(), 0..5))),
        0..6,
    )
    .prop_map(Table::from_iter)
}

/// As the kernel reports them: HASHED set, statistics and counters filled.
fn as_kernel_reports(mut table: Table) -> Table {
    for entry in table.services.values_mut() {
        entry.service.flags = entry.service.flags | ServiceFlags::HASHED;
        entry.service.stats = Some(Stats {
            conns: 7,
            ..Stats::default()
        });
        for d in entry.dests.values_mut() {
            d.counters = Some(ipvs::DestCounters {
                active_conns: 3,
                ..Default::default()
            });
        }
    }
    table
}

fn owning_everything(table: &Table) -> Owned {
    let mut owned = Owned::default();
    for (key, entry) in &table.services {
        owned
            .services
            .insert(*key, entry.dests.keys().copied().collect());
    }
    owned
}

fn apply(ops: &[Op], mut table: Table) -> Table {
    for op in ops {
        op.apply_to(&mut table)
            .unwrap_or_else(|e| panic!("{op} refused: {e}"));
    }
    table
}

/// The exact number of differing entries when everything is owned: one op
/// per differing service (a removed service takes its dests along), and one
/// per differing dest of a kept or added service.
fn differences(desired: &Table, current: &Table) -> usize {
    let mut n = 0;
    for (key, now) in &current.services {
        if !desired.services.contains_key(key) {
            n += 1;
        } else {
            let want = &desired.services[key];
            n += now
                .dests
                .keys()
                .filter(|d| !want.dests.contains_key(d))
                .count();
        }
    }
    for (key, want) in &desired.services {
        match current.services.get(key) {
            None => n += 1 + want.dests.len(),
            Some(now) => {
                n += usize::from(!want.service.same_config(&now.service));
                n += want
                    .dests
                    .iter()
                    .filter(|(k, d)| now.dests.get(k).is_none_or(|have| !d.same_config(have)))
                    .count();
            }
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Owning everything: applying the plan to current gives desired, with
    /// exactly one operation per difference, removals before additions.
    #[test]
    fn plan_turns_current_into_desired_minimally(desired in table(), current in table()) {
        let current = as_kernel_reports(current);
        let ops = plan(&desired, &current, &owning_everything(&current));
        let result = apply(&ops, current.clone());
        prop_assert!(result.same_config(&desired), "ops {ops:#?}\nresult {result:#?}");
        prop_assert_eq!(ops.len(), differences(&desired, &current));
        // Removals first: after the first add/edit no delete follows.
        let first_non_delete = ops.iter().position(|op| !matches!(op, Op::DelDest(..) | Op::DelService(_)));
        if let Some(i) = first_non_delete {
            prop_assert!(ops[i..].iter().all(|op| !matches!(op, Op::DelDest(..) | Op::DelService(_))));
        }
        // Idempotent: nothing left to do.
        prop_assert_eq!(plan(&desired, &as_kernel_reports(result.clone()), &owning_everything(&result)), vec![]);
    }

    /// No operation touches an entry that is the same on both sides.
    #[test]
    fn plan_never_touches_unchanged_entries(desired in table(), current in table()) {
        let current = as_kernel_reports(current);
        for op in plan(&desired, &current, &owning_everything(&current)) {
            match &op {
                Op::AddService(s) => prop_assert!(!current.services.contains_key(&s.key)),
                Op::EditService(s) => prop_assert!(!current.services[&s.key].service.same_config(s)),
                Op::DelService(k) => prop_assert!(!desired.services.contains_key(k)),
                Op::AddDest(k, d) => prop_assert!(current.services.get(k).is_none_or(|s| !s.dests.contains_key(&d.key()))),
                Op::EditDest(k, d) => prop_assert!(!current.services[k].dests[&d.key()].same_config(d)),
                Op::DelDest(k, d) => prop_assert!(!desired.services[k].dests.contains_key(d)),
                Op::Flush => prop_assert!(false, "plan flushed"),
            }
        }
    }

    /// Owning nothing: entries the desired table does not name survive
    /// untouched; the desired ones are all there.
    #[test]
    fn foreign_entries_are_never_removed(desired in table(), current in table()) {
        let current = as_kernel_reports(current);
        let ops = plan(&desired, &current, &Owned::default());
        prop_assert!(ops.iter().all(|op| !matches!(op, Op::DelDest(..) | Op::DelService(_))));
        let result = apply(&ops, current.clone());
        for (key, now) in &current.services {
            let after = &result.services[key];
            for (dkey, d) in &now.dests {
                if desired.services.get(key).is_none_or(|w| !w.dests.contains_key(dkey)) {
                    prop_assert_eq!(&after.dests[dkey], d);
                }
            }
        }
        for (key, want) in &desired.services {
            prop_assert!(result.services[key].service.same_config(&want.service));
            for (dkey, d) in &want.dests {
                prop_assert!(result.services[key].dests[dkey].same_config(d));
            }
        }
    }

    /// The reconciler over a simulated kernel that already holds foreign
    /// entries: a series of desired tables each ends with the kernel equal to
    /// foreign ∪ desired (desired wins on shared keys), and releasing leaves
    /// exactly the foreign entries that no desired table ever claimed.
    #[test]
    fn reconciler_manages_only_its_own(foreign in table(), steps in prop::collection::vec(table(), 1..4)) {
        let mut kernel = SimulatedKernel::new(foreign.clone());
        let mut reconciler = Reconciler::new();
        let mut claimed_services = BTreeSet::new();
        let mut claimed_dests = BTreeSet::new();
        for desired in &steps {
            let report = reconciler.reconcile(&mut kernel, &DesiredTable::from(desired.clone())).unwrap();
            prop_assert!(report.is_ok(), "{:?}", report.failed);
            for (key, want) in &desired.services {
                let got = &kernel.table.services[key];
                prop_assert!(got.service.same_config(&want.service));
                for (dkey, d) in &want.dests {
                    prop_assert!(got.dests[dkey].same_config(d));
                }
                claimed_services.insert(*key);
                claimed_dests.extend(want.dests.keys().map(|d| (*key, *d)));
            }
            // Nothing managed that is not desired now.
            for (key, dests) in &reconciler.owned().services {
                let want = &desired.services[key];
                prop_assert!(dests.iter().all(|d| want.dests.contains_key(d)));
            }
        }
        reconciler.release(&mut kernel, Release::Remove);
        prop_assert!(reconciler.owned().is_empty());
        // A service once claimed is managed (adopted) and is gone at the end;
        // the others are exactly as they were, real servers included.
        let mut expected = foreign.clone();
        expected.services.retain(|key, _| !claimed_services.contains(key));
        prop_assert_eq!(&kernel.table, &expected);
        let _ = claimed_dests;
    }
}

fn tcp(n: u8) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
        port: 80,
    }
}

fn rs(n: u8, weight: u32) -> Dest {
    Dest::new(
        IpAddr::V4(Ipv4Addr::new(192, 168, 0, n)),
        80,
        Forwarding::Masq,
        weight,
    )
}

fn desired(entries: &[(ServiceKey, &str, &[Dest])]) -> DesiredTable {
    let mut table = DesiredTable::default();
    for (key, sched, dests) in entries {
        let entry = table.table.insert_service(Service::new(*key, *sched));
        for d in *dests {
            entry.insert_dest(d.clone());
        }
        table
            .origins
            .insert(*key, format!("keepalived.conf:{}", key));
    }
    table
}

#[test]
fn weight_change_edits_only_that_destination() {
    let mut kernel = SimulatedKernel::default();
    let mut reconciler = Reconciler::new();
    let first = desired(&[(tcp(1), "rr", &[rs(1, 1), rs(2, 1), rs(3, 1)])]);
    let report = reconciler.reconcile(&mut kernel, &first).unwrap();
    assert_eq!(report.applied.len(), 4);
    let second = desired(&[(tcp(1), "rr", &[rs(1, 1), rs(2, 5), rs(3, 1)])]);
    let report = reconciler.reconcile(&mut kernel, &second).unwrap();
    assert_eq!(report.applied, vec![Op::EditDest(tcp(1), rs(2, 5))]);
    let report = reconciler.reconcile(&mut kernel, &second).unwrap();
    assert!(report.applied.is_empty());
}

#[test]
fn unknown_scheduler_fails_that_service_only_and_names_its_origin() {
    let mut kernel = SimulatedKernel::default();
    kernel.missing_schedulers.insert("nosuch".into());
    let mut reconciler = Reconciler::new();
    let want = desired(&[
        (tcp(1), "nosuch", &[rs(1, 1), rs(2, 1)]),
        (tcp(2), "rr", &[rs(1, 1)]),
    ]);
    let report = reconciler.reconcile(&mut kernel, &want).unwrap();
    assert_eq!(report.failed.len(), 1);
    let failure = &report.failed[0];
    assert!(matches!(failure.error, Error::NotFound { .. }));
    assert_eq!(
        failure.to_string(),
        "keepalived.conf:TCP 10.0.0.1:80: add service TCP 10.0.0.1:80 (nosuch): \
         IPVS_CMD_NEW_SERVICE service TCP 10.0.0.1:80: not found (ENOENT: No such file or directory)"
    );
    assert_eq!(report.skipped.len(), 2, "its real servers are not sent");
    assert!(kernel.table.services.contains_key(&tcp(2)));
    assert!(!reconciler.owned().services.contains_key(&tcp(1)));
    // Fixed configuration: the service is added on the next reconcile.
    kernel.missing_schedulers.clear();
    let report = reconciler.reconcile(&mut kernel, &want).unwrap();
    assert!(report.is_ok());
    assert_eq!(report.applied.len(), 3);
}

#[test]
fn release_modes() {
    let foreign = {
        let mut t = Table::default();
        t.insert_service(Service::new(tcp(9), "rr"))
            .insert_dest(rs(9, 1));
        t
    };
    let want = desired(&[(tcp(1), "rr", &[rs(1, 1), rs(2, 1)]), (tcp(2), "wlc", &[])]);
    for (mode, services_left, ops) in [
        (Release::Remove, 1, 4),
        (Release::ServicesOnly, 1, 2),
        (Release::Flush, 0, 1),
        (Release::Keep, 3, 0),
    ] {
        let mut kernel = SimulatedKernel::new(foreign.clone());
        let mut reconciler = Reconciler::new();
        reconciler.reconcile(&mut kernel, &want).unwrap();
        kernel.accepted.clear();
        let report = reconciler.release(&mut kernel, mode);
        assert!(report.is_ok(), "{mode:?}");
        assert_eq!(kernel.table.services.len(), services_left, "{mode:?}");
        assert_eq!(
            kernel.accepted.len(),
            ops,
            "{mode:?}: {:?}",
            kernel.accepted
        );
        if mode != Release::Flush {
            assert!(kernel.table.services.contains_key(&tcp(9)));
        }
    }
}

#[test]
fn vanished_entries_are_tolerated() {
    let mut kernel = SimulatedKernel::default();
    let mut reconciler = Reconciler::new();
    let want = desired(&[(tcp(1), "rr", &[rs(1, 1), rs(2, 1)])]);
    reconciler.reconcile(&mut kernel, &want).unwrap();
    // Someone else deletes a real server and the service behind our back.
    let current = kernel.read_table().unwrap();
    kernel
        .execute(&Op::DelDest(tcp(1), rs(2, 1).key()))
        .unwrap();
    // Planned against the stale table: the edit of the vanished dest adds it back.
    let changed = desired(&[(tcp(1), "rr", &[rs(1, 1), rs(2, 4)])]);
    let report = reconciler.reconcile_with(&mut kernel, &changed, &current);
    assert!(report.is_ok(), "{:?}", report.failed);
    assert_eq!(
        kernel.table.services[&tcp(1)].dests[&rs(2, 4).key()].weight,
        4
    );
    kernel.execute(&Op::DelService(tcp(1))).unwrap();
    let report = reconciler.release(&mut kernel, Release::Remove);
    assert!(report.is_ok(), "deleting what is gone is not an error");
}

#[test]
fn dest_key_is_address_and_port() {
    let a = DestKey {
        addr: IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
        port: 80,
    };
    assert_eq!(rs(1, 3).key(), a);
    assert_eq!(
        Op::DelDest(tcp(1), a).to_string(),
        "delete 192.168.0.1:80 from TCP 10.0.0.1:80"
    );
}
