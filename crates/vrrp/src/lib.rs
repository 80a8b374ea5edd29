//! Sans-IO VRRP: RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3), as keepalived 2.2.7 speaks it.
//!
//! No sockets, no tokio, no clock: the caller passes time and packets in and gets
//! actions and the next deadline out (the quinn-proto / rustls model).
//!
//! - [`advert`]: the advertisement as the state machine sees it (shared vocabulary).
//! - [`packet`]: wire codec, checksums, PASS/AH authentication, receive validation
//!   with keepalived's per-failure counters.
//! - [`router`]: the per-instance state machine (Init/Backup/Master/Fault), timers,
//!   preemption, tracking → effective priority, sync groups.

pub mod advert;
pub mod packet;
pub mod router;
