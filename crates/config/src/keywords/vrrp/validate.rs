//! What keepalived checks once the whole configuration is read: the interface lookups
//! it does while parsing (we need the [`crate::System`], so they are done here and
//! reported at the line that named the interface), `start_vrrp()`'s non-existent
//! interface stop, `vrrp_complete_init()`, `chk_min_cfg()`, `vrrp_sync_set_group()`,
//! `vrrp_complete_instance()` and `check_vrid_conflicts()` (vrrp/vrrp.c, vrrp_sync.c).

use std::net::IpAddr;

use super::instance::notify_slot;
use crate::Diagnostics;
use crate::Validation;
use crate::diag::Level;
use crate::model::vrrp::{Family, InitialState, IpAddress, Route, Rule, TrackRef, VrrpInstance};
use crate::script::{check_script_security, lookup_user_group, resolve_script_user};
use crate::span::Span;

/// keepalived's VRRP_PRIO_OWNER.
const PRIO_OWNER: u8 = 255;
/// keepalived's VRRP_PRIO_DFL.
const PRIO_DEFAULT: u8 = 100;
const TIMER_HZ: u64 = 1_000_000;
const TIMER_CENTI_HZ: u64 = 10_000;
/// keepalived's VRRP_DOWN_TIMER_ADVERTS.
const DOWN_TIMER_ADVERTS: u32 = 3;
/// The MTU keepalived assumes for the VIP count check (no live interface data here).
const DEFAULT_MTU: usize = 1500;
/// keepalived's VRRP_MAX_ADDR: the address count field is 8 bits.
const MAX_ADDR: usize = 255;

pub fn validate(v: &mut Validation<'_>) {
    resolve_script_users(v);
    let non_existent = resolve_interfaces(v);
    if non_existent {
        // keepalived: start_vrrp() stops before completing the instances.
        v.diags.report(
            Level::BadInterface,
            None,
            "non-existent interface specified in configuration",
        );
        return;
    }
    complete_init(v);
}

/// For the integrator, when parsing was aborted (missing parameter) in the VRRP
/// process' pass: what keepalived found while parsing up to that point and that we
/// can only find with the host (interface lookups, script users) is reported; nothing
/// is completed and no "non-existent interface" stop is reported (keepalived exited).
pub fn validate_after_abort(v: &mut Validation<'_>) {
    resolve_script_users(v);
    let _ = resolve_interfaces(v);
}

/// keepalived sets a vrrp_script's user while parsing and drops the script when that
/// fails, so that later `track_script` lines naming it are "not found". We resolve users
/// here, so both reports are made here, at the lines keepalived uses.
fn resolve_script_users(v: &mut Validation<'_>) {
    let mut removed: Vec<(String, Span)> = Vec::new();
    let mut index = 0;
    while let Some(entry) = v.cfg.vrrp.scripts.get_mut(index) {
        if entry.discarded {
            // keepalived looked its user up while parsing, before dropping it.
            let name = entry.name.clone();
            if let Some((user, group, span)) = entry.user.clone()
                && let Err(e) = lookup_user_group(v.system, &user, group.as_deref())
            {
                v.diags.report(
                    Level::GeneralError,
                    Some(span),
                    format!("vrrp_script {name}: unable to set the script's uid/gid ({e})"),
                );
            }
            v.cfg.vrrp.scripts.remove(index);
            continue;
        }
        let Some(mut script) = entry.script.take() else {
            index += 1;
            continue;
        };
        let name = entry.name.clone();
        let explicit = entry.user.is_some();
        match resolve_script_user(v, &mut script) {
            Ok(_) => {
                if let Some(entry) = v.cfg.vrrp.scripts.get_mut(index) {
                    entry.script = Some(script);
                }
                index += 1;
            }
            Err(e) => {
                let msg = if explicit {
                    format!(
                        "vrrp_script {name}: unable to set the script's uid/gid ({e}) - removing it"
                    )
                } else {
                    format!(
                        "vrrp_script {name}: unable to set the default script user - removing it"
                    )
                };
                v.diags
                    .report(Level::GeneralError, Some(script.user_span), msg);
                removed.push((name, script.user_span));
                v.cfg.vrrp.scripts.remove(index);
            }
        }
    }
    if removed.is_empty() {
        return;
    }
    let diags = &mut *v.diags;
    let mut drop_refs = |owner: &str, refs: &mut Vec<crate::model::vrrp::TrackRef>| {
        refs.retain(|t| {
            let gone = removed
                .iter()
                .any(|(n, at)| *n == t.name && t.span.is_some_and(|s| s > *at));
            if gone {
                diags.report(
                    Level::GeneralError,
                    t.span,
                    format!("({owner}) track script {} not found - ignoring", t.name),
                );
            }
            !gone
        });
    };
    for g in &mut v.cfg.vrrp.sync_groups {
        let owner = g.name.clone();
        drop_refs(&owner, &mut g.track_scripts);
    }
    for inst in &mut v.cfg.vrrp.instances {
        let owner = inst.name.clone();
        drop_refs(&owner, &mut inst.track_scripts);
    }
}

/// keepalived: `check_vrrp_script_security()`: tracked and notify scripts that cannot
/// run are disabled (only when there is a vrrp_instance).
fn check_scripts(v: &mut Validation<'_>) {
    if v.cfg.vrrp.instances.is_empty() {
        return;
    }
    let mut insecure: Vec<String> = Vec::new();
    for index in 0..v.cfg.vrrp.scripts.len() {
        let Some(entry) = v.cfg.vrrp.scripts.get_mut(index) else {
            break;
        };
        let name = entry.name.clone();
        let Some(mut script) = entry.script.take() else {
            continue;
        };
        let verdict = check_script_security(v, &mut script, &format!("vrrp_script {name}"));
        if verdict.inhibit {
            error(v, format!("disabling vrrp_script {name}: it is insecure"));
        } else if verdict.not_found {
            error(
                v,
                format!("disabling vrrp_script {name}: not found or not accessible"),
            );
        }
        if !verdict.keep_tracked() {
            insecure.push(name);
        }
        if let Some(entry) = v.cfg.vrrp.scripts.get_mut(index) {
            entry.script = Some(script);
        }
    }
    const NOTIFY: [&str; 7] = [
        "notify_backup",
        "notify_master",
        "notify_fault",
        "notify_stop",
        "notify_deleted",
        "notify",
        "notify_master_rx_lower_pri",
    ];
    for index in 0..v.cfg.vrrp.instances.len() {
        for kw in NOTIFY {
            let Some(inst) = v.cfg.vrrp.instances.get_mut(index) else {
                break;
            };
            let Some(mut script) = notify_slot(&mut inst.notify, kw).take() else {
                continue;
            };
            let verdict = check_script_security(v, &mut script, kw);
            if verdict.keep_notify()
                && let Some(inst) = v.cfg.vrrp.instances.get_mut(index)
            {
                *notify_slot(&mut inst.notify, kw) = Some(script);
            }
        }
        if let Some(inst) = v.cfg.vrrp.instances.get_mut(index) {
            inst.track_scripts.retain(|t| !insecure.contains(&t.name));
        }
    }
    for index in 0..v.cfg.vrrp.sync_groups.len() {
        for kw in NOTIFY.iter().take(4).chain(std::iter::once(&"notify")) {
            let Some(g) = v.cfg.vrrp.sync_groups.get_mut(index) else {
                break;
            };
            let Some(mut script) = notify_slot(&mut g.notify, kw).take() else {
                continue;
            };
            let verdict = check_script_security(v, &mut script, kw);
            if verdict.keep_notify()
                && let Some(g) = v.cfg.vrrp.sync_groups.get_mut(index)
            {
                *notify_slot(&mut g.notify, kw) = Some(script);
            }
        }
        if let Some(g) = v.cfg.vrrp.sync_groups.get_mut(index) {
            g.track_scripts.retain(|t| !insecure.contains(&t.name));
        }
    }
    v.cfg.vrrp.scripts.retain(|s| !insecure.contains(&s.name));
}

/// Whether an interface is the loopback one (keepalived refuses it for an instance).
fn is_loopback(name: &str) -> bool {
    name == "lo"
}

/// Looks up every interface the VRRP handlers would have looked up while parsing.
/// Returns whether one did not exist (keepalived's `non_existent_interface_specified`).
fn resolve_interfaces(v: &mut Validation<'_>) -> bool {
    let dynamic = v.cfg.global.dynamic_interfaces;
    let system = v.system;
    let exists = |name: &str| dynamic || system.interface_exists(name);
    let mut missing = false;
    let report = |diags: &mut crate::Diagnostics, span: Option<Span>, msg: String| {
        diags.report(Level::GeneralError, span, msg);
    };

    // Static addresses, routes and rules come first in keepalived's tables; the order
    // does not matter for what is reported, only which line.
    let diags = &mut *v.diags;
    let vrrp = &mut v.cfg.vrrp;
    missing |= retain_existing_devs(
        &mut [&mut vrrp.static_addresses],
        &mut vrrp.static_routes,
        &mut vrrp.static_rules,
        &exists,
        diags,
    );
    for g in &mut vrrp.sync_groups {
        missing |= retain_existing_tracked(&g.name, &mut g.track_interfaces, &exists, diags);
    }
    // keepalived: an interface belongs to at most one garp_group.
    let mut garp_assigned: Vec<String> = Vec::new();
    for g in &mut vrrp.garp_groups {
        let discarded = g.discarded;
        g.interfaces.retain(|(name, span)| {
            if !exists(name) {
                missing = true;
                report(
                    diags,
                    *span,
                    format!("interface {name} given for garp_group doesn't exist"),
                );
                return false;
            }
            if garp_assigned.contains(name) {
                report(
                    diags,
                    *span,
                    format!("interface {name} is already in a garp_group - ignoring"),
                );
                return false;
            }
            if !discarded {
                garp_assigned.push(name.clone());
            }
            true
        });
    }
    vrrp.garp_groups.retain(|g| !g.discarded);
    for l in &vrrp.linkbeat_interfaces {
        if !exists(&l.interface) {
            diags.report(
                Level::Fatal,
                l.span,
                format!(
                    "unknown interface {} given for linkbeat_interfaces",
                    l.interface
                ),
            );
        }
    }
    for d in &vrrp.up_down_delays {
        if !exists(&d.interface) {
            diags.report(
                Level::Fatal,
                d.span,
                format!("unknown interface {} given for up/down delays", d.interface),
            );
        }
    }
    for inst in &mut vrrp.instances {
        let name = inst.name.clone();
        // keepalived looks up every `interface` line as it reads it; the last decides.
        for (ifname, span) in &inst.interface_lines {
            if !exists(ifname) {
                missing = true;
                report(
                    diags,
                    *span,
                    format!("interface {ifname} for vrrp_instance {name} doesn't exist"),
                );
            } else if is_loopback(ifname) {
                report(
                    diags,
                    *span,
                    format!(
                        "({name}) the loopback interface {ifname} cannot be used for vrrp - ignoring"
                    ),
                );
            }
        }
        if inst
            .interface
            .as_deref()
            .is_some_and(|i| !exists(i) || is_loopback(i))
        {
            inst.interface = None;
        }
        if let Some(vrf) = inst.vrf.clone() {
            if !exists(&vrf) {
                missing = true;
                report(
                    diags,
                    inst.vrf_span,
                    format!("({name}) VRF interface {vrf} doesn't exist"),
                );
                inst.vrf = None;
            } else if is_loopback(&vrf) {
                report(
                    diags,
                    inst.vrf_span,
                    format!("({name}) the loopback interface cannot be used as a VRF - ignoring"),
                );
                inst.vrf = None;
            }
        }
        missing |= retain_existing_tracked(&name, &mut inst.track_interfaces, &exists, diags);
        missing |= retain_existing_devs(
            &mut [&mut inst.vips, &mut inst.evips],
            &mut inst.vroutes,
            &mut inst.vrules,
            &exists,
            diags,
        );
        // keepalived: a VMAC/ipvlan name may not be an existing interface (none of the
        // hosts we describe has keepalived's private macvlans / l2 ipvlans).
        if let Some(vmac) = inst.vmac.as_mut()
            && let Some(n) = vmac.ifname.clone()
            && system.interface_exists(&n)
        {
            report(
                diags,
                vmac.ifname_span,
                format!(
                    "({name}) interface {n} already exists and is not a private macvlan - ignoring the vmac name"
                ),
            );
            vmac.ifname = None;
        }
        if let Some(ipvlan) = inst.ipvlan.as_mut()
            && let Some(n) = ipvlan.ifname.clone()
            && system.interface_exists(&n)
        {
            report(
                diags,
                ipvlan.ifname_span,
                format!(
                    "({name}) interface {n} already exists and is not an l2 ipvlan - ignoring the ipvlan name"
                ),
            );
            ipvlan.ifname = None;
        }
        end_of_block_checks(diags, inst);
    }
    missing
}

/// Drops the tracked interfaces of `owner` that do not exist, reporting each; returns
/// whether one was dropped.
fn retain_existing_tracked(
    owner: &str,
    list: &mut Vec<TrackRef>,
    exists: &impl Fn(&str) -> bool,
    diags: &mut Diagnostics,
) -> bool {
    let before = list.len();
    list.retain(|t| {
        let keep = exists(&t.name);
        if !keep {
            diags.report(
                Level::GeneralError,
                t.span,
                format!("({owner}) tracked interface {} doesn't exist", t.name),
            );
        }
        keep
    });
    list.len() != before
}

/// Drops the addresses, routes and rules (static, or an instance's) on an interface
/// that does not exist, reporting each; returns whether one was dropped.
fn retain_existing_devs(
    addr_lists: &mut [&mut Vec<IpAddress>],
    routes: &mut Vec<Route>,
    rules: &mut Vec<Rule>,
    exists: &impl Fn(&str) -> bool,
    diags: &mut Diagnostics,
) -> bool {
    let mut missing = false;
    let mut gone = |span: Option<Span>, msg: String| {
        missing = true;
        diags.report(Level::GeneralError, span, msg);
        false
    };
    for list in addr_lists {
        list.retain(|a| match &a.dev {
            Some(dev) if !exists(dev) => gone(
                a.span,
                format!("interface {dev} for ip address {} doesn't exist", a.addr),
            ),
            _ => true,
        });
    }
    routes.retain(|r| match &r.dev {
        Some(dev) if !exists(dev) => {
            gone(r.span, format!("interface {dev} for route doesn't exist"))
        }
        _ => true,
    });
    rules.retain(
        |r| match [&r.iif, &r.oif].into_iter().flatten().find(|d| !exists(d)) {
            Some(dev) => gone(r.span, format!("interface {dev} for rule doesn't exist")),
            None => true,
        },
    );
    missing
}

/// keepalived: `vrrp_end_handler()`'s VMAC checks, which depend on whether the
/// interface was found; reported at the line closing the instance.
fn end_of_block_checks(diags: &mut crate::Diagnostics, inst: &mut VrrpInstance) {
    if inst.end_span.is_none() {
        // The block never closed (parsing stopped inside it).
        return;
    }
    let name = inst.name.clone();
    if inst.unicast_configured && (inst.vmac.is_some() || inst.ipvlan.is_some()) {
        if inst.interface.is_none() {
            diags.report(
                Level::GeneralError,
                inst.end_span,
                format!("({name}) VMAC/ipvlan cannot be used with unicast and no interface - clearing use_vmac"),
            );
            inst.vmac = None;
            inst.ipvlan = None;
        } else if !inst.vmac_xmit_base {
            diags.report(
                Level::GeneralError,
                inst.end_span,
                format!("({name}) unicast with use_vmac needs vmac_xmit_base - setting it"),
            );
            inst.vmac_xmit_base = true;
        }
    }
    if inst.interface.is_none() {
        inst.linkbeat_use_polling = false;
    }
}

fn error(v: &mut Validation<'_>, msg: String) {
    v.diags.report(Level::GeneralError, None, msg);
}

/// keepalived: `vrrp_complete_init()` (the part that runs for `-t`).
fn complete_init(v: &mut Validation<'_>) {
    check_scripts(v);
    // chk_min_cfg(): every instance needs a VRID and an interface (the unicast flag
    // it also accepts is only set later, so an interface is always needed here).
    for i in 0..v.cfg.vrrp.instances.len() {
        let Some(inst) = v.cfg.vrrp.instances.get(i) else {
            break;
        };
        let name = inst.name.clone();
        if inst.vrid.is_none() {
            error(v, format!("({name}) the virtual_router_id must be set"));
            return;
        }
        if inst.interface.is_none() {
            error(
                v,
                format!("({name}) no interface given (or it is unusable)"),
            );
            return;
        }
    }

    sync_groups(v);

    for i in 0..v.cfg.vrrp.instances.len() {
        if !complete_instance(v, i) {
            return;
        }
    }
    if check_vrid_conflicts(v) {
        return;
    }
    sync_group_tracking(v);
}

/// keepalived: `sync_group_tracking_init()`: a sync group with an address owner
/// (priority 255) among its members cannot have weighted trackers.
fn sync_group_tracking(v: &mut Validation<'_>) {
    let owners: Vec<String> = v
        .cfg
        .vrrp
        .instances
        .iter()
        .filter(|i| i.priority == PRIO_OWNER)
        .filter_map(|i| i.sync_group.clone())
        .collect();
    let mut found = Vec::new();
    for g in &mut v.cfg.vrrp.sync_groups {
        if !owners.contains(&g.name) {
            continue;
        }
        let lists = [
            ("script", &mut g.track_scripts),
            ("file", &mut g.track_files),
            ("process", &mut g.track_processes),
            ("bfd", &mut g.track_bfds),
            ("interface", &mut g.track_interfaces),
        ];
        for (what, list) in lists {
            for t in list.iter_mut().filter(|t| t.weight != 0) {
                found.push(format!(
                    "({}) weighted track {what} '{}' not allowed with a priority 255 member - clearing the weight",
                    g.name, t.name
                ));
                t.weight = 0;
            }
        }
    }
    for msg in found {
        error(v, msg);
    }
}

/// keepalived: the sync group part of `vrrp_complete_init()` and `vrrp_sync_set_group()`.
fn sync_groups(v: &mut Validation<'_>) {
    let groups = std::mem::take(&mut v.cfg.vrrp.sync_groups);
    let mut kept = Vec::new();
    for mut g in groups {
        let Some(members) = g.members.clone() else {
            let name = g.name.clone();
            error(
                v,
                format!("sync group {name} has no virtual routers - removing it"),
            );
            continue;
        };
        let mut accepted = Vec::new();
        let mut group_master: Option<bool> = None;
        for m in &members {
            let Some(inst) = v.cfg.vrrp.instances.iter_mut().find(|i| &i.name == m) else {
                let gname = g.name.clone();
                error(
                    v,
                    format!("vrrp_instance {m} in sync group {gname} doesn't exist - ignoring"),
                );
                continue;
            };
            if inst.sync_group.is_some() {
                let gname = g.name.clone();
                error(
                    v,
                    format!(
                        "vrrp_instance {m} cannot be in more than one sync group - ignoring it in {gname}"
                    ),
                );
                continue;
            }
            inst.sync_group = Some(g.name.clone());
            let wants_master = inst.initial_state == Some(InitialState::Master);
            let wants_backup = inst.initial_state == Some(InitialState::Backup);
            let owner = wants_master && inst.priority == PRIO_OWNER;
            accepted.push(m.clone());
            if group_master == Some(true) && wants_backup {
                let gname = g.name.clone();
                error(
                    v,
                    format!(
                        "sync group {gname} mixes address owners and non-owners - this won't work"
                    ),
                );
            }
            if group_master != Some(false) {
                group_master = Some(owner);
            }
        }
        if accepted.is_empty() {
            let gname = g.name.clone();
            error(
                v,
                format!("sync group {gname} has no existing vrrp_instance - removing it"),
            );
            continue;
        }
        if accepted.len() == 1 {
            let gname = g.name.clone();
            error(
                v,
                format!(
                    "sync group {gname} has only one vrrp_instance - probably not what you want"
                ),
            );
        }
        g.members = Some(accepted);
        kept.push(g);
    }
    v.cfg.vrrp.sync_groups = kept;
}

fn is_link_local_v6(addr: &IpAddr) -> bool {
    matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

/// keepalived: `vrrp_complete_instance()`. Returns false where keepalived stops
/// loading the configuration.
fn complete_instance(v: &mut Validation<'_>, index: usize) -> bool {
    let global_strict = v.cfg.global.vrrp_strict;
    let global_version = v.cfg.global.vrrp_version;
    let sync_tracking_weight: Vec<(String, bool)> = v
        .cfg
        .vrrp
        .sync_groups
        .iter()
        .map(|g| (g.name.clone(), g.tracking_weight))
        .collect();
    let Some(inst) = v.cfg.vrrp.instances.get_mut(index) else {
        return true;
    };
    let mut errors: Vec<(Level, String)> = Vec::new();
    let name = inst.name.clone();
    let mut err = |msg: String| errors.push((Level::GeneralError, msg));

    let strict = *inst.strict_mode.get_or_insert(global_strict);
    if inst.family == Some(Family::V6) {
        if inst.version == Some(2) && strict {
            err(format!(
                "({name}) IPv6 cannot be used with VRRP version 2 - using version 3"
            ));
            inst.version = Some(3);
        } else if inst.version.is_none() {
            inst.version = Some(3);
        }
    }
    let family = *inst.family.get_or_insert(Family::V4);
    let version = *inst.version.get_or_insert(if family == Family::V6 {
        3
    } else {
        global_version
    });
    if family == Family::V4 && inst.unicast_ttl.is_none() {
        inst.unicast_ttl = Some(255);
    }

    // keepalived: without a VIP, v3 and strict instances stop everything here.
    if inst.vips.is_empty() {
        if version == 3 || strict {
            err(format!("({name}) no VIP given; at least one is required"));
            for (level, msg) in errors {
                v.diags.report(level, None, msg);
            }
            return false;
        }
        err(format!("({name}) no VIP given; at least one is sensible"));
    }

    // keepalived: derive the priority from the state and the state from the priority.
    if inst.priority == 0 {
        inst.priority = if inst.initial_state == Some(InitialState::Master) {
            PRIO_OWNER
        } else {
            PRIO_DEFAULT
        };
    }
    let owner_state = if inst.priority == PRIO_OWNER {
        InitialState::Master
    } else {
        InitialState::Backup
    };
    match inst.initial_state {
        None => inst.initial_state = Some(owner_state),
        Some(s) if strict && s != owner_state => {
            err(format!(
                "({name}) state MASTER must match being the address owner (priority 255)"
            ));
            inst.initial_state = Some(owner_state);
        }
        Some(_) => {}
    }

    if inst.auth_type.is_some() {
        if strict {
            err(format!(
                "({name}) strict mode does not support authentication - ignoring it"
            ));
            inst.auth_type = None;
        } else if version == 3 {
            err(format!(
                "({name}) VRRP version 3 does not support authentication - ignoring it"
            ));
            inst.auth_type = None;
        } else if inst.auth_pass.as_deref().is_none_or(str::is_empty) {
            err(format!(
                "({name}) authentication given without a password - ignoring it"
            ));
            inst.auth_type = None;
        } else if family == Family::V6 && inst.auth_type == Some(crate::model::vrrp::AuthType::Ah) {
            err(format!(
                "({name}) AH authentication cannot be used with IPv6 - ignoring it"
            ));
            inst.auth_type = None;
        } else if inst.auth_type == Some(crate::model::vrrp::AuthType::Ah)
            && inst.initial_state == Some(InitialState::Master)
            && inst.priority != PRIO_OWNER
        {
            err(format!(
                "({name}) initial state MASTER is incompatible with AH authentication - using BACKUP"
            ));
            inst.initial_state = Some(InitialState::Backup);
        }
    }

    if inst.unicast_configured {
        if !inst.unicast_peers.is_empty() {
            inst.unicast = true;
        } else if !inst.unicast_fault_no_peer {
            errors.push((
                Level::Deprecated,
                format!("({name}) a unicast keyword was given without any unicast peers - using multicast (deprecated)"),
            ));
        }
    }
    let mut err = |msg: String| errors.push((Level::GeneralError, msg));

    if strict && inst.vmac.as_ref().is_some_and(|m| m.mac.is_some()) {
        err(format!(
            "({name}) a VMAC address cannot be given in strict mode - clearing it"
        ));
        if let Some(m) = inst.vmac.as_mut() {
            m.mac = None;
        }
    }

    if family == Family::V6
        && !inst.unicast
        && let Some(first) = inst.vips.first()
        && !is_link_local_v6(&first.addr)
        && strict
    {
        err(format!("({name}) the first IPv6 VIP must be link local"));
    }

    if inst.vrf.is_some() && (inst.interface.is_some() || !inst.unicast) {
        let what = if inst.interface.is_some() {
            "out an interface"
        } else {
            " unicast"
        };
        err(format!(
            "({name}) vrf can only be given with{what} - clearing it"
        ));
        inst.vrf = None;
    }

    // keepalived: VIPs beyond what fits in one advert become eVIPs.
    let hdr = if family == Family::V4 {
        14 + 20 + 8 + if version == 2 { 8 } else { 0 }
    } else {
        14 + 40 + 8
    };
    let addr_len = if family == Family::V4 { 4 } else { 16 };
    let max_addr = ((DEFAULT_MTU - hdr) / addr_len).min(MAX_ADDR);
    if inst.vips.len() > max_addr {
        err(format!(
            "({name}) {} VIPs exceed the {max_addr} that fit in an advert - the excess become eVIPs",
            inst.vips.len()
        ));
        let extra = inst.vips.split_off(max_addr);
        inst.evips.extend(extra);
    }

    if inst.priority == PRIO_OWNER && inst.nopreempt {
        err(format!(
            "({name}) nopreempt is incompatible with priority 255 - clearing nopreempt"
        ));
        inst.nopreempt = false;
    }
    if inst.initial_state == Some(InitialState::Master) {
        if inst.nopreempt {
            err(format!(
                "({name}) nopreempt does not work with initial state MASTER - clearing it"
            ));
            inst.nopreempt = false;
        }
        if inst.preempt_delay_us != 0 {
            err(format!(
                "({name}) preempt_delay does not work with initial state MASTER - clearing it"
            ));
            inst.preempt_delay_us = 0;
        }
    }
    if inst.preempt_delay_us != 0 {
        if strict {
            err(format!(
                "({name}) preempt_delay is incompatible with strict mode - clearing it"
            ));
            inst.preempt_delay_us = 0;
        }
        if inst.nopreempt {
            err(format!(
                "({name}) preempt_delay is incompatible with nopreempt - clearing it"
            ));
            inst.preempt_delay_us = 0;
        }
    }
    if strict
        && inst
            .down_timer_adverts
            .is_some_and(|d| d != DOWN_TIMER_ADVERTS)
    {
        err(format!(
            "({name}) down_timer_adverts is incompatible with strict mode - resetting it"
        ));
        inst.down_timer_adverts = Some(DOWN_TIMER_ADVERTS);
    }

    let accept = *inst
        .accept
        .get_or_insert(inst.priority == PRIO_OWNER || !strict);
    if accept && inst.priority != PRIO_OWNER && strict && version == 2 {
        err(format!(
            "({name}) accept mode with VRRP version 2 does not comply with RFC 3768 - clearing it"
        ));
        inst.accept = Some(false);
    }

    if inst.unicast && inst.mcast_dst_ip.is_some() {
        err(format!(
            "({name}) a multicast destination was given with unicast - ignoring it"
        ));
        inst.mcast_dst_ip = None;
    }

    if strict {
        if inst.garp_lower_prio_repeat.is_some_and(|r| r != 0) {
            err(format!(
                "({name}) strict mode needs no repeated lower priority garps - resetting"
            ));
            inst.garp_lower_prio_repeat = Some(0);
        }
        if inst.garp_lower_prio_delay.is_some_and(|d| d != 0) {
            err(format!(
                "({name}) strict mode needs no lower priority garp delay - resetting"
            ));
            inst.garp_lower_prio_delay = Some(0);
        }
        if inst.lower_prio_no_advert == Some(false) {
            err(format!(
                "({name}) strict mode needs lower_prio_no_advert - setting it"
            ));
            inst.lower_prio_no_advert = Some(true);
        }
        if inst.higher_prio_send_advert == Some(true) {
            err(format!(
                "({name}) strict mode needs higher_prio_send_advert clear - clearing it"
            ));
            inst.higher_prio_send_advert = Some(false);
        }
    }

    // keepalived: advertisement interval limits and rounding per version.
    if inst.advert_int_us == 0 {
        inst.advert_int_us = TIMER_HZ;
    }
    if version == 2 {
        if inst.advert_int_us >= 256 * TIMER_HZ {
            err(format!(
                "({name}) VRRPv2 advert_int must be less than 256s - using 255s"
            ));
            inst.advert_int_us = 255 * TIMER_HZ;
        } else if inst.advert_int_us % TIMER_HZ != 0 {
            err(format!(
                "({name}) VRRPv2 advert_int must be a whole number of seconds - rounding"
            ));
            let rounded = (inst.advert_int_us + TIMER_HZ / 2) / TIMER_HZ * TIMER_HZ;
            inst.advert_int_us = rounded.max(TIMER_HZ);
        }
    } else if inst.advert_int_us >= 4096 * TIMER_CENTI_HZ {
        err(format!(
            "({name}) VRRPv3 advert_int must be less than 40.96s - using 40.95s"
        ));
        inst.advert_int_us = 4095 * TIMER_CENTI_HZ;
    } else if inst.advert_int_us % TIMER_CENTI_HZ != 0 {
        err(format!(
            "({name}) VRRPv3 advert_int must be in units of 10ms - rounding"
        ));
        let rounded = (inst.advert_int_us + TIMER_CENTI_HZ / 2) / TIMER_CENTI_HZ * TIMER_CENTI_HZ;
        inst.advert_int_us = rounded.max(TIMER_CENTI_HZ);
    }

    let has_vmac = inst.vmac.is_some() || inst.ipvlan.is_some();
    if has_vmac && inst.promote_secondaries {
        err(format!(
            "({name}) promote_secondaries is automatic for VMACs - ignoring it"
        ));
        inst.promote_secondaries = false;
    }
    if let Some(ipvlan) = &inst.ipvlan {
        match ipvlan.addr {
            None if family == Family::V4 => {
                err(format!(
                    "({name}) IPv4 ipvlan needs a source address - the instance will be in fault state"
                ));
            }
            Some((a, _)) if Family::of(&a) != family => {
                err(format!(
                    "({name}) the ipvlan address family does not match the instance - the instance will be in fault state"
                ));
            }
            _ => {}
        }
    }
    if let Some(own) = inst.interface.clone() {
        inst.track_interfaces.retain(|t| {
            if t.name == own {
                errors.push((
                    Level::GeneralError,
                    format!("({name}) ignoring track_interface {own}: it is the instance's own interface"),
                ));
                false
            } else {
                true
            }
        });
    }
    let mut err = |msg: String| errors.push((Level::GeneralError, msg));
    if inst.vmac_xmit_base && inst.vmac.is_none() {
        err(format!(
            "({name}) vmac_xmit_base is only valid with a vmac - clearing it"
        ));
        inst.vmac_xmit_base = false;
    }
    let vmac_on = inst.vmac.is_some();
    for list in [&mut inst.vips, &mut inst.evips] {
        for a in list.iter_mut() {
            if a.use_vmac {
                a.use_vmac = false;
                let on_own = a.dev.is_none() || a.dev == inst.interface;
                if on_own && vmac_on && Family::of(&a.addr) == family {
                    errors.push((
                        Level::GeneralError,
                        format!(
                            "({name}) use_vmac given for VIP {} and the instance",
                            a.addr
                        ),
                    ));
                } else if (!on_own || Family::of(&a.addr) != family) && inst.vmac_addr {
                    errors.push((
                        Level::GeneralError,
                        format!(
                            "({name}) use_vmac_addr and use_vmac both given for VIP {}",
                            a.addr
                        ),
                    ));
                } else {
                    a.use_vmac = true;
                }
            }
        }
    }
    let mut err = |msg: String| errors.push((Level::GeneralError, msg));

    {
        let sync_no_weight = inst
            .sync_group
            .as_ref()
            .is_some_and(|g| sync_tracking_weight.iter().any(|(n, w)| n == g && !*w));
        if sync_no_weight || inst.priority == PRIO_OWNER {
            let why = if sync_no_weight {
                "sync group"
            } else {
                "address owner"
            };
            let mut dropped = Vec::new();
            for t in inst.track_interfaces.iter_mut().filter(|t| t.weight != 0) {
                dropped.push(format!(
                    "({name}) ignoring the weight of tracked interface {} because of the {why}",
                    t.name
                ));
                t.weight = 0;
            }
            for t in inst.track_scripts.iter_mut().filter(|t| t.weight != 0) {
                dropped.push(format!(
                    "({name}) ignoring the weight of tracked script {} because of the {why}",
                    t.name
                ));
                t.weight = 0;
            }
            for t in inst.track_files.iter_mut().filter(|t| t.weight != 0) {
                dropped.push(format!(
                    "({name}) ignoring the weight of tracked file {} because of the {why}",
                    t.name
                ));
                t.weight = 0;
            }
            for t in inst.track_processes.iter_mut().filter(|t| t.weight != 0) {
                dropped.push(format!(
                    "({name}) ignoring the weight of tracked process {} because of the {why}",
                    t.name
                ));
                t.weight = 0;
            }
            for t in inst.track_bfds.iter_mut().filter(|t| t.weight != 0) {
                dropped.push(format!(
                    "({name}) ignoring the weight of tracked bfd {} because of the {why}",
                    t.name
                ));
                t.weight = 0;
            }
            for d in dropped {
                err(d);
            }
        }
    }

    for (level, msg) in errors {
        v.diags.report(level, None, msg);
    }
    true
}

/// keepalived: `check_vrid_conflicts()`: the same VRID twice for one family on one
/// interface (multicast), or with the same source and a common peer (unicast).
fn check_vrid_conflicts(v: &mut Validation<'_>) -> bool {
    let group4 = IpAddr::V4(v.cfg.global.vrrp_mcast_group4);
    let group6 = IpAddr::V6(v.cfg.global.vrrp_mcast_group6);
    let instances = &v.cfg.vrrp.instances;
    let mut found = Vec::new();
    for (i, a) in instances.iter().enumerate() {
        for b in instances.iter().skip(i + 1) {
            if a.family != b.family || a.vrid != b.vrid || a.unicast != b.unicast {
                continue;
            }
            if a.unicast {
                if a.interface.is_some() && b.interface.is_some() && a.interface != b.interface {
                    continue;
                }
                // Only configured source addresses are known without a live host.
                let (Some(sa), Some(sb)) = (a.source_ip, b.source_ip) else {
                    continue;
                };
                if !a.source_from_config || !b.source_from_config || sa != sb {
                    continue;
                }
                let common_peer = a
                    .unicast_peers
                    .iter()
                    .any(|p| b.unicast_peers.iter().any(|q| q.addr == p.addr));
                if common_peer {
                    found.push(format!(
                        "({}) duplicate VRID {} conflicts with {}",
                        a.name,
                        a.vrid.unwrap_or(0),
                        b.name
                    ));
                }
                continue;
            }
            if a.interface != b.interface {
                continue;
            }
            let group = if a.family == Some(Family::V6) {
                group6
            } else {
                group4
            };
            if a.mcast_dst_ip.unwrap_or(group) != b.mcast_dst_ip.unwrap_or(group) {
                continue;
            }
            found.push(format!(
                "{} and {} both use VRID {} with IPv{} on interface {}",
                a.name,
                b.name,
                a.vrid.unwrap_or(0),
                if a.family == Some(Family::V6) { 6 } else { 4 },
                a.interface.as_deref().unwrap_or("")
            ));
        }
    }
    let conflict = !found.is_empty();
    for msg in found {
        error(v, msg);
    }
    conflict
}
