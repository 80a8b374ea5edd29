//! Shared helpers of the VRRP namespace tests: a two-node lab, starting our daemon or
//! Debian's keepalived 2.2.7 on a node, and waiting for VIPs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lab::{Lab, LabError, is_root, wait_for};

pub const OURS: &str = env!("CARGO_BIN_EXE_keepalived");
pub const UPSTREAM: &str = "/usr/sbin/keepalived";

/// Poll interval for VIP checks: small against the intervals measured.
pub const POLL: Duration = Duration::from_millis(10);

/// Whether the namespace tests can run here; prints why not.
pub fn can_run(need_upstream: bool) -> bool {
    if !is_root() {
        println!("SKIP: needs root");
        return false;
    }
    if need_upstream && !std::path::Path::new(UPSTREAM).is_file() {
        println!("SKIP: {UPSTREAM} not installed (apt-get install keepalived)");
        return false;
    }
    true
}

/// Nodes a (192.0.2.11, 2001:db8::11) and b (.12, ::12) on one bridge.
pub fn pair(tag: &str) -> Lab {
    let mut lab = Lab::new(tag, 1).expect("lab");
    lab.add_node("a", &[&["192.0.2.11/24", "2001:db8::11/64"]])
        .expect("node a");
    lab.add_node("b", &[&["192.0.2.12/24", "2001:db8::12/64"]])
        .expect("node b");
    lab
}

/// Which daemon runs on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Ours,
    Upstream,
}

/// A daemon started in a node.
#[derive(Debug, Clone)]
pub struct Running {
    pub node: String,
    pub daemon: Daemon,
    pub index: usize,
    pub dir: PathBuf,
}

impl Running {
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("keepalived.pid")
    }

    pub fn vrrp_pid_file(&self) -> PathBuf {
        self.dir.join("vrrp.pid")
    }

    pub fn log(&self, lab: &mut Lab) -> String {
        lab.process(self.index)
            .map(|p| p.log_text())
            .unwrap_or_default()
    }

    /// The log file (both daemons append to it when restarted on the node).
    pub fn log_file(&self) -> PathBuf {
        self.dir.join(match self.daemon {
            Daemon::Ours => "ours.log",
            Daemon::Upstream => "upstream.log",
        })
    }

    /// The log read from its file (no lab borrow needed).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }
}

/// Writes `config` as the node's keepalived.conf and starts `daemon` with it, as the
/// lab README does: `-n -l -D [-P] -f conf -p pid -r vrrp-pid`, each node with its
/// own pid files (they would collide otherwise).
pub fn start(lab: &mut Lab, node: &str, daemon: Daemon, config: &str) -> Running {
    let dir = lab.node(node).expect("node").dir.clone();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config).expect("write config");
    let pid = dir.join("keepalived.pid");
    let vrrp_pid = dir.join("vrrp.pid");
    let (program, log) = match daemon {
        Daemon::Ours => (OURS, "ours.log"),
        Daemon::Upstream => (UPSTREAM, "upstream.log"),
    };
    let conf = conf.display().to_string();
    let pid = pid.display().to_string();
    let vrrp_pid = vrrp_pid.display().to_string();
    let mut argv = vec![program, "-n", "-l", "-D"];
    if daemon == Daemon::Upstream {
        argv.push("-P");
    }
    argv.extend_from_slice(&["-f", &conf, "-p", &pid, "-r", &vrrp_pid]);
    let index = lab.spawn(node, log, &argv).expect("spawn daemon");
    Running {
        node: node.to_string(),
        daemon,
        index,
        dir,
    }
}

pub fn read_pid(path: &PathBuf) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A crash: SIGKILL. The VRRP child is killed together with (and before) the parent,
/// whose death would otherwise make the child stop gracefully (lab README, gotcha 1);
/// both daemons run a parent and a VRRP child.
pub fn crash(lab: &mut Lab, running: &Running) {
    let parent = lab.process(running.index).expect("process").pid();
    let mut pids = Vec::new();
    // Wait for the child's pid file: it is written a little after the parent's.
    let child = wait_for("vrrp.pid", Duration::from_secs(5), POLL, || {
        read_pid(&running.vrrp_pid_file()).filter(|p| *p != parent)
    })
    .expect("the daemon wrote its VRRP child's pid");
    pids.push(child.to_string());
    pids.push(parent.to_string());
    let mut args = vec!["-9"];
    args.extend(pids.iter().map(String::as_str));
    let status = std::process::Command::new("kill")
        .args(&args)
        .status()
        .expect("kill");
    assert!(status.success());
    let process = lab.process(running.index).expect("process");
    let _ = process.child.wait();
}

/// Graceful stop: SIGTERM, then wait for the exit. Returns the exit code.
pub fn stop(lab: &mut Lab, running: &Running) -> Option<i32> {
    let process = lab.process(running.index).expect("process");
    process.signal(15).expect("SIGTERM");
    wait_for("exit after SIGTERM", Duration::from_secs(10), POLL, || {
        process.child.try_wait().ok().flatten()
    })
    .expect("daemon exited after SIGTERM")
    .code()
}

/// Whether `vip` (as `ip -o addr` prints it, e.g. "192.0.2.100/24") is on `ifname`.
pub fn has_vip(lab: &Lab, node: &str, ifname: &str, vip: &str) -> bool {
    lab.addresses(node, ifname)
        .map(|list| list.iter().any(|a| a == vip))
        .unwrap_or(false)
}

/// Waits until `vip` is on `node`'s `ifname`; returns how long that took.
pub fn wait_vip(
    lab: &Lab,
    node: &str,
    ifname: &str,
    vip: &str,
    timeout: Duration,
) -> Result<Duration, LabError> {
    let start = Instant::now();
    wait_for(&format!("{vip} on {node}/{ifname}"), timeout, POLL, || {
        has_vip(lab, node, ifname, vip).then(|| start.elapsed())
    })
}

/// Waits until `vip` is gone from `node`'s `ifname`.
pub fn wait_no_vip(
    lab: &Lab,
    node: &str,
    ifname: &str,
    vip: &str,
    timeout: Duration,
) -> Result<Duration, LabError> {
    let start = Instant::now();
    wait_for(
        &format!("{vip} gone from {node}/{ifname}"),
        timeout,
        POLL,
        || (!has_vip(lab, node, ifname, vip)).then(|| start.elapsed()),
    )
}

/// Waits until the daemon's log contains `text`.
pub fn wait_log(
    lab: &mut Lab,
    running: &Running,
    text: &str,
    timeout: Duration,
) -> Result<(), LabError> {
    let index = running.index;
    wait_for(&format!("log line {text:?}"), timeout, POLL, || {
        let log = lab.process(index).map(|p| p.log_text()).unwrap_or_default();
        log.contains(text).then_some(())
    })
}

/// RFC 5798 §6.1 Master_Down_Interval for a backup of `priority` (v3 formula; for v2
/// with whole seconds it is the same number).
pub fn master_down(advert_int: Duration, priority: u32) -> Duration {
    advert_int * 3 + skew(advert_int, priority)
}

/// RFC 5798 §6.1 Skew_Time.
pub fn skew(advert_int: Duration, priority: u32) -> Duration {
    advert_int * (256 - priority) / 256
}

/// Prints a measured figure so that `cargo test -- --nocapture` shows it.
pub fn report(what: &str, measured: Duration, bound: Duration) {
    println!(
        "MEASURED {what}: {:.3} s (protocol bound {:.3} s)",
        measured.as_secs_f64(),
        bound.as_secs_f64()
    );
}

/// The ten instances for a node (`me`/`peer` are the last octet / hextet).
pub fn config(me: u8, peer: u8, priority: u32) -> String {
    let instance = |name: &str, vrid: u32, body: &str, vip: &str| {
        format!(
            "vrrp_instance {name} {{
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
{body}    virtual_ipaddress {{
        {vip}
    }}
}}
"
        )
    };
    let mut text = String::from("global_defs {\n    vrrp_garp_master_delay 0\n}\n");
    text += &instance("V2", 51, "", "192.0.2.100/24 dev eth0");
    text += &instance("V3", 52, "    version 3\n", "192.0.2.101/24 dev eth0");
    text += &instance("V6", 53, "", "2001:db8::100/64 dev eth0");
    text += &instance(
        "PASS",
        54,
        "    authentication {\n        auth_type PASS\n        auth_pass secret1\n    }\n",
        "192.0.2.102/24 dev eth0",
    );
    text += &instance(
        "AH",
        55,
        "    authentication {\n        auth_type AH\n        auth_pass secret2\n    }\n",
        "192.0.2.103/24 dev eth0",
    );
    text += &instance(
        "UNI",
        56,
        &format!(
            "    unicast_src_ip 192.0.2.{me}\n    unicast_peer {{\n        192.0.2.{peer}\n    }}\n"
        ),
        "192.0.2.104/24 dev eth0",
    );
    text += &instance(
        "UNI6",
        57,
        &format!(
            "    unicast_src_ip 2001:db8::{me}\n    unicast_peer {{\n        2001:db8::{peer}\n    }}\n"
        ),
        "2001:db8::101/64 dev eth0",
    );
    text += &instance("VMAC", 58, "    use_vmac\n", "192.0.2.105/24");
    text += &instance("VMAC6", 59, "    use_vmac\n", "2001:db8::102/64");
    text += &instance(
        "UVMAC",
        61,
        &format!(
            "    use_vmac\n    vmac_xmit_base\n    unicast_src_ip 192.0.2.{me}\n    unicast_peer {{\n        192.0.2.{peer}\n    }}\n"
        ),
        "192.0.2.106/24",
    );
    text
}

/// The VIP of the one-instance configurations below.
pub const VIP: &str = "192.0.2.100/24";

/// VRRPv3 instance VI_1 (vrid 51, advert_int 0.5 s, starting as BACKUP) on eth0, holding
/// `VIP` on eth0, with `extra` lines inside the instance.
pub fn v3_instance(priority: u32, extra: &str) -> String {
    v3_instance_on("eth0", priority, extra)
}

/// `v3_instance` on another `interface` (the VIP stays on eth0).
pub fn v3_instance_on(interface: &str, priority: u32, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    version 3
    state BACKUP
    interface {interface}
    virtual_router_id 51
    priority {priority}
    advert_int 0.5
{extra}
    virtual_ipaddress {{
        {VIP} dev eth0
    }}
}}
"
    )
}

/// Whether `pid` runs (a zombie does not count): the daemon's own check.
pub fn alive(pid: u32) -> bool {
    daemon::process::is_running(pid)
}

/// Resident set size of `pid` in KiB (0 when unknown).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A `sleep` argument no other process on the machine has: a long duration with
/// this test process's pid and a per-call tag as the fraction. [`pids_with_arg`]
/// finds (only) the processes started with it.
pub fn unique_sleep_arg(tag: u32) -> String {
    format!("3000.{}{tag:03}", std::process::id())
}

/// Pids of processes whose arguments include `arg`.
pub fn pids_with_arg(arg: &str) -> Vec<u32> {
    let needle = format!("\u{0}{arg}\u{0}");
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.flatten()
                .filter(|e| {
                    std::fs::read(e.path().join("cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&needle))
                })
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}
