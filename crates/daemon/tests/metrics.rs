//! `--metrics-listen` and `--status` on a running pair: Debian's keepalived on node a,
//! ours on node b. VI_1: a 150 / b 100 (ours BACKUP), VI_2: a 100 / b 200 plus a
//! tracked script of weight 10 on ours (ours MASTER at 210). The scrape must pass
//! `promtool check metrics` and carry those values; `keepalived --status` must print
//! them as a table.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Daemon, OURS, POLL, can_run, pair, start, wait_vip};
use lab::{Lab, wait_for};

fn config(vi1: u8, vi2: u8, ours: bool) -> String {
    let (script, track) = if ours {
        (
            "vrrp_script chk {\n    script \"/bin/true\"\n    interval 1\n}\n",
            "    track_script {\n        chk weight 10\n    }\n",
        )
    } else {
        ("", "")
    };
    format!(
        "global_defs {{\n    script_user root\n}}\n{script}\
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 61
    priority {vi1}
    advert_int 1
    virtual_ipaddress {{
        192.0.2.100/24 dev eth0
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 62
    priority {vi2}
    advert_int 1
{track}    virtual_ipaddress {{
        192.0.2.101/24 dev eth0
    }}
}}
"
    )
}

/// Scrapes `http://127.0.0.1:9165/metrics` inside node b (bash's /dev/tcp: no client
/// to install). The port is fixed, but the namespace is the test's own.
fn scrape(lab: &Lab) -> Option<String> {
    let script = "exec 3<>/dev/tcp/127.0.0.1/9165 && \
                  printf 'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' >&3 && cat <&3";
    let out = lab.exec_unchecked("b", &["bash", "-c", script]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.starts_with("HTTP/1.1 200 OK").then_some(text)
}

/// `name{labels} value` lines → value, by the whole `name{labels}`.
fn samples(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn value(samples: &BTreeMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = samples.iter().find(|(key, _)| {
        key.split('{').next() == Some(name)
            && labels
                .iter()
                .all(|(k, v)| key.contains(&format!("{k}=\"{v}\"")))
    });
    match found {
        Some((_, v)) => *v,
        None => panic!("no {name} {labels:?} in {samples:#?}"),
    }
}

#[test]
fn metrics_and_status_of_a_running_pair() {
    if !can_run(true) {
        return;
    }
    let mut lab = pair("mtr");
    let _upstream = start(&mut lab, "a", Daemon::Upstream, &config(150, 100, false));
    // Ours starts once a is MASTER of both, so that its VI_1 never wins an election
    // (become_master must stay 0 there) and its VI_2 preempts a's once.
    for vip in ["192.0.2.100/24", "192.0.2.101/24"] {
        wait_vip(&lab, "a", "eth0", vip, Duration::from_secs(10)).expect("a MASTER");
    }
    let dir = lab.node("b").expect("node b").dir.clone();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config(100, 200, true)).expect("config");
    let conf = conf.display().to_string();
    let pid = dir.join("keepalived.pid").display().to_string();
    let vrrp_pid = dir.join("vrrp.pid").display().to_string();
    let argv = [
        OURS,
        "-n",
        "-l",
        "-D",
        "-f",
        &conf,
        "-p",
        &pid,
        "-r",
        &vrrp_pid,
        "--metrics-listen",
        "127.0.0.1:9165",
    ];
    lab.spawn("b", "ours.log", &argv).expect("spawn ours");
    wait_vip(&lab, "a", "eth0", "192.0.2.100/24", Duration::from_secs(10))
        .expect("a MASTER of VI_1");
    wait_vip(&lab, "b", "eth0", "192.0.2.101/24", Duration::from_secs(10))
        .expect("b MASTER of VI_2");

    // Wait until ours has heard a few adverts from a's VI_1 and the script has run.
    let body = wait_for(
        "a scrape with adverts received",
        Duration::from_secs(10),
        POLL,
        || {
            let text = scrape(&lab)?;
            let s = samples(&text);
            let received = s
                .iter()
                .find(|(k, _)| {
                    k.starts_with("keepalived_advertisements_received_total{") && k.contains("VI_1")
                })
                .map(|(_, v)| *v)?;
            let effective = s
                .iter()
                .find(|(k, _)| {
                    k.starts_with("keepalived_vrrp_effective_priority{") && k.contains("VI_2")
                })
                .map(|(_, v)| *v)?;
            (received >= 2.0 && effective == 210.0).then_some(text)
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}\n{}",
            std::fs::read_to_string(dir.join("ours.log")).unwrap_or_default()
        )
    });
    let (head, metrics) = body.split_once("\r\n\r\n").expect("HTTP head and body");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let openmetrics = lab
        .exec_unchecked(
            "b",
            &[
                "bash",
                "-c",
                "exec 3<>/dev/tcp/127.0.0.1/9165 && printf 'GET /metrics HTTP/1.1\\r\\nAccept: application/openmetrics-text;version=1.0.0\\r\\n\\r\\n' >&3 && cat <&3",
            ],
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        openmetrics.contains("Content-Type: application/openmetrics-text")
            && openmetrics.ends_with("# EOF\n"),
        "OpenMetrics on request: {openmetrics}"
    );
    // HEAD: GET's head, no body.
    let head_only = lab
        .exec_unchecked(
            "b",
            &[
                "bash",
                "-c",
                "exec 3<>/dev/tcp/127.0.0.1/9165 && printf 'HEAD /metrics HTTP/1.1\\r\\n\\r\\n' >&3 && cat <&3",
            ],
        )
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        head_only.starts_with("HTTP/1.1 200 OK") && head_only.ends_with("\r\n\r\n"),
        "HEAD answers the head only: {head_only}"
    );

    if lab::have_program("promtool") {
        let file = dir.join("scrape.txt");
        std::fs::write(&file, metrics).expect("save scrape");
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("promtool check metrics < {}", file.display()),
            ])
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool check metrics failed:\n{}{}\n{metrics}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        println!("promtool not installed (apt-get install prometheus): format not checked");
    }

    let s = samples(metrics);
    assert_eq!(value(&s, "keepalived_up", &[]), 1.0);
    let vi1 = [("iname", "VI_1"), ("intf", "eth0"), ("vrid", "61")];
    let vi2 = [("iname", "VI_2"), ("intf", "eth0"), ("vrid", "62")];
    assert_eq!(value(&s, "keepalived_vrrp_instance_state", &vi1), 1.0);
    assert_eq!(value(&s, "keepalived_vrrp_instance_state", &vi2), 2.0);
    assert_eq!(
        value(
            &s,
            "keepalived_vrrp_state",
            &[("iname", "VI_1"), ("ip_address", "192.0.2.100")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "keepalived_vrrp_state",
            &[("iname", "VI_2"), ("ip_address", "192.0.2.101")]
        ),
        2.0
    );
    assert_eq!(value(&s, "keepalived_vrrp_priority", &vi1), 100.0);
    assert_eq!(value(&s, "keepalived_vrrp_effective_priority", &vi1), 100.0);
    assert_eq!(value(&s, "keepalived_vrrp_master_priority", &vi1), 150.0);
    assert_eq!(value(&s, "keepalived_vrrp_priority", &vi2), 200.0);
    assert_eq!(value(&s, "keepalived_vrrp_effective_priority", &vi2), 210.0);
    assert_eq!(value(&s, "keepalived_vrrp_vips_set", &vi2), 1.0);
    assert_eq!(
        value(
            &s,
            "keepalived_become_master_total",
            &[("iname", "VI_2"), ("state", "MASTER")]
        ),
        1.0
    );
    assert_eq!(
        value(&s, "keepalived_become_master_total", &[("iname", "VI_1")]),
        0.0
    );
    assert!(
        value(
            &s,
            "keepalived_advertisements_sent_total",
            &[("iname", "VI_2")]
        ) >= 1.0
    );
    assert_eq!(
        value(
            &s,
            "keepalived_advertisements_sent_total",
            &[("iname", "VI_1")]
        ),
        0.0
    );
    assert!(
        value(
            &s,
            "keepalived_advertisements_received_total",
            &[("iname", "VI_1")]
        ) >= 2.0
    );
    for error in [
        "keepalived_packet_length_errors_total",
        "keepalived_ip_ttl_errors_total",
        "keepalived_authentication_failure_total",
        "keepalived_vrrp_checksum_errors_total",
    ] {
        assert_eq!(value(&s, error, &[("iname", "VI_1")]), 0.0, "{error}");
    }
    // BACKUP at start, then MASTER: INIT→BACKUP→MASTER.
    assert_eq!(value(&s, "keepalived_vrrp_transitions_total", &vi2), 2.0);
    assert_eq!(value(&s, "keepalived_vrrp_transitions_total", &vi1), 1.0);
    assert_eq!(
        value(
            &s,
            "keepalived_vrrp_tracker_up",
            &[("iname", "VI_2"), ("kind", "script"), ("name", "chk")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "keepalived_vrrp_tracker_weight",
            &[("iname", "VI_2"), ("name", "chk")]
        ),
        10.0
    );
    assert_eq!(
        value(&s, "keepalived_script_status", &[("name", "chk")]),
        1.0
    );

    // --status, finding the socket from -r as the daemon does; and with the override.
    let socket = dir.join("vrrp.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&socket)
            .expect("control socket")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "root-only control socket");
    let socket_text = socket.display().to_string();
    for args in [
        vec!["--status", "-f", &conf, "-r", &vrrp_pid],
        vec!["--status", "--control-socket", &socket_text],
    ] {
        let out = std::process::Command::new(OURS)
            .args(&args)
            .output()
            .expect("run --status");
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<&str>> = table
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            vec![
                vec!["INSTANCE", "STATE", "PRIORITY", "MASTER", "VIPS"],
                vec!["VI_1", "BACKUP", "100/100", "192.0.2.11", "192.0.2.100/24"],
                vec!["VI_2", "MASTER", "210/200", "192.0.2.12", "192.0.2.101/24"],
            ],
            "{table}"
        );
    }
    let missing = std::process::Command::new(OURS)
        .args([
            "--status",
            "--control-socket",
            &dir.join("none.sock").display().to_string(),
        ])
        .output()
        .expect("run --status");
    assert!(!missing.status.success(), "no daemon: --status fails");
}
