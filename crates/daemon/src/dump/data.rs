//! `keepalived.data` (SIGUSR1): keepalived `dump_data_vrrp()`'s sections — global
//! definitions, VRRP topology, socket pools, sync groups, scripts — with its wording,
//! so that people and scripts that read it find the same lines.

use std::fmt::Write;
use std::time::SystemTime;

use crate::vrrp::snapshot::{InstanceSnapshot, Snapshot, TrackerKind};

/// Appends one line (keepalived `conf_write()`).
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    global(&mut out, &snapshot.config.global);
    if !snapshot.instances.is_empty() {
        line!(out, "------< VRRP Topology >------");
        for inst in &snapshot.instances {
            instance(&mut out, inst);
        }
    }
    if !snapshot.pools.is_empty() {
        line!(out, "------< VRRP Sockpool >------");
        // keepalived heads each pool with its descriptors (" fd_in 13 fd_out = 14"),
        // which mean nothing outside its process; the rest is its layout.
        for pool in &snapshot.pools {
            line!(out, "   Interface = {}", pool.interface);
            line!(
                out,
                "   Family = {}",
                if pool.ipv6 { "IPv6" } else { "IPv4" }
            );
            line!(out, "   Protocol = {}", if pool.ah { "AH" } else { "VRRP" });
            line!(
                out,
                "   Type = {}",
                if pool.multicast {
                    "Multicast"
                } else {
                    "Unicast"
                }
            );
            if let Some(source) = pool.unicast_source {
                line!(out, "   Address = {source}");
            }
            line!(out, "   Rx buf size = 0");
            line!(out, "   VRRP instances");
            for (name, vrid) in &pool.instances {
                line!(out, "     {name} vrid {vrid}");
            }
        }
    }
    if !snapshot.sync_groups.is_empty() {
        line!(out, "------< VRRP Sync groups >------");
        for group in &snapshot.sync_groups {
            line!(out, " VRRP Sync Group = {}, {}", group.name, group.state);
            if !group.members.is_empty() {
                line!(out, "   VRRP member instances :");
                for member in &group.members {
                    line!(out, "     {member}");
                }
            }
        }
    }
    if !snapshot.scripts.is_empty() {
        line!(out, "------< VRRP Scripts >------");
        for script in &snapshot.scripts {
            line!(out, " VRRP Script = {}", script.name);
            line!(out, "   Command = {}", script.command);
            line!(
                out,
                "   Status = {}",
                if script.up { "GOOD" } else { "BAD" }
            );
        }
    }
    out
}

/// `keepalived_parent.data`: the parent's dump is its global definitions only.
pub fn render_parent(global_config: &config::model::GlobalConfig) -> String {
    let mut out = String::new();
    global(&mut out, global_config);
    out
}

fn on_off(value: Option<bool>) -> &'static str {
    match value {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    }
}

fn yes(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// keepalived `dump_global_data()` (the VRRP child's view).
fn global(out: &mut String, g: &config::model::GlobalConfig) {
    line!(out, "------< Global definitions >------");
    line!(
        out,
        " Network namespace = {}",
        g.net_namespace.as_deref().unwrap_or("(default)")
    );
    line!(
        out,
        " Network namespace ipvs = {}",
        match g.net_namespace_ipvs.as_deref() {
            None => "(main namespace)",
            Some("") => "(default)",
            Some(ns) => ns,
        }
    );
    if let Some(name) = &g.instance {
        line!(out, " Instance name = {name}");
    }
    if let Some(id) = &g.router_id {
        line!(out, " Router ID = {id}");
    }
    if let Some(from) = &g.notification_email_from {
        line!(out, " Email notification from = {from}");
        line!(out, " Email notification to:");
        for to in &g.notification_email {
            line!(out, "   {to}");
        }
    }
    line!(out, " Default smtp_alert = {}", on_off(g.smtp_alert));
    line!(
        out,
        " Default smtp_alert_vrrp = {}",
        on_off(g.smtp_alert_vrrp)
    );
    line!(
        out,
        " Default smtp_alert_checker = {}",
        on_off(g.smtp_alert_checker)
    );
    line!(
        out,
        " Checkers log all failures = {}",
        yes(g.checker_log_all_failures)
    );
    match &g.reload_check_config {
        Some(log) => line!(out, " Test config before reload, log to {log}"),
        None => line!(out, " No test config before reload"),
    }
    if g.data_use_instance {
        line!(out, " Use instance name in data dumps");
    }
    line!(out, " Dynamic interfaces = {}", yes(g.dynamic_interfaces));
    line!(
        out,
        " Default interface = {}",
        g.default_interface.as_deref().unwrap_or("eth0")
    );
    line!(
        out,
        " Disable local IGMP = {}",
        if g.disable_local_igmp { "yes" } else { "no" }
    );
    line!(out, " LVS flush = {}", yes(g.lvs_flush));
    line!(
        out,
        " FIFO write vrrp states on reload = {}",
        yes(g.fifo_write_vrrp_states_on_reload)
    );
    line!(
        out,
        " VRRP notify priority changes = {}",
        yes(g.vrrp_notify_priority_changes)
    );
    line!(out, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4);
    line!(out, " VRRP IPv6 mcast group = {}", g.vrrp_mcast_group6);
    line!(
        out,
        " Gratuitous ARP delay = {}",
        g.vrrp_garp_master_delay.as_secs()
    );
    line!(
        out,
        " Gratuitous ARP repeat = {}",
        g.vrrp_garp_master_repeat
    );
    line!(
        out,
        " Gratuitous ARP refresh timer = {}",
        g.vrrp_garp_master_refresh.as_secs()
    );
    line!(
        out,
        " Gratuitous ARP refresh repeat = {}",
        g.vrrp_garp_master_refresh_repeat
    );
    // keepalived: unset lower-priority values inherit the master ones in the VRRP child.
    line!(
        out,
        " Gratuitous ARP lower priority delay = {}",
        g.vrrp_garp_lower_prio_delay
            .unwrap_or(g.vrrp_garp_master_delay)
            .as_secs()
    );
    line!(
        out,
        " Gratuitous ARP lower priority repeat = {}",
        g.vrrp_garp_lower_prio_repeat
            .unwrap_or(g.vrrp_garp_master_repeat)
    );
    line!(
        out,
        " Num adverts before down = {}",
        g.vrrp_down_timer_adverts
    );
    line!(
        out,
        " Send advert after receive lower priority advert = {}",
        yes(!g.vrrp_lower_prio_no_advert)
    );
    line!(
        out,
        " Send advert after receive higher priority advert = {}",
        yes(g.vrrp_higher_prio_send_advert)
    );
    line!(
        out,
        " Gratuitous ARP interval = {:.6}",
        g.vrrp_garp_interval.as_secs_f64()
    );
    line!(
        out,
        " Gratuitous NA interval = {:.6}",
        g.vrrp_gna_interval.as_secs_f64()
    );
    line!(out, " VRRP default protocol version = {}", g.vrrp_version);
    line!(
        out,
        " VRRP check unicast_src = {}",
        yes(g.vrrp_check_unicast_src)
    );
    line!(
        out,
        " VRRP skip check advert addresses = {}",
        yes(g.vrrp_skip_check_adv_addr)
    );
    line!(out, " VRRP strict mode = {}", yes(g.vrrp_strict));
    if g.max_auto_priority == -1 {
        line!(out, " Max auto priority = Disabled");
    } else {
        line!(out, " Max auto priority = {}", g.max_auto_priority);
    }
    line!(
        out,
        " Min auto priority delay = {} usecs",
        g.min_auto_priority_delay_us
    );
    line!(out, " VRRP process priority = {}", g.vrrp_priority);
    line!(out, " VRRP don't swap = {}", yes(g.vrrp_no_swap));
    line!(
        out,
        " VRRP realtime priority = {}",
        g.vrrp_rt_priority.unwrap_or(0)
    );
    line!(out, " VRRP realtime limit = {}", g.vrrp_rlimit_rttime_us);
    line!(
        out,
        " SNMP vrrp {}",
        if g.enable_snmp_vrrp {
            "enabled"
        } else {
            "disabled"
        }
    );
    line!(
        out,
        " Script security {}",
        if g.enable_script_security {
            "enabled"
        } else {
            "disabled"
        }
    );
    if let Some(umask) = g.umask {
        line!(out, " umask = {umask:#05o}");
    }
}

/// keepalived `ctime_us_r()`: `Sun Nov 22 02:10:04.332979 2026`.
fn timeval(time: SystemTime) -> String {
    let (secs, micros) = super::epoch_micros(time);
    let text = crate::logging::console_timestamp(time);
    let (head, tail) = text.split_at(text.len().min(19));
    format!("{secs}.{micros:06} ({head}.{micros:06}{tail})")
}

/// keepalived `dump_vrrp()`.
fn instance(out: &mut String, inst: &InstanceSnapshot) {
    line!(out, " VRRP Instance = {}", inst.name);
    line!(out, "   VRRP Version = {}", inst.version);
    if let Some(group) = &inst.sync_group {
        line!(out, "   Sync group = {group}");
    }
    if inst.ipv6 {
        line!(out, "   Using Native IPv6");
    }
    line!(out, "   State = {}", inst.state);
    if inst.state == vrrp::router::State::Backup {
        if let Some((address, priority)) = inst.master {
            line!(out, "   Master router = {address}");
            line!(out, "   Master priority = {priority}");
        }
        if inst.version == 3 {
            line!(
                out,
                "   Master advert int = {:.2} sec",
                inst.master_advert_interval.as_secs_f64()
            );
        }
    }
    // keepalived prints "Flags:" when any of its instance flag bits is set, but only
    // the unicast one has a line of its own.
    let any_flag = inst.multicast_group.is_none()
        || inst.nopreempt
        || inst.dont_track_primary
        || inst.skip_check_adv_addr
        || inst.promote_secondaries
        || inst.source_from_config
        || inst.vmac_interface.is_some();
    if !any_flag {
        line!(out, "   Flags: none");
    } else {
        line!(out, "   Flags:");
        if inst.multicast_group.is_none() {
            line!(out, "     Using unicast");
        }
    }
    line!(out, "   Wantstate = {}", inst.want_state);
    line!(out, "   Number of config faults = 0");
    line!(
        out,
        "   Number of interface and track script faults = {}",
        inst.faults
    );
    line!(out, "   Number of track scripts init = 0");
    line!(
        out,
        "   Last transition = {}",
        timeval(inst.last_transition)
    );
    match inst.next_timer {
        Some(at) => line!(out, "   Read timeout = {}", timeval(at)),
        None => line!(out, "   Read timeout = DISABLED"),
    }
    line!(
        out,
        "   Master down timer = {} usecs",
        inst.master_down_interval.as_micros()
    );
    if let Some(vmac) = &inst.vmac_interface {
        line!(
            out,
            "   Use VMAC, i/f name {vmac}, is_up = true, xmit_base = {}",
            yes(inst.vmac_xmit_base)
        );
        if inst.vmac_xmit_base {
            line!(out, "   Interface = {}", inst.interface);
        } else {
            line!(out, "   Interface = {vmac}, vmac on {}", inst.interface);
        }
    } else {
        line!(out, "   Interface = {}", inst.interface);
    }
    if inst.dont_track_primary {
        line!(out, "   VRRP interface tracking disabled");
    }
    if inst.skip_check_adv_addr {
        line!(out, "   Skip checking advert IP addresses");
    }
    if inst.strict_mode {
        line!(out, "   Enforcing strict VRRP compliance");
    }
    line!(
        out,
        "   Using src_ip = {}{}",
        inst.source,
        if inst.source_from_config {
            " (from configuration)"
        } else {
            ""
        }
    );
    match inst.multicast_group {
        Some(group @ std::net::IpAddr::V6(_)) => {
            line!(
                out,
                "   Multicast address {group}, ifindex {}",
                inst.xmit_index
            );
        }
        Some(group) => line!(out, "   Multicast address {group}"),
        None => {}
    }
    let garp = &inst.garp;
    line!(
        out,
        "   Gratuitous ARP delay = {}",
        garp.master_delay.as_secs()
    );
    line!(out, "   Gratuitous ARP repeat = {}", garp.master_repeat);
    line!(
        out,
        "   Gratuitous ARP refresh = {}",
        garp.master_refresh.as_secs()
    );
    line!(
        out,
        "   Gratuitous ARP refresh repeat = {}",
        garp.master_refresh_repeat
    );
    line!(
        out,
        "   Gratuitous ARP lower priority delay = {}",
        garp.lower_prio_delay.as_secs()
    );
    line!(
        out,
        "   Gratuitous ARP lower priority repeat = {}",
        garp.lower_prio_repeat
    );
    line!(out, "   Down timer adverts = {}", inst.down_timer_adverts);
    line!(
        out,
        "   Send advert after receive lower priority advert = {}",
        yes(!inst.lower_prio_no_advert)
    );
    line!(
        out,
        "   Send advert after receive higher priority advert = {}",
        yes(inst.higher_prio_send_advert)
    );
    line!(out, "   Virtual Router ID = {}", inst.vrid);
    line!(out, "   Priority = {}", inst.base_priority);
    line!(out, "   Effective priority = {}", inst.effective_priority);
    line!(out, "   Total priority = {}", inst.effective_priority);
    if inst.version == 2 {
        line!(
            out,
            "   Advert interval = {} sec",
            inst.advert_interval.as_secs()
        );
    } else {
        line!(
            out,
            "   Advert interval = {} milli-sec",
            inst.advert_interval.as_millis()
        );
        if inst.state == vrrp::router::State::Backup {
            line!(
                out,
                "   Master advert interval = {} milli-sec",
                inst.master_advert_interval.as_millis()
            );
        }
    }
    line!(
        out,
        "   Accept = {}",
        if inst.accept { "enabled" } else { "disabled" }
    );
    line!(
        out,
        "   Preempt = {}",
        if inst.nopreempt {
            "disabled"
        } else {
            "enabled"
        }
    );
    if !inst.preempt_delay.is_zero() {
        line!(
            out,
            "   Preempt delay = {} secs",
            inst.preempt_delay.as_secs_f64()
        );
    }
    line!(
        out,
        "   Promote_secondaries = {}",
        if inst.promote_secondaries {
            "enabled"
        } else {
            "disabled"
        }
    );
    match inst.auth_type {
        1 => {
            line!(out, "   Authentication type = SIMPLE_PASSWORD");
            line!(
                out,
                "   Password = {}",
                inst.auth_pass.as_deref().unwrap_or("")
            );
        }
        2 => line!(out, "   Authentication type = IPSEC_AH"),
        _ if inst.version == 2 => line!(out, "   Authentication type = none"),
        _ => {}
    }
    let set = if inst.vips_set { " set" } else { "" };
    let vips: Vec<_> = inst.vips.iter().filter(|v| !v.excluded).collect();
    if !vips.is_empty() {
        line!(out, "   Virtual IP ({}):", vips.len());
        for vip in vips {
            line!(out, "     {}{set}", vip.description);
        }
    }
    let evips: Vec<_> = inst.vips.iter().filter(|v| v.excluded).collect();
    if !evips.is_empty() {
        line!(out, "   Virtual IP Excluded :");
        for vip in evips {
            line!(out, "     {}{set}", vip.description);
        }
    }
    if inst.multicast_group.is_none() {
        if let Some(ttl) = inst.unicast_ttl {
            line!(out, "   Unicast TTL = {ttl}");
        }
        line!(
            out,
            "   Check unicast src : {}",
            if inst.check_unicast_src { "yes" } else { "no" }
        );
        line!(out, "   Unicast Peer :");
        for (peer, min_ttl, max_ttl) in &inst.unicast_peers {
            line!(out, "     {peer} min_ttl {min_ttl} max_ttl {max_ttl}");
        }
    }
    for (kind, title) in [
        (TrackerKind::Interface, "Tracked interfaces"),
        (TrackerKind::Script, "Tracked scripts"),
        (TrackerKind::File, "Tracked files"),
    ] {
        let tracked: Vec<_> = inst.trackers.iter().filter(|t| t.kind == kind).collect();
        if tracked.is_empty() {
            continue;
        }
        line!(out, "   {title} :");
        for t in tracked {
            line!(
                out,
                "     {} weight {}{}",
                t.name,
                t.weight,
                if t.reverse { " reverse" } else { "" }
            );
        }
    }
    line!(
        out,
        "   Using smtp notification = {}",
        if inst.smtp_alert { "yes" } else { "no" }
    );
    line!(
        out,
        "   Notify deleted = {}",
        if inst.notify_deleted {
            "Deleted"
        } else {
            "Fault"
        }
    );
    for (label, _, command) in &inst.notify_scripts {
        line!(out, "   {label} state transition script = {command}");
    }
    line!(
        out,
        "   Notify priority changes = {}",
        yes(inst.notify_priority_changes)
    );
}
