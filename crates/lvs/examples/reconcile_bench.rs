//! Benchmark (not a test): 10,000 real servers across 100 virtual servers,
//! applied from an empty table, then a reload that changes 1 % of the
//! weights; ours beside keepalived 2.2.7 doing the same.
//!
//! ```sh
//! cargo build --release -p lvs --example reconcile_bench
//! ../shared/lab/ipvs-vm/ipvs-vm.sh --timeout 900 -- \
//!     target/release/examples/reconcile_bench [--keepalived] [--rounds N]
//! ```
//!
//! Without IPVS (outside the guest) only the pure parts run: configuration
//! parsing, mapping and planning. Inside the guest it also programs the
//! kernel, and with `--keepalived` it times keepalived (`-C -n -l`) on the
//! same configuration: start-up until all 10,000 real servers are in the
//! table, then SIGHUP with the changed file until the new weights are in.
//! keepalived is timed by polling the kernel table: the real servers of its
//! last virtual server (it works through them in order) every 20 ms plus
//! one dump's time, so its figures include up to one poll interval.
//!
//! TCG (software-emulated CPU) in the guest: compare the two sides, not the
//! absolute numbers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark binary: a panic is the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs::reconcile::{Owned, Reconciler, Release, Table, plan};
use ipvs::{Ipvs, ServiceKey};
use lvs::Lvs;

const SERVICES: u32 = 100;
const PER_SERVICE: u32 = 100;

/// 100 virtual servers of 100 NAT real servers; in `changed`, every
/// hundredth real server (1 %) has weight 2.
fn configuration(changed: bool) -> String {
    let mut text = String::from("global_defs {\n    router_id bench\n}\n");
    for s in 0..SERVICES {
        let _ = writeln!(
            text,
            "virtual_server 10.50.{}.{} 80 {{\n    lvs_sched wlc\n    lvs_method NAT\n    protocol TCP",
            s / 250,
            s % 250 + 1
        );
        for r in 0..PER_SERVICE {
            let weight = if changed && r == s % PER_SERVICE {
                2
            } else {
                1
            };
            let _ = writeln!(
                text,
                "    real_server 10.{}.{}.{} 8080 {{\n        weight {weight}\n    }}",
                60 + s / 100,
                s % 100,
                r + 1
            );
        }
        text.push_str("}\n");
    }
    text
}

fn load(text: &str) -> (config::model::lvs::LvsConfig, Duration) {
    let t = Instant::now();
    let loaded = config::load_str(
        "bench.conf",
        text,
        &config::LoadOptions::default(),
        &config::FakeSystem::default(),
    );
    (loaded.config.lvs, t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:9.1} ms", d.as_secs_f64() * 1e3)
}

/// Median of `rounds` runs of `f`.
fn median(rounds: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..rounds).map(|_| f()).collect();
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn pure_figures(rounds: usize) {
    let (base, _) = load(&configuration(false));
    let (changed, _) = load(&configuration(true));
    let parse = median(rounds, || load(&configuration(true)).1);
    let (state, _) = lvs::State::initial(&base);
    let map = median(rounds, || {
        let t = Instant::now();
        let _ = lvs::desired_table(&base, &state, None);
        t.elapsed()
    });
    let desired = lvs::desired_table(&base, &state, None).desired.table;
    let (changed_state, _) = lvs::State::initial(&changed);
    let desired_changed = lvs::desired_table(&changed, &changed_state, None)
        .desired
        .table;
    let empty = Table::default();
    let mut owned = Owned::default();
    for (key, entry) in &desired.services {
        owned
            .services
            .insert(*key, entry.dests.keys().copied().collect());
    }
    let full = median(rounds, || {
        let t = Instant::now();
        let _ = plan(&desired, &empty, &Owned::default());
        t.elapsed()
    });
    let delta = median(rounds, || {
        let t = Instant::now();
        let _ = plan(&desired_changed, &desired, &owned);
        t.elapsed()
    });
    let ops = plan(&desired_changed, &desired, &owned);
    println!("pure (no kernel), median of {rounds}:");
    println!("  parse + validate 10,000 real servers   {}", ms(parse));
    println!("  map config -> desired table            {}", ms(map));
    println!(
        "  plan from empty ({} ops)            {}",
        plan(&desired, &empty, &Owned::default()).len(),
        ms(full)
    );
    println!(
        "  plan 1 % change ({} ops)              {}",
        ops.len(),
        ms(delta)
    );
}

fn dest_stats(ipvs: &mut Ipvs, keys: &[ServiceKey]) -> (usize, u64) {
    let mut count = 0;
    let mut weight = 0u64;
    for key in keys {
        if let Ok(dests) = ipvs.dests(key) {
            count += dests.len();
            weight += dests.iter().map(|d| u64::from(d.weight)).sum::<u64>();
        }
    }
    (count, weight)
}

fn kernel_figures(ipvs: &mut Ipvs, rounds: usize) -> (Duration, Duration) {
    let base_text = configuration(false);
    let changed_text = configuration(true);
    let mut apply_all = Vec::new();
    let mut apply_delta = Vec::new();
    let mut read = Vec::new();
    for _ in 0..rounds {
        ipvs.flush().unwrap();
        // As keepalived at start: parse, map, program.
        let t = Instant::now();
        let (base, _) = load(&base_text);
        let mut lvs = Lvs::new(base, None);
        let sync = lvs.start(ipvs, false).unwrap();
        apply_all.push(t.elapsed());
        assert!(sync.report.is_ok(), "{:?}", sync.report.failed.first());
        assert_eq!(
            sync.report.applied.len(),
            (SERVICES * (PER_SERVICE + 1)) as usize
        );

        let t = Instant::now();
        let table = Table::read(ipvs).unwrap();
        read.push(t.elapsed());
        assert_eq!(table.dest_count(), (SERVICES * PER_SERVICE) as usize);

        // As keepalived on SIGHUP: parse the new file, carry state, send the difference.
        let t = Instant::now();
        let (changed, _) = load(&changed_text);
        let sync = lvs.reload(ipvs, changed, None).unwrap();
        apply_delta.push(t.elapsed());
        assert!(sync.report.is_ok());
        assert_eq!(sync.report.applied.len(), SERVICES as usize);
        lvs.stop(ipvs, Release::Flush);
    }
    let mid = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (all, delta, read) = (mid(apply_all), mid(apply_delta), mid(read));
    println!("ours against ip_vs, median of {rounds}:");
    println!("  start: parse + map + 10,100 adds       {}", ms(all));
    println!("  read the table (100 + 1 dumps)         {}", ms(read));
    println!("  reload: parse + read + plan + 100 edits{}", ms(delta));

    // The same with the table layer alone (no configuration), for the record.
    ipvs.flush().unwrap();
    let (base, _) = load(&base_text);
    let (state, _) = lvs::State::initial(&base);
    let desired = lvs::desired_table(&base, &state, None).desired;
    let (changed, _) = load(&changed_text);
    let (cstate, _) = lvs::State::initial(&changed);
    let desired_changed = lvs::desired_table(&changed, &cstate, None).desired;
    let mut reconciler = Reconciler::new();
    let t = Instant::now();
    reconciler.reconcile(ipvs, &desired).unwrap();
    let table_all = t.elapsed();
    let t = Instant::now();
    let report = reconciler.reconcile(ipvs, &desired_changed).unwrap();
    let table_delta = t.elapsed();
    assert_eq!(report.applied.len(), SERVICES as usize);
    println!("  table layer only: 10,100 adds          {}", ms(table_all));
    println!(
        "  table layer only: 1 % change           {}",
        ms(table_delta)
    );
    reconciler.release(ipvs, Release::Flush);
    (all, delta)
}

struct Keepalived {
    child: Child,
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Polls until the last service (keepalived works through its virtual
/// servers in order) has `want` = (real servers, weight sum); then checks
/// the whole table.
fn wait_for(
    ipvs: &mut Ipvs,
    keys: &[ServiceKey],
    want_last: (usize, u64),
    want_all: (usize, u64),
    started: Instant,
) -> Duration {
    let deadline = started + Duration::from_secs(600);
    let last = keys.last().copied().into_iter().collect::<Vec<_>>();
    loop {
        if dest_stats(ipvs, &last) == want_last {
            let elapsed = started.elapsed();
            assert_eq!(dest_stats(ipvs, keys), want_all, "keepalived's table");
            return elapsed;
        }
        assert!(
            Instant::now() < deadline,
            "keepalived never reached {want_last:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn keepalived_figures(ipvs: &mut Ipvs, rounds: usize) -> (Duration, Duration) {
    let mut starts = Vec::new();
    let mut reloads = Vec::new();
    for _ in 0..rounds {
        let (start, reload) = keepalived_round(ipvs);
        starts.push(start);
        reloads.push(reload);
    }
    starts.sort();
    reloads.sort();
    let (start, reload) = (starts[rounds / 2], reloads[rounds / 2]);
    println!("keepalived 2.2.7 (last service polled every 20 ms), median of {rounds}:");
    println!("  start until 10,000 real servers in     {}", ms(start));
    println!("  SIGHUP until the 100 new weights are in{}", ms(reload));
    (start, reload)
}

fn keepalived_round(ipvs: &mut Ipvs) -> (Duration, Duration) {
    let dir = PathBuf::from("/tmp/reconcile-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, configuration(false)).unwrap();
    ipvs.flush().unwrap();
    let (base, _) = load(&configuration(false));
    let (state, _) = lvs::State::initial(&base);
    let keys: Vec<ServiceKey> = lvs::desired_table(&base, &state, None)
        .desired
        .table
        .services
        .keys()
        .copied()
        .collect();
    let total = (SERVICES * PER_SERVICE) as usize;

    let started = Instant::now();
    let child = spawn_keepalived(&conf, &dir);
    let keepalived = Keepalived { child };
    let per = PER_SERVICE as usize;
    let start = wait_for(
        ipvs,
        &keys,
        (per, per as u64),
        (total, total as u64),
        started,
    );

    std::fs::write(&conf, configuration(true)).unwrap();
    let started = Instant::now();
    Command::new("kill")
        .args(["-HUP", &keepalived.child.id().to_string()])
        .status()
        .unwrap();
    let reload = wait_for(
        ipvs,
        &keys,
        (per, per as u64 + 1),
        (total, total as u64 + u64::from(SERVICES)),
        started,
    );
    drop(keepalived);
    ipvs.flush().unwrap();
    (start, reload)
}

fn spawn_keepalived(conf: &Path, dir: &Path) -> Child {
    Command::new("keepalived")
        .args(["-n", "-l", "-C", "-f"])
        .arg(conf)
        .arg("-p")
        .arg(dir.join("keepalived.pid"))
        .arg("-c")
        .arg(dir.join("checkers.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("keepalived")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_keepalived = args.iter().any(|a| a == "--keepalived");
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!(
        "reconcile bench: {SERVICES} virtual servers x {PER_SERVICE} real servers, 1 % weight change"
    );
    pure_figures(rounds);
    let mut ipvs = match Ipvs::connect() {
        Ok(ipvs) if std::env::var("IPVS_VM").as_deref() == Ok("1") => ipvs,
        Ok(_) => {
            println!("(not in the ipvs-vm guest: kernel figures skipped; they flush IPVS)");
            return;
        }
        Err(e) => {
            println!("(no IPVS here: {e}; kernel figures skipped)");
            return;
        }
    };
    let (ours_start, ours_reload) = kernel_figures(&mut ipvs, rounds);
    if with_keepalived {
        let (ka_start, ka_reload) = keepalived_figures(&mut ipvs, rounds);
        println!("summary (ours / keepalived):");
        println!("  start   {} / {}", ms(ours_start), ms(ka_start));
        println!("  reload  {} / {}", ms(ours_reload), ms(ka_reload));
    }
}
