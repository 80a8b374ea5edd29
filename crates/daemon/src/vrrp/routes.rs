//! `virtual_routes` and `static_routes` over rtnetlink.
//!
//! keepalived: `netlink_route()` in `vrrp_iproute.c`. Routes are added with protocol
//! `keepalived` (RTPROT_KEEPALIVED, 18) and scope universe, in the configured table,
//! with the configured type, gateway, preferred source, output device and metric. Only
//! those options are applied here; the rest of a route line (MTU, realms, multipath,
//! encapsulation, ...) is not yet (the caller logs that).
//!
//! Candidate for `crates/linux` (it belongs next to `addr`): kept here so as not to
//! edit that crate while it is being finished.

use std::net::IpAddr;

use config::model::vrrp::Route;
use linux::{Change, Netlink};
use netlink_packet_route::route::{RouteProtocol, RouteScope, RouteType};
use rtnetlink::RouteMessageBuilder;
use thiserror::Error;

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
    /// The line as written, for logs.
    pub text: String,
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

/// keepalived's route type words (`find_route_type()`).
pub fn route_type_number(word: &str) -> Option<u8> {
    Some(match word {
        "unicast" => 1,
        "local" => 2,
        "broadcast" => 3,
        "anycast" => 4,
        "multicast" => 5,
        "blackhole" => 6,
        "unreachable" => 7,
        "prohibit" => 8,
        "throw" => 9,
        "nat" => 10,
        _ => return None,
    })
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
    Some(RouteSpec {
        destination,
        prefix_len: route.dst_prefix,
        gateway: route.via,
        source: route.src,
        ifindex,
        table: route.table,
        metric: route.metric,
        route_type: route
            .route_type
            .as_deref()
            .and_then(route_type_number)
            .unwrap_or(1),
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
    Ok(builder
        .protocol(RouteProtocol::from(RTPROT_KEEPALIVED))
        .scope(scope)
        .kind(RouteType::from(spec.route_type))
        .build())
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
