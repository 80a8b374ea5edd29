//! One test per RFC 5798 §6.4.1–§6.4.3 rule and per keepalived 2.2.7 deviation, each named
//! after the rule it checks. Time is virtual: `Timestamp` microseconds.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use vrrp::advert::{Advert, Version};
use vrrp::router::{
    Action, ConfigError, GarpReason, Input, InputError, LogEvent, Router, RouterConfig, State,
    Timestamp, TrackerConfig, TrackerId, TrackerStatus,
};

const SEC: u64 = 1_000_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn t(micros: u64) -> Timestamp {
    Timestamp::from_micros(micros)
}

/// Our instance: 192.0.2.11, VRID 51, VIP 192.0.2.100, v2, 1 s.
fn config(priority: u8) -> RouterConfig {
    let mut config = RouterConfig::new("VI_1", Version::V2, 51, priority, ip(11));
    config.virtual_addresses = vec![ip(100)];
    config
}

fn config_v3(priority: u8, interval_cs: u16) -> RouterConfig {
    let mut config = config(priority);
    config.version = Version::V3;
    config.advert_interval_cs = interval_cs;
    config
}

fn advert_from(router: &Router, priority: u8, source: u8) -> Advert {
    Advert {
        version: router.config().version,
        vrid: router.config().vrid,
        priority,
        interval_cs: router.config().advert_interval_cs,
        addresses: vec![ip(100)],
        source: ip(source),
    }
}

fn drain(router: &mut Router) -> Vec<Action> {
    std::iter::from_fn(|| router.poll_action()).collect()
}

fn sent_priorities(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert(advert) => Some(advert.priority),
            _ => None,
        })
        .collect()
}

fn new_router(config: RouterConfig) -> Router {
    match Router::new(config) {
        Ok(router) => router,
        Err(error) => panic!("valid test config rejected: {error}"),
    }
}

fn feed(router: &mut Router, now: u64, input: Input) -> Vec<Action> {
    if let Err(error) = router.handle(t(now), input) {
        panic!("input refused: {error}");
    }
    drain(router)
}

fn receive(router: &mut Router, now: u64, priority: u8, source: u8) -> Vec<Action> {
    let advert = advert_from(router, priority, source);
    feed(router, now, Input::Advert(advert))
}

/// Started at 0 and left in BACKUP.
fn backup(config: RouterConfig) -> Router {
    let mut router = new_router(config);
    feed(&mut router, 0, Input::Start);
    assert_eq!(router.state(), State::Backup);
    router
}

/// Started at 0, timed out into MASTER; returns the takeover time.
fn master(config: RouterConfig) -> (Router, u64) {
    let mut router = backup(config);
    let deadline = router.next_deadline().map(Timestamp::as_micros);
    let Some(deadline) = deadline else {
        panic!("backup without a deadline")
    };
    router.handle_timeout(t(deadline));
    drain(&mut router);
    assert_eq!(router.state(), State::Master);
    (router, deadline)
}

fn deadline(router: &Router) -> Option<u64> {
    router.next_deadline().map(Timestamp::as_micros)
}

// ----- §6.4.1 Initialize ---------------------------------------------------------------

/// RFC 5798 §6.4.1 / keepalived `vrrp_init_state`: a non-owner enters BACKUP and arms
/// Master_Down_Timer = 3 × 1 s + (256 − 100)/256 s = 3.609375 s (lab figure).
#[test]
fn rfc5798_6_4_1_non_owner_starts_backup_with_master_down_timer() {
    let mut router = new_router(config(100));
    let actions = feed(&mut router, 0, Input::Start);
    assert_eq!(router.state(), State::Backup);
    assert_eq!(
        actions,
        vec![
            Action::StateChanged {
                from: State::Init,
                to: State::Backup
            },
            Action::Notify {
                state: State::Backup,
                priority: 100
            },
        ]
    );
    assert_eq!(deadline(&router), Some(3_609_375));
    assert_eq!(
        router.master_down_interval(),
        Duration::from_micros(3_609_375)
    );
    assert_eq!(router.skew_time(), Duration::from_micros(609_375));
}

/// keepalived deviation (lab gotcha 5): `state MASTER` without priority 255 does not speed
/// up startup — still BACKUP, still the full 3 + 106/256 s for priority 150.
#[test]
fn keepalived_state_master_alone_does_not_speed_up_startup() {
    let mut cfg = config(150);
    cfg.wants_master = true;
    let mut router = new_router(cfg);
    feed(&mut router, 0, Input::Start);
    assert_eq!(router.state(), State::Backup);
    assert_eq!(deadline(&router), Some(3_414_062));
}

/// RFC 5798 §6.4.1 / keepalived: the address owner that wants MASTER takes over at once
/// (keepalived arms a 1 µs down timer), with no BACKUP notification on the way.
#[test]
fn rfc5798_6_4_1_owner_becomes_master_at_once() {
    let mut router = new_router(config(255));
    let actions = feed(&mut router, 0, Input::Start);
    assert!(
        actions.is_empty(),
        "no (init) BACKUP line or notify: {actions:?}"
    );
    assert_eq!(deadline(&router), Some(1));
    router.handle_timeout(t(1));
    let actions = drain(&mut router);
    assert_eq!(router.state(), State::Master);
    assert_eq!(sent_priorities(&actions), vec![255]);
    assert!(actions.contains(&Action::AddVips));
}

/// keepalived: an instance whose interface is down at startup enters FAULT (init) and
/// notifies FAULT; it has no timer.
#[test]
fn keepalived_start_with_interface_down_enters_fault() {
    let mut cfg = config(100);
    cfg.interface_up = false;
    let mut router = new_router(cfg);
    let actions = feed(&mut router, 0, Input::Start);
    assert_eq!(router.state(), State::Fault);
    assert!(actions.contains(&Action::Notify {
        state: State::Fault,
        priority: 100
    }));
    assert_eq!(deadline(&router), None);
    // Adverts are ignored in FAULT.
    assert!(receive(&mut router, 10, 200, 12).is_empty());
    assert_eq!(router.stats().advert_rcvd, 0);
}

// ----- §6.4.2 Backup --------------------------------------------------------------------

/// RFC 5798 §6.4.2 "If the Master_Down_Timer fires": send an advert first, then take the
/// addresses, GARP, notify (keepalived `vrrp_state_master_tx` order).
#[test]
fn rfc5798_6_4_2_master_down_timer_fires_become_master() {
    let mut router = backup(config(100));
    router.handle_timeout(t(3_609_375));
    let actions = drain(&mut router);
    assert_eq!(router.state(), State::Master);
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert(advert_from(&router, 100, 11)),
            Action::StateChanged {
                from: State::Backup,
                to: State::Master
            },
            Action::AddVips,
            Action::SendGratuitous {
                repeat: 5,
                reason: GarpReason::BecameMaster
            },
            Action::Notify {
                state: State::Master,
                priority: 100
            },
        ]
    );
    assert_eq!(router.stats().become_master, 1);
    // Next: the advert timer (1 s), then the delayed GARP burst at +5 s.
    assert_eq!(deadline(&router), Some(4_609_375));
}

/// RFC 5798 §6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the
/// Master_Down_Timer to Skew_Time" — 0.609375 s for priority 100 (lab: graceful failover).
#[test]
fn rfc5798_6_4_2_priority_zero_sets_down_timer_to_skew() {
    let mut router = backup(config(100));
    receive(&mut router, SEC, 0, 12);
    assert_eq!(deadline(&router), Some(SEC + 609_375));
    assert_eq!(router.stats().pri_zero_rcvd, 1);
}

/// RFC 5798 §6.4.2: a higher-priority advert resets Master_Down_Timer and is the master.
#[test]
fn rfc5798_6_4_2_higher_priority_resets_down_timer() {
    let mut router = backup(config(100));
    receive(&mut router, 2 * SEC, 150, 12);
    assert_eq!(deadline(&router), Some(2 * SEC + 3_609_375));
    assert_eq!(router.master(), Some((ip(12), 150)));
}

/// RFC 5798 §6.4.2: "greater than or equal to the local Priority" — equal priority is
/// accepted whatever the addresses (the address tie-break is a MASTER rule only).
#[test]
fn rfc5798_6_4_2_equal_priority_is_accepted() {
    let mut router = backup(config(100));
    receive(&mut router, 2 * SEC, 100, 5);
    assert_eq!(deadline(&router), Some(2 * SEC + 3_609_375));
}

/// RFC 5798 §6.4.2 "Otherwise, discard": a lower priority with preemption leaves the
/// timer running, so we preempt when it fires (keepalived logs "- discarding").
#[test]
fn rfc5798_6_4_2_lower_priority_discarded_when_preempting() {
    let mut router = backup(config(100));
    let actions = receive(&mut router, 2 * SEC, 50, 12);
    assert_eq!(deadline(&router), Some(3_609_375));
    assert_eq!(
        actions,
        vec![Action::Log(LogEvent::DiscardedLowerPriority {
            from: ip(12),
            priority: 50
        })]
    );
    router.handle_timeout(t(3_609_375));
    assert_eq!(router.state(), State::Master);
}

/// RFC 5798 §6.4.2 "If Preempt_Mode is False": `nopreempt` accepts a lower priority master.
#[test]
fn rfc5798_6_4_2_nopreempt_accepts_lower_priority() {
    let mut cfg = config(100);
    cfg.nopreempt = true;
    let mut router = backup(cfg);
    receive(&mut router, 2 * SEC, 50, 12);
    assert_eq!(deadline(&router), Some(2 * SEC + 3_609_375));
    assert_eq!(router.master(), Some((ip(12), 50)));
}

/// RFC 5798 §6.4.2 (v3): a backup sets Master_Adver_Interval from the advert, so its down
/// timer follows the master's interval (3 × 0.1 s + 156 × 0.1/256 s = 0.3609375 s).
#[test]
fn rfc5798_6_4_2_v3_backup_adopts_master_interval() {
    let mut router = backup(config_v3(100, 100));
    assert_eq!(deadline(&router), Some(3_609_375));
    let mut advert = advert_from(&router, 200, 12);
    advert.interval_cs = 10;
    let actions = feed(&mut router, SEC, Input::Advert(advert));
    assert!(
        actions.contains(&Action::Log(LogEvent::MasterIntervalAdopted {
            from_cs: 100,
            to_cs: 10
        }))
    );
    assert_eq!(router.master_adver_interval(), Duration::from_millis(100));
    assert_eq!(deadline(&router), Some(SEC + 360_937));
}

/// The lab's v3 figures: advert_int 0.1 s, priority 100: Master_Down 0.3609 s, skew 0.061 s.
#[test]
fn lab_v3_centisecond_interval_timers() {
    let router = backup(config_v3(100, 10));
    assert_eq!(deadline(&router), Some(360_937));
    assert_eq!(router.skew_time(), Duration::from_micros(60_937));
}

/// keepalived `preempt_delay`: the first lower-priority advert starts the delay and is
/// still accepted; once the delay is over the next one is discarded and we take over one
/// Master_Down_Interval later.
#[test]
fn keepalived_preempt_delay_accepts_lower_priority_until_it_expires() {
    let mut cfg = config(100);
    cfg.preempt_delay = Duration::from_secs(10);
    let mut router = backup(cfg);
    let actions = receive(&mut router, SEC, 50, 12);
    assert!(actions.contains(&Action::Log(LogEvent::PreemptDelayStarted)));
    assert_eq!(deadline(&router), Some(SEC + 3_609_375));
    for second in 2..=10 {
        receive(&mut router, second * SEC, 50, 12);
        assert_eq!(deadline(&router), Some(second * SEC + 3_609_375));
    }
    // 11 s: the delay (started at 1 s) is over: discard, timer keeps running.
    let actions = receive(&mut router, 11 * SEC, 50, 12);
    assert!(matches!(
        actions.as_slice(),
        [Action::Log(LogEvent::DiscardedLowerPriority { .. })]
    ));
    assert_eq!(deadline(&router), Some(10 * SEC + 3_609_375));
}

/// keepalived `preempt_delay`: a higher or equal master stops a running delay.
#[test]
fn keepalived_preempt_delay_stopped_by_higher_priority() {
    let mut cfg = config(100);
    cfg.preempt_delay = Duration::from_secs(10);
    let mut router = backup(cfg);
    receive(&mut router, SEC, 50, 12);
    let actions = receive(&mut router, 2 * SEC, 120, 13);
    assert!(actions.contains(&Action::Log(LogEvent::PreemptDelayStopped)));
    // A new lower-priority master starts a fresh delay.
    let actions = receive(&mut router, 3 * SEC, 50, 12);
    assert!(actions.contains(&Action::Log(LogEvent::PreemptDelayStarted)));
}

/// keepalived `down_timer_adverts`: Master_Down = N × interval + skew.
#[test]
fn keepalived_down_timer_adverts_configurable() {
    let mut cfg = config(100);
    cfg.down_timer_adverts = 5;
    let router = backup(cfg);
    assert_eq!(deadline(&router), Some(5_609_375));
}

// ----- §6.4.3 Master ---------------------------------------------------------------------

/// RFC 5798 §6.4.3 "If the Adver_Timer fires": send an advert, reset the timer.
#[test]
fn rfc5798_6_4_3_master_advertises_every_interval() {
    let (mut router, took_over) = master(config(100));
    for n in 1..=4 {
        let due = took_over + n * SEC;
        assert_eq!(deadline(&router), Some(due));
        router.handle_timeout(t(due));
        let actions = drain(&mut router);
        assert_eq!(sent_priorities(&actions), vec![100]);
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::SendGratuitous { .. }))
        );
    }
    assert_eq!(router.stats().advert_sent, 5);
}

/// keepalived `garp_master_delay`: a second GARP burst 5 s after becoming MASTER.
#[test]
fn keepalived_garp_master_delay_second_burst() {
    let (mut router, took_over) = master(config(100));
    let mut bursts = Vec::new();
    let mut now = took_over;
    while now < took_over + 6 * SEC {
        let Some(next) = deadline(&router) else { break };
        now = next;
        router.handle_timeout(t(now));
        for action in drain(&mut router) {
            if let Action::SendGratuitous { repeat, reason } = action {
                bursts.push((now - took_over, repeat, reason));
            }
        }
    }
    assert_eq!(bursts, vec![(5 * SEC, 5, GarpReason::MasterDelay)]);
}

/// keepalived `garp_master_refresh`: refresh GARPs ride on the first advert after the
/// refresh interval has passed.
#[test]
fn keepalived_garp_master_refresh_rides_on_adverts() {
    let mut cfg = config(100);
    cfg.garp.master_delay = Duration::ZERO;
    cfg.garp.master_refresh = Duration::from_millis(2_500);
    cfg.garp.master_refresh_repeat = 2;
    let (mut router, took_over) = master(cfg);
    let mut refreshes = Vec::new();
    for n in 1..=6 {
        router.handle_timeout(t(took_over + n * SEC));
        for action in drain(&mut router) {
            if let Action::SendGratuitous { repeat, reason } = action {
                assert_eq!((repeat, reason), (2, GarpReason::Refresh));
                refreshes.push(n);
            }
        }
    }
    // Refresh due at 2.5 s → sent with the 3 s advert; next due 5.5 s → 6 s.
    assert_eq!(refreshes, vec![3, 6]);
}

/// RFC 5798 §6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an
/// ADVERTISEMENT" at once, and stay MASTER.
#[test]
fn rfc5798_6_4_3_master_answers_priority_zero_at_once() {
    let (mut router, took_over) = master(config(100));
    let now = took_over + 300_000;
    let actions = receive(&mut router, now, 0, 12);
    assert_eq!(sent_priorities(&actions), vec![100]);
    assert_eq!(router.state(), State::Master);
    // keepalived: having just advertised, the next advert is a full interval away.
    assert_eq!(deadline(&router), Some(now + SEC));
}

/// RFC 5798 §6.4.3: a higher priority makes the master a backup: remove the addresses,
/// notify, arm the down timer.
#[test]
fn rfc5798_6_4_3_master_yields_to_higher_priority() {
    let (mut router, took_over) = master(config(100));
    let now = took_over + 500_000;
    let actions = receive(&mut router, now, 150, 12);
    assert_eq!(router.state(), State::Backup);
    assert!(sent_priorities(&actions).is_empty());
    assert_eq!(
        actions
            .into_iter()
            .filter(|a| !matches!(a, Action::Log(_)))
            .collect::<Vec<_>>(),
        vec![
            Action::StateChanged {
                from: State::Master,
                to: State::Backup
            },
            Action::RemoveVips,
            Action::Notify {
                state: State::Backup,
                priority: 100
            },
        ]
    );
    assert_eq!(router.stats().release_master, 1);
    assert_eq!(deadline(&router), Some(now + 3_609_375));
}

/// RFC 5798 §6.4.3: equal priority and a higher primary address than ours → BACKUP.
#[test]
fn rfc5798_6_4_3_equal_priority_higher_address_wins() {
    let (mut router, took_over) = master(config(100));
    receive(&mut router, took_over + 10, 100, 12);
    assert_eq!(router.state(), State::Backup);
}

/// RFC 5798 §6.4.3: equal priority and a lower address than ours → we stay MASTER (and
/// keepalived re-asserts with an advert).
#[test]
fn rfc5798_6_4_3_equal_priority_lower_address_loses() {
    let (mut router, took_over) = master(config(100));
    let actions = receive(&mut router, took_over + 10, 100, 10);
    assert_eq!(router.state(), State::Master);
    assert_eq!(sent_priorities(&actions), vec![100]);
}

/// keepalived (RFC 9568) deviation: a lower-priority advert is answered with an advert,
/// a GARP burst (plus a delayed one), and `notify_master_rx_lower_pri`.
#[test]
fn keepalived_master_rx_lower_priority_forces_election() {
    let (mut router, took_over) = master(config(100));
    let now = took_over + 200_000;
    let actions = receive(&mut router, now, 50, 12);
    assert_eq!(router.state(), State::Master);
    assert_eq!(
        actions,
        vec![
            Action::Log(LogEvent::MasterReceivedLowerPriority {
                from: ip(12),
                priority: 50,
                ours: 100,
                forcing_election: true
            }),
            Action::SendAdvert(advert_from(&router, 100, 11)),
            Action::SendGratuitous {
                repeat: 5,
                reason: GarpReason::LowerPriority
            },
            Action::NotifyMasterRxLowerPriority {
                from: ip(12),
                priority: 50
            },
        ]
    );
    // Delayed lower-priority burst at +5 s (garp_lower_prio_delay).
    let mut saw_delayed = false;
    let mut clock = now;
    while clock <= now + 5 * SEC {
        let Some(next) = deadline(&router) else { break };
        clock = next;
        router.handle_timeout(t(clock));
        saw_delayed |= drain(&mut router).contains(&Action::SendGratuitous {
            repeat: 5,
            reason: GarpReason::LowerPriorityDelay,
        });
    }
    assert!(saw_delayed);
}

/// keepalived `lower_prio_no_advert` (the older RFC behaviour): no answer advert, and the
/// advert timer is not reset.
#[test]
fn keepalived_lower_prio_no_advert() {
    let mut cfg = config(100);
    cfg.lower_prio_no_advert = true;
    cfg.garp.lower_prio_repeat = 0;
    let (mut router, took_over) = master(cfg);
    let actions = receive(&mut router, took_over + 200_000, 50, 12);
    assert!(sent_priorities(&actions).is_empty());
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::SendGratuitous { .. }))
    );
    assert_eq!(deadline(&router), Some(took_over + SEC));
}

/// keepalived `higher_prio_send_advert`: one advert before yielding.
#[test]
fn keepalived_higher_prio_send_advert() {
    let mut cfg = config(100);
    cfg.higher_prio_send_advert = true;
    let (mut router, took_over) = master(cfg);
    let actions = receive(&mut router, took_over + 10, 200, 12);
    assert_eq!(sent_priorities(&actions), vec![100]);
    assert_eq!(router.state(), State::Backup);
}

/// keepalived 2.2.7 rogue owner: two owners (255) → configuration error, we drop to 254,
/// so the other owner's advert is now higher and we become BACKUP.
#[test]
fn keepalived_owner_conflict_drops_to_254_and_yields() {
    let mut router = new_router(config(255));
    feed(&mut router, 0, Input::Start);
    router.handle_timeout(t(1));
    drain(&mut router);
    let actions = receive(&mut router, 500_000, 255, 5);
    assert!(actions.contains(&Action::Log(LogEvent::OwnerConflict { from: ip(5) })));
    assert_eq!(router.base_priority(), 254);
    assert_eq!(router.effective_priority(), 254);
    assert_eq!(router.state(), State::Backup);
}

/// keepalived: an equal-priority advert from our own address is only warned about.
#[test]
fn keepalived_equal_priority_from_own_address_warns() {
    let (mut router, took_over) = master(config(100));
    let actions = receive(&mut router, took_over + 10, 100, 11);
    assert!(actions.contains(&Action::Log(LogEvent::EqualPriorityFromOwnAddress)));
    assert_eq!(router.state(), State::Master);
}

/// RFC 5798 §6.4.3 "If a Shutdown event is received": priority-0 advert, then the
/// addresses go (keepalived: pri_zero_sent, then STOP notify).
#[test]
fn rfc5798_6_4_3_shutdown_sends_priority_zero_then_removes_vips() {
    let (mut router, took_over) = master(config(100));
    let actions = feed(&mut router, took_over + 10, Input::Stop);
    assert_eq!(
        actions,
        vec![
            Action::SendAdvert(advert_from(&router, 0, 11)),
            Action::RemoveVips,
            Action::StateChanged {
                from: State::Master,
                to: State::Stop
            },
            Action::Notify {
                state: State::Stop,
                priority: 100
            },
        ]
    );
    assert_eq!(router.stats().pri_zero_sent, 1);
    assert_eq!(deadline(&router), None);
}

/// A backup that stops sends nothing.
#[test]
fn rfc5798_6_4_2_backup_shutdown_sends_nothing() {
    let mut router = backup(config(100));
    let actions = feed(&mut router, 10, Input::Stop);
    assert!(sent_priorities(&actions).is_empty());
    assert!(!actions.contains(&Action::RemoveVips));
}

// ----- tracking, FAULT -------------------------------------------------------------------

fn tracked(priority: u8, trackers: Vec<TrackerConfig>) -> RouterConfig {
    let mut cfg = config(priority);
    cfg.trackers = trackers;
    cfg
}

fn tracker(router: &mut Router, now: u64, id: u32, status: TrackerStatus) -> Vec<Action> {
    feed(
        router,
        now,
        Input::Tracker {
            id: TrackerId(id),
            status,
        },
    )
}

/// keepalived `vrrp_set_effective_priority`: base + Σ weights, and a BACKUP's running
/// down timer moves by the change in skew (150 → 90: +60/256 s).
#[test]
fn keepalived_tracking_weight_shifts_running_down_timer() {
    let mut router = backup(tracked(150, vec![TrackerConfig::new(1, -60)]));
    assert_eq!(deadline(&router), Some(3_414_062));
    let actions = tracker(&mut router, SEC, 1, TrackerStatus::Down);
    assert!(
        actions.contains(&Action::Log(LogEvent::EffectivePriorityChanged {
            from: 150,
            to: 90
        }))
    );
    assert_eq!(router.effective_priority(), 90);
    assert_eq!(deadline(&router), Some(3_648_437));
    tracker(&mut router, 2 * SEC, 1, TrackerStatus::Up);
    assert_eq!(router.effective_priority(), 150);
    assert_eq!(deadline(&router), Some(3_414_062));
}

/// keepalived (lab `log-klA-track.txt`): a MASTER whose priority drops keeps MASTER and
/// advertises the new priority; only the others' preemption moves it.
#[test]
fn keepalived_master_priority_drop_does_not_step_down() {
    let (mut router, took_over) = master(tracked(150, vec![TrackerConfig::new(1, -60)]));
    tracker(&mut router, took_over + 100, 1, TrackerStatus::Down);
    assert_eq!(router.state(), State::Master);
    router.handle_timeout(t(took_over + SEC));
    assert_eq!(sent_priorities(&drain(&mut router)), vec![90]);
}

/// keepalived: the effective priority is clamped to 1..=254.
#[test]
fn keepalived_effective_priority_clamped() {
    let mut router = backup(tracked(
        200,
        vec![TrackerConfig::new(1, 100), TrackerConfig::new(2, -254)],
    ));
    assert_eq!(router.effective_priority(), 254);
    tracker(&mut router, 1, 1, TrackerStatus::Down);
    tracker(&mut router, 2, 2, TrackerStatus::Down);
    assert_eq!(router.effective_priority(), 1);
}

/// keepalived: the owner (255) is never adjusted by tracking.
#[test]
fn keepalived_owner_priority_not_adjusted() {
    let mut router = new_router(tracked(255, vec![TrackerConfig::new(1, -50)]));
    tracker(&mut router, 0, 1, TrackerStatus::Down);
    assert_eq!(router.effective_priority(), 255);
}

/// keepalived `notify_priority_changes`.
#[test]
fn keepalived_notify_priority_changes() {
    let mut cfg = tracked(100, vec![TrackerConfig::new(1, 20)]);
    cfg.notify_priority_changes = true;
    let mut router = backup(cfg);
    let actions = tracker(&mut router, 1, 1, TrackerStatus::Down);
    assert!(actions.contains(&Action::NotifyPriorityChange { priority: 100 }));
}

/// keepalived `down_instance` from MASTER: FAULT, with priority-0 adverts (one for
/// entering FAULT, one from releasing the addresses), VIPs removed, FAULT notified.
#[test]
fn keepalived_weight_zero_tracker_down_master_enters_fault() {
    let (mut router, took_over) = master(tracked(100, vec![TrackerConfig::new(7, 0)]));
    let actions = tracker(&mut router, took_over + 10, 7, TrackerStatus::Down);
    assert_eq!(router.state(), State::Fault);
    assert_eq!(sent_priorities(&actions), vec![0, 0]);
    assert!(actions.contains(&Action::RemoveVips));
    assert!(actions.contains(&Action::Notify {
        state: State::Fault,
        priority: 100
    }));
    assert_eq!(router.stats().pri_zero_sent, 1);
    assert_eq!(router.stats().release_master, 1);
    assert_eq!(deadline(&router), None);
}

/// keepalived `try_up_instance` / `vrrp_state_leave_fault`: leaving FAULT goes to BACKUP
/// with a full Master_Down_Interval.
#[test]
fn keepalived_leaving_fault_enters_backup() {
    let mut router = backup(tracked(100, vec![TrackerConfig::new(7, 0)]));
    tracker(&mut router, SEC, 7, TrackerStatus::Down);
    assert_eq!(router.state(), State::Fault);
    let actions = tracker(&mut router, 2 * SEC, 7, TrackerStatus::Up);
    assert_eq!(router.state(), State::Backup);
    assert!(actions.contains(&Action::StateChanged {
        from: State::Fault,
        to: State::Backup
    }));
    assert_eq!(deadline(&router), Some(2 * SEC + 3_609_375));
}

/// keepalived: the instance's interface going down is a FAULT cause, coming back up
/// leaves FAULT for BACKUP; two causes must both clear.
#[test]
fn keepalived_interface_down_and_up() {
    let mut router = backup(tracked(100, vec![TrackerConfig::new(7, 0)]));
    feed(&mut router, SEC, Input::InterfaceDown);
    assert_eq!(router.state(), State::Fault);
    tracker(&mut router, 2 * SEC, 7, TrackerStatus::Down);
    feed(&mut router, 3 * SEC, Input::InterfaceUp);
    assert_eq!(router.state(), State::Fault, "tracker still down");
    tracker(&mut router, 4 * SEC, 7, TrackerStatus::Up);
    assert_eq!(router.state(), State::Backup);
}

/// keepalived `reverse` on a weight-0 tracker: FAULT while the object is *up*.
#[test]
fn keepalived_reverse_weight_zero_faults_while_up() {
    let mut tracker_cfg = TrackerConfig::new(3, 0);
    tracker_cfg.reverse = true;
    tracker_cfg.initial = TrackerStatus::Down;
    let mut router = backup(tracked(100, vec![tracker_cfg]));
    tracker(&mut router, SEC, 3, TrackerStatus::Up);
    assert_eq!(router.state(), State::Fault);
}

// ----- driver mistakes and configuration ---------------------------------------------------

#[test]
fn input_errors_are_typed() {
    let mut router = backup(config(100));
    let mut advert = advert_from(&router, 100, 12);
    advert.vrid = 52;
    assert_eq!(
        router.handle(t(1), Input::Advert(advert)),
        Err(InputError::WrongVrid {
            expected: 51,
            got: 52
        })
    );
    let mut advert = advert_from(&router, 100, 12);
    advert.version = Version::V3;
    assert_eq!(
        router.handle(t(1), Input::Advert(advert)),
        Err(InputError::WrongVersion)
    );
    assert_eq!(
        router.handle(
            t(1),
            Input::Tracker {
                id: TrackerId(9),
                status: TrackerStatus::Up
            }
        ),
        Err(InputError::UnknownTracker(TrackerId(9)))
    );
}

#[test]
fn config_errors_are_typed() {
    let mut cfg = config(100);
    cfg.vrid = 0;
    assert!(matches!(
        Router::new(cfg),
        Err(ConfigError::ZeroVrid { .. })
    ));
    let mut cfg = config(100);
    cfg.advert_interval_cs = 150; // v2 needs whole seconds
    assert!(matches!(
        Router::new(cfg),
        Err(ConfigError::BadInterval { .. })
    ));
    assert!(Router::new(config_v3(100, 4095)).is_ok());
    assert!(matches!(
        Router::new(config_v3(100, 4096)),
        Err(ConfigError::BadInterval { .. })
    ));
    let mut cfg = config(100);
    cfg.down_timer_adverts = 0;
    assert!(matches!(
        Router::new(cfg),
        Err(ConfigError::BadDownTimerAdverts { .. })
    ));
    let cfg = tracked(
        100,
        vec![TrackerConfig::new(1, 1), TrackerConfig::new(1, 2)],
    );
    assert!(matches!(
        Router::new(cfg),
        Err(ConfigError::DuplicateTracker { .. })
    ));
    let cfg = tracked(100, vec![TrackerConfig::new(1, 255)]);
    assert!(matches!(
        Router::new(cfg),
        Err(ConfigError::TrackerWeight { .. })
    ));
}

// ----- reload and external address deletion ------------------------------------------------

/// keepalived `restore_vrrp_state` / `reload_master`: after a SIGHUP a MASTER stays
/// MASTER, keeps its counters and VIPs (adding any new ones), advertises at once, and does
/// not log or notify a transition again.
#[test]
fn keepalived_reload_keeps_master_without_down_timer_wait() {
    let (old, took_over) = master(config(100));
    let mut new = new_router(config(120));
    new.restore_from(&old);
    assert_eq!(drain(&mut new), vec![Action::AddVips]);
    let now = took_over + 500_000;
    let actions = feed(&mut new, now, Input::Start);
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(new.state(), State::Master);
    assert_eq!(new.stats().become_master, 1);
    assert_eq!(deadline(&new), Some(now));
    new.handle_timeout(t(now));
    let actions = drain(&mut new);
    assert_eq!(sent_priorities(&actions), vec![120]);
    assert!(!actions.contains(&Action::AddVips), "VIPs are already set");
    assert_eq!(deadline(&new), Some(now + SEC));
}

/// keepalived: a reloaded BACKUP neither logs "(init)" nor notifies again.
#[test]
fn keepalived_reload_keeps_backup_quietly() {
    let old = backup(config(100));
    let mut new = new_router(config(100));
    new.restore_from(&old);
    let actions = feed(&mut new, 5 * SEC, Input::Start);
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(new.state(), State::Backup);
    assert_eq!(deadline(&new), Some(5 * SEC + 3_609_375));
}

/// keepalived `vrrp_complete_init`: an instance in FAULT before a reload and still
/// faulty after it is not logged or notified again.
#[test]
fn keepalived_reload_keeps_fault_quietly() {
    let mut old = new_router(tracked(100, vec![TrackerConfig::new(1, 0)]));
    feed(&mut old, 0, Input::Start);
    tracker(&mut old, SEC, 1, TrackerStatus::Down);
    assert_eq!(old.state(), State::Fault);
    let mut cfg = tracked(100, vec![TrackerConfig::new(1, 0)]);
    if let Some(first) = cfg.trackers.first_mut() {
        first.initial = TrackerStatus::Down;
    }
    let mut new = new_router(cfg);
    new.restore_from(&old);
    let actions = feed(&mut new, 2 * SEC, Input::Start);
    assert!(actions.is_empty(), "{actions:?}");
    assert_eq!(new.state(), State::Fault);
    // Once the fault clears it goes BACKUP as usual.
    let actions = tracker(&mut new, 3 * SEC, 1, TrackerStatus::Up);
    assert_eq!(new.state(), State::Backup);
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::Notify {
            state: State::Backup,
            ..
        }
    )));
}

/// keepalived `set_vrrp_backup`: a VIP deleted from outside while MASTER → priority-0
/// advert, addresses released, BACKUP, and back to MASTER after only Skew_Time.
#[test]
fn keepalived_vip_deleted_externally_goes_backup_briefly() {
    let (mut router, took_over) = master(config(100));
    let now = took_over + 100;
    let actions = feed(&mut router, now, Input::VirtualAddressDeleted);
    assert_eq!(router.state(), State::Backup);
    assert_eq!(sent_priorities(&actions), vec![0]);
    assert!(actions.contains(&Action::RemoveVips));
    assert_eq!(router.stats().pri_zero_sent, 1);
    assert_eq!(deadline(&router), Some(now + 609_375));
    router.handle_timeout(t(now + 609_375));
    assert_eq!(router.state(), State::Master);
}

// ----- more timer interplay ---------------------------------------------------------------

/// RFC 5798 §6.4.3 (v3): a MASTER yielding to a higher priority adopts the new master's
/// interval for its down timer.
#[test]
fn rfc5798_6_4_3_v3_master_yielding_adopts_interval() {
    let (mut router, took_over) = master(config_v3(100, 100));
    let mut advert = advert_from(&router, 200, 12);
    advert.interval_cs = 50;
    let now = took_over + 10;
    feed(&mut router, now, Input::Advert(advert));
    assert_eq!(router.state(), State::Backup);
    // 3 × 0.5 s + 156 × 50 cs / 256 = 1.5 + 0.3046875 s.
    assert_eq!(deadline(&router), Some(now + 1_804_687));
}

/// keepalived: a BACKUP whose tracked priority rises above the master's does not take
/// over at once: it starts discarding the master's adverts and preempts when its (shifted)
/// down timer runs out.
#[test]
fn keepalived_priority_rise_preempts_after_down_timer() {
    let mut tracker_cfg = TrackerConfig::new(1, 60);
    tracker_cfg.initial = TrackerStatus::Down;
    let mut router = backup(tracked(90, vec![tracker_cfg]));
    receive(&mut router, SEC, 100, 12);
    // Master_Down for 90: 3 + 166/256 s = 3.6484375 s.
    assert_eq!(deadline(&router), Some(SEC + 3_648_437));
    tracker(&mut router, SEC + 500_000, 1, TrackerStatus::Up);
    assert_eq!(router.effective_priority(), 150);
    // Shifted by the skew change (166 − 106)/256 s = 0.234375 s.
    assert_eq!(deadline(&router), Some(SEC + 3_414_062));
    let actions = receive(&mut router, 2 * SEC, 100, 12);
    assert!(matches!(
        actions.as_slice(),
        [Action::Log(LogEvent::DiscardedLowerPriority { .. })]
    ));
    router.handle_timeout(t(SEC + 3_414_062));
    assert_eq!(router.state(), State::Master);
}

/// keepalived `vrrp_init_state`: a weight-0 tracker reported down before the start puts
/// the instance in FAULT (init).
#[test]
fn keepalived_tracker_down_before_start_starts_in_fault() {
    let mut router = new_router(tracked(100, vec![TrackerConfig::new(7, 0)]));
    tracker(&mut router, 0, 7, TrackerStatus::Down);
    let actions = feed(&mut router, 0, Input::Start);
    assert_eq!(router.state(), State::Fault);
    assert!(actions.contains(&Action::StateChanged {
        from: State::Init,
        to: State::Fault
    }));
    tracker(&mut router, SEC, 7, TrackerStatus::Up);
    assert_eq!(router.state(), State::Backup);
}

/// keepalived `vrrp_restore_interface` with `-X/--release-vips` (or `-V`): the VIPs are
/// removed even though this router never set them, so addresses a previous run or a
/// demoting reload left behind do not stay as duplicates; without it, nothing is removed.
#[test]
fn release_vips_always_removes_vips_the_router_did_not_set() {
    let removes = |release_vips_always: bool| {
        let mut config = config(100);
        config.release_vips_always = release_vips_always;
        let mut router = Router::new(config).expect("valid config");
        router.handle(t(0), Input::Start).expect("start");
        drain(&mut router)
            .iter()
            .filter(|a| matches!(a, Action::RemoveVips))
            .count()
    };
    assert_eq!(removes(false), 0);
    assert_eq!(removes(true), 1);
}
