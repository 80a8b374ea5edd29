//! Reload benchmark (not a test): SIGHUP under a running pair with 1,000 instances,
//! keepalived-rs beside Debian keepalived 2.2.7 in one run. Run through
//! `scripts/bench-reload.sh` (root; needs `/usr/sbin/keepalived` and `ip`).
//!
//! `reload_bench [INSTANCES] [RELOADS] [OUR_BINARY]`
//!
//! For each daemon: a fresh namespace lab (node a MASTER priority 150, node b BACKUP
//! 100, the same daemon on both), INSTANCES VRRPv2 instances (1 s) spread over 4
//! segments, every VIP on a. Then RELOADS SIGHUPs of a with the same configuration and
//! RELOADS alternating with a configuration that has one unrelated instance more. The
//! figure is the time from `kill(SIGHUP)` to the parent's "Reload complete" line
//! (keepalived's parent logs it when its VRRP child has read the new configuration; ours
//! when the child has applied it), read by tailing the log every 0.5 ms. Flaps are
//! counted from outside: VIP deletions on a (`ip -o monitor address`) and state
//! transitions in both daemons' logs after the initial election.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lab::{Lab, wait_for};

const SEGMENTS: usize = 4;
const UPSTREAM: &str = "/usr/sbin/keepalived";

type Error = Box<dyn std::error::Error>;

fn instance(k: usize, priority: u32) -> String {
    let segment = k % SEGMENTS;
    let vrid = k / SEGMENTS % 255 + 1;
    let vip = format!("198.18.{}.{}/32", k / 200, k % 200 + 1);
    format!(
        "vrrp_instance VI_{k} {{
    interface eth{segment}
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {vip} dev eth{segment}
    }}
}}
"
    )
}

fn config(instances: usize, priority: u32, extra: bool) -> String {
    let mut text = String::from("global_defs {\n    vrrp_garp_master_delay 0\n}\n");
    for k in 0..instances {
        text += &instance(k, priority);
    }
    if extra {
        // A VRID no other instance uses on eth0, with its own VIP.
        text += "vrrp_instance UNRELATED {
    interface eth0
    virtual_router_id 255
    priority 120
    advert_int 1
    virtual_ipaddress {
        198.51.100.250/32 dev eth0
    }
}
";
    }
    text
}

/// Follows a log file from its current end.
struct Tail {
    path: PathBuf,
    offset: u64,
    pending: String,
}

impl Tail {
    fn new(path: &Path) -> Tail {
        let offset = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        Tail {
            path: path.to_path_buf(),
            offset,
            pending: String::new(),
        }
    }

    /// New complete lines since the last call.
    fn lines(&mut self) -> Vec<String> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        self.offset += bytes.len() as u64;
        self.pending.push_str(&String::from_utf8_lossy(&bytes));
        let mut lines = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            lines.push(self.pending.drain(..=end).collect());
        }
        lines
    }
}

struct Run {
    times: Vec<Duration>,
    /// Ours only: the child's own "Reload finished in N usec".
    inner_us: Vec<u64>,
    vip_deletions: usize,
    transitions_a: usize,
    transitions_b: usize,
    masters_b: usize,
}

fn count_vips(lab: &Lab, node: &str) -> usize {
    (0..SEGMENTS)
        .map(|s| {
            lab.addresses(node, &format!("eth{s}"))
                .map(|list| list.iter().filter(|a| a.starts_with("198.18.")).count())
                .unwrap_or(0)
        })
        .sum()
}

fn run(binary: &str, instances: usize, reloads: usize) -> Result<Run, Error> {
    let mut lab = Lab::new("rlbench", u32::try_from(SEGMENTS)?)?;
    let addresses = |me: u8| -> Vec<String> {
        (0..SEGMENTS)
            .map(|s| format!("198.19.{s}.{me}/24"))
            .collect()
    };
    for (node, me) in [("a", 11), ("b", 12)] {
        let list = addresses(me);
        let per_segment: Vec<Vec<&str>> = list.iter().map(|a| vec![a.as_str()]).collect();
        let refs: Vec<&[&str]> = per_segment.iter().map(Vec::as_slice).collect();
        lab.add_node(node, &refs)?;
    }
    let mut spawned = Vec::new();
    for (node, priority) in [("a", 150), ("b", 100)] {
        let dir = lab.node(node)?.dir.clone();
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, config(instances, priority, false))?;
        let argv = [
            binary,
            "-n",
            "-l",
            "-D",
            "-P",
            "-f",
            &conf.display().to_string(),
            "-p",
            &dir.join("keepalived.pid").display().to_string(),
            "-r",
            &dir.join("vrrp.pid").display().to_string(),
        ]
        .map(str::to_string);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let index = lab.spawn(node, "daemon.log", &argv)?;
        spawned.push((dir, index, conf));
    }
    let started = Instant::now();
    wait_for(
        "a holds every VIP",
        Duration::from_secs(120),
        Duration::from_millis(200),
        || (count_vips(&lab, "a") >= instances).then_some(()),
    )?;
    eprintln!(
        "  {binary}: a holds {instances} VIPs after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    // Let the GARP bursts and the backup's logs settle.
    std::thread::sleep(Duration::from_secs(2));
    let Some((a_dir, a_index, a_conf)) = spawned.first().cloned() else {
        return Err("no node a".into());
    };
    let Some((b_dir, _, _)) = spawned.get(1).cloned() else {
        return Err("no node b".into());
    };
    let a_log = a_dir.join("daemon.log");
    let b_log = b_dir.join("daemon.log");
    let monitor = a_dir.join("monitor.txt");
    lab.spawn("a", "monitor.txt", &["ip", "-o", "monitor", "address"])?;
    std::thread::sleep(Duration::from_millis(300));
    let a_before = std::fs::read_to_string(&a_log)?.len();
    let b_before = std::fs::read_to_string(&b_log)?.len();
    let pid = lab.process(a_index).ok_or("no process")?.pid();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid)?);

    let mut tail = Tail::new(&a_log);
    let mut times = Vec::new();
    let mut inner_us = Vec::new();
    for r in 0..2 * reloads {
        if r >= reloads {
            let extra = r % 2 == 0;
            std::fs::write(&a_conf, config(instances, 150, extra))?;
        }
        let _ = tail.lines();
        let sent = Instant::now();
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP)?;
        loop {
            let lines = tail.lines();
            for line in &lines {
                if let Some(rest) = line.split("Reload finished in ").nth(1)
                    && let Some(us) = rest.split_whitespace().next().and_then(|n| n.parse().ok())
                {
                    inner_us.push(us);
                }
            }
            if lines.iter().any(|l| l.contains("Reload complete")) {
                times.push(sent.elapsed());
                break;
            }
            if sent.elapsed() > Duration::from_secs(30) {
                return Err("no 'Reload complete' within 30 s".into());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        // keepalived queues a SIGHUP that arrives during a reload; leave a gap.
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let a_text = std::fs::read_to_string(&a_log)?;
    let b_text = std::fs::read_to_string(&b_log)?;
    let a_new = a_text.get(a_before..).unwrap_or("");
    let b_new = b_text.get(b_before..).unwrap_or("");
    let monitor_text = std::fs::read_to_string(&monitor)?;
    let is_transition = |l: &&str| l.contains(") Entering") && !l.contains("(UNRELATED)");
    Ok(Run {
        times,
        inner_us,
        vip_deletions: monitor_text
            .lines()
            .filter(|l| l.contains("Deleted") && l.contains(" 198.18."))
            .count(),
        transitions_a: a_new.lines().filter(is_transition).count(),
        transitions_b: b_new.lines().filter(is_transition).count(),
        masters_b: b_new
            .lines()
            .filter(|l| l.contains("Entering MASTER"))
            .count(),
    })
}

fn stats(times: &[Duration]) -> String {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let (Some(min), Some(max)) = (ms.first(), ms.last()) else {
        return "-".into();
    };
    let median = ms.get(ms.len() / 2).copied().unwrap_or(0.0);
    format!("{median:.1} ms ({min:.1}–{max:.1})")
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let instances: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let reloads: usize = args.next().map_or(Ok(10), |a| a.parse())?;
    let ours = args
        .next()
        .unwrap_or_else(|| "target/release/keepalived".to_string());
    if !lab::is_root() {
        return Err("needs root".into());
    }
    println!(
        "Reload of {instances} instances (VRRPv2, 1 s, {SEGMENTS} segments), {reloads} reloads unchanged + {reloads} alternating with one unrelated instance"
    );
    println!(
        "| daemon | SIGHUP → \"Reload complete\", unchanged: median (min–max) | alternating | child's own reload time | VIP deletions on A | transitions A / B |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, binary) in [
        ("keepalived 2.2.7", UPSTREAM),
        ("keepalived-rs", ours.as_str()),
    ] {
        let result = run(binary, instances, reloads)?;
        let (same, alternating) = result.times.split_at(reloads.min(result.times.len()));
        let inner = if result.inner_us.is_empty() {
            "not logged".to_string()
        } else {
            let mut us = result.inner_us.clone();
            us.sort_unstable();
            let median = us.get(us.len() / 2).copied().unwrap_or(0);
            format!(
                "median {:.1} ms (max {:.1})",
                median as f64 / 1000.0,
                us.last().copied().unwrap_or(0) as f64 / 1000.0
            )
        };
        println!(
            "| {label} | {} | {} | {inner} | {} | {} / {} (B MASTER {}) |",
            stats(same),
            stats(alternating),
            result.vip_deletions,
            result.transitions_a,
            result.transitions_b,
            result.masters_b
        );
    }
    Ok(())
}
