//! Notify scripts and FIFO lines, ours against Debian's keepalived 2.2.7 (root,
//! network namespaces). Twin labs run the same configuration on node a — ours in
//! one, keepalived in the other: VI_1 and VI_2 in sync group G, each with notify
//! scripts — and drive the same transitions: BACKUP (init) and MASTER alone, BACKUP
//! when a higher-priority peer (keepalived in both labs) comes, MASTER when it
//! leaves, FAULT on link down, back up, a lower-priority advert to the MASTER
//! (`notify_master_rx_lower_pri`), STOP on SIGTERM. Every notify invocation
//! (`notify_backup|master|fault|stop` with their own arguments, generic `notify` with
//! `INSTANCE|GROUP NAME STATE PRIORITY`, the group's scripts) and every
//! `vrrp_notify_fifo` line is recorded on both sides and compared step by step: the
//! invocations as a set (keepalived starts a state's scripts together, so their order
//! on disk is a race), the FIFO lines as a set plus the place of the GROUP line (the
//! members' order follows their timers, the group's place is keepalived's rule).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::{Daemon, can_run, pair, start, stop, wait_vip};
use lab::wait_for;

const WAIT: Duration = Duration::from_secs(20);
const VIP: &str = "192.0.2.100/24";

fn subject_config(dir: &Path) -> String {
    let notify = dir.join("notify.sh").display().to_string();
    format!(
        "global_defs {{
    vrrp_notify_fifo {fifo}
    vrrp_notify_fifo_script {fifo_script}
}}
vrrp_instance VI_1 {{
    version 3
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 0.5
    notify_backup \"{notify} backup-script one\"
    notify_master \"{notify} master-script two 'three four'\"
    notify_fault \"{notify} fault-script\"
    notify_stop \"{notify} stop-script five\"
    notify_master_rx_lower_pri \"{notify} rx-lower-script six\"
    notify {notify}
    virtual_ipaddress {{
        {VIP} dev eth0
    }}
}}
vrrp_instance VI_2 {{
    version 3
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 0.5
    virtual_ipaddress {{
        192.0.2.101/24 dev eth0
    }}
}}
vrrp_sync_group G {{
    group {{
        VI_1
        VI_2
    }}
    notify_backup \"{notify} group-backup\"
    notify_master \"{notify} group-master\"
    notify_fault \"{notify} group-fault\"
    notify_stop \"{notify} group-stop\"
    notify {notify}
}}
",
        fifo = dir.join("notify.fifo").display(),
        fifo_script = dir.join("fifo.sh").display(),
    )
}

const PEER: &str = "vrrp_instance VI_1 {
    version 3
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.100/24 dev eth0
    }
}
vrrp_instance VI_2 {
    version 3
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 200
    advert_int 0.5
    virtual_ipaddress {
        192.0.2.101/24 dev eth0
    }
}
";

/// One VRRPv3 advert for VRID 51 with priority 50 from node b (python3 raw socket,
/// TTL 255, correct checksum).
const LOWER_PRIORITY_ADVERT: &str = r#"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')
src, dst = socket.inet_aton('192.0.2.12'), socket.inet_aton('224.0.0.18')
body = struct.pack('!BBBBHH', 0x31, 51, 50, 1, 50, 0) + socket.inet_aton('192.0.2.100')
data = src + dst + struct.pack('!BBH', 0, 112, len(body)) + body
total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
while total >> 16:
    total = (total & 0xffff) + (total >> 16)
body = body[:6] + struct.pack('!H', (~total) & 0xffff) + body[8:]
s.sendto(body, ('224.0.0.18', 0))
"#;

/// What one run recorded.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    /// Per step: the notify invocations, sorted.
    steps: Vec<(String, Vec<String>)>,
    /// Per step: the FIFO lines, sorted, and where the GROUP line was among them
    /// (the members' order depends on their timers, the group's place does not).
    fifo: Vec<(Vec<String>, Option<usize>)>,
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).expect("script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the notify log has `count` lines containing each of `needles`.
fn wait_notified(log: &Path, needles: &[&str], count: usize, what: &str) {
    wait_for(what, WAIT, common::POLL, || {
        let all = lines(log);
        needles
            .iter()
            .all(|n| all.iter().filter(|l| l.contains(n)).count() >= count)
            .then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {:#?}", lines(log)));
}

/// Waits until the notify log has `count` notifications of VI_1 and G entering
/// `state`, by `notify_STATE` and by the `notify` script.
fn wait_state_notified(log: &Path, state: &str, count: usize, what: &str) {
    let lower = state.to_lowercase();
    let needles = [
        format!("[INSTANCE][VI_1][{state}]"),
        format!("{lower}-script"),
        format!("[GROUP][G][{state}]"),
        format!("group-{lower}"),
    ];
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    wait_notified(log, &needles, count, what);
}

/// Waits until the FIFO log has `count` lines of VI_1, VI_2 and G entering `state`.
fn wait_fifo(log: &Path, state: &str, count: usize) {
    let needles = [
        format!("INSTANCE \"VI_1\" {state} "),
        format!("INSTANCE \"VI_2\" {state} "),
        format!("GROUP \"G\" {state} "),
    ];
    wait_for(
        &format!("FIFO lines for {state}"),
        WAIT,
        common::POLL,
        || {
            let all = lines(log);
            needles
                .iter()
                .all(|n| all.iter().filter(|l| l.contains(n.as_str())).count() >= count)
                .then_some(())
        },
    )
    .unwrap_or_else(|e| panic!("{e}: {:#?}", lines(log)));
}

fn run(tag: &str, daemon: Daemon) -> Record {
    let mut lab = pair(tag);
    let dir = lab.node("a").expect("a").dir.clone();
    let log = dir.join("notify.log");
    let fifo_log = dir.join("fifo.log");
    write_script(
        &dir.join("notify.sh"),
        // Each argument bracketed (word boundaries are compared too), one write per call.
        &format!(
            "#!/bin/sh\nline=\nfor arg in \"$@\"; do line=\"$line[$arg]\"; done\necho \"$line\" >> {log}\n",
            log = log.display()
        ),
    );
    write_script(
        &dir.join("fifo.sh"),
        &format!("#!/bin/sh\nexec cat \"$1\" >> {}\n", fifo_log.display()),
    );
    let mut steps = Vec::new();
    let mut fifo = Vec::new();
    let (mut seen, mut fifo_seen) = (0usize, 0usize);
    let mut step = |name: &str, steps: &mut Vec<(String, Vec<String>)>| {
        let all = lines(&log);
        let mut new: Vec<String> = all.iter().skip(seen).cloned().collect();
        seen = all.len();
        new.sort();
        steps.push((name.to_string(), new));
        let all = lines(&fifo_log);
        let mut new: Vec<String> = all.iter().skip(fifo_seen).cloned().collect();
        fifo_seen = all.len();
        let group_at = new.iter().position(|l| l.starts_with("GROUP"));
        new.sort();
        fifo.push((new, group_at));
    };

    let subject = start(&mut lab, "a", daemon, &subject_config(&dir));
    wait_vip(&lab, "a", "eth0", VIP, WAIT).expect("MASTER alone");
    wait_state_notified(&log, "MASTER", 1, "MASTER notifies");
    wait_state_notified(&log, "BACKUP", 1, "BACKUP (init) notifies");
    wait_fifo(&fifo_log, "MASTER", 1);
    step("start: BACKUP then MASTER", &mut steps);

    let peer = start(&mut lab, "b", Daemon::Upstream, PEER);
    wait_state_notified(&log, "BACKUP", 2, "BACKUP notifies");
    wait_fifo(&fifo_log, "BACKUP", 2);
    step("higher peer: BACKUP", &mut steps);

    stop(&mut lab, &peer);
    wait_state_notified(&log, "MASTER", 2, "MASTER notifies");
    wait_fifo(&fifo_log, "MASTER", 2);
    step("peer gone: MASTER", &mut steps);

    lab.set_link("a", "eth0", false).expect("eth0 down");
    wait_state_notified(&log, "FAULT", 1, "FAULT notifies");
    wait_fifo(&fifo_log, "FAULT", 1);
    step("link down: FAULT", &mut steps);

    lab.set_link("a", "eth0", true).expect("eth0 up");
    wait_state_notified(&log, "MASTER", 3, "MASTER notifies");
    wait_fifo(&fifo_log, "MASTER", 3);
    step("link up: BACKUP then MASTER", &mut steps);

    // A lower-priority advert reaches the MASTER (a healed split brain).
    lab.exec("b", &["python3", "-c", LOWER_PRIORITY_ADVERT])
        .expect("send a lower-priority advert");
    wait_notified(&log, &["rx-lower-script"], 1, "master_rx_lower_pri notify");
    wait_for("MASTER_RX_LOWER_PRI FIFO line", WAIT, common::POLL, || {
        lines(&fifo_log)
            .iter()
            .any(|l| l.contains("MASTER_RX_LOWER_PRI"))
            .then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}: {:#?}", lines(&fifo_log)));
    step("lower-priority advert: MASTER_RX_LOWER_PRI", &mut steps);

    assert_eq!(stop(&mut lab, &subject), Some(0));
    wait_state_notified(&log, "STOP", 1, "STOP notifies");
    step("SIGTERM: STOP", &mut steps);

    Record { steps, fifo }
}

#[test]
fn notify_scripts_and_fifo_lines_match_keepalived() {
    if !can_run(true) || !lab::have_program("python3") {
        return;
    }
    let (ours, theirs) = std::thread::scope(|scope| {
        let ours = scope.spawn(|| run("ncmo", Daemon::Ours));
        let theirs = scope.spawn(|| run("ncmu", Daemon::Upstream));
        (
            ours.join().expect("our run"),
            theirs.join().expect("keepalived's run"),
        )
    });
    println!("keepalived 2.2.7 notifies: {:#?}", theirs);
    for ((step, ours_calls), (_, theirs_calls)) in ours.steps.iter().zip(&theirs.steps) {
        assert_eq!(ours_calls, theirs_calls, "step '{step}'");
    }
    assert_eq!(ours.steps.len(), theirs.steps.len());
    // The FIFO reader of a stopping daemon may lose the last lines on either side.
    let steps_with_fifo = ours.steps.len() - 1;
    assert_eq!(
        ours.fifo.get(..steps_with_fifo),
        theirs.fifo.get(..steps_with_fifo),
        "FIFO lines differ"
    );
}
