//! The checker runtime end to end on this host, over a simulated IPVS table
//! (the host kernel has no ip_vs; `crates/lvs/tests/vm.rs` and
//! `checker_vm.rs` run the real thing in the ipvs-vm guest): three real
//! servers on loopback listeners with TCP_CHECK, HTTP_GET and FILE_CHECK;
//! stopping a listener removes its server (weight 0 with inhibit_on_failure);
//! the file's FAULT plus that loss drops quorum, the sorry server goes in and
//! quorum_down runs; restoring brings everything back and runs quorum_up;
//! notify_up/notify_down run with their configured arguments; the
//! lvs_notify_fifo gets keepalived's lines; a reload changing one weight keeps
//! the other entries and the checkers' state; stop removes our entries.
#![allow(clippy::unwrap_used, clippy::expect_used)] // In tests a panic is the failure report.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use daemon::checker::{CheckerOptions, CheckerRuntime};
use daemon::control::{self, Command};
use ipvs::reconcile::{Kernel, Op, SimulatedKernel, Table};

#[path = "common/checker.rs"]
mod checker;
use checker::{Scratch, Server};

/// The simulated kernel, shared between the runtime and the test.
#[derive(Clone, Default)]
struct SharedKernel(Arc<Mutex<SimulatedKernel>>);

impl Kernel for SharedKernel {
    fn read_table(&mut self) -> Result<Table, ipvs::Error> {
        self.0.lock().unwrap().read_table()
    }
    fn execute(&mut self, op: &Op) -> Result<(), ipvs::Error> {
        self.0.lock().unwrap().execute(op)
    }
}

impl SharedKernel {
    /// (address:port, weight) of every destination, sorted.
    fn dests(&self) -> Vec<(String, u32)> {
        let kernel = self.0.lock().unwrap();
        let mut dests: Vec<(String, u32)> = kernel
            .table
            .services
            .values()
            .flat_map(|s| s.dests.values())
            .map(|d| (format!("{}:{}", d.addr, d.port), d.weight))
            .collect();
        dests.sort();
        dests
    }

    fn services(&self) -> usize {
        self.0.lock().unwrap().table.services.len()
    }

    fn set_weight_ops(&self) -> usize {
        let kernel = self.0.lock().unwrap();
        kernel
            .accepted
            .iter()
            .filter(|op| matches!(op, Op::EditDest(..)))
            .count()
    }
}

fn load(text: &str) -> config::Config {
    let loaded = config::load_str(
        "keepalived.conf",
        text,
        &config::LoadOptions::default(),
        &config::HostSystem,
    );
    assert!(loaded.exit_code() == 0, "{}", loaded.render());
    loaded.config
}

fn config(dir: &std::path::Path, ports: [u16; 3], rs1_weight: u32) -> String {
    let log = dir.join("notify.log");
    let log = log.display();
    let fifo = dir.join("lvs.fifo");
    let state = dir.join("state");
    // notify scripts: /bin/sh -c 'echo WORD "$0" "$1" >> LOG' ARG0 ARG1, so the log
    // shows the arguments exactly as configured.
    let notify = |word: &str, name: &str| {
        format!("\"/bin/sh -c 'echo {word} $0 $1 >> {log}' {name} extra\"")
    };
    format!(
        r#"
global_defs {{
    enable_script_security
    script_user root
    lvs_notify_fifo {fifo}
}}
track_file state {{
    file {state}
    weight 0
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 0.2
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 2
    sorry_server 192.0.2.200 80
    quorum_up {qup}
    quorum_down {qdown}
    real_server 127.0.0.1 {p1} {{
        weight {rs1_weight}
        notify_up {up1}
        notify_down {down1}
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 0.5
            retry 0
            warmup 0
        }}
    }}
    real_server 127.0.0.1 {p2} {{
        weight 1
        inhibit_on_failure
        notify_up {up2}
        notify_down {down2}
        TCP_CHECK {{
            connect_timeout 0.5
            retry 0
            warmup 0
        }}
    }}
    real_server 127.0.0.1 {p3} {{
        weight 1
        notify_up {up3}
        notify_down {down3}
        FILE_CHECK {{
            track_file state
        }}
        TCP_CHECK {{
            connect_timeout 0.5
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        fifo = fifo.display(),
        state = state.display(),
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

fn wait<T>(what: &str, mut condition: impl FnMut() -> Option<T>) -> T {
    lab::wait_for(
        what,
        Duration::from_secs(15),
        Duration::from_millis(50),
        &mut condition,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn notify_lines(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("notify.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn checkers_drive_table_notifies_quorum_and_reload() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let scratch = Scratch::new("runtime");
    let dir = scratch.path().to_path_buf();
    std::fs::write(dir.join("state"), "0\n").unwrap();
    let rs1 = Server::start(&rt, 0);
    let mut rs2 = Server::start(&rt, 0);
    let rs3 = Server::start(&rt, 0);
    let ports = [rs1.port, rs2.port, rs3.port];
    let name = |port: u16| format!("127.0.0.1:{port}");
    let cfg = load(&config(&dir, ports, 1));

    // A reader on the FIFO (the runtime creates it; we open it once it exists).
    let kernel = SharedKernel::default();
    let (commands_tx, commands) = control::channel();
    let runtime_kernel = kernel.clone();
    let start_cfg = cfg.clone();
    let runner = rt.spawn(async move {
        let runtime = CheckerRuntime::start_with_kernel(
            &start_cfg,
            CheckerOptions::default(),
            Box::new(runtime_kernel),
        )
        .await
        .expect("start");
        runtime.run(commands).await;
    });
    let fifo_path = dir.join("lvs.fifo");
    let mut fifo = wait("the lvs_notify_fifo", || {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo_path)
            .ok()
    });
    let mut fifo_text = String::new();
    let mut read_fifo = |fifo: &mut std::fs::File| {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = fifo.read(&mut buffer) {
            if n == 0 {
                break;
            }
            fifo_text.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
        fifo_text.clone()
    };

    // Start: every real server in, no sorry server; keepalived runs quorum_up at
    // start (it judges quorum before the table exists, so it "gains" it).
    let sorted = |mut dests: Vec<(String, u32)>| {
        dests.sort();
        dests
    };
    let all_up = sorted(vec![
        (name(ports[0]), 1),
        (name(ports[1]), 1),
        (name(ports[2]), 1),
    ]);
    wait("the three real servers", || {
        (kernel.dests() == all_up).then_some(())
    });
    wait("quorum_up at start", || {
        (notify_lines(&dir) == ["quorum_up vs extra"]).then_some(())
    });

    // rs2 (inhibit_on_failure) stops: weight 0, notify_down with its arguments.
    rs2.stop();
    wait("rs2 weighted 0", || {
        kernel.dests().contains(&(name(ports[1]), 0)).then_some(())
    });
    wait("notify_down of rs2", || {
        notify_lines(&dir)
            .contains(&"down rs2 extra".to_string())
            .then_some(())
    });
    let rs_down = format!(
        "RS [127.0.0.1]:tcp:{} [192.0.2.100]:tcp:80 DOWN\n",
        ports[1]
    );
    wait("the RS DOWN fifo line", || {
        read_fifo(&mut fifo).contains(&rs_down).then_some(())
    });

    // rs3's track file goes FAULT: weight sum 1 < quorum 2 -> the sorry server
    // replaces the pool and quorum_down runs.
    std::fs::write(dir.join("state"), "1\n").unwrap();
    wait("the sorry server alone", || {
        let dests = kernel.dests();
        (dests.contains(&("192.0.2.200:80".to_string(), 1))
            && !dests.iter().any(|(d, _)| d == &name(ports[0])))
        .then_some(())
    });
    wait("quorum_down and notify_down of rs3", || {
        let lines = notify_lines(&dir);
        (lines.contains(&"quorum_down vs extra".to_string())
            && lines.contains(&"down rs3 extra".to_string()))
        .then_some(())
    });
    wait("the VS DOWN fifo line", || {
        read_fifo(&mut fifo)
            .contains("VS [192.0.2.100]:tcp:80 DOWN\n")
            .then_some(())
    });

    // Restored: quorum back, sorry server out, quorum_up and notify_up.
    let _rs2 = Server::start(&rt, ports[1]);
    std::fs::write(dir.join("state"), "0\n").unwrap();
    wait("the pool back", || (kernel.dests() == all_up).then_some(()));
    wait("quorum_up and notify_up", || {
        let lines = notify_lines(&dir);
        (lines.iter().filter(|l| *l == "quorum_up vs extra").count() == 2
            && lines.contains(&"up rs2 extra".to_string())
            && lines.contains(&"up rs3 extra".to_string()))
        .then_some(())
    });
    assert!(
        !notify_lines(&dir).iter().any(|l| l.contains("rs1")),
        "rs1 never changed: {:?}",
        notify_lines(&dir)
    );

    // Reload with rs1's weight changed: one SET_DEST, the rest kept, nothing
    // notified again.
    let notified = notify_lines(&dir).len();
    let edits = kernel.set_weight_ops();
    commands_tx
        .send(Command::Reload(Box::new(load(&config(&dir, ports, 4)))))
        .unwrap();
    let reloaded = sorted(vec![
        (name(ports[0]), 4),
        (name(ports[1]), 1),
        (name(ports[2]), 1),
    ]);
    wait("rs1 weight 4", || {
        (kernel.dests() == reloaded).then_some(())
    });
    assert_eq!(kernel.set_weight_ops(), edits + 1);
    // The checkers keep their (up) state: after a few check rounds nothing changed.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(kernel.dests(), reloaded);
    assert_eq!(
        notify_lines(&dir).len(),
        notified,
        "{:?}",
        notify_lines(&dir)
    );

    // Stop: our entries removed.
    commands_tx.send(Command::Stop).unwrap();
    rt.block_on(runner).unwrap();
    assert_eq!(kernel.services(), 0, "{:?}", kernel.dests());
    drop(rs1);
    drop(rs3);
}

/// An SMTP server that accepts and then says nothing (issue 9): the checker's
/// smtp_alert mails for real-server and quorum transitions wait on it for
/// `smtp_connect_timeout` (30 s), the table changes and notify scripts must not.
#[test]
fn a_stalling_smtp_server_does_not_delay_checker_transitions() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let scratch = Scratch::new("smtp-stall");
    let dir = scratch.path().to_path_buf();
    // Accepts every connection and holds it, silent.
    let stall = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .expect("bind");
    let stall_port = stall.local_addr().unwrap().port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = accepted.clone();
    let stall_task = rt.spawn(async move {
        while let Ok((stream, _)) = stall.accept().await {
            held.lock().unwrap().push(stream);
        }
    });
    let mut rs = Server::start(&rt, 0);
    let port = rs.port;
    let log = dir.join("notify.log");
    let notify = |word: &str| format!("\"/bin/sh -c 'echo {word} >> {}'\"", log.display());
    let cfg = load(&format!(
        r#"
global_defs {{
    enable_script_security
    script_user root
    notification_email {{
        ops@lab.example.org
    }}
    notification_email_from keepalived@lab.example.org
    smtp_server 127.0.0.1 {stall_port}
    smtp_connect_timeout 30
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 0.2
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    smtp_alert
    real_server 127.0.0.1 {port} {{
        weight 1
        smtp_alert
        notify_up {up}
        notify_down {down}
        TCP_CHECK {{
            connect_timeout 0.5
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        up = notify("up"),
        down = notify("down"),
    ));
    let kernel = SharedKernel::default();
    let (_commands_tx, commands) = control::channel();
    let runtime_kernel = kernel.clone();
    let runner = rt.spawn(async move {
        let runtime = CheckerRuntime::start_with_kernel(
            &cfg,
            CheckerOptions::default(),
            Box::new(runtime_kernel),
        )
        .await
        .expect("start");
        runtime.run(commands).await;
    });
    let dest = format!("127.0.0.1:{port}");
    let lines = || notify_lines(&dir);
    wait("the real server in", || {
        (kernel.dests() == [(dest.clone(), 1)]).then_some(())
    });
    // Two flaps: each sends mail into the stalled server; the second must not wait
    // for the first's 30 s.
    let started = std::time::Instant::now();
    for round in 1..=2 {
        rs.stop();
        wait("the real server out", || {
            kernel.dests().is_empty().then_some(())
        });
        wait("notify_down", || {
            (lines().iter().filter(|l| *l == "down").count() == round).then_some(())
        });
        rs = Server::start(&rt, port);
        wait("the real server back", || {
            (kernel.dests() == [(dest.clone(), 1)]).then_some(())
        });
        wait("notify_up", || {
            (lines().iter().filter(|l| *l == "up").count() == round).then_some(())
        });
    }
    let flaps = started.elapsed();
    println!("two flaps with a stalled SMTP server: {flaps:?}");
    // Far below one smtp_connect_timeout: nothing waited for the stalled mail.
    assert!(flaps < Duration::from_secs(20), "{flaps:?}");
    // The mails really went to the stalling server (and are stuck there).
    wait("the alerts reached the stalling server", || {
        (!accepted.lock().unwrap().is_empty()).then_some(())
    });
    runner.abort();
    stall_task.abort();
}
