//! Benchmark (not a test): N real servers, each with TCP_CHECK and HTTP_GET at
//! delay_loop 1 s against local listeners, for a few seconds; prints the CPU
//! time and peak RSS of this process.
//!
//! `cargo run --release -p check --example bench -- 1000 10`

use std::net::SocketAddr;
use std::time::Duration;

use check::driver::{self, CheckerId, CheckerTask};
use check::engine::Timing;
use check::probe::{HttpCheck, Probe, ProbeKind, Target, UrlCheck};
use config::model::lvs::{HttpProtocol, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

fn cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15: utime and stime in clock ticks (100 Hz).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let servers: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);

    // One HTTP listener stands for all real servers (the checker's work is the same).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                    .await;
            });
        }
    });

    let timing = Timing {
        delay_loop: Duration::from_secs(1),
        retry: 1,
        delay_before_retry: Duration::from_secs(1),
        warmup: Duration::from_secs(1),
        alpha: false,
        bootstrap: Duration::ZERO,
        timeout: Duration::from_secs(5),
    };
    let url = UrlCheck::from_config(&Url {
        path: "/".into(),
        digest: Some(check::probe::md5(b"ok\n")),
        ..Url::default()
    })
    .expect("url");
    let mut tasks = Vec::new();
    for rs in 0..servers {
        let id = CheckerId {
            vs: 0,
            rs,
            checker: 0,
        };
        tasks.push(CheckerTask {
            id,
            probe: Probe {
                target: Target::new(addr),
                kind: ProbeKind::Tcp,
                timeout: timing.timeout,
            },
            timing,
        });
        tasks.push(CheckerTask {
            id: CheckerId { checker: 1, ..id },
            probe: Probe {
                target: Target::new(addr),
                kind: ProbeKind::Http(HttpCheck {
                    urls: vec![url.clone()],
                    protocol: HttpProtocol::Http10,
                    virtualhost: None,
                    tls: None,
                }),
                timeout: timing.timeout,
            },
            timing,
        });
    }
    let (sender, mut reports) = mpsc::channel(1024);
    let handles = driver::spawn(tasks, sender);
    let start_cpu = cpu_seconds();
    let started = std::time::Instant::now();
    let mut transitions = 0usize;
    let _ = tokio::time::timeout(Duration::from_secs(seconds), async {
        while reports.recv().await.is_some() {
            transitions += 1;
        }
    })
    .await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - start_cpu;
    println!(
        "{servers} real servers x (TCP_CHECK + HTTP_GET), delay_loop 1 s, {wall:.1} s: \
         CPU {cpu:.2} s ({:.1} % of one core, includes the local HTTP listener), \
         peak RSS {} KiB, {transitions} transitions",
        100.0 * cpu / wall,
        peak_rss_kib()
    );
    for handle in handles {
        handle.abort();
    }
}
