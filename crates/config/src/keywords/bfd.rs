//! Keyword tables and handlers for bfd_instance (bfd/bfd_parser.c, bfd/bfd_data.c
//! `alloc_bfd()`, vrrp/vrrp_track.c `alloc_vrrp_tracked_bfd()`).
//!
//! keepalived reads `bfd_instance` blocks in three processes, each with its own
//! handlers and errors: the BFD process (the session itself), the VRRP process (name,
//! `weight`) and the checker process (name). `keepalived -t` runs all three, so each
//! block is interpreted here in the three views, each reporting what its process
//! reports, and each skipping the rest of the block when its process would.

use std::net::IpAddr;

use crate::Validation;
use crate::diag::Level;
use crate::keywords::check::addr::parse_ip;
use crate::model::bfd::{
    BfdInstance, DEFAULT_IDLE_TX_US, DEFAULT_MIN_RX_US, DEFAULT_MIN_TX_US, DEFAULT_MULTIPLIER,
    MAX_NAME_LEN, VrrpTrackedBfd,
};
use crate::parser::{Ctx, HandlerResult, Keyword, Pass};
use crate::reader::Line;
use crate::span::Span;

/// The bfd_instance being parsed, per process view.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The BFD process' session; `None` when that process skips this block.
    session: Option<Session>,
    /// The VRRP process keeps this block (index into `vrrp_tracked`).
    vrrp: bool,
    /// The checker process keeps this block.
    checker: bool,
    /// `vrrp` / `checker` keywords seen (keepalived's `specified_event_processes`).
    event_vrrp: bool,
    event_checker: bool,
    /// Which neighbour spelling was used, for messages.
    neighbour_spelling: bool,
}

#[derive(Debug)]
struct Session {
    name: String,
    neighbor: Option<IpAddr>,
    source: Option<IpAddr>,
    min_rx_us: u32,
    min_tx_us: u32,
    idle_tx_us: u32,
    multiplier: u8,
    passive: bool,
    ttl: u8,
    max_hops: u8,
    span: Span,
}

/// keepalived's BFD_TTL_MAX.
const TTL_MAX: u32 = 255;
/// BFD_*_MAX_SENSIBLE (ms).
const MAX_SENSIBLE_MS: u64 = 10_000;

static BFD_INSTANCE: &[Keyword] = &[
    Keyword::new("source_ip", source_ip),
    Keyword::new("neighbor_ip", neighbor_ip),
    Keyword::new("neighbour_ip", neighbor_ip),
    Keyword::new("min_rx", min_rx),
    Keyword::new("min_tx", min_tx),
    Keyword::new("idle_tx", idle_tx),
    Keyword::new("multiplier", multiplier),
    Keyword::new("passive", passive),
    Keyword::new("ttl", ttl),
    Keyword::new("hoplimit", ttl),
    Keyword::new("max_hops", max_hops),
    Keyword::new("weight", weight),
    Keyword::new("vrrp", event_vrrp),
    Keyword::new("checker", event_checker),
];

/// Root-level keywords of this domain.
pub static ROOT: &[Keyword] = &[Keyword::block(
    "bfd_instance",
    Some(bfd_instance),
    BFD_INSTANCE,
    Some(bfd_instance_end),
)];

fn scratch<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Scratch {
    &mut ctx.state.check.bfd
}

fn session<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Session> {
    ctx.state.check.bfd.session.as_mut()
}

fn bfd_instance(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let name = ctx.arg(line, 1)?.to_string();
    *scratch(ctx) = Scratch::default();
    // keepalived: each process installs its own bfd_instance handler; in a combined
    // pass (Pass::All) all three views are taken.
    let (bfd_view, vrrp_view, checker_view) = match ctx.pass() {
        Pass::All => (true, true, true),
        Pass::Bfd => (true, false, false),
        Pass::Vrrp => (false, true, false),
        Pass::Checker => (false, false, true),
        Pass::Global => (false, false, false),
    };

    // BFD process (alloc_bfd).
    if !bfd_view {
    } else if name.len() > MAX_NAME_LEN {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} name too long (maximum {MAX_NAME_LEN} characters) - ignoring it"),
        );
    } else if ctx.cfg.bfd.instances.iter().any(|b| b.name == name) {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} already configured - ignoring it"),
        );
    } else {
        scratch(ctx).session = Some(Session {
            name: name.clone(),
            neighbor: None,
            source: None,
            min_rx_us: DEFAULT_MIN_RX_US,
            min_tx_us: DEFAULT_MIN_TX_US,
            idle_tx_us: DEFAULT_IDLE_TX_US,
            multiplier: DEFAULT_MULTIPLIER,
            passive: false,
            ttl: 0,
            max_hops: 0,
            span: line.span,
        });
    }

    // VRRP process (alloc_vrrp_tracked_bfd).
    if !vrrp_view {
    } else if name.len() > MAX_NAME_LEN {
        ctx.report(Level::GeneralError, format!("BFD name {name} too long"));
    } else if ctx.cfg.bfd.vrrp_tracked.iter().any(|b| b.name == name) {
        ctx.report(
            Level::GeneralError,
            format!("BFD {name} already specified (VRRP process)"),
        );
    } else {
        ctx.cfg.bfd.vrrp_tracked.push(VrrpTrackedBfd {
            name: name.clone(),
            weight: 0,
            weight_reverse: false,
        });
        scratch(ctx).vrrp = true;
    }

    // Checker process (bfd_checker_handler).
    if !checker_view {
    } else if ctx.cfg.bfd.checker_tracked.contains(&name) {
        ctx.report(
            Level::GeneralError,
            format!("BFD {name} already specified (checker process)"),
        );
    } else {
        ctx.cfg.bfd.checker_tracked.push(name);
        scratch(ctx).checker = true;
    }
    // When every process skips the block, so do we.
    let s = scratch(ctx);
    if s.session.is_none() && !s.vrrp && !s.checker {
        ctx.skip_block(true);
    }
    Ok(())
}

fn bfd_instance_end(ctx: &mut Ctx<'_>) -> HandlerResult {
    let s = std::mem::take(scratch(ctx));
    let any_event = s.event_vrrp || s.event_checker;
    // keepalived's vrrp/checker end handlers: the process only keeps the name when
    // no `vrrp`/`checker` restriction excludes it.
    if s.vrrp && any_event && !s.event_vrrp {
        ctx.cfg.bfd.vrrp_tracked.pop();
    }
    if s.checker && any_event && !s.event_checker {
        ctx.cfg.bfd.checker_tracked.pop();
    }
    let Some(mut session) = s.session else {
        return Ok(());
    };
    let spelling = if s.neighbour_spelling {
        "neighbour"
    } else {
        "neighbor"
    };
    let name = session.name.clone();
    let Some(neighbor) = session.neighbor else {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} has no {spelling} address set - disabling it"),
        );
        return Ok(());
    };
    if let Some(source) = session.source
        && source.is_ipv4() != neighbor.is_ipv4()
    {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name}: source address {source} and {spelling} address {neighbor} are not of the same family - disabling it"),
        );
        return Ok(());
    }
    // keepalived's find_bfd_by_addr(): the same neighbour again, unless both give
    // different source addresses.
    let duplicate = ctx.cfg.bfd.instances.iter().any(|b| {
        b.neighbor == neighbor
            && match (b.source, session.source) {
                (None, _) | (_, None) => true,
                (Some(a), Some(c)) => a == c,
            }
    });
    if duplicate {
        let message = match session.source {
            Some(source) => format!(
                "BFD instance {name} has a duplicate source/{spelling} address {source}/{neighbor} - ignoring it"
            ),
            None => format!(
                "BFD instance {name} has a duplicate {spelling} address {neighbor} - ignoring it"
            ),
        };
        ctx.report(Level::GeneralError, message);
        return Ok(());
    }
    if session.ttl == 0 {
        session.ttl = if neighbor.is_ipv4() { 255 } else { 64 };
    }
    if session.max_hops > session.ttl {
        ctx.report(
            Level::GeneralError,
            format!(
                "BFD instance {name}: max_hops exceeds ttl/hoplimit - setting it to ttl/hoplimit"
            ),
        );
        session.max_hops = session.ttl;
    }
    ctx.cfg.bfd.instances.push(BfdInstance {
        name,
        neighbor,
        source: session.source,
        min_rx_us: session.min_rx_us,
        min_tx_us: session.min_tx_us,
        idle_tx_us: session.idle_tx_us,
        multiplier: session.multiplier,
        passive: session.passive,
        ttl: session.ttl,
        max_hops: session.max_hops,
        to_vrrp: !any_event || s.event_vrrp,
        to_checker: !any_event || s.event_checker,
        span: session.span,
    });
    Ok(())
}

fn neighbor_ip(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if session(ctx).is_none() {
        return Ok(());
    }
    let word = ctx.arg(line, 1)?.to_string();
    // keepalived compares word 1 (not the keyword) here, so the spelling it uses in
    // messages practically never changes; kept for fidelity.
    if word == "neighbour_ip" {
        scratch(ctx).neighbour_spelling = true;
    }
    match parse_ip(&word) {
        Some(addr) => {
            if let Some(s) = session(ctx) {
                s.neighbor = Some(addr);
            }
        }
        None => {
            let name = session(ctx).map(|s| s.name.clone()).unwrap_or_default();
            ctx.report(
                Level::GeneralError,
                format!("BFD instance {name} has a malformed neighbor address {word} - ignoring the instance"),
            );
            // keepalived frees the instance and skips the rest of the block in the BFD
            // process only; the other processes keep reading it.
            scratch(ctx).session = None;
        }
    }
    Ok(())
}

fn source_ip(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = session(ctx).map(|s| s.name.clone()) else {
        return Ok(());
    };
    let word = ctx.arg(line, 1)?.to_string();
    match parse_ip(&word) {
        Some(addr) => {
            if let Some(s) = session(ctx) {
                s.source = Some(addr);
            }
        }
        None => ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} has a malformed source address {word} - ignoring it"),
        ),
    }
    Ok(())
}

/// min_rx / min_tx / idle_tx: milliseconds with up to 3 decimals.
fn interval(
    ctx: &mut Ctx<'_>,
    line: &Line,
    min_ms: u64,
    which: &str,
) -> Result<Option<u32>, crate::parser::Abort> {
    let Some(name) = session(ctx).map(|s| s.name.clone()) else {
        return Ok(None);
    };
    let word = ctx.arg(line, 1)?.to_string();
    let max_ms = u64::from(u32::MAX / 1000);
    let Some(value) = ctx.read_decimal(line, 1, min_ms * 1000, max_ms * 1000, 3)? else {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} {which} value {word} is not valid (must be in range [{min_ms}-{max_ms}]) - ignoring it"),
        );
        return Ok(None);
    };
    if value > MAX_SENSIBLE_MS * 1000 {
        ctx.report(
            Level::Note,
            format!("BFD instance {name} {which} value {word} is larger than the maximum sensible ({MAX_SENSIBLE_MS})"),
        );
    }
    Ok(u32::try_from(value).ok())
}

fn min_rx(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = interval(ctx, line, 1, "min_rx")?
        && let Some(s) = session(ctx)
    {
        s.min_rx_us = v;
    }
    Ok(())
}

fn min_tx(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = interval(ctx, line, 1, "min_tx")?
        && let Some(s) = session(ctx)
    {
        s.min_tx_us = v;
    }
    Ok(())
}

fn idle_tx(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if let Some(v) = interval(ctx, line, 1000, "idle_tx")?
        && let Some(s) = session(ctx)
    {
        s.idle_tx_us = v;
    }
    Ok(())
}

fn multiplier(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = session(ctx).map(|s| s.name.clone()) else {
        return Ok(());
    };
    let word = ctx.arg(line, 1)?.to_string();
    match ctx.read_unsigned(line, 1, 1, 255)? {
        Some(v) => {
            if let Some(s) = session(ctx) {
                s.multiplier = u8::try_from(v).unwrap_or(u8::MAX);
            }
        }
        None => ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} multiplier value {word} not valid (must be in range [1-255]) - ignoring it"),
        ),
    }
    Ok(())
}

fn passive(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    if let Some(s) = session(ctx) {
        s.passive = true;
    }
    Ok(())
}

fn ttl(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = session(ctx).map(|s| s.name.clone()) else {
        return Ok(());
    };
    let word = ctx.arg(line, 1)?.to_string();
    match ctx.read_unsigned(line, 1, 1, TTL_MAX)? {
        Some(v) => {
            if let Some(s) = session(ctx) {
                s.ttl = u8::try_from(v).unwrap_or(u8::MAX);
            }
        }
        None => ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} ttl/hoplimit value {word} not valid (must be in range [1-{TTL_MAX}]) - ignoring it"),
        ),
    }
    Ok(())
}

fn max_hops(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    let Some(name) = session(ctx).map(|s| s.name.clone()) else {
        return Ok(());
    };
    let word = ctx.arg(line, 1)?.to_string();
    let max = i32::try_from(TTL_MAX).unwrap_or(255);
    match ctx.read_int(line, 1, -1, max)? {
        Some(v) => {
            if let Some(s) = session(ctx) {
                // keepalived keeps it in a byte: -1 becomes 255.
                s.max_hops = u8::try_from(v.rem_euclid(256)).unwrap_or(u8::MAX);
            }
        }
        None => ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} max_hops value {word} not valid (must be in range [-1-{TTL_MAX}]) - ignoring it"),
        ),
    }
    Ok(())
}

/// `weight W [reverse]`: only the VRRP process reads it.
fn weight(ctx: &mut Ctx<'_>, line: &Line) -> HandlerResult {
    if !scratch(ctx).vrrp {
        // Ignored by the BFD and checker processes.
        return Ok(());
    }
    let name = ctx
        .cfg
        .bfd
        .vrrp_tracked
        .last()
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let word = ctx.arg(line, 1)?.to_string();
    let value = ctx.read_int(line, 1, -253, 253)?;
    if value.is_none() {
        ctx.report(
            Level::GeneralError,
            format!("BFD instance {name} weight value {word} not valid (must be in range [-253-253]) - ignoring it"),
        );
    }
    let mut reverse = false;
    if let Some(option) = line.word(2) {
        if option == "reverse" {
            reverse = true;
        } else {
            ctx.report(
                Level::GeneralError,
                format!("BFD instance {name}: unknown weight option '{option}'"),
            );
        }
    }
    if let Some(tracked) = ctx.cfg.bfd.vrrp_tracked.last_mut() {
        if let Some(v) = value {
            tracked.weight = v;
        }
        if reverse {
            tracked.weight_reverse = true;
        }
    }
    Ok(())
}

fn event_vrrp(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    scratch(ctx).event_vrrp = true;
    Ok(())
}

fn event_checker(ctx: &mut Ctx<'_>, _line: &Line) -> HandlerResult {
    scratch(ctx).event_checker = true;
    Ok(())
}

/// Checks and corrections after the whole file is read (nothing beyond what the block
/// end does: keepalived's BFD process validates each instance as it closes).
pub fn validate(_v: &mut Validation<'_>) {}
