//! Discrete-event simulation of N nodes, each running one `vrrp_sync_group` of two
//! instances (VRID 51 and 52), on a virtual LAN with random start times, delays, loss,
//! crashes, restarts and interface faults. proptest draws the scenario.
//!
//! Checked:
//! - after every step, the live members of a node's group are in the same state (keepalived
//!   `vrrp_sync.c`: MASTER only together, one BACKUP → all BACKUP, one FAULT → all FAULT);
//! - after the chaos and a quiet settling time, exactly one node is MASTER for both VRIDs
//!   and it has the highest priority;
//! - after that node crashes, another takes both VRIDs within Master_Down_Interval + the LAN
//!   delay.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{Lan, node_address};
use proptest::prelude::*;
use vrrp::advert::{Advert, Version};
use vrrp::router::{Action, GroupAction, Input, Router, RouterConfig, State, SyncGroup, Timestamp};

const VRIDS: [u8; 2] = [51, 52];

#[derive(Debug, Clone)]
enum Event {
    Deliver {
        to: usize,
        incarnation: u32,
        advert: Advert,
    },
    Crash(usize),
    Restart(usize),
    /// Interface of one member (0 or 1) of the node's group.
    Interface(usize, usize, bool),
}

struct Node {
    priority: u8,
    group: Option<SyncGroup>,
    incarnation: u32,
    interface_up: [bool; 2],
}

struct Sim {
    now: u64,
    nodes: Vec<Node>,
    version: Version,
    interval_cs: u16,
    lan: Lan<Event>,
    /// (time, node) of every member entering MASTER.
    masters_entered: Vec<(u64, usize)>,
}

impl Sim {
    fn member_config(&self, node: usize, member: usize) -> RouterConfig {
        let priority = self.nodes.get(node).map_or(100, |n| n.priority);
        let vrid = VRIDS.get(member).copied().unwrap_or(51);
        let mut config = RouterConfig::new(
            format!("VI_{vrid}"),
            self.version,
            vrid,
            priority,
            node_address(node),
        );
        config.advert_interval_cs = self.interval_cs;
        config.virtual_addresses = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100 + vrid))];
        config.interface_up = self
            .nodes
            .get(node)
            .and_then(|n| n.interface_up.get(member).copied())
            .unwrap_or(true);
        config
    }

    fn group(&self, node: usize) -> Option<&SyncGroup> {
        self.nodes.get(node).and_then(|n| n.group.as_ref())
    }

    fn group_mut(&mut self, node: usize) -> Option<&mut SyncGroup> {
        self.nodes.get_mut(node).and_then(|n| n.group.as_mut())
    }

    fn drain(&mut self, index: usize) {
        let mut actions = Vec::new();
        if let Some(group) = self.group_mut(index) {
            actions.extend(std::iter::from_fn(|| group.poll_action()));
        }
        for action in actions {
            let GroupAction::Member { action, .. } = action else {
                continue;
            };
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
                Action::StateChanged {
                    to: State::Master, ..
                } => self.masters_entered.push((self.now, index)),
                _ => {}
            }
        }
        self.check_members_agree(index);
    }

    fn check_members_agree(&self, index: usize) {
        if let Some(group) = self.group(index) {
            let states: Vec<State> = group.members().iter().map(Router::state).collect();
            assert!(
                states.windows(2).all(|w| w.first() == w.get(1)),
                "node {index} members disagree at {}: {states:?}",
                self.now
            );
        }
    }

    fn start(&mut self, index: usize) {
        let mut members = Vec::new();
        for member in 0..VRIDS.len() {
            match Router::new(self.member_config(index, member)) {
                Ok(router) => members.push(router),
                Err(error) => panic!("{error}"),
            }
        }
        let mut group = SyncGroup::new("G1", members);
        group.start(Timestamp::from_micros(self.now));
        if let Some(node) = self.nodes.get_mut(index) {
            node.group = Some(group);
            node.incarnation += 1;
        }
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
                if self.nodes.get(to).map(|n| n.incarnation) != Some(incarnation) {
                    return;
                }
                let member = VRIDS.iter().position(|&v| v == advert.vrid);
                if let (Some(group), Some(member)) = (self.group_mut(to), member) {
                    if let Err(error) = group.handle(now, member, Input::Advert(advert)) {
                        panic!("{error}");
                    }
                    self.drain(to);
                }
            }
            Event::Crash(index) => {
                if let Some(node) = self.nodes.get_mut(index) {
                    node.group = None;
                }
            }
            Event::Restart(index) => {
                if self.group(index).is_none() {
                    self.start(index);
                }
            }
            Event::Interface(index, member, up) => {
                if let Some(slot) = self
                    .nodes
                    .get_mut(index)
                    .and_then(|n| n.interface_up.get_mut(member))
                {
                    *slot = up;
                }
                let input = if up {
                    Input::InterfaceUp
                } else {
                    Input::InterfaceDown
                };
                if let Some(group) = self.group_mut(index) {
                    let _ = group.handle(now, member, input);
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
                .filter_map(|n| n.group.as_ref()?.next_deadline())
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
                    let now = self.now;
                    let due = self
                        .group(index)
                        .and_then(SyncGroup::next_deadline)
                        .is_some_and(|d| d.as_micros() <= now);
                    if due {
                        if let Some(group) = self.group_mut(index) {
                            group.handle_timeout(Timestamp::from_micros(now));
                        }
                        self.drain(index);
                    }
                }
            } else if let Some(event) = self.lan.pop() {
                self.apply(event);
            }
        }
        self.now = end;
    }

    fn master_nodes(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.group(i)
                    .is_some_and(|g| g.members().iter().all(|m| m.state() == State::Master))
            })
            .collect()
    }

    fn best_priority(&self) -> Option<u8> {
        self.nodes
            .iter()
            .filter(|n| n.group.is_some())
            .map(|n| n.priority)
            .max()
    }

    fn assert_converged(&self, when: &str) {
        let masters = self.master_nodes();
        assert_eq!(masters.len(), 1, "{when}: master nodes {masters:?}");
        let Some(&master) = masters.first() else {
            return;
        };
        assert_eq!(
            self.nodes.get(master).map(|n| n.priority),
            self.best_priority(),
            "{when}: master node {master} is not the best"
        );
        for (index, node) in self.nodes.iter().enumerate() {
            if let Some(group) = &node.group
                && index != master
            {
                assert_eq!(group.state(), State::Backup, "{when}: node {index} group");
                for member in group.members() {
                    assert_eq!(member.state(), State::Backup, "{when}: node {index}");
                }
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
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=4)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(1u8..=254, n),
                prop_oneof![Just((Version::V2, 100u16)), Just((Version::V3, 10u16))],
                prop::collection::vec(0u64..3000, n),
                0u64..=50,
                0u64..=300,
                prop::collection::vec((0u64..1000, 0usize..n, 0u8..4), 0..8),
                any::<u64>(),
                0u64..1000,
            )
        })
        .prop_map(
            |(priorities, (version, interval_cs), starts, delay, loss, chaos, seed, phase)| {
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
                }
            },
        )
}

fn run_scenario(s: &Scenario) {
    let interval_us = u64::from(s.interval_cs) * 10_000;
    let max_delay_us = interval_us * s.delay_permille / 1000;
    let mut sim = Sim {
        now: 0,
        nodes: s
            .priorities
            .iter()
            .map(|&priority| Node {
                priority,
                group: None,
                incarnation: 0,
                interface_up: [true; 2],
            })
            .collect(),
        version: s.version,
        interval_cs: s.interval_cs,
        lan: Lan::new(s.seed, s.loss_per_mille, max_delay_us),
        masters_entered: Vec::new(),
    };
    for (index, offset) in s.start_offsets_permille.iter().enumerate() {
        sim.lan
            .schedule(interval_us * offset / 1000, Event::Restart(index));
    }
    let chaos_end = 30 * interval_us;
    for &(at_permille, node, kind) in &s.chaos {
        let at = chaos_end * at_permille / 1000;
        let member = usize::from(at_permille % 2 == 1);
        let event = match kind {
            0 => Event::Crash(node),
            1 => Event::Restart(node),
            2 => Event::Interface(node, member, false),
            _ => Event::Interface(node, member, true),
        };
        sim.lan.schedule(at, event);
    }
    sim.run_until(chaos_end);

    sim.lan.loss_per_mille = 0;
    for index in 0..sim.nodes.len() {
        for member in 0..VRIDS.len() {
            sim.lan
                .schedule(chaos_end, Event::Interface(index, member, true));
        }
        sim.lan.schedule(chaos_end, Event::Restart(index));
    }
    let settled = chaos_end + 16 * interval_us;
    sim.run_until(settled);
    sim.assert_converged("after chaos");

    let Some(&old_master) = sim.master_nodes().first() else {
        return;
    };
    let crash_at = settled + interval_us * s.crash_phase_permille / 1000;
    sim.lan.schedule(crash_at, Event::Crash(old_master));
    sim.run_until(crash_at);
    let Some(best) = sim.best_priority() else {
        return;
    };
    let Some(heir) = (0..sim.nodes.len())
        .find(|&i| sim.group(i).is_some() && sim.nodes.get(i).map(|n| n.priority) == Some(best))
    else {
        return;
    };
    let master_down = sim
        .group(heir)
        .and_then(|g| g.member(0))
        .map(|m| u64::try_from(m.master_down_interval().as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(u64::MAX);
    let entered_before = sim.masters_entered.len();
    sim.run_until(crash_at + 2 * master_down + 16 * interval_us);
    let Some(&(first_at, _)) = sim.masters_entered.get(entered_before) else {
        panic!("no takeover after the master node crashed at {crash_at}");
    };
    let failover = first_at - crash_at;
    assert!(
        failover <= master_down + max_delay_us,
        "group failover {failover} µs > Master_Down {master_down} + delay {max_delay_us}"
    );
    sim.assert_converged("after failover");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sim_sync_groups_move_together_and_converge(s in scenario()) {
        run_scenario(&s);
    }
}
