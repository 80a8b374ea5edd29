//! `vrrp_sync_group` behaviour (keepalived `vrrp_sync.c`, reference §3.11): members move
//! to MASTER only together, one to BACKUP takes all to BACKUP, one FAULT faults all.

use std::net::{IpAddr, Ipv4Addr};

use vrrp::advert::{Advert, Version};
use vrrp::router::{
    Action, GarpReason, GroupAction, Input, Router, RouterConfig, State, SyncGroup, Timestamp,
};

const SEC: u64 = 1_000_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn t(micros: u64) -> Timestamp {
    Timestamp::from_micros(micros)
}

fn member(name: &str, vrid: u8, priority: u8) -> Router {
    let mut config = RouterConfig::new(name, Version::V2, vrid, priority, ip(11));
    config.virtual_addresses = vec![ip(vrid)];
    match Router::new(config) {
        Ok(router) => router,
        Err(error) => panic!("{error}"),
    }
}

fn group(priorities: &[u8]) -> SyncGroup {
    let members = priorities
        .iter()
        .enumerate()
        .map(|(i, &p)| member(&format!("VI_{i}"), 51 + u8::try_from(i).unwrap_or(0), p))
        .collect();
    SyncGroup::new("G1", members)
}

fn drain(group: &mut SyncGroup) -> Vec<GroupAction> {
    std::iter::from_fn(|| group.poll_action()).collect()
}

fn states(group: &SyncGroup) -> Vec<State> {
    group.members().iter().map(Router::state).collect()
}

fn advert_for(group: &SyncGroup, index: usize, priority: u8, source: u8) -> Advert {
    let Some(member) = group.member(index) else {
        panic!("no member {index}")
    };
    Advert {
        version: Version::V2,
        vrid: member.config().vrid,
        priority,
        interval_cs: 100,
        addresses: vec![],
        source: ip(source),
    }
}

fn feed(group: &mut SyncGroup, now: u64, index: usize, input: Input) -> Vec<GroupAction> {
    if let Err(error) = group.handle(t(now), index, input) {
        panic!("{error}");
    }
    drain(group)
}

/// Run timers until `end`.
fn run_until(group: &mut SyncGroup, end: u64) -> Vec<GroupAction> {
    let mut out = Vec::new();
    while let Some(deadline) = group.next_deadline() {
        if deadline.as_micros() > end {
            break;
        }
        group.handle_timeout(deadline);
        out.extend(drain(group));
    }
    out
}

fn both_master(priorities: &[u8]) -> SyncGroup {
    let mut group = group(priorities);
    group.start(t(0));
    drain(&mut group);
    run_until(&mut group, 4 * SEC);
    assert_eq!(states(&group), vec![State::Master; priorities.len()]);
    group
}

/// keepalived `vrrp_sync_can_goto_master`: the first member whose timer fires is held in
/// BACKUP until every member wants MASTER; then all go MASTER together and the group
/// notifies MASTER once.
#[test]
fn keepalived_sync_group_goes_master_only_when_all_want_it() {
    // Different priorities: member 0 (150) times out at 3.414 s, member 1 (100) at 3.609 s.
    let mut group = group(&[150, 100]);
    group.start(t(0));
    let start = drain(&mut group);
    assert_eq!(
        start.first(),
        Some(&GroupAction::GroupNotify {
            state: State::Backup
        })
    );
    run_until(&mut group, 3_414_062);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
    assert_eq!(group.member(0).map(Router::want_state), Some(State::Master));
    let actions = run_until(&mut group, 3_609_375);
    assert_eq!(states(&group), vec![State::Master, State::Master]);
    assert_eq!(group.state(), State::Master);
    let group_changes: Vec<_> = actions
        .iter()
        .filter(|a| matches!(a, GroupAction::GroupStateChanged { .. }))
        .collect();
    assert_eq!(
        group_changes,
        vec![&GroupAction::GroupStateChanged {
            from: State::Backup,
            to: State::Master
        }]
    );
    // Both members installed their VIPs, each advertised first.
    for index in 0..2 {
        assert!(actions.contains(&GroupAction::Member {
            index,
            action: Action::AddVips
        }));
    }
}

/// keepalived: a member held back that then hears a master wants BACKUP again, so the
/// group does not go MASTER when the other member times out.
#[test]
fn keepalived_sync_group_member_hearing_a_master_blocks_group_master() {
    let mut group = group(&[150, 100]);
    group.start(t(0));
    drain(&mut group);
    run_until(&mut group, 3_414_062);
    let advert = advert_for(&group, 0, 200, 20);
    feed(&mut group, 3_500_000, 0, Input::Advert(advert));
    assert_eq!(group.member(0).map(Router::want_state), Some(State::Backup));
    run_until(&mut group, 3_609_375);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
}

/// keepalived `vrrp_sync_backup`: one MASTER member yielding to a higher priority takes
/// the whole group to BACKUP.
#[test]
fn keepalived_sync_group_one_backup_all_backup() {
    let mut group = both_master(&[150, 100]);
    let advert = advert_for(&group, 1, 200, 20);
    let actions = feed(&mut group, 5 * SEC, 1, Input::Advert(advert));
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
    assert_eq!(group.state(), State::Backup);
    assert!(actions.contains(&GroupAction::Member {
        index: 0,
        action: Action::RemoveVips
    }));
    assert!(actions.contains(&GroupAction::GroupNotify {
        state: State::Backup
    }));
}

/// keepalived `vrrp_sync_fault`: one member in FAULT puts the whole group in FAULT (a
/// MASTER member sends a priority-0 advert); when it recovers, all go to BACKUP.
#[test]
fn keepalived_sync_group_one_fault_all_fault_then_backup() {
    let mut group = both_master(&[150, 100]);
    let actions = feed(&mut group, 5 * SEC, 1, Input::InterfaceDown);
    assert_eq!(states(&group), vec![State::Fault, State::Fault]);
    assert_eq!(group.state(), State::Fault);
    let member0_prio_zero = actions.iter().any(|a| {
        matches!(a, GroupAction::Member { index: 0, action: Action::SendAdvert(adv) } if adv.priority == 0)
    });
    assert!(member0_prio_zero, "{actions:?}");

    feed(&mut group, 6 * SEC, 1, Input::InterfaceUp);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
    assert_eq!(group.state(), State::Backup);
}

/// keepalived `num_member_fault`: the group leaves FAULT only when no member has a fault.
#[test]
fn keepalived_sync_group_waits_for_every_member_fault_to_clear() {
    let mut group = both_master(&[150, 100]);
    feed(&mut group, 5 * SEC, 0, Input::InterfaceDown);
    feed(&mut group, 5 * SEC, 1, Input::InterfaceDown);
    feed(&mut group, 6 * SEC, 0, Input::InterfaceUp);
    assert_eq!(states(&group), vec![State::Fault, State::Fault]);
    feed(&mut group, 7 * SEC, 1, Input::InterfaceUp);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
}

/// keepalived `vrrp_state_master_rx`: a lower-priority advert to one member makes every
/// member send its lower-priority GARPs.
#[test]
fn keepalived_sync_group_lower_priority_garp_for_all_members() {
    let mut group = both_master(&[150, 100]);
    let advert = advert_for(&group, 0, 50, 20);
    let actions = feed(&mut group, 5 * SEC, 0, Input::Advert(advert));
    for index in 0..2 {
        assert!(
            actions.contains(&GroupAction::Member {
                index,
                action: Action::SendGratuitous {
                    repeat: 5,
                    reason: GarpReason::LowerPriority
                }
            }),
            "member {index}: {actions:?}"
        );
    }
}

/// keepalived `vrrp_init_state`: a group of owners that want MASTER starts MASTER at once.
#[test]
fn keepalived_sync_group_of_owners_starts_master() {
    let mut group = group(&[255, 255]);
    assert_eq!(group.state(), State::Master);
    group.start(t(0));
    run_until(&mut group, 10);
    assert_eq!(states(&group), vec![State::Master, State::Master]);
}

/// keepalived `vrrp_init_state`: a member that wants MASTER in a BACKUP group waits only
/// one interval + the minimum skew (1/256 s for v2).
#[test]
fn keepalived_sync_group_member_wanting_master_waits_one_interval() {
    let mut config = RouterConfig::new("VI_0", Version::V2, 51, 150, ip(11));
    config.wants_master = true;
    let Ok(wanting) = Router::new(config) else {
        panic!("config")
    };
    let mut group = SyncGroup::new("G1", vec![wanting, member("VI_1", 52, 100)]);
    group.start(t(0));
    assert_eq!(
        group.member(0).and_then(Router::next_deadline),
        Some(t(SEC + 3_906))
    );
}

/// A group with a member faulty at startup starts in FAULT; members without a fault of
/// their own do not notify FAULT.
#[test]
fn keepalived_sync_group_starts_fault_if_a_member_is_down() {
    let mut config = RouterConfig::new("VI_0", Version::V2, 51, 150, ip(11));
    config.interface_up = false;
    let Ok(down) = Router::new(config) else {
        panic!("config")
    };
    let mut group = SyncGroup::new("G1", vec![down, member("VI_1", 52, 100)]);
    group.start(t(0));
    let actions = drain(&mut group);
    assert_eq!(states(&group), vec![State::Fault, State::Fault]);
    assert!(actions.contains(&GroupAction::Member {
        index: 0,
        action: Action::Notify {
            state: State::Fault,
            priority: 150
        }
    }));
    assert!(!actions.iter().any(|a| matches!(
        a,
        GroupAction::Member {
            index: 1,
            action: Action::Notify { .. }
        }
    )));
    feed(&mut group, SEC, 0, Input::InterfaceUp);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
}

/// keepalived `set_vrrp_backup` in a sync group: every MASTER member releases with a
/// priority-0 advert and the group is BACKUP.
#[test]
fn keepalived_sync_group_vip_deleted_releases_all_members() {
    let mut group = both_master(&[150, 100]);
    let actions = feed(&mut group, 5 * SEC, 0, Input::VirtualAddressDeleted);
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
    assert_eq!(group.state(), State::Backup);
    for index in 0..2 {
        let zero = actions.iter().any(|a| {
            matches!(a, GroupAction::Member { index: i, action: Action::SendAdvert(adv) } if *i == index && adv.priority == 0)
        });
        assert!(zero, "member {index}: {actions:?}");
    }
}

/// Builds a group whose members restore the state of `previous`'s members (a reload).
fn reloaded(previous: &SyncGroup, priorities: &[u8]) -> SyncGroup {
    let members = priorities
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let mut fresh = member(&format!("VI_{i}"), 51 + u8::try_from(i).unwrap_or(0), p);
            if let Some(old) = previous.member(i) {
                fresh.restore_from(old);
            }
            fresh
        })
        .collect();
    let mut group = SyncGroup::new("G1", members);
    group.restore_from(previous);
    group
}

/// keepalived `vrrp_complete_init` at a reload: a group whose members were all MASTER
/// stays MASTER; its members advertise at once, keep their VIPs and nothing is notified.
#[test]
fn keepalived_reloaded_master_group_stays_master_quietly() {
    let old = both_master(&[150, 100]);
    let mut group = reloaded(&old, &[150, 120]);
    assert_eq!(group.state(), State::Master);
    let now = 10 * SEC;
    group.start(t(now));
    let actions = drain(&mut group);
    assert_eq!(states(&group), vec![State::Master, State::Master]);
    assert!(
        actions.iter().all(|a| matches!(
            a,
            GroupAction::Member {
                action: Action::AddVips,
                ..
            }
        )),
        "{actions:?}"
    );
    assert_eq!(group.next_deadline(), Some(t(now)));
    group.handle_timeout(t(now));
    let actions = drain(&mut group);
    let adverts = actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                GroupAction::Member {
                    action: Action::SendAdvert(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(adverts, 2, "{actions:?}");
    assert!(!actions.iter().any(|a| matches!(
        a,
        GroupAction::GroupStateChanged { .. } | GroupAction::GroupNotify { .. }
    )));
}

/// keepalived `set_previous_sync_group_states`: a BACKUP group rebuilt by a reload in
/// BACKUP again does not send its group notification a second time; a fresh group does.
#[test]
fn keepalived_reloaded_backup_group_is_not_notified_again() {
    let mut old = group(&[150, 100]);
    old.start(t(0));
    drain(&mut old);
    let mut group = reloaded(&old, &[150, 100]);
    assert_eq!(group.state(), State::Backup);
    group.start(t(SEC));
    let actions = drain(&mut group);
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(states(&group), vec![State::Backup, State::Backup]);
}
