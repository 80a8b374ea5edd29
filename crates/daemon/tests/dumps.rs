//! Dump files against Debian's keepalived 2.2.7: the same configuration runs alone on
//! its own lab (so both become MASTER on their own, with the same traffic), each
//! daemon with its own TMPDIR; DATA, STATS and JSON (numbers from each binary's
//! `--signum`) must produce files with the same names whose parsed fields agree.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Daemon, OURS, POLL, UPSTREAM, can_run, has_vip, wait_vip};
use lab::{Lab, wait_for};

const CONFIG: &str = "global_defs {
    router_id dumps
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    virtual_ipaddress {
        192.0.2.100/24 dev eth0
    }
}
vrrp_instance VI_2 {
    interface eth0
    version 3
    virtual_router_id 52
    priority 120
    advert_int 1
    nopreempt
    virtual_ipaddress {
        192.0.2.101/24
        192.0.2.102/24 dev eth0
    }
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 53
    priority 110
    advert_int 1
    virtual_ipaddress {
        2001:db8::100/64 dev eth0
    }
    virtual_ipaddress_excluded {
        2001:db8:1::100/64
    }
}
vrrp_instance UNI {
    interface eth0
    virtual_router_id 54
    priority 130
    advert_int 1
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.12
    }
    virtual_ipaddress {
        192.0.2.103/24 dev eth0 label eth0:uni
    }
}
";

/// A daemon running alone in its own lab.
struct Solo {
    lab: Lab,
    index: usize,
    tmp: PathBuf,
    daemon: Daemon,
}

fn program(daemon: Daemon) -> &'static str {
    match daemon {
        Daemon::Ours => OURS,
        Daemon::Upstream => UPSTREAM,
    }
}

/// keepalived `--signum NAME` of `daemon`'s binary.
fn signum(daemon: Daemon, name: &str) -> i32 {
    let out = std::process::Command::new(program(daemon))
        .arg(format!("--signum={name}"))
        .output()
        .expect("run --signum");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("--signum prints a number")
}

/// Starts `daemon` on node a of a new lab with `config` and TMPDIR in the node's dir.
/// `wrap` is put before the daemon's argv (e.g. to run it with a read-only TMPDIR).
fn start_solo(tag: &str, daemon: Daemon, config: &str, extra: &[&str]) -> Solo {
    let mut lab = Lab::new(tag, 1).expect("lab");
    lab.add_node("a", &[&["192.0.2.11/24", "2001:db8::11/64"]])
        .expect("node a");
    let dir = lab.node("a").expect("node").dir.clone();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp dir");
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config).expect("config");
    let env_tmp = format!("TMPDIR={}", tmp.display());
    let conf = conf.display().to_string();
    let pid = dir.join("keepalived.pid").display().to_string();
    let vrrp_pid = dir.join("vrrp.pid").display().to_string();
    let mut argv = vec!["env", &env_tmp, program(daemon), "-n", "-l", "-D"];
    if daemon == Daemon::Upstream {
        argv.push("-P");
    }
    argv.extend_from_slice(&["-f", &conf, "-p", &pid, "-r", &vrrp_pid]);
    argv.extend_from_slice(extra);
    let index = lab.spawn("a", "daemon.log", &argv).expect("spawn");
    Solo {
        lab,
        index,
        tmp,
        daemon,
    }
}

impl Solo {
    fn signal(&mut self, name: &str) {
        let number = signum(self.daemon, name);
        self.lab
            .process(self.index)
            .expect("process")
            .signal(number)
            .expect("signal");
    }

    fn log(&mut self) -> String {
        self.lab
            .process(self.index)
            .map(|p| p.log_text())
            .unwrap_or_default()
    }

    /// Waits until `name` in TMPDIR satisfies `complete` (keepalived writes in place).
    fn wait_file(&mut self, name: &str, complete: impl Fn(&str) -> bool) -> String {
        let path = self.tmp.join(name);
        let found = wait_for(
            &format!("{:?} writes {name}", self.daemon),
            Duration::from_secs(10),
            POLL,
            || {
                std::fs::read_to_string(&path)
                    .ok()
                    .filter(|text| complete(text))
            },
        );
        match found {
            Ok(text) => text,
            Err(e) => panic!("{e}\nlog:\n{}", self.log()),
        }
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list tmp")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `keepalived.stats`: instance → [(section/counter, value)].
fn parse_stats(text: &str) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut out: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    let mut instance = String::new();
    let mut section = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("VRRP Instance: ") {
            instance = name.to_string();
            out.entry(instance.clone()).or_default();
            continue;
        }
        let (key, value) = line.split_once(':').expect("key: value");
        let value = value.trim();
        if value.is_empty() {
            section = key.trim().to_string();
            continue;
        }
        let depth = line.len() - line.trim_start().len();
        let key = if depth == 4 {
            format!("{section}/{}", key.trim())
        } else {
            key.trim().to_string()
        };
        out.entry(instance.clone())
            .or_default()
            .push((key, value.parse().expect("counter")));
    }
    out
}

/// The `VRRP Topology` blocks of `keepalived.data`: instance → key → values.
fn parse_topology(text: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut in_topology = false;
    let mut instance = String::new();
    let mut list_key = String::new();
    for line in text.lines() {
        if line.starts_with("------<") {
            in_topology = line.contains("VRRP Topology");
            continue;
        }
        if !in_topology {
            continue;
        }
        if let Some(name) = line.strip_prefix(" VRRP Instance = ") {
            instance = name.to_string();
            continue;
        }
        let block = out.entry(instance.clone()).or_default();
        if line.starts_with("     ") {
            block
                .entry(list_key.clone())
                .or_default()
                .push(line.trim().to_string());
        } else if let Some((key, value)) = line.trim().split_once(" = ") {
            block
                .entry(key.to_string())
                .or_default()
                .push(value.to_string());
        } else {
            list_key = line.trim().to_string();
            block.entry(list_key.clone()).or_default();
        }
    }
    out
}

/// The lines of the section titled `title` ("VRRP Sync groups").
fn section(text: &str, title: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !(l.starts_with("------<") && l.contains(title)))
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .map(str::to_string)
        .collect()
}

fn global_section(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .map(str::to_string)
        .collect()
}

#[test]
fn dump_files_match_keepalived() {
    if !can_run(true) {
        return;
    }
    for name in ["DATA", "STATS", "STATS_CLEAR", "JSON"] {
        assert_eq!(
            signum(Daemon::Ours, name),
            signum(Daemon::Upstream, name),
            "--signum={name}"
        );
    }
    let mut ours = start_solo("dmpo", Daemon::Ours, CONFIG, &[]);
    let mut upstream = start_solo("dmpu", Daemon::Upstream, CONFIG, &[]);
    for solo in [&ours, &upstream] {
        for vip in [
            "192.0.2.100/24",
            "192.0.2.101/24",
            "192.0.2.102/24",
            "192.0.2.103/24",
            "2001:db8::100/64",
        ] {
            wait_vip(&solo.lab, "a", "eth0", vip, Duration::from_secs(10)).expect("MASTER");
        }
    }

    // JSON: same keys in the same order, same values but the clock-dependent ones.
    let complete_json = |t: &str| serde_json::from_str::<serde_json::Value>(t).is_ok();
    ours.signal("JSON");
    upstream.signal("JSON");
    let ours_json = ours.wait_file("keepalived.json", complete_json);
    let upstream_json = upstream.wait_file("keepalived.json", complete_json);
    assert!(ours_json.contains(r"\/24"), "'/' escaped as json-c does");
    let ours_value: serde_json::Value = serde_json::from_str(&ours_json).expect("json");
    let upstream_value: serde_json::Value = serde_json::from_str(&upstream_json).expect("json");
    let (Some(ours_list), Some(upstream_list)) = (ours_value.as_array(), upstream_value.as_array())
    else {
        panic!("both are arrays: {ours_json} / {upstream_json}");
    };
    assert_eq!(ours_list.len(), 4);
    assert_eq!(ours_list.len(), upstream_list.len());
    for (o, u) in ours_list.iter().zip(upstream_list) {
        for part in ["data", "stats"] {
            let (Some(o), Some(u)) = (o[part].as_object(), u[part].as_object()) else {
                panic!("{part} objects");
            };
            let o_keys: Vec<&String> = o.keys().collect();
            let u_keys: Vec<&String> = u.keys().collect();
            assert_eq!(o_keys, u_keys, "{part} keys");
            for (key, value) in o {
                if ["last_transition", "advert_sent"].contains(&key.as_str()) {
                    continue;
                }
                assert_eq!(Some(value), u.get(key), "{part}.{key} of {}", o["data"]);
            }
        }
        let sent = |v: &serde_json::Value| v["stats"]["advert_sent"].as_u64().expect("sent");
        assert!(sent(o).abs_diff(sent(u)) <= 2, "advert_sent {o} / {u}");
    }

    // DATA: the same global lines; the instance blocks agree on the fields that
    // depend on configuration and protocol state (not on timers or descriptors).
    let complete_data = |t: &str| t.matches("Notify priority changes").count() >= 4;
    ours.signal("DATA");
    upstream.signal("DATA");
    let ours_data = ours.wait_file("keepalived.data", complete_data);
    let upstream_data = upstream.wait_file("keepalived.data", complete_data);
    let upstream_global = global_section(&upstream_data);
    for line in global_section(&ours_data) {
        assert!(
            upstream_global.contains(&line),
            "global line {line:?} not in keepalived's:\n{}",
            upstream_global.join("\n")
        );
    }
    for title in ["VRRP Sync groups", "VRRP Sockpool"] {
        let theirs = section(&upstream_data, title);
        let ours = section(&ours_data, title);
        assert!(!ours.is_empty(), "{title} section");
        for line in ours {
            assert!(
                theirs.contains(&line),
                "{title} line {line:?} not in keepalived's:\n{}",
                theirs.join("\n")
            );
        }
    }
    let ours_topology = parse_topology(&ours_data);
    let upstream_topology = parse_topology(&upstream_data);
    assert_eq!(
        ours_topology.keys().collect::<Vec<_>>(),
        upstream_topology.keys().collect::<Vec<_>>()
    );
    for (name, block) in &ours_topology {
        let theirs = &upstream_topology[name];
        for key in block.keys() {
            assert!(
                theirs.contains_key(key),
                "({name}) line {key:?} is not in keepalived's dump:\n{upstream_data}\n-----\n{ours_data}"
            );
        }
        for key in [
            "VRRP Version",
            "Sync group",
            "State",
            "Wantstate",
            "Interface",
            "Using src_ip",
            "Virtual Router ID",
            "Priority",
            "Effective priority",
            "Total priority",
            "Advert interval",
            "Accept",
            "Preempt",
            "Authentication type",
            "Password",
            "Gratuitous ARP delay",
            "Gratuitous ARP repeat",
            "Down timer adverts",
            "Multicast address 224.0.0.18",
            "Virtual IP (1):",
            "Virtual IP (2):",
            "Virtual IP Excluded :",
            "Flags:",
            "Flags: none",
            "Using Native IPv6",
            "Unicast Peer :",
            "Check unicast src : no",
            "Notify deleted",
            "Using smtp notification",
        ] {
            // Link-local sources differ between the two labs (random MACs).
            if key == "Using src_ip" && name == "V6" {
                continue;
            }
            assert_eq!(block.get(key), theirs.get(key), "({name}) {key}");
        }
    }

    // STATS: same layout and counters; STATS_CLEAR writes, then zeroes.
    let complete_stats = |t: &str| t.matches("Priority Zero:").count() >= 4 && t.ends_with('\n');
    ours.signal("STATS");
    upstream.signal("STATS");
    let ours_stats = parse_stats(&ours.wait_file("keepalived.stats", complete_stats));
    let upstream_stats = parse_stats(&upstream.wait_file("keepalived.stats", complete_stats));
    assert_eq!(
        ours_stats.keys().collect::<Vec<_>>(),
        upstream_stats.keys().collect::<Vec<_>>()
    );
    for (name, counters) in &ours_stats {
        let theirs = &upstream_stats[name];
        let keys = |c: &Vec<(String, u64)>| c.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(keys(counters), keys(theirs), "({name}) stats layout");
        for ((key, o), (_, u)) in counters.iter().zip(theirs) {
            if key == "Advertisements/Sent" {
                assert!(o.abs_diff(*u) <= 2, "({name}) {key}: {o} / {u}");
                assert!(*o > 0, "({name}) adverts sent");
            } else {
                assert_eq!(o, u, "({name}) {key}");
            }
        }
    }
    std::fs::remove_file(ours.tmp.join("keepalived.stats")).expect("remove stats");
    ours.signal("STATS_CLEAR");
    let before_clear = parse_stats(&ours.wait_file("keepalived.stats", complete_stats));
    assert!(before_clear["VI_1"].contains(&("Became master".to_string(), 1)));
    std::fs::remove_file(ours.tmp.join("keepalived.stats")).expect("remove stats");
    ours.signal("STATS");
    let after_clear = parse_stats(&ours.wait_file("keepalived.stats", complete_stats));
    assert!(
        after_clear["VI_1"].contains(&("Became master".to_string(), 0)),
        "cleared: {after_clear:?}"
    );

    // Same file names, keepalived_parent.data (the parent's SIGUSR1 dump) included.
    assert_eq!(file_names(&ours.tmp), file_names(&upstream.tmp));
}

/// `data_use_instance` with `instance NAME`: only the data file is renamed.
#[test]
fn data_file_uses_instance_name() {
    if !can_run(false) {
        return;
    }
    // `instance` is a top-level keyword, `data_use_instance` a global_defs one.
    let config = format!(
        "instance dmp\nglobal_defs {{\n    data_use_instance\n}}\n{}",
        &CONFIG[CONFIG.find("vrrp_instance").unwrap_or(0)..]
    );
    let mut ours = start_solo("dmpi", Daemon::Ours, &config, &[]);
    wait_vip(
        &ours.lab,
        "a",
        "eth0",
        "192.0.2.100/24",
        Duration::from_secs(10),
    )
    .expect("MASTER");
    ours.signal("DATA");
    let text = ours.wait_file("keepalived.dmp.data", |t| t.contains("VRRP Topology"));
    assert!(text.contains(" Instance name = dmp\n"), "{text}");
}

/// A TMPDIR the daemon cannot write: each dump is an error in the log, and the
/// daemon keeps running with its VIPs.
#[test]
fn unwritable_tmpdir_is_logged_not_fatal() {
    // Root ignores directory permissions: a read-only bind mount in a private mount
    // namespace is what makes the directory unwritable for it.
    dumps_fail_in(
        "dmpr",
        "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\"",
        "Read-only file system",
        &[],
    );
}

/// A TMPDIR on a tiny tmpfs filled to the last byte (disk full): as with a read-only
/// one, each dump is an error in the log (no truncated file left behind) and the
/// daemon keeps running with its VIPs.
#[test]
fn full_tmpdir_is_logged_not_fatal() {
    // `head` stops at ENOSPC (its failure is the point); nr_inodes leaves room for
    // the filler only, so neither data nor a new file fits.
    dumps_fail_in(
        "dmpf",
        "mount -t tmpfs -o size=16k,nr_inodes=3 tmpfs \"$1\" && { head -c 1M /dev/zero > \"$1/filler\" 2>/dev/null; true; }",
        "No space left on device",
        &["filler"],
    );
}

/// Starts our daemon with TMPDIR set to a directory `prepare` (a shell snippet, the
/// directory in `$1`) made unusable in a private mount namespace, sends DATA, STATS
/// and JSON, and checks that each is logged as failing with `error` while the daemon
/// runs on with its VIP, and that the directory still holds only `held` (no partial
/// file left behind).
fn dumps_fail_in(tag: &str, prepare: &str, error: &str, held: &[&str]) {
    if !can_run(false) || !lab::have_program("unshare") || !lab::have_program("nsenter") {
        return;
    }
    let mut lab = Lab::new(tag, 1).expect("lab");
    lab.add_node("a", &[&["192.0.2.11/24"]]).expect("node a");
    let dir = lab.node("a").expect("node").dir.clone();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("dir");
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONFIG).expect("config");
    let tmp_text = tmp.display().to_string();
    let env_tmp = format!("TMPDIR={tmp_text}");
    let conf = conf.display().to_string();
    let pid = dir.join("keepalived.pid").display().to_string();
    let vrrp_pid = dir.join("vrrp.pid").display().to_string();
    let script = format!("{prepare} && shift && exec \"$@\"");
    let argv = [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
        &tmp_text,
        "env",
        &env_tmp,
        OURS,
        "-n",
        "-l",
        "-f",
        &conf,
        "-p",
        &pid,
        "-r",
        &vrrp_pid,
    ];
    let index = lab.spawn("a", "daemon.log", &argv).expect("spawn");
    let log = |lab: &mut Lab| lab.process(index).map(|p| p.log_text()).unwrap_or_default();
    wait_vip(&lab, "a", "eth0", "192.0.2.100/24", Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}\n{}", log(&mut lab)));
    for name in ["DATA", "STATS", "JSON"] {
        let number = signum(Daemon::Ours, name);
        lab.process(index)
            .expect("process")
            .signal(number)
            .expect("signal");
    }
    wait_for(
        "three dump errors logged",
        Duration::from_secs(10),
        POLL,
        || {
            let failures = log(&mut lab)
                .lines()
                .filter(|l| l.contains("Can't write dump file") && l.contains(error))
                .count();
            (failures >= 3).then_some(())
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", log(&mut lab)));
    let text = log(&mut lab);
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        !lab.process(index).expect("process").has_exited(),
        "the daemon keeps running\n{text}"
    );
    assert!(
        has_vip(&lab, "a", "eth0", "192.0.2.100/24"),
        "and keeps its VIP\n{text}"
    );
    // Still a working daemon: it answers the next signal (and still cannot write).
    lab.process(index)
        .expect("process")
        .signal(signum(Daemon::Ours, "DATA"))
        .expect("signal");
    wait_for("a fourth dump error", Duration::from_secs(10), POLL, || {
        (log(&mut lab).matches("Can't write dump file").count() >= 4).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", log(&mut lab)));
    // The mount is private to the daemon's mount namespace: list it from there.
    let pid = lab.process(index).expect("process").pid().to_string();
    let listing = std::process::Command::new("nsenter")
        .args(["-t", &pid, "-m", "ls", "-A", &tmp_text])
        .output()
        .expect("nsenter");
    assert!(listing.status.success(), "{listing:?}");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert_eq!(listing.split_whitespace().collect::<Vec<_>>(), held);
    // And outside it, the directory stays untouched.
    assert!(file_names(&tmp).is_empty(), "written outside the mount");
}
