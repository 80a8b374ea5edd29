//! A BACKUP whose adverts come closer together than its pacing gap reads them in
//! paced rounds, its socket out of the event loop in between (`vrrp::pacing`), and
//! still behaves as RFC 5798 §6.4.2 says: it never takes over from a live master,
//! takes every instance over one Master_Down_Interval after the master dies (each
//! timer restarted from its last advert's arrival time, not from when it was read),
//! and one Skew_Time after a priority-0 advert.
//!
//! 40 VRRPv3 instances with advert intervals of 0.10 to 0.49 s: their timers drift
//! apart, so adverts reach the BACKUP every few milliseconds, closer than its gap
//! (a quarter of the shortest Skew_Time, 15 ms here).

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Daemon, can_run, crash, master_down, pair, skew, start, wait_log};
use lab::Lab;

const INSTANCES: u32 = 40;
/// Scheduling slack on a loaded 2-CPU machine (polling itself is 10 ms).
const TOLERANCE: Duration = Duration::from_millis(400);
const WAIT: Duration = Duration::from_secs(15);

fn advert_int(instance: u32) -> Duration {
    Duration::from_millis(100 + 10 * u64::from(instance))
}

fn vip(instance: u32) -> String {
    format!("192.0.2.{}/24", 100 + instance)
}

fn config(priority: u32) -> String {
    (0..INSTANCES)
        .map(|i| {
            format!(
                "vrrp_instance VI_{i} {{
    version 3
    state BACKUP
    interface eth0
    virtual_router_id {}
    priority {priority}
    advert_int {:.2}
    virtual_ipaddress {{
        {} dev eth0
    }}
}}
",
                i + 1,
                advert_int(i).as_secs_f64(),
                vip(i)
            )
        })
        .collect()
}

/// The instances whose VIP `node` holds.
fn held(lab: &Lab, node: &str) -> Vec<u32> {
    let addresses = lab.addresses(node, "eth0").unwrap_or_default();
    (0..INSTANCES)
        .filter(|&i| addresses.contains(&vip(i)))
        .collect()
}

/// Polls until `node` holds every VIP; returns when each was first seen, from `since`.
fn wait_all(lab: &Lab, node: &str, since: Instant) -> HashMap<u32, Duration> {
    let mut seen = HashMap::new();
    while seen.len() < INSTANCES as usize {
        assert!(
            since.elapsed() < WAIT,
            "{node} holds only {:?}",
            held(lab, node)
        );
        let at = since.elapsed();
        for i in held(lab, node) {
            seen.entry(i).or_insert(at);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    seen
}

#[test]
fn paced_backup_keeps_rfc_timers() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pace");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150));
    wait_all(&lab, "a", Instant::now());
    let b = start(&mut lab, "b", Daemon::Ours, &config(100));
    wait_log(&mut lab, &b, "reading them every", WAIT).expect("b reads its adverts paced");

    // A live master: through several Master_Down_Intervals of the slowest instance,
    // b takes nothing.
    let quiet_until = Instant::now() + master_down(advert_int(INSTANCES - 1), 100) * 2;
    while Instant::now() < quiet_until {
        let taken = held(&lab, "b");
        assert!(taken.is_empty(), "b took {taken:?}\n{}", b.log(&mut lab));
        std::thread::sleep(Duration::from_millis(20));
    }

    // Crash: each instance is taken over one Master_Down_Interval after its last
    // advert, which came at most one advert interval before the kill.
    crash(&mut lab, &a);
    let killed = Instant::now();
    let taken = wait_all(&lab, "b", killed);
    for (i, at) in taken {
        let bound = master_down(advert_int(i), 100);
        assert!(
            at <= bound + TOLERANCE,
            "VI_{i} taken over after {at:?}, Master_Down_Interval {bound:?}\n{}",
            b.log(&mut lab)
        );
        assert!(
            at + advert_int(i) + Duration::from_millis(50) >= bound,
            "VI_{i} taken over after only {at:?}, Master_Down_Interval {bound:?}"
        );
    }

    // The master comes back, preempts, then stops gracefully: its priority-0 adverts
    // hand each instance over within Skew_Time.
    let a2 = start(&mut lab, "a", Daemon::Ours, &config(150));
    wait_all(&lab, "a", Instant::now());
    let deadline = Instant::now() + WAIT;
    while !held(&lab, "b").is_empty() {
        assert!(Instant::now() < deadline, "b keeps {:?}", held(&lab, "b"));
        std::thread::sleep(Duration::from_millis(10));
    }
    let process = lab.process(a2.index).expect("a");
    process.signal(15).expect("SIGTERM");
    let stopped = Instant::now();
    let taken = wait_all(&lab, "b", stopped);
    for (i, at) in taken {
        let bound = skew(advert_int(i), 100);
        assert!(
            at <= bound + TOLERANCE,
            "VI_{i} handed over after {at:?}, Skew_Time {bound:?}\n{}",
            b.log(&mut lab)
        );
    }
}
