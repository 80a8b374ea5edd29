//! keepalived's process structure, in network namespaces (root): a parent (watchdog)
//! with a VRRP child and a checker child, pid files naming them, the parent restarting
//! a killed VRRP child (the peer sees at most one takeover), `-R`, a graceful stop, a
//! reload with a broken configuration, and systemd's notify protocol.
//!
//! VRRPv3 with advert_int 0.5 s keeps the tests short (Master_Down_Interval of the
//! priority-100 backup is 1.805 s).

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    Daemon, OURS, Running, VIP, alive, can_run, has_vip, pair, read_pid, start, wait_log,
    wait_no_vip, wait_vip,
};
use lab::{Lab, wait_for};

const WAIT: Duration = Duration::from_secs(10);

fn config(priority: u32) -> String {
    common::v3_instance(priority, "")
}

/// Our daemon on `node` with `-n -l -D`, all three pid files in the node's directory,
/// `prefix` before the binary (e.g. `env NOTIFY_SOCKET=...`) and `extra` options.
fn start_ours(lab: &mut Lab, node: &str, config: &str, prefix: &[&str], extra: &[&str]) -> Running {
    let dir = lab.node(node).expect("node").dir.clone();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config).expect("write config");
    let paths = [
        conf.display().to_string(),
        dir.join("keepalived.pid").display().to_string(),
        dir.join("vrrp.pid").display().to_string(),
        dir.join("checkers.pid").display().to_string(),
    ];
    let mut argv: Vec<&str> = prefix.to_vec();
    argv.extend([OURS, "-n", "-l", "-D", "-f", &paths[0], "-p", &paths[1]]);
    argv.extend(["-r", &paths[2], "-c", &paths[3]]);
    argv.extend(extra);
    let index = lab.spawn(node, "ours.log", &argv).expect("spawn daemon");
    Running {
        node: node.to_string(),
        daemon: Daemon::Ours,
        index,
        dir,
    }
}

fn checker_pid_file(running: &Running) -> PathBuf {
    running.dir.join("checkers.pid")
}

/// The parent pid of `pid`, from /proc/PID/stat (field 4, after the command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Waits for the pid file to name a child of `parent` other than `not`.
fn wait_child_pid(path: &PathBuf, parent: u32, not: Option<u32>) -> u32 {
    wait_for("child pid file", WAIT, common::POLL, || {
        read_pid(path).filter(|pid| Some(*pid) != not && parent_of(*pid) == Some(parent))
    })
    .expect("the pid file names a child of the parent")
}

#[test]
fn parent_starts_vrrp_and_checker_children_named_by_pid_files() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pkids");
    // --all: the checker child runs even without virtual servers.
    let a = start_ours(&mut lab, "a", &config(150), &[], &["--all"]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    let parent = lab.process(a.index).expect("a").pid();
    assert_eq!(read_pid(&a.pid_file()), Some(parent), "-p names the parent");
    let vrrp = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let checker = wait_child_pid(&checker_pid_file(&a), parent, None);
    assert_ne!(vrrp, checker);
    let log = a.log(&mut lab);
    assert!(
        log.contains(&format!("Starting VRRP child process, pid={vrrp}")),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "Starting Healthcheck child process, pid={checker}"
        )),
        "{log}"
    );
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");

    // Without --all and without virtual servers there is no checker child. b also
    // runs with -u (umask), -g (a log file per process) and -m (core dumps).
    let b_dir = lab.node("b").expect("b").dir.clone();
    let log_file = format!("--log-file={}", b_dir.join("k.log").display());
    let b = start_ours(
        &mut lab,
        "b",
        &config(100),
        &[],
        &["-u", "0027", &log_file, "-m"],
    );
    let parent_b = lab.process(b.index).expect("b").pid();
    let vrrp_b = wait_child_pid(&b.vrrp_pid_file(), parent_b, None);
    wait_log(&mut lab, &b, "Startup complete", WAIT).expect("b startup complete");
    assert!(
        !checker_pid_file(&b).exists(),
        "checker started without work"
    );
    assert!(!b.log(&mut lab).contains("Starting Healthcheck child"));
    // keepalived's -g names: the parent's file as given, the child's with `_vrrp`.
    let parent_log = b_dir.join("k.log");
    let child_log = b_dir.join("k_vrrp.log");
    wait_for("child log file", WAIT, common::POLL, || {
        std::fs::read_to_string(&child_log)
            .ok()
            .filter(|t| t.contains("(VI_1) Entering BACKUP STATE"))
    })
    .expect("the VRRP child logs to its own file");
    let parent_text = std::fs::read_to_string(&parent_log).unwrap_or_default();
    assert!(
        parent_text.contains("Starting VRRP child process"),
        "{parent_text}"
    );
    assert!(
        !parent_text.contains("Entering BACKUP STATE"),
        "{parent_text}"
    );
    let mode = |path: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .ok()
    };
    assert_eq!(mode(&parent_log), Some(0o640), "log file under -u 0027");
    assert_eq!(mode(&b.pid_file()), Some(0o644), "pid files stay readable");
    let limits = std::fs::read_to_string(format!("/proc/{vrrp_b}/limits")).unwrap_or_default();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default();
    assert!(core.contains("unlimited"), "-m: {core}");
}

#[test]
fn killed_vrrp_child_is_restarted_and_the_peer_takes_over_at_most_once() {
    if !can_run(true) {
        return;
    }
    let mut lab = pair("prsp");
    let a = start_ours(&mut lab, "a", &config(150), &[], &[]);
    let b = start(&mut lab, "b", Daemon::Upstream, &config(100));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    let parent = lab.process(a.index).expect("a").pid();
    let child = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let masters_before = b.log(&mut lab).matches("Entering MASTER STATE").count();

    let kill = std::process::Command::new("kill")
        .args(["-9", &child.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let restarted = wait_child_pid(&a.vrrp_pid_file(), parent, Some(child));
    assert!(!alive(child) || parent_of(child) != Some(parent));
    wait_log(
        &mut lab,
        &a,
        &format!("VRRP child process({child}) died: Respawning"),
        WAIT,
    )
    .expect("the parent logs the respawn");
    let log_a = a.log(&mut lab);
    assert!(
        log_a.contains(&format!("Starting VRRP child process, pid={restarted}")),
        "{log_a}"
    );

    // The restarted child starts as BACKUP and preempts back: in the end a holds the
    // VIP and b does not.
    wait_log(&mut lab, &a, "(VI_1) Entering MASTER STATE", WAIT).expect("first MASTER");
    wait_for("a MASTER again and b BACKUP", WAIT, common::POLL, || {
        let log = a.log_text();
        let again = log.matches("(VI_1) Entering MASTER STATE").count() >= 2;
        (again && has_vip(&lab, "a", "eth0", VIP) && !has_vip(&lab, "b", "eth0", VIP)).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}\n---\n{}", a.log_text(), b.log_text()));
    let masters = b.log(&mut lab).matches("Entering MASTER STATE").count() - masters_before;
    println!("MEASURED peer takeovers during the VRRP child restart: {masters}");
    assert!(
        masters <= 1,
        "b became MASTER {masters} times\n{}",
        b.log_text()
    );
    assert_eq!(read_pid(&a.pid_file()), Some(parent), "the parent stays");
}

/// SIGKILL of the checker child: the parent restarts it and the VRRP side does not
/// notice. This host has no ip_vs, so the checker runs idle (`--all` without virtual
/// servers: a checker child with real servers exits FATAL here); the IPVS table after
/// a checker restart is checked in the ip_vs guest (`checker_vm.rs`, step 5).
#[test]
fn killed_checker_child_is_restarted_and_vrrp_is_untouched() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pkchk");
    let a = start_ours(&mut lab, "a", &config(150), &[], &["--all"]);
    let b = start(&mut lab, "b", Daemon::Ours, &config(100));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    let parent = lab.process(a.index).expect("a").pid();
    let vrrp = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let checker = wait_child_pid(&checker_pid_file(&a), parent, None);

    let kill = std::process::Command::new("kill")
        .args(["-9", &checker.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let restarted = wait_child_pid(&checker_pid_file(&a), parent, Some(checker));
    wait_log(
        &mut lab,
        &a,
        &format!("Healthcheck child process({checker}) died: Respawning"),
        WAIT,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", a.log_text()));
    let log_a = a.log_text();
    assert!(
        log_a.contains(&format!(
            "Starting Healthcheck child process, pid={restarted}"
        )),
        "{log_a}"
    );
    // The VRRP child is the same process, still MASTER, never re-elected; b never
    // took over.
    assert_eq!(read_pid(&a.vrrp_pid_file()), Some(vrrp), "{log_a}");
    assert!(alive(vrrp), "{log_a}");
    assert_eq!(read_pid(&a.pid_file()), Some(parent), "the parent stays");
    assert!(has_vip(&lab, "a", "eth0", VIP), "{log_a}");
    assert_eq!(
        log_a.matches("(VI_1) Entering MASTER STATE").count(),
        1,
        "{log_a}"
    );
    assert!(!log_a.contains("VRRP child process("), "{log_a}");
    let log_b = b.log_text();
    assert!(!log_b.contains("Entering MASTER STATE"), "{log_b}");
    assert!(!has_vip(&lab, "b", "eth0", VIP), "{log_b}");
    // The new checker answers the parent as the old one did: a reload reaches it.
    lab.process(a.index).expect("a").signal(1).expect("SIGHUP");
    wait_log(&mut lab, &a, "Reloading", WAIT).expect("reload");
    assert!(
        alive(restarted),
        "the restarted checker died\n{}",
        a.log_text()
    );
    assert!(!a.log_text().contains("panicked"), "{}", a.log_text());
}

#[test]
fn dont_respawn_makes_the_parent_exit_when_the_child_dies() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pnors");
    let a = start_ours(&mut lab, "a", &config(150), &[], &["-R"]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    let parent = lab.process(a.index).expect("a").pid();
    let child = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let kill = std::process::Command::new("kill")
        .args(["-9", &child.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let process = lab.process(a.index).expect("a");
    let status = wait_for("parent exit", WAIT, common::POLL, || {
        process.child.try_wait().ok().flatten()
    })
    .expect("the parent exits when its child dies with -R");
    assert_eq!(status.code(), Some(0));
    let log = a.log(&mut lab);
    assert!(
        log.contains(&format!("VRRP child process({child}) died: Exiting")),
        "{log}"
    );
    assert!(!log.contains("Respawning"), "{log}");
    assert!(!a.pid_file().exists(), "parent pid file left behind");
    assert!(
        !a.vrrp_pid_file().exists(),
        "stale child pid file left behind"
    );
}

#[test]
fn sigterm_stops_the_children_removes_vips_and_pid_files() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pterm");
    let a = start_ours(&mut lab, "a", &config(150), &[], &["--all"]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    let parent = lab.process(a.index).expect("a").pid();
    let vrrp = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let checker = wait_child_pid(&checker_pid_file(&a), parent, None);

    let code = common::stop(&mut lab, &a);
    assert_eq!(code, Some(0));
    assert!(!has_vip(&lab, "a", "eth0", VIP), "VIP left behind");
    for (what, path) in [
        ("parent", a.pid_file()),
        ("vrrp", a.vrrp_pid_file()),
        ("checker", checker_pid_file(&a)),
    ] {
        assert!(!path.exists(), "{what} pid file left behind");
    }
    // The children were waited for: they are gone, not orphaned.
    assert!(!alive(vrrp) || parent_of(vrrp) != Some(parent));
    assert!(!alive(checker) || parent_of(checker) != Some(parent));
    let log = a.log(&mut lab);
    assert!(log.contains("(VI_1) sent 0 priority"), "{log}");
    assert!(log.contains("Stopped Keepalived"), "{log}");
}

#[test]
fn reload_with_a_broken_config_keeps_the_running_one() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("phup");
    let a = start_ours(&mut lab, "a", &config(150), &[], &[]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");
    let conf = a.dir.join("keepalived.conf");
    // Line 8 misspells priority: `keepalived -t` exits 5 on this.
    let broken = config(150).replace(
        "    advert_int 0.5\n",
        "    advert_int 0.5\n    priorty 20\n",
    );
    std::fs::write(&conf, broken).expect("write broken config");
    let before = a.log(&mut lab);
    lab.process(a.index).expect("a").signal(1).expect("SIGHUP");
    wait_log(&mut lab, &a, "New configuration has errors", WAIT).expect("the reload is refused");
    wait_for("reload complete", WAIT, common::POLL, || {
        (a.log_text().matches("Reload complete").count() >= 1).then_some(())
    })
    .expect("the parent completes the reload");
    let log = a.log(&mut lab);
    let after = &log[before.len()..];
    let location = format!("{}:8:", conf.display());
    assert!(after.contains(&location), "no {location} in\n{after}");
    assert!(after.contains("priorty"), "{after}");
    assert!(
        !after.contains("Entering"),
        "a transition at the reload:\n{after}"
    );
    assert!(
        !after.contains("removing VIPs"),
        "VIPs removed at the reload:\n{after}"
    );
    assert!(has_vip(&lab, "a", "eth0", VIP), "VIP lost at the reload");
}

#[test]
fn systemd_is_told_ready_reloading_and_stopping() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("psdn");
    let dir = lab.node("a").expect("a").dir.clone();
    let socket_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(WAIT))
        .expect("receive deadline");
    let env = format!("NOTIFY_SOCKET={}", socket_path.display());
    let a = start_ours(&mut lab, "a", &config(150), &["env", &env], &[]);
    let parent = lab.process(a.index).expect("a").pid();
    let receive = || {
        let mut buf = [0u8; 512];
        let n = socket
            .recv(&mut buf)
            .expect("a notification before the deadline");
        String::from_utf8_lossy(&buf[..n]).to_string()
    };
    let ready = receive();
    assert_eq!(ready, format!("READY=1\nMAINPID={parent}"));
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");

    lab.process(a.index).expect("a").signal(1).expect("SIGHUP");
    let reloading = receive();
    assert!(
        reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
        "{reloading}"
    );
    assert_eq!(receive(), format!("READY=1\nMAINPID={parent}"));

    lab.process(a.index)
        .expect("a")
        .signal(15)
        .expect("SIGTERM");
    assert_eq!(receive(), "STOPPING=1");
    let process = lab.process(a.index).expect("a");
    wait_for("exit", WAIT, common::POLL, || {
        process.child.try_wait().ok().flatten()
    })
    .expect("the daemon exits");
    wait_no_vip(&lab, "a", "eth0", VIP, WAIT).expect("VIP removed");
}

#[test]
fn reload_check_config_refuses_a_broken_config_before_the_children_see_it() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pchk");
    let dir = lab.node("a").expect("a").dir.clone();
    let check_log = dir.join("check.log");
    let good = format!(
        "global_defs {{\n    reload_check_config {}\n}}\n{}",
        check_log.display(),
        config(150)
    );
    let a = start_ours(&mut lab, "a", &good, &[], &[]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");
    let conf = a.dir.join("keepalived.conf");
    let broken = good.replace(
        "    advert_int 0.5\n",
        "    advert_int 0.5\n    priorty 20\n",
    );
    std::fs::write(&conf, &broken).expect("write broken config");
    let before = a.log(&mut lab);
    lab.process(a.index).expect("a").signal(1).expect("SIGHUP");
    let refused = format!(
        "New config failed validation, see {} for details",
        check_log.display()
    );
    wait_log(&mut lab, &a, &refused, WAIT).expect("the parent refuses the reload");
    let checked = std::fs::read_to_string(&check_log).unwrap_or_default();
    assert!(checked.contains("priorty"), "check log: {checked}");
    let log = a.log(&mut lab);
    let after = &log[before.len()..];
    assert!(
        !after.contains("Reloading"),
        "the reload went ahead:\n{after}"
    );
    assert!(has_vip(&lab, "a", "eth0", VIP), "VIP lost");

    // A good configuration goes through the check and reaches the children.
    std::fs::write(&conf, &good).expect("write good config");
    lab.process(a.index).expect("a").signal(1).expect("SIGHUP");
    wait_log(&mut lab, &a, "Reload complete", WAIT).expect("the reload completes");
    let log = a.log(&mut lab);
    assert!(log[before.len()..].contains("Reloading ..."), "{log}");
}

#[test]
fn scripts_left_by_a_killed_child_are_ended_with_it() {
    use std::os::unix::fs::PermissionsExt;
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pscr");
    let dir = lab.node("a").expect("a").dir.clone();
    let script_pid = dir.join("script.pid");
    let script = dir.join("notify_master.sh");
    // The notify script outlives the state change: it records its pid and sleeps.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 60\n",
            script_pid.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let text = config(150).replace(
        "    advert_int 0.5\n",
        &format!(
            "    advert_int 0.5\n    notify_master {}\n",
            script.display()
        ),
    );
    let a = start_ours(&mut lab, "a", &text, &[], &["-R"]);
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a is MASTER");
    let parent = lab.process(a.index).expect("a").pid();
    let child = wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let sleeper = wait_for("notify script running", WAIT, common::POLL, || {
        read_pid(&script_pid).filter(|pid| alive(*pid))
    })
    .expect("the notify script runs");

    let kill = std::process::Command::new("kill")
        .args(["-9", &child.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    // keepalived's scripts die with the child (PDEATHSIG); ours are ended by the parent.
    wait_for("notify script ended", WAIT, common::POLL, || {
        (!alive(sleeper)).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", a.log_text()));
}

#[test]
fn reload_time_file_schedules_a_reload() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("ptime");
    let dir = lab.node("a").expect("a").dir.clone();
    let time_file = dir.join("reload.time");
    let text = format!(
        "global_defs {{\n    reload_time_file {}\n}}\n{}",
        time_file.display(),
        config(150)
    );
    let a = start_ours(&mut lab, "a", &text, &[], &[]);
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");
    // Two seconds from now, with a date, in UTC; logged in local time as keepalived.
    let when = std::time::SystemTime::now() + Duration::from_secs(2);
    let utc = daemon::reload_time::format_in(when, &daemon::reload_time::Utc);
    std::fs::write(&time_file, format!("{utc}Z\n")).expect("write reload time");
    wait_log(
        &mut lab,
        &a,
        &format!(
            "Scheduling reload for {}",
            daemon::reload_time::format(when)
        ),
        WAIT,
    )
    .expect("the parent schedules the reload");
    wait_log(&mut lab, &a, "Reload complete", WAIT).expect("the reload runs");
    let log = a.log(&mut lab);
    assert!(log.contains("Reloading ..."), "{log}");
    // A dated reload time is used once: the file goes.
    wait_for("reload time file removed", WAIT, common::POLL, || {
        (!time_file.exists()).then_some(())
    })
    .expect("the reload time file is removed after the reload");
}

#[test]
fn under_journald_console_lines_carry_priorities_and_no_timestamps() {
    use std::os::unix::fs::MetadataExt;
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pjrnl");
    let dir = lab.node("a").expect("a").dir.clone();
    // systemd names the stream it gives the service in JOURNAL_STREAM (device:inode);
    // here the stream is the log file the lab connects to stdout and stderr.
    let log_path = dir.join("ours.log");
    std::fs::write(&log_path, "").expect("create log");
    let meta = std::fs::metadata(&log_path).expect("log metadata");
    let stream = format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino());
    let a = start_ours(&mut lab, "a", &config(150), &["env", &stream], &[]);
    wait_log(&mut lab, &a, "<6>(VI_1) Entering MASTER STATE", WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", a.log_text()));
    let log = a.log(&mut lab);
    assert!(log.contains("<6>Starting Keepalived v"), "{log}");
    assert!(log.contains("<6>Startup complete"), "{log}");
    for line in log.lines() {
        assert!(line.starts_with('<'), "not in journald's format: {line:?}");
    }
}

#[test]
fn a_child_exiting_with_a_permanent_error_stops_the_daemon() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pperm");
    // The VRRP child cannot write its pid file (nothing can be created under /proc):
    // it exits FATAL, which keepalived's parent does not respawn.
    let a = start_ours(
        &mut lab,
        "a",
        &config(150),
        &[],
        &["-r", "/proc/keepalived-rs-test/vrrp.pid"],
    );
    let process = lab.process(a.index).expect("a");
    let status = wait_for("parent exit", WAIT, common::POLL, || {
        process.child.try_wait().ok().flatten()
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", a.log_text()));
    let log = a.log(&mut lab);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains("Keepalived_vrrp exited with permanent error FATAL. Terminating"),
        "{log}"
    );
    assert!(!log.contains("Respawning"), "{log}");
    assert!(!a.pid_file().exists(), "parent pid file left behind");
}

#[test]
fn vrrp_only_starts_no_checker_even_with_all() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("ponly");
    let a = start_ours(&mut lab, "a", &config(150), &[], &["--all", "-P"]);
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");
    let parent = lab.process(a.index).expect("a").pid();
    wait_child_pid(&a.vrrp_pid_file(), parent, None);
    let log = a.log(&mut lab);
    assert!(!log.contains("Starting Healthcheck child"), "{log}");
    assert!(!checker_pid_file(&a).exists());
}

#[test]
fn sigusr1_to_the_parent_dumps_parent_and_vrrp_data() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("pusr1");
    let tmp = lab.node("a").expect("a").dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let env = format!("TMPDIR={}", tmp.display());
    let a = start_ours(&mut lab, "a", &config(150), &["env", &env], &[]);
    wait_log(&mut lab, &a, "Startup complete", WAIT).expect("startup complete");
    let parent = lab.process(a.index).expect("a").pid();
    lab.process(a.index)
        .expect("a")
        .signal(10)
        .expect("SIGUSR1");
    let read = |name: &str| std::fs::read_to_string(tmp.join(name)).ok();
    let parent_data = wait_for("keepalived_parent.data", WAIT, common::POLL, || {
        read("keepalived_parent.data")
    })
    .expect("the parent writes its data");
    assert!(
        parent_data.starts_with("------< Global definitions >------"),
        "{parent_data}"
    );
    assert!(!parent_data.contains("VRRP Topology"), "{parent_data}");
    // The signal reached the VRRP child too.
    let vrrp_data = wait_for("keepalived.data", WAIT, common::POLL, || {
        read("keepalived.data").filter(|t| t.contains("VRRP Topology"))
    })
    .expect("the VRRP child writes its data");
    assert!(vrrp_data.contains("VI_1"), "{vrrp_data}");
    let log = a.log(&mut lab);
    assert!(
        log.contains(&format!(
            "Printing parent data for process({parent}) on signal"
        )),
        "{log}"
    );
}
