//! `virtual_routes` and `static_routes` over rtnetlink.
//!
//! keepalived: `netlink_route()` in `vrrp_iproute.c`. Routes are added with protocol
//! `keepalived` (RTPROT_KEEPALIVED, 18; another `protocol` only for a `no_track`
//! route, as keepalived resets it otherwise) and scope universe unless `scope` is
//! given, in the configured table, with the configured type, gateway, `src`
//! (preferred source), `from` (source prefix), output device, metric, `tos`, `onlink`,
//! `realms`, `expires`, `pref` and the RTA_METRICS options (`mtu`, `advmss`, `rtt`,
//! `rttvar`, `rto_min`, `reordering`, `cwnd`, `ssthresh` — each lockable —, `window`,
//! `initcwnd`, `initrwnd`, `hoplimit`, `quickack`, `fastopen_no_cookie`,
//! `features ecn`, `congctl`). Not applied, and logged as such when the route is
//! built: `nexthop` (multipath), `encap`, `ttl-propagate`, `as to`, `or`.
//!
//! Candidate for `crates/linux` (it belongs next to `addr`): kept here so as not to
//! edit that crate while it is being finished.

use std::net::IpAddr;

use config::keywords::vrrp::{
    dsfield_value, parse_c_number, protocol_value, route_type_value, scope_value,
};
use config::model::vrrp::Route;
use linux::{Change, Netlink};
use netlink_packet_route::route::{
    RouteAttribute, RouteMetric, RoutePreference, RouteProtocol, RouteRealm, RouteScope, RouteType,
};
use rtnetlink::RouteMessageBuilder;
use thiserror::Error;
use tracing::warn;

/// keepalived's own routing protocol number (Linux ≥ 5.8 `RTPROT_KEEPALIVED`).
pub const RTPROT_KEEPALIVED: u8 = 18;

/// A route ready for netlink: everything resolved (interface names to indices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub destination: IpAddr,
    pub prefix_len: u8,
    pub gateway: Option<IpAddr>,
    pub source: Option<IpAddr>,
    pub ifindex: Option<u32>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    /// RTN_* (1 = unicast).
    pub route_type: u8,
    /// The options beyond the modelled ones, read from the line's words.
    pub extra: RouteExtra,
    /// The line as written, for logs.
    pub text: String,
}

/// Route options the configuration model keeps only as words (keepalived
/// `alloc_route()` fields), ready for netlink.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteExtra {
    /// `protocol` (honoured for `no_track` routes only; default keepalived, 18).
    pub protocol: Option<u8>,
    pub scope: Option<u8>,
    pub tos: Option<u8>,
    pub onlink: bool,
    /// `from ADDR[/LEN]`: the source prefix (RTA_SRC).
    pub from: Option<(IpAddr, u8)>,
    /// `realms [FROM/]TO` (RTA_FLOW: from << 16 | to).
    pub realms: Option<u32>,
    pub expires: Option<u32>,
    pub pref: Option<u8>,
    /// RTA_METRICS, `lock` bits included.
    pub metrics: Vec<RouteMetric>,
    /// Options on the line that are not applied (logged by the caller).
    pub unsupported: Vec<String>,
}

/// Why a route could not be set or removed.
#[derive(Debug, Error)]
pub enum RouteError {
    #[error("route {0}: invalid combination of addresses")]
    Invalid(String),
    #[error("route {route}: {source}")]
    Netlink {
        route: String,
        #[source]
        source: rtnetlink::Error,
    },
}

/// RTAX_* numbers of the lockable metrics (the `lock` word sets bit 1 << RTAX_*).
fn metric_of(word: &str, value: u32) -> Option<(RouteMetric, u32)> {
    Some(match word {
        "mtu" => (RouteMetric::Mtu(value), 2),
        "window" => (RouteMetric::Window(value), 3),
        "rtt" => (RouteMetric::Rtt(value), 4),
        "rttvar" => (RouteMetric::RttVar(value), 5),
        "ssthresh" => (RouteMetric::SsThresh(value), 6),
        "cwnd" => (RouteMetric::Cwnd(value), 7),
        "advmss" => (RouteMetric::Advmss(value), 8),
        "reordering" => (RouteMetric::Reordering(value), 9),
        "hoplimit" => (RouteMetric::Hoplimit(value), 10),
        "initcwnd" => (RouteMetric::InitCwnd(value), 11),
        "rto_min" => (RouteMetric::RtoMin(value), 13),
        "initrwnd" => (RouteMetric::InitRwnd(value), 14),
        "quickack" => (RouteMetric::QuickAck(value), 15),
        "fastopen_no_cookie" => (RouteMetric::FastopenNoCookie(value), 17),
        _ => return None,
    })
}

/// keepalived `get_time_rtt()`: milliseconds, or seconds with an `s`/`sec`/`secs`
/// unit (`ms`/`msec`/`msecs` also accepted), times the kernel's units per ms.
fn rtt_units(text: &str, units_per_ms: f64) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let (number, ms) = if let Some(n) = ["msecs", "msec", "ms"]
        .iter()
        .find_map(|u| lower.strip_suffix(u))
    {
        (n, 1.0)
    } else if let Some(n) = ["secs", "sec", "s"]
        .iter()
        .find_map(|u| lower.strip_suffix(u))
    {
        (n, 1000.0)
    } else {
        (lower.as_str(), 1.0)
    };
    let value: f64 = number.parse().ok()?;
    let units = (value * ms * units_per_ms).round();
    (0.0..=f64::from(u32::MAX))
        .contains(&units)
        .then_some(units as u32)
}

/// `ADDR[/LEN]`.
fn prefix_of(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l.parse().ok()?)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    Some((addr, len.unwrap_or(full)))
}

/// Reads the options of a route line the model does not keep (the line was checked
/// by the configuration loader already, so unreadable values are skipped).
pub fn extra(words: &[String]) -> RouteExtra {
    let mut extra = RouteExtra::default();
    let mut lock = 0u32;
    let mut words = words.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "protocol" => extra.protocol = words.next().and_then(protocol_value),
            "scope" => extra.scope = words.next().and_then(scope_value),
            "tos" | "dsfield" => extra.tos = words.next().and_then(dsfield_value),
            "onlink" => extra.onlink = true,
            "from" => extra.from = words.next().and_then(prefix_of),
            "realms" => {
                extra.realms = words.next().and_then(|r| {
                    let (from, to) = r.split_once('/').unwrap_or(("0", r));
                    let from = u16::try_from(parse_c_number(from)?).ok()?;
                    let to = u16::try_from(parse_c_number(to)?).ok()?;
                    Some(u32::from(from) << 16 | u32::from(to))
                });
            }
            "expires" => {
                extra.expires = words
                    .next()
                    .and_then(parse_c_number)
                    .and_then(|v| u32::try_from(v).ok());
            }
            "pref" => {
                extra.pref = words.next().and_then(|p| match p {
                    "low" => Some(u8::from(RoutePreference::Low)),
                    "medium" => Some(u8::from(RoutePreference::Medium)),
                    "high" => Some(u8::from(RoutePreference::High)),
                    n => parse_c_number(n).and_then(|v| u8::try_from(v).ok()),
                });
            }
            // RTAX_FEATURE_ECN, the one feature keepalived knows.
            "features" if words.next() == Some("ecn") => {
                extra.metrics.push(RouteMetric::Features(1));
            }
            "congctl" => {
                let mut name = words.next();
                if name == Some("lock") {
                    lock |= 1 << 16;
                    name = words.next();
                }
                if let Some(name) = name {
                    extra.metrics.push(RouteMetric::CcAlgo(name.to_string()));
                }
            }
            "mtu" | "advmss" | "rtt" | "rttvar" | "rto_min" | "reordering" | "cwnd"
            | "ssthresh" | "window" | "initcwnd" | "initrwnd" | "hoplimit" | "quickack"
            | "fastopen_no_cookie" => {
                let mut text = words.next();
                let mut locked = false;
                if text == Some("lock") {
                    locked = true;
                    text = words.next();
                }
                let value = text.and_then(|t| match word {
                    // The kernel keeps RTT in 1/8 ms, its variance in 1/4 ms.
                    "rtt" => rtt_units(t, 8.0),
                    "rttvar" => rtt_units(t, 4.0),
                    "rto_min" => rtt_units(t, 1.0),
                    _ => parse_c_number(t).and_then(|v| u32::try_from(v).ok()),
                });
                if let Some((metric, bit)) = value.and_then(|v| metric_of(word, v)) {
                    if locked {
                        lock |= 1 << bit;
                    }
                    extra.metrics.push(metric);
                }
            }
            "nexthop" => {
                // Everything after it describes the next hops.
                extra.unsupported.push("nexthop (multipath)".into());
                break;
            }
            "encap" | "ttl-propagate" | "as" | "or" => extra.unsupported.push(word.into()),
            _ => {}
        }
    }
    if lock != 0 {
        extra.metrics.insert(0, RouteMetric::Lock(lock));
    }
    extra
}

/// Resolves a configured route; `ifindex_of` maps `dev NAME` to an index. `None` when
/// the route has no usable destination or its device does not exist.
pub fn spec(route: &Route, ifindex_of: &dyn Fn(&str) -> Option<u32>) -> Option<RouteSpec> {
    let destination = route.dst.or(match route.family {
        Some(config::model::vrrp::Family::V6) => Some(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
        _ => Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    })?;
    let ifindex = match &route.dev {
        Some(dev) => Some(ifindex_of(dev)?),
        None => None,
    };
    let mut extra = extra(&route.words);
    for option in &extra.unsupported {
        warn!(
            "route '{}': {option} is not supported yet - the route is set without it",
            route.words.join(" ")
        );
    }
    if !route.no_track {
        // keepalived resets a tracked route's protocol to its own (the loader warned).
        extra.protocol = None;
    }
    // The model keeps `src` and `from` in one field; `from` is the source prefix.
    let source = route
        .src
        .filter(|s| extra.from.is_none_or(|(f, _)| f != *s));
    Some(RouteSpec {
        destination,
        prefix_len: route.dst_prefix,
        gateway: route.via,
        source,
        ifindex,
        table: route.table,
        metric: route.metric,
        route_type: route
            .route_type
            .as_deref()
            .and_then(route_type_value)
            .unwrap_or(1),
        extra,
        text: route.words.join(" "),
    })
}

fn message(
    spec: &RouteSpec,
    scope: RouteScope,
) -> Result<netlink_packet_route::route::RouteMessage, RouteError> {
    let invalid = |_| RouteError::Invalid(spec.text.clone());
    let mut builder = RouteMessageBuilder::<IpAddr>::new()
        .destination_prefix(spec.destination, spec.prefix_len)
        .map_err(invalid)?;
    if let Some(gateway) = spec.gateway {
        builder = builder.gateway(gateway).map_err(invalid)?;
    }
    if let Some(source) = spec.source {
        builder = builder.pref_source(source).map_err(invalid)?;
    }
    if let Some(index) = spec.ifindex {
        builder = builder.output_interface(index);
    }
    if let Some(table) = spec.table {
        builder = builder.table_id(table);
    }
    if let Some(metric) = spec.metric {
        builder = builder.priority(metric);
    }
    let extra = &spec.extra;
    if let Some((from, len)) = extra.from {
        builder = builder.source_prefix(from, len).map_err(invalid)?;
    }
    if let Some(tos) = extra.tos {
        builder = builder.tos(tos);
    }
    if extra.onlink {
        builder = builder.onlink();
    }
    if let Some(expires) = extra.expires {
        builder = builder.expires(expires);
    }
    if let Some(realms) = extra.realms {
        builder = builder.realm(RouteRealm {
            source: u16::try_from(realms >> 16).unwrap_or(0),
            destination: u16::try_from(realms & 0xffff).unwrap_or(0),
        });
    }
    let mut message = builder
        .protocol(RouteProtocol::from(
            extra.protocol.unwrap_or(RTPROT_KEEPALIVED),
        ))
        .scope(RouteScope::from(extra.scope.unwrap_or(u8::from(scope))))
        .kind(RouteType::from(spec.route_type))
        .build();
    if let Some(pref) = extra.pref {
        message
            .attributes
            .push(RouteAttribute::Preference(RoutePreference::from(pref)));
    }
    if !extra.metrics.is_empty() {
        message
            .attributes
            .push(RouteAttribute::Metrics(extra.metrics.clone()));
    }
    Ok(message)
}

/// Adds a route; an identical route already present counts as done.
pub async fn add(netlink: &Netlink, spec: &RouteSpec) -> Result<Change, RouteError> {
    let message = message(spec, RouteScope::Universe)?;
    match netlink.handle().route().add(message).execute().await {
        Ok(()) => Ok(Change::Done),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::EEXIST => {
            Ok(Change::AlreadyInPlace)
        }
        Err(source) => Err(RouteError::Netlink {
            route: spec.text.clone(),
            source,
        }),
    }
}

/// Deletes a route; one already gone counts as done.
pub async fn delete(netlink: &Netlink, spec: &RouteSpec) -> Result<Change, RouteError> {
    // keepalived deletes with scope "nowhere" so that any scope matches.
    let message = message(spec, RouteScope::NoWhere)?;
    match netlink.handle().route().del(message).execute().await {
        Ok(()) => Ok(Change::Done),
        Err(rtnetlink::Error::NetlinkError(e))
            if e.raw_code() == -libc::ESRCH || e.raw_code() == -libc::ENOENT =>
        {
            Ok(Change::AlreadyInPlace)
        }
        Err(source) => Err(RouteError::Netlink {
            route: spec.text.clone(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_resolves_device_type_and_default_destination() {
        let route = Route {
            dst: Some("198.51.100.0".parse().expect("literal")),
            dst_prefix: 24,
            via: Some("192.0.2.1".parse().expect("literal")),
            dev: Some("eth0".into()),
            route_type: Some("blackhole".into()),
            words: vec!["198.51.100.0/24".into()],
            ..Route::default()
        };
        let spec = spec(&route, &|name| (name == "eth0").then_some(2)).expect("resolves");
        assert_eq!(spec.ifindex, Some(2));
        assert_eq!(spec.route_type, 6);
        let missing = Route {
            dev: Some("nope".into()),
            ..route
        };
        assert!(super::spec(&missing, &|_| None).is_none());
        let default = Route {
            family: Some(config::model::vrrp::Family::V6),
            ..Route::default()
        };
        let spec = super::spec(&default, &|_| None).expect("default route");
        assert_eq!(spec.destination, "::".parse::<IpAddr>().expect("literal"));
        assert_eq!(spec.prefix_len, 0);
    }
}
