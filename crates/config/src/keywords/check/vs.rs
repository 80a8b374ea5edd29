//! SSL, virtual_server_group, virtual_server, sorry_server and real_server
//! (check/check_parser.c, check/check_data.c `alloc_*`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::addr::{effective_port, parse_sockaddr};
use super::checkers;
use crate::diag::Level;
use crate::model::lvs::{
    CheckerKind, DEFAULT_PERSISTENCE_TIMEOUT, Family, Forwarding, ForwardingMethod, Granularity,
    Protocol, RealServer, ScriptSlot, SorryServer, SslConfig, TunnelChecksum, TunnelType,
    VirtualServer, VirtualServerGroup, VsAddress, VsgFwmark, VsgRange, WEIGHT_LIMIT,
};
use crate::parser::{Ctx, HandlerResult, Keyword};
use crate::reader::Line;
use crate::script;

/// keepalived's lvs_schedulers[].
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];
/// keepalived's LVS_MAX_TIMEOUT (31 days, seconds).
const LVS_MAX_TIMEOUT: u32 = 86400 * 31;
/// IP_VS_PENAME_MAXLEN.
const PENAME_MAXLEN: usize = 16;
/// A timer maximum of UINT_MAX microseconds (keepalived's `read_timer(..., UINT_MAX)`).
const UINT_MAX_US: u64 = u32::MAX as u64;

pub(super) static SSL: &[Keyword] = &[
    Keyword::new("password", ssl_password),
    Keyword::new("ca", ssl_ca),
    Keyword::new("certificate", ssl_certificate),
    Keyword::new("key", ssl_key),
];

pub(super) static VIRTUAL_SERVER: &[Keyword] = &[
    Keyword::new("ip_family", ip_family),
    Keyword::new("retry", vs_retry),
    Keyword::new("delay_before_retry", vs_delay_before_retry),
    Keyword::new("warmup", vs_warmup),
    Keyword::new("connect_timeout", vs_connect_timeout),
    Keyword::new("delay_loop", vs_delay_loop),
    Keyword::new("inhibit_on_failure", vs_inhibit),
    Keyword::new("lb_algo", scheduler),
    Keyword::new("lvs_sched", scheduler),
    Keyword::new("hashed", scheduler_flag),
    Keyword::new("ops", scheduler_flag),
    Keyword::new("flag-1", scheduler_flag),
    Keyword::new("flag-2", scheduler_flag),
    Keyword::new("flag-3", scheduler_flag),
    Keyword::new("sh-port", scheduler_flag),
    Keyword::new("sh-fallback", scheduler_flag),
    Keyword::new("mh-port", scheduler_flag),
    Keyword::new("mh-fallback", scheduler_flag),
    Keyword::new("lb_kind", vs_forwarding),
    Keyword::new("lvs_method", vs_forwarding),
    Keyword::new("persistence_engine", persistence_engine),
    Keyword::new("persistence_timeout", persistence_timeout),
    Keyword::new("persistence_granularity", persistence_granularity),
    Keyword::new("protocol", protocol),
    Keyword::new("ha_suspend", ha_suspend),
    Keyword::new("smtp_alert", vs_smtp_alert),
    Keyword::new("virtualhost", vs_virtualhost),
    Keyword::new("snmp_name", vs_snmp_name),
    Keyword::new("alpha", vs_alpha),
    Keyword::new("omega", omega),
    Keyword::new("quorum_up", quorum_up),
    Keyword::new("quorum_down", quorum_down),
    Keyword::new("quorum", quorum),
    Keyword::new("hysteresis", hysteresis),
    Keyword::new("weight", vs_weight),
    Keyword::new("sorry_server", sorry_server),
    Keyword::new("sorry_server_inhibit", sorry_server_inhibit),
    Keyword::new("sorry_server_lvs_method", sorry_server_forwarding),
    Keyword::block(
        "real_server",
        Some(rs_handler),
        REAL_SERVER,
        Some(rs_end_handler),
    ),
];

static REAL_SERVER: &[Keyword] = &[
    Keyword::new("weight", rs_weight),
    Keyword::new("lvs_method", rs_forwarding),
    Keyword::new("uthreshold", rs_uthreshold),
    Keyword::new("lthreshold", rs_lthreshold),
    Keyword::new("inhibit_on_failure", rs_inhibit),
    Keyword::new("notify_up", rs_notify_up),
    Keyword::new("notify_down", rs_notify_down),
    Keyword::new("alpha", rs_alpha),
    Keyword::new("retry", rs_retry),
    Keyword::new("delay_before_retry", rs_delay_before_retry),
    Keyword::new("warmup", rs_warmup),
    Keyword::new("connect_timeout", rs_connect_timeout),
    Keyword::new("delay_loop", rs_delay_loop),
    Keyword::new("smtp_alert", rs_smtp_alert),
    Keyword::new("virtualhost", rs_virtualhost),
    Keyword::new("snmp_name", rs_snmp_name),
    checkers::MISC_CHECK,
    checkers::SMTP_CHECK,
    checkers::TCP_CHECK,
    checkers::PING_CHECK,
    checkers::UDP_CHECK,
    checkers::HTTP_GET,
    checkers::SSL_GET,
    checkers::DNS_CHECK,
    checkers::FILE_CHECK,
    checkers::BFD_CHECK,
];

pub(super) fn last_vs<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut VirtualServer> {
    ctx.cfg.lvs.virtual_servers.last_mut()
}

pub(super) fn last_rs<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut RealServer> {
    last_vs(ctx)?.real_servers.last_mut()
}

/// keepalived's `check_true_false()` for an optional argument: no argument is true.
/// Returns `None` (after reporting `what`) for an invalid word.
pub(super) fn optional_bool(ctx: &mut Ctx<'_>, line: &Line, what: &str) -> Option<bool> {
    match line.word(1) {
        None => Some(true),
        Some(w) => match Ctx::parse_bool(w) {
            Some(b) => Some(b),
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid {what} parameter '{w}'"),
                );
                None
            }
        },
    }
}

// ---------------------------------------------------------------------------------
// SSL

pub(super) fn ssl_handler(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if ctx.cfg.lvs.ssl.is_some() {
        ctx.report(
            Level::GeneralError,
            "SSL context already specified - replacing it",
        );
    }
    ctx.cfg.lvs.ssl = Some(SslConfig::default());
    Ok(())
}

fn ssl_file(
    ctx: &mut Ctx<'_>,
    line: &Line,
    what: &str,
    field: fn(&mut SslConfig) -> &mut Option<String>,
) -> HandlerResult {
    let Some(value) = line.word(1) else {
        ctx.report(Level::GeneralError, format!("SSL {what} missing"));
        return Ok(());
    };
    let already = ctx
        .cfg
        .lvs
        .ssl
        .as_mut()
        .is_some_and(|ssl| field(ssl).is_some());
    if already {
        ctx.report(
            Level::GeneralError,
            format!("SSL {what} already specified - replacing it"),
        );
    }
    if let Some(ssl) = ctx.cfg.lvs.ssl.as_mut() {
        *field(ssl) = Some(value.to_string());
    }
    Ok(())
}

fn ssl_password(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ssl_file(ctx, line, "password", |s| &mut s.password)
}
fn ssl_ca(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ssl_file(ctx, line, "cafile", |s| &mut s.ca_file)
}
fn ssl_certificate(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ssl_file(ctx, line, "certfile", |s| &mut s.certificate_file)
}
fn ssl_key(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ssl_file(ctx, line, "keyfile", |s| &mut s.key_file)
}

// ---------------------------------------------------------------------------------
// virtual_server_group

pub(super) fn vsg_handler(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?.to_string();
    ctx.cfg.lvs.virtual_server_groups.push(VirtualServerGroup {
        name: name.clone(),
        ranges: Vec::new(),
        fwmarks: Vec::new(),
        span: line.span,
    });
    // keepalived's alloc_value_block() expects the block right after the keyword, so
    // the group name is taken out of the line first.
    let mut block_line = line.clone();
    if block_line.tokens.len() > 1 {
        block_line.tokens.remove(1);
    }
    // keepalived: the word list it passes has no keyword name (slot 0 unset).
    ctx.value_block_unnamed(&block_line, vsg_entry)?;

    let Some(group) = ctx.cfg.lvs.virtual_server_groups.last() else {
        return Ok(());
    };
    if group.ranges.is_empty() && group.fwmarks.is_empty() {
        ctx.report(
            Level::GeneralError,
            format!("virtual server group {name} has no entries - removing it"),
        );
        ctx.cfg.lvs.virtual_server_groups.pop();
    } else if group.has_ipv4() && group.has_ipv6() && group.has_fwmark_without_family() {
        ctx.report(
            Level::GeneralError,
            format!(
                "virtual server group {name} cannot have IPv4, IPv6 and a fwmark without family - removing it"
            ),
        );
        ctx.cfg.lvs.virtual_server_groups.pop();
    }
    Ok(())
}

/// One line of a virtual_server_group block (keepalived's `alloc_vsg_entry()`).
fn vsg_entry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let group_name = ctx
        .cfg
        .lvs
        .virtual_server_groups
        .last()
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let first = ctx.arg(line, 0)?;
    if first == "fwmark" {
        let Some(mark) = ctx.read_unsigned(line, 1, 0, u32::MAX)? else {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!(
                    "({group_name}): fwmark '{word}' must be in [0, {}] - ignoring",
                    u32::MAX
                ),
            );
            return Ok(());
        };
        let family = match line.word(2) {
            None => None,
            Some("inet") => Some(Family::Inet),
            Some("inet6") => Some(Family::Inet6),
            Some(other) => {
                ctx.report(
                    Level::GeneralError,
                    format!("({group_name}): fwmark {mark} family '{other}' unknown - ignoring"),
                );
                return Ok(());
            }
        };
        if let Some(group) = ctx.cfg.lvs.virtual_server_groups.last_mut() {
            group.fwmarks.push(VsgFwmark { mark, family });
        }
        return Ok(());
    }

    let addr_text = first.to_string();
    let port_text = effective_port(line.word(1)).map(str::to_string);
    let Ok((start, port)) = parse_sockaddr(ctx, &addr_text, port_text.as_deref(), line.span_of(1))
    else {
        ctx.report(
            Level::GeneralError,
            format!(
                "invalid virtual server group address {addr_text}{} - skipping",
                port_text
                    .as_deref()
                    .map(|p| format!(" port {p}"))
                    .unwrap_or_default()
            ),
        );
        return Ok(());
    };
    let end = if let Some((_, mask_text)) = addr_text.split_once('/') {
        match masked_range_end(&start, mask_text) {
            Ok(end) => end,
            Err(MaskError::BadMask) => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid netmask in {addr_text} - skipping"),
                );
                return Ok(());
            }
            Err(MaskError::HostBitsSet) => {
                ctx.report(
                    Level::GeneralError,
                    format!("address {addr_text} has bits set outside its mask - skipping"),
                );
                return Ok(());
            }
        }
    } else {
        match vsg_dash_range(ctx, &addr_text, &start, port_text.as_deref(), line)? {
            Some(end) => end,
            None => return Ok(()),
        }
    };
    if let Some(group) = ctx.cfg.lvs.virtual_server_groups.last_mut() {
        group.ranges.push(VsgRange { start, end, port });
    }
    Ok(())
}

enum MaskError {
    BadMask,
    HostBitsSet,
}

/// The last address of `start/mask`; the host bits of `start` must be clear.
fn masked_range_end(start: &IpAddr, mask_text: &str) -> Result<IpAddr, MaskError> {
    let mask: u32 = if mask_text.bytes().all(|b| b.is_ascii_digit()) && !mask_text.is_empty() {
        mask_text.parse().map_err(|_| MaskError::BadMask)?
    } else {
        return Err(MaskError::BadMask);
    };
    match start {
        IpAddr::V4(a) => {
            if mask == 0 || mask > 32 {
                return Err(MaskError::BadMask);
            }
            let host = u32::MAX.checked_shr(mask).unwrap_or(0);
            let bits = u32::from(*a);
            if bits & host != 0 {
                return Err(MaskError::HostBitsSet);
            }
            Ok(IpAddr::V4(Ipv4Addr::from(bits | host)))
        }
        IpAddr::V6(a) => {
            if mask == 0 || mask > 128 {
                return Err(MaskError::BadMask);
            }
            let host = u128::MAX.checked_shr(mask).unwrap_or(0);
            let bits = u128::from(*a);
            if bits & host != 0 {
                return Err(MaskError::HostBitsSet);
            }
            Ok(IpAddr::V6(Ipv6Addr::from(bits | host)))
        }
    }
}

/// `A-B` ranges of a virtual server group entry: B is a whole address when it looks
/// like one, else the last byte (IPv4, decimal) / last 16-bit group (IPv6, hex).
/// `Ok(None)` = entry rejected (already reported).
fn vsg_dash_range(
    ctx: &mut Ctx<'_>,
    addr_text: &str,
    start: &IpAddr,
    port: Option<&str>,
    line: &Line,
) -> Result<Option<IpAddr>, crate::parser::Abort> {
    let Some((_, end_text)) = addr_text.split_once('-') else {
        return Ok(Some(*start));
    };
    let full_address = match start {
        IpAddr::V4(_) => end_text.contains('.'),
        IpAddr::V6(_) => end_text.contains(':'),
    };
    if full_address {
        let Ok((end, _)) = parse_sockaddr(ctx, end_text, port, line.span_of(1)) else {
            ctx.report(
                Level::GeneralError,
                format!("invalid range end in {addr_text} - skipping"),
            );
            return Ok(None);
        };
        if Family::of(&end) != Family::of(start) {
            ctx.report(
                Level::GeneralError,
                format!("range address families do not match in {addr_text} - skipping"),
            );
            return Ok(None);
        }
        let backwards = match (start, &end) {
            (IpAddr::V4(s), IpAddr::V4(e)) => u32::from(*s) > u32::from(*e),
            (IpAddr::V6(s), IpAddr::V6(e)) => u128::from(*s) > u128::from(*e),
            _ => true,
        };
        if backwards {
            ctx.report(
                Level::GeneralError,
                format!("address range end is less than its start in {addr_text} - skipping"),
            );
            return Ok(None);
        }
        return Ok(Some(end));
    }

    // keepalived's inet_stor(): strtoul() of the text after '-'.
    let radix = if matches!(start, IpAddr::V6(_)) {
        16
    } else {
        10
    };
    let digits_len = end_text
        .char_indices()
        .find(|(_, c)| !c.is_digit(radix))
        .map(|(i, _)| i)
        .unwrap_or(end_text.len());
    let (digits, rest) = end_text.split_at(digits_len);
    if !rest.is_empty() {
        // keepalived: reported as an invalid number, and the entry is dropped when testing.
        ctx.report(
            Level::InvalidNumber,
            format!(
                "virtual server group range '{addr_text}' has extra characters at the end: '{rest}'"
            ),
        );
        return Ok(None);
    }
    let value = if digits.is_empty() {
        Some(0)
    } else {
        u64::from_str_radix(digits, radix).ok()
    };
    let limit = if radix == 16 { 0xffff } else { 255 };
    let Some(range_end) = value.filter(|v| *v <= limit) else {
        ctx.report(
            Level::InvalidNumber,
            format!("virtual server group range '{addr_text}' end '{end_text}' is too large"),
        );
        return Ok(None);
    };
    let (end, first) = match start {
        IpAddr::V4(s) => {
            let bits = u32::from(*s);
            let end_bits = (bits & !0xff) | u32::try_from(range_end).unwrap_or(0);
            (IpAddr::V4(Ipv4Addr::from(end_bits)), u64::from(bits & 0xff))
        }
        IpAddr::V6(s) => {
            let mut seg = s.segments();
            let first = u64::from(seg[7]);
            seg[7] = u16::try_from(range_end).unwrap_or(0);
            (IpAddr::V6(Ipv6Addr::from(seg)), first)
        }
    };
    if first >= range_end {
        ctx.report(
            Level::GeneralError,
            format!("address range end is not greater than its start in {addr_text} - skipping"),
        );
        return Ok(None);
    }
    Ok(Some(end))
}

// ---------------------------------------------------------------------------------
// virtual_server

pub(super) fn vs_handler(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.cfg.lvs.have_checker_config = true;
    let first = ctx.arg(line, 1)?.to_string();
    let address = match first.as_str() {
        "group" => VsAddress::Group(ctx.arg(line, 2)?.to_string()),
        "fwmark" => {
            let word = ctx.arg(line, 2)?.to_string();
            match ctx.parse_unsigned(
                &word,
                line.span_of(2),
                10,
                0,
                u64::from(u32::MAX),
                u64::from(u32::MAX),
            ) {
                Some(mark) => VsAddress::Fwmark {
                    mark: u32::try_from(mark).unwrap_or(u32::MAX),
                },
                None => {
                    ctx.report(
                        Level::GeneralError,
                        format!(
                            "virtual server fwmark '{word}' must be in [0, {}] - ignoring",
                            u32::MAX
                        ),
                    );
                    ctx.skip_block(true);
                    return Ok(());
                }
            }
        }
        _ => {
            let port = effective_port(line.word(2)).map(str::to_string);
            match parse_sockaddr(ctx, &first, port.as_deref(), line.span_of(2)) {
                Ok((addr, port)) => VsAddress::Ip { addr, port },
                Err(_) => {
                    ctx.report(
                        Level::GeneralError,
                        format!(
                            "invalid virtual server address {first}{} - skipping",
                            port.map(|p| format!(" port {p}")).unwrap_or_default()
                        ),
                    );
                    ctx.skip_block(true);
                    return Ok(());
                }
            }
        }
    };
    ctx.cfg
        .lvs
        .virtual_servers
        .push(VirtualServer::new(address, line.span));
    Ok(())
}

/// keepalived's `vs_end_handler()`: settle the address family from the sorry and real
/// servers when the virtual server itself does not give one.
pub(super) fn vs_end_handler(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(vs) = last_vs(ctx) else {
        return Ok(());
    };
    let mut mismatch = None;
    if let Some(ss) = &vs.sorry_server {
        // A tunnelled sorry server may be of another family.
        let tunnelled = ss.forwarding.map(|f| f.method) == Some(ForwardingMethod::Tunnel);
        if !tunnelled {
            let ss_family = Family::of(&ss.addr);
            match vs.family {
                None => vs.family = Some(ss_family),
                Some(f) if f != ss_family => mismatch = Some(ss.addr),
                Some(_) => {}
            }
        }
    }
    if mismatch.is_some() {
        vs.sorry_server = None;
    }
    if vs.family.is_none() && !matches!(vs.address, VsAddress::Group(_)) {
        // Only tunnelled servers (or none): keepalived takes their common family,
        // IPv4 when they are mixed.
        let mut family = vs.sorry_server.as_ref().map(|s| Family::of(&s.addr));
        let mut mixed = false;
        for rs in &vs.real_servers {
            let f = Family::of(&rs.addr);
            match family {
                None => family = Some(f),
                Some(existing) if existing != f => {
                    mixed = true;
                    break;
                }
                Some(_) => {}
            }
        }
        vs.family = if mixed {
            Some(Family::Inet)
        } else {
            family.or(Some(Family::Inet))
        };
    }
    if let Some(addr) = mismatch {
        ctx.report(
            Level::GeneralError,
            format!("address family of virtual server and sorry server {addr} don't match - skipping the sorry server"),
        );
    }
    Ok(())
}

fn ip_family(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let family = match word {
        "inet" => Family::Inet,
        "inet6" => Family::Inet6,
        other => {
            ctx.report(
                Level::GeneralError,
                format!("unknown address family '{other}'"),
            );
            return Ok(());
        }
    };
    let current = last_vs(ctx).and_then(|vs| vs.family);
    if current.is_some_and(|f| f != family) {
        ctx.report(
            Level::GeneralError,
            format!("virtual server family {word} conflicts with its address family"),
        );
        return Ok(());
    }
    if let Some(vs) = last_vs(ctx) {
        vs.family = Some(family);
    }
    Ok(())
}

/// Reads a timer for a virtual/real server keyword, reporting `what` when invalid.
fn timer(
    ctx: &mut Ctx<'_>,
    line: &Line,
    min_us: u64,
    max_us: u64,
    what: &str,
) -> Result<Option<u64>, crate::parser::Abort> {
    let value = ctx.read_timer(line, 1, min_us, max_us)?;
    if value.is_none() {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("{what} '{word}' invalid - ignoring"),
        );
    }
    Ok(value)
}

fn retry_value(ctx: &mut Ctx<'_>, line: &Line) -> Result<Option<u32>, crate::parser::Abort> {
    let value = ctx.read_unsigned(line, 1, 1, u32::MAX)?;
    if value.is_none() {
        let word = line.word(1).unwrap_or("");
        ctx.report(Level::GeneralError, format!("retry value '{word}' invalid"));
    }
    Ok(value)
}

fn vs_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = retry_value(ctx, line)?
        && let Some(vs) = last_vs(ctx)
    {
        vs.retry = Some(v);
    }
    Ok(())
}

fn vs_delay_before_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 0, 0, "virtual server delay_before_retry")?
        && let Some(vs) = last_vs(ctx)
    {
        vs.delay_before_retry_us = Some(v);
    }
    Ok(())
}

fn vs_warmup(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 0, 0, "virtual server warmup")?
        && let Some(vs) = last_vs(ctx)
    {
        vs.warmup_us = Some(v);
    }
    Ok(())
}

fn vs_connect_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 1, UINT_MAX_US, "virtual server connect_timeout")?
        && let Some(vs) = last_vs(ctx)
    {
        vs.connect_timeout_us = v;
    }
    Ok(())
}

fn vs_delay_loop(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 1, 0, "virtual server delay_loop")?
        && let Some(vs) = last_vs(ctx)
    {
        vs.delay_loop_us = v;
    }
    Ok(())
}

fn vs_inhibit(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(vs) = last_vs(ctx) {
        vs.inhibit_on_failure = true;
    }
    Ok(())
}

fn scheduler(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?;
    if !SCHEDULERS.contains(&name) {
        ctx.report(
            Level::GeneralError,
            format!("invalid lvs_sched '{name}' - ignoring"),
        );
        return Ok(());
    }
    let name = name.to_string();
    if let Some(vs) = last_vs(ctx) {
        vs.scheduler = Some(name);
    }
    Ok(())
}

/// `ops`, `flag-N`, `sh-*`, `mh-*` and `hashed` (keepalived's `lbflags_handler()`):
/// the scheduler-specific flags only apply after `lvs_sched sh`/`mh`.
fn scheduler_flag(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = line.word(0).unwrap_or("");
    let Some(vs) = last_vs(ctx) else {
        return Ok(());
    };
    let sched = vs.scheduler.clone().unwrap_or_default();
    let flags = &mut vs.scheduler_flags;
    match word {
        "ops" => flags.one_packet = true,
        "flag-1" => flags.flag1 = true,
        "flag-2" => flags.flag2 = true,
        "flag-3" => flags.flag3 = true,
        _ if sched == "sh" => match word {
            "sh-port" => flags.sh_port = true,
            "sh-fallback" => flags.sh_fallback = true,
            _ => {}
        },
        _ if sched == "mh" => match word {
            "mh-port" => flags.mh_port = true,
            "mh-fallback" => flags.mh_fallback = true,
            _ => {}
        },
        _ => ctx.report(
            Level::GeneralError,
            format!("{word} only applies to the sh/mh schedulers - ignoring"),
        ),
    }
    Ok(())
}

/// keepalived's `svr_forwarding_handler()`. The method is set as soon as it is
/// recognised; the tunnel options only when they are all valid.
fn parse_forwarding(
    ctx: &mut Ctx<'_>,
    line: &Line,
    server: &str,
    current: Option<Forwarding>,
) -> Result<Option<Forwarding>, crate::parser::Abort> {
    let word = ctx.arg(line, 1)?;
    let method = match word {
        "NAT" => ForwardingMethod::Nat,
        "DR" => ForwardingMethod::DirectRouting,
        "TUN" => ForwardingMethod::Tunnel,
        other => {
            ctx.report(
                Level::GeneralError,
                format!("unknown lvs_method '{other}' for {server} server"),
            );
            return Ok(current);
        }
    };
    let mut result = current.unwrap_or(Forwarding::plain(method));
    result.method = method;

    let mut tunnel_type = TunnelType::Ipip;
    let mut port: u16 = 0;
    let mut checksum = TunnelChecksum::NoCsum;
    let mut i = 2;
    while let Some(option) = line.word(i) {
        match option {
            "type" => {
                let Some(t) = line.word(i + 1) else {
                    ctx.report(
                        Level::GeneralError,
                        format!("missing tunnel type for {server} server"),
                    );
                    return Ok(Some(result));
                };
                tunnel_type = match t {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    other => {
                        ctx.report(
                            Level::GeneralError,
                            format!("unknown tunnel type '{other}' for {server} server"),
                        );
                        return Ok(Some(result));
                    }
                };
                i += 1;
            }
            "port" => {
                if line.word(i + 1).is_none() {
                    ctx.report(
                        Level::GeneralError,
                        format!("missing port for {server} server gue tunnel"),
                    );
                    return Ok(Some(result));
                }
                match ctx.read_unsigned(line, i + 1, 1, 65535)? {
                    Some(p) => port = u16::try_from(p).unwrap_or(0),
                    None => {
                        let w = line.word(i + 1).unwrap_or("");
                        ctx.report(
                            Level::GeneralError,
                            format!("invalid gue tunnel port '{w}' for {server} server"),
                        );
                        return Ok(Some(result));
                    }
                }
                i += 1;
            }
            "nocsum" => checksum = TunnelChecksum::NoCsum,
            "csum" => checksum = TunnelChecksum::Csum,
            "remcsum" => checksum = TunnelChecksum::RemCsum,
            other => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid tunnel option '{other}' for {server} server"),
                );
                return Ok(Some(result));
            }
        }
        i += 1;
    }
    if (tunnel_type == TunnelType::Gue) != (port != 0) {
        ctx.report(
            Level::GeneralError,
            "gue tunnels require a port, other tunnel types cannot have one",
        );
        return Ok(Some(result));
    }
    if tunnel_type == TunnelType::Ipip && checksum != TunnelChecksum::NoCsum {
        ctx.report(
            Level::GeneralError,
            "ipip tunnels do not support checksum options",
        );
        return Ok(Some(result));
    }
    if tunnel_type == TunnelType::Gre && checksum == TunnelChecksum::RemCsum {
        ctx.report(
            Level::GeneralError,
            "gre tunnels do not support the remote checksum option",
        );
        return Ok(Some(result));
    }
    result.tunnel_type = tunnel_type;
    result.tunnel_port = port;
    result.tunnel_checksum = checksum;
    Ok(Some(result))
}

fn vs_forwarding(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let current = last_vs(ctx).and_then(|vs| vs.forwarding);
    let new = parse_forwarding(ctx, line, "virtual", current)?;
    if let Some(vs) = last_vs(ctx) {
        vs.forwarding = new;
    }
    Ok(())
}

fn persistence_engine(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?.to_string();
    let mut stored = name.clone();
    if name.len() > PENAME_MAXLEN {
        ctx.report(
            Level::GeneralError,
            format!("persistence_engine name '{name}' too long - truncating"),
        );
        let mut cut = PENAME_MAXLEN;
        while !stored.is_char_boundary(cut) {
            cut -= 1;
        }
        stored.truncate(cut);
    }
    if let Some(vs) = last_vs(ctx) {
        vs.persistence.engine = Some(stored);
    }
    Ok(())
}

fn persistence_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let timeout = if line.len() < 2 {
        DEFAULT_PERSISTENCE_TIMEOUT
    } else {
        match ctx.read_unsigned(line, 1, 1, LVS_MAX_TIMEOUT)? {
            Some(t) => t,
            None => {
                ctx.report(Level::GeneralError, "persistence_timeout invalid");
                return Ok(());
            }
        }
    };
    if let Some(vs) = last_vs(ctx) {
        vs.persistence.timeout = timeout;
    }
    Ok(())
}

/// glibc `inet_aton()` (what getaddrinfo(AI_NUMERICHOST) accepts for IPv4): 1 to 4
/// parts, each decimal, octal (leading 0) or hex (0x); the last part fills the rest.
fn inet_aton(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"))
        {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() && radix != 8 {
            return None;
        }
        let v = if digits.is_empty() {
            0
        } else {
            u32::from_str_radix(digits, radix).ok()?
        };
        values.push(v);
    }
    let (last, head) = values.split_last()?;
    let mut addr: u32 = 0;
    for (i, v) in head.iter().enumerate() {
        if *v > 255 {
            return None;
        }
        addr |= v << (24 - 8 * i);
    }
    let remaining_bits = 32 - 8 * head.len();
    if remaining_bits < 32 && *last >= (1u32 << remaining_bits) {
        return None;
    }
    Some(Ipv4Addr::from(addr | last))
}

fn persistence_granularity(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?.to_string();
    let current = last_vs(ctx).and_then(|vs| vs.family);
    let family = current.unwrap_or(if word.contains('.') {
        Family::Inet
    } else {
        Family::Inet6
    });
    let granularity = match family {
        Family::Inet6 => match ctx.read_unsigned(line, 1, 1, 128)? {
            Some(p) => Granularity::V6Prefix(u8::try_from(p).unwrap_or(128)),
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid IPv6 persistence_granularity '{word}'"),
                );
                return Ok(());
            }
        },
        Family::Inet => match inet_aton(&word) {
            Some(mask) => Granularity::V4Mask(mask),
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("invalid IPv4 persistence_granularity '{word}'"),
                );
                return Ok(());
            }
        },
    };
    if let Some(vs) = last_vs(ctx) {
        vs.persistence.granularity = Some(granularity);
        if vs.family.is_none() {
            vs.family = Some(family);
        }
        if vs.persistence.timeout == 0 {
            vs.persistence.timeout = DEFAULT_PERSISTENCE_TIMEOUT;
        }
    }
    Ok(())
}

fn protocol(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let proto = match word.to_ascii_uppercase().as_str() {
        "TCP" => Protocol::Tcp,
        "SCTP" => Protocol::Sctp,
        "UDP" => Protocol::Udp,
        _ => {
            ctx.report(
                Level::GeneralError,
                format!("unknown protocol '{word}' - ignoring"),
            );
            return Ok(());
        }
    };
    if let Some(vs) = last_vs(ctx) {
        vs.protocol = Some(proto);
    }
    Ok(())
}

fn ha_suspend(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(vs) = last_vs(ctx) {
        vs.ha_suspend = true;
    }
    Ok(())
}

fn vs_smtp_alert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "virtual_server smtp_alert")
        && let Some(vs) = last_vs(ctx)
    {
        vs.smtp_alert = Some(v);
    }
    Ok(())
}

fn vs_virtualhost(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(host) = line.word(1) else {
        ctx.report(Level::GeneralError, "virtual server virtualhost missing");
        return Ok(());
    };
    let host = host.to_string();
    if let Some(vs) = last_vs(ctx) {
        vs.virtualhost = Some(host);
    }
    Ok(())
}

fn vs_snmp_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "virtual server snmp_name missing or has extra parameters",
        );
        return Ok(());
    }
    let name = line.word(1).unwrap_or("").to_string();
    if let Some(vs) = last_vs(ctx) {
        vs.snmp_name = Some(name);
    }
    Ok(())
}

fn vs_alpha(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(vs) = last_vs(ctx) {
        vs.alpha = true;
    }
    Ok(())
}

fn omega(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(vs) = last_vs(ctx) {
        vs.omega = true;
    }
    Ok(())
}

fn quorum_script(ctx: &mut Ctx<'_>, line: &Line, up: bool) -> HandlerResult {
    let Some(script) = script::parse_script(ctx, line, 1)? else {
        return Ok(());
    };
    let vs_index = ctx.cfg.lvs.virtual_servers.len().checked_sub(1);
    let Some(vs) = last_vs(ctx) else {
        return Ok(());
    };
    let slot = if up {
        &mut vs.quorum_up
    } else {
        &mut vs.quorum_down
    };
    if slot.is_none() {
        *slot = Some(script);
    } else if let Some(index) = vs_index {
        // keepalived: an error only if the first script could be created (validation).
        let which = if up {
            ScriptSlot::QuorumUp
        } else {
            ScriptSlot::QuorumDown
        };
        ctx.cfg
            .lvs
            .pending
            .duplicate_scripts
            .push((index, None, which, script));
    }
    Ok(())
}

fn quorum_up(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    quorum_script(ctx, line, true)
}

fn quorum_down(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    quorum_script(ctx, line, false)
}

fn quorum(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let value = match ctx.read_unsigned(line, 1, 1, u32::MAX)? {
        Some(v) => v,
        None => {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!(
                    "quorum '{word}' must be in [1, {}] - setting it to 1",
                    u32::MAX
                ),
            );
            1
        }
    };
    if let Some(vs) = last_vs(ctx) {
        vs.quorum = value;
    }
    Ok(())
}

fn hysteresis(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(value) = ctx.read_unsigned(line, 1, 0, u32::MAX)? else {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!(
                "hysteresis '{word}' must be in [0, {}] - ignoring",
                u32::MAX
            ),
        );
        return Ok(());
    };
    if let Some(vs) = last_vs(ctx) {
        vs.hysteresis = value;
    }
    Ok(())
}

fn vs_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(value) = ctx.read_unsigned(line, 1, 1, WEIGHT_LIMIT)? else {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("virtual server weight '{word}' is outside range 1-{WEIGHT_LIMIT}"),
        );
        return Ok(());
    };
    if let Some(vs) = last_vs(ctx) {
        vs.weight = value;
    }
    Ok(())
}

fn sorry_server(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let ip = ctx.arg(line, 1)?.to_string();
    let port = effective_port(line.word(2)).map(str::to_string);
    let Ok((addr, port)) = parse_sockaddr(ctx, &ip, port.as_deref(), line.span_of(2)) else {
        ctx.report(
            Level::GeneralError,
            format!("invalid sorry server address {ip} - skipping"),
        );
        return Ok(());
    };
    if let Some(vs) = last_vs(ctx) {
        vs.sorry_server = Some(SorryServer {
            addr,
            port,
            forwarding: vs.forwarding,
            inhibit: false,
        });
    }
    Ok(())
}

fn sorry_server_inhibit(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    match last_vs(ctx).and_then(|vs| vs.sorry_server.as_mut()) {
        Some(ss) => ss.inhibit = true,
        None => ctx.report(
            Level::GeneralError,
            "ignoring sorry_server_inhibit used before or without sorry_server",
        ),
    }
    Ok(())
}

fn sorry_server_forwarding(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(current) = last_vs(ctx).and_then(|vs| vs.sorry_server.as_ref().map(|s| s.forwarding))
    else {
        ctx.report(
            Level::GeneralError,
            "sorry_server_lvs_method used without sorry_server",
        );
        return Ok(());
    };
    let new = parse_forwarding(ctx, line, "sorry", current)?;
    if let Some(ss) = last_vs(ctx).and_then(|vs| vs.sorry_server.as_mut()) {
        ss.forwarding = new;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// real_server

fn rs_handler(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let ip = ctx.arg(line, 1)?.to_string();
    let port_word = line.word(2).map(str::to_string);
    let port = effective_port(port_word.as_deref()).map(str::to_string);
    let Ok((addr, port)) = parse_sockaddr(ctx, &ip, port.as_deref(), line.span_of(2)) else {
        ctx.report(
            Level::GeneralError,
            format!(
                "invalid real server address/port {ip}/{} - skipping",
                port_word.unwrap_or_default()
            ),
        );
        ctx.skip_block(true);
        return Ok(());
    };
    if let Some(vs) = last_vs(ctx) {
        let forwarding = vs.forwarding;
        vs.real_servers
            .push(RealServer::new(addr, port, forwarding, line.span));
    }
    Ok(())
}

/// keepalived's `rs_end_handler()`: a non-tunnelled real server must be of the virtual
/// server's family (and gives the family when the virtual server has none yet).
fn rs_end_handler(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(vs) = last_vs(ctx) else {
        return Ok(());
    };
    let Some(rs) = vs.real_servers.last() else {
        return Ok(());
    };
    if rs.forwarding.map(|f| f.method) == Some(ForwardingMethod::Tunnel) {
        return Ok(());
    }
    let family = Family::of(&rs.addr);
    let addr = rs.addr;
    match vs.family {
        None => vs.family = Some(family),
        Some(f) if f != family => {
            let orphans: Vec<_> = vs
                .real_servers
                .pop()
                .map(|rs| rs.checkers)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| match c.kind {
                    CheckerKind::Misc { script, .. } => Some(script),
                    _ => None,
                })
                .collect();
            let rs_index = vs.real_servers.len();
            let vs_index = ctx.cfg.lvs.virtual_servers.len().saturating_sub(1);
            ctx.cfg
                .lvs
                .pending
                .duplicate_scripts
                .retain(|(v, r, _, _)| !(*v == vs_index && *r == Some(rs_index)));
            ctx.cfg.lvs.pending.orphan_misc_scripts.extend(orphans);
            ctx.report(
                Level::GeneralError,
                format!("address family of virtual server and real server {addr} don't match - skipping the real server"),
            );
        }
        Some(_) => {}
    }
    Ok(())
}

fn rs_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(value) = ctx.read_unsigned(line, 1, 0, WEIGHT_LIMIT)? else {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("real server weight '{word}' is outside range 0-{WEIGHT_LIMIT}"),
        );
        return Ok(());
    };
    if let Some(rs) = last_rs(ctx) {
        rs.weight = Some(value);
    }
    Ok(())
}

fn rs_forwarding(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let current = last_rs(ctx).and_then(|rs| rs.forwarding);
    let new = parse_forwarding(ctx, line, "real", current)?;
    if let Some(rs) = last_rs(ctx) {
        rs.forwarding = new;
    }
    Ok(())
}

fn threshold(ctx: &mut Ctx<'_>, line: &Line, upper: bool) -> HandlerResult {
    let Some(value) = ctx.read_unsigned(line, 1, 0, u32::MAX)? else {
        let word = line.word(1).unwrap_or("");
        let keyword = if upper { "uthreshold" } else { "lthreshold" };
        ctx.report(
            Level::GeneralError,
            format!("invalid real_server {keyword} '{word}' - ignoring"),
        );
        return Ok(());
    };
    if let Some(rs) = last_rs(ctx) {
        if upper {
            rs.upper_threshold = value;
        } else {
            rs.lower_threshold = value;
        }
    }
    Ok(())
}

fn rs_uthreshold(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    threshold(ctx, line, true)
}

fn rs_lthreshold(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    threshold(ctx, line, false)
}

fn rs_inhibit(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "inhibit_on_failure")
        && let Some(rs) = last_rs(ctx)
    {
        rs.inhibit_on_failure = Some(v);
    }
    Ok(())
}

fn notify_script(ctx: &mut Ctx<'_>, line: &Line, up: bool) -> HandlerResult {
    let Some(script) = script::parse_script(ctx, line, 1)? else {
        return Ok(());
    };
    let vs_index = ctx.cfg.lvs.virtual_servers.len().checked_sub(1);
    let Some(vs) = last_vs(ctx) else {
        return Ok(());
    };
    let rs_index = vs.real_servers.len().checked_sub(1);
    let Some(rs) = vs.real_servers.last_mut() else {
        return Ok(());
    };
    let slot = if up {
        &mut rs.notify_up
    } else {
        &mut rs.notify_down
    };
    if slot.is_none() {
        *slot = Some(script);
    } else if let Some(index) = vs_index {
        // keepalived: an error only if the first script could be created (validation).
        let which = if up {
            ScriptSlot::NotifyUp
        } else {
            ScriptSlot::NotifyDown
        };
        ctx.cfg
            .lvs
            .pending
            .duplicate_scripts
            .push((index, rs_index, which, script));
    }
    Ok(())
}

fn rs_notify_up(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    notify_script(ctx, line, true)
}

fn rs_notify_down(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    notify_script(ctx, line, false)
}

fn rs_alpha(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "alpha")
        && let Some(rs) = last_rs(ctx)
    {
        rs.alpha = Some(v);
    }
    Ok(())
}

fn rs_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = retry_value(ctx, line)?
        && let Some(rs) = last_rs(ctx)
    {
        rs.retry = Some(v);
    }
    Ok(())
}

fn rs_delay_before_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 0, 0, "real server delay_before_retry")?
        && let Some(rs) = last_rs(ctx)
    {
        rs.delay_before_retry_us = Some(v);
    }
    Ok(())
}

fn rs_warmup(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 0, 0, "real server warmup")?
        && let Some(rs) = last_rs(ctx)
    {
        rs.warmup_us = Some(v);
    }
    Ok(())
}

fn rs_connect_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 1, UINT_MAX_US, "real server connect_timeout")?
        && let Some(rs) = last_rs(ctx)
    {
        rs.connect_timeout_us = Some(v);
    }
    Ok(())
}

fn rs_delay_loop(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = timer(ctx, line, 1, 0, "real server delay_loop")?
        && let Some(rs) = last_rs(ctx)
    {
        rs.delay_loop_us = Some(v);
    }
    Ok(())
}

fn rs_smtp_alert(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "real_server smtp_alert")
        && let Some(rs) = last_rs(ctx)
    {
        rs.smtp_alert = Some(v);
    }
    Ok(())
}

fn rs_virtualhost(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(host) = line.word(1) else {
        ctx.report(Level::GeneralError, "real server virtualhost missing");
        return Ok(());
    };
    let host = host.to_string();
    if let Some(rs) = last_rs(ctx) {
        rs.virtualhost = Some(host);
    }
    Ok(())
}

fn rs_snmp_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() != 2 {
        ctx.report(
            Level::GeneralError,
            "real server snmp_name missing or has extra parameters",
        );
        return Ok(());
    }
    let name = line.word(1).unwrap_or("").to_string();
    if let Some(rs) = last_rs(ctx) {
        rs.snmp_name = Some(name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_forms() {
        assert_eq!(
            inet_aton("255.255.255.0"),
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(
            inet_aton("255.255.0xff00"),
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(inet_aton("256.0.0.0"), None);
        assert_eq!(inet_aton("abc"), None);
    }

    #[test]
    fn masks() {
        let start: IpAddr = "10.0.0.0"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(
            matches!(masked_range_end(&start, "24"), Ok(IpAddr::V4(a)) if a == Ipv4Addr::new(10, 0, 0, 255))
        );
        assert!(matches!(
            masked_range_end(&start, "0"),
            Err(MaskError::BadMask)
        ));
        assert!(matches!(
            masked_range_end(&start, "33"),
            Err(MaskError::BadMask)
        ));
        let busy: IpAddr = "10.0.0.1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(matches!(
            masked_range_end(&busy, "24"),
            Err(MaskError::HostBitsSet)
        ));
    }
}
