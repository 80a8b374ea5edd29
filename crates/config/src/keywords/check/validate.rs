//! Checks after the whole file is read: keepalived's `link_vsg_to_vs()` (ipwrapper.c),
//! `validate_check_config()` and `check_check_script_security()` (check_data.c).
//!
//! Defaults resolved here (so that consumers of a validated model see them):
//! - virtual server: protocol (UDP, with an error, for address services), scheduler
//!   (`wlc`, with an error), forwarding method (NAT, with an error, when a real or sorry
//!   server needs one), `smtp_alert` (global `smtp_alert_checker`, then `smtp_alert`,
//!   else off), persistence for zero-port services, quorum/hysteresis limits;
//! - real server: forwarding, alpha, inhibit_on_failure, retry, connect_timeout,
//!   delay_loop, warmup, delay_before_retry and weight from the virtual server;
//!   `smtp_alert` from global_defs (else on); port from the virtual server (unless NAT
//!   with a port, or fwmark);
//! - checker: alpha from the real server; retry, connect_timeout, delay_loop, warmup,
//!   delay_before_retry from the real server, then the checker kind's defaults;
//!   SMTP `helo_name`.

use std::net::IpAddr;

use crate::Validation;
use crate::diag::Level;
use crate::model::lvs::{
    CheckerKind, DEFAULT_PERSISTENCE_TIMEOUT, DEFAULT_SCHEDULER, Family, Forwarding,
    ForwardingMethod, Protocol, ScriptSlot, VirtualServer, VsAddress,
};
use crate::script::{self, Script};

/// keepalived's SMTP_DEFAULT_HELO.
const SMTP_DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// Checks and corrections after the whole file is read.
pub fn validate(v: &mut Validation<'_>) {
    // keepalived resolves script users while parsing, so these errors come first and
    // also concern virtual servers that are dropped below.
    resolve_script_users(v);
    link_groups(v);
    let servers = std::mem::take(&mut v.cfg.lvs.virtual_servers);
    let mut kept = Vec::with_capacity(servers.len());
    for mut vs in servers {
        if validate_virtual_server(v, &mut vs) {
            kept.push(vs);
        }
    }
    v.cfg.lvs.virtual_servers = kept;
    for vs in &mut v.cfg.lvs.virtual_servers {
        resolve_checker_defaults(vs);
    }
    if !v.cfg.lvs.virtual_servers.is_empty() {
        check_scripts(v);
    }
}

/// MISC_CHECK users (keepalived: at the `user` line, or at the block end when the
/// default script user is taken) and the notify/quorum scripts' users (keepalived
/// silently drops a notify script whose user cannot be set).
fn resolve_script_users(v: &mut Validation<'_>) {
    let pending = std::mem::take(&mut v.cfg.lvs.pending);
    for (user, group, user_span, end_span) in pending.pathless_misc {
        match script::lookup_user_group(v.system, &user, group.as_deref()) {
            Err(_) => v.diags.report(
                Level::GeneralError,
                Some(user_span),
                "failed to set uid/gid for misc checker script - removing it",
            ),
            Ok(_) => v.diags.report(
                Level::GeneralError,
                end_span,
                "no script path has been specified for MISC_CHECK - skipping",
            ),
        }
    }
    for mut script in pending.orphan_misc_scripts {
        if script::resolve_script_user(v, &mut script).is_err() {
            report_misc_user_failure(v, &script);
        }
    }
    let mut servers = std::mem::take(&mut v.cfg.lvs.virtual_servers);
    // keepalived creates a notify script only when its user can be set, and a second
    // one for the same slot is an error only when the first was created.
    let mut duplicates: Vec<Option<Duplicate>> =
        pending.duplicate_scripts.into_iter().map(Some).collect();
    for (vs_index, vs) in servers.iter_mut().enumerate() {
        for (which, slot) in [
            (ScriptSlot::QuorumUp, &mut vs.quorum_up),
            (ScriptSlot::QuorumDown, &mut vs.quorum_down),
        ] {
            settle_slot(
                v,
                slot,
                |d| d.0 == vs_index && d.1.is_none() && d.2 == which,
                &mut duplicates,
            );
        }
        for (rs_index, rs) in vs.real_servers.iter_mut().enumerate() {
            for (which, slot) in [
                (ScriptSlot::NotifyUp, &mut rs.notify_up),
                (ScriptSlot::NotifyDown, &mut rs.notify_down),
            ] {
                settle_slot(
                    v,
                    slot,
                    |d| d.0 == vs_index && d.1 == Some(rs_index) && d.2 == which,
                    &mut duplicates,
                );
            }
        }
    }
    for vs in &mut servers {
        for rs in &mut vs.real_servers {
            let mut kept = Vec::with_capacity(rs.checkers.len());
            for mut checker in std::mem::take(&mut rs.checkers) {
                if let CheckerKind::Misc { script, .. } = &mut checker.kind
                    && script::resolve_script_user(v, script).is_err()
                {
                    report_misc_user_failure(v, script);
                    continue;
                }
                kept.push(checker);
            }
            rs.checkers = kept;
        }
    }
    v.cfg.lvs.virtual_servers = servers;
}

/// keepalived's errors for a MISC_CHECK whose user cannot be set (at the `user` line,
/// or at the block end where the default script user is taken).
fn report_misc_user_failure(v: &mut Validation<'_>, script: &Script) {
    let message = if script.user.is_some() {
        format!(
            "failed to set uid/gid for misc checker script {} - removing it",
            script.command_string()
        )
    } else {
        format!(
            "unable to set the default user for misc script {} - removing it",
            script.command_string()
        )
    };
    v.diags
        .report(Level::GeneralError, Some(script.user_span), message);
}

type Duplicate = (usize, Option<usize>, ScriptSlot, Script);

/// Settles one notify/quorum slot: the first script whose user can be set takes it;
/// later ones after that are "already specified" errors at their lines.
fn settle_slot(
    v: &mut Validation<'_>,
    slot: &mut Option<Script>,
    matches: impl Fn(&Duplicate) -> bool,
    duplicates: &mut [Option<Duplicate>],
) {
    drop_script_without_user(v, slot);
    // In parse order.
    for entry in duplicates.iter_mut() {
        let Some(d) = entry.take_if(|d| matches(d)) else {
            continue;
        };
        let mut script = d.3;
        if slot.is_some() {
            v.diags.report(
                Level::GeneralError,
                Some(script.span),
                format!(
                    "script already specified for this slot - ignoring {}",
                    script.command_string()
                ),
            );
            continue;
        }
        if script::resolve_script_user(v, &mut script).is_ok() {
            *slot = Some(script);
        }
    }
}

fn drop_script_without_user(v: &mut Validation<'_>, slot: &mut Option<Script>) {
    if let Some(script) = slot
        && script::resolve_script_user(v, script).is_err()
    {
        v.diags.report(
            Level::Note,
            Some(script.user_span),
            format!(
                "cannot set the user for script {} - ignoring it",
                script.command_string()
            ),
        );
        *slot = None;
    }
}

/// keepalived's `link_vsg_to_vs()`: a `virtual_server group NAME` needs the group, and
/// the families must agree. keepalived only logs these (no error level).
fn link_groups(v: &mut Validation<'_>) {
    let servers = std::mem::take(&mut v.cfg.lvs.virtual_servers);
    let mut kept = Vec::with_capacity(servers.len());
    for mut vs in servers {
        let VsAddress::Group(name) = &vs.address else {
            kept.push(vs);
            continue;
        };
        let Some(group) = v
            .cfg
            .lvs
            .virtual_server_groups
            .iter()
            .find(|g| g.name == *name)
        else {
            v.diags.report(
                Level::Note,
                Some(vs.span),
                format!("virtual server group {name} is used but not configured - ignoring the virtual server"),
            );
            continue;
        };
        let (v4, v6) = (group.has_ipv4(), group.has_ipv6());
        let group_family = match (v4, v6) {
            (true, false) => Some(Family::Inet),
            (false, true) => Some(Family::Inet6),
            _ => None,
        };
        let mismatch = (v4 && v6 && vs.family.is_some())
            || (v4 && vs.family == Some(Family::Inet6))
            || (v6 && vs.family == Some(Family::Inet))
            || group_family.is_some_and(|g| vs.family.is_some_and(|f| f != g));
        if mismatch {
            v.diags.report(
                Level::Note,
                Some(vs.span),
                format!("virtual server group {name}: address family doesn't match the virtual server - ignoring it"),
            );
            continue;
        }
        if let Some(g) = group_family {
            vs.family = Some(g);
        } else if vs.family.is_none() && group.has_fwmark_without_family() {
            v.diags.report(
                Level::Note,
                Some(vs.span),
                format!("virtual server group {name}: address family cannot be determined, defaulting to IPv4"),
            );
        }
        kept.push(vs);
    }
    v.cfg.lvs.virtual_servers = kept;
}

/// What a virtual server's group contributes to the checks.
struct GroupShape {
    ranges: Vec<(String, u16)>,
    has_fwmarks: bool,
}

/// keepalived's `validate_check_config()` for one virtual server. Returns false when
/// the virtual server is dropped.
fn validate_virtual_server(v: &mut Validation<'_>, vs: &mut VirtualServer) -> bool {
    let label = vs.describe();
    let error = |v: &mut Validation<'_>, message: String| {
        v.diags.report(Level::GeneralError, None, message);
    };
    if vs.real_servers.is_empty() {
        error(
            v,
            format!("virtual server {label} has no real servers - ignoring it"),
        );
        return false;
    }
    let group = match &vs.address {
        VsAddress::Group(name) => v
            .cfg
            .lvs
            .virtual_server_groups
            .iter()
            .find(|g| g.name == *name)
            .map(|g| GroupShape {
                ranges: g
                    .ranges
                    .iter()
                    .map(|r| (describe_range(&r.start, &r.end, r.port), r.port))
                    .collect(),
                has_fwmarks: !g.fwmarks.is_empty(),
            }),
        _ => None,
    };
    // keepalived tests `vs->vfwmark`, so `fwmark 0` behaves as an address service.
    let fwmark = matches!(vs.address, VsAddress::Fwmark { mark } if mark != 0);
    let vs_port = match vs.address {
        VsAddress::Ip { port, .. } => port,
        _ => 0,
    };

    if vs.ha_suspend && (fwmark || group.as_ref().is_some_and(|g| g.has_fwmarks)) {
        error(
            v,
            format!("virtual server {label}: ha_suspend cannot be used with fwmarks - clearing it"),
        );
        vs.ha_suspend = false;
    }

    let address_service = match &group {
        Some(g) => !g.ranges.is_empty(),
        None => !fwmark,
    };
    if address_service {
        if vs.protocol.is_none() {
            // The kernel would take protocol 0 as UDP; keepalived makes it explicit.
            error(
                v,
                format!("virtual server {label}: no protocol set - defaulting to UDP"),
            );
            vs.protocol = Some(Protocol::Udp);
        }
        if vs.scheduler_flags.one_packet && vs.protocol != Some(Protocol::Udp) {
            error(
                v,
                format!(
                    "virtual server {label}: one packet scheduling (ops) requires UDP - clearing it"
                ),
            );
            vs.scheduler_flags.one_packet = false;
        }
        if vs.persistence.timeout == 0 && group.is_none() && !fwmark && vs_port == 0 {
            error(
                v,
                format!(
                    "virtual server {label}: a zero port is only valid for persistent services - making it persistent"
                ),
            );
            vs.persistence.timeout = DEFAULT_PERSISTENCE_TIMEOUT;
        }
    }
    if vs.persistence.timeout == 0
        && let Some(g) = &group
        && g.ranges.iter().any(|(_, port)| *port == 0)
    {
        error(
            v,
            format!(
                "virtual server {label}: a zero port is only valid for persistent services - making it persistent"
            ),
        );
        vs.persistence.timeout = DEFAULT_PERSISTENCE_TIMEOUT;
    }
    let fwmark_only = match &group {
        Some(g) => g.ranges.is_empty() && g.has_fwmarks,
        None => fwmark,
    };
    if vs.protocol.is_some() && fwmark_only {
        error(
            v,
            format!(
                "virtual server {label}: protocol specified for a fwmark service - it will be ignored"
            ),
        );
        vs.protocol = None;
    }
    if vs.scheduler.is_none() {
        error(
            v,
            format!("virtual server {label}: no scheduler set, using '{DEFAULT_SCHEDULER}'"),
        );
        vs.scheduler = Some(DEFAULT_SCHEDULER.to_string());
    }
    if vs.smtp_alert.is_none() {
        let global = &v.cfg.global;
        vs.smtp_alert = Some(
            global
                .smtp_alert_checker
                .or(global.smtp_alert)
                .unwrap_or(false),
        );
    }

    // Real servers: duplicates, inheritance, weights, the sorry server.
    let label = vs.describe();
    let mut weight_sum: u32 = 0;
    let mut index = 0;
    while index < vs.real_servers.len() {
        let (before, rest) = vs.real_servers.split_at(index);
        let Some(rs) = rest.first() else { break };
        if before
            .iter()
            .any(|o| o.addr == rs.addr && o.port == rs.port)
        {
            let desc = rs.describe();
            error(
                v,
                format!(
                    "virtual server {label}: real server {desc} is duplicated - removing the second one"
                ),
            );
            vs.real_servers.remove(index);
            continue;
        }
        if rs.forwarding.is_none() {
            let forwarding = vs_forwarding_or_default(v, vs, &label);
            if let Some(rs) = vs.real_servers.get_mut(index) {
                rs.forwarding = Some(forwarding);
            }
        }
        let global_alert = v.cfg.global.smtp_alert_checker.or(v.cfg.global.smtp_alert);
        let Some(rs) = vs.real_servers.get_mut(index) else {
            break;
        };
        rs.alpha.get_or_insert(vs.alpha);
        rs.inhibit_on_failure.get_or_insert(vs.inhibit_on_failure);
        if rs.retry.is_none() {
            rs.retry = vs.retry;
        }
        rs.connect_timeout_us.get_or_insert(vs.connect_timeout_us);
        rs.delay_loop_us.get_or_insert(vs.delay_loop_us);
        if rs.warmup_us.is_none() {
            rs.warmup_us = vs.warmup_us;
        }
        if rs.delay_before_retry_us.is_none() {
            rs.delay_before_retry_us = vs.delay_before_retry_us;
        }
        let weight = *rs.weight.get_or_insert(vs.weight);
        // keepalived keeps real servers alerting by default, unlike everything else.
        rs.smtp_alert.get_or_insert(global_alert.unwrap_or(true));
        weight_sum = weight_sum.wrapping_add(weight);
        let (rs_addr, rs_port, rs_inhibit) =
            (rs.addr, rs.port, rs.inhibit_on_failure.unwrap_or(false));
        let rs_desc = rs.describe();
        if let Some(ss) = vs.sorry_server.as_mut()
            && ss.addr == rs_addr
            && ss.port == rs_port
            && ss.inhibit != rs_inhibit
        {
            ss.inhibit = rs_inhibit;
            let action = if rs_inhibit { "setting" } else { "clearing" };
            error(
                v,
                format!(
                    "virtual server {label}: real server {rs_desc} matches the sorry server but its inhibit setting differs - {action} it on the sorry server"
                ),
            );
        }
        index += 1;
    }
    if vs
        .sorry_server
        .as_ref()
        .is_some_and(|s| s.forwarding.is_none())
    {
        let forwarding = vs_forwarding_or_default(v, vs, &label);
        if let Some(ss) = vs.sorry_server.as_mut() {
            ss.forwarding = Some(forwarding);
        }
    }

    if vs.quorum > weight_sum {
        error(
            v,
            format!(
                "quorum {} for {label} exceeds the total weight of the real servers {weight_sum} - reducing it to {weight_sum}",
                vs.quorum
            ),
        );
        vs.quorum = weight_sum;
    }
    if vs.hysteresis >= vs.quorum {
        let new = vs.quorum.wrapping_sub(1);
        error(
            v,
            format!(
                "virtual server {label}: hysteresis {} >= quorum {} - setting it to {new}",
                vs.hysteresis, vs.quorum
            ),
        );
        vs.hysteresis = new;
    }

    check_ports(v, vs, group.as_ref(), fwmark, vs_port);
    true
}

/// The virtual server's forwarding method, defaulting it to NAT (reported) when unset.
fn vs_forwarding_or_default(
    v: &mut Validation<'_>,
    vs: &mut VirtualServer,
    label: &str,
) -> Forwarding {
    match vs.forwarding {
        Some(f) => f,
        None => {
            v.diags.report(
                Level::GeneralError,
                None,
                format!("virtual server {label}: no lvs_method set, using NAT"),
            );
            let f = Forwarding::plain(ForwardingMethod::Nat);
            vs.forwarding = Some(f);
            f
        }
    }
}

fn describe_range(start: &IpAddr, end: &IpAddr, port: u16) -> String {
    if start == end {
        format!("{start},{port}")
    } else {
        format!("{start}-{end},{port}")
    }
}

/// Unless NAT, real (and sorry) servers use the virtual server's port; with fwmarks
/// they have none. keepalived corrects a plain virtual server's servers and only
/// warns about a group's.
fn check_ports(
    v: &mut Validation<'_>,
    vs: &mut VirtualServer,
    group: Option<&GroupShape>,
    fwmark: bool,
    vs_port: u16,
) {
    let label = vs.describe();
    let is_nat = |f: Option<Forwarding>| f.map(|f| f.method) == Some(ForwardingMethod::Nat);
    let mut messages = Vec::new();
    if let Some(g) = group {
        if g.has_fwmarks {
            for rs in &vs.real_servers {
                if !is_nat(rs.forwarding) && rs.port != 0 {
                    messages.push(format!("fwmark virtual server {label}: real server {} has a port - it will be ignored", rs.describe()));
                }
            }
            if let Some(ss) = &vs.sorry_server
                && !is_nat(ss.forwarding)
                && ss.port != 0
            {
                messages.push(format!("fwmark virtual server {label}: the sorry server has a port - it will be ignored"));
            }
        }
        for (range, port) in &g.ranges {
            for rs in &vs.real_servers {
                if !is_nat(rs.forwarding) && rs.port != 0 && rs.port != *port {
                    messages.push(format!(
                        "virtual server {label} [{range}] and real server {} ports don't match",
                        rs.describe()
                    ));
                }
            }
            if let Some(ss) = &vs.sorry_server
                && !is_nat(ss.forwarding)
                && ss.port != 0
                && ss.port != *port
            {
                messages.push(format!(
                    "virtual server {label}: the sorry server has a port - it will be ignored"
                ));
            }
        }
    } else {
        for rs in &mut vs.real_servers {
            if is_nat(rs.forwarding) {
                if !fwmark && rs.port == 0 {
                    rs.port = vs_port;
                }
                continue;
            }
            if fwmark {
                if rs.port != 0 {
                    messages.push(format!(
                        "fwmark virtual server {label}: real server {} has a port - clearing it",
                        rs.describe()
                    ));
                    rs.port = 0;
                }
            } else if rs.port == 0 {
                rs.port = vs_port;
            } else if rs.port != vs_port {
                messages.push(format!("virtual server {label} and real server {} ports don't match - using the virtual server's", rs.describe()));
                rs.port = vs_port;
            }
        }
        if let Some(ss) = vs.sorry_server.as_mut()
            && !is_nat(ss.forwarding)
        {
            if fwmark {
                if ss.port != 0 {
                    messages.push(format!(
                        "virtual server {label}: the sorry server has a port - clearing it"
                    ));
                    ss.port = 0;
                }
            } else if ss.port == 0 {
                ss.port = vs_port;
            } else if ss.port != vs_port {
                messages.push(format!("virtual server {label} and sorry server ports don't match - using the virtual server's"));
                ss.port = vs_port;
            }
        }
    }
    for message in messages {
        v.diags.report(Level::GeneralError, None, message);
    }
}

/// Checker values not written in the configuration come from the real server, then
/// from the checker kind's defaults (keepalived's checkers_queue loop).
fn resolve_checker_defaults(vs: &mut VirtualServer) {
    for rs in &mut vs.real_servers {
        for checker in &mut rs.checkers {
            let common = &mut checker.common;
            if common.alpha.is_none() {
                common.alpha = rs.alpha;
            }
            // FILE_CHECK and BFD_CHECK do not run on their own (no launch function).
            if matches!(
                checker.kind,
                CheckerKind::File { .. } | CheckerKind::Bfd { .. }
            ) {
                continue;
            }
            if common.retry.is_none() {
                common.retry = Some(rs.retry.unwrap_or(checker.kind.default_retry()));
            }
            if common.connect_timeout_us.is_none() {
                common.connect_timeout_us = rs.connect_timeout_us.or(Some(vs.connect_timeout_us));
            }
            let delay_loop = *common
                .delay_loop_us
                .get_or_insert(rs.delay_loop_us.unwrap_or(vs.delay_loop_us));
            if common.warmup_us.is_none() {
                common.warmup_us = Some(rs.warmup_us.unwrap_or(delay_loop));
            }
            if common.delay_before_retry_us.is_none() {
                common.delay_before_retry_us = Some(
                    rs.delay_before_retry_us
                        .or(checker.kind.default_delay_before_retry_us())
                        .unwrap_or(delay_loop),
                );
            }
            if let CheckerKind::Smtp { helo_name, .. } = &mut checker.kind
                && helo_name.is_none()
            {
                *helo_name = Some(SMTP_DEFAULT_HELO.to_string());
            }
        }
    }
}

/// keepalived's `check_check_script_security()`: MISC_CHECK scripts that cannot run
/// remove their checker; notify/quorum scripts that cannot run are dropped. The
/// SECURITY VIOLATION itself is reported once by `script::finish_script_security`.
fn check_scripts(v: &mut Validation<'_>) {
    let mut servers = std::mem::take(&mut v.cfg.lvs.virtual_servers);
    for vs in &mut servers {
        for rs in &mut vs.real_servers {
            let mut kept = Vec::with_capacity(rs.checkers.len());
            for mut checker in std::mem::take(&mut rs.checkers) {
                if let CheckerKind::Misc { script, .. } = &mut checker.kind {
                    let verdict = script::check_script_security(v, script, "MISC_CHECK");
                    if !verdict.keep_tracked() {
                        continue;
                    }
                }
                kept.push(checker);
            }
            rs.checkers = kept;
        }
    }
    for vs in &mut servers {
        for (slot, kind) in [
            (&mut vs.quorum_up, "quorum_up"),
            (&mut vs.quorum_down, "quorum_down"),
        ] {
            keep_notify(v, slot, kind);
        }
        for rs in &mut vs.real_servers {
            for (slot, kind) in [
                (&mut rs.notify_up, "notify_up"),
                (&mut rs.notify_down, "notify_down"),
            ] {
                keep_notify(v, slot, kind);
            }
        }
    }
    v.cfg.lvs.virtual_servers = servers;
}

fn keep_notify(v: &mut Validation<'_>, slot: &mut Option<Script>, kind: &str) {
    if let Some(script) = slot {
        let verdict = script::check_script_security(v, script, kind);
        if !verdict.keep_notify() {
            *slot = None;
        }
    }
}
