//! Address parsing as keepalived's `inet_stosockaddr()` (lib/utils.c) does it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::parser::Ctx;
use crate::span::Span;

/// Why an address did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("invalid port")]
    Port,
    #[error("invalid address")]
    Address,
}

/// keepalived treats a port of all zeros (or empty) as "no port" (`strspn(port, "0")`).
pub fn effective_port(port: Option<&str>) -> Option<&str> {
    port.filter(|p| !p.bytes().all(|b| b == b'0'))
}

/// Parses an address the way `inet_stosockaddr()` does: the family is IPv6 when the
/// text contains ':'; anything from the first '-' or '/' on (range/mask) is ignored;
/// a port, when given, must be in [1, 65535] (reported as an invalid number at `span`).
pub fn parse_sockaddr(
    ctx: &mut Ctx<'_>,
    ip: &str,
    port: Option<&str>,
    span: Span,
) -> Result<(IpAddr, u16), AddrError> {
    let port_num = match port {
        Some(p) => {
            let v = ctx
                .parse_unsigned(p, span, 10, 1, 65535, u64::from(u32::MAX))
                .ok_or(AddrError::Port)?;
            u16::try_from(v).map_err(|_| AddrError::Port)?
        }
        None => 0,
    };
    let addr = parse_ip(ip).ok_or(AddrError::Address)?;
    Ok((addr, port_num))
}

/// The address part of `inet_stosockaddr()` (no port), without reporting anything: IPv6
/// when the text has a ':', anything from a '-' (range) or else a '/' (mask) on is
/// ignored. Shared by the LVS, VRRP and BFD keywords.
pub fn parse_ip(ip: &str) -> Option<IpAddr> {
    let is_v6 = ip.contains(':');
    let cut = ip.find('-').or_else(|| ip.find('/')).unwrap_or(ip.len());
    let text = ip.get(..cut)?;
    if is_v6 {
        text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        text.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
    }
}

/// Whether an IPv6 address is link-local (fe80::/10).
pub fn is_link_local_v6(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ip_strips_range_and_mask() {
        assert_eq!(parse_ip("10.0.0.1-20"), "10.0.0.1".parse().ok());
        assert_eq!(parse_ip("10.0.0.0/24"), "10.0.0.0".parse().ok());
        assert_eq!(parse_ip("fe80::1-ff"), "fe80::1".parse().ok());
        assert_eq!(parse_ip("1.2.3"), None);
        assert_eq!(parse_ip("xxx.xxx.xxx.xxx"), None);
    }

    #[test]
    fn zero_ports_are_no_port() {
        assert_eq!(effective_port(Some("000")), None);
        assert_eq!(effective_port(Some("80")), Some("80"));
        assert_eq!(effective_port(None), None);
    }
}
