//! Configuration + state → the IPVS table keepalived would program
//! (keepalived `ipvswrapper.c`: `ipvs_set_srule`, `ipvs_set_drule`,
//! `ipvs_cmd`, `ipvs_group_cmd`; `ipwrapper.c`: which real servers are in the
//! pool given health, `inhibit_on_failure`, quorum and the sorry server).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use config::SourceMap;
use config::model::lvs::DEFAULT_SCHEDULER;
use config::model::lvs::{
    Family, Forwarding as CfgForwarding, ForwardingMethod, Granularity, LvsConfig,
    Protocol as CfgProtocol, RealServer, SchedulerFlags, SorryServer, TunnelChecksum,
    TunnelType as CfgTunnelType, VirtualServer, VirtualServerGroup, VsAddress,
};
use ipvs::reconcile::{DesiredTable, TableService};
use ipvs::{
    AddressFamily, Dest, Forwarding, Netmask, Protocol, Service, ServiceFlags, ServiceKey,
    TunnelFlags, TunnelType,
};

use crate::health::{State, VsState, real_weight};

/// Most services one range entry may expand to; keepalived walks any range,
/// but a `/8` would be 16 million services.
pub const MAX_RANGE_SERVICES: u32 = 65_536;

/// The desired table and what could not be mapped.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub desired: DesiredTable,
    /// Human-readable notes: unknown groups, key collisions, cut ranges.
    pub warnings: Vec<String>,
}

fn family(f: Family) -> AddressFamily {
    match f {
        Family::Inet => AddressFamily::Inet,
        Family::Inet6 => AddressFamily::Inet6,
    }
}

fn protocol(p: Option<CfgProtocol>) -> Protocol {
    match p {
        Some(CfgProtocol::Tcp) => Protocol::Tcp,
        // keepalived: an address service without `protocol` is UDP.
        Some(CfgProtocol::Udp) | None => Protocol::Udp,
        Some(CfgProtocol::Sctp) => Protocol::Sctp,
    }
}

/// keepalived's scheduler flag bits (`IP_VS_SVC_F_*`).
fn scheduler_flags(flags: &SchedulerFlags) -> ServiceFlags {
    let mut out = ServiceFlags::NONE;
    let bits = [
        (flags.one_packet, ServiceFlags::ONE_PACKET),
        (
            flags.flag1 || flags.sh_fallback || flags.mh_fallback,
            ServiceFlags::SCHED1,
        ),
        (
            flags.flag2 || flags.sh_port || flags.mh_port,
            ServiceFlags::SCHED2,
        ),
        (flags.flag3, ServiceFlags::SCHED3),
    ];
    for (set, bit) in bits {
        if set {
            out = out | bit;
        }
    }
    out
}

fn forwarding(fwd: &CfgForwarding) -> Forwarding {
    match fwd.method {
        ForwardingMethod::Nat => Forwarding::Masq,
        ForwardingMethod::DirectRouting => Forwarding::Route,
        ForwardingMethod::Tunnel => Forwarding::Tunnel {
            kind: match fwd.tunnel_type {
                CfgTunnelType::Ipip => TunnelType::Ipip,
                CfgTunnelType::Gue => TunnelType::Gue {
                    port: fwd.tunnel_port,
                },
                CfgTunnelType::Gre => TunnelType::Gre,
            },
            flags: match fwd.tunnel_checksum {
                TunnelChecksum::NoCsum => TunnelFlags::NOCSUM,
                TunnelChecksum::Csum => TunnelFlags::CSUM,
                TunnelChecksum::RemCsum => TunnelFlags::REMCSUM,
            },
        },
    }
}

/// keepalived defaults the method to NAT (with a warning at validation).
fn forwarding_or_nat(fwd: Option<&CfgForwarding>) -> Forwarding {
    fwd.map_or(Forwarding::Masq, forwarding)
}

/// The service rule of `vs` at `key` (keepalived `ipvs_set_srule`).
/// `group_entry`: keepalived resets the netmask to a host mask for every
/// group entry, so `persistence_granularity` does not reach the kernel there.
fn service_for(vs: &VirtualServer, key: ServiceKey, group_entry: bool) -> Service {
    let scheduler = vs.scheduler.as_deref().unwrap_or(DEFAULT_SCHEDULER);
    let mut service = Service::new(key, scheduler).with_flags(scheduler_flags(&vs.scheduler_flags));
    let persistence = &vs.persistence;
    if persistence.timeout > 0 {
        service = service.persistent(persistence.timeout);
        if !group_entry {
            match persistence.granularity {
                Some(Granularity::V4Mask(mask)) => service.netmask = Netmask::V4(mask),
                Some(Granularity::V6Prefix(len)) => service.netmask = Netmask::V6Prefix(len),
                None => {}
            }
        }
        service.pe_name = persistence.engine.clone();
    }
    service
}

/// The real-server rule (keepalived `ipvs_set_drule` + `ipvs_cmd`): for
/// anything but NAT the port is the service's (0 for fwmark services).
fn dest_for(addr: IpAddr, port: u16, fwd: Forwarding, weight: u32, key: &ServiceKey) -> Dest {
    let port = match (fwd, key) {
        (Forwarding::Masq, _) => port,
        (_, ServiceKey::Addr { port, .. }) => *port,
        (_, ServiceKey::Fwmark { .. }) => 0,
    };
    Dest::new(addr, port, fwd, weight)
}

/// The next address of a group range (keepalived `ipvs_group_range_cmd`:
/// IPv4 counts the whole address; IPv6 only its last 16 bits).
fn range_addresses(start: IpAddr, end: IpAddr, limit: u32) -> (Vec<IpAddr>, bool) {
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => {
            let (s, e) = (u32::from(s), u32::from(e));
            let last = e.max(s);
            let count = last - s;
            let cut = count >= limit;
            let last = if cut {
                s.saturating_add(limit - 1)
            } else {
                last
            };
            (
                (s..=last).map(|a| IpAddr::V4(Ipv4Addr::from(a))).collect(),
                cut,
            )
        }
        (IpAddr::V6(s), IpAddr::V6(e)) => {
            let segments = s.segments();
            let first = segments[7];
            let last = e.segments()[7].max(first);
            let addrs = (first..=last)
                .map(|low| {
                    let mut seg = segments;
                    seg[7] = low;
                    IpAddr::V6(Ipv6Addr::from(seg))
                })
                .collect();
            (addrs, false)
        }
        _ => (vec![start], false),
    }
}

/// Every kernel service a virtual server stands for.
fn service_keys(
    vs: &VirtualServer,
    groups: &[VirtualServerGroup],
    warnings: &mut Vec<String>,
) -> Vec<(ServiceKey, bool)> {
    match &vs.address {
        VsAddress::Ip { addr, port } => vec![(
            ServiceKey::Addr {
                protocol: protocol(vs.protocol),
                addr: *addr,
                port: *port,
            },
            false,
        )],
        VsAddress::Fwmark { mark } => vec![(
            ServiceKey::Fwmark {
                family: family(vs.family.unwrap_or(Family::Inet)),
                mark: *mark,
            },
            false,
        )],
        VsAddress::Group(name) => {
            let Some(group) = groups.iter().find(|g| &g.name == name) else {
                // keepalived: "Virtual server group %s specified but not configured - ignoring".
                warnings.push(format!(
                    "virtual_server group {name}: no such virtual_server_group, ignored"
                ));
                return Vec::new();
            };
            let mut keys = Vec::new();
            for range in &group.ranges {
                let (addrs, cut) = range_addresses(range.start, range.end, MAX_RANGE_SERVICES);
                if cut {
                    warnings.push(format!(
                        "virtual_server_group {name}: range {}-{} cut to {MAX_RANGE_SERVICES} services",
                        range.start, range.end
                    ));
                }
                keys.extend(addrs.into_iter().map(|addr| {
                    (
                        ServiceKey::Addr {
                            protocol: protocol(vs.protocol),
                            addr,
                            port: range.port,
                        },
                        true,
                    )
                }));
            }
            for fwmark in &group.fwmarks {
                // keepalived: the entry's family, else the virtual server's, else IPv4.
                let fam = fwmark.family.or(vs.family).unwrap_or(Family::Inet);
                keys.push((
                    ServiceKey::Fwmark {
                        family: family(fam),
                        mark: fwmark.mark,
                    },
                    true,
                ));
            }
            keys
        }
    }
}

/// Which real servers are in the pool, at what weight (keepalived
/// `init_service_rs`, `perform_svr_state`, `perform_quorum_state`,
/// `update_quorum_state`): a live real server at its weight; a failed one
/// removed, or at weight 0 with `inhibit_on_failure`. While quorum is down
/// and there is a sorry server, the live servers leave the pool (inhibited
/// ones stay at weight 0) and the sorry server takes over.
fn pool(vs: &VirtualServer, state: Option<&VsState>, key: &ServiceKey) -> Vec<Dest> {
    let sorry_active = vs.sorry_server.is_some() && state.is_some_and(|s| !s.quorum_up);
    let mut dests: Vec<Dest> = Vec::new();
    for (index, rs) in vs.real_servers.iter().enumerate() {
        let rs_state = state.and_then(|s| s.real_servers.get(index));
        let alive = rs_state.is_some_and(|s| s.alive);
        let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
        let weight = rs_state.map_or(0, |s| real_weight(s.weight));
        let weight = match (sorry_active, alive, inhibit) {
            (false, true, _) => Some(weight),
            (_, _, true) => Some(0),
            _ => None,
        };
        if let Some(weight) = weight {
            dests.push(real_server_dest(vs, rs, weight, key));
        }
    }
    if let Some(sorry) = &vs.sorry_server {
        // keepalived: the sorry server has weight 1; with sorry_server_inhibit it
        // stays in the table at weight 0 while not needed.
        let weight = match (sorry_active, sorry.inhibit) {
            (true, _) => Some(1),
            (false, true) => Some(0),
            (false, false) => None,
        };
        if let Some(weight) = weight {
            let dest = sorry_dest(vs, sorry, weight, key);
            match dests.iter_mut().find(|d| d.key() == dest.key()) {
                // A sorry server that is also a real server: while active it
                // takes over that entry, otherwise the real server's state rules.
                Some(existing) if sorry_active => *existing = dest,
                Some(_) => {}
                None => dests.push(dest),
            }
        }
    }
    dests
}

fn real_server_dest(vs: &VirtualServer, rs: &RealServer, weight: u32, key: &ServiceKey) -> Dest {
    let fwd = forwarding_or_nat(rs.forwarding.as_ref().or(vs.forwarding.as_ref()));
    Dest {
        upper_threshold: rs.upper_threshold,
        lower_threshold: rs.lower_threshold,
        ..dest_for(rs.addr, rs.port, fwd, weight, key)
    }
}

fn sorry_dest(vs: &VirtualServer, sorry: &SorryServer, weight: u32, key: &ServiceKey) -> Dest {
    let fwd = forwarding_or_nat(sorry.forwarding.as_ref().or(vs.forwarding.as_ref()));
    dest_for(sorry.addr, sorry.port, fwd, weight, key)
}

/// Where a virtual server was written, for error messages:
/// `FILE:LINE: virtual_server DESCRIPTION`.
pub fn origin(vs: &VirtualServer, sources: Option<&SourceMap>) -> String {
    let file = sources
        .and_then(|s| s.get(vs.span.file))
        .map(|f| f.path.display().to_string());
    match file {
        Some(path) => format!("{path}:{}: virtual_server {}", vs.span.line, vs.describe()),
        None => format!("line {}: virtual_server {}", vs.span.line, vs.describe()),
    }
}

/// The IPVS table keepalived programs for `cfg` in `state`. Two virtual
/// servers that map to the same kernel service share it: the first one's
/// settings win and real servers are merged, first one wins (keepalived's
/// second add fails with EEXIST, which it ignores).
pub fn desired_table(cfg: &LvsConfig, state: &State, sources: Option<&SourceMap>) -> Mapped {
    let mut mapped = Mapped::default();
    for (index, vs) in cfg.virtual_servers.iter().enumerate() {
        let vs_state = state.virtual_servers.get(index);
        let keys = service_keys(vs, &cfg.virtual_server_groups, &mut mapped.warnings);
        for (key, group_entry) in keys {
            let service = service_for(vs, key, group_entry);
            let dests = pool(vs, vs_state, &key);
            let table = &mut mapped.desired.table;
            match table.services.get_mut(&key) {
                Some(existing) => {
                    mapped.warnings.push(format!(
                        "{}: service {key} already defined by {}; real servers merged",
                        origin(vs, sources),
                        mapped.desired.origins.get(&key).map_or("", String::as_str)
                    ));
                    for dest in dests {
                        existing.dests.entry(dest.key()).or_insert(dest);
                    }
                }
                None => {
                    let mut entry = TableService::new(service);
                    for dest in dests {
                        entry.dests.entry(dest.key()).or_insert(dest);
                    }
                    table.services.insert(key, entry);
                    mapped.desired.origins.insert(key, origin(vs, sources));
                }
            }
        }
    }
    mapped
}
