//! `virtual_rules` and `static_rules` over rtnetlink (keepalived `netlink_rule()` in
//! `vrrp_iprule.c`): the selectors `from`, `to`, `priority`/`preference`, `fwmark`,
//! `iif`, `oif` and the action `table`/`lookup`, with protocol `keepalived`. Other
//! rule options (`goto`, `suppress_*`, port ranges, uid ranges, ...) are not applied yet.
//!
//! Candidate for `crates/linux`, next to `addr`.

use std::net::IpAddr;

use config::model::vrrp::{Family, Rule};
use linux::{Change, Netlink};
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};

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
    /// The line as written, for logs.
    pub text: String,
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
    message
        .attributes
        .push(RuleAttribute::Protocol(RouteProtocol::from(
            RTPROT_KEEPALIVED,
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
