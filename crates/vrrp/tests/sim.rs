//! Deterministic discrete-event simulation of N routers on a virtual LAN.
//!
//! Every advert a router sends is delivered to every other live router after a random
//! delay, or lost. proptest draws the scenario (priorities, version and interval, start
//! times, delays, loss, crashes, restarts, graceful stops, tracker flips, interface
//! down/up → FAULT); the simulation itself is a
//! pure function of that scenario (its own seeded PRNG, a virtual clock, no sleeps).
//!
//! Checked after the chaos phase and a settling time without loss:
//! - exactly one MASTER, holding the highest *effective* priority of the live routers (a
//!   weight −60 tracker flips during the chaos and stays as it ended; when
//!   several share it, RFC 5798 keeps whichever became MASTER first: a BACKUP accepts an
//!   equal priority, §6.4.2, and the address only breaks ties between two MASTERs, §6.4.3);
//! - every MASTER has its VIPs installed and no BACKUP does;
//! - after the master crashes, a router (the best remaining one when LAN jitter is below
//!   the gap in Master_Down between it and the runner-up) is MASTER within
//!   Master_Down_Interval + the LAN delay (and not before Master_Down − one interval);
//!   after a graceful stop, within Skew_Time + the LAN delay.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{Lan, node_address};
use proptest::prelude::*;
use vrrp::advert::{Advert, Version};
use vrrp::router::{
    Action, Input, Router, RouterConfig, State, Timestamp, TrackerConfig, TrackerId, TrackerStatus,
};

#[derive(Debug, Clone)]
enum Event {
    Deliver {
        to: usize,
        incarnation: u32,
        advert: Advert,
    },
    Crash(usize),
    Stop(usize),
    Restart(usize),
    /// Flip the node's weighted tracker (weight −60).
    ToggleTracker(usize),
    /// Set the node's interface up or down (down = FAULT).
    Interface(usize, bool),
}

struct Node {
    config: RouterConfig,
    router: Option<Router>,
    /// Bumped on every restart so packets addressed to a dead incarnation are dropped.
    incarnation: u32,
    /// The tracked object's state outlives the daemon (a script result, a file).
    tracker_down: bool,
    interface_up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transition {
    at: u64,
    node: usize,
    to: State,
}

struct Sim {
    now: u64,
    nodes: Vec<Node>,
    lan: Lan<Event>,
    transitions: Vec<Transition>,
}

impl Sim {
    fn new(configs: Vec<RouterConfig>, seed: u64, max_delay_us: u64) -> Sim {
        Sim {
            now: 0,
            nodes: configs
                .into_iter()
                .map(|config| Node {
                    config,
                    router: None,
                    incarnation: 0,
                    tracker_down: false,
                    interface_up: true,
                })
                .collect(),
            lan: Lan::new(seed, 0, max_delay_us),
            transitions: Vec::new(),
        }
    }

    fn alive(&self, index: usize) -> bool {
        self.nodes.get(index).is_some_and(|n| n.router.is_some())
    }

    fn router(&self, index: usize) -> Option<&Router> {
        self.nodes.get(index).and_then(|n| n.router.as_ref())
    }

    /// Route the actions of `index` onto the LAN and into the transition log.
    fn drain(&mut self, index: usize) {
        let mut actions = Vec::new();
        if let Some(router) = self.nodes.get_mut(index).and_then(|n| n.router.as_mut()) {
            actions.extend(std::iter::from_fn(|| router.poll_action()));
        }
        for action in actions {
            match action {
                Action::SendAdvert(advert) => {
                    let nodes = &self.nodes;
                    self.lan
                        .broadcast(self.now, index, nodes.len(), |to| Event::Deliver {
                            to,
                            incarnation: nodes.get(to).map_or(0, |n| n.incarnation),
                            advert: advert.clone(),
                        });
                }
                Action::StateChanged { to, .. } => self.transitions.push(Transition {
                    at: self.now,
                    node: index,
                    to,
                }),
                _ => {}
            }
        }
    }

    fn start(&mut self, index: usize) {
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        let mut config = node.config.clone();
        config.interface_up = node.interface_up;
        if let Some(tracker) = config.trackers.first_mut() {
            tracker.initial = if node.tracker_down {
                TrackerStatus::Down
            } else {
                TrackerStatus::Up
            };
        }
        let mut router = match Router::new(config) {
            Ok(router) => router,
            Err(error) => panic!("scenario config rejected: {error}"),
        };
        let _ = router.handle(Timestamp::from_micros(self.now), Input::Start);
        node.router = Some(router);
        node.incarnation += 1;
        self.drain(index);
    }

    fn apply(&mut self, event: Event) {
        let now = Timestamp::from_micros(self.now);
        match event {
            Event::Deliver {
                to,
                incarnation,
                advert,
            } => {
                let Some(node) = self.nodes.get_mut(to) else {
                    return;
                };
                if node.incarnation != incarnation {
                    return;
                }
                if let Some(router) = node.router.as_mut() {
                    if let Err(error) = router.handle(now, Input::Advert(advert)) {
                        panic!("delivery refused: {error}");
                    }
                    self.drain(to);
                }
            }
            Event::Crash(index) => {
                if let Some(node) = self.nodes.get_mut(index)
                    && node.router.take().is_some()
                {
                    self.transitions.push(Transition {
                        at: self.now,
                        node: index,
                        to: State::Init,
                    });
                }
            }
            Event::Stop(index) => {
                if let Some(router) = self.nodes.get_mut(index).and_then(|n| n.router.as_mut()) {
                    let _ = router.handle(now, Input::Stop);
                    self.drain(index);
                }
                // A stopped daemon is gone.
                if let Some(node) = self.nodes.get_mut(index) {
                    node.router = None;
                }
            }
            Event::Restart(index) => {
                if !self.alive(index) {
                    self.start(index);
                }
            }
            Event::ToggleTracker(index) => {
                let Some(node) = self.nodes.get_mut(index) else {
                    return;
                };
                node.tracker_down = !node.tracker_down;
                let status = if node.tracker_down {
                    TrackerStatus::Down
                } else {
                    TrackerStatus::Up
                };
                if let Some(router) = node.router.as_mut() {
                    let input = Input::Tracker {
                        id: TrackerId(1),
                        status,
                    };
                    if let Err(error) = router.handle(now, input) {
                        panic!("tracker refused: {error}");
                    }
                    self.drain(index);
                }
            }
            Event::Interface(index, up) => {
                let Some(node) = self.nodes.get_mut(index) else {
                    return;
                };
                node.interface_up = up;
                if let Some(router) = node.router.as_mut() {
                    let input = if up {
                        Input::InterfaceUp
                    } else {
                        Input::InterfaceDown
                    };
                    let _ = router.handle(now, input);
                    self.drain(index);
                }
            }
        }
    }

    fn run_until(&mut self, end: u64) {
        loop {
            let next_event = self.lan.next_at();
            let next_timer = self
                .nodes
                .iter()
                .filter_map(|n| n.router.as_ref()?.next_deadline())
                .map(Timestamp::as_micros)
                .min();
            let next = match (next_event, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            if next_timer == Some(next) {
                for index in 0..self.nodes.len() {
                    let due = self
                        .router(index)
                        .and_then(Router::next_deadline)
                        .is_some_and(|d| d.as_micros() <= self.now);
                    if due {
                        if let Some(router) =
                            self.nodes.get_mut(index).and_then(|n| n.router.as_mut())
                        {
                            router.handle_timeout(Timestamp::from_micros(self.now));
                        }
                        self.drain(index);
                    }
                }
            } else if let Some(event) = self.lan.pop() {
                self.apply(event);
            }
            self.check_vip_invariant();
        }
        self.now = end;
    }

    fn check_vip_invariant(&self) {
        for (index, node) in self.nodes.iter().enumerate() {
            if let Some(router) = &node.router {
                assert_eq!(
                    router.vips_set(),
                    router.state() == State::Master,
                    "node {index} in {} with vips_set={} at {}",
                    router.state(),
                    router.vips_set(),
                    self.now
                );
            }
        }
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.router(i).is_some_and(|r| r.state() == State::Master))
            .collect()
    }

    fn best_priority(&self) -> Option<u8> {
        self.nodes
            .iter()
            .filter_map(|n| n.router.as_ref().map(Router::effective_priority))
            .max()
    }

    fn assert_converged(&self, when: &str) {
        let masters = self.masters();
        assert_eq!(
            masters.len(),
            1,
            "{when}: masters {masters:?} at {}",
            self.now
        );
        let Some(&master) = masters.first() else {
            return;
        };
        let Some(router) = self.router(master) else {
            return;
        };
        assert_eq!(
            Some(router.effective_priority()),
            self.best_priority(),
            "{when}: master {master} is not the best"
        );
        for (index, node) in self.nodes.iter().enumerate() {
            if let Some(other) = &node.router
                && index != master
            {
                assert_eq!(other.state(), State::Backup, "{when}: node {index}");
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    priorities: Vec<u8>,
    version: Version,
    interval_cs: u16,
    start_offsets_permille: Vec<u64>,
    delay_permille: u64,
    loss_per_mille: u64,
    chaos: Vec<(u64, usize, u8)>,
    seed: u64,
    crash_phase_permille: u64,
    graceful_failover: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=5)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(1u8..=255, n),
                prop_oneof![
                    Just((Version::V2, 100u16)),
                    Just((Version::V3, 100u16)),
                    Just((Version::V3, 10u16)),
                    Just((Version::V3, 25u16)),
                ],
                prop::collection::vec(0u64..3000, n),
                0u64..=100,
                0u64..=300,
                prop::collection::vec((0u64..1000, 0usize..n, 0u8..5), 0..10),
                any::<u64>(),
                0u64..1000,
                any::<bool>(),
            )
        })
        .prop_map(
            |(
                priorities,
                (version, interval_cs),
                starts,
                delay,
                loss,
                chaos,
                seed,
                phase,
                graceful,
            )| {
                Scenario {
                    priorities,
                    version,
                    interval_cs,
                    start_offsets_permille: starts,
                    delay_permille: delay,
                    loss_per_mille: loss,
                    chaos,
                    seed,
                    crash_phase_permille: phase,
                    graceful_failover: graceful,
                }
            },
        )
}

fn configs(priorities: &[u8], version: Version, interval_cs: u16) -> Vec<RouterConfig> {
    priorities
        .iter()
        .enumerate()
        .map(|(index, &priority)| {
            let mut config = RouterConfig::new(
                format!("VI_{index}"),
                version,
                51,
                priority,
                node_address(index),
            );
            config.advert_interval_cs = interval_cs;
            config.trackers = vec![TrackerConfig::new(1, -60)];
            config.virtual_addresses = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
            config
        })
        .collect()
}

fn run_scenario(s: &Scenario) {
    let interval_us = u64::from(s.interval_cs) * 10_000;
    // Up to 10 % of an interval of LAN delay.
    let max_delay_us = interval_us * s.delay_permille / 1000;
    let mut sim = Sim::new(
        configs(&s.priorities, s.version, s.interval_cs),
        s.seed,
        max_delay_us,
    );

    // Phase 1: staggered starts (up to 3 intervals) and chaos over 30 intervals, with loss.
    for (index, offset) in s.start_offsets_permille.iter().enumerate() {
        sim.lan
            .schedule(interval_us * offset / 1000, Event::Restart(index));
    }
    let chaos_end = 30 * interval_us;
    for &(at_permille, node, kind) in &s.chaos {
        let at = chaos_end * at_permille / 1000;
        let event = match kind {
            0 => Event::Crash(node),
            1 => Event::Stop(node),
            2 => Event::Restart(node),
            3 => Event::ToggleTracker(node),
            _ => Event::Interface(node, at_permille % 2 == 0),
        };
        sim.lan.schedule(at, event);
    }
    sim.lan.loss_per_mille = s.loss_per_mille;
    sim.run_until(chaos_end);

    // Phase 2: no loss, everyone back; settle for the slowest possible takeover
    // (start wait + preemption, each ≤ 4 intervals) plus margin.
    sim.lan.loss_per_mille = 0;
    for index in 0..sim.nodes.len() {
        sim.lan.schedule(chaos_end, Event::Interface(index, true));
        sim.lan.schedule(chaos_end, Event::Restart(index));
    }
    let settled = chaos_end + 12 * interval_us;
    sim.run_until(settled);
    sim.assert_converged("after chaos");

    // Phase 3: fail the master at a random phase of the advert interval.
    let Some(&old_master) = sim.masters().first() else {
        return;
    };
    let crash_at = settled + interval_us * s.crash_phase_permille / 1000;
    sim.lan.schedule(
        crash_at,
        if s.graceful_failover {
            Event::Stop(old_master)
        } else {
            Event::Crash(old_master)
        },
    );
    sim.run_until(crash_at);
    let Some(best) = sim.best_priority() else {
        return; // a single router: nobody to fail over to
    };
    let Some(heir) = (0..sim.nodes.len()).find(|&i| {
        sim.router(i)
            .is_some_and(|r| r.effective_priority() == best)
    }) else {
        return;
    };
    let Some(heir_router) = sim.router(heir) else {
        return;
    };
    let master_down = heir_router.master_down_interval().as_micros();
    let skew = heir_router.skew_time().as_micros();
    let master_down = u64::try_from(master_down).unwrap_or(u64::MAX);
    let skew = u64::try_from(skew).unwrap_or(u64::MAX);
    let transitions_before = sim.transitions.len();
    sim.run_until(crash_at + 2 * master_down + 12 * interval_us);
    let takeover = sim
        .transitions
        .iter()
        .skip(transitions_before)
        .find(|t| t.to == State::Master && t.node != old_master)
        .copied();
    let Some(takeover) = takeover else {
        panic!("no takeover after the master failed at {crash_at}");
    };
    let failover = takeover.at - crash_at;
    if s.graceful_failover {
        // Priority 0 → Skew_Time (RFC 5798 §6.4.2).
        assert!(
            failover <= skew + max_delay_us,
            "graceful failover {failover} µs > skew {skew} + delay {max_delay_us}"
        );
    } else {
        assert!(
            failover <= master_down + max_delay_us,
            "failover {failover} µs > Master_Down {master_down} + delay {max_delay_us}"
        );
        assert!(
            failover + interval_us >= master_down,
            "failover {failover} µs is faster than Master_Down − interval"
        );
    }
    // The first to take over is the best remaining router, unless LAN jitter exceeds the
    // gap between its Master_Down and the runner-up's (then either may go first briefly).
    let runner_up_down = (0..sim.nodes.len())
        .filter(|&i| i != heir)
        .filter_map(|i| sim.router(i))
        .map(|r| u64::try_from(r.master_down_interval().as_micros()).unwrap_or(u64::MAX))
        .min();
    if runner_up_down.is_none_or(|down| down > master_down + max_delay_us) {
        assert_eq!(
            sim.router(takeover.node).map(Router::effective_priority),
            Some(best),
            "the first to take over is the best remaining router"
        );
    }
    sim.assert_converged("after failover");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sim_converges_to_one_best_master_and_fails_over_in_time(s in scenario()) {
        run_scenario(&s);
    }
}

/// The lab pair (A 150, B 100, VRRPv2, 1 s): A is MASTER after its own Master_Down
/// (3 + 106/256 s, lab: 3.47–3.55 s) even with `state MASTER`; after a crash B takes over
/// within its Master_Down (3.609375 s after A's last advert); A then preempts back after
/// its own wait (lab: ~3.4 s).
#[test]
fn sim_lab_pair_figures() {
    let mut cfgs = configs(&[150, 100], Version::V2, 100);
    if let Some(a) = cfgs.first_mut() {
        a.wants_master = true;
    }
    let mut sim = Sim::new(cfgs, 1, 0);
    sim.start(0);
    sim.start(1);
    sim.run_until(10_000_000);
    sim.assert_converged("startup");
    let first = sim
        .transitions
        .iter()
        .find(|t| t.to == State::Master)
        .copied();
    assert_eq!(
        first,
        Some(Transition {
            at: 3_414_062,
            node: 0,
            to: State::Master
        })
    );
    // A's adverts go out at 3.414062 + k s; crash A right after the one at 9.414062 s.
    sim.lan.schedule(9_500_000, Event::Crash(0));
    sim.run_until(20_000_000);
    let takeover = sim
        .transitions
        .iter()
        .find(|t| t.node == 1 && t.to == State::Master)
        .copied();
    assert_eq!(takeover.map(|t| t.at), Some(9_414_062 + 3_609_375));
    // A comes back: BACKUP (init), discards B's lower priority, preempts after 3.414062 s.
    sim.lan.schedule(20_000_000, Event::Restart(0));
    sim.run_until(30_000_000);
    let back = sim
        .transitions
        .iter()
        .rev()
        .find(|t| t.node == 0 && t.to == State::Master)
        .copied();
    assert_eq!(back.map(|t| t.at), Some(20_000_000 + 3_414_062));
    sim.assert_converged("after preemption");
}

/// Graceful stop of the lab master: B takes over one Skew_Time (0.609375 s) after the
/// priority-0 advert (lab: 0.610–0.627 s).
#[test]
fn sim_lab_graceful_stop_takes_skew_time() {
    let mut sim = Sim::new(configs(&[150, 100], Version::V2, 100), 2, 0);
    sim.start(0);
    sim.start(1);
    sim.run_until(10_000_000);
    sim.lan.schedule(10_000_000, Event::Stop(0));
    sim.run_until(20_000_000);
    let takeover = sim
        .transitions
        .iter()
        .find(|t| t.node == 1 && t.to == State::Master)
        .copied();
    assert_eq!(takeover.map(|t| t.at), Some(10_000_000 + 609_375));
}

/// VRRPv3 at 0.1 s (lab): MASTER after 0.341406 s at startup; crash failover within
/// 0.3609375 s of the last advert.
#[test]
fn sim_lab_v3_centisecond_failover() {
    let mut sim = Sim::new(configs(&[150, 100], Version::V3, 10), 3, 0);
    sim.start(0);
    sim.start(1);
    sim.run_until(2_000_000);
    sim.assert_converged("startup");
    // Startup (lab: first VIP after 0.425 s incl. daemon start): 0.3 + 106 × 0.1/256 s.
    let first = sim
        .transitions
        .iter()
        .find(|t| t.to == State::Master)
        .copied();
    assert_eq!(first.map(|t| (t.at, t.node)), Some((341_406, 0)));
    let crash_at = 2_000_000;
    sim.lan.schedule(crash_at, Event::Crash(0));
    let before = sim.transitions.len();
    sim.run_until(4_000_000);
    let takeover = sim
        .transitions
        .iter()
        .skip(before)
        .find(|t| t.node == 1 && t.to == State::Master)
        .copied();
    let Some(takeover) = takeover else {
        panic!("no failover")
    };
    assert!(
        takeover.at - crash_at <= 360_937,
        "{}",
        takeover.at - crash_at
    );
    assert!(takeover.at - crash_at >= 360_937 - 100_000);
}
