//! SIGUSR1 in the checker: `keepalived_check.data`, keepalived's
//! `dump_data_check()`: the global definitions (shared with the other dumps,
//! `crate::dump::data`), then the virtual and real servers with their state
//! (same section titles and field wording for what we hold; not byte-identical:
//! per-checker details are left out), written with `crate::dump::write_file`.

use check::driver::Aggregator;
use config::model::vrrp::TrackFile;
use lvs::Lvs;

use super::format;

/// The dump text.
pub fn render(lvs: &Lvs, aggregator: &Aggregator, track_files: &[TrackFile]) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("------< LVS Topology >------".into());
    let config = lvs.config();
    for (vs_index, vs) in config.virtual_servers.iter().enumerate() {
        let state = lvs.state().virtual_servers.get(vs_index);
        line(" ------< Virtual server >------".into());
        match &vs.address {
            config::model::lvs::VsAddress::Ip { addr, port } => {
                line(format!(" VS VIP = {addr}, VPORT = {port}"))
            }
            config::model::lvs::VsAddress::Fwmark { mark } => line(format!(" VS FWMARK = {mark}")),
            config::model::lvs::VsAddress::Group(_) => {
                line(format!(" VS GROUP = {}", format::vs(vs)))
            }
        }
        line(format!("   delay_loop = {}", seconds(vs.delay_loop_us)));
        line(format!(
            "   lvs_sched = {}",
            vs.scheduler.as_deref().unwrap_or("wlc")
        ));
        line(format!(
            "   protocol = {}",
            match vs.protocol {
                Some(config::model::lvs::Protocol::Tcp) => "TCP",
                Some(config::model::lvs::Protocol::Udp) => "UDP",
                Some(config::model::lvs::Protocol::Sctp) => "SCTP",
                None => "none",
            }
        ));
        line(format!("   alpha is {}", on_off(vs.alpha)));
        line(format!("   omega is {}", on_off(vs.omega)));
        line(format!(
            "   Inhibit on failure is {}",
            on_off(vs.inhibit_on_failure)
        ));
        line(format!(
            "   quorum = {}, hysteresis = {}",
            vs.quorum, vs.hysteresis
        ));
        if let Some(script) = &vs.quorum_up {
            line(format!(
                "   Quorum up notify script = {}",
                script.command_string()
            ));
        }
        if let Some(script) = &vs.quorum_down {
            line(format!(
                "   Quorum down notify script = {}",
                script.command_string()
            ));
        }
        if let Some(sorry) = &vs.sorry_server {
            line(format!(
                "   sorry server = {}",
                format::address(vs, sorry.addr, sorry.port)
            ));
            line(format!(
                "     Inhibit on failure is {}",
                on_off(sorry.inhibit)
            ));
        }
        line(format!(
            "   quorum_state_up = {}",
            u8::from(state.is_some_and(|s| s.quorum_up))
        ));
        for (rs_index, rs) in vs.real_servers.iter().enumerate() {
            let rs_state = state.and_then(|s| s.real_servers.get(rs_index));
            let configured = lvs::health::configured_weight(vs, rs);
            line("   ------< Real server >------".into());
            line(format!(
                "   RIP = {}, RPORT = {}, WEIGHT = {} EFF WEIGHT = {}",
                rs.addr,
                rs.port,
                configured,
                rs_state.map_or(configured, |s| s.weight)
            ));
            line(format!(
                "   Inhibit on failure is {}",
                on_off(rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure))
            ));
            if let Some(script) = &rs.notify_up {
                line(format!(
                    "     RS up notify script = {}",
                    script.command_string()
                ));
            }
            if let Some(script) = &rs.notify_down {
                line(format!(
                    "     RS down notify script = {}",
                    script.command_string()
                ));
            }
            line(format!(
                "   alive = {}",
                u8::from(rs_state.is_some_and(|s| s.alive))
            ));
            let failed = (0..rs.checkers.len())
                .filter(|&checker| {
                    aggregator.checker_up(check::driver::CheckerId {
                        vs: vs_index,
                        rs: rs_index,
                        checker,
                    }) == Some(false)
                })
                .count();
            line(format!("   num failed checkers = {failed}"));
            for checker in &rs.checkers {
                line(format!("   Keepalive method = {}", checker.kind.keyword()));
            }
        }
    }
    if !track_files.is_empty() {
        line("------< Checker track files >------".into());
        for file in track_files {
            line(format!(
                " Track file = {}, file = {}, weight = {}{}",
                file.name,
                file.path.as_deref().unwrap_or("(none)"),
                file.weight,
                if file.reverse { " reverse" } else { "" }
            ));
        }
    }
    out
}

fn on_off(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}

/// keepalived's `format_decimal(us, 6)` for whole seconds: `6` or `0.5`.
fn seconds(us: u64) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        whole.to_string()
    } else {
        let digits = format!("{frac:06}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_like_format_decimal() {
        assert_eq!(seconds(6_000_000), "6");
        assert_eq!(seconds(500_000), "0.5");
        assert_eq!(seconds(1_250_000), "1.25");
    }
}
