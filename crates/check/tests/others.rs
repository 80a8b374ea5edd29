//! UDP_CHECK, DNS_CHECK (dnsmasq), SMTP_CHECK (postfix and a fault responder),
//! MISC_CHECK and PING_CHECK.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use check::checks::{MiscResult, MiscScript, UdpCheck};
use check::probe::{CheckError, Probe, ProbeKind, Target};
use support::{Mode, Responder};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

fn probe(addr: SocketAddr, kind: ProbeKind, timeout: Duration) -> Probe {
    Probe {
        target: Target::new(addr),
        kind,
        timeout,
    }
}

/// A UDP responder: replies `reply` to each datagram while `answering`.
struct UdpResponder {
    addr: SocketAddr,
    answering: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl UdpResponder {
    async fn start(reply: &'static [u8]) -> UdpResponder {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("udp bind");
        let addr = socket.local_addr().expect("addr");
        let answering = Arc::new(AtomicBool::new(true));
        let flag = answering.clone();
        let task = tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            while let Ok((_, from)) = socket.recv_from(&mut buffer).await {
                if flag.load(Ordering::Relaxed) {
                    let _ = socket.send_to(reply, from).await;
                }
            }
        });
        UdpResponder {
            addr,
            answering,
            task,
        }
    }
}

impl Drop for UdpResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn udp(require_reply: bool, reply: Option<&[u8]>) -> ProbeKind {
    ProbeKind::Udp(UdpCheck {
        payload: b"ping".to_vec(),
        require_reply,
        reply: reply.map(|r| r.iter().map(|b| (*b, 0)).collect()),
        min_reply_length: 0,
        max_reply_length: 255,
    })
}

#[tokio::test]
async fn udp_check_reply_silence_and_unreachable() {
    let responder = UdpResponder::start(b"OK ready").await;
    let timeout = Duration::from_millis(300);
    probe(responder.addr, udp(true, Some(b"OK")), timeout)
        .run()
        .await
        .expect("expected reply");
    let result = probe(responder.addr, udp(true, Some(b"NO")), timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Protocol(_))), "{result:?}");

    // Silence: success without require_reply, failure (at the deadline) with it.
    responder.answering.store(false, Ordering::Relaxed);
    probe(responder.addr, udp(false, None), timeout)
        .run()
        .await
        .expect("silence is fine without require_reply");
    let started = Instant::now();
    let result = probe(responder.addr, udp(true, None), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < timeout + Duration::from_millis(250));

    // Stopped: ICMP port unreachable fails at once.
    let addr = responder.addr;
    drop(responder);
    let started = Instant::now();
    let result = probe(addr, udp(false, None), Duration::from_secs(3))
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Io(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// dnsmasq answering check.test, NXDOMAIN for nx.test.
struct Dnsmasq {
    port: u16,
    child: Option<std::process::Child>,
    _dir: support::ScratchDir,
}

impl Dnsmasq {
    fn start() -> Option<Dnsmasq> {
        if !lab::have_program("dnsmasq") {
            println!("SKIP: dnsmasq not installed (apt-get install -y dnsmasq-base)");
            return None;
        }
        let dir = support::ScratchDir::new("dnsmasq");
        let mut dns = Dnsmasq {
            port: support::free_port(),
            child: None,
            _dir: dir,
        };
        dns.resume();
        Some(dns)
    }

    fn resume(&mut self) {
        let child = std::process::Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
            ])
            .args([
                "--listen-address=127.0.0.1",
                "--conf-file=/dev/null",
                "--user=root",
            ])
            .arg(format!("--port={}", self.port))
            .arg(format!(
                "--pid-file={}",
                self._dir.0.join("dnsmasq.pid").display()
            ))
            .args(["--address=/check.test/192.0.2.7", "--address=/nx.test/"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dnsmasq starts");
        self.child = Some(child);
        // dnsmasq listens on TCP too: ready once that accepts.
        support::wait_listening(self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        support::wait_closed(self.port);
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn dns(query_type: &str, name: &str) -> ProbeKind {
    ProbeKind::Dns {
        query_type: query_type.into(),
        name: name.into(),
    }
}

#[tokio::test]
async fn dns_check_against_dnsmasq() {
    let Some(mut dnsmasq) = Dnsmasq::start() else {
        return;
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], dnsmasq.port));
    let timeout = Duration::from_secs(2);
    probe(addr, dns("A", "check.test"), timeout)
        .run()
        .await
        .expect("A check.test answered");
    let started = Instant::now();
    let result = probe(addr, dns("A", "nx.test"), timeout).run().await;
    assert!(
        matches!(&result, Err(CheckError::Protocol(m)) if m.contains("rcode = 3")),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));

    dnsmasq.stop();
    let result = probe(addr, dns("A", "check.test"), timeout).run().await;
    assert!(result.is_err(), "stopped server: {result:?}");
    dnsmasq.resume();
    probe(addr, dns("A", "check.test"), timeout)
        .run()
        .await
        .expect("restored");
}

#[tokio::test]
async fn dns_check_ignores_foreign_ids_until_the_deadline() {
    // Replies with a fixed id (almost surely not ours) and QR set.
    let responder = UdpResponder::start(&[0xde, 0xad, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]).await;
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let result = probe(responder.addr, dns("SOA", ""), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < timeout + Duration::from_millis(250));
}

fn smtp() -> ProbeKind {
    ProbeKind::Smtp {
        helo_name: "checker.test".into(),
    }
}

#[tokio::test]
async fn smtp_check_against_postfix() {
    if !lab::have_program("postfix") {
        println!("SKIP: postfix not installed (apt-get install -y postfix)");
        return;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], 25));
    let was_running = std::net::TcpStream::connect(addr).is_ok();
    let _restore = RestorePostfix { was_running };
    if !was_running {
        let status = std::process::Command::new("postfix")
            .arg("start")
            .output()
            .expect("postfix runs");
        if !status.status.success() {
            println!(
                "SKIP: postfix cannot start here: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            return;
        }
        support::wait_listening(25);
    }
    let timeout = Duration::from_secs(3);
    let result = probe(addr, smtp(), timeout).run().await;
    let stopped = std::process::Command::new("postfix")
        .arg("stop")
        .output()
        .map(|o| o.status.success());
    result.expect("postfix healthy");
    if matches!(stopped, Ok(true)) {
        support::wait_closed(25);
        let result = probe(addr, smtp(), timeout).run().await;
        assert!(matches!(result, Err(CheckError::Connect(_))), "{result:?}");
        let _ = std::process::Command::new("postfix").arg("start").output();
        support::wait_listening(25);
        probe(addr, smtp(), timeout)
            .run()
            .await
            .expect("postfix restored");
    }
}

/// Leaves postfix running or stopped as the test found it, also when the
/// test panics.
struct RestorePostfix {
    was_running: bool,
}

impl Drop for RestorePostfix {
    fn drop(&mut self) {
        let verb = if self.was_running { "start" } else { "stop" };
        let _ = std::process::Command::new("postfix").arg(verb).output();
    }
}

#[tokio::test]
async fn smtp_check_faults() {
    let timeout = Duration::from_millis(400);
    let server = Responder::start(Mode::Respond(b"554 go away\r\n".to_vec())).await;
    // The responder answers after reading a blank-line-terminated request, so
    // these scripted servers are plain TCP "greeters".
    let greeter = |banner: &'static [u8]| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = stream.write_all(banner).await;
                let mut sink = [0u8; 256];
                // Answer every command line with 250, QUIT with 221.
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                    let _ = stream.write_all(b"250 ok\r\n").await;
                }
            }
        });
        (addr, task)
    };
    let (good, good_task) = greeter(b"220 fake ESMTP\r\n").await;
    probe(good, smtp(), timeout)
        .run()
        .await
        .expect("good greeter");
    let (multi, multi_task) = greeter(b"220-fake\r\n220 fake\r\n").await;
    let result = probe(multi, smtp(), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Protocol(_))), "{result:?}");
    let (bad, bad_task) = greeter(b"554 no\r\n").await;
    let result = probe(bad, smtp(), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Protocol(_))), "{result:?}");
    // Trickling banner: fails at the deadline.
    server.set_mode(Mode::Silent);
    let started = Instant::now();
    let result = probe(server.addr, smtp(), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < timeout + Duration::from_millis(250));
    for task in [good_task, multi_task, bad_task] {
        task.abort();
    }
}

fn misc(script: &str, dynamic: bool) -> ProbeKind {
    ProbeKind::Misc {
        script: MiscScript {
            args: vec!["/bin/sh".into(), "-c".into(), script.into()],
            uid_gid: None,
        },
        dynamic,
    }
}

#[tokio::test]
async fn misc_check_exit_codes_dynamic_weight_and_timeout() {
    let nowhere = SocketAddr::from(([127, 0, 0, 1], 1));
    let timeout = Duration::from_secs(5);
    let run = |kind| async move { probe(nowhere, kind, timeout).run_with_weight().await };
    assert_eq!(
        run(misc("exit 0", false)).await.ok(),
        Some(Some(MiscResult::Up))
    );
    assert!(run(misc("exit 1", false)).await.is_err());
    assert!(run(misc("exit 12", false)).await.is_err());
    assert_eq!(
        run(misc("exit 12", true)).await.ok(),
        Some(Some(MiscResult::UpWithWeight(10)))
    );
    assert!(run(misc("exit 1", true)).await.is_err());
    assert!(run(misc("kill -9 $$", false)).await.is_err());

    // Timeout: fails at the deadline and the script is killed.
    let dir = support::ScratchDir::new("misc");
    let pid_file = dir.0.join("pid");
    let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
    let short = Duration::from_millis(300);
    let started = Instant::now();
    let result = probe(nowhere, misc(&script, false), short).run().await;
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < short + Duration::from_millis(250));
    let pid = std::fs::read_to_string(&pid_file).expect("pid written");
    let proc_dir = format!("/proc/{}", pid.trim());
    lab::wait_for(
        "the timed-out script to be killed",
        Duration::from_secs(5),
        Duration::from_millis(10),
        || {
            let state = std::fs::read_to_string(format!("{proc_dir}/stat")).unwrap_or_default();
            // Gone, or a zombie awaiting its reaper.
            (state.is_empty() || state.contains(") Z ")).then_some(())
        },
    )
    .expect("script killed");
}

#[tokio::test]
async fn ping_check_loopback_and_unreachable() {
    let timeout = Duration::from_millis(500);
    for ip in ["127.0.0.1", "::1"] {
        let addr = SocketAddr::new(ip.parse().expect("ip"), 0);
        match probe(addr, ProbeKind::Ping, timeout).run().await {
            Ok(()) => {}
            Err(CheckError::Socket(error)) => {
                println!("SKIP: no ICMP socket here ({error})");
                return;
            }
            Err(error) => panic!("ping {ip}: {error}"),
        }
    }
    // TEST-NET-2 (RFC 5737) never answers: no route or no reply, both fail
    // by the deadline.
    let addr = SocketAddr::from(([198, 51, 100, 1], 0));
    let started = Instant::now();
    let result = probe(addr, ProbeKind::Ping, timeout).run().await;
    assert!(result.is_err(), "{result:?}");
    assert!(started.elapsed() < timeout + Duration::from_millis(250));
}
