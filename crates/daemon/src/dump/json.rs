//! `keepalived.json` (SIGRTMIN+2): keepalived `vrrp_json_dump()`'s array of
//! `{"data": {...}, "stats": {...}}`, one per instance, keys in keepalived's order
//! (keepalived-exporter reads it).
//!
//! Number formats follow keepalived's json writer: `%g` for intervals and delays
//! (`1`, `0.1`), `%f` for `last_transition`, and `/` escaped as `\/` as json-c does.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::vrrp::snapshot::{InstanceSnapshot, Snapshot};

#[derive(Serialize)]
struct Entry {
    data: Data,
    stats: Stats,
}

#[derive(Serialize)]
struct Data {
    iname: String,
    dont_track_primary: u8,
    skip_check_adv_addr: u8,
    strict_mode: u8,
    vmac_ifname: String,
    ifp_ifname: String,
    master_priority: u8,
    last_transition: Box<RawValue>,
    #[serde(serialize_with = "as_g")]
    garp_delay: f64,
    garp_refresh: u64,
    garp_rep: u32,
    garp_refresh_rep: u32,
    garp_lower_prio_delay: u64,
    garp_lower_prio_rep: u32,
    lower_prio_no_advert: u8,
    higher_prio_send_advert: u8,
    vrid: u8,
    base_priority: u8,
    effective_priority: u8,
    vipset: bool,
    promote_secondaries: bool,
    #[serde(serialize_with = "as_g")]
    adver_int: f64,
    #[serde(serialize_with = "as_g")]
    master_adver_int: f64,
    accept: u8,
    nopreempt: bool,
    preempt_delay: u64,
    state: u8,
    wantstate: u8,
    version: u8,
    smtp_alert: bool,
    notify_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_master: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_fault: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_deleted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    script_master_rx_lower_pri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evips: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    track_ifp: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    track_script: Vec<String>,
    auth_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_data: Option<String>,
}

#[derive(Serialize)]
struct Stats {
    advert_rcvd: u64,
    advert_sent: u64,
    become_master: u64,
    release_master: u64,
    packet_len_err: u64,
    advert_interval_err: u64,
    ip_ttl_err: u64,
    invalid_type_rcvd: u64,
    addr_list_err: u64,
    invalid_authtype: u64,
    authtype_mismatch: u64,
    auth_failure: u64,
    pri_zero_rcvd: u64,
    pri_zero_sent: u64,
}

/// `%g` for the values keepalived prints that way: whole numbers without a fraction.
fn as_g<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let whole = *value >= 0.0 && value.fract() == 0.0 && *value < 1e15;
    if whole {
        // In range and integral: the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        serializer.serialize_u64(*value as u64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// keepalived's state numbers (`VRRP_STATE_*`).
pub fn state_number(state: vrrp::router::State) -> u8 {
    use vrrp::router::State;
    match state {
        State::Init => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 98,
    }
}

fn entry(inst: &InstanceSnapshot) -> Result<Entry, serde_json::Error> {
    let (secs, micros) = super::epoch_micros(inst.last_transition);
    let script = |key: &str| {
        inst.notify_scripts
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(_, _, cmd)| cmd.clone())
    };
    let vip_text = |excluded: bool| -> Vec<String> {
        inst.vips
            .iter()
            .filter(|v| v.excluded == excluded)
            .map(|v| {
                if inst.vips_set {
                    format!("{} set", v.description)
                } else {
                    v.description.clone()
                }
            })
            .collect()
    };
    let trackers = |kind| {
        inst.trackers
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.name.clone())
            .collect()
    };
    let c = &inst.counters;
    Ok(Entry {
        data: Data {
            iname: inst.name.clone(),
            dont_track_primary: u8::from(inst.dont_track_primary),
            skip_check_adv_addr: u8::from(inst.skip_check_adv_addr),
            strict_mode: u8::from(inst.strict_mode),
            vmac_ifname: inst.vmac_interface.clone().unwrap_or_default(),
            ifp_ifname: inst
                .vmac_interface
                .clone()
                .filter(|_| !inst.vmac_xmit_base)
                .unwrap_or_else(|| inst.interface.clone()),
            master_priority: inst.master.map_or(0, |(_, p)| p),
            last_transition: RawValue::from_string(format!("{secs}.{micros:06}"))?,
            garp_delay: inst.garp.master_delay.as_secs_f64().trunc(),
            garp_refresh: inst.garp.master_refresh.as_secs(),
            garp_rep: inst.garp.master_repeat,
            garp_refresh_rep: inst.garp.master_refresh_repeat,
            garp_lower_prio_delay: inst.garp.lower_prio_delay.as_secs(),
            garp_lower_prio_rep: inst.garp.lower_prio_repeat,
            lower_prio_no_advert: u8::from(inst.lower_prio_no_advert),
            higher_prio_send_advert: u8::from(inst.higher_prio_send_advert),
            vrid: inst.vrid,
            base_priority: inst.base_priority,
            effective_priority: inst.effective_priority,
            vipset: inst.vips_set,
            promote_secondaries: inst.promote_secondaries,
            adver_int: inst.advert_interval.as_secs_f64(),
            master_adver_int: inst.master_advert_interval.as_secs_f64(),
            accept: u8::from(inst.accept),
            nopreempt: inst.nopreempt,
            preempt_delay: inst.preempt_delay.as_secs(),
            state: state_number(inst.state),
            wantstate: state_number(inst.want_state),
            version: inst.version,
            smtp_alert: inst.smtp_alert,
            notify_deleted: inst.notify_deleted,
            script_backup: script("script_backup"),
            script_master: script("script_master"),
            script_fault: script("script_fault"),
            script_stop: script("script_stop"),
            script_deleted: script("script_deleted"),
            script: script("script"),
            script_master_rx_lower_pri: script("script_master_rx_lower_pri"),
            vips: vip_text(false),
            evips: vip_text(true),
            track_ifp: trackers(crate::vrrp::snapshot::TrackerKind::Interface),
            track_script: trackers(crate::vrrp::snapshot::TrackerKind::Script),
            auth_type: inst.auth_type,
            auth_data: match inst.auth_type {
                0 => None,
                _ => Some(inst.auth_pass.clone().unwrap_or_default()),
            },
        },
        stats: Stats {
            advert_rcvd: c.advert_rcvd,
            advert_sent: c.advert_sent,
            become_master: c.become_master,
            release_master: c.release_master,
            packet_len_err: c.packet_len_err,
            advert_interval_err: c.advert_interval_err,
            ip_ttl_err: c.ip_ttl_err,
            invalid_type_rcvd: c.invalid_type_rcvd,
            addr_list_err: c.addr_list_err,
            invalid_authtype: c.invalid_authtype,
            authtype_mismatch: c.authtype_mismatch,
            auth_failure: c.auth_failure,
            pri_zero_rcvd: c.pri_zero_rcvd,
            pri_zero_sent: c.pri_zero_sent,
        },
    })
}

/// The file's text (one line, then a newline, as keepalived writes it).
pub fn render(snapshot: &Snapshot) -> Result<String, serde_json::Error> {
    let entries = snapshot
        .instances
        .iter()
        .map(entry)
        .collect::<Result<Vec<_>, _>>()?;
    let text = serde_json::to_string(&entries)?;
    // json-c escapes '/'; outside strings JSON has no '/', so this touches strings only.
    Ok(format!("{}\n", text.replace('/', "\\/")))
}
