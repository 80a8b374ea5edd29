//! VRRP configuration: keywords into the typed model, and keepalived 2.2.7's
//! corrections and diagnostics (level and line), checked against what `keepalived -t`
//! prints for the same text.

use std::net::IpAddr;

use config::model::vrrp::{AuthType, Broadcast, Family, InitialState, VrrpInstance};
use config::{FakeSystem, Level, LoadOptions, Loaded};

fn host() -> FakeSystem {
    FakeSystem {
        interfaces: ["lo", "eth0", "eth1", "eth2", "eth3"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        hostname: "test".into(),
        ..FakeSystem::default()
    }
}

fn load(text: &str) -> Loaded {
    config::load_str("k.conf", text, &LoadOptions::default(), &host())
}

/// (level, line) of every diagnostic that is not a note; line 0 = no line.
fn flagged(l: &Loaded) -> Vec<(Level, u32)> {
    l.diags
        .items
        .iter()
        .filter(|d| d.level != Level::Note)
        .map(|d| (d.level, d.span.map(|s| s.line).unwrap_or(0)))
        .collect()
}

fn lines(l: &Loaded) -> Vec<u32> {
    let mut v: Vec<u32> = flagged(l)
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| *n != 0)
        .collect();
    // keepalived's line set; we report some of them (interface lookups) after reading.
    v.sort_unstable();
    v.dedup();
    v
}

fn has(l: &Loaded, level: Level, line: u32) -> bool {
    flagged(l).contains(&(level, line))
}

fn instance<'a>(l: &'a Loaded, name: &str) -> &'a VrrpInstance {
    l.config
        .vrrp
        .instances
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no instance {name}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("bad test address {s}"))
}

#[test]
fn a_plain_instance_loads_without_findings() {
    let l = load(
        "vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 2
    virtual_ipaddress {
        192.168.1.10/24
    }
}
",
    );
    assert_eq!(flagged(&l), vec![]);
    assert_eq!(l.exit_code(), 0);
    let i = instance(&l, "VI_1");
    assert_eq!(i.interface.as_deref(), Some("eth0"));
    assert_eq!(i.vrid, Some(51));
    assert_eq!(i.priority, 150);
    assert_eq!(i.advert_int_us, 2_000_000);
    assert_eq!(i.version, Some(2));
    assert_eq!(i.family, Some(Family::V4));
    assert_eq!(i.initial_state, Some(InitialState::Backup));
    assert_eq!(i.vips.len(), 1);
    assert_eq!(i.vips[0].addr, ip("192.168.1.10"));
    assert_eq!(i.vips[0].prefix_len, 24);
}

/// Same text as checked with keepalived -t (lines 4, 5, 10, 14, 15, 18, 21 and the
/// final non-existent interface stop).
#[test]
fn line_level_errors_match_keepalived() {
    let l = load(
        "vrrp_instance A {
    state MASTER
    interface eth0
    virtual_router_id 300
    priority 300
    advert_int 1.5
    nopreempt
    authentication {
        auth_type PASS
        auth_pass 123456789
    }
    virtual_ipaddress {
        10.0.0.1/24 brd + dev eth1 scope link label eth1:1
        10.0.0.2 bogus
        10.0.0.3 dev eth9
    }
    track_script {
        nosuch
    }
    unicast_peer {
        10.0.1.1 min_ttl 10 max_ttl 5
    }
}
",
    );
    assert_eq!(lines(&l), vec![4, 5, 10, 14, 15, 18, 21]);
    assert!(has(&l, Level::InvalidNumber, 4));
    assert!(has(&l, Level::GeneralError, 4));
    assert!(has(&l, Level::BadInterface, 0));
    assert_eq!(l.exit_code(), 5);
    let i = instance(&l, "A");
    // keepalived: an invalid VRID is left unset, an invalid priority becomes 100.
    assert_eq!(i.vrid, None);
    assert_eq!(i.priority, 100);
    // auth_pass keeps its first 8 characters.
    assert_eq!(i.auth_pass.as_deref(), Some("12345678"));
    assert_eq!(i.auth_type, Some(AuthType::Pass));
    let first = &i.vips[0];
    assert_eq!(first.dev.as_deref(), Some("eth1"));
    assert_eq!(first.broadcast, Some(Broadcast::Plus));
    assert_eq!(first.scope, 253);
    assert_eq!(first.label.as_deref(), Some("eth1:1"));
    // The address on the missing interface is dropped; the unknown option is ignored.
    assert_eq!(i.vips.len(), 2);
    assert!(i.track_scripts.is_empty());
    assert_eq!(i.unicast_peers[0].min_ttl, 10);
    assert_eq!(i.unicast_peers[0].max_ttl, 5);
}

#[test]
fn master_without_priority_becomes_owner_and_drops_nopreempt() {
    let l = load(
        "vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 1
    nopreempt
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    let i = instance(&l, "VI_1");
    assert_eq!(i.priority, 255);
    assert_eq!(i.initial_state, Some(InitialState::Master));
    assert!(!i.nopreempt);
    // keepalived reports nopreempt with priority 255 after reading (no line).
    assert_eq!(flagged(&l), vec![(Level::GeneralError, 0)]);
}

#[test]
fn priority_255_without_state_starts_as_master() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 255
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(
        instance(&l, "VI_1").initial_state,
        Some(InitialState::Master)
    );
    assert_eq!(flagged(&l), vec![]);
}

#[test]
fn vrrp_v2_advert_int_is_rounded_after_reading() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    advert_int 1.5
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(instance(&l, "VI_1").advert_int_us, 2_000_000);
    assert_eq!(flagged(&l), vec![(Level::GeneralError, 0)]);
}

#[test]
fn vrrp_v3_advert_int_keeps_centiseconds() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    version 3
    virtual_router_id 1
    advert_int 0.25
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(instance(&l, "VI_1").advert_int_us, 250_000);
    assert_eq!(flagged(&l), vec![]);
}

#[test]
fn ipv6_forces_version_3() {
    let l = load(
        "vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        fe80::1/64
        2001:db8::1/64
    }
}
",
    );
    let i = instance(&l, "VI_6");
    assert_eq!(i.family, Some(Family::V6));
    assert_eq!(i.version, Some(3));
    // IPv6 /64 addresses default to a preferred lifetime of forever.
    assert_eq!(i.vips[1].preferred_lft, Some(u32::MAX));
    assert_eq!(flagged(&l), vec![]);
}

#[test]
fn version_2_with_ipv6_is_refused_at_its_line() {
    let l = load(
        "vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        fe80::1
    }
    version 2
}
",
    );
    assert_eq!(lines(&l), vec![7]);
    assert_eq!(instance(&l, "VI_6").version, Some(3));
}

#[test]
fn strict_mode_corrections() {
    let l = load(
        "vrrp_instance VI_1 {
    strict_mode
    state MASTER
    priority 100
    interface eth0
    virtual_router_id 1
    preempt_delay 10
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    let i = instance(&l, "VI_1");
    assert_eq!(i.strict_mode, Some(true));
    // keepalived: MASTER must be the address owner in strict mode.
    assert_eq!(i.initial_state, Some(InitialState::Backup));
    // No authentication in strict mode, no preempt_delay, no accept for v2 non-owner.
    assert_eq!(i.auth_type, None);
    assert_eq!(i.preempt_delay_us, 0);
    assert_eq!(i.accept, Some(false));
    assert_eq!(i.lower_prio_no_advert, None);
    assert!(
        flagged(&l)
            .iter()
            .all(|(lvl, n)| *lvl == Level::GeneralError && *n == 0)
    );
    assert_eq!(flagged(&l).len(), 3);
}

#[test]
fn missing_vip_is_a_warning_for_v2_and_fatal_for_v3() {
    let v2 = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    priority 255
    nopreempt
    virtual_ipaddress {
        10.0.0.2
    }
}
",
    );
    // VI_1 complains but VI_2 is still completed (its nopreempt is reset).
    assert_eq!(
        flagged(&v2),
        vec![(Level::GeneralError, 0), (Level::GeneralError, 0)]
    );
    assert!(!instance(&v2, "VI_2").nopreempt);

    let v3 = load(
        "vrrp_instance VI_1 {
    interface eth0
    version 3
    virtual_router_id 1
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    priority 255
    nopreempt
    virtual_ipaddress {
        10.0.0.2
    }
}
",
    );
    // keepalived stops at the first instance: VI_2 is never completed.
    assert_eq!(flagged(&v3), vec![(Level::GeneralError, 0)]);
    assert!(instance(&v3, "VI_2").nopreempt);
}

#[test]
fn duplicate_vrid_on_one_interface_and_family() {
    let l = load(
        "vrrp_instance A {
    interface eth0
    virtual_router_id 7
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 7
    virtual_ipaddress {
        10.0.0.2
    }
}
vrrp_instance C {
    interface eth1
    virtual_router_id 7
    virtual_ipaddress {
        10.0.0.3
    }
}
",
    );
    assert_eq!(flagged(&l), vec![(Level::GeneralError, 0)]);
    assert!(l.diags.items.iter().any(|d| d.message.contains("A and B")));
}

#[test]
fn nonexistent_interface_is_reported_at_its_line_and_stops_completion() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth9
    virtual_router_id 1
}
",
    );
    // No "no VIP" complaint: keepalived stops before completing instances.
    assert_eq!(
        flagged(&l),
        vec![(Level::GeneralError, 2), (Level::BadInterface, 0)]
    );
    assert_eq!(l.exit_code(), 5);
    assert_eq!(instance(&l, "VI_1").interface, None);
}

#[test]
fn dynamic_interfaces_accepts_missing_interfaces() {
    let l = load(
        "global_defs {
    dynamic_interfaces
}
vrrp_instance VI_1 {
    interface eth9
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(flagged(&l), vec![]);
    assert_eq!(instance(&l, "VI_1").interface.as_deref(), Some("eth9"));
}

#[test]
fn missing_vrid_and_missing_interface_stop_after_reading() {
    let no_vrid = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(flagged(&no_vrid), vec![(Level::GeneralError, 0)]);
    let no_if = load(
        "vrrp_instance VI_1 {
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(flagged(&no_if), vec![(Level::GeneralError, 0)]);
}

#[test]
fn track_script_must_name_a_defined_script() {
    let l = load(
        "vrrp_script chk {
    script \"/bin/true\"
    weight -20
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    track_script {
        chk
        other
        chk weight 10
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    let i = instance(&l, "VI_1");
    assert_eq!(i.track_scripts.len(), 1);
    assert_eq!(i.track_scripts[0].name, "chk");
    // The script's own weight is used when the track line gives none.
    assert_eq!(i.track_scripts[0].weight, -20);
    // Unknown at line 10, duplicate at line 11.
    assert!(has(&l, Level::GeneralError, 10));
    assert!(has(&l, Level::GeneralError, 11));
}

#[test]
fn vrrp_script_without_a_script_is_removed_at_its_closing_line() {
    let l = load(
        "vrrp_script chk {
    interval 5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    track_script {
        chk
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert!(l.config.vrrp.scripts.is_empty());
    assert_eq!(lines(&l), vec![3, 8]);
}

#[test]
fn sync_group_members_must_exist_once() {
    let l = load(
        "vrrp_instance A {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_sync_group G1 {
    group {
        A
        NOPE
    }
}
vrrp_sync_group G2 {
    group {
        A
    }
}
",
    );
    let groups = &l.config.vrrp.sync_groups;
    // G1: NOPE unknown, then only one member; G2: A already taken, then empty -> removed.
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].members.as_deref(), Some(&["A".to_string()][..]));
    assert_eq!(instance(&l, "A").sync_group.as_deref(), Some("G1"));
    assert_eq!(flagged(&l).len(), 4);
    assert!(flagged(&l).iter().all(|(_, n)| *n == 0));
}

#[test]
fn unicast_keyword_without_peers_is_deprecated() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    unicast_src_ip 10.0.0.5
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert_eq!(flagged(&l), vec![(Level::Deprecated, 0)]);
    assert!(!instance(&l, "VI_1").unicast);
}

#[test]
fn vmac_with_unicast_needs_xmit_base_reported_at_block_end() {
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    use_vmac
    virtual_router_id 1
    unicast_peer {
        10.0.0.9
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    assert!(has(&l, Level::GeneralError, 11));
    let i = instance(&l, "VI_1");
    assert!(i.vmac_xmit_base);
    assert!(i.unicast);
}

#[test]
fn routes_and_rules() {
    let l = load(
        "static_routes {
    10.1.0.0/16 via 10.0.0.254 dev eth0 metric 5 table 100
    10.2.0.0/16 via 10.0.0.254
    10.3.0.0/16 bogus 1
}
static_rules {
    from 10.1.0.0/16 table 100 priority 10
    from 10.2.0.0/16 table 100
    from 10.3.0.0/16 frobnicate
}
",
    );
    let r = &l.config.vrrp.static_routes;
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].dst, Some(ip("10.1.0.0")));
    assert_eq!(r[0].dst_prefix, 16);
    assert_eq!(r[0].via, Some(ip("10.0.0.254")));
    assert_eq!(r[0].dev.as_deref(), Some("eth0"));
    assert_eq!(r[0].metric, Some(5));
    assert_eq!(r[0].table, Some(100));
    // No interface: kept, but not tracked (reported).
    assert!(r[1].no_track);
    let rules = &l.config.vrrp.static_rules;
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].priority, Some(10));
    // keepalived picks 16384 for a rule without preference (and says so).
    assert_eq!(rules[1].priority, Some(16384));
    assert_eq!(lines(&l), vec![3, 4, 8, 9]);
}

#[test]
fn track_file_and_weights() {
    // (keepalived 2.2.7 itself hangs on a reference to an unknown or file-less
    // track_file, so only valid ones are compared here.)
    let l = load(
        "track_file tf {
    file /tmp/tf
    weight -3 reverse
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    track_file {
        tf
    }
    track_interface {
        eth1 weight 254
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    let files = &l.config.vrrp.track_files;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path.as_deref(), Some("/tmp/tf"));
    assert_eq!(files[0].weight, -3);
    assert!(files[0].reverse);
    let i = instance(&l, "VI_1");
    assert_eq!(i.track_files.len(), 1);
    assert_eq!(i.track_files[0].weight, -3);
    assert!(i.track_files[0].reverse);
    // +/-254 becomes +/-253.
    assert_eq!(i.track_interfaces.len(), 1);
    assert_eq!(i.track_interfaces[0].weight, 253);
    assert_eq!(lines(&l), vec![12]);
}

#[test]
fn track_file_without_file_is_dropped_at_its_closing_line() {
    let l = load(
        "track_file nofile {
    weight 2
}
",
    );
    assert!(l.config.vrrp.track_files.is_empty());
    assert_eq!(lines(&l), vec![3]);
}

#[test]
fn garp_group_interfaces() {
    let l = load(
        "garp_group {
    garp_interval 0.5
    interfaces {
        eth0
        eth1
    }
}
garp_group {
    gna_interval 1
    interface eth0
}
garp_group {
    interface eth2
}
",
    );
    let g = &l.config.vrrp.garp_groups;
    // The third group has no interval and is removed at its closing line (14).
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].garp_interval_us, Some(500_000));
    assert_eq!(g[0].interfaces.len(), 2);
    // eth0 is already in the first group (line 10).
    assert!(g[1].interfaces.is_empty());
    assert_eq!(lines(&l), vec![10, 14]);
}

#[test]
fn instance_needs_a_name_and_a_unique_one() {
    let l = load(
        "vrrp_instance {
    interface eth0
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance A {
    interface eth1
}
",
    );
    assert_eq!(l.config.vrrp.instances.len(), 1);
    assert_eq!(instance(&l, "A").interface.as_deref(), Some("eth0"));
    assert_eq!(lines(&l), vec![1, 11]);
}

/// keepalived 2.2.7 quirks kept on purpose (each checked with keepalived -t): the word
/// after `inet6` is skipped, a single sport/dport is refused, an empty fwmark mask is 0,
/// rtt takes s/ms units with at most 3 decimals for seconds.
#[test]
fn route_and_rule_quirks() {
    let l = load(
        "static_routes {
    inet6 default via fe80::1 dev eth0
    10.2.0.0/16 dev eth0 rtt 1.5s
    10.3.0.0/16 dev eth0 rtt 1.0001s
    10.4.0.0/16 dev eth0 rtt 1e3
    10.5.0.0/16 dev eth0 pref high
}
static_rules {
    from 10.0.0.0/8 table 5 priority 1 dport 100
    from 10.0.0.0/8 table 5 priority 2 dport 100-200
    from 10.0.0.0/8 table 5 priority 3 fwmark 5/
}
",
    );
    assert_eq!(lines(&l), vec![2, 4, 5, 6, 9]);
    // Too many decimals is reported but the value is rounded and the route kept.
    assert_eq!(l.config.vrrp.static_routes.len(), 2);
    assert_eq!(l.config.vrrp.static_rules.len(), 3);
    assert_eq!(l.config.vrrp.static_rules[2].fwmark, Some(5));
}

#[test]
fn vmac_name_of_an_existing_interface_is_refused_at_its_line() {
    let l = load(
        "vrrp_instance A {
    interface eth0
    virtual_router_id 1
    use_vmac eth1
    virtual_ipaddress {
        10.0.0.1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 2
    use_vmac vrrp.2 00:00:5e:00:01:05
    virtual_ipaddress {
        10.0.0.2
    }
}
",
    );
    assert_eq!(lines(&l), vec![4, 12]);
    let a = instance(&l, "A");
    assert_eq!(a.vmac.as_ref().and_then(|v| v.ifname.clone()), None);
    let b = instance(&l, "B");
    let vmac = b.vmac.as_ref();
    assert_eq!(vmac.and_then(|v| v.ifname.as_deref()), Some("vrrp.2"));
    // An RFC 5798 virtual router MAC may not be configured.
    assert_eq!(vmac.and_then(|v| v.mac), None);
}

#[test]
fn script_user_is_checked_even_when_the_script_is_dropped() {
    let l = load(
        "vrrp_script s {
    user nosuchuser
}
vrrp_script t {
    script \"/bin/true\"
    user nosuchuser
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    track_script {
        s
        t
    }
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    // s: bad user (2) and no script (3); t: bad user (6), so both are unknown to
    // the instance (12, 13).
    assert_eq!(lines(&l), vec![2, 3, 6, 12, 13]);
    assert!(l.config.vrrp.scripts.is_empty());
    assert!(instance(&l, "A").track_scripts.is_empty());
}

#[test]
fn every_interface_line_is_looked_up() {
    let l = load(
        "vrrp_instance A {
    interface eth8
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
}
",
    );
    // keepalived complains about eth8 (and stops after reading) even though the
    // last interface given exists.
    assert_eq!(
        flagged(&l),
        vec![(Level::GeneralError, 2), (Level::BadInterface, 0)]
    );
    assert_eq!(instance(&l, "A").interface.as_deref(), Some("eth0"));
}

#[test]
fn after_an_abort_only_parse_time_lookups_are_reported() {
    let system = host();
    let options = LoadOptions::default();
    let loaded = config::load_str(
        "k.conf",
        "vrrp_instance A {
    interface eth9
    virtual_router_id 1
}
vrrp_instance B {
    interface eth0
    priority
}
",
        &options,
        &system,
    );
    // load_str runs vrrp::validate_after_abort itself for an abort inside a VRRP block.
    assert!(loaded.diags.aborted);
    // The missing parameter (7) and the interface looked up before it (2); no
    // non-existent-interface stop, no completion.
    assert_eq!(
        flagged(&loaded),
        vec![(Level::MissingParameter, 7), (Level::GeneralError, 2)]
    );
}

#[test]
fn up_down_delays_check_the_interface_before_the_delays() {
    // keepalived looks the interface up first: an unknown one is fatal at its line and
    // nothing else on the line is read (no number error for 'x'); exit code 4.
    let l = load("interface_up_down_delays {\n  eth9\n  eth8 x\n  eth0 1 2\n}\n");
    assert_eq!(flagged(&l), vec![(Level::Fatal, 2), (Level::Fatal, 3)]);
    assert_eq!(l.exit_code(), 4);
    let delays = &l.config.vrrp.up_down_delays;
    assert_eq!(delays.len(), 1);
    assert_eq!(
        delays
            .first()
            .map(|d| (d.interface.as_str(), d.down_us, d.up_us)),
        Some(("eth0", 1_000_000, 2_000_000))
    );
}

#[test]
fn a_route_with_an_unknown_dev_is_dropped_before_its_later_words() {
    // keepalived drops the route at `dev` (the interface does not exist), so the `src`
    // with no address after it is never read and does not abort.
    let l = load(
        "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        10.0.0.1
    }
    virtual_routes {
        10.1.0.0/24 via 10.0.0.254 dev nosuch0 src
    }
}
",
    );
    assert!(!l.diags.aborted);
    assert!(lines(&l).contains(&8), "{:?}", flagged(&l));
}
