//! Typed model: BFD instances.
//!
//! keepalived parses `bfd_instance` blocks in three processes, each keeping its own
//! view: the BFD process keeps the sessions ([`BfdConfig::instances`]), the VRRP process
//! keeps names + weights that `track_bfd` may refer to ([`BfdConfig::vrrp_tracked`]),
//! and the checker process keeps names that `BFD_CHECK` may refer to
//! ([`BfdConfig::checker_tracked`]).

use std::net::IpAddr;

use crate::span::Span;

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BfdConfig {
    /// Valid BFD sessions (the BFD process' view).
    pub instances: Vec<BfdInstance>,
    /// Names (and weights) VRRP can track.
    pub vrrp_tracked: Vec<VrrpTrackedBfd>,
    /// Names BFD_CHECK can refer to.
    pub checker_tracked: Vec<String>,
}

/// keepalived's BFD_INAME_MAX - 1.
pub const MAX_NAME_LEN: usize = 31;

/// One `bfd_instance NAME { ... }`. Intervals are in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct BfdInstance {
    pub name: String,
    pub neighbor: IpAddr,
    pub source: Option<IpAddr>,
    pub min_rx_us: u32,
    pub min_tx_us: u32,
    pub idle_tx_us: u32,
    pub multiplier: u8,
    pub passive: bool,
    /// TTL / hop limit to send with (default 255 for IPv4, 64 for IPv6).
    pub ttl: u8,
    /// Maximum hops a received packet may have crossed (keepalived stores it in a
    /// byte, so `max_hops -1` is 255, then limited to `ttl`).
    pub max_hops: u8,
    /// Whether the VRRP / checker processes receive this session's events.
    pub to_vrrp: bool,
    pub to_checker: bool,
    pub span: Span,
}

/// Defaults (keepalived include/bfd.h).
pub const DEFAULT_MIN_RX_US: u32 = 10_000;
pub const DEFAULT_MIN_TX_US: u32 = 10_000;
pub const DEFAULT_IDLE_TX_US: u32 = 1_000_000;
pub const DEFAULT_MULTIPLIER: u8 = 5;

/// A BFD name VRRP instances may track, with its `weight [reverse]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpTrackedBfd {
    pub name: String,
    pub weight: i32,
    pub weight_reverse: bool,
}
