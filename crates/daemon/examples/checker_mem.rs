//! Checker-runtime footprint on this host (not a test): N real servers, each with
//! TCP_CHECK and HTTP_GET (`delay_loop 1`), run by [`CheckerRuntime`] over a
//! simulated IPVS table (no ip_vs needed), against one `http_sink` process
//! (`crates/check/examples/http_sink.rs`, started here as a child so its memory
//! is not counted). Once every server is in the table it settles, then prints
//! CPU time (getrusage, user+system) over the measured window and RSS / PSS
//! (`/proc/self/smaps_rollup`) and peak RSS at the end. Same shape as
//! `scripts/bench-check.sh`, whose guest figures are in BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release -p check --example http_sink
//! cargo run --release -p daemon --example checker_mem -- [N] [SECONDS] [PORT]
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::checker::{CheckerOptions, CheckerRuntime};
use ipvs::reconcile::{Kernel, Op, SimulatedKernel, Table};

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Default)]
struct SharedKernel(Arc<Mutex<SimulatedKernel>>);

impl Kernel for SharedKernel {
    fn read_table(&mut self) -> Result<Table, ipvs::Error> {
        self.lock().read_table()
    }
    fn execute(&mut self, op: &Op) -> Result<(), ipvs::Error> {
        self.lock().execute(op)
    }
}

impl SharedKernel {
    fn lock(&self) -> std::sync::MutexGuard<'_, SimulatedKernel> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn live(&self) -> usize {
        self.lock()
            .table
            .services
            .values()
            .flat_map(|s| s.dests.values())
            .filter(|d| d.weight > 0)
            .count()
    }
}

fn config_text(servers: usize, port: u16) -> String {
    let mut text = String::from(
        "virtual_server 192.0.2.100 80 {\n    delay_loop 1\n    lvs_sched rr\n    lvs_method NAT\n    protocol TCP\n",
    );
    for k in 0..servers {
        let (x, y) = (k / 250, k % 250 + 1);
        text.push_str(&format!(
            "    real_server 127.1.{x}.{y} {port} {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n        HTTP_GET {{\n            url {{\n                path /\n                status_code 200\n            }}\n            connect_timeout 3\n        }}\n    }}\n"
        ));
    }
    text.push_str("}\n");
    text
}

/// (user+system CPU seconds) of this process.
fn cpu_seconds() -> Result<f64, Error> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Ok(seconds(usage.user_time()) + seconds(usage.system_time()))
}

/// A `Key: N kB` field of a /proc file, in MiB.
fn proc_field(path: &str, key: &str) -> Result<f64, Error> {
    let text = std::fs::read_to_string(path)?;
    let kib: f64 = text
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in {path}"))?;
    Ok(kib / 1024.0)
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let servers: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(10), |a| a.parse())?;
    let port: u16 = args.next().map_or(Ok(18080), |a| a.parse())?;
    const SETTLE: Duration = Duration::from_secs(5);

    let sink_path = std::env::current_exe()?
        .parent()
        .ok_or("no example directory")?
        .join("http_sink");
    let mut sink = std::process::Command::new(&sink_path)
        .arg(port.to_string())
        .spawn()
        .map_err(|e| {
            format!(
                "{}: {e} (cargo build --release -p check --example http_sink)",
                sink_path.display()
            )
        })?;

    let loaded = config::load_str(
        "keepalived.conf",
        &config_text(servers, port),
        &config::LoadOptions::default(),
        &config::HostSystem,
    );
    if loaded.exit_code() != 0 {
        return Err(loaded.render().into());
    }
    let config = loaded.config;
    if std::env::var_os("CHECKER_MEM_SIZES").is_some() {
        eprintln!(
            "sizes: RealServer {} Checker {} VirtualServer {} Probe {} CheckerTask {}",
            size_of::<config::model::lvs::RealServer>(),
            size_of::<config::model::lvs::Checker>(),
            size_of::<config::model::lvs::VirtualServer>(),
            size_of::<check::probe::Probe>(),
            size_of::<check::driver::CheckerTask>(),
        );
    }
    let rss_config = proc_field("/proc/self/smaps_rollup", "Rss:")?;
    let kernel = SharedKernel::default();
    let runtime_kernel = kernel.clone();
    let cpu_at_start = cpu_seconds()?;
    let started = Instant::now();
    // The checker process runs a current-thread runtime (crates/daemon/src/child.rs).
    let (_stop, commands) = daemon::control::channel();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            match CheckerRuntime::start_with_kernel(
                &config,
                CheckerOptions::default(),
                Box::new(runtime_kernel),
            )
            .await
            {
                Ok(runtime) => {
                    // As the checker child does: the parsed configuration goes once
                    // the runtime holds what it needs.
                    drop(config);
                    runtime.run(commands).await;
                }
                Err(e) => eprintln!("start: {e}"),
            }
        });
    });

    while kernel.live() < servers {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = sink.kill();
            return Err(format!("only {} of {servers} servers live", kernel.live()).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let up_after = started.elapsed();
    let rss_at_up = proc_field("/proc/self/smaps_rollup", "Rss:")?;
    std::thread::sleep(SETTLE);
    let cpu_before = cpu_seconds()?;
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let cpu = cpu_seconds()? - cpu_before;
    let elapsed = window.elapsed().as_secs_f64();
    let rss = proc_field("/proc/self/smaps_rollup", "Rss:")?;
    let pss = proc_field("/proc/self/smaps_rollup", "Pss:")?;
    let peak = proc_field("/proc/self/status", "VmHWM:")?;
    let live = kernel.live();
    let _ = sink.kill();
    let _ = sink.wait();
    println!(
        "N={servers} rss_config_mib={rss_config:.1} up_s={:.1} startup_cpu_s={:.2} cpu%={:.1} rss_at_up_mib={rss_at_up:.1} rss_mib={rss:.1} pss_mib={pss:.1} peak_mib={peak:.1} live={live}",
        up_after.as_secs_f64(),
        cpu_before - cpu_at_start,
        100.0 * cpu / elapsed,
    );
    Ok(())
}
