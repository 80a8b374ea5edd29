//! `smtp_alert` in network namespaces (root): the mail reaches a real SMTP server —
//! Postfix's `smtp-sink` (Debian package postfix), started by the test on a test-owned
//! port inside the node's namespace — with the same subject, body and headers as
//! Debian's keepalived 2.2.7 sends for the same transitions; and a server that
//! accepts connections but never answers does not delay a failover.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Daemon, can_run, crash, master_down, pair, report, start, wait_log, wait_vip};
use lab::{Lab, wait_for};

const WAIT: Duration = Duration::from_secs(20);
const SMTP_PORT: u16 = 2525;

fn have_smtp_sink() -> bool {
    if lab::have_program("smtp-sink") {
        return true;
    }
    println!("SKIP: smtp-sink not installed (apt-get install -y postfix)");
    false
}

/// Starts `smtp-sink` on 127.0.0.1:SMTP_PORT inside `node`; mails are appended to
/// the returned file.
fn start_sink(lab: &mut Lab, node: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = lab.node(node).expect("node").dir.join("mail");
    std::fs::create_dir_all(&dir).expect("mail dir");
    // smtp-sink drops root for nobody before it writes.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let dump = dir.join("dump");
    lab.exec(node, &["ip", "link", "set", "lo", "up"])
        .expect("lo up");
    let listen = format!("127.0.0.1:{SMTP_PORT}");
    let dump_arg = dump.display().to_string();
    lab.spawn(
        node,
        "smtp-sink.log",
        &["smtp-sink", "-u", "nobody", "-D", &dump_arg, &listen, "10"],
    )
    .expect("smtp-sink");
    wait_for("smtp-sink listening", WAIT, common::POLL, || {
        let out = lab.exec_unchecked(node, &["ss", "-ltn"]).ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains(&listen)
            .then_some(())
    })
    .expect("smtp-sink listens");
    dump
}

fn config(vrid: u32, smtp: &str) -> String {
    format!(
        "global_defs {{
    router_id LAB
    notification_email {{
        ops@example.org
        oncall@example.org
    }}
    notification_email_from keepalived@lab.example.org
    smtp_server {smtp}
    smtp_helo_name lab.example.org
    smtp_connect_timeout 30
}}
vrrp_instance VI_1 {{
    version 3
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority 150
    advert_int 0.5
    smtp_alert
    virtual_ipaddress {{
        192.0.2.{vrid}/24 dev eth0
    }}
}}
"
    )
}

/// The mails in a dump, each as its headers and body without the lines that differ
/// between two senders (dates, the sink's Received trace, the client address).
fn mails(dump: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dump).unwrap_or_default();
    text.split("X-Client-Addr:")
        .skip(1)
        .map(|mail| {
            mail.lines()
                .filter(|l| {
                    !(l.starts_with("Date:")
                        || l.starts_with("Received:")
                        || l.starts_with('\t')
                        || l.starts_with("X-Client-Proto:")
                        || l.starts_with("X-Helo-Args:")
                        || l.trim_start().starts_with("127.0.0.1"))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[test]
fn alert_mail_reaches_a_real_smtp_server_as_keepalived_s() {
    if !can_run(true) || !have_smtp_sink() {
        return;
    }
    let mut lab = pair("smtp");
    let ours_dump = start_sink(&mut lab, "a");
    let theirs_dump = start_sink(&mut lab, "b");
    let server = format!("127.0.0.1 {SMTP_PORT}");
    // Different VRIDs: each is MASTER on its own.
    let ours = start(&mut lab, "a", Daemon::Ours, &config(61, &server));
    let theirs = start(&mut lab, "b", Daemon::Upstream, &config(62, &server));
    wait_vip(&lab, "a", "eth0", "192.0.2.61/24", WAIT).expect("ours MASTER");
    wait_vip(&lab, "b", "eth0", "192.0.2.62/24", WAIT).expect("keepalived MASTER");
    let master = "Subject: [LAB] VRRP Instance VI_1 - Entering MASTER state";
    let ours_mails = wait_for("our MASTER mail", WAIT, common::POLL, || {
        let list = mails(&ours_dump);
        list.iter().any(|m| m.contains(master)).then_some(list)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", ours.log_text()));
    let theirs_mails = wait_for("keepalived's MASTER mail", WAIT, common::POLL, || {
        let list = mails(&theirs_dump);
        list.iter().any(|m| m.contains(master)).then_some(list)
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", theirs.log_text()));
    let ours_master: Vec<&String> = ours_mails.iter().filter(|m| m.contains(master)).collect();
    let theirs_master: Vec<&String> = theirs_mails.iter().filter(|m| m.contains(master)).collect();
    assert_eq!(ours_master, theirs_master, "the MASTER mails differ");
    let mail = ours_master.first().copied().cloned().unwrap_or_default();
    for expected in [
        "X-Mail-Args: <keepalived@lab.example.org>",
        "X-Rcpt-Args: <ops@example.org>",
        "X-Rcpt-Args: <oncall@example.org>",
        "From: keepalived@lab.example.org",
        "X-Mailer: Keepalived",
        "To: ops@example.org, oncall@example.org",
        "=> VRRP Instance is now owning VRRP VIPs <=",
    ] {
        assert!(mail.contains(expected), "{expected:?} missing in\n{mail}");
    }
    // Every mail keepalived sent up to its MASTER one, we sent too, in order.
    let upto = |list: &[String]| -> Vec<String> {
        let end = list.iter().position(|m| m.contains(master)).unwrap_or(0);
        list.iter().take(end + 1).cloned().collect()
    };
    let (ours_upto, theirs_upto) = (upto(&ours_mails), upto(&theirs_mails));
    println!(
        "mails up to MASTER (ours = keepalived's):\n{}",
        ours_upto.join("\n--\n")
    );
    assert_eq!(ours_upto, theirs_upto);
}

/// Accepts SMTP connections and never says a word.
const STALLING_SERVER: &str = r#"
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 2525))
s.listen(100)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
"#;

#[test]
fn a_stalling_smtp_server_does_not_delay_failover() {
    if !can_run(false) || !lab::have_program("python3") {
        return;
    }
    let mut lab = pair("smst");
    lab.exec("b", &["ip", "link", "set", "lo", "up"])
        .expect("lo up");
    lab.spawn("b", "stall.log", &["python3", "-c", STALLING_SERVER])
        .expect("stalling server");
    wait_for("stalling server listening", WAIT, common::POLL, || {
        let out = lab.exec_unchecked("b", &["ss", "-ltn"]).ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("127.0.0.1:2525")
            .then_some(())
    })
    .expect("listening");
    let advert_int = Duration::from_millis(500);
    let vip = "192.0.2.70/24";
    let a = start(&mut lab, "a", Daemon::Ours, &config(70, "127.0.0.1 2525"));
    let backup =
        config(70, &format!("127.0.0.1 {SMTP_PORT}")).replace("priority 150", "priority 100");
    let b = start(&mut lab, "b", Daemon::Ours, &backup);
    wait_vip(&lab, "a", "eth0", vip, WAIT).expect("a MASTER");
    // b's BACKUP mail is stuck in the stalling server now (30 s timeout).
    wait_log(&mut lab, &b, "(VI_1) Entering BACKUP STATE (init)", WAIT).expect("b BACKUP");
    crash(&mut lab, &a);
    let takeover = wait_vip(&lab, "b", "eth0", vip, WAIT).expect("b takes over");
    let bound = master_down(advert_int, 100);
    report("takeover with a stalling SMTP server", takeover, bound);
    // Generous: two advert intervals over Master_Down_Interval (a 30 s SMTP wait in
    // the way would be far beyond).
    assert!(
        takeover <= bound + advert_int * 2,
        "takeover after {takeover:?}, Master_Down_Interval {bound:?}\n{}",
        b.log_text()
    );
}
