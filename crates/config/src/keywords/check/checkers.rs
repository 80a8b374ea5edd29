//! Health checkers inside `real_server { }`: the keywords every checker shares
//! (check/check_api.c) and each kind's own (check_http.c, check_tcp.c, check_smtp.c,
//! check_dns.c, check_misc.c, check_udp.c, check_ping.c, check_file.c, check_bfd.c).

use std::net::IpAddr;

use super::addr::{is_link_local_v6, parse_sockaddr};
use super::vs::{last_rs, optional_bool};
use crate::diag::Level;
use crate::model::lvs::{
    Checker, CheckerCommon, CheckerKind, Family, HttpProtocol, Script, Url, WEIGHT_LIMIT,
};
use crate::parser::{Abort, Ctx, HandlerResult, Keyword};
use crate::reader::Line;
use crate::script;

/// IFNAMSIZ - 1.
const IFNAME_MAX: usize = 15;
/// A timer maximum of UINT_MAX microseconds.
const UINT_MAX_US: u64 = u32::MAX as u64;
/// keepalived's BFD_INAME_MAX.
const BFD_INAME_MAX: usize = 32;

/// A checker's table: the shared keywords (with or without the connection ones)
/// followed by the kind's own.
macro_rules! checker_table {
    (connection; $($extra:expr),* $(,)?) => {
        &[
            Keyword::new("connect_ip", co_ip),
            Keyword::new("connect_port", co_port),
            Keyword::new("bindto", co_bindto),
            Keyword::new("bind_port", co_bind_port),
            Keyword::new("bind_if", co_bind_if),
            Keyword::new("connect_timeout", co_timeout),
            Keyword::new("fwmark", co_fwmark),
            Keyword::new("retry", ck_retry),
            Keyword::new("delay_before_retry", ck_delay_before_retry),
            Keyword::new("warmup", ck_warmup),
            Keyword::new("delay_loop", ck_delay_loop),
            Keyword::new("alpha", ck_alpha),
            Keyword::new("log_all_failures", ck_log_all_failures),
            $($extra),*
        ]
    };
    (common; $($extra:expr),* $(,)?) => {
        &[
            Keyword::new("retry", ck_retry),
            Keyword::new("delay_before_retry", ck_delay_before_retry),
            Keyword::new("warmup", ck_warmup),
            Keyword::new("delay_loop", ck_delay_loop),
            Keyword::new("alpha", ck_alpha),
            Keyword::new("log_all_failures", ck_log_all_failures),
            $($extra),*
        ]
    };
}

const TCP_TABLE: &[Keyword] = checker_table!(connection;);
const PING_TABLE: &[Keyword] = checker_table!(connection;);
const UDP_TABLE: &[Keyword] = checker_table!(connection;
    Keyword::new("payload", udp_payload),
    Keyword::new("require_reply", udp_require_reply),
    Keyword::new("min_reply_length", udp_min_length),
    Keyword::new("max_reply_length", udp_max_length),
);
const DNS_TABLE: &[Keyword] = checker_table!(connection;
    Keyword::new("type", dns_type),
    Keyword::new("name", dns_name),
);
const SMTP_HOST_TABLE: &[Keyword] = checker_table!(connection;);
const SMTP_TABLE: &[Keyword] = checker_table!(connection;
    Keyword::new("helo_name", smtp_helo_name),
    Keyword::block("host", Some(smtp_host_open), SMTP_HOST_TABLE, Some(smtp_host_close)),
);
const MISC_TABLE: &[Keyword] = checker_table!(common;
    Keyword::new("misc_path", misc_path),
    Keyword::new("misc_timeout", misc_timeout),
    Keyword::new("misc_dynamic", misc_dynamic),
    Keyword::new("user", misc_user),
);
const URL_TABLE: &[Keyword] = &[
    Keyword::new("path", url_path),
    Keyword::new("digest", url_digest),
    Keyword::new("status_code", url_status_code),
    Keyword::new("virtualhost", url_virtualhost),
    Keyword::new("regex", url_regex),
    Keyword::new("regex_no_match", url_regex_no_match),
    Keyword::new("regex_options", url_regex_options),
    Keyword::new("regex_min_offset", url_regex_min_offset),
    Keyword::new("regex_max_offset", url_regex_max_offset),
    Keyword::new("regex_stack", url_regex_stack),
];
const HTTP_TABLE: &[Keyword] = checker_table!(connection;
    Keyword::new("nb_get_retry", http_nb_get_retry),
    Keyword::new("virtualhost", http_virtualhost),
    Keyword::new("http_protocol", http_protocol),
    Keyword::new("enable_sni", http_enable_sni),
    Keyword::new("fast_recovery", http_fast_recovery),
    Keyword::block("url", Some(url_open), URL_TABLE, Some(url_close)),
);
const FILE_TABLE: &[Keyword] = &[
    Keyword::new("track_file", file_track_file),
    Keyword::new("weight", file_weight),
];
const BFD_TABLE: &[Keyword] = &[
    Keyword::new("name", bfd_name),
    Keyword::new("alpha", bfd_alpha),
];

pub(super) const MISC_CHECK: Keyword =
    Keyword::block("MISC_CHECK", Some(misc_open), MISC_TABLE, Some(misc_close));
pub(super) const SMTP_CHECK: Keyword =
    Keyword::block("SMTP_CHECK", Some(smtp_open), SMTP_TABLE, Some(smtp_close));
pub(super) const TCP_CHECK: Keyword =
    Keyword::block("TCP_CHECK", Some(tcp_open), TCP_TABLE, Some(conn_close));
pub(super) const PING_CHECK: Keyword =
    Keyword::block("PING_CHECK", Some(ping_open), PING_TABLE, Some(conn_close));
pub(super) const UDP_CHECK: Keyword =
    Keyword::block("UDP_CHECK", Some(udp_open), UDP_TABLE, Some(udp_close));
pub(super) const HTTP_GET: Keyword =
    Keyword::block("HTTP_GET", Some(http_open), HTTP_TABLE, Some(http_close));
pub(super) const SSL_GET: Keyword =
    Keyword::block("SSL_GET", Some(http_open), HTTP_TABLE, Some(http_close));
pub(super) const DNS_CHECK: Keyword =
    Keyword::block("DNS_CHECK", Some(dns_open), DNS_TABLE, Some(dns_close));
pub(super) const FILE_CHECK: Keyword =
    Keyword::block("FILE_CHECK", Some(file_open), FILE_TABLE, Some(file_close));
pub(super) const BFD_CHECK: Keyword =
    Keyword::block("BFD_CHECK", Some(bfd_open), BFD_TABLE, Some(bfd_close));

// ---------------------------------------------------------------------------------
// Access to the checker being parsed

/// The checker being parsed, unless keepalived already dropped it.
fn current<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Checker> {
    if ctx.state.check.checker_dropped {
        return None;
    }
    last_rs(ctx)?.checkers.last_mut()
}

/// Where connection keywords go: an SMTP `host { }` entry when inside one.
fn with_connection(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut CheckerCommon)) {
    if let Some(host) = ctx.state.check.smtp_host.as_mut() {
        f(host);
    } else if let Some(checker) = current(ctx) {
        f(&mut checker.common);
    }
}

/// The family of the address the checker connects to, as keepalived sees it while
/// parsing (`co->dst`: connect_ip, else the real server's address; SMTP_CHECK starts
/// with none).
fn destination_family(ctx: &mut Ctx<'_>) -> Option<Family> {
    let host_ip = ctx.state.check.smtp_host.as_ref().map(|h| h.connect_ip);
    if let Some(host_ip) = host_ip {
        let rs_family = last_rs(ctx).map(|rs| Family::of(&rs.addr));
        return host_ip.as_ref().map(Family::of).or(rs_family);
    }
    let rs_addr = last_rs(ctx).map(|rs| rs.addr);
    let cleared = ctx.state.check.destination_cleared;
    let checker = current(ctx)?;
    if cleared {
        return None;
    }
    if let Some(ip) = &checker.common.connect_ip {
        return Some(Family::of(ip));
    }
    if matches!(checker.kind, CheckerKind::Smtp { .. }) {
        return None;
    }
    rs_addr.as_ref().map(Family::of)
}

fn bindto_family(ctx: &mut Ctx<'_>) -> Option<Family> {
    if let Some(host) = ctx.state.check.smtp_host.as_ref() {
        return host.bindto.as_ref().map(Family::of);
    }
    current(ctx)?.common.bindto.as_ref().map(Family::of)
}

/// Appends a new checker to the current real server.
fn open(ctx: &mut Ctx<'_>, line: &Line, kind: CheckerKind) {
    ctx.state.check.checker_dropped = false;
    ctx.state.check.destination_cleared = false;
    ctx.state.check.smtp_host = None;
    if let Some(rs) = last_rs(ctx) {
        rs.checkers.push(Checker {
            common: CheckerCommon::default(),
            kind,
            span: line.span,
        });
    } else {
        ctx.state.check.checker_dropped = true;
    }
}

/// keepalived's `dequeue_new_checker()`: the checker being parsed is removed.
fn drop_current(ctx: &mut Ctx<'_>) {
    if !ctx.state.check.checker_dropped {
        if let Some(rs) = last_rs(ctx) {
            rs.checkers.pop();
        }
        ctx.state.check.checker_dropped = true;
    }
}

/// keepalived's `check_conn_opts()` for a checker: an IPv6 link-local destination
/// needs `bind_if`. The destination is `connect_ip`, else the real server's address,
/// unless keepalived cleared it (an invalid `connect_ip`). Reported at the current
/// (block-closing) line.
fn connection_ok(ctx: &mut Ctx<'_>, common: &CheckerCommon, rs_addr: Option<IpAddr>) -> bool {
    let rs_addr = if ctx.state.check.destination_cleared {
        None
    } else {
        rs_addr
    };
    link_local_ok(ctx, common.connect_ip.or(rs_addr), common)
}

/// The link-local part of `check_conn_opts()` for a known destination.
fn link_local_ok(ctx: &mut Ctx<'_>, dst: Option<IpAddr>, common: &CheckerCommon) -> bool {
    let Some(dst) = dst else {
        return true;
    };
    if is_link_local_v6(&dst) && common.bind_if.is_none() {
        ctx.report(
            Level::GeneralError,
            format!("checker link-local address {dst} requires bind_if"),
        );
        return false;
    }
    true
}

/// Close handler shared by the checkers that only check their connection options.
fn conn_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let rs_addr = last_rs(ctx).map(|rs| rs.addr);
    let Some(common) = current(ctx).map(|c| c.common.clone()) else {
        return Ok(());
    };
    if !connection_ok(ctx, &common, rs_addr) {
        drop_current(ctx);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Shared keywords (check_api.c)

fn co_ip(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?.to_string();
    let in_host = ctx.state.check.smtp_host.is_some();
    let Ok((addr, _)) = parse_sockaddr(ctx, &word, None, line.span_of(1)) else {
        ctx.report(
            Level::GeneralError,
            format!("invalid connect_ip address '{word}' - ignoring"),
        );
        // keepalived's parse failure leaves the destination without a family.
        with_connection(ctx, |co| co.connect_ip = None);
        if in_host {
            ctx.state.check.host_destination_cleared = true;
        } else {
            ctx.state.check.destination_cleared = true;
        }
        return Ok(());
    };
    if bindto_family(ctx).is_some_and(|f| f != Family::of(&addr)) {
        ctx.report(
            Level::GeneralError,
            format!(
                "connect_ip address {word} does not match the address family of bindto - skipping"
            ),
        );
        with_connection(ctx, |co| co.connect_ip = None);
        if in_host {
            ctx.state.check.host_destination_cleared = true;
        } else {
            ctx.state.check.destination_cleared = true;
        }
        return Ok(());
    }
    with_connection(ctx, |co| co.connect_ip = Some(addr));
    if in_host {
        ctx.state.check.host_destination_cleared = false;
    } else {
        ctx.state.check.destination_cleared = false;
    }
    Ok(())
}

fn port_value(ctx: &mut Ctx<'_>, line: &Line, what: &str) -> Result<Option<u16>, Abort> {
    let value = ctx.read_unsigned(line, 1, 1, 65535)?;
    if value.is_none() {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("invalid checker {what} '{word}'"),
        );
    }
    Ok(value.and_then(|v| u16::try_from(v).ok()))
}

fn co_port(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(port) = port_value(ctx, line, "connect_port")? {
        with_connection(ctx, |co| co.connect_port = Some(port));
    }
    Ok(())
}

fn co_bindto(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?.to_string();
    let Ok((addr, _)) = parse_sockaddr(ctx, &word, None, line.span_of(1)) else {
        ctx.report(
            Level::GeneralError,
            format!("invalid bindto address '{word}' - ignoring"),
        );
        return Ok(());
    };
    if destination_family(ctx).is_some_and(|f| f != Family::of(&addr)) {
        ctx.report(
            Level::GeneralError,
            format!("bindto address {word} does not match the address family of the connection - skipping"),
        );
        with_connection(ctx, |co| co.bindto = None);
        return Ok(());
    }
    with_connection(ctx, |co| co.bindto = Some(addr));
    Ok(())
}

fn co_bind_port(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(port) = port_value(ctx, line, "bind_port")? {
        with_connection(ctx, |co| co.bind_port = Some(port));
    }
    Ok(())
}

fn co_bind_if(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?.to_string();
    if name.len() > IFNAME_MAX {
        ctx.report(
            Level::GeneralError,
            format!("interface name {name} is too long - ignoring"),
        );
        return Ok(());
    }
    with_connection(ctx, |co| co.bind_if = Some(name));
    Ok(())
}

fn co_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_timer(line, 1, 1, UINT_MAX_US)? {
        Some(t) => with_connection(ctx, |co| co.connect_timeout_us = Some(t)),
        None => {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("connect_timeout '{word}' invalid - ignoring"),
            );
        }
    }
    Ok(())
}

fn co_fwmark(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(mark) => with_connection(ctx, |co| co.fwmark = Some(mark)),
        None => {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("invalid checker fwmark '{word}'"),
            );
        }
    }
    Ok(())
}

fn ck_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(v) => {
            if let Some(c) = current(ctx) {
                c.common.retry = Some(v);
            }
        }
        None => {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("invalid checker retry '{word}'"),
            );
        }
    }
    Ok(())
}

fn checker_timer(
    ctx: &mut Ctx<'_>,
    line: &Line,
    min_us: u64,
    what: &str,
) -> Result<Option<u64>, Abort> {
    let value = ctx.read_timer(line, 1, min_us, 0)?;
    if value.is_none() {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("invalid checker {what} '{word}' - ignoring"),
        );
    }
    Ok(value)
}

fn ck_delay_before_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = checker_timer(ctx, line, 0, "delay_before_retry")?
        && let Some(c) = current(ctx)
    {
        c.common.delay_before_retry_us = Some(v);
    }
    Ok(())
}

fn ck_warmup(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = checker_timer(ctx, line, 0, "warmup")?
        && let Some(c) = current(ctx)
    {
        c.common.warmup_us = Some(v);
    }
    Ok(())
}

fn ck_delay_loop(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = checker_timer(ctx, line, 1, "delay_loop")?
        && let Some(c) = current(ctx)
    {
        c.common.delay_loop_us = Some(v);
    }
    Ok(())
}

fn ck_alpha(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "alpha")
        && let Some(c) = current(ctx)
    {
        c.common.alpha = Some(v);
    }
    Ok(())
}

fn ck_log_all_failures(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "log_all_failures")
        && let Some(c) = current(ctx)
    {
        c.common.log_all_failures = v;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// TCP_CHECK, PING_CHECK

fn tcp_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(ctx, line, CheckerKind::Tcp);
    Ok(())
}

fn ping_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(ctx, line, CheckerKind::Ping);
    Ok(())
}

// ---------------------------------------------------------------------------------
// UDP_CHECK

fn udp_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::Udp {
            payload: None,
            require_reply: false,
            reply: None,
            min_reply_length: 0,
            max_reply_length: u16::from(u8::MAX),
        },
    );
    Ok(())
}

/// keepalived's `read_hex_str()`: bytes of one or two hex digits separated by blanks
/// (a lone digit is a byte), optionally with `x` nibble wildcards. Returns
/// (value, wildcard mask) pairs; `None` when empty or on any other character.
fn read_hex(text: &str, allow_wildcards: bool) -> Option<Vec<(u8, u8)>> {
    let nibble = |c: u8| -> Option<(u8, u8)> {
        match c {
            b'0'..=b'9' => Some((c - b'0', 0)),
            b'a'..=b'f' => Some((c - b'a' + 10, 0)),
            b'A'..=b'F' => Some((c - b'A' + 10, 0)),
            b'x' | b'X' if allow_wildcards => Some((0, 0x0f)),
            _ => None,
        }
    };
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|b| *b == b' ' || *b == b'\t') {
            i += 1;
        }
        let Some(&first) = bytes.get(i) else { break };
        i += 1;
        let (mut value, mut mask) = nibble(first)?;
        if let Some(&second) = bytes.get(i)
            && second != b' '
        {
            i += 1;
            let (v2, m2) = nibble(second)?;
            value = (value << 4) | v2;
            mask = (mask << 4) | m2;
        }
        out.push((value, mask));
    }
    (!out.is_empty()).then_some(out)
}

fn udp_payload(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() == 1 {
        ctx.report(Level::GeneralError, "UDP_CHECK payload requires a payload");
        return Ok(());
    }
    let text: Vec<&str> = line.words().skip(1).collect();
    let bytes = read_hex(&text.join(" "), false).map(|v| v.into_iter().map(|(b, _)| b).collect());
    if bytes.is_none() {
        ctx.report(
            Level::GeneralError,
            "invalid hex string for UDP_CHECK payload",
        );
    }
    if let Some(c) = current(ctx)
        && let CheckerKind::Udp { payload, .. } = &mut c.kind
    {
        *payload = bytes;
    }
    Ok(())
}

fn udp_require_reply(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let expected = if line.len() > 1 {
        let text: Vec<&str> = line.words().skip(1).collect();
        let parsed = read_hex(&text.join(" "), true);
        if parsed.is_none() {
            ctx.report(
                Level::GeneralError,
                "invalid hex string for UDP_CHECK reply",
            );
        }
        parsed
    } else {
        None
    };
    if let Some(c) = current(ctx)
        && let CheckerKind::Udp {
            require_reply,
            reply,
            ..
        } = &mut c.kind
    {
        *require_reply = true;
        if line.len() > 1 {
            *reply = expected;
        }
    }
    Ok(())
}

fn udp_length(ctx: &mut Ctx<'_>, line: &Line, min: bool) -> HandlerResult {
    let Some(value) = ctx.read_unsigned(line, 1, 0, u32::from(u16::MAX))? else {
        let word = line.word(1).unwrap_or("");
        let which = if min { "min" } else { "max" };
        ctx.report(
            Level::GeneralError,
            format!(
                "UDP_CHECK {which} length '{word}' not valid - must be between 0 and {}",
                u16::MAX
            ),
        );
        return Ok(());
    };
    let value = u16::try_from(value).unwrap_or(u16::MAX);
    if let Some(c) = current(ctx)
        && let CheckerKind::Udp {
            min_reply_length,
            max_reply_length,
            ..
        } = &mut c.kind
    {
        if min {
            *min_reply_length = value;
        } else {
            *max_reply_length = value;
        }
    }
    Ok(())
}

fn udp_min_length(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    udp_length(ctx, line, true)
}

fn udp_max_length(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    udp_length(ctx, line, false)
}

fn udp_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let rs_addr = last_rs(ctx).map(|rs| rs.addr);
    let Some(checker) = current(ctx).cloned() else {
        return Ok(());
    };
    if !connection_ok(ctx, &checker.common, rs_addr) {
        drop_current(ctx);
        return Ok(());
    }
    if let CheckerKind::Udp {
        min_reply_length,
        max_reply_length,
        ..
    } = checker.kind
        && min_reply_length > max_reply_length
    {
        ctx.report(
            Level::GeneralError,
            format!("UDP_CHECK min_reply_length {min_reply_length} > max_reply_length {max_reply_length} - the check will always fail"),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// DNS_CHECK

/// keepalived's DNS_TYPE[] labels.
const DNS_TYPES: &[&str] = &[
    "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY",
];

fn dns_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::Dns {
            query_type: "SOA".to_string(),
            name: String::new(),
        },
    );
    // keepalived keeps "name not set yet" apart from the default "".
    ctx.state.check.dns_name_set = false;
    Ok(())
}

fn dns_type(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let word = ctx.arg(line, 1)?;
    let Some(label) = DNS_TYPES.iter().find(|t| t.eq_ignore_ascii_case(word)) else {
        ctx.report(
            Level::GeneralError,
            format!("unknown DNS check type '{word}' - ignoring"),
        );
        return Ok(());
    };
    if let Some(c) = current(ctx)
        && let CheckerKind::Dns { query_type, .. } = &mut c.kind
    {
        *query_type = (*label).to_string();
    }
    Ok(())
}

fn dns_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.dns_name_set {
        ctx.report(
            Level::GeneralError,
            "DNS_CHECK name already specified - ignoring",
        );
        return Ok(());
    }
    let word = ctx.arg(line, 1)?.to_string();
    let empty_label = dns_name_has_empty_label(&word);
    if empty_label {
        ctx.report(
            Level::GeneralError,
            format!("DNS_CHECK name '{word}' has an empty label - ignoring"),
        );
        return Ok(());
    }
    ctx.state.check.dns_name_set = true;
    if let Some(c) = current(ctx)
        && let CheckerKind::Dns { name, .. } = &mut c.kind
    {
        *name = word;
    }
    Ok(())
}

/// keepalived's empty-label test for a DNS_CHECK name: a leading '.' (other than the
/// root "."), or a '.' following the first character or any '.'. keepalived looks at
/// the second character before looking for dots, so a one-character first label
/// ("a.example.com") is rejected too.
fn dns_name_has_empty_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.first() == Some(&b'.') && bytes.len() > 1 {
        return true;
    }
    if bytes.is_empty() {
        return false;
    }
    let positions = std::iter::once(0).chain(
        bytes
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, b)| **b == b'.')
            .map(|(i, _)| i),
    );
    for p in positions {
        if bytes.get(p + 1) == Some(&b'.') {
            return true;
        }
    }
    false
}

fn dns_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    conn_close(ctx)
}

// ---------------------------------------------------------------------------------
// SMTP_CHECK

fn smtp_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::Smtp {
            helo_name: None,
            hosts: Vec::new(),
        },
    );
    Ok(())
}

fn smtp_helo_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = line.word(1) else {
        ctx.report(Level::GeneralError, "SMTP_CHECK helo name missing");
        return Ok(());
    };
    let name = name.to_string();
    if let Some(c) = current(ctx)
        && let CheckerKind::Smtp { helo_name, .. } = &mut c.kind
    {
        *helo_name = Some(name);
    }
    Ok(())
}

fn smtp_host_open(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    ctx.state.check.smtp_host = Some(CheckerCommon::default());
    ctx.state.check.host_destination_cleared = false;
    Ok(())
}

fn smtp_host_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(host) = ctx.state.check.smtp_host.take() else {
        return Ok(());
    };
    let rs_addr = last_rs(ctx)
        .map(|rs| rs.addr)
        .filter(|_| !ctx.state.check.host_destination_cleared);
    if link_local_ok(ctx, host.connect_ip.or(rs_addr), &host)
        && let Some(c) = current(ctx)
        && let CheckerKind::Smtp { hosts, .. } = &mut c.kind
    {
        hosts.push(host);
    }
    Ok(())
}

fn smtp_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    ctx.state.check.smtp_host = None;
    let rs_addr = last_rs(ctx).map(|rs| rs.addr);
    let Some(checker) = current(ctx).cloned() else {
        return Ok(());
    };
    let CheckerKind::Smtp { hosts, .. } = &checker.kind else {
        return Ok(());
    };
    if !hosts.is_empty() {
        ctx.report(
            Level::Note,
            "the SMTP_CHECK host block is deprecated - define additional checkers instead",
        );
    }
    let co = &checker.common;
    // keepalived: the checker's own connection is used when any of it was set, or
    // when there are no (deprecated) host entries.
    let own_connection = co.connect_ip.is_some()
        || co.connect_port.is_some()
        || co.bindto.is_some()
        || co.bind_port.is_some()
        || co.bind_if.is_some()
        || co.fwmark.is_some()
        || co.connect_timeout_us.is_some()
        || hosts.is_empty();
    // An SMTP_CHECK destination left unset (or cleared) becomes the real server's.
    if own_connection && !link_local_ok(ctx, co.connect_ip.or(rs_addr), co) {
        drop_current(ctx);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// MISC_CHECK

fn misc_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::Misc {
            script: empty_script(line),
            timeout_secs: 0,
            dynamic: false,
        },
    );
    ctx.state.check.misc_script = None;
    ctx.state.check.misc_user = None;
    Ok(())
}

fn empty_script(line: &Line) -> Script {
    Script {
        domain: crate::model::global::ScriptDomain::Checker,
        args: Vec::new(),
        user: None,
        group: None,
        span: line.span,
        user_span: line.span,
        user_event: None,
        uid_gid: None,
        verdict: None,
    }
}

fn misc_path(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    if let Some(script) = script::parse_script_command(ctx, line, 1)? {
        ctx.state.check.misc_script = Some(script);
    }
    Ok(())
}

fn misc_timeout(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    // keepalived: at most UINT_MAX / TIMER_HZ seconds.
    let Some(value) = ctx.read_unsigned(line, 1, 0, u32::MAX / 1_000_000)? else {
        let word = line.word(1).unwrap_or("");
        ctx.report(
            Level::GeneralError,
            format!("invalid misc_timeout value '{word}'"),
        );
        return Ok(());
    };
    if let Some(c) = current(ctx)
        && let CheckerKind::Misc { timeout_secs, .. } = &mut c.kind
    {
        *timeout_secs = value;
    }
    Ok(())
}

fn misc_dynamic(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(c) = current(ctx)
        && let CheckerKind::Misc { dynamic, .. } = &mut c.kind
    {
        *dynamic = true;
    }
    Ok(())
}

/// `user USER [GROUP]`: resolved at validation (keepalived resolves it here and
/// reports an unknown user at this line; validation reports it at this line too).
fn misc_user(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    let Some(user) = line.word(1) else {
        ctx.report(
            Level::GeneralError,
            "no user specified for misc checker script",
        );
        return Ok(());
    };
    ctx.state.check.misc_user = Some((
        user.to_string(),
        line.word(2).map(str::to_string),
        line.span,
    ));
    Ok(())
}

fn misc_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    let Some(mut script) = ctx.state.check.misc_script.take() else {
        match ctx.state.check.misc_user.take() {
            // keepalived resolves `user` at its line and, when that fails, drops the
            // checker there; which error applies is decided at validation.
            Some((user, group, span)) => {
                let end = ctx.current_span();
                ctx.cfg
                    .lvs
                    .pending
                    .pathless_misc
                    .push((user, group, span, end));
            }
            None => ctx.report(
                Level::GeneralError,
                "no script path has been specified for MISC_CHECK - skipping",
            ),
        }
        drop_current(ctx);
        return Ok(());
    };
    match ctx.state.check.misc_user.take() {
        Some((user, group, span)) => {
            script.user = Some(user);
            script.group = group;
            script.user_span = span;
            script.user_event = None;
        }
        None => script::use_default_script_user(ctx, &mut script),
    }
    if let Some(c) = current(ctx)
        && let CheckerKind::Misc { script: slot, .. } = &mut c.kind
    {
        *slot = script;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// HTTP_GET, SSL_GET

fn http_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let ssl = line.word(0) == Some("SSL_GET");
    open(
        ctx,
        line,
        CheckerKind::Http {
            ssl,
            urls: Vec::new(),
            protocol: HttpProtocol::Http10,
            virtualhost: None,
            enable_sni: false,
            fast_recovery: false,
        },
    );
    Ok(())
}

fn http_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let rs_addr = last_rs(ctx).map(|rs| rs.addr);
    let Some(checker) = current(ctx).cloned() else {
        return Ok(());
    };
    if let CheckerKind::Http { urls, .. } = &checker.kind
        && urls.is_empty()
    {
        ctx.report(
            Level::GeneralError,
            "HTTP_GET/SSL_GET checker has no url specified - ignoring",
        );
        drop_current(ctx);
        return Ok(());
    }
    if !connection_ok(ctx, &checker.common, rs_addr) {
        drop_current(ctx);
    }
    Ok(())
}

fn http_nb_get_retry(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    ctx.report(
        Level::GeneralError,
        "nb_get_retry is deprecated - use 'retry'",
    );
    match ctx.read_unsigned(line, 1, 0, u32::MAX)? {
        Some(v) => {
            if let Some(c) = current(ctx) {
                c.common.retry = Some(v);
            }
        }
        None => {
            let word = line.word(1).unwrap_or("");
            ctx.report(
                Level::GeneralError,
                format!("invalid nb_get_retry value '{word}'"),
            );
        }
    }
    Ok(())
}

fn http_virtualhost(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(host) = line.word(1) else {
        ctx.report(Level::GeneralError, "HTTP_GET virtualhost name missing");
        return Ok(());
    };
    let host = host.to_string();
    if let Some(c) = current(ctx)
        && let CheckerKind::Http { virtualhost, .. } = &mut c.kind
    {
        *virtualhost = Some(host);
    }
    Ok(())
}

fn http_protocol(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(word) = line.word(1) else {
        ctx.report(Level::GeneralError, "missing http_protocol version");
        return Ok(());
    };
    let version = match word {
        "1.0" => HttpProtocol::Http10,
        "1.1" => HttpProtocol::Http11,
        "1.0C" | "1.0c" => HttpProtocol::Http10Close,
        other => {
            ctx.report(
                Level::GeneralError,
                format!("invalid http_protocol version '{other}'"),
            );
            return Ok(());
        }
    };
    if let Some(c) = current(ctx)
        && let CheckerKind::Http { protocol, .. } = &mut c.kind
    {
        *protocol = version;
    }
    Ok(())
}

fn http_enable_sni(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "enable_sni")
        && let Some(c) = current(ctx)
        && let CheckerKind::Http { enable_sni, .. } = &mut c.kind
    {
        *enable_sni = v;
    }
    Ok(())
}

fn http_fast_recovery(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = optional_bool(ctx, line, "fast_recovery")
        && let Some(c) = current(ctx)
        && let CheckerKind::Http { fast_recovery, .. } = &mut c.kind
    {
        *fast_recovery = v;
    }
    Ok(())
}

/// The url being parsed.
fn current_url<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Url> {
    match &mut current(ctx)?.kind {
        CheckerKind::Http { urls, .. } => urls.last_mut(),
        _ => None,
    }
}

fn url_open(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(c) = current(ctx)
        && let CheckerKind::Http { urls, .. } = &mut c.kind
    {
        urls.push(Url::default());
    }
    Ok(())
}

/// keepalived's `url_check()`: a url needs a path; status codes default to 200-299.
fn url_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(url) = current_url(ctx) else {
        return Ok(());
    };
    if url.path.is_empty() {
        ctx.report(
            Level::GeneralError,
            "HTTP_GET/SSL_GET url has no path - ignoring",
        );
        if let Some(c) = current(ctx)
            && let CheckerKind::Http { urls, .. } = &mut c.kind
        {
            urls.pop();
        }
        return Ok(());
    }
    if url.status_codes.is_empty() {
        url.status_codes.push((200, 299));
    }
    let has_regex_settings = url.regex_no_match
        || !url.regex_options.is_empty()
        || url.regex_min_offset.is_some()
        || url.regex_max_offset.is_some()
        || url.regex_stack.is_some();
    if url.regex.is_none() && has_regex_settings {
        url.regex_no_match = false;
        url.regex_options.clear();
        url.regex_min_offset = None;
        url.regex_max_offset = None;
        url.regex_stack = None;
        ctx.report(
            Level::Note,
            "regex parameters specified without regex - ignored",
        );
    }
    Ok(())
}

fn url_path(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let path = ctx.arg(line, 1)?.to_string();
    if let Some(url) = current_url(ctx) {
        url.path = path;
    }
    Ok(())
}

fn url_digest(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let text = ctx.arg(line, 1)?.to_string();
    if current_url(ctx).is_some_and(|u| u.digest.is_some()) {
        ctx.report(
            Level::GeneralError,
            format!("digest '{text}' is a duplicate"),
        );
        return Ok(());
    }
    if text.len() != 32 {
        ctx.report(
            Level::GeneralError,
            format!(
                "digest '{text}' should be 32 characters long, not {}",
                text.len()
            ),
        );
        return Ok(());
    }
    let mut digest = [0u8; 16];
    for (i, byte) in digest.iter_mut().enumerate() {
        let pair = text.get(2 * i..2 * i + 2);
        match pair.and_then(|p| u8::from_str_radix(p, 16).ok()) {
            Some(b) => *byte = b,
            None => {
                ctx.report(
                    Level::GeneralError,
                    format!("digest '{text}' has a bad hex digit at offset {}", 2 * i),
                );
                return Ok(());
            }
        }
    }
    if let Some(url) = current_url(ctx) {
        url.digest = Some(digest);
    }
    Ok(())
}

/// C `strtoul(s, &end, 10)` for a status code: the value and the rest of the text.
fn leading_number(s: &str) -> (u64, &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, rest) = s.split_at(digits);
    (
        num.parse()
            .unwrap_or(if num.is_empty() { 0 } else { u64::MAX }),
        rest,
    )
}

fn url_status_code(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let mut ranges = Vec::new();
    for (i, word) in line.words().enumerate().skip(1) {
        let (min, rest) = leading_number(word);
        let (max, rest) = match rest.strip_prefix('-') {
            Some(after) => leading_number(after),
            None => (min, rest),
        };
        let valid = rest.is_empty()
            && (100..=599).contains(&min)
            && (100..=599).contains(&max)
            && min <= max;
        if !valid {
            ctx.report_at(
                Level::GeneralError,
                line.span_of(i),
                format!("invalid HTTP_GET status code '{word}'"),
            );
            continue;
        }
        ranges.push((
            u16::try_from(min).unwrap_or(0),
            u16::try_from(max).unwrap_or(0),
        ));
    }
    if let Some(url) = current_url(ctx) {
        url.status_codes.extend(ranges);
    }
    Ok(())
}

fn url_virtualhost(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(host) = line.word(1) else {
        ctx.report(Level::GeneralError, "missing HTTP_GET virtualhost name");
        return Ok(());
    };
    let host = host.to_string();
    if let Some(url) = current_url(ctx) {
        url.virtualhost = Some(host);
    }
    Ok(())
}

fn url_regex(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // keepalived re-reads the line with quoting/escaping and wants exactly one pattern.
    let words = script::split_quoted_escaped(&line.raw).ok().flatten();
    match words.as_deref() {
        Some([_, pattern]) => {
            let pattern = pattern.clone();
            if let Some(url) = current_url(ctx) {
                url.regex = Some(pattern);
            }
        }
        _ => ctx.report(Level::Note, "regex missing or too many fields - ignored"),
    }
    Ok(())
}

fn url_regex_no_match(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(url) = current_url(ctx) {
        url.regex_no_match = true;
    }
    Ok(())
}

/// keepalived's regex_options[] names (PCRE2 compile options).
const REGEX_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

fn url_regex_options(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    // Unknown option names are silently ignored, as in keepalived.
    let options: Vec<String> = line
        .words()
        .skip(1)
        .filter(|w| REGEX_OPTIONS.contains(w))
        .map(str::to_string)
        .collect();
    if let Some(url) = current_url(ctx) {
        url.regex_options.extend(options);
    }
    Ok(())
}

fn regex_offset(ctx: &mut Ctx<'_>, line: &Line, which: &str) -> u64 {
    if line.len() != 2 {
        ctx.report(
            Level::Note,
            format!("missing or too many options for regex_{which}_offset"),
        );
        return 0;
    }
    let word = line.word(1).unwrap_or("");
    match word.parse::<u64>() {
        Ok(v) => v,
        Err(_) => {
            ctx.report(
                Level::Note,
                format!("invalid regex_{which}_offset '{word}'"),
            );
            0
        }
    }
}

fn url_regex_min_offset(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let v = regex_offset(ctx, line, "min");
    if let Some(url) = current_url(ctx) {
        url.regex_min_offset = (v != 0).then_some(v);
    }
    Ok(())
}

fn url_regex_max_offset(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let v = regex_offset(ctx, line, "max");
    if let Some(url) = current_url(ctx) {
        url.regex_max_offset = Some(v);
    }
    Ok(())
}

fn url_regex_stack(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let values = (line.len() == 3)
        .then(|| {
            let start = line.word(1)?.parse::<u64>().ok()?;
            let max = line.word(2)?.parse::<u64>().ok()?;
            (start <= max).then_some((start, max))
        })
        .flatten();
    match values {
        Some(v) => {
            if let Some(url) = current_url(ctx) {
                url.regex_stack = Some(v);
            }
        }
        None => ctx.report(Level::Note, "invalid regex_stack - ignored"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// FILE_CHECK

fn file_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::File {
            track_file: String::new(),
            weight: None,
            reverse: false,
        },
    );
    Ok(())
}

fn file_track_file(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?.to_string();
    // keepalived looks the name up among the track_file blocks read so far.
    if find_track_file(ctx, &name).is_none() {
        ctx.report(Level::GeneralError, format!("track_file {name} not found"));
        return Ok(());
    }
    if let Some(c) = current(ctx)
        && let CheckerKind::File { track_file, .. } = &mut c.kind
    {
        *track_file = name;
    }
    Ok(())
}

fn file_weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if line.len() < 2 {
        ctx.report(Level::GeneralError, "track file weight missing");
        return Ok(());
    }
    let limit = i32::try_from(WEIGHT_LIMIT).unwrap_or(i32::MAX);
    let Some(value) = ctx.read_int(line, 1, -limit, limit)? else {
        ctx.report(
            Level::GeneralError,
            format!(
                "weight for track file must be in [{}, {limit}] - ignoring",
                -limit
            ),
        );
        return Ok(());
    };
    let reverse = match line.word(2) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(other) => {
            ctx.report(
                Level::GeneralError,
                format!("unknown track file weight option '{other}' - ignoring"),
            );
            return Ok(());
        }
    };
    if let Some(c) = current(ctx)
        && let CheckerKind::File {
            weight, reverse: r, ..
        } = &mut c.kind
    {
        *weight = Some(value);
        *r = reverse;
    }
    Ok(())
}

/// A track_file defined so far (keepalived looks in the checker's list, filled by the
/// track_file blocks read before): its `(weight, reverse)`.
fn find_track_file(ctx: &mut Ctx<'_>, name: &str) -> Option<Option<(i32, bool)>> {
    ctx.cfg
        .vrrp
        .track_files
        .iter()
        .find(|t| t.name == name)
        .map(|t| Some((t.weight, t.reverse)))
}

fn file_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let Some(c) = current(ctx) else {
        return Ok(());
    };
    let CheckerKind::File {
        track_file,
        weight,
        reverse,
    } = &mut c.kind
    else {
        return Ok(());
    };
    if track_file.is_empty() {
        ctx.report(
            Level::GeneralError,
            "FILE_CHECK has no track_file specified - ignoring",
        );
        drop_current(ctx);
        return Ok(());
    }
    if weight.is_none() {
        let name = track_file.clone();
        if let Some(Some((w, r))) = find_track_file(ctx, &name)
            && let Some(c) = current(ctx)
            && let CheckerKind::File {
                weight, reverse, ..
            } = &mut c.kind
        {
            *weight = Some(w);
            *reverse = r;
        }
    } else {
        let _ = reverse;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// BFD_CHECK

fn bfd_open(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    open(
        ctx,
        line,
        CheckerKind::Bfd {
            name: String::new(),
        },
    );
    Ok(())
}

fn bfd_name(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    let rs_desc = last_rs(ctx).map(|rs| rs.describe()).unwrap_or_default();
    let name = line.word(1).unwrap_or("").to_string();
    let existing = match current(ctx).map(|c| &c.kind) {
        Some(CheckerKind::Bfd { name }) if !name.is_empty() => Some(name.clone()),
        _ => None,
    };
    let error = if line.len() != 2 {
        Some(format!(
            "({rs_desc}) BFD_CHECK needs exactly one name - skipping the checker"
        ))
    } else if !ctx.cfg.bfd.checker_tracked.contains(&name) {
        Some(format!("({rs_desc}) BFD_CHECK - BFD {name} not configured"))
    } else if let Some(existing) = existing {
        Some(format!(
            "({rs_desc}) BFD_CHECK - BFD {name} already specified as {existing}"
        ))
    } else if name.len() >= BFD_INAME_MAX {
        Some(format!("({rs_desc}) BFD_CHECK - BFD name {name} too long"))
    } else {
        let already_monitored = last_rs(ctx).is_some_and(|rs| {
            let n = rs.checkers.len().saturating_sub(1);
            rs.checkers
                .iter()
                .take(n)
                .any(|c| matches!(&c.kind, CheckerKind::Bfd { name: other } if *other == name))
        });
        already_monitored
            .then(|| format!("({rs_desc}) BFD_CHECK - real server already monitoring {name}"))
    };
    if let Some(message) = error {
        ctx.report(Level::GeneralError, message);
        drop_current(ctx);
        return Ok(());
    }
    if let Some(c) = current(ctx)
        && let CheckerKind::Bfd { name: slot } = &mut c.kind
    {
        *slot = name;
    }
    Ok(())
}

fn bfd_alpha(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if ctx.state.check.checker_dropped {
        return Ok(());
    }
    if let Some(v) = optional_bool(ctx, line, "alpha")
        && let Some(c) = current(ctx)
    {
        c.common.alpha = Some(v);
    }
    Ok(())
}

fn bfd_close(ctx: &mut Ctx<'_>) -> HandlerResult {
    let rs_desc = last_rs(ctx).map(|rs| rs.describe()).unwrap_or_default();
    let unnamed =
        matches!(current(ctx).map(|c| &c.kind), Some(CheckerKind::Bfd { name }) if name.is_empty());
    if unnamed {
        ctx.report(
            Level::GeneralError,
            format!("({rs_desc}) no name has been specified for BFD_CHECK - skipping"),
        );
        drop_current(ctx);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_empty_labels_as_keepalived_sees_them() {
        assert!(!dns_name_has_empty_label("example.com"));
        assert!(!dns_name_has_empty_label("."));
        assert!(!dns_name_has_empty_label("x"));
        assert!(dns_name_has_empty_label("a.example.com"));
        assert!(dns_name_has_empty_label(".."));
        assert!(dns_name_has_empty_label(".com"));
        assert!(dns_name_has_empty_label("ab..com"));
    }

    #[test]
    fn hex_strings() {
        assert_eq!(read_hex("0a 0B", false), Some(vec![(10, 0), (11, 0)]));
        assert_eq!(
            read_hex("0a xx 3X", true),
            Some(vec![(10, 0), (0, 0xff), (0x30, 0x0f)])
        );
        assert_eq!(read_hex("0a b", false), Some(vec![(10, 0), (11, 0)]));
        assert_eq!(read_hex("0a x", false), None);
        assert_eq!(read_hex("zz", false), None);
        assert_eq!(read_hex("", false), None);
    }
}
