//! Trackers moving mastership, in network namespaces (root): `vrrp_track_process`
//! (processes the test starts and stops), the seeds' `vrrp_script` "down file"
//! pattern with rise/fall, weighted `track_interface` and `track_file` priorities,
//! and bad tracker input that must neither crash nor block the daemon.
//!
//! VRRPv3 with advert_int 0.5 s keeps the tests short.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command};
use std::time::Duration;

use common::{
    Daemon, VIP, can_run, pair, pids_with_arg, start, unique_sleep_arg, v3_instance as instance,
    wait_log, wait_no_vip, wait_vip,
};
use lab::wait_for;

const WAIT: Duration = Duration::from_secs(15);

/// Processes this test started; killed (only they) when dropped, also on failure.
#[derive(Default)]
struct Sleepers(Vec<Child>);

impl Sleepers {
    /// `sleep SECONDS` where SECONDS is the test's unique argument.
    fn start(&mut self, unique: &str) {
        let child = Command::new("sleep").arg(unique).spawn().expect("sleep");
        self.0.push(child);
    }

    fn stop_one(&mut self) {
        if let Some(mut child) = self.0.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        while !self.0.is_empty() {
            self.stop_one();
        }
    }
}

#[test]
fn tracked_process_quorum_flips_mastership() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("tprc");
    let unique = unique_sleep_arg(1);
    let mut sleepers = Sleepers::default();
    sleepers.start(&unique);
    sleepers.start(&unique);
    // Weight 0: the instance is in FAULT while fewer than 2 processes run.
    let config_a = format!(
        "vrrp_track_process workers {{
    process sleep {unique}
    quorum 2
}}
{}",
        instance(150, "    track_process {\n        workers\n    }")
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &instance(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER with its 2 processes");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");

    sleepers.stop_one();
    wait_log(
        &mut lab,
        &a,
        "Quorum lost for tracked process workers",
        WAIT,
    )
    .expect("quorum lost");
    wait_log(&mut lab, &a, "(VI_1) Entering FAULT STATE", WAIT).expect("a FAULT");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b takes over");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("a released the VIP");

    sleepers.start(&unique);
    wait_log(
        &mut lab,
        &a,
        "Quorum gained for tracked process workers",
        WAIT,
    )
    .expect("quorum gained");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts back");
    wait_no_vip(&lab, "b", "eth0", VIP, WAIT).expect("b released the VIP");
    let log = a.log_text();
    assert_eq!(log.matches("Quorum lost").count(), 1, "{log}");
}

#[test]
fn tracked_process_weight_changes_priority() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("tprw");
    let unique = unique_sleep_arg(2);
    let mut sleepers = Sleepers::default();
    // Not running at start: 150 - 60 = 90 < 100, b is MASTER.
    let config_a = format!(
        "vrrp_track_process svc {{
    process sleep {unique}
    weight -60
}}
{}",
        instance(150, "    track_process {\n        svc\n    }")
    );
    let _b = start(&mut lab, "b", Daemon::Ours, &instance(100, ""));
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b MASTER alone");
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    wait_log(&mut lab, &a, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("a BACKUP");
    assert!(!common::has_vip(&lab, "a", "eth0", VIP));

    sleepers.start(&unique);
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 90 to 150",
        WAIT,
    )
    .expect("priority up by 60");
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts");
    sleepers.stop_one();
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 90",
        WAIT,
    )
    .expect("priority down by 60");
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b preempts back");
}

/// The seeds' `chk_down`: the check fails while a "down" file exists.
fn down_check(
    flag: &std::path::Path,
    rise: u32,
    fall: u32,
    count_file: &std::path::Path,
) -> String {
    format!(
        "vrrp_script chk_down {{
    script \"/bin/bash -c 'echo run >> {count}; [[ -f {flag} ]] && exit 1 || exit 0'\"
    interval 1
    rise {rise}
    fall {fall}
    weight -60
}}
",
        count = count_file.display(),
        flag = flag.display()
    )
}

fn runs(count_file: &std::path::Path) -> usize {
    std::fs::read_to_string(count_file)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn seeds_down_file_moves_the_vip_and_rise_fall_hold() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("down");
    let dir = lab.node("a").expect("a").dir.clone();
    let flag = dir.join("down");
    let count = dir.join("runs");
    let config_a = format!(
        "{}{}",
        down_check(&flag, 3, 2, &count),
        instance(150, "    track_script {\n        chk_down\n    }")
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    let b = start(&mut lab, "b", Daemon::Ours, &instance(100, ""));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");

    // fall 2: the check must fail twice in a row before the priority drops. Count
    // the script runs from the moment the file exists.
    std::fs::write(&flag, "").expect("down file");
    let runs_at_down = runs(&count);
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 90",
        WAIT,
    )
    .expect("priority drops");
    let runs_to_fail = runs(&count) - runs_at_down;
    // The run in flight when the file appeared may have passed: 2 or 3 runs.
    assert!(
        (2..=3).contains(&runs_to_fail),
        "fall 2 took {runs_to_fail} runs\n{}",
        a.log_text()
    );
    wait_vip(&lab, "b", "eth0", VIP, WAIT).expect("b takes the VIP");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("a released it");
    assert!(a.log_text().contains("VRRP_Script(chk_down) failed"));

    // rise 3: three good runs in a row before it counts again.
    std::fs::remove_file(&flag).expect("rm down file");
    let runs_at_up = runs(&count);
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 90 to 150",
        WAIT,
    )
    .expect("priority restored");
    let runs_to_rise = runs(&count) - runs_at_up;
    assert!(
        (3..=4).contains(&runs_to_rise),
        "rise 3 took {runs_to_rise} runs\n{}",
        a.log_text()
    );
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a preempts back");
    assert!(a.log_text().contains("VRRP_Script(chk_down) succeeded"));
}

/// The priority a node advertises, from the peer's "received lower priority (N)"
/// line or our own "Changing effective priority" line.
#[test]
fn weighted_track_interface_and_track_file_change_priority_by_their_weights() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("twgt");
    let dir = lab.node("a").expect("a").dir.clone();
    // A veth pair inside a: the test takes trk0 down and up.
    lab.exec(
        "a",
        &[
            "ip", "link", "add", "trk0", "type", "veth", "peer", "name", "trk1",
        ],
    )
    .expect("veth");
    for ifname in ["trk0", "trk1"] {
        lab.exec("a", &["ip", "link", "set", ifname, "up"])
            .expect("veth up");
    }
    let file = dir.join("value");
    let config_a = format!(
        "track_file tf {{
    file {}
    weight 3
    init_file 0 overwrite
}}
{}",
        file.display(),
        instance(
            150,
            "    track_interface {\n        trk0 weight -25\n    }\n    track_file {\n        tf\n    }"
        )
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");

    lab.exec("a", &["ip", "link", "set", "trk0", "down"])
        .expect("trk0 down");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 125",
        WAIT,
    )
    .expect("interface down: -25");
    // The file's value times its weight: 5 × 3 = +15.
    std::fs::write(&file, "5\n").expect("value");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 125 to 140",
        WAIT,
    )
    .expect("file 5: +15");
    lab.exec("a", &["ip", "link", "set", "trk0", "up"])
        .expect("trk0 up");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 140 to 165",
        WAIT,
    )
    .expect("interface up: +25");

    // The advertised priority on the wire is the effective one: b (priority 200)
    // sees 165 in a's adverts.
    let b = start(&mut lab, "b", Daemon::Ours, &instance(200, ""));
    wait_log(
        &mut lab,
        &b,
        "(VI_1) received lower priority (165) advert from 192.0.2.11 - discarding",
        WAIT,
    )
    .expect("b sees priority 165 on the wire");
}

#[test]
fn bad_tracker_input_is_reported_and_does_not_stop_the_daemon() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("tbad");
    let dir = lab.node("a").expect("a").dir.clone();
    let noexec = dir.join("noexec.sh");
    std::fs::write(&noexec, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let insecure_dir = dir.join("open");
    std::fs::create_dir_all(&insecure_dir).expect("dir");
    std::fs::set_permissions(&insecure_dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let insecure = insecure_dir.join("insecure.sh");
    std::fs::write(&insecure, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::set_permissions(&insecure, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, "99999999999999999999999 apples\n").expect("garbage");
    // A directory where a file is expected cannot be read.
    let unreadable = dir.join("a-directory");
    std::fs::create_dir_all(&unreadable).expect("dir");
    let hang = dir.join("hang.sh");
    let hang_arg = unique_sleep_arg(3);
    // Not exec'd: the sleep is the script's child, which must die with the script.
    std::fs::write(&hang, format!("#!/bin/sh\nsleep {hang_arg}\nexit 0\n")).expect("script");
    std::fs::set_permissions(&hang, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let config_a = format!(
        "global_defs {{
    enable_script_security
    script_user root
}}
vrrp_script missing {{
    script \"{dir}/missing.sh\"
}}
vrrp_script noexec {{
    script \"{noexec}\"
}}
vrrp_script insecure {{
    script \"{insecure}\"
}}
vrrp_script hangs {{
    script \"{hang}\"
    interval 10
    timeout 1
    weight -10
}}
track_file garbage {{
    file {garbage}
    weight 1
}}
track_file unreadable {{
    file {unreadable}
    weight 1
}}
{}",
        instance(
            150,
            &format!(
                "    track_script {{\n        missing\n        noexec\n        insecure\n        hangs\n    }}\n    track_file {{\n        garbage\n        unreadable\n    }}\n    notify_master {}/missing-notify.sh",
                dir.display()
            )
        ),
        dir = dir.display(),
        noexec = noexec.display(),
        insecure = insecure.display(),
        hang = hang.display(),
        garbage = garbage.display(),
        unreadable = unreadable.display(),
    );
    let a = start(&mut lab, "a", Daemon::Ours, &config_a);
    // Still running and working: MASTER with its VIP; the hanging script is killed
    // at its timeout and counts as failed (150 - 10).
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER despite the bad trackers");
    wait_log(
        &mut lab,
        &a,
        "(VI_1) Changing effective priority from 150 to 140",
        WAIT,
    )
    .expect("the hanging script fails at its timeout");
    // Its child is killed with it: gone well before the next run (interval 10 s).
    wait_for(
        "timed-out script's child gone",
        Duration::from_secs(5),
        common::POLL,
        || (!running_with_arg(&hang_arg)).then_some(()),
    )
    .expect("the timed-out script's child was killed with it");
    let log = a.log_text();
    let conf = dir.join("keepalived.conf").display().to_string();
    for (line, what) in [(6, "missing"), (9, "noexec"), (12, "insecure")] {
        let at = format!("{conf}:{line}");
        assert!(
            log.lines().any(|l| l.contains(&at) && l.contains(what)),
            "no report of {what} at {at}\n{log}"
        );
    }
    assert!(log.contains("missing-notify.sh"), "{log}");
    // Problems found while running name the configuration line of the track file.
    for (block, what) in [
        ("track_file garbage {", "Invalid number"),
        ("track_file unreadable {", "cannot read track file"),
    ] {
        let line = config_a
            .lines()
            .position(|l| l.starts_with(block))
            .map(|i| i + 1)
            .expect("track_file block in the config");
        let at = format!("{conf}:{line}: ");
        assert!(
            log.lines().any(|l| l.contains(&at) && l.contains(what)),
            "no '{what}' reported at {at}\n{log}"
        );
    }
    // Nothing is left running from the hanging script after the daemon stops.
    assert_eq!(common::stop(&mut lab, &a), Some(0));
    let left = wait_for("timed-out script gone", WAIT, common::POLL, || {
        (!running_with_arg(&hang_arg)).then_some(())
    });
    assert!(
        left.is_ok(),
        "the timed-out script's sleep is still running"
    );
}

/// Whether a process has `arg` as an argument.
fn running_with_arg(arg: &str) -> bool {
    !pids_with_arg(arg).is_empty()
}
