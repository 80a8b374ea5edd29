//! Address, route and rule lines (keepalived: vrrp_ipaddress.c `alloc_ipaddress()`,
//! vrrp_iproute.c `alloc_route()`, vrrp_iprule.c `alloc_rule()`).
//!
//! Every problem keepalived reports while parsing one of these lines is reported at
//! that line. Whether a `dev` interface exists is only known to validation (which has
//! the [`crate::System`]), so the names are kept and checked there.

use std::net::{IpAddr, Ipv4Addr};

use crate::diag::Level;
use crate::model::vrrp::{Broadcast, Family, IpAddress, Route, Rule};
use crate::parser::{Abort, Ctx};
use crate::reader::Line;

/// keepalived's IFNAMSIZ (16, including the terminating NUL).
pub const IFNAMSIZ: usize = 16;

/// keepalived: `parse_ipaddress()`. The family is IPv6 when the text contains a ':';
/// with `allow_prefix`, a `/LEN` suffix gives the prefix length (an invalid one is
/// reported and the full length used). An unparseable address is reported.
pub fn parse_ipaddress(ctx: &mut Ctx<'_>, text: &str, allow_prefix: bool) -> Option<(IpAddr, u8)> {
    let is_v6 = text.contains(':');
    let max_prefix: u8 = if is_v6 { 128 } else { 32 };
    let mut prefix = max_prefix;
    let mut addr_text = text;
    if allow_prefix && let Some(slash) = text.find('/') {
        let len_text = text.get(slash + 1..).unwrap_or("");
        match parse_c_unsigned(len_text) {
            Some(v) if v <= u64::from(max_prefix) => prefix = u8::try_from(v).unwrap_or(max_prefix),
            _ => ctx.report(
                Level::GeneralError,
                format!(
                    "invalid prefix length '{len_text}' for address {text} - using {max_prefix}"
                ),
            ),
        }
        addr_text = text.get(..slash).unwrap_or("");
    }
    let parsed = if is_v6 {
        addr_text.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        addr_text.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    };
    match parsed {
        Some(a) => Some((a, prefix)),
        None => {
            ctx.report(
                Level::GeneralError,
                format!("invalid IP address '{text}' - skipping"),
            );
            None
        }
    }
}

/// C `strtoul(s, &end, 10)` with a "whole string" check, leading blanks allowed.
pub fn parse_c_unsigned(text: &str) -> Option<u64> {
    let t = text.trim_start_matches([' ', '\t']);
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// keepalived: `parse_route()`: `default`/`any`/`all` (any family), `default6`, or an
/// address with optional prefix.
fn parse_route_dest(ctx: &mut Ctx<'_>, text: &str) -> Option<(Option<IpAddr>, u8, Option<Family>)> {
    match text {
        "default" | "any" | "all" => Some((None, 0, None)),
        "default6" => Some((None, 0, Some(Family::V6))),
        _ => parse_ipaddress(ctx, text, true).map(|(a, p)| (Some(a), p, Some(Family::of(&a)))),
    }
}

/// keepalived's rt_scopes names (plus numbers).
pub fn scope_value(word: &str) -> Option<u8> {
    match word {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        _ => parse_c_number(word).and_then(|v| u8::try_from(v).ok()),
    }
}

/// keepalived's rt_tables names (plus numbers).
pub fn table_value(word: &str) -> Option<u32> {
    match word {
        "default" => Some(253),
        "main" => Some(254),
        "local" => Some(255),
        "unspec" => Some(0),
        _ => parse_c_number(word).and_then(|v| u32::try_from(v).ok()),
    }
}

/// keepalived's rt_protos names (plus numbers).
pub fn protocol_value(word: &str) -> Option<u8> {
    match word {
        "unspec" => Some(0),
        "redirect" => Some(1),
        "kernel" => Some(2),
        "boot" => Some(3),
        "static" => Some(4),
        "gated" => Some(8),
        "ra" => Some(9),
        "mrt" => Some(10),
        "zebra" => Some(11),
        "bird" => Some(12),
        "dnrouted" => Some(13),
        "xorp" => Some(14),
        "ntk" => Some(15),
        "dhcp" => Some(16),
        "keepalived" => Some(18),
        "babel" => Some(42),
        "bgp" => Some(186),
        "isis" => Some(187),
        "ospf" => Some(188),
        "rip" => Some(189),
        "eigrp" => Some(192),
        _ => parse_c_number(word).and_then(|v| u8::try_from(v).ok()),
    }
}

/// The route types keepalived accepts (`find_rttables_rtntype()`), as RTN_* values.
pub fn route_type_value(word: &str) -> Option<u8> {
    match word {
        "unicast" => Some(1),
        "local" => Some(2),
        "broadcast" => Some(3),
        "anycast" => Some(4),
        "multicast" => Some(5),
        "blackhole" => Some(6),
        "unreachable" => Some(7),
        "prohibit" => Some(8),
        "throw" => Some(9),
        "nat" => Some(10),
        _ => None,
    }
}

/// DS field names or numbers (`find_rttables_dsfield()`).
pub fn dsfield_value(word: &str) -> Option<u8> {
    parse_c_number(word).and_then(|v| u8::try_from(v).ok())
}

/// `strtoul(word, &end, 0)` with a whole-string check.
pub fn parse_c_number(word: &str) -> Option<u64> {
    if word.is_empty() || word.starts_with('-') {
        return None;
    }
    if let Some(hex) = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if word.len() > 1 && word.starts_with('0') {
        return word.get(1..).and_then(|w| u64::from_str_radix(w, 8).ok());
    }
    word.parse().ok()
}

/// keepalived's RTT_MAX_MS.
const RTT_MAX_MS: u64 = 120_000;

/// keepalived: `get_time_rtt()`: a time with an optional `s`/`ms` (or `sec`/`secs`)
/// unit, decimals allowed with a unit; `mult` is the kernel's units per ms. Returns
/// whether it is valid (range problems are reported by the number reader).
fn rtt_time(ctx: &mut Ctx<'_>, text: &str, span: crate::span::Span, mult: u64) -> bool {
    let t = text.trim_start_matches([' ', '\t']);
    let (number, shift) = match t.find(['s', 'S']) {
        Some(pos) => {
            let unit = t.get(pos..).unwrap_or("").to_ascii_lowercase();
            if !matches!(unit.as_str(), "s" | "sec" | "secs") {
                return false;
            }
            let head = t.get(..pos).unwrap_or("");
            match head.strip_suffix(['m', 'M']) {
                Some(n) => (n, 0),
                None => (head, 3),
            }
        }
        None => (t, 0),
    };
    if number.is_empty() || number.contains(['e', 'E']) {
        return false;
    }
    ctx.parse_decimal(number, span, 0, RTT_MAX_MS * mult, shift)
        .is_some()
}

/// keepalived: `alloc_ipaddress()`. Returns `None` when keepalived drops the address.
pub fn parse_address_line(
    ctx: &mut Ctx<'_>,
    line: &Line,
    static_addr: bool,
) -> Result<Option<IpAddress>, Abort> {
    let first = ctx.arg(line, 0)?;
    let Some((addr, prefix_len)) = parse_ipaddress(ctx, first, true) else {
        return Ok(None);
    };
    let is_v6 = addr.is_ipv6();
    let mut new = IpAddress {
        addr,
        prefix_len,
        broadcast: None,
        dev: None,
        scope: 0,
        label: None,
        peer: None,
        home: false,
        nodad: false,
        mngtmpaddr: false,
        noprefixroute: false,
        autojoin: false,
        no_track: false,
        preferred_lft: None,
        track_group: None,
        use_vmac: false,
        span: Some(line.span),
    };
    let mut i = 1;
    let words: Vec<&str> = line.words().collect();
    let mut missing: Option<&str> = None;
    while let Some(&word) = words.get(i) {
        let param = words.get(i + 1).copied();
        let needs_param = matches!(
            word,
            "dev" | "scope" | "broadcast" | "brd" | "label" | "peer" | "preferred_lft"
        ) || (static_addr && word == "track_group");
        if needs_param && param.is_none() {
            missing = Some(word);
            break;
        }
        let param = param.unwrap_or("");
        match word {
            "dev" => {
                if new.dev.is_some() {
                    ctx.report(
                        Level::GeneralError,
                        format!(
                            "device given more than once for address {first} - removing address"
                        ),
                    );
                    return Ok(None);
                }
                new.dev = Some(param.to_string());
                i += 1;
            }
            "scope" => {
                match scope_value(param) {
                    Some(s) => new.scope = s,
                    None => ctx.report(
                        Level::GeneralError,
                        format!("invalid scope '{param}' for address {first} - ignoring"),
                    ),
                }
                i += 1;
            }
            "broadcast" | "brd" => {
                if is_v6 {
                    ctx.report(
                        Level::GeneralError,
                        format!(
                            "broadcast {word} given for IPv6 address {first} - removing address"
                        ),
                    );
                    return Ok(None);
                }
                new.broadcast = match param {
                    "-" => Some(Broadcast::Minus),
                    "+" => Some(Broadcast::Plus),
                    p => match p.parse::<Ipv4Addr>() {
                        Ok(b) => Some(Broadcast::Addr(b)),
                        Err(_) => {
                            ctx.report(
                                Level::GeneralError,
                                format!("invalid broadcast address '{p}' - removing address"),
                            );
                            return Ok(None);
                        }
                    },
                };
                i += 1;
            }
            "label" => {
                if param.len() >= IFNAMSIZ {
                    ctx.report(
                        Level::GeneralError,
                        format!(
                            "address label '{param}' is longer than {} characters - removing address",
                            IFNAMSIZ - 1
                        ),
                    );
                    return Ok(None);
                }
                new.label = Some(param.to_string());
                i += 1;
            }
            "peer" => {
                i += 1;
                if new.peer.is_some() {
                    ctx.report(
                        Level::GeneralError,
                        format!("peer {param}: a peer was already given"),
                    );
                } else {
                    match parse_ipaddress(ctx, param, false) {
                        None => ctx.report(
                            Level::GeneralError,
                            format!("invalid peer address '{param}'"),
                        ),
                        Some((p, _)) if p.is_ipv6() != is_v6 => ctx.report(
                            Level::GeneralError,
                            format!("peer address {param} is not the same family as {first}"),
                        ),
                        Some((p, plen)) => {
                            if new.prefix_len != if is_v6 { 128 } else { 32 } {
                                ctx.report(
                                    Level::GeneralError,
                                    "an address prefix cannot be given with a peer address - ignoring the prefix",
                                );
                            }
                            new.peer = Some(p);
                            new.prefix_len = plen;
                        }
                    }
                }
            }
            "home" => new.home = true,
            "-nodad" => new.nodad = true,
            "mngtmpaddr" => new.mngtmpaddr = true,
            "noprefixroute" => new.noprefixroute = true,
            "autojoin" => new.autojoin = true,
            "no_track" => new.no_track = true,
            "preferred_lft" => {
                i += 1;
                if param == "forever" {
                    new.preferred_lft = Some(u32::MAX);
                } else {
                    let span = line.span_of(i);
                    match ctx.parse_unsigned(
                        param,
                        span,
                        10,
                        0,
                        u64::from(u32::MAX),
                        u64::from(u32::MAX),
                    ) {
                        Some(v) => new.preferred_lft = u32::try_from(v).ok(),
                        None => ctx.report(
                            Level::GeneralError,
                            format!("invalid preferred_lft '{param}'"),
                        ),
                    }
                }
            }
            "track_group" if static_addr => {
                i += 1;
                if new.track_group.is_some() {
                    ctx.report(
                        Level::GeneralError,
                        format!("duplicate track_group {param}"),
                    );
                    break;
                }
                if ctx
                    .cfg
                    .vrrp
                    .static_track_groups
                    .iter()
                    .any(|g| g.name == param)
                {
                    new.track_group = Some(param.to_string());
                } else {
                    ctx.report(
                        Level::GeneralError,
                        format!("track_group {param} not found"),
                    );
                }
            }
            "use_vmac" if !static_addr => new.use_vmac = true,
            other => ctx.report(
                Level::GeneralError,
                format!("unknown option '{other}' for ip address - ignoring"),
            ),
        }
        i += 1;
    }
    if let Some(word) = missing {
        ctx.report(
            Level::GeneralError,
            format!("no {word} parameter given for {first} - removing address"),
        );
        return Ok(None);
    }
    if new.broadcast.is_some() && new.peer.is_some() {
        ctx.report(
            Level::GeneralError,
            "broadcast and peer addresses cannot both be given - ignoring the broadcast address",
        );
        new.broadcast = None;
    } else if matches!(new.broadcast, Some(Broadcast::Plus | Broadcast::Minus))
        && new.prefix_len > 30
    {
        ctx.report(
            Level::GeneralError,
            format!(
                "prefix length {} is too long for a broadcast address",
                new.prefix_len
            ),
        );
    }
    if is_v6 {
        if new.scope != 0 {
            ctx.report(
                Level::GeneralError,
                format!("a scope cannot be given for IPv6 address {first} - ignoring the scope"),
            );
            new.scope = 0;
        }
        if new.label.is_some() {
            ctx.report(
                Level::GeneralError,
                format!("a label cannot be given for IPv6 address {first} - ignoring the label"),
            );
            new.label = None;
        }
        if new.preferred_lft.is_none() {
            // keepalived: the historic defaults (0 for /128, forever otherwise).
            new.preferred_lft = Some(if new.prefix_len == 128 { 0 } else { u32::MAX });
        }
    }
    if new.track_group.is_some() && new.dev.is_none() {
        ctx.report(
            Level::GeneralError,
            "a static address cannot have a track_group without an interface",
        );
        new.track_group = None;
    }
    Ok(Some(new))
}

/// Words a route keyword consumes after itself, where the next word may be `lock`.
fn route_lockable(word: &str) -> bool {
    matches!(
        word,
        "mtu" | "advmss" | "rtt" | "rttvar" | "reordering" | "cwnd" | "ssthresh" | "rto_min"
    )
}

/// keepalived: `alloc_route()`. Returns `None` when keepalived drops the route.
pub fn parse_route_line(
    ctx: &mut Ctx<'_>,
    line: &Line,
    allow_track_group: bool,
) -> Result<Option<Route>, Abort> {
    let mut route = Route {
        words: line.words().map(str::to_string).collect(),
        span: Some(line.span),
        ..Route::default()
    };
    let mut protocol: Option<u8> = None;
    let mut dest_text: Option<String> = None;
    let mut have_dest = false;
    let mut do_nexthop = false;
    let mut i = 0;
    let n = line.len();
    macro_rules! fail {
        ($($msg:tt)*) => {{
            ctx.report(Level::GeneralError, format!($($msg)*));
            return Ok(None);
        }};
    }
    let mix = |route: &mut Route, fam: Family| -> bool {
        match route.family {
            None => {
                route.family = Some(fam);
                true
            }
            Some(f) => f == fam,
        }
    };
    while i < n {
        let word = ctx.arg(line, i)?;
        match word {
            "inet6" | "inet" => {
                let fam = if word == "inet6" {
                    Family::V6
                } else {
                    Family::V4
                };
                if !mix(&mut route, fam) {
                    fail!("{word} given for a route of the other family");
                }
                // keepalived 2.2.7 steps over the word after inet/inet6 as well, so
                // `inet6 default ...` loses its destination.
                i += 1;
            }
            "src" | "from" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let Some((a, _)) = parse_ipaddress(ctx, p, false) else {
                    fail!("invalid route {word} address '{p}'");
                };
                if word == "from" && a.is_ipv4() {
                    ctx.report(
                        Level::GeneralError,
                        format!("route from address is only supported with IPv6 ({p})"),
                    );
                }
                if !mix(&mut route, Family::of(&a)) {
                    fail!("IPv4 and IPv6 addresses cannot be mixed in a route");
                }
                route.src = Some(a);
            }
            "as" => {
                i += 1;
                if ctx.arg(line, i)? == "to" {
                    i += 1;
                    ctx.arg(line, i)?;
                }
                ctx.report(Level::GeneralError, "'as [to]' is for MPLS only - ignoring");
            }
            "via" | "gw" => {
                if word == "gw" {
                    ctx.report(
                        Level::GeneralError,
                        "'gw' for routes is deprecated - use 'via'",
                    );
                }
                i += 1;
                let mut p = ctx.arg(line, i)?;
                let mut fam_word = None;
                if p == "inet" || p == "inet6" {
                    fam_word = Some(if p == "inet6" { Family::V6 } else { Family::V4 });
                    i += 1;
                    p = ctx.arg(line, i)?;
                }
                if let Some(f) = fam_word
                    && !mix(&mut route, f)
                {
                    fail!("IPv4 and IPv6 addresses cannot be mixed in a route");
                }
                let Some((a, _)) = parse_ipaddress(ctx, p, false) else {
                    fail!("invalid route via address '{p}'");
                };
                if !mix(&mut route, Family::of(&a)) {
                    fail!("IPv4 and IPv6 addresses cannot be mixed in a route");
                }
                route.via = Some(a);
            }
            "tos" | "dsfield" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if dsfield_value(p).is_none() {
                    fail!("invalid TOS value '{p}' for route");
                }
            }
            "table" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match table_value(p) {
                    Some(t) => route.table = Some(t),
                    None => fail!("routing table '{p}' not found for route"),
                }
            }
            "protocol" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match protocol_value(p) {
                    Some(v) => protocol = Some(v),
                    None => fail!("route protocol '{p}' not found or invalid"),
                }
            }
            "scope" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if scope_value(p).is_none() {
                    fail!("route scope '{p}' not found or invalid");
                }
            }
            "metric" | "priority" | "preference" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match parse_c_number(p).and_then(|v| u32::try_from(v).ok()) {
                    Some(v) => route.metric = Some(v),
                    None => fail!("invalid route metric '{p}'"),
                }
            }
            "dev" | "oif" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                // keepalived looks the interface up here and drops the route (reading
                // no further words) when it does not exist.
                if ctx.interface_known(p) == Some(false) {
                    fail!("interface {p} for route doesn't exist");
                }
                route.dev = Some(p.to_string());
            }
            "onlink" | "add" | "prepend" | "append" => {}
            "or" => {
                ctx.report(
                    Level::GeneralError,
                    "'or' for routes is deprecated - use 'nexthop'",
                );
                i += 1;
                let p = ctx.arg(line, i)?;
                if parse_ipaddress(ctx, p, false).is_none() {
                    fail!("invalid 'or' address '{p}'");
                }
            }
            "nexthop" => {
                do_nexthop = true;
                break;
            }
            "no_track" => route.no_track = true,
            "track_group" if allow_track_group => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if route.track_group.is_some() {
                    ctx.report(Level::GeneralError, format!("duplicate track_group {p}"));
                    break;
                }
                if ctx.cfg.vrrp.static_track_groups.iter().any(|g| g.name == p) {
                    route.track_group = Some(p.to_string());
                } else {
                    ctx.report(Level::GeneralError, format!("track_group {p} not found"));
                }
            }
            "vrf" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                // keepalived looks the VRF up among existing interfaces; a VRF device
                // is never present on a host we can describe, so this fails like there.
                fail!("VRF '{p}' not found for route");
            }
            "encap" => {
                // keepalived parse_encap(): TYPE then its own options; we keep the words.
                i += 1;
                ctx.arg(line, i)?;
                i += 1;
                ctx.arg(line, i)?;
            }
            "expires" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if route.family == Some(Family::V4) {
                    fail!("expires is only valid for IPv6 routes");
                }
                route.family = Some(Family::V6);
                if parse_c_number(p)
                    .and_then(|v| u32::try_from(v).ok())
                    .is_none()
                {
                    fail!("invalid route expires time '{p}'");
                }
            }
            w if route_lockable(w) || w == "congctl" => {
                i += 1;
                let mut p = ctx.arg(line, i)?;
                if p == "lock" {
                    i += 1;
                    p = ctx.arg(line, i)?;
                }
                let unit_mult = match w {
                    "rtt" => Some(8),
                    "rttvar" => Some(4),
                    "rto_min" => Some(1),
                    _ => None,
                };
                let ok = match unit_mult {
                    Some(mult) => {
                        let span = line.span_of(i);
                        rtt_time(ctx, p, span, mult)
                    }
                    None => {
                        w == "congctl"
                            || parse_c_number(p)
                                .and_then(|v| u32::try_from(v).ok())
                                .is_some()
                    }
                };
                if !ok {
                    fail!("invalid route {w} '{p}'");
                }
            }
            "hoplimit" | "window" | "initcwnd" | "initrwnd" | "realms" | "features"
            | "quickack" | "pref" | "ttl-propagate" | "fastopen_no_cookie" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                // keepalived: pref is IPv6-only, realms IPv4-only; each fixes the family.
                match word {
                    "pref" if route.family == Some(Family::V4) => {
                        fail!("pref is only valid for IPv6 routes")
                    }
                    "pref" => route.family = Some(Family::V6),
                    "realms" if route.family == Some(Family::V6) => {
                        fail!("realms are only valid for IPv4 routes")
                    }
                    "realms" => route.family = Some(Family::V4),
                    _ => {}
                }
                let ok = match word {
                    "hoplimit" => parse_c_number(p).is_some_and(|v| v <= 255),
                    "window" | "initcwnd" | "initrwnd" => parse_c_number(p)
                        .and_then(|v| u32::try_from(v).ok())
                        .is_some(),
                    "features" => p == "ecn",
                    "quickack" | "fastopen_no_cookie" => parse_c_number(p).is_some_and(|v| v <= 1),
                    "pref" => {
                        matches!(p, "low" | "medium" | "high")
                            || parse_c_number(p).is_some_and(|v| v <= 255)
                    }
                    "ttl-propagate" => matches!(p, "enabled" | "disabled"),
                    _ => true,
                };
                if !ok {
                    fail!("invalid route {word} '{p}'");
                }
            }
            _ => {
                if word == "to" {
                    i += 1;
                }
                let mut d = ctx.arg(line, i)?;
                if route_type_value(d).is_some() {
                    route.route_type = Some(d.to_string());
                    i += 1;
                    d = ctx.arg(line, i)?;
                }
                let Some((dst, plen, fam)) = parse_route_dest(ctx, d) else {
                    fail!("unknown route keyword '{d}'");
                };
                route.dst = dst;
                route.dst_prefix = plen;
                have_dest = true;
                dest_text = Some(d.to_string());
                if let Some(f) = fam
                    && !mix(&mut route, f)
                {
                    fail!("IPv4 and IPv6 addresses cannot be mixed in a route ({d})");
                }
            }
        }
        i += 1;
    }
    if !do_nexthop && i < n {
        let w = line.word(i).unwrap_or("");
        fail!("route has trailing nonsense '{w}'");
    }
    if !have_dest {
        fail!("a route must have a destination");
    }
    if !route.no_track {
        if protocol.is_some_and(|p| p != 18) {
            ctx.report(
                Level::GeneralError,
                "a tracked route must use protocol keepalived (18) - resetting the protocol",
            );
        }
        if route.dev.is_none() {
            let d = dest_text.unwrap_or_default();
            ctx.report(
                Level::GeneralError,
                format!("route {d} cannot be tracked without an interface - not tracking"),
            );
            route.no_track = true;
        }
    }
    if route.track_group.is_some() && route.dev.is_none() {
        ctx.report(
            Level::GeneralError,
            "a static route cannot have a track_group without an interface",
        );
        route.track_group = None;
    }
    if route.family.is_none() {
        route.family = Some(Family::V4);
    }
    Ok(Some(route))
}

/// keepalived: `alloc_rule()`. Returns `None` when keepalived drops the rule.
pub fn parse_rule_line(
    ctx: &mut Ctx<'_>,
    line: &Line,
    allow_track_group: bool,
) -> Result<Option<Rule>, Abort> {
    #[derive(PartialEq, Clone, Copy)]
    enum Action {
        Unspec,
        Table,
        Goto,
        Other,
    }
    let mut rule = Rule {
        words: line.words().map(str::to_string).collect(),
        span: Some(line.span),
        ..Rule::default()
    };
    let mut action = Action::Unspec;
    let mut table_option = false;
    let mut goto_target: u32 = 0;
    let mut l3mdev = false;
    let mut protocol: Option<u32> = None;
    let n = line.len();
    let mut i = 0;
    macro_rules! fail {
        ($($msg:tt)*) => {{
            ctx.report(Level::GeneralError, format!($($msg)*));
            return Ok(None);
        }};
    }
    macro_rules! set_family {
        ($fam:expr) => {{
            let fam = $fam;
            match rule.family {
                None => rule.family = Some(fam),
                Some(f) if f != fam => fail!("rule mixes IPv4 and IPv6"),
                Some(_) => {}
            }
        }};
    }
    while i < n {
        let word = ctx.arg(line, i)?;
        match word {
            // keepalived 2.2.7 also steps over the word after inet/inet6.
            "inet6" => {
                set_family!(Family::V6);
                i += 1;
            }
            "inet" => {
                set_family!(Family::V4);
                i += 1;
            }
            "from" | "to" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let Some((a, plen, fam)) = parse_route_dest(ctx, p) else {
                    fail!("invalid rule {word} address '{p}'");
                };
                if let Some(f) = fam {
                    set_family!(f);
                }
                let value = a.map(|a| (a, plen));
                if word == "from" {
                    rule.from = value;
                } else {
                    rule.to = value;
                }
            }
            "table" | "lookup" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match table_value(p) {
                    None => fail!("routing table '{p}' not found for rule"),
                    Some(0) => fail!("table 0 is not valid for a rule"),
                    Some(t) => rule.table = Some(t),
                }
                if action != Action::Unspec {
                    fail!(
                        "only one of table/nop/goto/blackhole/prohibit/unreachable may be given for a rule"
                    );
                }
                action = Action::Table;
            }
            "not" => {}
            "preference" | "order" | "priority" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match ctx.read_unsigned_base(line, i, 0, 0, u32::MAX)? {
                    Some(v) => rule.priority = Some(v),
                    None => fail!("invalid rule preference '{p}'"),
                }
            }
            "tos" | "dsfield" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if dsfield_value(p).is_none() {
                    fail!("invalid TOS value '{p}' for rule");
                }
            }
            "fwmark" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let (mark, mask) = match p.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (p, None),
                };
                // keepalived: strtoul(.., 0) for both parts; an empty part is 0.
                let number = |t: &str| {
                    if t.is_empty() {
                        Some(0)
                    } else {
                        parse_c_number(t).and_then(|v| u32::try_from(v).ok())
                    }
                };
                let mark_v = number(mark.trim_start());
                let mask_ok =
                    mask.is_none_or(|k| !k.starts_with([' ', '\t', '-']) && number(k).is_some());
                match mark_v {
                    Some(v) if mask_ok => rule.fwmark = Some(v),
                    _ => fail!("invalid rule fwmark '{p}'"),
                }
            }
            "realms" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let ok = p.split('/').all(|r| {
                    r.is_empty()
                        || parse_c_number(r).is_some()
                        || r.chars().all(|c| c.is_ascii_alphanumeric())
                });
                if !ok {
                    fail!("invalid realms '{p}' for rule");
                }
                table_option = true;
                set_family!(Family::V4);
            }
            "suppress_prefixlength" | "sup_pl" => {
                i += 1;
                if ctx
                    .read_unsigned(line, i, 0, i32::MAX.unsigned_abs())?
                    .is_none()
                {
                    fail!("invalid suppress_prefixlength");
                }
                table_option = true;
            }
            "suppress_ifgroup" | "sup_group" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if p != "default" && parse_c_number(p).is_none() {
                    fail!("invalid suppress_ifgroup '{p}'");
                }
                table_option = true;
            }
            "dev" | "iif" => {
                i += 1;
                rule.iif = Some(ctx.arg(line, i)?.to_string());
            }
            "oif" => {
                i += 1;
                rule.oif = Some(ctx.arg(line, i)?.to_string());
            }
            "tunnel-id" => {
                i += 1;
                if ctx.read_unsigned64(line, i, 0, u64::MAX)?.is_none() {
                    fail!("invalid tunnel-id");
                }
            }
            "uidrange" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let ok = p.split_once('-').is_some_and(|(a, b)| {
                    parse_c_unsigned(a).is_some()
                        && b.bytes().next().is_some_and(|c| c.is_ascii_digit())
                });
                if !ok {
                    fail!("invalid uidrange '{p}'");
                }
            }
            "l3mdev" => {
                l3mdev = true;
                if action != Action::Unspec {
                    fail!("l3mdev cannot be combined with another rule action");
                }
                action = Action::Table;
            }
            "protocol" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                match ctx.read_unsigned(line, i, 0, 255)? {
                    Some(v) => protocol = Some(v),
                    None => ctx.report(Level::GeneralError, format!("invalid rule protocol '{p}'")),
                }
            }
            "ipproto" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let ok = matches!(
                    p,
                    "tcp" | "udp" | "icmp" | "sctp" | "icmpv6" | "ipv6-icmp" | "gre" | "esp" | "ah"
                ) || parse_c_number(p).is_some_and(|v| v <= 255);
                if !ok {
                    ctx.report(Level::GeneralError, format!("invalid ipproto '{p}'"));
                }
            }
            "sport" | "dport" => {
                i += 1;
                let p = ctx.arg(line, i)?;
                let (a, b) = match p.split_once('-') {
                    Some((a, b)) => (a, Some(b)),
                    None => (p, None),
                };
                // keepalived: sscanf("%hu-%hu") must read two numbers; a single port
                // is refused (2.2.7 behaviour).
                let port = |s: &str| {
                    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
                    !digits.is_empty() && digits.parse::<u32>().is_ok()
                };
                let ok = port(a) && a.chars().all(|c| c.is_ascii_digit()) && b.is_some_and(port);
                if !ok {
                    ctx.report(Level::GeneralError, format!("invalid {word} range '{p}'"));
                }
            }
            "no_track" => rule.no_track = true,
            "track_group" if allow_track_group => {
                i += 1;
                let p = ctx.arg(line, i)?;
                if rule.track_group.is_some() {
                    ctx.report(Level::GeneralError, format!("duplicate track_group {p}"));
                    break;
                }
                if ctx.cfg.vrrp.static_track_groups.iter().any(|g| g.name == p) {
                    rule.track_group = Some(p.to_string());
                } else {
                    ctx.report(Level::GeneralError, format!("track_group {p} not found"));
                }
            }
            _ => {
                let mut w = word;
                if w == "type" {
                    i += 1;
                    w = ctx.arg(line, i)?;
                }
                let this_action = if w == "goto" {
                    i += 1;
                    let p = ctx.arg(line, i)?;
                    match ctx.read_unsigned(line, i, 0, u32::MAX)? {
                        Some(v) => goto_target = v,
                        None => fail!("invalid goto target '{p}'"),
                    }
                    Action::Goto
                } else if w == "nop" {
                    Action::Other
                } else if let Some(t) = route_type_value(w) {
                    if !matches!(t, 6..=8) {
                        fail!("invalid rule action '{w}'");
                    }
                    Action::Other
                } else {
                    fail!("unknown rule option '{w}'");
                };
                if action != Action::Unspec {
                    fail!(
                        "only one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev may be given for a rule"
                    );
                }
                action = this_action;
            }
        }
        i += 1;
    }
    if action == Action::Goto {
        match rule.priority {
            Some(p) if p >= goto_target => {
                fail!("invalid rule - preference {p} >= goto target {goto_target}")
            }
            Some(_) => {}
            None => fail!("invalid rule - goto target {goto_target} given without a preference"),
        }
    }
    if action == Action::Unspec {
        fail!("no action given for rule - ignoring");
    }
    if action != Action::Table && table_option {
        fail!("suppressor/realm given for a non-table rule action - skipping");
    }
    if rule.table.is_some() && l3mdev {
        fail!("a table cannot be given for l3mdev rules");
    }
    if !rule.no_track && protocol.is_some_and(|p| p != 18) {
        ctx.report(
            Level::GeneralError,
            "a tracked rule must use protocol keepalived (18) - resetting the protocol",
        );
    }
    if rule.track_group.is_some() && rule.iif.is_none() {
        ctx.report(
            Level::GeneralError,
            "a static rule cannot have a track_group without dev/iif",
        );
        rule.track_group = None;
    }
    if rule.family.is_none() {
        rule.family = Some(Family::V4);
    }
    if rule.priority.is_none() {
        // keepalived: counts down from 16384 per family; not what anyone wants.
        let fam = rule.family.unwrap_or(Family::V4);
        let next = ctx.state.vrrp.next_rule_priority(fam);
        ctx.report(
            Level::GeneralError,
            format!(
                "rule has no preference - setting it to {next}, which is probably not what you want"
            ),
        );
        rule.priority = Some(next);
    }
    Ok(Some(rule))
}
