//! Benchmark (not a test): parse + validate a generated configuration of 1,000
//! vrrp_instances and 10,000 real_servers, ours beside `keepalived -t` on the same file.
//!
//! `cargo run --release -p config --example parse_bench [INSTANCES] [REAL_SERVERS]`

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn generate(instances: u32, real_servers: u32, interface: &str) -> String {
    let mut text = String::from(
        "global_defs {\n    router_id bench\n    enable_script_security\n    script_user root\n}\n",
    );
    for i in 0..instances {
        // 255 VRIDs per interface and family; vary the multicast group to keep VRIDs unique.
        let vrid = i % 255 + 1;
        let group = i / 255;
        let _ = write!(
            text,
            "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface {interface}\n    \
             virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n    \
             mcast_dst_ip 224.0.0.{}\n    virtual_ipaddress {{\n        198.18.{}.{}/32\n    }}\n}}\n",
            100 + i % 100,
            18 + group,
            i / 250,
            i % 250 + 1
        );
    }
    let per_vs = 100;
    for v in 0..real_servers.div_ceil(per_vs) {
        let _ = write!(
            text,
            "virtual_server 203.0.113.{} {} {{\n    delay_loop 6\n    lvs_sched rr\n    \
             lvs_method NAT\n    protocol TCP\n",
            v % 250 + 1,
            8000 + v / 250
        );
        for r in 0..per_vs.min(real_servers - v * per_vs) {
            let _ = write!(
                text,
                "    real_server 198.51.100.{} {} {{\n        weight 1\n        \
                 TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n",
                r % 250 + 1,
                10000 + r / 250 + v
            );
        }
        text.push_str("}\n");
    }
    text
}

fn first_interface() -> String {
    std::fs::read_dir("/sys/class/net")
        .ok()
        .and_then(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "lo")
                .collect();
            names.sort();
            names.into_iter().next()
        })
        .unwrap_or_else(|| "lo".to_string())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let instances: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let real_servers: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let text = generate(instances, real_servers, &first_interface());
    let path = std::env::temp_dir().join(format!("kars-parse-bench-{}.conf", std::process::id()));
    if let Err(e) = std::fs::write(&path, &text) {
        eprintln!("cannot write {}: {e}", path.display());
        return;
    }
    println!(
        "config: {instances} vrrp_instances, {real_servers} real_servers, {} lines, {} KiB",
        text.lines().count(),
        text.len() / 1024
    );

    let runs = 5;
    let mut ours = Vec::new();
    let mut exit = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let loaded = config::load_file(&path, &config::LoadOptions::default(), &config::HostSystem);
        ours.push(start.elapsed());
        exit = loaded.exit_code();
    }
    println!(
        "ours       (load_file, in process): median {:>8.1} ms  (exit code {exit})",
        median(ours).as_secs_f64() * 1e3
    );

    if Path::new("/usr/sbin/keepalived").exists() {
        let mut theirs = Vec::new();
        let mut their_exit = None;
        for _ in 0..runs {
            let start = Instant::now();
            let out = Command::new("/usr/sbin/keepalived")
                .arg("-t")
                .arg("-f")
                .arg(&path)
                .output();
            theirs.push(start.elapsed());
            their_exit = out.ok().and_then(|o| o.status.code());
        }
        println!(
            "keepalived (-t, whole process):     median {:>8.1} ms  (exit code {})",
            median(theirs).as_secs_f64() * 1e3,
            their_exit.map_or("?".to_string(), |c| c.to_string())
        );
        let ours_cli =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/keepalived");
        if ours_cli.exists() {
            let mut cli = Vec::new();
            for _ in 0..runs {
                let start = Instant::now();
                let _ = Command::new(&ours_cli)
                    .arg("-t")
                    .arg("-f")
                    .arg(&path)
                    .output();
                cli.push(start.elapsed());
            }
            println!(
                "ours       (-t, whole process):     median {:>8.1} ms",
                median(cli).as_secs_f64() * 1e3
            );
        }
    } else {
        println!("keepalived not installed: no side-by-side figure");
    }
    let _ = std::fs::remove_file(&path);
}
