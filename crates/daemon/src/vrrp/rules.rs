//! `virtual_rules` and `static_rules` over rtnetlink (keepalived `netlink_rule()` in
//! `vrrp_iprule.c`): the selectors `from`, `to`, `not`, `priority`/`preference`,
//! `tos`, `fwmark[/mask]`, `iif`/`dev`, `oif`, `tunnel-id`, `uidrange`, `ipproto`,
//! `sport`/`dport` ranges, and the actions `table`/`lookup` (with `realms`,
//! `suppress_prefixlength`, `suppress_ifgroup`), `goto`, `nop`, `blackhole`,
//! `unreachable`, `prohibit` and `l3mdev`; protocol `keepalived` (another `protocol`
//! only for a `no_track` rule, as keepalived).
//!
//! Candidate for `crates/linux`, next to `addr`.

use std::net::IpAddr;

use config::keywords::vrrp::{dsfield_value, parse_c_number};
use config::model::vrrp::{Family, Rule};
use linux::{Change, Netlink};
use netlink_packet_route::route::{RouteProtocol, RouteRealm};
use netlink_packet_route::rule::{
    RuleAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::{AddressFamily, IpProtocol};

use super::routes::RTPROT_KEEPALIVED;

/// A rule ready for netlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    pub ipv6: bool,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub priority: Option<u32>,
    pub table: Option<u32>,
    pub fwmark: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    /// The options beyond the modelled ones, read from the line's words.
    pub extra: RuleExtra,
    /// The line as written, for logs.
    pub text: String,
}

/// Rule options the configuration model keeps only as words (keepalived
/// `alloc_rule()` fields).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleExtra {
    /// `not`: FIB_RULE_INVERT.
    pub invert: bool,
    pub tos: Option<u8>,
    /// `goto`, `nop`, `blackhole`, `unreachable`, `prohibit` (else `table`).
    pub action: Option<RuleAction>,
    /// `protocol` (honoured for `no_track` rules only; default keepalived, 18).
    pub protocol: Option<u8>,
    /// `fwmark/MASK`, `realms`, `suppress_*`, `tunnel-id`, `uidrange`, `l3mdev`,
    /// `ipproto`, `sport`, `dport`, `goto` target.
    pub attributes: Vec<RuleAttribute>,
}

/// `A-B` as a pair of numbers.
fn range<T: TryFrom<u64>>(text: &str) -> Option<(T, T)> {
    let (a, b) = text.split_once('-')?;
    let a = T::try_from(parse_c_number(a)?).ok()?;
    let b = T::try_from(parse_c_number(b)?).ok()?;
    Some((a, b))
}

/// keepalived's `ipproto` names (plus numbers).
fn ip_protocol(word: &str) -> Option<u8> {
    Some(match word {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        n => return parse_c_number(n).and_then(|v| u8::try_from(v).ok()),
    })
}

/// Reads the options of a rule line the model does not keep (the loader checked the
/// line; unreadable values are skipped).
pub fn extra(words: &[String]) -> RuleExtra {
    let mut extra = RuleExtra::default();
    let mut words = words.iter().map(String::as_str);
    let number = |w: Option<&str>| w.and_then(parse_c_number);
    while let Some(word) = words.next() {
        match word {
            "not" => extra.invert = true,
            "tos" | "dsfield" => extra.tos = words.next().and_then(dsfield_value),
            "fwmark" => {
                if let Some((_, mask)) = words.next().and_then(|w| w.split_once('/'))
                    && let Some(mask) = parse_c_number(mask).and_then(|m| u32::try_from(m).ok())
                {
                    extra.attributes.push(RuleAttribute::FwMask(mask));
                }
            }
            "realms" => {
                if let Some(r) = words.next() {
                    let (from, to) = r.split_once('/').unwrap_or(("0", r));
                    if let (Some(from), Some(to)) = (
                        parse_c_number(from).and_then(|v| u16::try_from(v).ok()),
                        parse_c_number(to).and_then(|v| u16::try_from(v).ok()),
                    ) {
                        extra.attributes.push(RuleAttribute::Realm(RouteRealm {
                            source: from,
                            destination: to,
                        }));
                    }
                }
            }
            "suppress_prefixlength" | "sup_pl" => {
                if let Some(v) = number(words.next()).and_then(|v| u32::try_from(v).ok()) {
                    extra.attributes.push(RuleAttribute::SuppressPrefixLen(v));
                }
            }
            "suppress_ifgroup" | "sup_group" => {
                let group = match words.next() {
                    Some("default") => Some(0),
                    w => number(w).and_then(|v| u32::try_from(v).ok()),
                };
                if let Some(group) = group {
                    extra.attributes.push(RuleAttribute::SuppressIfGroup(group));
                }
            }
            "tunnel-id" => {
                if let Some(id) = number(words.next()) {
                    extra.attributes.push(RuleAttribute::TunId(id));
                }
            }
            "uidrange" => {
                if let Some((start, end)) = words.next().and_then(range::<u32>) {
                    extra
                        .attributes
                        .push(RuleAttribute::UidRange(RuleUidRange { start, end }));
                }
            }
            "l3mdev" => extra.attributes.push(RuleAttribute::L3MDev(true)),
            "protocol" => {
                extra.protocol = number(words.next()).and_then(|v| u8::try_from(v).ok());
            }
            "ipproto" => {
                if let Some(p) = words.next().and_then(ip_protocol) {
                    extra
                        .attributes
                        .push(RuleAttribute::IpProtocol(IpProtocol::from(p)));
                }
            }
            "sport" | "dport" => {
                if let Some((start, end)) = words.next().and_then(range::<u16>) {
                    let ports = RulePortRange { start, end };
                    extra.attributes.push(if word == "sport" {
                        RuleAttribute::SourcePortRange(ports)
                    } else {
                        RuleAttribute::DestinationPortRange(ports)
                    });
                }
            }
            "goto" => {
                if let Some(target) = number(words.next()).and_then(|v| u32::try_from(v).ok()) {
                    extra.attributes.push(RuleAttribute::Goto(target));
                    extra.action = Some(RuleAction::Goto);
                }
            }
            "nop" => extra.action = Some(RuleAction::Nop),
            "blackhole" => extra.action = Some(RuleAction::Blackhole),
            "unreachable" => extra.action = Some(RuleAction::Unreachable),
            "prohibit" => extra.action = Some(RuleAction::Prohibit),
            // Words whose value could be mistaken for an option name.
            "from" | "to" | "table" | "lookup" | "preference" | "order" | "priority" | "dev"
            | "iif" | "oif" | "track_group" => {
                words.next();
            }
            _ => {}
        }
    }
    extra
}

/// Resolves a configured rule (its family from the addresses, else the `inet6` word).
pub fn spec(rule: &Rule) -> RuleSpec {
    let ipv6 = rule
        .from
        .or(rule.to)
        .map(|(a, _)| a.is_ipv6())
        .unwrap_or(rule.family == Some(Family::V6));
    RuleSpec {
        ipv6,
        from: rule.from,
        to: rule.to,
        priority: rule.priority,
        table: rule.table,
        fwmark: rule.fwmark,
        iif: rule.iif.clone(),
        oif: rule.oif.clone(),
        extra: {
            let mut extra = extra(&rule.words);
            if !rule.no_track {
                // keepalived: a tracked rule always carries protocol keepalived.
                extra.protocol = None;
            }
            extra
        },
        text: rule.words.join(" "),
    }
}

fn message(spec: &RuleSpec) -> RuleMessage {
    let mut message = RuleMessage::default();
    message.header.family = if spec.ipv6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    if let Some((addr, len)) = spec.from {
        message.header.src_len = len;
        message.attributes.push(RuleAttribute::Source(addr));
    }
    if let Some((addr, len)) = spec.to {
        message.header.dst_len = len;
        message.attributes.push(RuleAttribute::Destination(addr));
    }
    if let Some(priority) = spec.priority {
        message.attributes.push(RuleAttribute::Priority(priority));
    }
    if let Some(mark) = spec.fwmark {
        message.attributes.push(RuleAttribute::FwMark(mark));
    }
    if let Some(name) = &spec.iif {
        message
            .attributes
            .push(RuleAttribute::Iifname(name.clone()));
    }
    if let Some(name) = &spec.oif {
        message
            .attributes
            .push(RuleAttribute::Oifname(name.clone()));
    }
    if let Some(table) = spec.table {
        // Tables above 255 only fit the attribute (RT_TABLE_UNSPEC in the header).
        message.header.table = u8::try_from(table).unwrap_or(0);
        message.attributes.push(RuleAttribute::Table(table));
        message.header.action = RuleAction::ToTable;
    }
    let extra = &spec.extra;
    if extra.invert {
        message.header.flags |= RuleFlags::Invert;
    }
    if let Some(tos) = extra.tos {
        message.header.tos = tos;
    }
    if let Some(action) = extra.action {
        message.header.action = action;
    }
    if extra
        .attributes
        .iter()
        .any(|a| matches!(a, RuleAttribute::L3MDev(_)))
    {
        message.header.action = RuleAction::ToTable;
    }
    message.attributes.extend(extra.attributes.iter().cloned());
    message
        .attributes
        .push(RuleAttribute::Protocol(RouteProtocol::from(
            extra.protocol.unwrap_or(RTPROT_KEEPALIVED),
        )));
    message
}

/// Why a rule could not be set or removed.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule}: {source}")]
pub struct RuleError {
    rule: String,
    #[source]
    source: rtnetlink::Error,
}

/// Adds a rule; one already present counts as done.
pub async fn add(netlink: &Netlink, spec: &RuleSpec) -> Result<Change, RuleError> {
    let mut request = netlink.handle().rule().add();
    *request.message_mut() = message(spec);
    match request.execute().await {
        Ok(()) => Ok(Change::Done),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EEXIST => {
            Ok(Change::AlreadyInPlace)
        }
        Err(source) => Err(RuleError {
            rule: spec.text.clone(),
            source,
        }),
    }
}

/// Deletes a rule; one already gone counts as done.
pub async fn delete(netlink: &Netlink, spec: &RuleSpec) -> Result<Change, RuleError> {
    match netlink.handle().rule().del(message(spec)).execute().await {
        Ok(()) => Ok(Change::Done),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENOENT => {
            Ok(Change::AlreadyInPlace)
        }
        Err(source) => Err(RuleError {
            rule: spec.text.clone(),
            source,
        }),
    }
}
