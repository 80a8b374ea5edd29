//! The checker process against a real `ip_vs`, beside Debian keepalived 2.2.7
//! doing the same: `keepalived -C -n -l -f CONF` with one virtual server, three
//! real servers on loopback listeners of this test (HTTP_GET, TCP_CHECK with
//! inhibit_on_failure, MISC_CHECK), quorum 2 and a sorry server. Each daemon goes
//! through the same steps; after each, the IPVS table (`ipvsadm -S -n`) and the
//! notify / quorum script lines must be the same for both:
//! 1. start: the three real servers, quorum_up;
//! 2. the TCP server stops: weight 0 (inhibit_on_failure), notify_down;
//! 3. the MISC_CHECK fails too: quorum lost, the sorry server alone, quorum_down;
//! 4. both restored: the pool back, quorum_up, notify_up;
//! 5. SIGKILL of the checker child: the parent starts a new one, which takes over
//!    the table and follows rs2 going down and up again (table and notify lines);
//! 6. SIGTERM: the table empty.
//!
//! It flushes the IPVS table, so it runs only inside the ipvs-vm guest
//! (`crates/ipvs/run-vm-tests.sh`) or with `IPVS_TESTS_ALLOW_HOST=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // In tests a panic is the failure report.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "common/checker.rs"]
mod checker;
use checker::{Scratch, Server};

const WAIT: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(200);

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `ipvsadm -S -n`, sorted.
fn table() -> Vec<String> {
    let mut lines: Vec<String> = run("ipvsadm", &["-S", "-n"])
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// One daemon under test, stopped (SIGKILL) on drop if still running.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(program: &str, conf: &Path, dir: &Path, tag: &str) -> Daemon {
        let log = std::fs::File::create(dir.join(format!("{tag}.log"))).unwrap();
        let child = Command::new(program)
            .args(["-C", "-n", "-l", "-f"])
            .arg(conf)
            .arg("-p")
            .arg(dir.join(format!("{tag}.pid")))
            .arg("-c")
            .arg(dir.join(format!("{tag}-checkers.pid")))
            .env("TMPDIR", dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Daemon { child }
    }

    fn signal(&self, signal: &str) {
        run("kill", &[signal, &self.child.id().to_string()]);
    }

    fn stop(mut self) {
        self.signal("-TERM");
        let done = lab::wait_for("the daemon to exit", WAIT, POLL, || {
            self.child.try_wait().ok().flatten()
        });
        assert!(done.is_ok(), "the daemon did not exit on SIGTERM");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn config(dir: &Path, ports: [u16; 3]) -> String {
    let log = dir.join("notify.log");
    let log = log.display();
    let flag = dir.join("misc-ok");
    let notify = |word: &str, name: &str| {
        format!("\"/bin/sh -c 'echo {word} $0 $1 >> {log}' {name} extra\"")
    };
    format!(
        r#"
global_defs {{
    enable_script_security
    script_user root
    router_id checker_vm
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 2
    sorry_server 192.0.2.200 80
    quorum_up {qup}
    quorum_down {qdown}
    real_server 127.0.0.1 {p1} {{
        weight 1
        notify_up {up1}
        notify_down {down1}
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.1 {p2} {{
        weight 1
        inhibit_on_failure
        notify_up {up2}
        notify_down {down2}
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.1 {p3} {{
        weight 1
        notify_up {up3}
        notify_down {down3}
        MISC_CHECK {{
            misc_path "/bin/test -e {flag}"
            misc_timeout 5
            retry 0
        }}
    }}
}}
"#,
        flag = flag.display(),
        qup = notify("quorum_up", "vs"),
        qdown = notify("quorum_down", "vs"),
        up1 = notify("up", "rs1"),
        down1 = notify("down", "rs1"),
        up2 = notify("up", "rs2"),
        down2 = notify("down", "rs2"),
        up3 = notify("up", "rs3"),
        down3 = notify("down", "rs3"),
        p1 = ports[0],
        p2 = ports[1],
        p3 = ports[2],
    )
}

fn notify_lines(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join("notify.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// What one daemon showed at each step: (table, notify lines so far).
type Transcript = Vec<(String, Vec<String>, Vec<String>)>;

fn wait_table(what: &str, condition: impl Fn(&[String]) -> bool) -> Vec<String> {
    lab::wait_for(what, WAIT, POLL, || {
        let now = table();
        condition(&now).then_some(now)
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", table()))
}

fn wait_notify(dir: &Path, line: &str) -> Vec<String> {
    lab::wait_for(line, WAIT, POLL, || {
        let lines = notify_lines(dir);
        lines.iter().any(|l| l == line).then_some(lines)
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", notify_lines(dir)))
}

/// Waits until `line` appears `count` times in the notify log.
fn wait_notify_count(dir: &Path, line: &str, count: usize) -> Vec<String> {
    lab::wait_for(&format!("{line} x{count}"), WAIT, POLL, || {
        let lines = notify_lines(dir);
        (lines.iter().filter(|l| *l == line).count() >= count).then_some(lines)
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", notify_lines(dir)))
}

/// Runs the steps with `program`; returns what was seen at each.
fn scenario(program: &str, tag: &str, rt: &tokio::runtime::Runtime) -> (Transcript, String) {
    let scratch = Scratch::new(&format!("vm-{tag}"));
    let dir = scratch.path();
    let mut servers = [
        Server::start(rt, 0),
        Server::start(rt, 0),
        Server::start(rt, 0),
    ];
    let ports = [servers[0].port, servers[1].port, servers[2].port];
    let flag = dir.join("misc-ok");
    std::fs::write(&flag, "").unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config(dir, ports)).unwrap();
    let rs = |i: usize| format!("127.0.0.1:{}", ports[i]);
    let mut transcript = Transcript::new();
    // Ports differ per run; the transcript names them rs1..rs3.
    let neutral = |lines: Vec<String>| -> Vec<String> {
        let mut lines: Vec<String> = lines
            .into_iter()
            .map(|l| {
                (0..3).fold(l, |l, i| {
                    l.replace(&format!(":{} ", ports[i]), &format!(":rs{} ", i + 1))
                })
            })
            .collect();
        lines.sort();
        lines
    };

    run("ipvsadm", &["-C"]);
    let daemon = Daemon::start(program, &conf, dir, tag);
    let start = wait_table("the three real servers", |t| {
        (0..3).all(|i| t.iter().any(|l| l.contains(&rs(i))))
    });
    // keepalived judges quorum before the table exists, so it "gains" it at start.
    let lines = wait_notify(dir, "quorum_up vs extra");
    transcript.push(("start".into(), neutral(start), lines));

    servers[1].stop();
    let weight0 = wait_table("rs2 weight 0", |t| {
        t.iter().any(|l| l.contains(&rs(1)) && l.ends_with(" -w 0"))
    });
    let lines = wait_notify(dir, "down rs2 extra");
    transcript.push(("rs2 down".into(), neutral(weight0), lines));

    std::fs::remove_file(&flag).unwrap();
    let sorry = wait_table("the sorry server alone", |t| {
        t.iter().any(|l| l.contains("192.0.2.200:80")) && !t.iter().any(|l| l.contains(&rs(0)))
    });
    wait_notify(dir, "down rs3 extra");
    let lines = wait_notify(dir, "quorum_down vs extra");
    transcript.push(("quorum lost".into(), neutral(sorry), lines));

    servers[1].restart(rt);
    std::fs::write(&flag, "").unwrap();
    let back = wait_table("the pool back", |t| {
        !t.iter().any(|l| l.contains("192.0.2.200:80"))
            && (0..3).all(|i| t.iter().any(|l| l.contains(&rs(i)) && l.ends_with(" -w 1")))
    });
    wait_notify(dir, "up rs2 extra");
    wait_notify(dir, "up rs3 extra");
    let lines = wait_notify(dir, "quorum_up vs extra");
    transcript.push(("restored".into(), neutral(back), lines));

    // SIGKILL of the checker child (issue 9): the parent starts a new one, which
    // takes over the table as the killed one left it and follows the next changes.
    let pid_file = dir.join(format!("{tag}-checkers.pid"));
    let checker = || {
        std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
    };
    let killed = checker().expect("the checker's pid file");
    run("kill", &["-9", &killed.to_string()]);
    lab::wait_for("a new checker child", WAIT, POLL, || {
        checker().filter(|p| *p != killed && Path::new(&format!("/proc/{p}")).exists())
    })
    .expect("the parent restarts the checker");
    servers[1].stop();
    let weight0 = wait_table("rs2 weight 0 under the new checker", |t| {
        t.iter().any(|l| l.contains(&rs(1)) && l.ends_with(" -w 0"))
    });
    let lines = wait_notify_count(dir, "down rs2 extra", 2);
    transcript.push(("new checker, rs2 down".into(), neutral(weight0), lines));
    servers[1].restart(rt);
    let back = wait_table("rs2 back under the new checker", |t| {
        (0..3).all(|i| t.iter().any(|l| l.contains(&rs(i)) && l.ends_with(" -w 1")))
    });
    let lines = wait_notify_count(dir, "up rs2 extra", 2);
    transcript.push(("new checker, rs2 up".into(), neutral(back), lines));

    if tag == "ours" {
        // SIGUSR1 to the parent reaches the checker: keepalived_check.data in TMPDIR.
        daemon.signal("-USR1");
        let data = dir.join("keepalived_check.data");
        lab::wait_for("keepalived_check.data", WAIT, POLL, || {
            std::fs::read_to_string(&data)
                .ok()
                .filter(|t| t.contains(&format!("RIP = 127.0.0.1, RPORT = {}", ports[2])))
        })
        .expect("the checker dump");
    }

    daemon.stop();
    let end = table();
    transcript.push(("stopped".into(), neutral(end), notify_lines(dir)));
    let log = std::fs::read_to_string(dir.join(format!("{tag}.log"))).unwrap_or_default();
    let log = (0..3).fold(log, |l, i| {
        l.replace(&format!(":{}", ports[i]), &format!(":rs{}", i + 1))
    });
    (transcript, log)
}

#[test]
fn checker_follows_real_servers_like_keepalived() {
    let Some(_vm) = lab::ipvs_vm::enter(
        "checker_follows_real_servers_like_keepalived",
        ipvs::Ipvs::connect,
    ) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ours, our_log) = scenario(env!("CARGO_BIN_EXE_keepalived"), "ours", &rt);
    assert!(
        ours.last().is_some_and(|(_, table, _)| table.is_empty()),
        "{ours:#?}"
    );
    if !Path::new("/usr/sbin/keepalived").exists() {
        eprintln!("keepalived 2.2.7 not installed: compared with nothing");
        return;
    }
    let (theirs, their_log) = scenario("/usr/sbin/keepalived", "keepalived", &rt);
    for ((step, our_table, our_lines), (_, their_table, their_lines)) in ours.iter().zip(&theirs) {
        assert_eq!(
            our_table, their_table,
            "{step}: table, ours (left) vs keepalived 2.2.7 (right)\n\
             our log:\n{our_log}\nkeepalived's log:\n{their_log}"
        );
        assert_eq!(
            our_lines, their_lines,
            "{step}: notify lines, ours (left) vs keepalived 2.2.7 (right)\n\
             our log:\n{our_log}\nkeepalived's log:\n{their_log}"
        );
    }
    // The checker's log lines for the same events.
    for line in [
        "Disabling service [127.0.0.1]:tcp:rs2 of VS [192.0.2.100]:tcp:80",
        "Removing service [127.0.0.1]:tcp:rs3 from VS [192.0.2.100]:tcp:80",
        "Adding sorry server [192.0.2.200]:tcp:80 to VS [192.0.2.100]:tcp:80",
        "Enabling service [127.0.0.1]:tcp:rs2 of VS [192.0.2.100]:tcp:80",
        "TCP connection to [127.0.0.1]:tcp:rs2 success.",
        "Remote Web server [127.0.0.1]:tcp:rs1 succeed on service.",
    ] {
        assert!(
            their_log.contains(line),
            "keepalived 2.2.7 does not log {line:?}:\n{their_log}"
        );
        assert!(our_log.contains(line), "we do not log {line:?}:\n{our_log}");
    }
}
