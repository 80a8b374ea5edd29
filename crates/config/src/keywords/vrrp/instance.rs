//! `vrrp_instance NAME { ... }` handlers (keepalived: vrrp_parser.c, vrrp_data.c
//! `alloc_vrrp*()`, vrrp_track.c `alloc_track_*()`).

use std::net::IpAddr;

use super::addr::{
    IFNAMSIZ, parse_address_line, parse_ipaddress, parse_route_line, parse_rule_line,
};
use crate::diag::Level;
use crate::keywords::check::addr::parse_ip;
use crate::model::Config;
use crate::model::vrrp::{
    AuthType, ChecksumCompat, Family, InitialState, Ipvlan, Notify, Script, TrackRef, UnicastPeer,
    VrrpInstance,
};
use crate::parser::{Ctx, HandlerResult};
use crate::reader::Line;
use crate::script::parse_script;

/// keepalived's TIMER_HZ: timers are in microseconds.
const TIMER_HZ: u64 = 1_000_000;
/// keepalived's TIMER_MAX_SEC.
const TIMER_MAX_SEC: u64 = 1000;

fn current<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut VrrpInstance> {
    ctx.cfg.vrrp.instances.last_mut()
}

fn current_name(ctx: &Ctx<'_>) -> String {
    ctx.cfg
        .vrrp
        .instances
        .last()
        .map(|i| i.name.clone())
        .unwrap_or_default()
}

/// `vrrp_instance NAME`.
pub fn vrrp_instance(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(Level::GeneralError, "vrrp_instance must have (only) a name");
        ctx.skip_block(true);
        return Ok(());
    }
    let name = ctx.arg(line, 1)?;
    if ctx.cfg.vrrp.instances.iter().any(|i| i.name == name) {
        ctx.report(
            Level::GeneralError,
            format!("vrrp_instance {name} is already defined"),
        );
        ctx.skip_block(true);
        return Ok(());
    }
    let skip_check_adv_addr = ctx.cfg.global.vrrp_skip_check_adv_addr.then_some(true);
    ctx.cfg.vrrp.instances.push(VrrpInstance {
        name: name.to_string(),
        span: Some(line.span),
        skip_check_adv_addr,
        ..VrrpInstance::default()
    });
    Ok(())
}

/// keepalived: `vrrp_end_handler()`, run when the instance's block closes.
pub fn vrrp_instance_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    let span = ctx.current_span();
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    inst.end_span = span;
    // The VMAC/unicast checks need to know whether the interface exists; validation
    // does them and reports at `end_span`.
    if inst.unicast_peers.is_empty() && inst.unicast_ttl.is_some() {
        let name = inst.name.clone();
        inst.unicast_ttl = None;
        ctx.report(
            Level::GeneralError,
            format!("({name}) unicast_ttl needs unicast peers - resetting"),
        );
    }
    Ok(())
}

/// Keywords that only set a flag.
pub fn flag(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 0)?;
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    match word {
        "use_vmac_addr" => inst.vmac_addr = true,
        "vmac_xmit_base" => inst.vmac_xmit_base = true,
        "unicast_fault_no_peer" => {
            inst.unicast_configured = true;
            inst.unicast_fault_no_peer = true;
        }
        "check_unicast_src" => {
            inst.unicast_configured = true;
            inst.check_unicast_src = true;
        }
        "dont_track_primary" => inst.dont_track_primary = true,
        "track_src_ip" => inst.track_src_ip = true,
        "promote_secondaries" => inst.promote_secondaries = true,
        "accept" => inst.accept = Some(true),
        "no_accept" => inst.accept = Some(false),
        "preempt" => inst.nopreempt = false,
        "nopreempt" => inst.nopreempt = true,
        "linkbeat_use_polling" => {
            inst.linkbeat_use_polling = true;
            let name = inst.name.clone();
            ctx.report(
                Level::GeneralError,
                format!("({name}) linkbeat_use_polling in a vrrp_instance is deprecated - use a linkbeat_interfaces block"),
            );
        }
        _ => {}
    }
    Ok(())
}

/// Keywords taking an optional on/off (default on).
pub fn optional_bool(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 0)?;
    let value = match line.word(1) {
        None => Some(true),
        Some(w) => Ctx::parse_bool(w),
    };
    let name = current_name(ctx);
    let Some(value) = value else {
        let given = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("({name}) invalid {word} value '{given}'"),
        );
        return Ok(());
    };
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    match word {
        // keepalived sets the flag whatever valid boolean is given.
        "skip_check_adv_addr" => inst.skip_check_adv_addr = Some(true),
        "strict_mode" => inst.strict_mode = Some(value),
        "notify_priority_changes" => inst.notify_priority_changes = Some(value),
        "lower_prio_no_advert" => inst.lower_prio_no_advert = Some(value),
        "higher_prio_send_advert" => inst.higher_prio_send_advert = Some(value),
        _ => {}
    }
    Ok(())
}

/// keepalived's `dev_name_valid()` (net/core/dev.c).
fn dev_name_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_ascii_whitespace())
}

/// Parses a VMAC MAC address: 6 octets, or 5 (the last is then the VRID).
fn parse_vmac_mac(text: &str) -> Option<([u8; 6], bool)> {
    let parts: Vec<&str> = text.split(':').collect();
    let parts: Vec<&str> = match parts.as_slice() {
        [head @ .., last] if last.is_empty() && head.len() == 5 => head.to_vec(),
        _ => parts,
    };
    if parts.len() != 5 && parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (slot, part) in mac.iter_mut().zip(parts.iter()) {
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *slot = u8::from_str_radix(part, 16).ok()?;
    }
    Some((mac, parts.len() == 5))
}

/// `use_vmac [NAME] [MAC]`.
pub fn use_vmac(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let others: Vec<(String, Option<String>)> = ctx
        .cfg
        .vrrp
        .instances
        .iter()
        .map(|i| (i.name.clone(), vmac_name(i)))
        .collect();
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let mut vmac = inst.vmac.take().unwrap_or_default();
    let mut problems = Vec::new();
    for word in line.words().skip(1).take(2) {
        if word.contains(':') {
            if vmac.mac.is_some() {
                problems.push("VMAC address already given".to_string());
                continue;
            }
            if !word.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                problems.push(format!("invalid VMAC address {word}"));
                continue;
            }
            match parse_vmac_mac(word) {
                None => problems.push(format!("invalid VMAC address {word} - ignored")),
                Some((mac, _)) if mac[0] & 1 != 0 => {
                    problems.push(format!("VMAC address {word} is multicast - ignoring"))
                }
                Some((mac, _))
                    if mac[..4] == [0x00, 0x00, 0x5e, 0x00] && matches!(mac[4], 1 | 2) =>
                {
                    problems.push(format!(
                        "VMAC address {word} is an RFC 5798 virtual router address - ignoring"
                    ))
                }
                Some((mac, uses_vrid)) => {
                    vmac.mac = Some(mac);
                    vmac.mac_uses_vrid = uses_vrid;
                }
            }
        } else {
            if vmac.ifname.is_some() {
                problems.push("VMAC interface name already given".to_string());
                continue;
            }
            if !dev_name_valid(word) {
                problems.push(format!(
                    "VMAC interface name '{word}' is too long or has invalid characters - ignoring"
                ));
                continue;
            }
            if let Some((other, _)) = others
                .iter()
                .find(|(n, v)| *n != name && v.as_deref() == Some(word))
            {
                problems.push(format!(
                    "({name}) vrrp_instance {other} already uses {word} - ignoring the name"
                ));
                continue;
            }
            vmac.ifname = Some(word.to_string());
            vmac.ifname_span = Some(line.span);
        }
    }
    inst.vmac = Some(vmac);
    for p in problems {
        ctx.report(Level::GeneralError, p);
    }
    Ok(())
}

fn vmac_name(i: &VrrpInstance) -> Option<String> {
    i.vmac
        .as_ref()
        .and_then(|v| v.ifname.clone())
        .or_else(|| i.ipvlan.as_ref().and_then(|v| v.ifname.clone()))
}

/// `use_ipvlan [NAME] [ADDR[/LEN]] [bridge|private|vepa]`.
pub fn use_ipvlan(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    if current(ctx).is_some_and(|i| i.ipvlan.is_some()) {
        ctx.report(
            Level::GeneralError,
            format!("({name}) use_ipvlan already given"),
        );
        return Ok(());
    }
    let others: Vec<(String, Option<String>)> = ctx
        .cfg
        .vrrp
        .instances
        .iter()
        .map(|i| (i.name.clone(), vmac_name(i)))
        .collect();
    let mut ipvlan = Ipvlan::default();
    for word in line.words().skip(1) {
        if matches!(word, "bridge" | "private" | "vepa") {
            if ipvlan.mode.is_some() {
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) ipvlan type already given - ignoring '{word}'"),
                );
            } else {
                ipvlan.mode = Some(word.to_string());
            }
            continue;
        }
        if looks_like_address(word) {
            let Some((addr, plen)) = parse_ipaddress(ctx, word, true) else {
                continue;
            };
            if ipvlan.addr.is_some() {
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) ipvlan address already given - ignoring '{word}'"),
                );
                continue;
            }
            let fam = Family::of(&addr);
            let Some(inst) = current(ctx) else {
                return Ok(());
            };
            match inst.family {
                None => inst.family = Some(fam),
                Some(f) if f != fam => {
                    ctx.report(
                        Level::GeneralError,
                        format!("({name}) ipvlan address {word} must match the instance's family - skipping"),
                    );
                    continue;
                }
                Some(_) => {}
            }
            if inst.source_ip.is_none() {
                inst.source_ip = Some(addr);
                inst.source_from_config = true;
            }
            ipvlan.addr = Some((addr, plen));
            continue;
        }
        if ipvlan.ifname.is_some() {
            ctx.report(
                Level::GeneralError,
                format!("({name}) ipvlan interface already given - ignoring '{word}'"),
            );
            continue;
        }
        if word.len() >= IFNAMSIZ {
            ctx.report(
                Level::GeneralError,
                format!("({name}) ipvlan interface name '{word}' is too long - ignoring"),
            );
            continue;
        }
        if let Some((other, _)) = others
            .iter()
            .find(|(n, v)| *n != name && v.as_deref() == Some(word))
        {
            ctx.report(
                Level::GeneralError,
                format!("({name}) vrrp_instance {other} already uses {word} - ignoring the name"),
            );
            continue;
        }
        ipvlan.ifname = Some(word.to_string());
        ipvlan.ifname_span = Some(line.span);
    }
    if let Some(inst) = current(ctx) {
        inst.ipvlan = Some(ipvlan);
    }
    Ok(())
}

/// keepalived's `check_valid_ipaddress()`: does the word parse as an address (with an
/// optional prefix)?
fn looks_like_address(word: &str) -> bool {
    let addr = word.split('/').next().unwrap_or(word);
    addr.parse::<IpAddr>().is_ok()
}

/// `unicast_peer { ADDR [min_ttl N] [max_ttl N] ... }`.
pub fn unicast_peer(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(inst) = current(ctx) {
        inst.unicast_configured = true;
    }
    ctx.value_block(line, |ctx, l| {
        let name = current_name(ctx);
        let first = ctx.arg(l, 0)?;
        let Some(addr) = parse_ip(first) else {
            ctx.report(
                Level::GeneralError,
                format!("({name}) malformed unicast peer address '{first}' - skipping"),
            );
            return Ok(());
        };
        let fam = Family::of(&addr);
        match current(ctx).map(|i| i.family) {
            Some(None) => {
                if let Some(inst) = current(ctx) {
                    inst.family = Some(fam);
                }
            }
            Some(Some(f)) if f != fam => {
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) unicast peer {first} is not the instance's address family - skipping"),
                );
                return Ok(());
            }
            _ => {}
        }
        let mut peer = UnicastPeer {
            addr,
            min_ttl: 0,
            max_ttl: 255,
            span: Some(l.span),
        };
        let mut check_src = false;
        let mut i = 1;
        while let Some(opt) = l.word(i) {
            let Some(value) = l.word(i + 1) else {
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) {opt} is missing a value"),
                );
                break;
            };
            let span = l.span_of(i + 1);
            if let Some(ttl) = ctx.parse_unsigned(value, span, 10, 0, 255, u64::from(u32::MAX)) {
                let ttl = u8::try_from(ttl).unwrap_or(u8::MAX);
                match opt {
                    "min_ttl" => peer.min_ttl = ttl,
                    "max_ttl" => peer.max_ttl = ttl,
                    _ => {
                        ctx.report(
                            Level::GeneralError,
                            format!("({name}) unknown unicast_peer option {opt}"),
                        );
                        break;
                    }
                }
                check_src = true;
            }
            i += 2;
        }
        if peer.min_ttl > peer.max_ttl {
            ctx.report(
                Level::GeneralError,
                format!(
                    "({name}) min_ttl {} > max_ttl {} - every packet will be discarded",
                    peer.min_ttl, peer.max_ttl
                ),
            );
        }
        if let Some(inst) = current(ctx) {
            if check_src {
                inst.check_unicast_src = true;
            }
            inst.unicast_peers.push(peer);
        }
        Ok(())
    })
}

/// `old_unicast_checksum [never]`.
pub fn old_unicast_checksum(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let mode = match line.word(1) {
        None => Some(ChecksumCompat::Config),
        Some("never") => Some(ChecksumCompat::Never),
        Some(other) => {
            ctx.report(
                Level::GeneralError,
                format!("({name}) unknown old_unicast_checksum mode '{other}' - ignoring"),
            );
            None
        }
    };
    if let Some(inst) = current(ctx) {
        inst.unicast_configured = true;
        if mode.is_some() {
            inst.old_unicast_checksum = mode;
        }
    }
    Ok(())
}

/// `native_ipv6`.
pub fn native_ipv6(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    if inst.family == Some(Family::V4) {
        ctx.report(
            Level::GeneralError,
            format!("({name}) native_ipv6 cannot be used with IPv4 addresses"),
        );
        return Ok(());
    }
    inst.family = Some(Family::V6);
    inst.version = Some(3);
    Ok(())
}

/// `state MASTER|BACKUP`.
pub fn state(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let name = current_name(ctx);
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    match word {
        "MASTER" => inst.initial_state = Some(InitialState::Master),
        "BACKUP" => {
            if inst.initial_state == Some(InitialState::Master) {
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) state was already set to MASTER - ignoring BACKUP"),
                );
            } else {
                inst.initial_state = Some(InitialState::Backup);
            }
        }
        other => {
            inst.initial_state = Some(InitialState::Backup);
            ctx.report(
                Level::GeneralError,
                format!("({name}) unknown state '{other}' - using BACKUP"),
            );
        }
    }
    Ok(())
}

/// `interface NAME`: existence is checked by validation (reported at this line).
pub fn interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    if word.len() >= IFNAMSIZ {
        ctx.report(
            Level::GeneralError,
            format!("interface name '{word}' is too long - ignoring"),
        );
        return Ok(());
    }
    if let Some(inst) = current(ctx) {
        inst.interface = Some(word.to_string());
        inst.interface_span = Some(line.span);
        inst.interface_lines
            .push((word.to_string(), Some(line.span)));
    }
    Ok(())
}

/// `vrf NAME`.
pub fn vrf(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let name = current_name(ctx);
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let problem = if word.len() >= IFNAMSIZ {
        Some(format!("({name}) VRF name '{word}' is too long - ignoring"))
    } else if inst.interface.is_some() {
        Some(format!(
            "({name}) a VRF and an interface cannot both be given - ignoring the VRF"
        ))
    } else if let Some(v) = &inst.vrf {
        Some(format!("({name}) VRF already given as '{v}' - ignoring"))
    } else {
        inst.vrf = Some(word.to_string());
        inst.vrf_span = Some(line.span);
        None
    };
    if let Some(p) = problem {
        ctx.report(Level::GeneralError, p);
    }
    Ok(())
}

/// What a `track_*` line gives: the name, a weight (if any) and reverse.
pub(super) struct TrackLine {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: Option<bool>,
    pub ok: bool,
}

/// keepalived's common `NAME [weight W [reverse|noreverse]]` parsing in
/// `alloc_track_*()`; `what` names the tracker in messages, `range` is the accepted
/// weight range, `noreverse` whether `noreverse` is accepted.
pub(super) fn parse_track_line(
    ctx: &mut Ctx<'_>,
    l: &Line,
    owner: &str,
    what: &str,
    range: i32,
    noreverse: bool,
) -> Result<TrackLine, crate::parser::Abort> {
    let name = ctx.arg(l, 0)?.to_string();
    let mut out = TrackLine {
        name: name.clone(),
        weight: None,
        reverse: None,
        ok: true,
    };
    let Some(opt) = l.word(1) else {
        return Ok(out);
    };
    if opt != "weight" {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) unknown {what} option '{opt}' - ignoring"),
        );
        out.ok = false;
        return Ok(out);
    }
    if l.word(2).is_none() {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) weight without a value for {what} {name} - ignoring"),
        );
        out.ok = false;
        return Ok(out);
    }
    out.weight = ctx.read_int(l, 2, -range, range)?;
    if out.weight.is_none() {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) {what} {name}: weight must be in [-{range}, {range}] - ignoring"),
        );
    }
    if let Some(r) = l.word(3) {
        match r {
            "reverse" => out.reverse = Some(true),
            "noreverse" if noreverse => out.reverse = Some(false),
            other => {
                ctx.report(
                    Level::GeneralError,
                    format!("({owner}) unknown {what} {name} weight option '{other}' - ignoring"),
                );
            }
        }
    }
    Ok(out)
}

/// keepalived: weights of +/-254 for interfaces and scripts become +/-253.
pub(super) fn clamp_254(ctx: &mut Ctx<'_>, owner: &str, name: &str, weight: i32) -> i32 {
    if weight.abs() == 254 {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) weight for {name} cannot be +/-254 - using +/-253"),
        );
        weight.signum() * 253
    } else {
        weight
    }
}

/// `track_interface { IF [weight W [reverse]] }`: existence is checked by validation.
pub fn track_interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        let owner = current_name(ctx);
        if let Some(r) = track_interface_line(ctx, l, &owner)?
            && let Some(inst) = current(ctx)
        {
            if inst.track_interfaces.iter().any(|t| t.name == r.name) {
                let n = r.name.clone();
                ctx.report(
                    Level::GeneralError,
                    format!("({owner}) duplicate track_interface {n} - ignoring"),
                );
            } else {
                inst.track_interfaces.push(r);
            }
        }
        Ok(())
    })
}

pub(super) fn track_interface_line(
    ctx: &mut Ctx<'_>,
    l: &Line,
    owner: &str,
) -> Result<Option<TrackRef>, crate::parser::Abort> {
    let t = parse_track_line(ctx, l, owner, "track_interface", 254, false)?;
    if !t.ok {
        return Ok(None);
    }
    let weight = match t.weight {
        Some(w) => clamp_254(ctx, owner, &t.name, w),
        None => 0,
    };
    Ok(Some(TrackRef {
        name: t.name,
        weight,
        reverse: t.reverse.unwrap_or(false),
        span: Some(l.span),
    }))
}

/// The trackers an instance or sync group refers to by name. keepalived's
/// `alloc_track_script()`, `vrrp_alloc_track_file()`, `alloc_track_process()` and
/// `alloc_track_bfd()` differ only in where the definition lives and in scripts'
/// +/-254 clamp and leniency about a bad `reverse` word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tracker {
    Script,
    File,
    Process,
    Bfd,
}

impl Tracker {
    fn what(self) -> &'static str {
        match self {
            Tracker::Script => "script",
            Tracker::File => "file",
            Tracker::Process => "process",
            Tracker::Bfd => "bfd",
        }
    }

    /// The definition's default weight and reverse, if `name` is defined.
    fn defaults(self, cfg: &Config, name: &str) -> Option<(i32, bool)> {
        match self {
            Tracker::Script => cfg
                .vrrp
                .scripts
                .iter()
                .find(|s| s.name == name && !s.discarded)
                .map(|s| (s.weight, s.reverse)),
            Tracker::File => cfg
                .vrrp
                .track_files
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.weight, s.reverse)),
            Tracker::Process => cfg
                .vrrp
                .track_processes
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.weight, s.reverse)),
            Tracker::Bfd => cfg
                .bfd
                .vrrp_tracked
                .iter()
                .find(|b| b.name == name)
                .map(|b| (b.weight, b.weight_reverse)),
        }
    }
}

/// A VRRP instance or sync group: what a `track_script|file|process|bfd { }` block fills.
pub(super) trait TrackRefs {
    fn track_refs(&mut self, kind: Tracker) -> &mut Vec<TrackRef>;
}

impl TrackRefs for VrrpInstance {
    fn track_refs(&mut self, kind: Tracker) -> &mut Vec<TrackRef> {
        match kind {
            Tracker::Script => &mut self.track_scripts,
            Tracker::File => &mut self.track_files,
            Tracker::Process => &mut self.track_processes,
            Tracker::Bfd => &mut self.track_bfds,
        }
    }
}

/// One line of a `track_script|file|process|bfd { }` block of `owner`; `duplicate`
/// says whether `owner` already tracks that name.
fn track_ref_line(
    ctx: &mut Ctx<'_>,
    l: &Line,
    owner: &str,
    kind: Tracker,
    duplicate: bool,
) -> Result<Option<TrackRef>, crate::parser::Abort> {
    let name = ctx.arg(l, 0)?;
    let what = kind.what();
    let Some((def_weight, def_reverse)) = kind.defaults(ctx.cfg, name) else {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) track {what} {name} not found - ignoring"),
        );
        return Ok(None);
    };
    if duplicate {
        ctx.report(
            Level::GeneralError,
            format!("({owner}) duplicate track_{what} {name} - ignoring"),
        );
        return Ok(None);
    }
    let t = parse_track_line(ctx, l, owner, &format!("track {what}"), 254, true)?;
    if !t.ok {
        return Ok(None);
    }
    let weight = match t.weight {
        Some(w) if kind == Tracker::Script => clamp_254(ctx, owner, &t.name, w),
        Some(w) => w,
        None => def_weight,
    };
    if kind != Tracker::Script && l.word(3).is_some() && t.reverse.is_none() {
        return Ok(None);
    }
    Ok(Some(TrackRef {
        name: t.name,
        weight,
        reverse: t.reverse.unwrap_or(def_reverse),
        span: Some(l.span),
    }))
}

/// A `track_script|file|process|bfd { NAME [weight W [reverse|noreverse]] }` block of
/// the instance or sync group `holder` returns, named by `owner`.
pub(super) fn track_block<T: TrackRefs>(
    ctx: &mut Ctx<'_>,
    line: &Line,
    kind: Tracker,
    holder: for<'c, 'x> fn(&'c mut Ctx<'x>) -> Option<&'c mut T>,
    owner: fn(&Ctx<'_>) -> String,
) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        let owner = owner(ctx);
        let duplicate = holder(ctx).is_some_and(|h| {
            h.track_refs(kind)
                .iter()
                .any(|t| Some(t.name.as_str()) == l.word(0))
        });
        if let Some(r) = track_ref_line(ctx, l, &owner, kind, duplicate)?
            && let Some(h) = holder(ctx)
        {
            h.track_refs(kind).push(r);
        }
        Ok(())
    })
}

/// `track_script { NAME [weight W [reverse|noreverse]] }`.
pub fn track_script(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Script, current, current_name)
}

/// `track_file { NAME [weight W [reverse|noreverse]] }`.
pub fn track_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::File, current, current_name)
}

/// `track_process { NAME [weight W [reverse|noreverse]] }`.
pub fn track_process(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Process, current, current_name)
}

/// `track_bfd { NAME [weight W [reverse|noreverse]] }`.
pub fn track_bfd(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    track_block(ctx, line, Tracker::Bfd, current, current_name)
}

/// `mcast_src_ip ADDR` / `unicast_src_ip ADDR`.
pub fn source_ip(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let word = ctx.arg(line, 1)?;
    let name = current_name(ctx);
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    if keyword == "unicast_src_ip" {
        inst.unicast_configured = true;
    }
    let Some(addr) = parse_ip(word) else {
        ctx.report(
            Level::GeneralError,
            format!("({name}) malformed source address '{word}' - skipping"),
        );
        return Ok(());
    };
    let fam = Family::of(&addr);
    match inst.family {
        Some(f) if f != fam => {
            inst.source_ip = None;
            inst.source_from_config = false;
            ctx.report(
                Level::GeneralError,
                format!(
                    "({name}) source address {word} is not the instance's address family - skipping"
                ),
            );
        }
        _ => {
            inst.family = Some(fam);
            inst.source_ip = Some(addr);
            inst.source_from_config = true;
        }
    }
    Ok(())
}

/// `mcast_dst_ip ADDR`.
pub fn mcast_dst_ip(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let name = current_name(ctx);
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let Some(addr) = parse_ip(word) else {
        ctx.report(
            Level::GeneralError,
            format!("({name}) malformed multicast destination address '{word}' - skipping"),
        );
        return Ok(());
    };
    let fam = Family::of(&addr);
    let mut problems = Vec::new();
    let mut keep = true;
    match inst.family {
        None => inst.family = Some(fam),
        Some(f) if f != fam => {
            problems.push(format!(
                "({name}) multicast destination {word} is not the instance's address family - skipping"
            ));
            keep = false;
        }
        Some(_) => {}
    }
    let multicast_ok = match addr {
        IpAddr::V4(a) => a.is_multicast(),
        // keepalived: IN6_IS_ADDR_MC_LINKLOCAL (ff02::/16, ignoring flag bits).
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    };
    if !multicast_ok {
        problems.push(format!(
            "({name}) mcast_dst_ip {word} is not a (link-local) multicast address - skipping"
        ));
        keep = false;
    }
    inst.mcast_dst_ip = keep.then_some(addr);
    for p in problems {
        ctx.report(Level::GeneralError, p);
    }
    Ok(())
}

/// `virtual_router_id 1..255`.
pub fn virtual_router_id(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    match ctx.read_unsigned(line, 1, 1, 255)? {
        Some(v) => {
            if let Some(inst) = current(ctx) {
                inst.vrid = u8::try_from(v).ok();
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("({name}) VRID '{w}' is not valid - must be between 1 and 255"),
            );
        }
    }
    Ok(())
}

/// `unicast_ttl 0..255`.
pub fn unicast_ttl(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    match ctx.read_unsigned(line, 1, 0, 255)? {
        Some(v) => {
            if let Some(inst) = current(ctx) {
                inst.unicast_ttl = u8::try_from(v).ok();
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("({name}) TTL '{w}' is not valid - must be between 0 and 255"),
            );
        }
    }
    Ok(())
}

/// `version 2|3`.
pub fn version(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let Some(v) = ctx.read_int(line, 1, 2, 3)? else {
        ctx.report(
            Level::GeneralError,
            format!("({name}) version must be 2 or 3"),
        );
        return Ok(());
    };
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let v = u8::try_from(v).unwrap_or(3);
    if inst.version.is_some_and(|cur| cur != v) || (v == 2 && inst.family == Some(Family::V6)) {
        let cur = inst.version.unwrap_or(0);
        ctx.report(
            Level::GeneralError,
            format!("({name}) version {v} conflicts with the configured or deduced version {cur} - ignoring"),
        );
        return Ok(());
    }
    inst.version = Some(v);
    Ok(())
}

/// `priority 1..255`: keepalived uses 100 when the value is invalid.
pub fn priority(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let value = ctx.read_unsigned(line, 1, 1, 255)?;
    let prio = match value {
        Some(v) => u8::try_from(v).unwrap_or(100),
        None => {
            ctx.report(
                Level::GeneralError,
                format!("({name}) priority must be between 1 and 255 - using 100"),
            );
            100
        }
    };
    if let Some(inst) = current(ctx) {
        inst.priority = prio;
    }
    Ok(())
}

/// `advert_int SECS` (0.01 .. 255, up to 6 decimals).
pub fn advert_int(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    match ctx.read_timer(line, 1, TIMER_HZ / 100, 255 * TIMER_HZ)? {
        Some(v) if v > 0 => {
            if let Some(inst) = current(ctx) {
                inst.advert_int_us = v;
            }
        }
        _ => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("({name}) advert_int '{w}' is not valid - ignoring"),
            );
        }
    }
    Ok(())
}

/// `virtual_ipaddress { }` and `virtual_ipaddress_excluded { }`.
pub fn virtual_ipaddress(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let excluded = line.word(0) == Some("virtual_ipaddress_excluded");
    ctx.value_block(line, |ctx, l| {
        let Some(addr) = parse_address_line(ctx, l, false)? else {
            return Ok(());
        };
        let name = current_name(ctx);
        let Some(inst) = current(ctx) else {
            return Ok(());
        };
        if excluded {
            inst.evips.push(addr);
            return Ok(());
        }
        // keepalived: the first VIP sets the instance's family; later ones must match.
        let fam = Family::of(&addr.addr);
        match inst.family {
            None => inst.family = Some(fam),
            Some(f) if f != fam => {
                let w = l.word(0).unwrap_or("");
                ctx.report(
                    Level::GeneralError,
                    format!(
                        "({name}) address family of {w} does not match the instance - ignoring"
                    ),
                );
                return Ok(());
            }
            Some(_) => {}
        }
        inst.vips.push(addr);
        Ok(())
    })
}

/// `virtual_routes { }`.
pub fn virtual_routes(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        if let Some(route) = parse_route_line(ctx, l, false)?
            && let Some(inst) = current(ctx)
        {
            inst.vroutes.push(route);
        }
        Ok(())
    })
}

/// `virtual_rules { }`.
pub fn virtual_rules(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.value_block(line, |ctx, l| {
        if let Some(rule) = parse_rule_line(ctx, l, false)?
            && let Some(inst) = current(ctx)
        {
            inst.vrules.push(rule);
        }
        Ok(())
    })
}

/// `preempt_delay SECS` (0..1000).
pub fn preempt_delay(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    let value = ctx.read_timer(line, 1, 0, TIMER_MAX_SEC * TIMER_HZ)?;
    if value.is_none() {
        ctx.report(
            Level::GeneralError,
            format!("({name}) preempt_delay must be between 0 and {TIMER_MAX_SEC}"),
        );
    }
    if let Some(inst) = current(ctx) {
        inst.preempt_delay_us = value.unwrap_or(0);
    }
    Ok(())
}

/// `debug 0..4`.
pub fn debug(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    match ctx.read_unsigned(line, 1, 0, 4)? {
        Some(v) => {
            if let Some(inst) = current(ctx) {
                inst.debug = v;
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("({name}) debug value '{w}' is not valid - must be 0 to 4"),
            );
        }
    }
    Ok(())
}

/// `notify*` scripts of an instance.
pub fn notify(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = current_name(ctx);
    if keyword == "notify_deleted" {
        let Some(inst) = current(ctx) else {
            return Ok(());
        };
        if inst.notify.notify_deleted {
            ctx.report(
                Level::GeneralError,
                format!("({name}) notify_deleted already given - ignoring"),
            );
            return Ok(());
        }
        inst.notify.notify_deleted = true;
        if line.len() < 2 {
            return Ok(());
        }
    }
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let taken = notify_slot(&mut inst.notify, keyword).is_some();
    if taken {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("({name}) {keyword} script already given - ignoring {w}"),
        );
        return Ok(());
    }
    let script = parse_script(ctx, line, 1)?;
    if let Some(inst) = current(ctx) {
        *notify_slot(&mut inst.notify, keyword) = script.map(Box::new);
    }
    Ok(())
}

/// Where a `notify*` keyword's script goes.
pub(super) fn notify_slot<'n>(n: &'n mut Notify, keyword: &str) -> &'n mut Option<Box<Script>> {
    match keyword {
        "notify_backup" => &mut n.backup,
        "notify_master" => &mut n.master,
        "notify_fault" => &mut n.fault,
        "notify_stop" => &mut n.stop,
        "notify_deleted" => &mut n.deleted,
        "notify_master_rx_lower_pri" => &mut n.master_rx_lower_pri,
        _ => &mut n.notify,
    }
}

/// `smtp_alert [on|off]`.
pub fn smtp_alert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let value = match line.word(1) {
        None => Some(true),
        Some(w) => Ctx::parse_bool(w),
    };
    match value {
        Some(v) => {
            if let Some(inst) = current(ctx) {
                inst.smtp_alert = Some(v);
            }
        }
        None => {
            let w = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("invalid vrrp_instance smtp_alert value '{w}'"),
            );
        }
    }
    Ok(())
}

/// `lvs_sync_daemon_interface IF` (deprecated in favour of global lvs_sync_daemon).
pub fn lvs_sync_daemon_interface(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    ctx.report(
        Level::GeneralError,
        format!("({name}) lvs_sync_daemon_interface in a vrrp_instance is deprecated - use global lvs_sync_daemon"),
    );
    let word = ctx.arg(line, 1)?;
    let already = ctx.cfg.global.lvs_sync_daemon.is_some()
        || ctx
            .cfg
            .vrrp
            .instances
            .iter()
            .any(|i| i.lvs_sync_daemon_interface.is_some());
    if already {
        ctx.report(
            Level::GeneralError,
            format!("({name}) lvs_sync_daemon_interface already given - ignoring"),
        );
        return Ok(());
    }
    if let Some(inst) = current(ctx) {
        inst.lvs_sync_daemon_interface = Some(word.to_string());
    }
    Ok(())
}

/// The numeric garp/advert keywords of an instance.
pub fn garp_number(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = current_name(ctx);
    let max = match keyword {
        "garp_master_delay" | "garp_lower_prio_delay" => u32::MAX / 1_000_000,
        "garp_lower_prio_repeat" => i32::MAX.unsigned_abs(),
        "down_timer_adverts" => 100,
        _ => u32::MAX,
    };
    let min = u32::from(keyword == "down_timer_adverts");
    let Some(mut value) = ctx.read_unsigned(line, 1, min, max)? else {
        let w = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("({name}) {keyword} '{w}' is invalid - ignoring"),
        );
        if keyword == "garp_master_refresh"
            && let Some(inst) = current(ctx)
        {
            inst.garp_master_refresh = Some(0);
        }
        return Ok(());
    };
    if matches!(keyword, "garp_master_repeat" | "garp_master_refresh_repeat") && value == 0 {
        ctx.report(
            Level::GeneralError,
            format!("({name}) {keyword} must be greater than 0 - using 1"),
        );
        value = 1;
    }
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    let slot = match keyword {
        "garp_master_delay" => &mut inst.garp_master_delay,
        "garp_master_refresh" => &mut inst.garp_master_refresh,
        "garp_master_repeat" => &mut inst.garp_master_repeat,
        "garp_master_refresh_repeat" => &mut inst.garp_master_refresh_repeat,
        "garp_lower_prio_delay" => &mut inst.garp_lower_prio_delay,
        "garp_lower_prio_repeat" => &mut inst.garp_lower_prio_repeat,
        _ => &mut inst.down_timer_adverts,
    };
    *slot = Some(value);
    Ok(())
}

/// `garp_extra_if [all] SECS` (and its deprecated name `vmac_garp_intvl`).
pub fn garp_extra_if(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let keyword = ctx.arg(line, 0)?;
    let name = current_name(ctx);
    if keyword == "vmac_garp_intvl" {
        ctx.report(
            Level::Deprecated,
            "vmac_garp_intvl is deprecated - use garp_extra_if",
        );
    }
    let mut delay = None;
    let mut all = false;
    for index in 1..line.len() {
        if line.word(index) == Some("all") {
            all = true;
            continue;
        }
        match ctx.read_unsigned(line, index, 0, 86400)? {
            Some(v) => delay = Some(v),
            None => {
                let w = line.word(index).unwrap_or("");
                ctx.report(
                    Level::GeneralError,
                    format!("({name}) {keyword} '{w}' is invalid - ignoring"),
                );
                if let Some(inst) = current(ctx) {
                    inst.garp_extra_if_all |= all;
                }
                return Ok(());
            }
        }
    }
    let Some(inst) = current(ctx) else {
        return Ok(());
    };
    inst.garp_extra_if_all |= all;
    match delay {
        Some(d) => inst.garp_extra_if = Some(d),
        None => ctx.report(
            Level::GeneralError,
            format!("({name}) {keyword} given without a time - ignoring"),
        ),
    }
    Ok(())
}

/// `kernel_rx_buf_size BYTES`.
pub fn kernel_rx_buf_size(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = current_name(ctx);
    if line.len() == 2
        && let Some(v) = ctx.read_unsigned(line, 1, 0, u32::MAX)?
    {
        if let Some(inst) = current(ctx) {
            inst.kernel_rx_buf_size = Some(v);
        }
        return Ok(());
    }
    ctx.report(
        Level::GeneralError,
        format!("({name}) invalid kernel_rx_buf_size"),
    );
    Ok(())
}

/// `auth_type PASS|AH`.
pub fn auth_type(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let name = current_name(ctx);
    let t = match word {
        "AH" => AuthType::Ah,
        "PASS" => AuthType::Pass,
        other => {
            ctx.report(
                Level::GeneralError,
                format!("({name}) unknown authentication type '{other}'"),
            );
            return Ok(());
        }
    };
    if let Some(inst) = current(ctx) {
        inst.auth_type = Some(t);
    }
    Ok(())
}

/// keepalived: the authentication data field holds 8 bytes.
pub const AUTH_PASS_MAX: usize = 8;

/// `auth_pass PASSWORD` (truncated to 8 bytes, as keepalived does).
pub fn auth_pass(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let mut bytes = word.as_bytes().to_vec();
    if bytes.len() > AUTH_PASS_MAX {
        bytes.truncate(AUTH_PASS_MAX);
        ctx.report(
            Level::GeneralError,
            format!("auth_pass is longer than {AUTH_PASS_MAX} characters - truncating it"),
        );
    }
    if let Some(inst) = current(ctx) {
        inst.auth_pass = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmac_mac_parsing() {
        assert_eq!(
            parse_vmac_mac("02:00:00:00:00:01"),
            Some(([2, 0, 0, 0, 0, 1], false))
        );
        assert_eq!(
            parse_vmac_mac("02:00:00:00:00"),
            Some(([2, 0, 0, 0, 0, 0], true))
        );
        assert_eq!(
            parse_vmac_mac("02:00:00:00:00:"),
            Some(([2, 0, 0, 0, 0, 0], true))
        );
        assert_eq!(parse_vmac_mac("02:00:00"), None);
        assert_eq!(parse_vmac_mac("02:00:00:00:00:001"), None);
    }

    #[test]
    fn device_names() {
        assert!(dev_name_valid("eth0"));
        assert!(!dev_name_valid("a/b"));
        assert!(!dev_name_valid("0123456789abcdef"));
        assert!(!dev_name_valid(".."));
    }
}
