//! `virtual_routes`, `virtual_rules`, `static_routes` and `static_rules` with every
//! option keepalived 2.2.7 passes to the kernel, checked with `ip route show table`
//! and `ip rule show` in the node (root, network namespaces).

mod common;

use std::time::Duration;

use common::{Daemon, can_run, pair, start, stop, wait_vip};
use lab::wait_for;

const WAIT: Duration = Duration::from_secs(10);
const VIP: &str = "192.0.2.100/24";

fn show(lab: &lab::Lab, node: &str, args: &[&str]) -> String {
    lab.exec(node, args)
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn table(lab: &lab::Lab, node: &str, family: &str, table: &str) -> String {
    show(lab, node, &["ip", family, "route", "show", "table", table])
}

/// The line of `text` that contains `key`, or an empty string.
fn line_with<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines().find(|l| l.contains(key)).unwrap_or("")
}

fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    version 3
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.5
    virtual_ipaddress {{
        {VIP} dev eth0
    }}
{extra}
}}
"
    )
}

#[test]
fn every_route_and_rule_option_reaches_the_kernel() {
    if !can_run(false) {
        return;
    }
    let mut lab = pair("rtopt");
    let text = format!(
        "static_routes {{
    203.0.113.0/26 dev eth0 table 102 protocol static scope link no_track
}}
static_rules {{
    to 203.0.113.9 priority 201 unreachable
}}
{}",
        instance(
            "    virtual_routes {
        198.51.100.0/24 via 192.0.2.1 dev eth0 table 100 metric 7 onlink tos 0x10 mtu lock 1400 advmss 1360 rtt 50ms rttvar 20ms rto_min 10ms reordering 5 cwnd 8 ssthresh 20 window 65535 initcwnd 10 initrwnd 20 hoplimit 60 quickack 1 features ecn congctl reno realms 3/4
        blackhole 203.0.113.128/25 table 100
        203.0.113.64/26 dev eth0 table 100 scope link
        2001:db8:1::/64 dev eth0 table 100 pref high metric 5 fastopen_no_cookie 1
        2001:db8:2::/64 from 2001:db8::11 dev eth0 table 100
    }
    virtual_rules {
        from 192.0.2.100 table 100 priority 100 tos 0x10 fwmark 0x5/0xff ipproto tcp sport 1000-2000 dport 80-90 uidrange 100-200 suppress_prefixlength 0
        not from 192.0.2.101 priority 101 goto 300
        from 192.0.2.102 priority 102 nop
        from 192.0.2.103 priority 103 table 100 realms 4 suppress_ifgroup 7
        from 192.0.2.104 priority 104 table 100 tunnel-id 7
        to 198.51.100.9 priority 105 blackhole
        to 198.51.100.10 priority 106 prohibit
        from 192.0.2.105 priority 107 table 100 protocol 99 no_track
    }"
        )
    );
    let a = start(&mut lab, "a", Daemon::Ours, &text);

    // Static ones are set at start.
    let static_routes = wait_for("static route", WAIT, common::POLL, || {
        let t = table(&lab, "a", "-4", "102");
        t.contains("203.0.113.0/26").then_some(t)
    })
    .expect("static route in table 102");
    let route = line_with(&static_routes, "203.0.113.0/26");
    assert!(route.contains("proto static"), "{route}");
    assert!(route.contains("scope link"), "{route}");
    let rules = show(&lab, "a", &["ip", "rule", "show"]);
    assert!(
        line_with(&rules, "201:").contains("to 203.0.113.9 unreachable"),
        "{rules}"
    );

    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("a MASTER");
    let v4 = wait_for("virtual routes", WAIT, common::POLL, || {
        let t = table(&lab, "a", "-4", "100");
        (t.contains("198.51.100.0/24") && t.contains("203.0.113.64/26")).then_some(t)
    })
    .expect("virtual routes in table 100");
    let r = line_with(&v4, "198.51.100.0/24");
    for want in [
        "via 192.0.2.1",
        "dev eth0",
        "proto keepalived",
        "metric 7",
        "onlink",
        "mtu lock 1400",
        "advmss 1360",
        "rtt 50ms",
        "rttvar 20ms",
        "rto_min 10ms",
        "reordering 5",
        "cwnd 8",
        "ssthresh 20",
        "window 65535",
        "initcwnd 10",
        "initrwnd 20",
        "hoplimit 60",
        "quickack 1",
        "features ecn",
        "congctl reno",
        "realms 3/4",
    ] {
        assert!(r.contains(want), "{want} missing in: {r}");
    }
    assert!(r.contains("tos 0x10") || r.contains("tos lowdelay"), "{r}");
    assert!(
        line_with(&v4, "203.0.113.128/25").starts_with("blackhole"),
        "{v4}"
    );
    assert!(
        line_with(&v4, "203.0.113.64/26").contains("scope link"),
        "{v4}"
    );
    let v6 = table(&lab, "a", "-6", "100");
    let r6 = line_with(&v6, "2001:db8:1::/64");
    assert!(r6.contains("pref high"), "{v6}");
    assert!(r6.contains("metric 5"), "{v6}");
    assert!(r6.contains("fastopen_no_cookie 1"), "{v6}");
    // Source-specific IPv6 routes need CONFIG_IPV6_SUBTREES: set, or refused with the
    // kernel's reason in the log.
    let log = a.log_text();
    assert!(
        line_with(&v6, "2001:db8:2::/64").contains("from 2001:db8::11")
            || line_with(&log, "cannot add route 2001:db8:2::/64").contains("from 2001:db8::11"),
        "{v6}\n{log}"
    );

    let rules = show(&lab, "a", &["ip", "rule", "show"]);
    let r = line_with(&rules, "100:");
    for want in [
        "from 192.0.2.100",
        "fwmark 0x5/0xff",
        "lookup 100",
        "suppress_prefixlength 0",
        "ipproto tcp",
        "sport 1000-2000",
        "dport 80-90",
        "uidrange 100-200",
        "proto keepalived",
    ] {
        assert!(r.contains(want), "{want} missing in: {r}");
    }
    assert!(r.contains("tos 0x10") || r.contains("tos lowdelay"), "{r}");
    assert!(
        line_with(&rules, "101:").contains("not from 192.0.2.101 goto 300"),
        "{rules}"
    );
    assert!(line_with(&rules, "102:").contains("nop"), "{rules}");
    let r = line_with(&rules, "103:");
    assert!(r.contains("realms 4"), "{rules}");
    assert!(r.contains("suppress_ifgroup 7"), "{rules}");
    assert!(line_with(&rules, "104:").contains("tun_id 7"), "{rules}");
    assert!(line_with(&rules, "105:").contains("blackhole"), "{rules}");
    assert!(line_with(&rules, "106:").contains("prohibit"), "{rules}");
    // iproute2 names protocol 99 "openr".
    let r = line_with(&rules, "107:");
    assert!(
        r.contains("proto 99") || r.contains("proto openr"),
        "{rules}"
    );

    assert_eq!(stop(&mut lab, &a), Some(0));
    // Everything keepalived set is gone again (static ones included).
    let rules = show(&lab, "a", &["ip", "rule", "show"]);
    for gone in ["100:", "101:", "105:", "107:", "201:"] {
        assert!(line_with(&rules, gone).is_empty(), "{gone} left: {rules}");
    }
    assert!(table(&lab, "a", "-4", "100").trim().is_empty());
    assert!(table(&lab, "a", "-6", "100").trim().is_empty());
    assert!(table(&lab, "a", "-4", "102").trim().is_empty());
}
