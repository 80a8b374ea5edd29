//! `keepalived.stats` (SIGUSR2): keepalived `vrrp_print_stats()`'s layout.

use std::fmt::Write;

use crate::vrrp::snapshot::Snapshot;

pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    for inst in &snapshot.instances {
        let c = &inst.counters;
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    \
             Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    \
             Sent: {}\n",
            inst.name,
            c.advert_rcvd,
            c.advert_sent,
            c.become_master,
            c.release_master,
            c.packet_len_err,
            c.ip_ttl_err,
            c.invalid_type_rcvd,
            c.advert_interval_err,
            c.addr_list_err,
            c.invalid_authtype,
            c.authtype_mismatch,
            c.auth_failure,
            c.pri_zero_rcvd,
            c.pri_zero_sent,
        );
    }
    out
}
