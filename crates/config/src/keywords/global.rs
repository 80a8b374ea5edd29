//! Keyword tables and handlers for global_defs and the other process-wide root keywords
//! (core/global_parser.c `init_global_keywords()`), as built for Debian's keepalived 2.2.7
//! (LVS, VRRP, VMAC, BFD, NFTABLES without iptables/ipset, SNMP, DBus, track_process,
//! linkbeat).
//!
//! Levels and lines follow keepalived: a handler that calls `report_config_error()`
//! reports at its line with the same level; `log_message()`-only remarks are
//! [`Level::Note`]. A missing word that keepalived reads unconditionally
//! (`strvec_slot()`) aborts parsing, like keepalived's exit.
//!
//! What the integrator wires around `keepalived -t` (see each item's doc):
//! - [`validate`] runs before the other domains' validation (script users);
//! - [`validate_after_abort`] when parsing aborted (global_defs errors still count);
//! - [`unenterable_net_namespace`]: keepalived stops after global_defs with exit 0;
//! - [`crate::script::finish_script_security`] once at the end (SECURITY VIOLATION);
//! - `GlobalConfig::script_audit.config_test_killed`: keepalived dies with 143.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::Validation;
use crate::diag::Level;
use crate::model::global::{
    IncludeCheck, LvsFlushOnStop, LvsSyncDaemon, NotifyFifo, ReloadFile, ScriptUserEvent,
    SmtpServer,
};
use crate::parser::{Abort, Ctx, HandlerResult, Keyword};
use crate::reader::Line;
use crate::script;

/// Scratch state kept while this domain's blocks are open.
#[derive(Debug, Default)]
pub struct State {}

/// Root-level keywords of this domain.
pub static ROOT: &[Keyword] = &[
    Keyword::new("linkbeat_use_polling", linkbeat_use_polling),
    Keyword::new("net_namespace", net_namespace),
    Keyword::new("net_namespace_ipvs", net_namespace_ipvs),
    Keyword::new("namespace_with_ipsets", namespace_with_ipsets),
    Keyword::new("use_pid_dir", use_pid_dir),
    Keyword::new("instance", instance),
    Keyword::new("child_wait_time", child_wait_time),
    Keyword::block("global_defs", None, GLOBAL_DEFS, None),
];

/// The keywords of the `global_defs` block.
pub static GLOBAL_DEFS: &[Keyword] = &[
    Keyword::new("process_names", process_names),
    Keyword::new("process_name", process_name),
    Keyword::new("vrrp_process_name", vrrp_process_name),
    Keyword::new("checker_process_name", checker_process_name),
    Keyword::new("lvs_process_name", lvs_process_name),
    Keyword::new("bfd_process_name", bfd_process_name),
    Keyword::new("router_id", router_id),
    Keyword::new("notification_email_from", notification_email_from),
    Keyword::new("smtp_server", smtp_server),
    Keyword::new("smtp_helo_name", smtp_helo_name),
    Keyword::new("smtp_connect_timeout", smtp_connect_timeout),
    Keyword::new("notification_email", notification_email),
    Keyword::new("smtp_alert", smtp_alert),
    Keyword::new("startup_script", startup_script),
    Keyword::new("startup_script_timeout", startup_script_timeout),
    Keyword::new("shutdown_script", shutdown_script),
    Keyword::new("shutdown_script_timeout", shutdown_script_timeout),
    Keyword::new("max_auto_priority", max_auto_priority),
    Keyword::new("min_auto_priority_delay", min_auto_priority_delay),
    Keyword::new("smtp_alert_vrrp", smtp_alert_vrrp),
    Keyword::new("smtp_alert_checker", smtp_alert_checker),
    Keyword::new("checker_log_all_failures", checker_log_all_failures),
    Keyword::new("dynamic_interfaces", dynamic_interfaces),
    Keyword::new("no_email_faults", no_email_faults),
    Keyword::new("default_interface", default_interface),
    Keyword::new("disable_local_igmp", disable_local_igmp),
    Keyword::new("lvs_timeouts", lvs_timeouts),
    Keyword::new("lvs_flush", lvs_flush),
    Keyword::new("lvs_flush_on_stop", lvs_flush_on_stop),
    Keyword::new("lvs_flush_onstop", lvs_flush_on_stop),
    Keyword::new("lvs_sync_daemon", lvs_sync_daemon),
    Keyword::new("vrrp_mcast_group4", vrrp_mcast_group4),
    Keyword::new("vrrp_mcast_group6", vrrp_mcast_group6),
    Keyword::new("vrrp_garp_master_delay", vrrp_garp_master_delay),
    Keyword::new("vrrp_garp_master_repeat", vrrp_garp_master_repeat),
    Keyword::new("vrrp_garp_master_refresh", vrrp_garp_master_refresh),
    Keyword::new(
        "vrrp_garp_master_refresh_repeat",
        vrrp_garp_master_refresh_repeat,
    ),
    Keyword::new("vrrp_garp_lower_prio_delay", vrrp_garp_lower_prio_delay),
    Keyword::new("vrrp_garp_lower_prio_repeat", vrrp_garp_lower_prio_repeat),
    Keyword::new("vrrp_down_timer_adverts", vrrp_down_timer_adverts),
    Keyword::new("vrrp_garp_interval", vrrp_garp_interval),
    Keyword::new("vrrp_gna_interval", vrrp_gna_interval),
    Keyword::new("vrrp_min_garp", vrrp_min_garp),
    Keyword::new("vrrp_garp_extra_if", vrrp_garp_extra_if),
    Keyword::new("vrrp_vmac_garp_intvl", vrrp_garp_extra_if),
    Keyword::new("vrrp_lower_prio_no_advert", vrrp_lower_prio_no_advert),
    Keyword::new("vrrp_higher_prio_send_advert", vrrp_higher_prio_send_advert),
    Keyword::new("vrrp_version", vrrp_version),
    Keyword::new("vrrp_iptables", vrrp_iptables),
    Keyword::new("nftables", nftables),
    Keyword::new("nftables_priority", nftables_priority),
    Keyword::new("nftables_ifindex", nftables_ifindex),
    Keyword::new("nftables_ipvs", nftables_ipvs),
    Keyword::new("nftables_ipvs_priority", nftables_ipvs_priority),
    Keyword::new("nftables_ipvs_start_fwmark", nftables_ipvs_start_fwmark),
    Keyword::new("nftables_counters", nftables_counters),
    Keyword::new("vrrp_check_unicast_src", vrrp_check_unicast_src),
    Keyword::new("vrrp_skip_check_adv_addr", vrrp_skip_check_adv_addr),
    Keyword::new("vrrp_strict", vrrp_strict),
    Keyword::new("vrrp_priority", vrrp_priority),
    Keyword::new("vrrp_no_swap", vrrp_no_swap),
    Keyword::new("vrrp_rt_priority", vrrp_rt_priority),
    Keyword::new("vrrp_cpu_affinity", vrrp_cpu_affinity),
    Keyword::new("vrrp_rlimit_rttime", vrrp_rlimit_rttime),
    Keyword::new("vrrp_rlimit_rtime", vrrp_rlimit_rttime),
    Keyword::new("notify_fifo", notify_fifo),
    Keyword::new("notify_fifo_script", notify_fifo_script),
    Keyword::new("vrrp_notify_fifo", vrrp_notify_fifo),
    Keyword::new("vrrp_notify_fifo_script", vrrp_notify_fifo_script),
    Keyword::new("vrrp_notify_priority_changes", vrrp_notify_priority_changes),
    Keyword::new(
        "fifo_write_vrrp_states_on_reload",
        fifo_write_vrrp_states_on_reload,
    ),
    Keyword::new("lvs_notify_fifo", lvs_notify_fifo),
    Keyword::new("lvs_notify_fifo_script", lvs_notify_fifo_script),
    Keyword::new("checker_priority", checker_priority),
    Keyword::new("checker_no_swap", checker_no_swap),
    Keyword::new("checker_rt_priority", checker_rt_priority),
    Keyword::new("checker_cpu_affinity", checker_cpu_affinity),
    Keyword::new("checker_rlimit_rttime", checker_rlimit_rttime),
    Keyword::new("checker_rlimit_rtime", checker_rlimit_rttime),
    Keyword::new("bfd_priority", bfd_priority),
    Keyword::new("bfd_no_swap", bfd_no_swap),
    Keyword::new("bfd_rt_priority", bfd_rt_priority),
    Keyword::new("bfd_cpu_affinity", bfd_cpu_affinity),
    Keyword::new("bfd_rlimit_rttime", bfd_rlimit_rttime),
    Keyword::new("bfd_rlimit_rtime", bfd_rlimit_rttime),
    Keyword::new("snmp_socket", snmp_socket),
    Keyword::new("enable_traps", enable_traps),
    Keyword::new("enable_snmp_vrrp", enable_snmp_vrrp),
    Keyword::new("enable_snmp_keepalived", enable_snmp_vrrp),
    Keyword::new("enable_snmp_rfc", enable_snmp_rfc),
    Keyword::new("enable_snmp_rfcv2", enable_snmp_rfcv2),
    Keyword::new("enable_snmp_rfcv3", enable_snmp_rfcv3),
    Keyword::new("enable_snmp_checker", enable_snmp_checker),
    Keyword::new("enable_dbus", enable_dbus),
    Keyword::new("dbus_service_name", dbus_service_name),
    Keyword::new("script_user", script_user),
    Keyword::new("enable_script_security", enable_script_security),
    Keyword::new("vrrp_netlink_cmd_rcv_bufs", vrrp_netlink_cmd_rcv_bufs),
    Keyword::new(
        "vrrp_netlink_cmd_rcv_bufs_force",
        vrrp_netlink_cmd_rcv_bufs_force,
    ),
    Keyword::new(
        "vrrp_netlink_monitor_rcv_bufs",
        vrrp_netlink_monitor_rcv_bufs,
    ),
    Keyword::new(
        "vrrp_netlink_monitor_rcv_bufs_force",
        vrrp_netlink_monitor_rcv_bufs_force,
    ),
    Keyword::new("process_monitor_rcv_bufs", process_monitor_rcv_bufs),
    Keyword::new(
        "process_monitor_rcv_bufs_force",
        process_monitor_rcv_bufs_force,
    ),
    Keyword::new("lvs_netlink_cmd_rcv_bufs", lvs_netlink_cmd_rcv_bufs),
    Keyword::new(
        "lvs_netlink_cmd_rcv_bufs_force",
        lvs_netlink_cmd_rcv_bufs_force,
    ),
    Keyword::new("lvs_netlink_monitor_rcv_bufs", lvs_netlink_monitor_rcv_bufs),
    Keyword::new(
        "lvs_netlink_monitor_rcv_bufs_force",
        lvs_netlink_monitor_rcv_bufs_force,
    ),
    Keyword::new("rs_init_notifies", rs_init_notifies),
    Keyword::new("no_checker_emails", no_checker_emails),
    Keyword::new("vrrp_rx_bufs_policy", vrrp_rx_bufs_policy),
    Keyword::new("vrrp_rx_bufs_multiplier", vrrp_rx_bufs_multiplier),
    Keyword::new("vrrp_startup_delay", vrrp_startup_delay),
    Keyword::new("log_unknown_vrids", log_unknown_vrids),
    Keyword::new("vmac_prefix", vmac_prefix),
    Keyword::new("vmac_addr_prefix", vmac_addr_prefix),
    Keyword::new("umask", umask),
    Keyword::new("random_seed", random_seed),
    Keyword::new("reload_check_config", reload_check_config),
    Keyword::new("reload_time_file", reload_time_file),
    Keyword::new("reload_repeat", reload_repeat),
    Keyword::new("reload_file", reload_file),
    Keyword::new("include_check", include_check),
    Keyword::new("config_save_dir", config_save_dir),
    Keyword::new("tmp_config_directory", tmp_config_directory),
    Keyword::new("data_use_instance", data_use_instance),
];

/// keepalived's TIMER_HZ: timers are kept in microseconds.
const TIMER_HZ: u32 = 1_000_000;
/// `UINT_MAX / TIMER_HZ`: the largest whole number of seconds keepalived accepts for
/// timers it stores in an unsigned int of microseconds.
const MAX_TIMER_SECS: u32 = u32::MAX / TIMER_HZ;
/// Linux TASK_COMM_LEN: process names are truncated to 15 characters.
const TASK_COMM_LEN: usize = 16;
/// keepalived's LVS_MAX_TIMEOUT: 31 days.
const LVS_MAX_TIMEOUT: u32 = 86_400 * 31;
/// Linux IP_VS_IFNAME_MAXLEN.
const IP_VS_IFNAME_MAXLEN: usize = 16;
/// NFT_TABLE_MAXNAMELEN from the kernel headers keepalived is built with.
const NFT_TABLE_MAXNAMELEN: usize = 256;
/// Linux SCHED_RR priority range (sched_get_priority_min/max).
const SCHED_RR_MIN: i32 = 1;
const SCHED_RR_MAX: i32 = 99;
/// The file keepalived checks for `disable_local_igmp`.
const IGMP_LINK_LOCAL_MCAST_REPORTS: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

// ---- helpers -------------------------------------------------------------------------

/// keepalived's `save_process_name()`: names of 16 characters or more are truncated.
fn save_process_name(ctx: &mut Ctx<'_>, name: &str) -> String {
    if name.len() >= TASK_COMM_LEN {
        ctx.report(
            Level::GeneralError,
            format!(
                "process name '{name}' is longer than {} characters - truncated",
                TASK_COMM_LEN - 1
            ),
        );
        let mut end = TASK_COMM_LEN - 1;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        return name[..end].to_string();
    }
    name.to_string()
}

/// A keyword with an optional on/off word: `Some(value)` to store, `None` when the word
/// was invalid (reported by the parser as keepalived's "Invalid value" error).
fn optional_bool(ctx: &mut Ctx<'_>, line: &Line) -> Option<bool> {
    ctx.read_optional_bool(line, 1)
}

/// C `strtol(text, &end, 0)` with a whole-string check: decimal, 0x hex or 0 octal.
fn parse_c_long_auto(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (digits, radix) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (hex, 16)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (&digits[1..], 8)
    } else {
        (digits, 10)
    };
    let value = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

fn secs(value: u32) -> Duration {
    Duration::from_secs(u64::from(value))
}

fn micros(value: u64) -> Duration {
    Duration::from_micros(value)
}

// ---- root keywords -------------------------------------------------------------------

fn linkbeat_use_polling(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.linkbeat_use_polling = true;
    Ok(())
}

fn net_namespace(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = line.word(1) else {
        ctx.report(
            Level::GeneralError,
            "net_namespace needs a namespace name - ignored",
        );
        return Ok(());
    };
    let global = &mut ctx.cfg.global;
    if global.net_namespace.is_none() {
        global.net_namespace = Some(name.to_string());
        global.use_pid_dir = true;
    } else {
        ctx.report(
            Level::GeneralError,
            format!("net_namespace already set - ignoring '{name}'"),
        );
    }
    Ok(())
}

fn net_namespace_ipvs(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.cfg.global.net_namespace_ipvs.is_some() {
        let name = ctx.arg(line, 1)?;
        ctx.report(
            Level::GeneralError,
            format!("net_namespace_ipvs already set - ignoring '{name}'"),
        );
        return Ok(());
    }
    // keepalived: no name means the default namespace.
    ctx.cfg.global.net_namespace_ipvs = Some(line.word(1).unwrap_or("").to_string());
    Ok(())
}

fn namespace_with_ipsets(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.namespace_with_ipsets = true;
    Ok(())
}

fn use_pid_dir(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.use_pid_dir = true;
    Ok(())
}

fn instance(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = line.word(1) else {
        ctx.report(Level::GeneralError, "instance needs a name - ignored");
        return Ok(());
    };
    let global = &mut ctx.cfg.global;
    if global.instance.is_none() {
        global.instance = Some(name.to_string());
        global.use_pid_dir = true;
    } else {
        ctx.report(
            Level::GeneralError,
            format!("instance already set - ignoring '{name}'"),
        );
    }
    Ok(())
}

fn child_wait_time(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(v) => ctx.cfg.global.child_wait_time = Some(secs(v)),
        None => ctx.report(
            Level::GeneralError,
            format!("invalid child_wait_time '{}'", line.word(1).unwrap_or("")),
        ),
    }
    Ok(())
}

// ---- process names -------------------------------------------------------------------

fn process_names(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    let global = &mut ctx.cfg.global;
    global.vrrp_process_name = Some("keepalived_vrrp".into());
    global.checker_process_name = Some("keepalived_lvs".into());
    global.bfd_process_name = Some("keepalived_bfd".into());
    Ok(())
}

fn process_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg.global.process_name = Some(save_process_name(ctx, name));
    Ok(())
}

fn vrrp_process_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg.global.vrrp_process_name = Some(save_process_name(ctx, name));
    Ok(())
}

fn checker_process_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg.global.checker_process_name = Some(save_process_name(ctx, name));
    Ok(())
}

fn lvs_process_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // keepalived only logs this deprecation.
    ctx.report(
        Level::Note,
        "'lvs_process_name' is deprecated - use 'checker_process_name'",
    );
    checker_process_name(ctx, line)
}

fn bfd_process_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg.global.bfd_process_name = Some(save_process_name(ctx, name));
    Ok(())
}

// ---- identity and e-mail -------------------------------------------------------------

fn router_id(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match line.word(1) {
        Some(id) => ctx.cfg.global.router_id = Some(id.to_string()),
        None => ctx.report(Level::GeneralError, "router_id needs a name - ignored"),
    }
    Ok(())
}

fn notification_email_from(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match line.word(1) {
        Some(from) => ctx.cfg.global.notification_email_from = Some(from.to_string()),
        None => ctx.report(
            Level::GeneralError,
            "notification_email_from needs an address - ignored",
        ),
    }
    Ok(())
}

fn smtp_server(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let host = ctx.arg(line, 1)?;
    let port_text = line.word(2).unwrap_or("25");
    let port = if line.word(2).is_some() {
        ctx.read_unsigned(line, 2, 1, 65535)?
            .and_then(|p| u16::try_from(p).ok())
    } else {
        Some(25)
    };
    // keepalived: an IP literal (no '-' or '/'), otherwise a name resolved now.
    let resolved = port.is_some()
        && ((!host.contains(['-', '/']) && crate::keywords::check::addr::parse_ip(host).is_some())
            || ctx_resolves(host));
    match port {
        Some(port) if resolved => {
            ctx.cfg.global.smtp_server = Some(SmtpServer {
                host: host.to_string(),
                port,
            });
        }
        _ => ctx.report(
            Level::GeneralError,
            format!("invalid smtp_server '{host}' port '{port_text}'"),
        ),
    }
    Ok(())
}

/// Whether a host name resolves (keepalived calls getaddrinfo() while parsing).
fn ctx_resolves(host: &str) -> bool {
    use std::net::ToSocketAddrs;
    (host, 0u16)
        .to_socket_addrs()
        .map(|mut a| a.next().is_some())
        .unwrap_or(false)
}

fn smtp_helo_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(name) = line.word(1) {
        ctx.cfg.global.smtp_helo_name = Some(name.to_string());
    }
    Ok(())
}

fn smtp_connect_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // keepalived accepts 0 for backward compatibility, then raises it to 1.
    let Some(mut timeout) = ctx.read_unsigned(line, 1, 0, MAX_TIMER_SECS)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "smtp_connect_timeout '{}' must be in [0, {MAX_TIMER_SECS}] - ignored",
                line.word(1).unwrap_or("")
            ),
        );
        return Ok(());
    };
    if timeout == 0 {
        ctx.report(
            Level::GeneralError,
            "smtp_connect_timeout must be greater than 0 - using 1",
        );
        timeout = 1;
    }
    ctx.cfg.global.smtp_connect_timeout = secs(timeout);
    Ok(())
}

fn notification_email(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let words = ctx.read_value_block(line)?;
    if words.is_empty() {
        ctx.report(Level::GeneralError, "empty notification_email block");
        return Ok(());
    }
    ctx.cfg.global.notification_email.extend(words);
    Ok(())
}

fn smtp_alert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.smtp_alert = Some(v);
    }
    Ok(())
}

fn smtp_alert_vrrp(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.smtp_alert_vrrp = Some(v);
    }
    Ok(())
}

fn smtp_alert_checker(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.smtp_alert_checker = Some(v);
    }
    Ok(())
}

fn checker_log_all_failures(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.checker_log_all_failures = v;
    }
    Ok(())
}

fn no_email_faults(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.no_email_faults = true;
    Ok(())
}

fn rs_init_notifies(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.rs_init_notifies = v;
    }
    Ok(())
}

fn no_checker_emails(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.no_checker_emails = v;
    }
    Ok(())
}

// ---- startup / shutdown scripts ------------------------------------------------------

fn startup_shutdown_script(ctx: &mut Ctx<'_>, line: &Line, startup: bool) -> HandlerResult {
    let kind = if startup { "startup" } else { "shutdown" };
    let already = if startup {
        ctx.cfg.global.startup_script.is_some()
    } else {
        ctx.cfg.global.shutdown_script.is_some()
    };
    if already {
        ctx.report(
            Level::GeneralError,
            format!("{kind}_script already set - ignored"),
        );
        return Ok(());
    }
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{kind}_script needs a command - ignored"),
        );
        return Ok(());
    }
    let Some(script) = script::parse_script(ctx, line, 1)? else {
        ctx.report(
            Level::GeneralError,
            format!("invalid {kind}_script - ignored"),
        );
        return Ok(());
    };
    let global = &mut ctx.cfg.global;
    if startup {
        global.startup_script = Some(script);
        global.startup_script_timeout.get_or_insert(secs(10));
    } else {
        global.shutdown_script = Some(script);
        global.shutdown_script_timeout.get_or_insert(secs(10));
    }
    Ok(())
}

fn startup_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    startup_shutdown_script(ctx, line, true)
}

fn shutdown_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    startup_shutdown_script(ctx, line, false)
}

fn script_timeout(ctx: &mut Ctx<'_>, line: &Line, startup: bool) -> HandlerResult {
    let kind = if startup { "startup" } else { "shutdown" };
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{kind}_script_timeout needs a value"),
        );
        return Ok(());
    }
    let Some(delay) = ctx.read_unsigned(line, 1, 1, 1000)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "{kind}_script_timeout '{}' must be in [1, 1000] - ignored",
                line.word(1).unwrap_or("")
            ),
        );
        return Ok(());
    };
    if startup {
        ctx.cfg.global.startup_script_timeout = Some(secs(delay));
    } else {
        ctx.cfg.global.shutdown_script_timeout = Some(secs(delay));
    }
    Ok(())
}

fn startup_script_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    script_timeout(ctx, line, true)
}

fn shutdown_script_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    script_timeout(ctx, line, false)
}

// ---- scheduling ------------------------------------------------------------------------

fn max_auto_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() < 2 {
        ctx.cfg.global.max_auto_priority = SCHED_RR_MAX;
        return Ok(());
    }
    match ctx.read_int(line, 1, -1, SCHED_RR_MAX)? {
        Some(p) => ctx.cfg.global.max_auto_priority = p,
        None => ctx.report(
            Level::GeneralError,
            format!(
                "max_auto_priority '{}' must be in [0, {SCHED_RR_MAX}] (or -1 to disable) - ignored",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn min_auto_priority_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() < 2 {
        ctx.report(Level::GeneralError, "min_auto_priority_delay needs a delay");
        return Ok(());
    }
    match ctx.read_int(line, 1, 1, 10_000_000)? {
        Some(d) => ctx.cfg.global.min_auto_priority_delay_us = d.unsigned_abs(),
        None => ctx.report(
            Level::GeneralError,
            format!(
                "min_auto_priority_delay '{}' must be in [1, 10000000] - ignored",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

/// Which process a scheduling keyword is about.
#[derive(Clone, Copy)]
enum Process {
    Vrrp,
    Checker,
    Bfd,
}

impl Process {
    fn name(self) -> &'static str {
        match self {
            Process::Vrrp => "vrrp",
            Process::Checker => "checker",
            Process::Bfd => "bfd",
        }
    }
}

/// keepalived's `get_priority()`: nice value in [-20, 19]; errors give 0.
fn process_priority(ctx: &mut Ctx<'_>, line: &Line, process: Process) -> HandlerResult {
    let name = process.name();
    let value = if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{name}_priority needs a value"),
        );
        0
    } else {
        match ctx.read_int(line, 1, -20, 19)? {
            Some(p) => i8::try_from(p).unwrap_or(0),
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid {name}_priority (must be in [-20, 19])"),
                );
                0
            }
        }
    };
    let global = &mut ctx.cfg.global;
    match process {
        Process::Vrrp => global.vrrp_priority = value,
        Process::Checker => global.checker_priority = value,
        Process::Bfd => global.bfd_priority = value,
    }
    Ok(())
}

/// keepalived's `get_realtime_priority()`: SCHED_RR priority, clamped into range.
fn realtime_priority(ctx: &mut Ctx<'_>, line: &Line, process: Process) -> HandlerResult {
    let name = process.name();
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{name}_rt_priority needs a value"),
        );
        return Ok(());
    }
    let Some(mut priority) = ctx.read_int(line, 1, i32::MIN, i32::MAX)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "invalid {name}_rt_priority '{}'",
                line.word(1).unwrap_or("")
            ),
        );
        return Ok(());
    };
    if priority < SCHED_RR_MIN {
        ctx.report(
            Level::GeneralError,
            format!("{name}_rt_priority {priority} is below {SCHED_RR_MIN} - using {SCHED_RR_MIN}"),
        );
        priority = SCHED_RR_MIN;
    } else if priority > SCHED_RR_MAX {
        ctx.report(
            Level::GeneralError,
            format!("{name}_rt_priority {priority} is above {SCHED_RR_MAX} - using {SCHED_RR_MAX}"),
        );
        priority = SCHED_RR_MAX;
    }
    let global = &mut ctx.cfg.global;
    match process {
        Process::Vrrp => global.vrrp_rt_priority = Some(priority),
        Process::Checker => global.checker_rt_priority = Some(priority),
        Process::Bfd => global.bfd_rt_priority = Some(priority),
    }
    Ok(())
}

/// Number of online CPUs (keepalived: sysconf(_SC_NPROCESSORS_ONLN), which counts the
/// CPUs listed in /sys/devices/system/cpu/online, e.g. "0-3,6").
fn online_cpus() -> i32 {
    let from_sysfs = std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| {
            list.trim().split(',').try_fold(0i32, |count, range| {
                let (first, last) = match range.split_once('-') {
                    Some((a, b)) => (a.parse::<i32>().ok()?, b.parse::<i32>().ok()?),
                    None => {
                        let cpu = range.parse::<i32>().ok()?;
                        (cpu, cpu)
                    }
                };
                count.checked_add(last.checked_sub(first)?.checked_add(1)?)
            })
        })
        .filter(|n| *n > 0);
    from_sysfs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .ok()
            .and_then(|n| i32::try_from(n.get()).ok())
            .unwrap_or(1)
    })
}

/// keepalived's `get_cpu_affinity()`: every CPU id must exist; one bad id clears the set.
fn cpu_affinity(ctx: &mut Ctx<'_>, line: &Line, process: Process) -> HandlerResult {
    let name = process.name();
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{name}_cpu_affinity needs CPU ids"),
        );
        return Ok(());
    }
    let max_cpu = online_cpus() - 1;
    let mut cpus = Vec::new();
    for index in 1..line.len() {
        match ctx.read_int(line, index, 0, max_cpu)? {
            Some(cpu) => cpus.push(cpu.unsigned_abs()),
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!(
                        "invalid CPU id '{}' for {name}_cpu_affinity",
                        line.word(index).unwrap_or("")
                    ),
                );
                cpus.clear();
                break;
            }
        }
    }
    let global = &mut ctx.cfg.global;
    match process {
        Process::Vrrp => global.vrrp_cpu_affinity = cpus,
        Process::Checker => global.checker_cpu_affinity = cpus,
        Process::Bfd => global.bfd_cpu_affinity = cpus,
    }
    Ok(())
}

/// keepalived's `get_rt_rlimit()`: errors store 0; 1 becomes 2 (it is halved later).
fn rt_rlimit(ctx: &mut Ctx<'_>, line: &Line, process: Process) -> HandlerResult {
    let name = process.name();
    let keyword = line.word(0).unwrap_or("");
    if keyword.ends_with("_rlimit_rtime") {
        ctx.report(
            Level::Note,
            format!("'{keyword}' is deprecated - use '{name}_rlimit_rttime'"),
        );
    }
    let limit = match ctx.read_unsigned(line, 1, 1, u32::MAX)? {
        Some(1) => 2,
        Some(v) => u64::from(v),
        None => {
            ctx.report(
                Level::GeneralError,
                format!(
                    "invalid {name} real-time limit '{}'",
                    line.word(1).unwrap_or("")
                ),
            );
            0
        }
    };
    let global = &mut ctx.cfg.global;
    match process {
        Process::Vrrp => global.vrrp_rlimit_rttime_us = limit,
        Process::Checker => global.checker_rlimit_rttime_us = limit,
        Process::Bfd => global.bfd_rlimit_rttime_us = limit,
    }
    Ok(())
}

fn vrrp_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    process_priority(ctx, line, Process::Vrrp)
}
fn checker_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    process_priority(ctx, line, Process::Checker)
}
fn bfd_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    process_priority(ctx, line, Process::Bfd)
}
fn vrrp_rt_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    realtime_priority(ctx, line, Process::Vrrp)
}
fn checker_rt_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    realtime_priority(ctx, line, Process::Checker)
}
fn bfd_rt_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    realtime_priority(ctx, line, Process::Bfd)
}
fn vrrp_cpu_affinity(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    cpu_affinity(ctx, line, Process::Vrrp)
}
fn checker_cpu_affinity(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    cpu_affinity(ctx, line, Process::Checker)
}
fn bfd_cpu_affinity(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    cpu_affinity(ctx, line, Process::Bfd)
}
fn vrrp_rlimit_rttime(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    rt_rlimit(ctx, line, Process::Vrrp)
}
fn checker_rlimit_rttime(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    rt_rlimit(ctx, line, Process::Checker)
}
fn bfd_rlimit_rttime(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    rt_rlimit(ctx, line, Process::Bfd)
}
fn vrrp_no_swap(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.vrrp_no_swap = true;
    Ok(())
}
fn checker_no_swap(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.checker_no_swap = true;
    Ok(())
}
fn bfd_no_swap(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.bfd_no_swap = true;
    Ok(())
}

// ---- interfaces ------------------------------------------------------------------------

fn dynamic_interfaces(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.cfg.global.dynamic_interfaces = true;
    if let Some(option) = line.word(1) {
        if option == "allow_if_changes" {
            ctx.cfg.global.dynamic_interfaces_allow_if_changes = true;
        } else {
            ctx.report(
                Level::GeneralError,
                format!("unknown dynamic_interfaces option '{option}'"),
            );
        }
    }
    Ok(())
}

fn default_interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = line.word(1) else {
        ctx.report(
            Level::GeneralError,
            "default_interface needs an interface name",
        );
        return Ok(());
    };
    ctx.cfg.global.default_interface = Some(name.to_string());
    ctx.cfg.global.default_interface_span = Some(line.span_of(1));
    Ok(())
}

fn disable_local_igmp(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    // keepalived checks the kernel knob is writable while parsing.
    if Path::new(IGMP_LINK_LOCAL_MCAST_REPORTS).exists() {
        ctx.cfg.global.disable_local_igmp = true;
    } else {
        ctx.report(
            Level::GeneralError,
            format!("disable_local_igmp: the kernel has no {IGMP_LINK_LOCAL_MCAST_REPORTS}"),
        );
    }
    Ok(())
}

// ---- LVS -------------------------------------------------------------------------------

fn lvs_timeouts(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() < 3 {
        ctx.report(
            Level::GeneralError,
            "lvs_timeouts needs at least one option and value",
        );
        return Ok(());
    }
    let mut index = 1;
    while index < line.len() {
        let option = line.word(index).unwrap_or("");
        if matches!(option, "tcp" | "tcpfin" | "udp") {
            if index == line.len() - 1 {
                ctx.report(
                    Level::GeneralError,
                    format!("lvs_timeouts {option} has no value - ignored"),
                );
                index += 1;
                continue;
            }
            match ctx.read_unsigned(line, index + 1, 0, LVS_MAX_TIMEOUT)? {
                Some(v) => {
                    let t = &mut ctx.cfg.global.lvs_timeouts;
                    match option {
                        "tcp" => t.tcp = Some(v),
                        "tcpfin" => t.tcpfin = Some(v),
                        _ => t.udp = Some(v),
                    }
                }
                None => ctx.report(
                    Level::GeneralError,
                    format!(
                        "invalid lvs_timeouts {option} '{}' - ignored",
                        line.word(index + 1).unwrap_or("")
                    ),
                ),
            }
            index += 2;
            continue;
        }
        ctx.report(
            Level::GeneralError,
            format!("unknown lvs_timeouts option '{option}'"),
        );
        index += 1;
    }
    Ok(())
}

fn lvs_flush(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.lvs_flush = true;
    Ok(())
}

fn lvs_flush_on_stop(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match line.word(1) {
        None => ctx.cfg.global.lvs_flush_on_stop = LvsFlushOnStop::Full,
        Some("VS") => ctx.cfg.global.lvs_flush_on_stop = LvsFlushOnStop::Vs,
        Some(other) => ctx.report(
            Level::GeneralError,
            format!("unknown {} type '{other}'", line.word(0).unwrap_or("")),
        ),
    }
    Ok(())
}

fn lvs_sync_daemon(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(existing) = &ctx.cfg.global.lvs_sync_daemon {
        let message = format!(
            "lvs_sync_daemon already set to {} {} - ignored",
            existing.interface,
            existing.instance.as_deref().unwrap_or("")
        );
        ctx.report(Level::GeneralError, message);
        return Ok(());
    }
    let Some(interface) = line.word(1) else {
        ctx.report(Level::GeneralError, "lvs_sync_daemon needs an interface");
        return Ok(());
    };
    if interface.len() >= IP_VS_IFNAME_MAXLEN {
        ctx.report(
            Level::GeneralError,
            format!("lvs_sync_daemon interface name '{interface}' is too long - ignored"),
        );
        return Ok(());
    }
    let mut syncd = LvsSyncDaemon {
        interface: interface.to_string(),
        instance: None,
        id: None,
        maxlen: None,
        port: None,
        ttl: None,
        group: None,
        span: line.span,
    };
    let mut index = 2;
    while index < line.len() {
        let option = line.word(index).unwrap_or("");
        let last = index == line.len() - 1;
        match option {
            "inst" => {
                let name = ctx.arg(line, index + 1)?;
                if let Some(existing) = &syncd.instance {
                    let message = format!(
                        "lvs_sync_daemon vrrp instance already set to {existing} - ignored"
                    );
                    ctx.report(Level::GeneralError, message);
                } else {
                    syncd.instance = Some(name.to_string());
                }
                index += 2;
                continue;
            }
            "id" | "maxlen" | "port" | "ttl" | "group" if last => {
                ctx.report(
                    Level::GeneralError,
                    format!("lvs_sync_daemon {option} has no value - ignored"),
                );
                index += 1;
                continue;
            }
            "id" => {
                match ctx.read_unsigned(line, index + 1, 0, 255)? {
                    Some(v) => syncd.id = u8::try_from(v).ok(),
                    None => ctx.report(
                        Level::GeneralError,
                        "invalid lvs_sync_daemon id - the VRID will be used",
                    ),
                }
                index += 2;
                continue;
            }
            "maxlen" => {
                match ctx.read_unsigned(line, index + 1, 1, 65535 - 20 - 8)? {
                    Some(v) => syncd.maxlen = u16::try_from(v).ok(),
                    None => ctx.report(Level::GeneralError, "invalid lvs_sync_daemon maxlen"),
                }
                index += 2;
                continue;
            }
            "port" => {
                match ctx.read_unsigned(line, index + 1, 1, 65535)? {
                    Some(v) => syncd.port = u16::try_from(v).ok(),
                    None => ctx.report(Level::GeneralError, "invalid lvs_sync_daemon port"),
                }
                index += 2;
                continue;
            }
            "ttl" => {
                match ctx.read_unsigned(line, index + 1, 1, 255)? {
                    Some(v) => syncd.ttl = u8::try_from(v).ok(),
                    None => ctx.report(Level::GeneralError, "invalid lvs_sync_daemon ttl"),
                }
                index += 2;
                continue;
            }
            "group" => {
                let text = line.word(index + 1).unwrap_or("");
                match crate::keywords::check::addr::parse_ip(text) {
                    None => ctx.report(
                        Level::GeneralError,
                        format!("invalid lvs_sync_daemon group '{text}' - ignored"),
                    ),
                    Some(addr) if !addr.is_multicast() => ctx.report(
                        Level::GeneralError,
                        format!("lvs_sync_daemon group '{text}' is not multicast - ignored"),
                    ),
                    Some(addr) => syncd.group = Some(addr),
                }
                index += 2;
                continue;
            }
            _ => {}
        }
        // keepalived: the old form `lvs_sync_daemon IF INSTANCE [SYNCID]`.
        if index == 2 {
            syncd.instance = Some(option.to_string());
        } else if index == 3 {
            match ctx.read_unsigned(line, 3, 0, 255)? {
                Some(v) => {
                    ctx.report(
                        Level::GeneralError,
                        "write `id` before the lvs_sync_daemon sync id",
                    );
                    syncd.id = u8::try_from(v).ok();
                }
                None => ctx.report(
                    Level::GeneralError,
                    "invalid lvs_sync_daemon sync id - the VRID will be used",
                ),
            }
        } else {
            ctx.report(
                Level::GeneralError,
                format!("unknown lvs_sync_daemon option '{option}'"),
            );
        }
        index += 1;
    }
    ctx.cfg.global.lvs_sync_daemon = Some(syncd);
    Ok(())
}

// ---- VRRP ------------------------------------------------------------------------------

fn vrrp_mcast_group4(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let text = ctx.arg(line, 1)?;
    match crate::keywords::check::addr::parse_ip(text) {
        None => ctx.report(
            Level::GeneralError,
            format!("cannot parse vrrp_mcast_group4 '{text}' - ignored"),
        ),
        Some(IpAddr::V6(_)) => ctx.report(
            Level::GeneralError,
            format!("vrrp_mcast_group4 '{text}' is not IPv4 - ignored"),
        ),
        Some(IpAddr::V4(a)) if !a.is_multicast() => ctx.report(
            Level::GeneralError,
            format!("vrrp_mcast_group4 '{text}' is not multicast - ignored"),
        ),
        Some(IpAddr::V4(a)) => ctx.cfg.global.vrrp_mcast_group4 = a,
    }
    Ok(())
}

fn vrrp_mcast_group6(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let text = ctx.arg(line, 1)?;
    match crate::keywords::check::addr::parse_ip(text) {
        None => ctx.report(
            Level::GeneralError,
            format!("cannot parse vrrp_mcast_group6 '{text}' - ignored"),
        ),
        Some(IpAddr::V4(_)) => ctx.report(
            Level::GeneralError,
            format!("vrrp_mcast_group6 '{text}' is not IPv6 - ignored"),
        ),
        Some(IpAddr::V6(a)) if !a.is_multicast() => ctx.report(
            Level::GeneralError,
            format!("vrrp_mcast_group6 '{text}' is not multicast - ignored"),
        ),
        Some(IpAddr::V6(a)) => {
            // RFC 5798 §5.1.2.2 uses the link-local scope (ff02::12).
            let link_local = a.segments().first().is_some_and(|s| s & 0xff0f == 0xff02);
            if !link_local {
                ctx.report(
                    Level::Warning,
                    format!("vrrp_mcast_group6 '{text}' should be a link-local multicast address"),
                );
            }
            ctx.cfg.global.vrrp_mcast_group6 = a;
        }
    }
    Ok(())
}

fn vrrp_garp_master_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, MAX_TIMER_SECS)? {
        Some(v) => ctx.cfg.global.vrrp_garp_master_delay = secs(v),
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_garp_master_delay '{}' - ignored",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

/// Repeat counts: keepalived accepts 0 for backward compatibility, then uses 1.
fn garp_repeat(ctx: &mut Ctx<'_>, line: &Line) -> Result<Option<u32>, Abort> {
    let keyword = line.word(0).unwrap_or("");
    let Some(mut repeats) = ctx.read_unsigned(line, 1, 0, u32::MAX)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "invalid {keyword} '{}' - ignored",
                line.word(1).unwrap_or("")
            ),
        );
        return Ok(None);
    };
    if repeats == 0 {
        ctx.report(
            Level::GeneralError,
            format!("{keyword} must be greater than 0 - using 1"),
        );
        repeats = 1;
    }
    Ok(Some(repeats))
}

fn vrrp_garp_master_repeat(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = garp_repeat(ctx, line)? {
        ctx.cfg.global.vrrp_garp_master_repeat = v;
    }
    Ok(())
}

fn vrrp_garp_master_refresh_repeat(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = garp_repeat(ctx, line)? {
        ctx.cfg.global.vrrp_garp_master_refresh_repeat = v;
    }
    Ok(())
}

fn vrrp_garp_master_refresh(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // keepalived: an invalid value turns refreshing off.
    let refresh = match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(v) => v,
        None => {
            ctx.report(
                Level::GeneralError,
                format!(
                    "invalid vrrp_garp_master_refresh '{}' - ignored",
                    line.word(1).unwrap_or("")
                ),
            );
            0
        }
    };
    ctx.cfg.global.vrrp_garp_master_refresh = secs(refresh);
    Ok(())
}

fn vrrp_garp_lower_prio_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, MAX_TIMER_SECS)? {
        Some(v) => ctx.cfg.global.vrrp_garp_lower_prio_delay = Some(secs(v)),
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_garp_lower_prio_delay '{}' - ignored",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn vrrp_garp_lower_prio_repeat(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, i32::MAX.unsigned_abs())? {
        Some(v) => ctx.cfg.global.vrrp_garp_lower_prio_repeat = Some(v),
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_garp_lower_prio_repeat '{}'",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn vrrp_down_timer_adverts(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 1, 100)? {
        Some(v) => ctx.cfg.global.vrrp_down_timer_adverts = v,
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_down_timer_adverts '{}' (must be in [1, 100])",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

/// `vrrp_garp_interval` / `vrrp_gna_interval`: seconds with µs resolution, at least 1µs.
fn garp_interval(ctx: &mut Ctx<'_>, line: &Line, gna: bool) -> HandlerResult {
    let keyword = if gna {
        "vrrp_gna_interval"
    } else {
        "vrrp_garp_interval"
    };
    match ctx.read_decimal(line, 1, 1, u64::from(u32::MAX), 6)? {
        Some(us) => {
            if gna {
                ctx.cfg.global.vrrp_gna_interval = micros(us);
            } else {
                ctx.cfg.global.vrrp_garp_interval = micros(us);
            }
        }
        None => ctx.report(
            Level::GeneralError,
            format!("invalid {keyword} '{}'", line.word(1).unwrap_or("")),
        ),
    }
    let current = if gna {
        ctx.cfg.global.vrrp_gna_interval
    } else {
        ctx.cfg.global.vrrp_garp_interval
    };
    if current >= Duration::from_secs(1) {
        ctx.report(
            Level::Note,
            format!(
                "{keyword} is very large: {} seconds",
                line.word(1).unwrap_or("")
            ),
        );
    }
    Ok(())
}

fn vrrp_garp_interval(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    garp_interval(ctx, line, false)
}

fn vrrp_gna_interval(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    garp_interval(ctx, line, true)
}

fn vrrp_min_garp(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(word) = line.word(1) {
        match Ctx::parse_bool(word) {
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid vrrp_min_garp value '{word}'"),
                );
                return Ok(());
            }
            Some(false) => return Ok(()),
            Some(true) => {}
        }
    }
    // keepalived: one gratuitous ARP/NA, no repeats, but only for the settings still at
    // their defaults.
    let g = &mut ctx.cfg.global;
    g.vrrp_min_garp = true;
    if g.vrrp_garp_master_repeat == 5 {
        g.vrrp_garp_master_repeat = 1;
    }
    // The refresh default is 0, so keepalived's "reset if default" leaves it at 0.
    if g.vrrp_garp_master_refresh_repeat == 1 {
        g.vrrp_garp_master_refresh_repeat = 0;
    }
    if g.vrrp_garp_master_delay == Duration::from_secs(5) {
        g.vrrp_garp_master_delay = Duration::ZERO;
    }
    Ok(())
}

fn vrrp_garp_extra_if(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = line.word(0).unwrap_or("");
    if keyword == "vrrp_vmac_garp_intvl" {
        ctx.report(
            Level::Deprecated,
            "'vrrp_vmac_garp_intvl' is deprecated - use 'vrrp_garp_extra_if'",
        );
    }
    let mut delay = 0;
    for index in 1..line.len() {
        if line.word(index) == Some("all") {
            ctx.cfg.global.vrrp_garp_extra_if_all = true;
            continue;
        }
        match ctx.read_unsigned(line, index, 1, 86_400)? {
            Some(v) => delay = v,
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!(
                        "invalid {keyword} '{}' - ignored",
                        line.word(index).unwrap_or("")
                    ),
                );
                return Ok(());
            }
        }
    }
    if delay == 0 {
        ctx.report(
            Level::GeneralError,
            format!("{keyword} needs a time - ignored"),
        );
        return Ok(());
    }
    ctx.cfg.global.vrrp_garp_extra_if = Some(secs(delay));
    Ok(())
}

fn vrrp_lower_prio_no_advert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.vrrp_lower_prio_no_advert = v;
    }
    Ok(())
}

fn vrrp_higher_prio_send_advert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.vrrp_higher_prio_send_advert = v;
    }
    Ok(())
}

fn vrrp_version(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_int(line, 1, 2, 3)? {
        Some(v) => ctx.cfg.global.vrrp_version = u8::try_from(v).unwrap_or(2),
        None => ctx.report(Level::GeneralError, "vrrp_version must be 2 or 3"),
    }
    Ok(())
}

fn vrrp_iptables(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    // keepalived built with nftables only: the legacy keyword selects nftables.
    ctx.report(
        Level::GeneralError,
        "iptables is not supported, nftables is used instead - replace 'vrrp_iptables' and 'vrrp_ipsets' with 'nftables'",
    );
    let g = &mut ctx.cfg.global;
    g.vrrp_iptables = true;
    g.nftables = Some("keepalived".into());
    g.nftables_priority = -1;
    Ok(())
}

fn nftables(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.cfg.global.nftables.is_some() {
        ctx.report(Level::GeneralError, "nftables already set - ignored");
        return Ok(());
    }
    let name = line.word(1).unwrap_or("keepalived");
    if name.len() >= NFT_TABLE_MAXNAMELEN {
        ctx.report(
            Level::GeneralError,
            format!("nftables table name '{name}' is too long - ignored"),
        );
        return Ok(());
    }
    ctx.cfg.global.nftables = Some(name.to_string());
    ctx.cfg.global.nftables_priority = -1;
    Ok(())
}

fn nftables_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_int(line, 1, i32::MIN, i32::MAX)? {
        Some(p) => ctx.cfg.global.nftables_priority = p,
        None => ctx.report(
            Level::InvalidNumber,
            format!("invalid nftables_priority '{}'", line.word(1).unwrap_or("")),
        ),
    }
    Ok(())
}

fn nftables_ifindex(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.nftables_ifindex = true;
    Ok(())
}

fn nftables_ipvs(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.cfg.global.nftables_ipvs.is_some() {
        ctx.report(Level::GeneralError, "nftables_ipvs already set - ignored");
        return Ok(());
    }
    let name = line.word(1).unwrap_or("keepalived_ipvs");
    if name.len() >= NFT_TABLE_MAXNAMELEN {
        ctx.report(
            Level::GeneralError,
            format!("nftables_ipvs table name '{name}' is too long - ignored"),
        );
        return Ok(());
    }
    let g = &mut ctx.cfg.global;
    g.nftables_ipvs = Some(name.to_string());
    g.nftables_ipvs_priority = -1;
    g.nftables_ipvs_start_fwmark = crate::model::global::DEFAULT_IPVS_NF_START_FWMARK;
    Ok(())
}

fn nftables_ipvs_priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_int(line, 1, i32::MIN, i32::MAX)? {
        Some(p) => ctx.cfg.global.nftables_ipvs_priority = p,
        None => ctx.report(
            Level::InvalidNumber,
            format!(
                "invalid nftables_ipvs_priority '{}'",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn nftables_ipvs_start_fwmark(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 1, u32::MAX)? {
        Some(v) => ctx.cfg.global.nftables_ipvs_start_fwmark = v,
        None => ctx.report(
            Level::InvalidNumber,
            format!(
                "invalid nftables_ipvs_start_fwmark '{}'",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn nftables_counters(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.nftables_counters = true;
    Ok(())
}

fn vrrp_check_unicast_src(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.vrrp_check_unicast_src = true;
    Ok(())
}

fn vrrp_skip_check_adv_addr(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.vrrp_skip_check_adv_addr = true;
    Ok(())
}

fn vrrp_strict(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.vrrp_strict = true;
    Ok(())
}

fn vrrp_notify_priority_changes(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.vrrp_notify_priority_changes = v;
    }
    Ok(())
}

fn fifo_write_vrrp_states_on_reload(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.fifo_write_vrrp_states_on_reload = true;
    Ok(())
}

fn vrrp_rx_bufs_policy(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() < 2 {
        ctx.report(Level::GeneralError, "vrrp_rx_bufs_policy needs a value");
        return Ok(());
    }
    for index in 1..line.len() {
        let word = line.word(index).unwrap_or("");
        if word.eq_ignore_ascii_case("MTU") {
            ctx.cfg.global.vrrp_rx_bufs_policy.mtu = true;
        } else if word.eq_ignore_ascii_case("ADVERT") {
            ctx.cfg.global.vrrp_rx_bufs_policy.advert = true;
        } else {
            // keepalived reads the size from the first word whatever the position.
            match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
                Some(size) => ctx.cfg.global.vrrp_rx_bufs_policy.size = Some(size),
                None => ctx.report(
                    Level::GeneralError,
                    format!("invalid vrrp_rx_bufs_policy '{word}'"),
                ),
            }
        }
    }
    let policy = &mut ctx.cfg.global.vrrp_rx_bufs_policy;
    if policy.size.is_some() && (policy.mtu || policy.advert) {
        policy.mtu = false;
        policy.advert = false;
        ctx.report(
            Level::GeneralError,
            "vrrp_rx_bufs_policy cannot have both a size and a policy - policy ignored",
        );
    } else if policy.mtu && policy.advert {
        policy.advert = false;
        ctx.report(
            Level::GeneralError,
            "vrrp_rx_bufs_policy cannot be both MTU and ADVERT - ADVERT ignored",
        );
    }
    Ok(())
}

fn vrrp_rx_bufs_multiplier(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "vrrp_rx_bufs_multiplier takes exactly one value",
        );
        return Ok(());
    }
    match ctx.read_unsigned(line, 1, 1, u32::MAX)? {
        Some(v) => ctx.cfg.global.vrrp_rx_bufs_multiplier = v,
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_rx_bufs_multiplier '{}'",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    Ok(())
}

fn vrrp_startup_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // keepalived: at least 1ms.
    match ctx.read_decimal(line, 1, 1000, u64::from(u32::MAX), 6)? {
        Some(us) => ctx.cfg.global.vrrp_startup_delay = micros(us),
        None => ctx.report(
            Level::GeneralError,
            format!(
                "invalid vrrp_startup_delay '{}'",
                line.word(1).unwrap_or("")
            ),
        ),
    }
    if ctx.cfg.global.vrrp_startup_delay >= Duration::from_secs(60) {
        ctx.report(
            Level::Note,
            format!(
                "vrrp_startup_delay is very large: {} seconds",
                line.word(1).unwrap_or("")
            ),
        );
    }
    Ok(())
}

fn log_unknown_vrids(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.log_unknown_vrids = true;
    Ok(())
}

fn vmac_prefix(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let prefix = ctx.arg(line, 1)?;
    if ctx.cfg.global.vmac_prefix.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("vmac_prefix already set - ignoring '{prefix}'"),
        );
        return Ok(());
    }
    ctx.cfg.global.vmac_prefix = Some(prefix.to_string());
    Ok(())
}

fn vmac_addr_prefix(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let prefix = ctx.arg(line, 1)?;
    if ctx.cfg.global.vmac_addr_prefix.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("vmac_addr_prefix already set - ignoring '{prefix}'"),
        );
        return Ok(());
    }
    ctx.cfg.global.vmac_addr_prefix = Some(prefix.to_string());
    Ok(())
}

// ---- notify FIFOs ----------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Fifo {
    Global,
    Vrrp,
    Lvs,
}

impl Fifo {
    fn prefix(self) -> &'static str {
        match self {
            Fifo::Global => "",
            Fifo::Vrrp => "vrrp_",
            Fifo::Lvs => "lvs_",
        }
    }

    fn slot<'c>(self, ctx: &'c mut Ctx<'_>) -> &'c mut NotifyFifo {
        match self {
            Fifo::Global => &mut ctx.cfg.global.notify_fifo,
            Fifo::Vrrp => &mut ctx.cfg.global.vrrp_notify_fifo,
            Fifo::Lvs => &mut ctx.cfg.global.lvs_notify_fifo,
        }
    }
}

/// keepalived's `notify_fifo()`: `*notify_fifo PATH [USER [GROUP]]`; the owner is
/// resolved at validation (an unknown user silently drops the FIFO, as in keepalived).
fn fifo_name(ctx: &mut Ctx<'_>, line: &Line, which: Fifo) -> HandlerResult {
    let prefix = which.prefix();
    let Some(name) = line.word(1) else {
        ctx.report(
            Level::GeneralError,
            format!("{prefix}notify_fifo needs a name"),
        );
        return Ok(());
    };
    if which.slot(ctx).name.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("{prefix}notify_fifo already set - ignoring '{name}'"),
        );
        return Ok(());
    }
    let user_event = if line.len() > 2 {
        None
    } else {
        Some(script::record_default_user_use(ctx, line.span))
    };
    let fifo = which.slot(ctx);
    fifo.name = Some(name.to_string());
    fifo.user = line.word(2).map(str::to_string);
    fifo.group = line.word(3).map(str::to_string);
    fifo.user_event = user_event;
    fifo.span = Some(line.span);
    Ok(())
}

/// keepalived's `notify_fifo_script()`.
fn fifo_script(ctx: &mut Ctx<'_>, line: &Line, which: Fifo) -> HandlerResult {
    let prefix = which.prefix();
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("{prefix}notify_fifo_script needs a script"),
        );
        return Ok(());
    }
    if which.slot(ctx).script.is_some() {
        ctx.report(
            Level::GeneralError,
            format!(
                "{prefix}notify_fifo_script already set - ignoring '{}'",
                line.word(1).unwrap_or("")
            ),
        );
        return Ok(());
    }
    let script = script::parse_script(ctx, line, 1)?;
    which.slot(ctx).script = script;
    Ok(())
}

fn notify_fifo(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_name(ctx, line, Fifo::Global)
}
fn notify_fifo_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_script(ctx, line, Fifo::Global)
}
fn vrrp_notify_fifo(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_name(ctx, line, Fifo::Vrrp)
}
fn vrrp_notify_fifo_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_script(ctx, line, Fifo::Vrrp)
}
fn lvs_notify_fifo(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_name(ctx, line, Fifo::Lvs)
}
fn lvs_notify_fifo_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    fifo_script(ctx, line, Fifo::Lvs)
}

// ---- SNMP / DBus -----------------------------------------------------------------------

fn snmp_socket(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() > 2 {
        ctx.report(
            Level::GeneralError,
            "snmp_socket takes one parameter - ignored",
        );
        return Ok(());
    }
    let Some(socket) = line.word(1) else {
        ctx.report(Level::GeneralError, "snmp_socket needs a socket name");
        return Ok(());
    };
    if socket.len() > 4095 {
        ctx.report(
            Level::GeneralError,
            "snmp_socket name is too long - ignored",
        );
        return Ok(());
    }
    if let Some(existing) = &ctx.cfg.global.snmp_socket {
        let message = format!("snmp_socket already set to {existing} - ignored");
        ctx.report(Level::GeneralError, message);
        return Ok(());
    }
    ctx.cfg.global.snmp_socket = Some(socket.to_string());
    Ok(())
}

fn enable_traps(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_traps = true;
    Ok(())
}
fn enable_snmp_vrrp(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_snmp_vrrp = true;
    Ok(())
}
fn enable_snmp_rfc(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_snmp_rfcv2 = true;
    ctx.cfg.global.enable_snmp_rfcv3 = true;
    Ok(())
}
fn enable_snmp_rfcv2(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_snmp_rfcv2 = true;
    Ok(())
}
fn enable_snmp_rfcv3(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_snmp_rfcv3 = true;
    Ok(())
}
fn enable_snmp_checker(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_snmp_checker = true;
    Ok(())
}
fn enable_dbus(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_dbus = true;
    Ok(())
}

fn dbus_service_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match line.word(1) {
        Some(name) => ctx.cfg.global.dbus_service_name = Some(name.to_string()),
        None => ctx.report(
            Level::GeneralError,
            "dbus_service_name needs a name - ignored",
        ),
    }
    Ok(())
}

// ---- scripts ---------------------------------------------------------------------------

fn script_user(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(user) = line.word(1) else {
        ctx.report(Level::GeneralError, "script_user needs a user name");
        return Ok(());
    };
    let group = line.word(2).map(str::to_string);
    let g = &mut ctx.cfg.global;
    g.script_user = Some(user.to_string());
    g.script_group = group.clone();
    // Resolved (and reported) at validation, in parse order with the scripts.
    g.script_user_log.push(ScriptUserEvent::Set {
        user: user.to_string(),
        group,
        span: line.span,
    });
    Ok(())
}

fn enable_script_security(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.enable_script_security = true;
    Ok(())
}

// ---- netlink buffers -------------------------------------------------------------------

/// keepalived's `get_netlink_rcv_bufs_size()`; 0 (or an error) leaves the setting alone.
fn rcv_bufs(ctx: &mut Ctx<'_>, line: &Line) -> Result<Option<u32>, Abort> {
    let keyword = line.word(0).unwrap_or("");
    if line.len() < 2 {
        ctx.report(Level::GeneralError, format!("{keyword} needs a size"));
        return Ok(None);
    }
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(0) => Ok(None),
        Some(v) => Ok(Some(v)),
        None => {
            ctx.report(
                Level::GeneralError,
                format!("invalid {keyword} size '{}'", line.word(1).unwrap_or("")),
            );
            Ok(None)
        }
    }
}

macro_rules! rcv_bufs_keywords {
    ($($size_fn:ident, $force_fn:ident;)*) => {$(
        fn $size_fn(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
            if let Some(v) = rcv_bufs(ctx, line)? {
                ctx.cfg.global.$size_fn = Some(v);
            }
            Ok(())
        }
        fn $force_fn(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
            if let Some(v) = optional_bool(ctx, line) {
                ctx.cfg.global.$force_fn = v;
            }
            Ok(())
        }
    )*};
}

rcv_bufs_keywords! {
    vrrp_netlink_cmd_rcv_bufs, vrrp_netlink_cmd_rcv_bufs_force;
    vrrp_netlink_monitor_rcv_bufs, vrrp_netlink_monitor_rcv_bufs_force;
    process_monitor_rcv_bufs, process_monitor_rcv_bufs_force;
    lvs_netlink_cmd_rcv_bufs, lvs_netlink_cmd_rcv_bufs_force;
    lvs_netlink_monitor_rcv_bufs, lvs_netlink_monitor_rcv_bufs_force;
}

// ---- misc / reload ---------------------------------------------------------------------

fn umask(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let mask = ctx.arg(line, 1)?;
    if mask.starts_with(|c: char| c.is_ascii_digit()) {
        if line.len() != 2 {
            ctx.report(Level::GeneralError, "umask takes one numeric value");
            return Ok(());
        }
        match parse_c_long_auto(mask) {
            Some(bits) if (0..=0o777).contains(&bits) => {
                ctx.cfg.global.umask = u32::try_from(bits).ok();
            }
            _ => ctx.report(Level::GeneralError, format!("invalid umask '{mask}'")),
        }
        return Ok(());
    }
    // Symbolic form: IRUSR|IWGRP|... (the '|' may be separated by blanks).
    const BITS: [(&str, u32); 9] = [
        ("IRUSR", 0o400),
        ("IWUSR", 0o200),
        ("IXUSR", 0o100),
        ("IRGRP", 0o040),
        ("IWGRP", 0o020),
        ("IXGRP", 0o010),
        ("IROTH", 0o004),
        ("IWOTH", 0o002),
        ("IXOTH", 0o001),
    ];
    let mut bits = 0;
    let mut need_or = false;
    for index in 1..line.len() {
        let word = line.word(index).unwrap_or("");
        let mut rest = word;
        while !rest.is_empty() {
            if need_or {
                match rest.strip_prefix('|') {
                    Some(r) => {
                        need_or = false;
                        rest = r;
                        continue;
                    }
                    None => {
                        ctx.report(
                            Level::GeneralError,
                            format!("invalid umask syntax '{word}'"),
                        );
                        return Ok(());
                    }
                }
            }
            let Some((name, bit)) = BITS.iter().find(|(name, _)| rest.starts_with(name)) else {
                ctx.report(Level::GeneralError, format!("unknown umask bit '{rest}'"));
                return Ok(());
            };
            bits |= bit;
            rest = &rest[name.len()..];
            need_or = true;
        }
    }
    if !need_or {
        ctx.report(Level::GeneralError, "umask is missing a bit name");
        return Ok(());
    }
    ctx.cfg.global.umask = Some(bits);
    Ok(())
}

fn random_seed(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(v) => ctx.cfg.global.random_seed = Some(v),
        None => ctx.report(
            Level::GeneralError,
            format!("invalid random_seed '{}'", line.word(1).unwrap_or("")),
        ),
    }
    Ok(())
}

fn reload_check_config(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.cfg.global.reload_check_config = Some(line.word(1).unwrap_or("/dev/null").to_string());
    Ok(())
}

fn reload_time_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "reload_time_file takes exactly one file name",
        );
        return Ok(());
    }
    ctx.cfg.global.reload_time_file = line.word(1).map(str::to_string);
    Ok(())
}

fn reload_repeat(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.cfg.global.reload_repeat = true;
    Ok(())
}

fn reload_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.cfg.global.reload_file = Some(match line.word(1) {
        Some(path) => ReloadFile::Path(path.to_string()),
        None => ReloadFile::Default,
    });
    Ok(())
}

/// keepalived's `include_check_set()`: `include_check` alone checks everything; words
/// set (first word only), add (`+`) or remove (`-`) checks.
fn include_check(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let mut checks = ctx.cfg.global.include_check.unwrap_or_default();
    if line.len() < 2 {
        ctx.cfg.global.include_check = Some(IncludeCheck {
            read: true,
            match_: true,
            wildcard_match: true,
            brace_match: true,
        });
        ctx.set_include_check(true, true, true, true);
        return Ok(());
    }
    for index in 1..line.len() {
        let word = line.word(index).unwrap_or("");
        let (mode, name) = match word.as_bytes().first() {
            Some(b'-') => (-1, &word[1..]),
            Some(b'+') => (1, &word[1..]),
            _ => {
                if index != 1 {
                    ctx.report(
                        Level::GeneralError,
                        format!("include_check '{word}' repeats a setting - ignored"),
                    );
                    continue;
                }
                checks = IncludeCheck::default();
                (0, word)
            }
        };
        let mut flag = IncludeCheck::default();
        match name {
            "read" => flag.read = true,
            "match" => flag.match_ = true,
            "wildcard_match" => flag.wildcard_match = true,
            "brace_match" => flag.brace_match = true,
            _ => {
                ctx.report(
                    Level::GeneralError,
                    format!("unknown include_check type '{name}' - ignored"),
                );
                continue;
            }
        }
        let apply = |target: &mut bool, set: bool| {
            if set {
                *target = mode >= 0;
            }
        };
        if mode == 0 {
            checks.read = true;
        }
        apply(&mut checks.read, flag.read);
        apply(&mut checks.match_, flag.match_);
        apply(&mut checks.wildcard_match, flag.wildcard_match);
        apply(&mut checks.brace_match, flag.brace_match);
    }
    ctx.cfg.global.include_check = Some(checks);
    ctx.set_include_check(
        checks.read,
        checks.match_,
        checks.wildcard_match,
        checks.brace_match,
    );
    Ok(())
}

fn config_save_dir(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let dir = ctx.arg(line, 1)?;
    let path = Path::new(dir);
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            ctx.report(
                Level::GeneralError,
                format!("config_save_dir '{dir}' exists and is not a directory"),
            );
            return Ok(());
        }
        Err(_) => {
            // keepalived creates the directory; we only check that it could.
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                ctx.report(
                    Level::GeneralError,
                    format!("cannot create config_save_dir '{dir}'"),
                );
                return Ok(());
            }
        }
    }
    let trimmed = dir.strip_suffix('/').unwrap_or(dir);
    ctx.cfg.global.config_save_dir = Some(trimmed.to_string());
    Ok(())
}

fn tmp_config_directory(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.cfg.global.tmp_config_directory.is_some() {
        ctx.report(
            Level::GeneralError,
            "tmp_config_directory already set - ignored",
        );
        return Ok(());
    }
    match line.word(1) {
        Some(dir) => ctx.cfg.global.tmp_config_directory = Some(dir.to_string()),
        None => ctx.report(
            Level::GeneralError,
            "tmp_config_directory needs a directory name",
        ),
    }
    Ok(())
}

fn data_use_instance(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line) {
        ctx.cfg.global.data_use_instance = v;
    }
    Ok(())
}

// ---- validation ------------------------------------------------------------------------

/// Checks and corrections after the whole file is read. Runs before the other domains:
/// it replays the default-script-user log (see [`crate::script`]) so that their
/// validation can resolve script users.
pub fn validate(v: &mut Validation<'_>) {
    script::replay_default_user(v);
    check_startup_shutdown_users(v);
    drop_fifos_without_owner(v);
}

/// For the integrator: `keepalived -t` enters `net_namespace` right after its global_defs
/// pass (core/main.c `set_namespaces()`); when the namespace cannot be opened it stops
/// there and exits with 0: no validation, no checker/VRRP/BFD pass, no script checks;
/// only what the global_defs pass reported was printed. Returns the namespace's name in
/// that case.
pub fn unenterable_net_namespace(
    cfg: &crate::Config,
    system: &dyn crate::System,
) -> Option<String> {
    cfg.global
        .net_namespace
        .as_ref()
        .filter(|name| !system.net_namespace_exists(name))
        .cloned()
}

/// For the integrator, when parsing was aborted (missing parameter): keepalived reads
/// global_defs in a pass of its own before anything else, so the errors it reports
/// while parsing global_defs (script users, startup/shutdown scripts) are still
/// reported even when a later keyword aborts. Our errors about these need the host, so
/// they are found here.
pub fn validate_after_abort(v: &mut Validation<'_>) {
    validate_after_abort_in(v, crate::model::global::ScriptDomain::Global);
}

/// [`validate_after_abort`] when the passes up to `last_complete` were over (their
/// default-script-user lookups were made) before the aborting pass.
pub fn validate_after_abort_in(
    v: &mut Validation<'_>,
    last_complete: crate::model::global::ScriptDomain,
) {
    script::replay_default_user_up_to(v, last_complete);
    check_startup_shutdown_users(v);
}

fn check_startup_shutdown_users(v: &mut Validation<'_>) {
    // keepalived creates the startup/shutdown script while parsing; a user it cannot set
    // makes the script invalid ("Invalid startup script") at the script's line.
    for startup in [true, false] {
        let slot = if startup {
            v.cfg.global.startup_script.take()
        } else {
            v.cfg.global.shutdown_script.take()
        };
        let Some(mut s) = slot else { continue };
        match script::resolve_script_user(v, &mut s) {
            Ok(_) => {
                if startup {
                    v.cfg.global.startup_script = Some(s);
                } else {
                    v.cfg.global.shutdown_script = Some(s);
                }
            }
            Err(e) => {
                let kind = if startup { "startup" } else { "shutdown" };
                v.diags.report(
                    Level::GeneralError,
                    Some(s.span),
                    format!("invalid {kind}_script: {e} - ignored"),
                );
            }
        }
    }
}

/// A notify FIFO whose owner cannot be set is dropped (keepalived only logs it).
fn drop_fifos_without_owner(v: &mut Validation<'_>) {
    for which in [Fifo::Global, Fifo::Vrrp, Fifo::Lvs] {
        let fifo = match which {
            Fifo::Global => &v.cfg.global.notify_fifo,
            Fifo::Vrrp => &v.cfg.global.vrrp_notify_fifo,
            Fifo::Lvs => &v.cfg.global.lvs_notify_fifo,
        };
        if fifo.name.is_none() {
            continue;
        }
        let ok = match (&fifo.user, fifo.user_event) {
            (Some(user), _) => {
                script::lookup_user_group(v.system, user, fifo.group.as_deref()).is_ok()
            }
            (None, Some(event)) => script::default_user_for(v.cfg, event).is_some(),
            (None, None) => true,
        };
        if !ok {
            let fifo = match which {
                Fifo::Global => &mut v.cfg.global.notify_fifo,
                Fifo::Vrrp => &mut v.cfg.global.vrrp_notify_fifo,
                Fifo::Lvs => &mut v.cfg.global.lvs_notify_fifo,
            };
            let span = fifo.span;
            let name = fifo.name.take().unwrap_or_default();
            v.diags.report(
                Level::Note,
                span,
                format!(
                    "{}notify_fifo '{name}': its user cannot be set - ignored",
                    which.prefix()
                ),
            );
        }
    }
}

/// keepalived's `init_global_data()` rules for FIFOs shared between processes: the
/// VRRP and LVS FIFOs are not used when they are the global one, and when the VRRP and
/// LVS FIFOs are the same only the VRRP one keeps its script. Run by
/// [`script::finish_script_security`] after the scripts were checked, because
/// `keepalived -t` checks them before applying these rules.
pub(crate) fn share_notify_fifos(cfg: &mut crate::Config) {
    let g = &mut cfg.global;
    if let Some(name) = g.notify_fifo.name.clone() {
        for fifo in [&mut g.vrrp_notify_fifo, &mut g.lvs_notify_fifo] {
            if fifo.name.as_deref() == Some(name.as_str()) {
                fifo.name = None;
                fifo.script = None;
            }
        }
    }
    if g.lvs_notify_fifo.name.is_some()
        && g.lvs_notify_fifo.name == g.vrrp_notify_fifo.name
        && g.lvs_notify_fifo.script.is_some()
        && g.vrrp_notify_fifo.script.is_some()
    {
        g.lvs_notify_fifo.script = None;
    }
}
