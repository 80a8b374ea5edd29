//! The receive side under hostile traffic: how big a pool's receive buffer is,
//! which VRIDs and versions its kernel filter lets through, how refused adverts
//! are logged without the log becoming the flood, and how the kernel's drops
//! are reported.

use std::time::{Duration, Instant};

use config::model::global::RxBufsPolicy;
use linux::vrrp_socket::{FilterScope, KernelDrops};
use vrrp::advert::Version;
use vrrp::packet::Family;

/// keepalived `vrrp_adv_len()`: the advert's size on the wire (IPv4 header and
/// AH included, IPv6 header not).
pub fn advert_len(family: Family, version: Version, addresses: usize, ah: bool) -> usize {
    match family {
        Family::Ipv4 => {
            let auth = if version == Version::V2 { 8 } else { 0 };
            20 + if ah { 24 } else { 0 } + 8 + auth + 4 * addresses
        }
        Family::Ipv6 => 8 + 16 * addresses,
    }
}

/// One instance's share of its pool's SO_RCVBUF (keepalived
/// `vrrp_create_sockpool()`): `kernel_rx_buf_size`, else the global
/// `vrrp_rx_bufs_policy` (SIZE, ADVERT or MTU times `vrrp_rx_bufs_multiplier`).
/// `None`: no policy, the pool keeps the kernel default (as keepalived).
pub fn receive_buffer_share(
    kernel_rx_buf_size: Option<u32>,
    policy: &RxBufsPolicy,
    multiplier: u32,
    advert_len: usize,
    mtu: Option<u32>,
) -> Option<usize> {
    let multiplier = usize::try_from(multiplier).unwrap_or(1);
    if let Some(size) = kernel_rx_buf_size.filter(|s| *s > 0) {
        return usize::try_from(size).ok();
    }
    if let Some(size) = policy.size {
        return usize::try_from(size).ok();
    }
    if policy.advert {
        return Some(multiplier.saturating_mul(advert_len));
    }
    if policy.mtu {
        return mtu
            .and_then(|m| usize::try_from(m).ok())
            .map(|m| multiplier.saturating_mul(m));
    }
    None
}

/// A pool's SO_RCVBUF: the sum of its instances' shares, `None` if none has one.
pub fn pool_receive_buffer(shares: impl IntoIterator<Item = Option<usize>>) -> Option<usize> {
    shares
        .into_iter()
        .flatten()
        .fold(None, |sum: Option<usize>, s| {
            Some(sum.unwrap_or(0).saturating_add(s))
        })
}

/// The kernel filter's scope for a pool from its instances' (VRID, version).
pub fn filter_scope(instances: impl IntoIterator<Item = (u8, Version)>) -> FilterScope {
    let mut scope = FilterScope {
        vrids: Vec::new(),
        v2: false,
        v3: false,
    };
    for (vrid, version) in instances {
        scope.vrids.push(vrid);
        match version {
            Version::V2 => scope.v2 = true,
            Version::V3 => scope.v3 = true,
        }
    }
    if scope.vrids.is_empty() {
        return FilterScope::default();
    }
    scope
}

/// Lines about refused adverts, rate-limited per instance: a burst of
/// [`LogLimiter::BURST`], then [`LogLimiter::PER_SECOND`]; what is held back
/// is counted and reported with the next line let through. keepalived logs
/// every refusal, which under a flood makes the log the bottleneck; the
/// counters (`rx_stats`) still see every packet.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    tokens: f64,
    last: Option<Instant>,
    suppressed: u64,
}

impl Default for LogLimiter {
    fn default() -> Self {
        LogLimiter {
            tokens: Self::BURST,
            last: None,
            suppressed: 0,
        }
    }
}

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Log it; `suppressed` lines were held back since the last one logged.
    Log { suppressed: u64 },
    /// Count it only.
    Suppress,
}

impl LogLimiter {
    pub const BURST: f64 = 100.0;
    pub const PER_SECOND: f64 = 10.0;

    pub fn admit(&mut self, now: Instant) -> Admit {
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * Self::PER_SECOND;
            self.tokens = (self.tokens + refill).min(Self::BURST);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Admit::Log {
                suppressed: std::mem::take(&mut self.suppressed),
            }
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
            Admit::Suppress
        }
    }
}

/// How often a pool's receive task looks at the kernel's drop counters.
pub const DROP_REPORT_EVERY: Duration = Duration::from_secs(2);
/// Drops per report period from which the report is logged at INFO (a flood)
/// rather than DEBUG (stray VRRP of other routers on the segment).
pub const FLOOD_THRESHOLD: u64 = 1000;

/// A pool's packet accounting: everything the kernel handed us (`received`) and
/// everything it dropped, so that received + filtered + queue_full is every
/// packet that reached the socket.
#[derive(Debug, Clone, Default)]
pub struct DropReport {
    pub received: u64,
    last: KernelDrops,
    last_received: u64,
    flooding: bool,
}

/// What a report period amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Nothing was dropped in the period (and none in the one before).
    Quiet,
    /// Some drops, not enough to call it a flood.
    Debug(String),
    /// A flood, its end, or a full receive queue.
    Info(String),
    /// The receive queue overflowed: adverts may have been lost.
    Warn(String),
}

impl DropReport {
    /// Compares the counters with the previous period's.
    pub fn period(&mut self, label: &str, drops: KernelDrops) -> Report {
        let filtered = drops.filtered.saturating_sub(self.last.filtered);
        let overflow = drops.queue_full.saturating_sub(self.last.queue_full);
        let received = self.received.saturating_sub(self.last_received);
        self.last = drops;
        self.last_received = self.received;
        let was_flooding = self.flooding;
        self.flooding = filtered + overflow >= FLOOD_THRESHOLD;
        if filtered == 0 && overflow == 0 && !was_flooding {
            return Report::Quiet;
        }
        let line = format!(
            "VRRP socket {label}: {received} packets received, {filtered} dropped by the kernel filter, \
             {overflow} lost to a full receive queue in the last {}s \
             (totals: {} received, {} filtered, {} lost)",
            DROP_REPORT_EVERY.as_secs(),
            self.received,
            drops.filtered,
            drops.queue_full
        );
        if overflow > 0 {
            Report::Warn(line)
        } else if self.flooding || was_flooding {
            Report::Info(line)
        } else {
            Report::Debug(line)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_lengths_like_keepalived() {
        assert_eq!(advert_len(Family::Ipv4, Version::V2, 1, false), 40);
        assert_eq!(advert_len(Family::Ipv4, Version::V2, 1, true), 64);
        assert_eq!(advert_len(Family::Ipv4, Version::V3, 3, false), 40);
        assert_eq!(advert_len(Family::Ipv6, Version::V3, 2, false), 40);
    }

    #[test]
    fn receive_buffer_policy_order() {
        let none = RxBufsPolicy::default();
        assert_eq!(receive_buffer_share(None, &none, 3, 40, Some(1500)), None);
        assert_eq!(
            receive_buffer_share(Some(9000), &none, 3, 40, None),
            Some(9000)
        );
        let advert = RxBufsPolicy {
            advert: true,
            ..none
        };
        assert_eq!(receive_buffer_share(None, &advert, 3, 40, None), Some(120));
        let mtu = RxBufsPolicy { mtu: true, ..none };
        assert_eq!(
            receive_buffer_share(None, &mtu, 2, 40, Some(1500)),
            Some(3000)
        );
        let size = RxBufsPolicy {
            size: Some(65536),
            mtu: true,
            ..none
        };
        assert_eq!(
            receive_buffer_share(None, &size, 2, 40, Some(1500)),
            Some(65536)
        );
        assert_eq!(pool_receive_buffer([None, None]), None);
        assert_eq!(pool_receive_buffer([Some(100), None, Some(20)]), Some(120));
    }

    #[test]
    fn filter_scope_collects_vrids_and_versions() {
        let scope = filter_scope([(51, Version::V2), (52, Version::V2)]);
        assert_eq!(
            (scope.vrids, scope.v2, scope.v3),
            (vec![51, 52], true, false)
        );
        assert_eq!(filter_scope([]), FilterScope::default());
    }

    #[test]
    fn log_limiter_bursts_then_paces_and_counts_what_it_held_back() {
        let mut limiter = LogLimiter::default();
        let start = Instant::now();
        let logged = (0..1000)
            .filter(|_| matches!(limiter.admit(start), Admit::Log { .. }))
            .count();
        assert_eq!(logged, 100);
        // One second later: ten more, the first reporting the 900 held back.
        let later = start + Duration::from_secs(1);
        assert_eq!(limiter.admit(later), Admit::Log { suppressed: 900 });
        let more = (0..100)
            .filter(|_| matches!(limiter.admit(later), Admit::Log { .. }))
            .count();
        assert_eq!(more, 9);
    }

    #[test]
    fn drop_report_levels() {
        let mut report = DropReport::default();
        assert_eq!(report.period("eth0", KernelDrops::default()), Report::Quiet);
        let stray = KernelDrops {
            filtered: 3,
            queue_full: 0,
        };
        assert!(matches!(report.period("eth0", stray), Report::Debug(_)));
        let flood = KernelDrops {
            filtered: 50_000,
            queue_full: 0,
        };
        report.received = 10;
        let Report::Info(line) = report.period("eth0", flood) else {
            panic!("a flood is logged at INFO");
        };
        assert!(
            line.contains("49997 dropped by the kernel filter"),
            "{line}"
        );
        // The period after the flood reports the totals once more, at INFO.
        assert!(matches!(report.period("eth0", flood), Report::Info(_)));
        assert_eq!(report.period("eth0", flood), Report::Quiet);
        let overflow = KernelDrops {
            queue_full: 1,
            ..flood
        };
        assert!(matches!(report.period("eth0", overflow), Report::Warn(_)));
    }
}
