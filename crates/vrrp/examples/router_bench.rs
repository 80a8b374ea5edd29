//! Rough cost of the state machine per advert: `cargo run --release -p vrrp --example
//! router_bench [ADVERTS]`. Prints nanoseconds per advert handled by a BACKUP (accept and
//! re-arm), by a MASTER (answer a lower priority), and per MASTER advert sent.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use vrrp::advert::{Advert, Version};
use vrrp::router::{Input, Router, RouterConfig, Timestamp};

fn router(priority: u8) -> Result<Router, vrrp::router::ConfigError> {
    let mut config = RouterConfig::new(
        "VI_1",
        Version::V3,
        51,
        priority,
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)),
    );
    config.advert_interval_cs = 10;
    config.virtual_addresses = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    Router::new(config)
}

fn advert(priority: u8) -> Advert {
    Advert {
        version: Version::V3,
        vrid: 51,
        priority,
        interval_cs: 10,
        addresses: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
        source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 12)),
    }
}

fn per_op(label: &str, count: u64, started: Instant) {
    let nanos = started.elapsed().as_nanos() as f64 / count as f64;
    println!("{label:<40} {nanos:>8.1} ns");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);

    // BACKUP accepting a higher-priority master's adverts every 0.1 s.
    let mut backup = router(100)?;
    backup.handle(Timestamp::ZERO, Input::Start)?;
    while backup.poll_action().is_some() {}
    let higher = advert(200);
    let started = Instant::now();
    for n in 0..count {
        backup.handle(
            Timestamp::from_micros(n * 100_000),
            Input::Advert(higher.clone()),
        )?;
        while let Some(action) = backup.poll_action() {
            black_box(action);
        }
    }
    per_op("backup: advert received", count, started);

    // MASTER: advert timer fires (one advert sent each time).
    let mut master = router(255)?;
    master.handle(Timestamp::ZERO, Input::Start)?;
    master.handle_timeout(Timestamp::from_micros(1));
    while master.poll_action().is_some() {}
    let started = Instant::now();
    for _ in 0..count {
        if let Some(deadline) = master.next_deadline() {
            master.handle_timeout(deadline);
        }
        while let Some(action) = master.poll_action() {
            black_box(action);
        }
    }
    per_op("master: advert timer (advert sent)", count, started);

    // MASTER answering a lower-priority advert (advert + GARP + notify).
    let lower = advert(50);
    let started = Instant::now();
    for n in 0..count {
        master.handle(Timestamp::from_micros(n), Input::Advert(lower.clone()))?;
        while let Some(action) = master.poll_action() {
            black_box(action);
        }
    }
    per_op("master: lower-priority advert received", count, started);
    Ok(())
}
