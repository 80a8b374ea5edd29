//! Our daemon against itself, in network namespaces (root): election, crash and
//! graceful failover within the RFC 5798 timers, preemption, nopreempt,
//! preempt_delay, a VIP deleted by hand, interface down/up.
//!
//! VRRPv3 with advert_int 0.5 s keeps the tests short: Master_Down_Interval of the
//! priority-100 backup is 3 × 0.5 + 156/256 × 0.5 = 1.805 s, its Skew_Time 0.305 s.

mod common;

use std::time::{Duration, Instant};

use common::{
    Daemon, VIP, can_run, crash, has_vip, master_down, pair, report, skew, start, stop,
    v3_instance as config, wait_log, wait_no_vip, wait_vip,
};
use lab::wait_for;

const ADVERT_INT: Duration = Duration::from_millis(500);
/// Scheduling slack on a loaded 2-CPU machine (polling itself is 10 ms).
const TOLERANCE: Duration = Duration::from_millis(400);
const WAIT: Duration = Duration::from_secs(10);

#[test]
fn election_crash_failover_and_preempt_back() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("elec");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    let b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    let startup = wait_vip(&lab, "a", "eth0", VIP, WAIT);
    assert!(startup.is_ok(), "{startup:?}\n{}", a.log(&mut lab));
    assert!(!has_vip(&lab, "b", "eth0", VIP), "both hold the VIP");
    wait_log(&mut lab, &a, "(VI_1) Entering MASTER STATE", WAIT).expect("a logs MASTER");
    // Wait for b to settle as backup (it saw a's adverts), then crash a.
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");

    crash(&mut lab, &a);
    let takeover = wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b takes over");
    let bound = master_down(ADVERT_INT, 100);
    report("ours<->ours crash takeover (v3 0.5 s)", takeover, bound);
    assert!(
        takeover <= bound + TOLERANCE,
        "takeover after {takeover:?}, Master_Down_Interval {bound:?}\n{}",
        b.log(&mut lab)
    );
    // Not before the master could have been declared down: at least
    // Master_Down_Interval minus one advert interval after the kill (the last advert
    // came at most one interval before it; 200 ms allow for a late advert under load).
    assert!(
        takeover + ADVERT_INT + Duration::from_millis(200) >= bound,
        "takeover after only {takeover:?}"
    );

    // a comes back: it removes its leftover VIP, discards b's lower-priority adverts
    // and preempts after its own Master_Down_Interval.
    let a2 = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    wait_no_vip(&lab, "b", "eth0", VIP, WAIT).expect("b releases the VIP");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts back");
    let log_a = a2.log(&mut lab);
    assert!(
        log_a.contains("(VI_1) received lower priority (100) advert from 192.0.2.12 - discarding"),
        "{log_a}"
    );
    let log_b = b.log(&mut lab);
    assert!(
        log_b.contains(
            "(VI_1) Master received advert from 192.0.2.11 with higher priority 150, ours 100"
        ),
        "{log_b}"
    );
    assert!(log_b.contains("(VI_1) Entering BACKUP STATE\n"), "{log_b}");
}

#[test]
fn graceful_stop_hands_over_in_skew_time() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("term");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    let b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    assert!(a.pid_file().exists() && a.vrrp_pid_file().exists());

    let process = lab.process(a.index).expect("a");
    process.signal(15).expect("SIGTERM");
    let takeover = wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b takes over");
    let bound = skew(ADVERT_INT, 100);
    report("ours<->ours graceful takeover (v3 0.5 s)", takeover, bound);
    assert!(
        takeover <= bound + TOLERANCE,
        "takeover after {takeover:?}, Skew_Time {bound:?}\n{}",
        b.log(&mut lab)
    );
    let code = stop(&mut lab, &a);
    assert_eq!(code, Some(0));
    assert!(!has_vip(&lab, "a", "eth0", VIP), "a left its VIP behind");
    let log_a = a.log(&mut lab);
    assert!(log_a.contains("(VI_1) sent 0 priority"), "{log_a}");
    assert!(!a.pid_file().exists(), "pid file left behind");
    assert!(!a.vrrp_pid_file().exists(), "vrrp pid file left behind");
}

#[test]
fn nopreempt_keeps_the_running_master() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("nopr");
    let b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b is MASTER alone");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, "    nopreempt"));
    wait_log(&mut lab, &a, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("a BACKUP");
    // Without nopreempt a would take over after its Master_Down_Interval (1.707 s);
    // watch for twice that.
    let watch = master_down(ADVERT_INT, 150) * 2;
    let until = Instant::now() + watch;
    while Instant::now() < until {
        assert!(has_vip(&lab, "b", "eth0", VIP), "b lost the VIP");
        assert!(
            !has_vip(&lab, "a", "eth0", VIP),
            "a preempted despite nopreempt\n{}",
            a.log(&mut lab)
        );
        std::thread::sleep(common::POLL * 5);
    }
    // a is a working backup: it takes over when b stops.
    stop(&mut lab, &b);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a takes over when b stops");
}

#[test]
fn preempt_delay_defers_the_takeover() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pdel");
    let _b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b is MASTER alone");
    let started = Instant::now();
    let a = start(
        &mut lab,
        "a",
        Daemon::Ours,
        &config(150, "    preempt_delay 2"),
    );
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts eventually");
    let took = started.elapsed();
    println!(
        "MEASURED preempt_delay 2 s takeover: {:.3} s",
        took.as_secs_f64()
    );
    // Without the delay a preempts after its Master_Down_Interval (1.707 s).
    assert!(took >= Duration::from_secs(2), "preempted after {took:?}");
    assert!(
        took <= Duration::from_secs(2) + master_down(ADVERT_INT, 150) + TOLERANCE * 2,
        "preempted only after {took:?}"
    );
    let log_a = a.log(&mut lab);
    assert!(log_a.contains("(VI_1) start preempt delay"), "{log_a}");
    wait_no_vip(&lab, "b", "eth0", VIP, WAIT).expect("b releases");
}

#[test]
fn deleted_vip_comes_back_and_interface_down_means_fault() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("flt");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER alone");

    // keepalived: a tracked VIP deleted while MASTER sends the instance to BACKUP; with
    // nobody else around it is MASTER again after Skew_Time and the VIP is back.
    lab.exec("a", &["ip", "addr", "del", VIP, "dev", "eth0"])
        .expect("delete VIP");
    let back = wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("VIP restored");
    report(
        "VIP deleted by hand -> restored",
        back,
        skew(ADVERT_INT, 150),
    );
    let log = a.log(&mut lab);
    assert!(log.contains("was deleted"), "{log}");
    assert!(
        log.contains("Netlink reflector reports IP 192.0.2.100 removed from eth0"),
        "{log}"
    );

    // Interface down: FAULT, VIP removed; up again: BACKUP, then MASTER.
    lab.set_link("a", "eth0", false).expect("eth0 down");
    wait_log(&mut lab, &a, "(VI_1) Entering FAULT STATE", WAIT).expect("FAULT");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("VIP removed in FAULT");
    lab.set_link("a", "eth0", true).expect("eth0 up");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("MASTER again after the link is back");
    let log = a.log(&mut lab);
    let fault = log.find("Entering FAULT STATE").unwrap_or(0);
    assert!(
        log[fault..].contains("(VI_1) Entering BACKUP STATE"),
        "no BACKUP after FAULT:\n{log}"
    );
}

/// The master's bridge port goes down for 10 s: b takes over on the segment (and a
/// host there, c, follows b's GARPs); the port comes back: one master, a, and c's ARP
/// entry for the VIP moves back to a when a re-sends its GARPs.
#[test]
fn split_brain_heals_to_one_master() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("split");
    lab.add_node("c", &[&["192.0.2.13/24"]]).expect("node c");
    // b advertises every 0.1 s as MASTER, a every 1 s: after the heal b's advert
    // almost always reaches a first, and a answers it (RFC 9568, keepalived) with an
    // advert and fresh GARPs.
    let config_a = config(150, "").replace("advert_int 0.5", "advert_int 1");
    let config_b = config(100, "").replace("advert_int 0.5", "advert_int 0.1");
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &config_b);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    let mac = |node: &str| {
        let out = lab
            .exec(node, &["cat", "/sys/class/net/eth0/address"])
            .expect("mac");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let (mac_a, mac_b) = (mac("a"), mac("b"));
    // c's ARP entry for the VIP (a GARP updates an existing entry, creates none).
    let vip_address = VIP.split('/').next().unwrap_or(VIP);
    let arp_of_c = || {
        lab.exec_unchecked("c", &["ip", "neigh", "show", vip_address, "dev", "eth0"])
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default()
    };
    lab.exec("c", &["ping", "-c", "1", "-W", "2", vip_address])
        .expect("c reaches the VIP");
    assert!(arp_of_c().contains(&mac_a), "{}", arp_of_c());

    lab.set_hub_port("a", 0, false).expect("isolate a");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b becomes MASTER too");
    wait_for("c follows b's GARPs", WAIT, common::POLL, || {
        arp_of_c().contains(&mac_b).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {}\n{}", arp_of_c(), b.log_text()));
    // The deliberate length of the fault: 10 s apart, a MASTER all along.
    let split = Instant::now();
    while split.elapsed() < Duration::from_secs(10) {
        assert!(has_vip(&lab, "a", "eth0", VIP), "a must stay MASTER");
        std::thread::sleep(Duration::from_millis(100));
    }
    let garps_before = a.log_text().matches("Sending gratuitous ARP on").count();

    lab.set_hub_port("a", 0, true).expect("heal");
    let healed = wait_no_vip(&lab, "b", "eth0", VIP, WAIT).expect("b steps down");
    println!(
        "MEASURED split brain healed {:.3} s after the port came back",
        healed.as_secs_f64()
    );
    assert!(
        has_vip(&lab, "a", "eth0", VIP),
        "a must hold the VIP after the heal"
    );
    let log_b = b.log_text();
    assert!(
        log_b.contains(
            "(VI_1) Master received advert from 192.0.2.11 with higher priority 150, ours 100"
        ),
        "{log_b}"
    );
    let log_a = a.log_text();
    if log_a.contains("(VI_1) Received advert from 192.0.2.12 with lower priority 100, ours 150, forcing new election") {
        let again = wait_for("a sends GARPs again", WAIT, common::POLL, || {
            (a.log_text().matches("Sending gratuitous ARP on").count() > garps_before).then_some(())
        });
        assert!(again.is_ok(), "no GARPs after the heal\n{}", a.log_text());
        wait_for("c's ARP entry moves back to a", WAIT, common::POLL, || {
            arp_of_c().contains(&mac_a).then_some(())
        })
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", arp_of_c(), a.log_text()));
        println!("split brain: a answered b's lower-priority advert with GARPs; c follows a");
    } else {
        println!("split brain: a's advert reached b first (no lower-priority advert seen by a)");
    }
}

#[test]
fn daemonises_and_enters_the_namespace_given_with_s() {
    if !can_run(false) {
        return;
    }
    let lab = pair("dmn");
    let node = lab.node("a").expect("a").clone();
    let conf = node.dir.join("keepalived.conf");
    std::fs::write(&conf, config(150, "")).expect("config");
    let pid_file = node.dir.join("keepalived.pid");
    let vrrp_pid_file = node.dir.join("vrrp.pid");
    // Started from the root namespace, without -n: the command returns at once and
    // the daemon runs on inside the namespace (Lab's drop kills whatever is left there).
    let status = std::process::Command::new(common::OURS)
        .arg("-s")
        .arg(&node.netns)
        .arg("-f")
        .arg(&conf)
        .arg("-p")
        .arg(&pid_file)
        .arg("-r")
        .arg(&vrrp_pid_file)
        .status()
        .expect("run keepalived");
    assert!(status.success());
    let pid: u32 = wait_for("pid file", WAIT, common::POLL, || {
        std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()
    })
    .expect("the daemon writes its pid file");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("VIP in the namespace");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    wait_for("pid files removed", WAIT, common::POLL, || {
        (!pid_file.exists() && !vrrp_pid_file.exists()).then_some(())
    })
    .expect("pid files removed on exit");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("VIP removed on exit");
}

#[test]
fn track_script_weight_moves_mastership_and_notify_scripts_run() {
    use std::os::unix::fs::PermissionsExt;
    if !can_run(false) {
        return;
    }
    let mut lab = pair("trk");
    let dir = lab.node("a").expect("a").dir.clone();
    let flag = dir.join("healthy");
    let notify_log = dir.join("notify.log");
    let notify = dir.join("notify.sh");
    std::fs::write(&flag, "").expect("flag");
    std::fs::write(
        &notify,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", notify_log.display()),
    )
    .expect("notify script");
    std::fs::set_permissions(&notify, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let fifo = dir.join("notify.fifo");
    let fifo_log = dir.join("fifo.log");
    let fifo_script = dir.join("fifo.sh");
    std::fs::write(
        &fifo_script,
        format!("#!/bin/sh\nexec cat \"$1\" >> {}\n", fifo_log.display()),
    )
    .expect("fifo script");
    std::fs::set_permissions(&fifo_script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config_a = format!(
        "global_defs {{
    vrrp_notify_fifo {}
    vrrp_notify_fifo_script {}
}}
vrrp_script chk {{
    script \"/usr/bin/test -f {}\"
    interval 1
    weight -60
}}
{}",
        fifo.display(),
        fifo_script.display(),
        flag.display(),
        config(
            150,
            &format!(
                "    track_script {{\n        chk\n    }}\n    notify \"{}\"",
                notify.display()
            )
        )
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");

    // The check fails: 150 - 60 = 90 < 100, so b preempts (after its own down timer:
    // a MASTER does not step down just because its priority fell, as keepalived).
    std::fs::remove_file(&flag).expect("rm flag");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 90",
        WAIT,
    )
    .expect("priority drops");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b preempts");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("a releases");
    let log_b = b.log_text();
    assert!(
        log_b.contains("(VI_1) received lower priority (90) advert from 192.0.2.11 - discarding"),
        "{log_b}"
    );
    let notified = wait_for("notify BACKUP 90", WAIT, common::POLL, || {
        let text = std::fs::read_to_string(&notify_log).ok()?;
        text.contains("INSTANCE VI_1 BACKUP 90").then_some(text)
    })
    .expect("notify script ran for BACKUP");
    assert!(
        notified.contains("INSTANCE VI_1 MASTER 150"),
        "{notified}\n{}",
        a.log_text()
    );
    // The FIFO reader saw the same transitions, in keepalived's line format.
    let lines = wait_for("FIFO lines", WAIT, common::POLL, || {
        let text = std::fs::read_to_string(&fifo_log).ok()?;
        text.contains("INSTANCE \"VI_1\" BACKUP 90").then_some(text)
    })
    .expect("notify FIFO written");
    assert!(lines.contains("INSTANCE \"VI_1\" MASTER 150\n"), "{lines}");
    assert_eq!(stop(&mut lab, &a), Some(0));
    assert!(!fifo.exists(), "the FIFO we created is removed on exit");
}

#[test]
fn sync_group_moves_all_members_when_one_faults() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("sync");
    let dir = lab.node("a").expect("a").dir.clone();
    let flag = dir.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    const VIP2: &str = "192.0.2.200/24";
    let group = |priority: u32, track: &str| {
        format!(
            "vrrp_sync_group G {{
    group {{
        VI_1
        VI_2
    }}
}}
{}vrrp_instance VI_2 {{
    version 3
    interface eth0
    virtual_router_id 52
    priority {priority}
    advert_int 0.5
{track}
    virtual_ipaddress {{
        {VIP2} dev eth0
    }}
}}
",
            config(priority, "")
        )
    };
    let config_a = format!(
        "vrrp_script chk {{\n    script \"/usr/bin/test -f {}\"\n    interval 1\n    weight 0\n}}\n{}",
        flag.display(),
        group(150, "    track_script {\n        chk\n    }")
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &group(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a VI_1 MASTER");
    wait_vip(&lab, "a", "eth0", VIP2, WAIT).expect("a VI_2 MASTER");
    wait_log(&mut lab, &b, "(VI_2) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");

    // Only VI_2 tracks the script (weight 0: FAULT while failing); the group takes
    // VI_1 along, so b gets both VIPs.
    std::fs::remove_file(&flag).expect("rm flag");
    wait_vip(&lab, "b", "eth0", VIP2, WAIT).expect("b takes VI_2");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b takes VI_1 with the group");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("a releases VI_1");
    let log_a = a.log_text();
    assert!(log_a.contains("(VI_2) Entering FAULT STATE"), "{log_a}");
    assert!(log_a.contains("VRRP_Group(G)"), "{log_a}");
}

fn ip_rules(lab: &lab::Lab, node: &str) -> String {
    lab.exec(node, &["ip", "rule", "show"])
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn routes(lab: &lab::Lab, node: &str, prefix: &str) -> String {
    lab.exec(node, &["ip", "route", "show", prefix])
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn virtual_routes_and_rules_follow_mastership_static_config_stays() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("rte");
    let text = format!(
        "static_ipaddress {{
    192.0.2.50/24 dev eth0
}}
static_routes {{
    203.0.113.0/24 via 192.0.2.1 dev eth0
}}
static_rules {{
    from 192.0.2.50 table 101 priority 101
}}
{}",
        config(
            150,
            "    virtual_routes {\n        198.51.100.0/24 via 192.0.2.1 dev eth0 metric 7\n    }\n    virtual_rules {\n        from 192.0.2.100 table 100 priority 100\n    }"
        )
    );
    let a = start(&mut lab, "a", Daemon::Ours, &text);
    wait_vip(&lab, "a", "eth0", "192.0.2.50/24", WAIT).expect("static address set at start");
    // The static route follows the static address (its own netlink request).
    wait_for("static route", WAIT, common::POLL, || {
        routes(&lab, "a", "203.0.113.0/24")
            .contains("via 192.0.2.1")
            .then_some(())
    })
    .expect("static route set at start");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");
    // keepalived reinstates a static address deleted from outside.
    lab.exec("a", &["ip", "addr", "del", "192.0.2.50/24", "dev", "eth0"])
        .expect("delete static address");
    wait_vip(&lab, "a", "eth0", "192.0.2.50/24", WAIT).expect("static address reinstated");
    let route = wait_for("virtual route", WAIT, common::POLL, || {
        let r = routes(&lab, "a", "198.51.100.0/24");
        r.contains("via 192.0.2.1").then_some(r)
    })
    .expect("virtual route set with the VIPs");
    assert!(route.contains("metric 7"), "{route}");
    assert!(
        route.contains("proto keepalived") || route.contains("proto 18"),
        "{route}"
    );
    // The rules come after the routes (their own netlink requests).
    let rules = wait_for("virtual and static rules", WAIT, common::POLL, || {
        let rules = ip_rules(&lab, "a");
        (rules.contains("from 192.0.2.100 lookup 100")
            && rules.contains("from 192.0.2.50 lookup 101"))
        .then_some(rules)
    });
    assert!(rules.is_ok(), "rules: {}", ip_rules(&lab, "a"));
    assert_eq!(stop(&mut lab, &a), Some(0));
    let rules = ip_rules(&lab, "a");
    assert!(!rules.contains("lookup 10"), "rules left: {rules}");
    assert!(
        routes(&lab, "a", "198.51.100.0/24").is_empty(),
        "virtual route left"
    );
    assert!(
        routes(&lab, "a", "203.0.113.0/24").is_empty(),
        "static route left"
    );
    assert!(
        !has_vip(&lab, "a", "eth0", "192.0.2.50/24"),
        "static address left"
    );
}

#[test]
fn gratuitous_arps_are_paced_by_vrrp_garp_interval() {
    if !can_run(false) || !lab::have_program("tcpdump") {
        return;
    }
    let mut lab = pair("garp");
    let capture = lab.node("b").expect("b").dir.join("arp.txt");
    lab.spawn(
        "b",
        "arp.txt",
        &["tcpdump", "-i", "eth0", "-nn", "-tt", "-l", "arp"],
    )
    .expect("tcpdump");
    wait_for("tcpdump listening", WAIT, common::POLL, || {
        std::fs::read_to_string(&capture)
            .ok()
            .filter(|t| t.contains("listening on"))
    })
    .expect("tcpdump starts");
    let text = format!(
        "global_defs {{\n    vrrp_garp_interval 0.2\n    vrrp_garp_master_delay 0\n    vrrp_garp_master_repeat 3\n}}\n{}",
        config(150, "")
    );
    let _a = start(&mut lab, "a", Daemon::Ours, &text);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");
    let times = wait_for("3 gratuitous ARPs", WAIT, common::POLL, || {
        let text = std::fs::read_to_string(&capture).ok()?;
        let times: Vec<f64> = text
            .lines()
            .filter(|l| l.contains("192.0.2.100"))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        (times.len() >= 3).then_some(times)
    })
    .expect("GARPs captured");
    for pair in times.windows(2).take(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= 0.19, "GARPs {gap:.3} s apart: {times:?}");
        assert!(gap <= 0.5, "GARPs {gap:.3} s apart: {times:?}");
    }
}

#[test]
fn instance_waits_in_fault_for_a_source_address() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("nsrc");
    lab.exec("a", &["ip", "addr", "del", "192.0.2.11/24", "dev", "eth0"])
        .expect("remove a's address");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    wait_log(&mut lab, &a, "(VI_1) Entering FAULT STATE", WAIT).expect("FAULT without address");
    assert!(
        a.log_text()
            .contains("(VI_1): entering FAULT state (src address not configured)")
    );
    lab.exec("a", &["ip", "addr", "add", "192.0.2.11/24", "dev", "eth0"])
        .expect("address back");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("MASTER once the address is there");
    let log = a.log_text();
    assert!(
        log.contains("(VI_1) source address 192.0.2.11 now configured"),
        "{log}"
    );
}

#[test]
fn vmac_deleted_by_hand_is_recreated_and_mastership_resumes() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("vmac");
    let text = config(150, "    use_vmac").replace(&format!("{VIP} dev eth0"), VIP);
    let a = start(&mut lab, "a", Daemon::Ours, &text);
    wait_vip(&lab, "a", "vrrp.51", VIP, WAIT).expect("a MASTER on its VMAC");
    lab.exec("a", &["ip", "link", "del", "vrrp.51"])
        .expect("delete the VMAC");
    wait_log(&mut lab, &a, "was deleted - recreating it", WAIT).expect("recreated");
    wait_vip(&lab, "a", "vrrp.51", VIP, WAIT).expect("MASTER again on the new VMAC");
    let log = a.log_text();
    assert!(log.contains("(VI_1) Entering FAULT STATE"), "{log}");
    assert!(!log.contains("receive error"), "{log}");
}

#[test]
fn track_file_value_times_weight_moves_mastership() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("tfil");
    let dir = lab.node("a").expect("a").dir.clone();
    let file = dir.join("prio");
    let config_a = format!(
        "track_file prio {{
    file {}
    weight -10
    init_file 0 overwrite
}}
{}",
        file.display(),
        config(150, "    track_file {\n        prio\n    }")
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &config(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER with value 0");
    assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("0\n"));
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    // 150 + 6 × (−10) = 90 < 100: b preempts.
    std::fs::write(&file, "6\n").expect("write value");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 90",
        WAIT,
    )
    .expect("priority follows the file");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b preempts");
    // The file disappears: value 0, priority 150 again, a preempts back.
    std::fs::remove_file(&file).expect("rm");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 90 to 150",
        WAIT,
    )
    .expect("priority back");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts back");
}

/// Sends hand-made VRRP packets from node b (python3 raw socket, TTL 255).
const HOSTILE_SENDER: &str = r#"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')
def csum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return (~total) & 0xffff
src, dst = socket.inet_aton('192.0.2.12'), socket.inet_aton('224.0.0.18')
vip = socket.inet_aton('192.0.2.100')
def v3(vrid, prio, addrs, good=True):
    body = struct.pack('!BBBBHH', 0x31, vrid, prio, len(addrs), 50, 0) + b''.join(addrs)
    pseudo = src + dst + struct.pack('!BBH', 0, 112, len(body))
    c = csum(pseudo + body) if good else 0xdead
    return body[:6] + struct.pack('!H', c) + body[8:]
def v2(vrid, prio):
    body = struct.pack('!BBBBBBH', 0x21, vrid, prio, 1, 0, 1, 0) + vip + b'\0' * 8
    return body[:6] + struct.pack('!H', csum(body)) + body[8:]
packets = [
    v3(51, 255, [vip], good=False),   # bad checksum
    b'\x31\x33',                      # truncated
    v2(51, 255),                      # other VRRP version
    v3(51, 255, []),                  # address list mismatch
    v3(51, 255, [vip])[:-2],          # length mismatch
    v3(52, 255, [vip]),               # a VRID nobody runs
]
for _ in range(5):
    for p in packets:
        s.sendto(p, ('224.0.0.18', 0))
"#;

#[test]
fn hostile_adverts_do_not_move_mastership() {
    if !can_run(false) || !lab::have_program("python3") {
        return;
    }
    let mut lab = pair("hstl");
    let a = start(&mut lab, "a", Daemon::Ours, &config(150, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");
    lab.exec("b", &["python3", "-c", HOSTILE_SENDER])
        .expect("send packets");
    // Each of the 5 × 4 malformed VRRPv3 adverts for VRID 51 is refused and logged;
    // the VRRPv2 ones and those for VRID 52 never reach the daemon (the kernel filter
    // passes only the versions and VRIDs run on the socket; they are counted there).
    wait_for("refusals logged", WAIT, common::POLL, || {
        (a.log_text().matches("bad advert from 192.0.2.12").count() >= 20).then_some(())
    })
    .expect("malformed adverts are refused");
    let log = a.log_text();
    assert!(log.contains("checksum"), "{log}");
    assert!(!log.contains("higher priority"), "{log}");
    assert!(!log.contains("Entering BACKUP STATE\n"), "{log}");
    assert!(has_vip(&lab, "a", "eth0", VIP), "a lost the VIP");
}

#[test]
fn sync_group_trackers_apply_to_every_member() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("sgtr");
    let dir = lab.node("a").expect("a").dir.clone();
    let flag = dir.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    let text = format!(
        "vrrp_script chk {{
    script \"/usr/bin/test -f {}\"
    interval 1
}}
vrrp_sync_group G {{
    group {{
        VI_1
        VI_2
    }}
    track_script {{
        chk
    }}
}}
{}vrrp_instance VI_2 {{
    version 3
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 0.5
    virtual_ipaddress {{
        192.0.2.200/24 dev eth0
    }}
}}
",
        flag.display(),
        config(150, "")
    );
    let a = start(&mut lab, "a", Daemon::Ours, &text);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("VI_1 MASTER");
    wait_vip(&lab, "a", "eth0", "192.0.2.200/24", WAIT).expect("VI_2 MASTER");
    std::fs::remove_file(&flag).expect("rm flag");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("VI_1 released");
    wait_no_vip(&lab, "a", "eth0", "192.0.2.200/24", WAIT).expect("VI_2 released");
    let log = a.log_text();
    assert!(log.contains("(VI_1) Entering FAULT STATE"), "{log}");
    assert!(log.contains("(VI_2) Entering FAULT STATE"), "{log}");
}
