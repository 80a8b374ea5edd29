//! Root VRRP keywords other than `vrrp_instance`: static addresses/routes/rules,
//! `track_group`, `vrrp_sync_group`, `garp_group`, `linkbeat_interfaces`,
//! `interface_up_down_delays`, `vrrp_script`, `vrrp_track_process`, `track_file`
//! (keepalived: vrrp_parser.c, trackers/track_file.c).

use super::addr::{parse_address_line, parse_route_line, parse_rule_line};
use super::instance::{TrackRefs, Tracker, notify_slot, track_block, track_interface_line};
use crate::diag::Level;
use crate::model::vrrp::{
    GarpGroup, InterfaceDelays, LinkbeatInterface, LinkbeatType, ParamMatch, StaticTrackGroup,
    SyncGroup, TrackFile, TrackProcess, TrackRef, VrrpScript,
};
use crate::parser::{Ctx, HandlerResult};
use crate::reader::Line;
use crate::script::{parse_script, parse_script_command, use_default_script_user};

const TIMER_HZ: u64 = 1_000_000;

/// `static_ipaddress { }`.
pub fn static_ipaddress(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        if let Some(a) = parse_address_line(ctx, l, true)? {
            ctx.cfg.vrrp.static_addresses.push(a);
        }
        Ok(())
    })
}

/// `static_routes { }`.
pub fn static_routes(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        if let Some(r) = parse_route_line(ctx, l, true)? {
            ctx.cfg.vrrp.static_routes.push(r);
        }
        Ok(())
    })
}

/// `static_rules { }`.
pub fn static_rules(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        if let Some(r) = parse_rule_line(ctx, l, true)? {
            ctx.cfg.vrrp.static_rules.push(r);
        }
        Ok(())
    })
}

/// `track_group NAME`.
pub fn track_group(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "track_group must have a name - skipping",
        );
        ctx.skip_block(true);
        return Ok(());
    }
    let name = ctx.arg(line, 1)?;
    if ctx
        .cfg
        .vrrp
        .static_track_groups
        .iter()
        .any(|g| g.name == name)
    {
        ctx.report(
            Level::GeneralError,
            format!("track_group {name} is already defined"),
        );
        ctx.skip_block(true);
        return Ok(());
    }
    ctx.cfg.vrrp.static_track_groups.push(StaticTrackGroup {
        name: name.to_string(),
        instances: None,
        span: Some(line.span),
    });
    Ok(())
}

/// `track_group` `group { INSTANCE ... }`.
pub fn track_group_group(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(g) = ctx.cfg.vrrp.static_track_groups.last() else {
        return Ok(());
    };
    let name = g.name.clone();
    if g.instances.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("group list already given for track_group {name}"),
        );
        ctx.skip_block(true);
        return Ok(());
    }
    let words = ctx.read_value_block(line)?;
    if words.is_empty() {
        ctx.report(
            Level::GeneralError,
            format!("track_group {name} has an empty group block"),
        );
    }
    if let Some(g) = ctx.cfg.vrrp.static_track_groups.last_mut() {
        g.instances = (!words.is_empty()).then_some(words);
    }
    Ok(())
}

/// `vrrp_sync_group NAME`.
pub fn sync_group(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "vrrp_sync_group must have a name - skipping",
        );
        ctx.skip_block(true);
        return Ok(());
    }
    let name = ctx.arg(line, 1)?;
    if ctx.cfg.vrrp.sync_groups.iter().any(|g| g.name == name) {
        ctx.report(
            Level::GeneralError,
            format!("vrrp_sync_group {name} is already defined"),
        );
        ctx.skip_block(true);
        return Ok(());
    }
    ctx.cfg.vrrp.sync_groups.push(SyncGroup {
        name: name.to_string(),
        span: Some(line.span),
        ..SyncGroup::default()
    });
    Ok(())
}

/// The optional `reverse` after `weight W` in a `vrrp_script`, `vrrp_track_process` or
/// `track_file` definition (`what`); any other word is reported and ignored.
fn weight_reverse(ctx: &mut Ctx<'_>, line: &Line, what: &str, name: &str) -> bool {
    match line.word(2) {
        Some("reverse") => true,
        Some(opt) => {
            ctx.report(
                Level::GeneralError,
                format!("{what} {name}: unknown weight option '{opt}'"),
            );
            false
        }
        None => false,
    }
}

fn group_name(ctx: &Ctx<'_>) -> String {
    ctx.cfg
        .vrrp
        .sync_groups
        .last()
        .map(|g| g.name.clone())
        .unwrap_or_default()
}

/// `vrrp_sync_group` `group { INSTANCE ... }`.
pub fn sync_group_group(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = group_name(ctx);
    if ctx
        .cfg
        .vrrp
        .sync_groups
        .last()
        .is_some_and(|g| g.members.is_some())
    {
        ctx.report(
            Level::GeneralError,
            format!("group list already given for sync group {name}"),
        );
        ctx.skip_block(true);
        return Ok(());
    }
    let span = line.span;
    let words = ctx.read_value_block(line)?;
    if words.is_empty() {
        ctx.report(
            Level::GeneralError,
            format!("sync group {name} has an empty group block"),
        );
    }
    if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
        g.members = (!words.is_empty()).then_some(words);
        g.group_span = Some(span);
    }
    Ok(())
}

/// Sync group `track_interface { }`.
pub fn sync_group_track_interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        let owner = group_name(ctx);
        if let Some(r) = track_interface_line(ctx, l, &owner)?
            && let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut()
        {
            if g.track_interfaces.iter().any(|t| t.name == r.name) {
                let n = r.name.clone();
                ctx.report(
                    Level::GeneralError,
                    format!("({owner}) duplicate track_interface {n} - ignoring"),
                );
            } else {
                g.track_interfaces.push(r);
            }
        }
        Ok(())
    })
}

impl TrackRefs for SyncGroup {
    fn track_refs(&mut self, kind: Tracker) -> &mut Vec<TrackRef> {
        match kind {
            Tracker::Script => &mut self.track_scripts,
            Tracker::File => &mut self.track_files,
            Tracker::Process => &mut self.track_processes,
            Tracker::Bfd => &mut self.track_bfds,
        }
    }
}

fn group<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut SyncGroup> {
    ctx.cfg.vrrp.sync_groups.last_mut()
}

/// Sync group `track_script { }`.
pub fn sync_group_track_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Script, group, group_name)
}

/// Sync group `track_file { }`.
pub fn sync_group_track_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::File, group, group_name)
}

/// Sync group `track_process { }`.
pub fn sync_group_track_process(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Process, group, group_name)
}

/// Sync group `track_bfd { }`.
pub fn sync_group_track_bfd(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Bfd, group, group_name)
}

/// Sync group `notify*` scripts.
pub fn sync_group_notify(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = group_name(ctx);
    let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() else {
        return Ok(());
    };
    if notify_slot(&mut g.notify, keyword).is_some() {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("sync group {name}: {keyword} script already given - ignoring {w}"),
        );
        return Ok(());
    }
    let script = parse_script(ctx, line, 1)?;
    if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
        *notify_slot(&mut g.notify, keyword) = script.map(Box::new);
    }
    Ok(())
}

/// Sync group `smtp_alert [on|off]`.
pub fn sync_group_smtp_alert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let value = match line.word(1) {
        None => Some(true),
        Some(w) => Ctx::parse_bool(w),
    };
    match value {
        Some(v) => {
            if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
                g.smtp_alert = Some(v);
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("invalid vrrp_sync_group smtp_alert value '{w}'"),
            );
        }
    }
    Ok(())
}

/// `global_tracking` (deprecated).
pub fn sync_group_global_tracking(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    let name = group_name(ctx);
    ctx.report(
        Level::GeneralError,
        format!("({name}) global_tracking is deprecated - use track_interface/script/file on the sync group"),
    );
    if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
        g.tracking_weight = true;
    }
    Ok(())
}

/// `sync_group_tracking_weight`.
pub fn sync_group_tracking_weight(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
        g.tracking_weight = true;
    }
    Ok(())
}

/// Sync group `notify_priority_changes [on|off]`.
pub fn sync_group_notify_priority_changes(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = group_name(ctx);
    let value = match line.word(1) {
        None => Some(true),
        Some(w) => Ctx::parse_bool(w),
    };
    match value {
        Some(v) => {
            if let Some(g) = ctx.cfg.vrrp.sync_groups.last_mut() {
                g.notify_priority_changes = Some(v);
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("({name}) invalid notify_priority_changes value '{w}'"),
            );
        }
    }
    Ok(())
}

/// `garp_group`.
pub fn garp_group(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.cfg.vrrp.garp_groups.push(GarpGroup {
        span: Some(line.span),
        ..GarpGroup::default()
    });
    Ok(())
}

/// `garp_interval SECS` / `gna_interval SECS` in a garp_group.
pub fn garp_interval(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let max = i32::MAX.unsigned_abs();
    let Some(v) = ctx.read_decimal(line, 1, 0, u64::from(max), 6)? else {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("garp_group {keyword} '{w}' is invalid"),
        );
        return Ok(());
    };
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
        if keyword == "garp_interval" {
            g.garp_interval_us = Some(v);
        } else {
            g.gna_interval_us = Some(v);
        }
    }
    if v >= TIMER_HZ {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::Note,
            format!("the {keyword} is very large - {w} seconds"),
        );
    }
    Ok(())
}

/// `interface IF` in a garp_group: existence is checked by validation.
pub fn garp_interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?.to_string();
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
        g.interfaces.push((word, Some(line.span)));
    }
    Ok(())
}

/// `interfaces { IF ... }` in a garp_group. keepalived reads the whole block first, so
/// its complaints about these interfaces are reported at the block's last line.
pub fn garp_interfaces(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let words = ctx.read_value_block(line)?;
    if words.is_empty() {
        ctx.report(Level::GeneralError, "empty garp_group interfaces block");
        return Ok(());
    }
    let span = ctx.current_span();
    if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
        g.interfaces.extend(words.into_iter().map(|w| (w, span)));
    }
    Ok(())
}

/// keepalived: `garp_group_end_handler()`: a group without any interval is removed.
pub fn garp_group_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(g) = ctx.cfg.vrrp.garp_groups.last() else {
        return Ok(());
    };
    if g.garp_interval_us.is_none() && g.gna_interval_us.is_none() {
        ctx.report(
            Level::GeneralError,
            "garp_group has no garp_interval or gna_interval - removing it",
        );
        // Validation still looks its interfaces up (keepalived did, while parsing),
        // then drops it.
        if let Some(g) = ctx.cfg.vrrp.garp_groups.last_mut() {
            g.discarded = true;
        }
    }
    Ok(())
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`: existence is checked by validation.
pub fn linkbeat_interfaces(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        let name = ctx.arg(l, 0)?.to_string();
        let mut kind = LinkbeatType::Default;
        if let Some(w) = l.word(1) {
            kind = match w {
                "MII" => LinkbeatType::Mii,
                "ETHTOOL" => LinkbeatType::Ethtool,
                "IOCTL" => LinkbeatType::Ioctl,
                _ => LinkbeatType::Default,
            };
            if kind == LinkbeatType::Default || l.len() > 2 {
                ctx.report(
                    Level::GeneralError,
                    format!("extra characters '{w}' in linkbeat interface"),
                );
            }
        }
        ctx.cfg.vrrp.linkbeat_interfaces.push(LinkbeatInterface {
            interface: name,
            kind,
            span: Some(l.span),
        });
        Ok(())
    })
}

/// `interface_up_down_delays { IF DOWN [UP] }`: existence is checked by validation.
/// keepalived looks the interface up before anything else on the line, so every entry
/// is kept (with its line) for that check, even one whose delays are missing or invalid
/// (its delays then stay 0, keepalived's default).
pub fn interface_up_down_delays(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        let name = ctx.arg(l, 0)?.to_string();
        if ctx.interface_known(&name) == Some(false) {
            ctx.report(
                Level::Fatal,
                format!("unknown interface {name} given for up/down delays"),
            );
            return Ok(());
        }
        ctx.cfg.vrrp.up_down_delays.push(InterfaceDelays {
            interface: name.clone(),
            down_us: 0,
            up_us: 0,
            span: Some(l.span),
        });
        if l.len() < 2 {
            ctx.report(Level::Note, format!("no up/down delays given for {name}"));
            return Ok(());
        }
        if l.len() > 3 {
            ctx.report(
                Level::Note,
                format!("too many parameters for {name} up/down delays"),
            );
        }
        let Some(down) = ctx.read_timer(l, 1, 0, 255 * TIMER_HZ)? else {
            return Ok(());
        };
        let up = if l.len() > 2 {
            let Some(up) = ctx.read_timer(l, 2, 0, 255 * TIMER_HZ)? else {
                return Ok(());
            };
            up
        } else {
            0
        };
        if let Some(entry) = ctx.cfg.vrrp.up_down_delays.last_mut() {
            entry.down_us = down;
            entry.up_us = up;
        }
        Ok(())
    })
}

/// `vrrp_script NAME`.
pub fn vrrp_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg
        .vrrp
        .scripts
        .push(VrrpScript::new(name, Some(line.span)));
    ctx.state.vrrp.remove_script = false;
    Ok(())
}

fn script_name(ctx: &Ctx<'_>) -> String {
    ctx.cfg
        .vrrp
        .scripts
        .last()
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

/// `script CMD ...` in a vrrp_script.
pub fn script_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let cmd = parse_script_command(ctx, line, 1)?;
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        s.script = cmd;
    }
    Ok(())
}

/// `interval SECS` in a vrrp_script.
pub fn script_interval(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    script_seconds(ctx, line, true)
}

/// `timeout SECS` in a vrrp_script.
pub fn script_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    script_seconds(ctx, line, false)
}

fn script_seconds(ctx: &mut Ctx<'_>, line: &Line, interval: bool) -> HandlerResult {
    let name = script_name(ctx);
    let what = if interval { "interval" } else { "timeout" };
    let max = u32::MAX / 1_000_000;
    let Some(mut v) = ctx.read_unsigned(line, 1, 0, max)? else {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("({name}) vrrp_script {what} '{w}' is invalid - ignoring"),
        );
        return Ok(());
    };
    if v == 0 {
        ctx.report(
            Level::GeneralError,
            format!("({name}) vrrp_script {what} must be greater than 0 - using 1"),
        );
        v = 1;
    }
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        if interval {
            s.interval = v;
        } else {
            s.timeout = v;
        }
    }
    Ok(())
}

/// `weight W [reverse]` in a vrrp_script.
pub fn script_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = script_name(ctx);
    let w = ctx.read_int(line, 1, -253, 253)?;
    if w.is_none() {
        let given = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("vrrp_script {name} weight '{given}' must be in [-253, 253]"),
        );
    }
    let reverse = weight_reverse(ctx, line, "vrrp_script", &name);
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        // keepalived stores whatever strtol produced even when out of range; we keep
        // the previous value instead of an unchecked one.
        if let Some(w) = w {
            s.weight = w;
        }
        s.reverse |= reverse;
    }
    Ok(())
}

/// `rise N` / `fall N` in a vrrp_script (invalid means 1).
pub fn script_rise_fall(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = script_name(ctx);
    let v = match ctx.read_unsigned(line, 1, 1, i32::MAX.unsigned_abs())? {
        Some(v) => v,
        None => {
            ctx.report(
                Level::GeneralError,
                format!("({name}) vrrp_script {keyword} value is invalid - using 1"),
            );
            1
        }
    };
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        if keyword == "rise" {
            s.rise = v;
        } else {
            s.fall = v;
        }
    }
    Ok(())
}

/// `user USER [GROUP]` in a vrrp_script: the user is resolved by validation.
pub fn script_user(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let user = ctx.arg(line, 1)?.to_string();
    let group = line.word(2).map(str::to_string);
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        s.user = Some((user, group, line.span));
    }
    ctx.state.vrrp.remove_script = false;
    Ok(())
}

/// `init_fail` in a vrrp_script.
pub fn script_init_fail(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        s.init_fail = true;
    }
    Ok(())
}

/// keepalived: `vrrp_vscript_end_handler()`: a script without a command is removed.
pub fn vrrp_script_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(s) = ctx.cfg.vrrp.scripts.last() else {
        return Ok(());
    };
    let name = s.name.clone();
    let has_script = s.script.as_ref().is_some_and(|c| !c.args.is_empty());
    if !has_script {
        ctx.report(
            Level::GeneralError,
            format!("no script given for vrrp_script {name} - removing it"),
        );
        ctx.state.vrrp.remove_script = true;
    }
    if ctx.state.vrrp.remove_script {
        // keepalived drops it here (later track_script lines do not find it), but
        // its `user` was already looked up: validation does that, then drops it.
        if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
            s.discarded = true;
        }
        return Ok(());
    }
    // The user is resolved by validation; here we record which user keepalived takes
    // (the `user` keyword's, or the default script user at this closing line).
    let Some(mut script) = ctx
        .cfg
        .vrrp
        .scripts
        .last_mut()
        .and_then(|s| s.script.take())
    else {
        return Ok(());
    };
    let user = ctx.cfg.vrrp.scripts.last().and_then(|s| s.user.clone());
    match user {
        Some((user, group, span)) => {
            script.user = Some(user);
            script.group = group;
            script.user_span = span;
        }
        None => use_default_script_user(ctx, &mut script),
    }
    if let Some(s) = ctx.cfg.vrrp.scripts.last_mut() {
        s.script = Some(script);
    }
    Ok(())
}

/// `vrrp_track_process NAME`.
pub fn track_process(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    ctx.cfg.vrrp.track_processes.push(TrackProcess {
        name: name.to_string(),
        process: None,
        params: Vec::new(),
        param_match: ParamMatch::None,
        weight: 0,
        reverse: false,
        quorum: 1,
        quorum_max: u32::MAX,
        terminate_delay_us: 0,
        fork_delay_us: 0,
        full_command: false,
        span: Some(line.span),
    });
    Ok(())
}

fn process_name(ctx: &Ctx<'_>) -> String {
    ctx.cfg
        .vrrp
        .track_processes
        .last()
        .map(|p| p.name.clone())
        .unwrap_or_default()
}

/// `process PATH [PARAMS...]`.
pub fn process_process(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = process_name(ctx);
    let path = ctx.arg(line, 1)?.to_string();
    let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() else {
        return Ok(());
    };
    if p.process.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("process already given for track process {name} - ignoring {path}"),
        );
        return Ok(());
    }
    p.process = Some(path);
    if line.len() > 2 {
        p.params = line.words().skip(2).map(str::to_string).collect();
        if p.param_match == ParamMatch::None {
            p.param_match = ParamMatch::Exact;
        }
        p.full_command = true;
    }
    Ok(())
}

/// `param_match [initial|partial]`.
pub fn process_param_match(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let m = match line.word(1) {
        None => ParamMatch::Exact,
        Some("initial") => ParamMatch::Initial,
        Some("partial") => ParamMatch::Partial,
        Some(other) => {
            ctx.report(
                Level::GeneralError,
                format!("invalid param_match type '{other}' - ignoring"),
            );
            return Ok(());
        }
    };
    if let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() {
        p.param_match = m;
        p.full_command = true;
    }
    Ok(())
}

/// `weight W [reverse]` in a vrrp_track_process.
pub fn process_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = process_name(ctx);
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("no weight given for track process {name} - ignoring"),
        );
        return Ok(());
    }
    if ctx
        .cfg
        .vrrp
        .track_processes
        .last()
        .is_some_and(|p| p.weight != 0)
    {
        ctx.report(
            Level::GeneralError,
            format!("weight already given for track process {name} - ignoring"),
        );
        return Ok(());
    }
    let Some(w) = ctx.read_int(line, 1, -254, 254)? else {
        ctx.report(
            Level::GeneralError,
            format!("weight for vrrp_track_process {name} must be in [-254, 254] - ignoring"),
        );
        return Ok(());
    };
    let reverse = weight_reverse(ctx, line, "vrrp_track_process", &name);
    if let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() {
        p.weight = w;
        p.reverse |= reverse;
    }
    Ok(())
}

/// `quorum N`.
pub fn process_quorum(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = process_name(ctx);
    let Some(q) = ctx.read_unsigned(line, 1, 1, 65535)? else {
        ctx.report(
            Level::GeneralError,
            format!("quorum for vrrp_track_process {name} must be in [1, 65535] - ignoring"),
        );
        return Ok(());
    };
    let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() else {
        return Ok(());
    };
    if q > p.quorum_max {
        ctx.report(
            Level::GeneralError,
            "quorum is greater than quorum_max - ignoring",
        );
        return Ok(());
    }
    p.quorum = q;
    Ok(())
}

/// `quorum_max N`.
pub fn process_quorum_max(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = process_name(ctx);
    let Some(q) = ctx.read_unsigned(line, 1, 0, 65535)? else {
        ctx.report(
            Level::GeneralError,
            format!("quorum_max for vrrp_track_process {name} must be in [0, 65535] - ignoring"),
        );
        return Ok(());
    };
    let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() else {
        return Ok(());
    };
    if (q != 0 || p.quorum > 1) && q < p.quorum {
        ctx.report(
            Level::GeneralError,
            "quorum_max is less than quorum - ignoring",
        );
        return Ok(());
    }
    p.quorum_max = q;
    if q == 0 {
        p.quorum = 0;
    } else if p.quorum == 0 {
        p.quorum = 1;
    }
    Ok(())
}

/// `delay` / `terminate_delay` / `fork_delay SECS`.
pub fn process_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = process_name(ctx);
    let Some(d) = ctx.read_timer(line, 1, 1, 3600 * TIMER_HZ)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "{keyword} for vrrp_track_process {name} must be in [0.000001, 3600] - ignoring"
            ),
        );
        return Ok(());
    };
    if let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() {
        if keyword != "fork_delay" {
            p.terminate_delay_us = d;
        }
        if keyword != "terminate_delay" {
            p.fork_delay_us = d;
        }
    }
    Ok(())
}

/// `full_command`.
pub fn process_full_command(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(p) = ctx.cfg.vrrp.track_processes.last_mut() {
        p.full_command = true;
    }
    Ok(())
}

/// keepalived: `vrrp_tprocess_end_handler()`: a tracker without a process is removed.
pub fn track_process_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(p) = ctx.cfg.vrrp.track_processes.last() else {
        return Ok(());
    };
    if p.process.is_none() {
        let name = p.name.clone();
        ctx.report(
            Level::GeneralError,
            format!("track process '{name}' has no process name - removing it"),
        );
        ctx.cfg.vrrp.track_processes.pop();
    }
    Ok(())
}

/// `track_file NAME` / `vrrp_track_file NAME`.
pub fn track_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = ctx.arg(line, 1)?;
    if keyword == "vrrp_track_file" {
        ctx.report(
            Level::Note,
            "vrrp_track_file is deprecated - use track_file",
        );
    }
    ctx.cfg.vrrp.track_files.push(TrackFile {
        name: name.to_string(),
        path: None,
        weight: 1,
        reverse: false,
        init: None,
        span: Some(line.span),
    });
    ctx.state.vrrp.in_track_file = true;
    Ok(())
}

fn track_file_name(ctx: &Ctx<'_>) -> String {
    ctx.cfg
        .vrrp
        .track_files
        .last()
        .map(|f| f.name.clone())
        .unwrap_or_default()
}

/// `file PATH` in a track_file.
pub fn track_file_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(path) = line.word(1) else {
        ctx.report(Level::GeneralError, "track_file file name missing");
        return Ok(());
    };
    if !ctx.state.vrrp.in_track_file {
        return Ok(());
    }
    let name = track_file_name(ctx);
    let Some(f) = ctx.cfg.vrrp.track_files.last_mut() else {
        return Ok(());
    };
    if f.path.is_some() {
        ctx.report(
            Level::GeneralError,
            format!("file already given for track_file {name} - ignoring {path}"),
        );
        return Ok(());
    }
    f.path = Some(path.to_string());
    Ok(())
}

/// `weight W [reverse]` in a track_file.
pub fn track_file_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = track_file_name(ctx);
    if line.len() < 2 {
        ctx.report(
            Level::GeneralError,
            format!("no weight given for track_file {name} - ignoring"),
        );
        return Ok(());
    }
    if !ctx.state.vrrp.in_track_file {
        return Ok(());
    }
    if ctx
        .cfg
        .vrrp
        .track_files
        .last()
        .is_some_and(|f| f.weight != 1)
    {
        ctx.report(
            Level::GeneralError,
            format!("weight already given for track_file {name} - ignoring"),
        );
        return Ok(());
    }
    let w = match ctx.read_int(line, 1, -254, 254)? {
        Some(w) => w,
        None => {
            ctx.report(
                Level::GeneralError,
                format!("weight for track_file {name} must be in [-254, 254] - ignoring"),
            );
            1
        }
    };
    let reverse = weight_reverse(ctx, line, "track_file", &name);
    if let Some(f) = ctx.cfg.vrrp.track_files.last_mut() {
        f.weight = w;
        f.reverse |= reverse;
    }
    Ok(())
}

/// `init_file [VALUE] [overwrite]` in a track_file.
pub fn track_file_init(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if !ctx.state.vrrp.in_track_file {
        return Ok(());
    }
    let name = track_file_name(ctx);
    let mut value = 0;
    let mut overwrite = false;
    for index in 1..line.len() {
        let word = line.word(index).unwrap_or("");
        let trimmed = word.trim_start_matches([' ', '\t']);
        if trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            match ctx.read_int(line, index, i32::MIN, i32::MAX)? {
                None => {
                    ctx.report(
                        Level::GeneralError,
                        format!("track_file {name} init value '{trimmed}' is invalid"),
                    );
                    value = 0;
                }
                Some(v) => {
                    if !(-254..=254).contains(&v) {
                        ctx.report(
                            Level::GeneralError,
                            format!("track_file {name} init value {v} is outside [-254, 254]"),
                        );
                    }
                    value = v;
                }
            }
        } else if trimmed == "overwrite" {
            overwrite = true;
        } else {
            ctx.report(
                Level::GeneralError,
                format!("unknown track_file init option '{trimmed}'"),
            );
        }
    }
    if let Some(f) = ctx.cfg.vrrp.track_files.last_mut() {
        f.init = Some((value, overwrite));
    }
    Ok(())
}

/// keepalived: `track_file_end_handler()`: a track_file without a file is dropped.
pub fn track_file_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    if !ctx.state.vrrp.in_track_file {
        return Ok(());
    }
    let Some(f) = ctx.cfg.vrrp.track_files.last() else {
        return Ok(());
    };
    if f.path.is_none() {
        let name = f.name.clone();
        ctx.report(
            Level::GeneralError,
            format!("no file given for track_file {name} - ignoring it"),
        );
        ctx.cfg.vrrp.track_files.pop();
        // keepalived keeps cur_track_file set, so later file/weight lines in another
        // block without a name would still apply; nothing observable for us.
    }
    ctx.state.vrrp.in_track_file = false;
    Ok(())
}
