//! Floods a VRRP segment from a network namespace (see `lab::flood`):
//!
//! ```text
//! vrrp_flood --netns NS --dev eth0 --src 192.0.2.66|fe80::66 [--dst 224.0.0.18|ff02::12] --vrid 51
//!            [--version 2|3] [--priorities 0,254] [--vip 192.0.2.100] [--kinds all|ttl,checksum,...]
//!            [--rate PPS] [--seconds N]
//! ```
//!
//! The family follows `--src`; `--dst` defaults to that family's VRRP group.
//!
//! Prints `sent N packets in S s (R pps, E send errors)` at the end.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::Duration;

use lab::flood::{Bait, Flood, FloodSpec, Kind};
use vrrp::advert::Version;
use vrrp::packet::{Auth, VRRP_MCAST_GROUP4, VRRP_MCAST_GROUP6};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vrrp_flood: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut spec = FloodSpec {
        netns: String::new(),
        ifname: "eth0".into(),
        source: Ipv4Addr::new(192, 0, 2, 66).into(),
        destination: VRRP_MCAST_GROUP4.into(),
        kinds: Kind::ALL.to_vec(),
        bait: Bait {
            version: Version::V2,
            vrid: 51,
            priorities: vec![0, 254],
            interval_cs: 100,
            addresses: vec![Ipv4Addr::new(192, 0, 2, 100).into()],
            auth: Auth::None,
        },
        rate: None,
    };
    let mut seconds = 10.0f64;
    let mut destination: Option<IpAddr> = None;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let bad = |what: &str| format!("bad {what}");
        match flag.as_str() {
            "--netns" => spec.netns = value()?,
            "--dev" => spec.ifname = value()?,
            "--src" => spec.source = value()?.parse().map_err(|_| bad("--src"))?,
            "--dst" => destination = Some(value()?.parse().map_err(|_| bad("--dst"))?),
            "--vrid" => spec.bait.vrid = value()?.parse().map_err(|_| bad("--vrid"))?,
            "--priorities" => {
                spec.bait.priorities = value()?
                    .split(',')
                    .map(|p| p.parse().map_err(|_| bad("--priorities")))
                    .collect::<Result<_, _>>()?
            }
            "--version" => {
                spec.bait.version = match value()?.as_str() {
                    "2" => Version::V2,
                    "3" => Version::V3,
                    _ => return Err(bad("--version")),
                }
            }
            "--vip" => spec.bait.addresses = vec![value()?.parse().map_err(|_| bad("--vip"))?],
            "--rate" => spec.rate = Some(value()?.parse().map_err(|_| bad("--rate"))?),
            "--seconds" => seconds = value()?.parse().map_err(|_| bad("--seconds"))?,
            "--kinds" => {
                let list = value()?;
                if list != "all" {
                    spec.kinds = list
                        .split(',')
                        .map(|k| Kind::from_name(k).ok_or(format!("unknown kind {k}")))
                        .collect::<Result<_, _>>()?;
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    spec.destination = destination.unwrap_or(match spec.source {
        IpAddr::V4(_) => VRRP_MCAST_GROUP4.into(),
        IpAddr::V6(_) => VRRP_MCAST_GROUP6.into(),
    });
    if spec.netns.is_empty() {
        return Err("--netns is required".into());
    }
    let flood = Flood::start(&spec).map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs_f64(seconds));
    let report = flood.stop();
    println!(
        "sent {} packets in {:.1} s ({:.0} pps, {} send errors)",
        report.sent,
        report.elapsed.as_secs_f64(),
        report.rate(),
        report.send_errors
    );
    Ok(())
}
