//! Keyword tables and handlers for VRRP: static addresses/routes/rules, trackers,
//! vrrp_script, sync groups, garp_group, vrrp_instance (vrrp/vrrp_parser.c,
//! trackers/track_file.c).
//!
//! The tables are those keepalived 2.2.7 installs in `init_vrrp_keywords()` as built by
//! Debian (VMAC, ipvlan, BFD, nftables, track_process, linkbeat and the old unicast
//! checksum compatibility all enabled), plus `add_track_file_keywords()`.

mod addr;
mod instance;
mod track;
mod validate;

use crate::Validation;
use crate::model::vrrp::Family;
use crate::parser::Keyword;

/// keepalived's route and rule value readers, for consumers of the route/rule words.
pub use addr::{
    dsfield_value, parse_c_number, protocol_value, route_type_value, scope_value, table_value,
};
pub use addr::{parse_address_line, parse_ipaddress, parse_route_line, parse_rule_line};

/// Scratch state kept while this domain's blocks are open.
#[derive(Debug)]
pub struct State {
    /// keepalived's `next_rule_priority_ipv4/ipv6`: rules without a preference get
    /// descending values from 16384.
    next_rule_priority_v4: u32,
    next_rule_priority_v6: u32,
    /// The current `vrrp_script` is to be dropped when its block closes.
    remove_script: bool,
    /// Whether the open `track_file` block is being kept (keepalived: cur_track_file).
    in_track_file: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            next_rule_priority_v4: 16384,
            next_rule_priority_v6: 16384,
            remove_script: false,
            in_track_file: false,
        }
    }
}

impl State {
    fn next_rule_priority(&mut self, family: Family) -> u32 {
        let slot = match family {
            Family::V4 => &mut self.next_rule_priority_v4,
            Family::V6 => &mut self.next_rule_priority_v6,
        };
        let value = *slot;
        *slot = slot.saturating_sub(1);
        value
    }
}

static TRACK_GROUP: &[Keyword] = &[Keyword::new("group", track::track_group_group)];

static SYNC_GROUP: &[Keyword] = &[
    Keyword::new("group", track::sync_group_group),
    Keyword::new("track_interface", track::sync_group_track_interface),
    Keyword::new("track_script", track::sync_group_track_script),
    Keyword::new("track_file", track::sync_group_track_file),
    Keyword::new("track_process", track::sync_group_track_process),
    Keyword::new("track_bfd", track::sync_group_track_bfd),
    Keyword::new("notify_backup", track::sync_group_notify),
    Keyword::new("notify_master", track::sync_group_notify),
    Keyword::new("notify_fault", track::sync_group_notify),
    Keyword::new("notify_stop", track::sync_group_notify),
    Keyword::new("notify", track::sync_group_notify),
    Keyword::new("smtp_alert", track::sync_group_smtp_alert),
    Keyword::new("global_tracking", track::sync_group_global_tracking),
    Keyword::new(
        "sync_group_tracking_weight",
        track::sync_group_tracking_weight,
    ),
    Keyword::new(
        "notify_priority_changes",
        track::sync_group_notify_priority_changes,
    ),
];

static GARP_GROUP: &[Keyword] = &[
    Keyword::new("garp_interval", track::garp_interval),
    Keyword::new("gna_interval", track::garp_interval),
    Keyword::new("interface", track::garp_interface),
    Keyword::new("interfaces", track::garp_interfaces),
];

static AUTHENTICATION: &[Keyword] = &[
    Keyword::new("auth_type", instance::auth_type),
    Keyword::new("auth_pass", instance::auth_pass),
];

static INSTANCE: &[Keyword] = &[
    Keyword::new("use_vmac", instance::use_vmac),
    Keyword::new("use_vmac_addr", instance::flag),
    Keyword::new("vmac_xmit_base", instance::flag),
    Keyword::new("use_ipvlan", instance::use_ipvlan),
    Keyword::new("unicast_peer", instance::unicast_peer),
    Keyword::new("unicast_fault_no_peer", instance::flag),
    Keyword::new("check_unicast_src", instance::flag),
    Keyword::new("old_unicast_checksum", instance::old_unicast_checksum),
    Keyword::new("native_ipv6", instance::native_ipv6),
    Keyword::new("state", instance::state),
    Keyword::new("interface", instance::interface),
    Keyword::new("vrf", instance::vrf),
    Keyword::new("dont_track_primary", instance::flag),
    Keyword::new("track_interface", instance::track_interface),
    Keyword::new("track_script", instance::track_script),
    Keyword::new("track_file", instance::track_file),
    Keyword::new("track_process", instance::track_process),
    Keyword::new("track_bfd", instance::track_bfd),
    Keyword::new("mcast_src_ip", instance::source_ip),
    Keyword::new("unicast_src_ip", instance::source_ip),
    Keyword::new("mcast_dst_ip", instance::mcast_dst_ip),
    Keyword::new("track_src_ip", instance::flag),
    Keyword::new("virtual_router_id", instance::virtual_router_id),
    Keyword::new("unicast_ttl", instance::unicast_ttl),
    Keyword::new("version", instance::version),
    Keyword::new("priority", instance::priority),
    Keyword::new("advert_int", instance::advert_int),
    Keyword::new("virtual_ipaddress", instance::virtual_ipaddress),
    Keyword::new("virtual_ipaddress_excluded", instance::virtual_ipaddress),
    Keyword::new("promote_secondaries", instance::flag),
    Keyword::new("linkbeat_use_polling", instance::flag),
    Keyword::new("virtual_routes", instance::virtual_routes),
    Keyword::new("virtual_rules", instance::virtual_rules),
    Keyword::new("accept", instance::flag),
    Keyword::new("no_accept", instance::flag),
    Keyword::new("skip_check_adv_addr", instance::optional_bool),
    Keyword::new("strict_mode", instance::optional_bool),
    Keyword::new("preempt", instance::flag),
    Keyword::new("nopreempt", instance::flag),
    Keyword::new("preempt_delay", instance::preempt_delay),
    Keyword::new("debug", instance::debug),
    Keyword::new("notify_backup", instance::notify),
    Keyword::new("notify_master", instance::notify),
    Keyword::new("notify_fault", instance::notify),
    Keyword::new("notify_stop", instance::notify),
    Keyword::new("notify_deleted", instance::notify),
    Keyword::new("notify", instance::notify),
    Keyword::new("notify_master_rx_lower_pri", instance::notify),
    Keyword::new("smtp_alert", instance::smtp_alert),
    Keyword::new("notify_priority_changes", instance::optional_bool),
    Keyword::new(
        "lvs_sync_daemon_interface",
        instance::lvs_sync_daemon_interface,
    ),
    Keyword::new("garp_master_delay", instance::garp_number),
    Keyword::new("garp_master_refresh", instance::garp_number),
    Keyword::new("garp_master_repeat", instance::garp_number),
    Keyword::new("garp_master_refresh_repeat", instance::garp_number),
    Keyword::new("garp_lower_prio_delay", instance::garp_number),
    Keyword::new("garp_lower_prio_repeat", instance::garp_number),
    Keyword::new("down_timer_adverts", instance::garp_number),
    Keyword::new("garp_extra_if", instance::garp_extra_if),
    Keyword::new("vmac_garp_intvl", instance::garp_extra_if),
    Keyword::new("lower_prio_no_advert", instance::optional_bool),
    Keyword::new("higher_prio_send_advert", instance::optional_bool),
    Keyword::new("kernel_rx_buf_size", instance::kernel_rx_buf_size),
    Keyword::block("authentication", None, AUTHENTICATION, None),
];

static SCRIPT: &[Keyword] = &[
    Keyword::new("script", track::script_script),
    Keyword::new("interval", track::script_interval),
    Keyword::new("timeout", track::script_timeout),
    Keyword::new("weight", track::script_weight),
    Keyword::new("rise", track::script_rise_fall),
    Keyword::new("fall", track::script_rise_fall),
    Keyword::new("user", track::script_user),
    Keyword::new("init_fail", track::script_init_fail),
];

static TRACK_PROCESS: &[Keyword] = &[
    Keyword::new("process", track::process_process),
    Keyword::new("param_match", track::process_param_match),
    Keyword::new("weight", track::process_weight),
    Keyword::new("quorum", track::process_quorum),
    Keyword::new("quorum_max", track::process_quorum_max),
    Keyword::new("delay", track::process_delay),
    Keyword::new("terminate_delay", track::process_delay),
    Keyword::new("fork_delay", track::process_delay),
    Keyword::new("full_command", track::process_full_command),
];

static TRACK_FILE: &[Keyword] = &[
    Keyword::new("file", track::track_file_file),
    Keyword::new("weight", track::track_file_weight),
    Keyword::new("init_file", track::track_file_init),
];

/// Root-level keywords of this domain.
pub static ROOT: &[Keyword] = &[
    Keyword::block("track_group", Some(track::track_group), TRACK_GROUP, None),
    Keyword::new("static_ipaddress", track::static_ipaddress),
    Keyword::new("static_routes", track::static_routes),
    Keyword::new("static_rules", track::static_rules),
    Keyword::block("vrrp_sync_group", Some(track::sync_group), SYNC_GROUP, None),
    Keyword::block(
        "garp_group",
        Some(track::garp_group),
        GARP_GROUP,
        Some(track::garp_group_end),
    ),
    Keyword::new("linkbeat_interfaces", track::linkbeat_interfaces),
    Keyword::block(
        "vrrp_instance",
        Some(instance::vrrp_instance),
        INSTANCE,
        Some(instance::vrrp_instance_end),
    ),
    Keyword::block(
        "vrrp_script",
        Some(track::vrrp_script),
        SCRIPT,
        Some(track::vrrp_script_end),
    ),
    Keyword::block(
        "vrrp_track_process",
        Some(track::track_process),
        TRACK_PROCESS,
        Some(track::track_process_end),
    ),
    Keyword::new("interface_up_down_delays", track::interface_up_down_delays),
    Keyword::block(
        "track_file",
        Some(track::track_file),
        TRACK_FILE,
        Some(track::track_file_end),
    ),
    Keyword::block(
        "vrrp_track_file",
        Some(track::track_file),
        TRACK_FILE,
        Some(track::track_file_end),
    ),
];

/// Checks and corrections after the whole file is read (keepalived's
/// complete/validate functions for this domain).
pub fn validate(v: &mut Validation<'_>) {
    validate::validate(v);
}

/// For the integrator, when parsing was aborted by a missing parameter while the VRRP
/// keywords were being read: reports what keepalived's VRRP process printed before
/// exiting (interface lookups, script users, at their lines), nothing more.
pub fn validate_after_abort(v: &mut Validation<'_>) {
    validate::validate_after_abort(v);
}
