//! TCP_CHECK and HTTP_GET against loopback responders: healthy, stopped,
//! restored, wrong status/digest/regex, and faults that must fail by the deadline.

mod support;

use std::time::{Duration, Instant};

use check::driver::{self, CheckerId, CheckerTask};
use check::engine::{Timing, Transition};
use check::http;
use check::probe::{CheckError, HttpCheck, Probe, ProbeKind, Target, UrlCheck};
use config::model::lvs::{HttpProtocol, Url};
use support::{Mode, Responder, http_response};
use tokio::sync::mpsc;

const BODY: &[u8] = b"<html>hello keepalived</html>\n";

fn url_check(url: Url) -> UrlCheck {
    UrlCheck::from_config(&url).expect("valid url")
}

fn http_probe(target: Target, urls: Vec<UrlCheck>, timeout: Duration) -> Probe {
    Probe {
        target,
        kind: ProbeKind::Http(HttpCheck {
            urls,
            protocol: HttpProtocol::Http10,
            virtualhost: None,
            tls: None,
        }),
        timeout,
    }
}

fn tcp_probe(target: Target, timeout: Duration) -> Probe {
    Probe {
        target,
        kind: ProbeKind::Tcp,
        timeout,
    }
}

#[tokio::test]
async fn tcp_check_up_then_refused_then_up() {
    let mut server = Responder::start(Mode::Silent).await;
    let probe = tcp_probe(Target::new(server.addr), Duration::from_secs(2));
    probe.run().await.expect("listening server is up");
    server.stop();
    let result = probe.run().await;
    assert!(matches!(result, Err(CheckError::Connect(_))), "{result:?}");
    server.resume().await;
    probe.run().await.expect("restored server is up");
}

#[tokio::test]
async fn http_get_status_digest_regex() {
    let server = Responder::start(Mode::Respond(http_response("200 OK", BODY))).await;
    let target = Target::new(server.addr);
    let timeout = Duration::from_secs(2);
    let good = Url {
        path: "/index.html".into(),
        digest: Some(check::probe::md5(BODY)),
        regex: Some("hello +keep".into()),
        ..Url::default()
    };
    http_probe(target.clone(), vec![url_check(good.clone())], timeout)
        .run()
        .await
        .expect("status, digest and regex match");
    // keepalived's request, byte for byte.
    assert_eq!(
        server.request(),
        http::request(
            "/index.html",
            HttpProtocol::Http10,
            None,
            server.addr.ip(),
            server.addr.port()
        )
        .into_bytes()
    );

    let wrong_digest = Url {
        digest: Some([0; 16]),
        ..good.clone()
    };
    let result = http_probe(target.clone(), vec![url_check(wrong_digest)], timeout)
        .run()
        .await;
    assert!(
        matches!(result, Err(CheckError::Digest { .. })),
        "{result:?}"
    );

    let wrong_status = Url {
        status_codes: vec![(300, 302), (404, 404)],
        ..good.clone()
    };
    let result = http_probe(target.clone(), vec![url_check(wrong_status)], timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Status(200))), "{result:?}");

    let no_match = Url {
        regex_no_match: true,
        ..good.clone()
    };
    let result = http_probe(target.clone(), vec![url_check(no_match)], timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Regex)), "{result:?}");

    let regex_miss = Url {
        regex: Some("absent".into()),
        ..good.clone()
    };
    let result = http_probe(target.clone(), vec![url_check(regex_miss)], timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Regex)), "{result:?}");

    // Status ranges: 404 accepted when configured.
    server.set_mode(Mode::Respond(http_response("404 Not Found", b"")));
    let accept_404 = Url {
        path: "/missing".into(),
        status_codes: vec![(200, 299), (400, 404)],
        ..Url::default()
    };
    http_probe(target.clone(), vec![url_check(accept_404)], timeout)
        .run()
        .await
        .expect("404 within the configured range");
    let default_codes = Url {
        path: "/missing".into(),
        ..Url::default()
    };
    let result = http_probe(target, vec![url_check(default_codes)], timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Status(404))), "{result:?}");
}

#[tokio::test]
async fn http_get_sends_virtualhost_and_protocol() {
    let server = Responder::start(Mode::Respond(http_response("200 OK", BODY))).await;
    let probe = Probe {
        target: Target::new(server.addr),
        kind: ProbeKind::Http(HttpCheck {
            urls: vec![url_check(Url {
                path: "/".into(),
                ..Url::default()
            })],
            protocol: HttpProtocol::Http11,
            virtualhost: Some("www.example.org".into()),
            tls: None,
        }),
        timeout: Duration::from_secs(2),
    };
    probe.run().await.expect("up");
    assert_eq!(
        String::from_utf8_lossy(&server.request()),
        "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.org\r\n\r\n"
    );
}

/// A fault must fail at the total deadline, not later (and not much earlier).
async fn fails_at_deadline(mode: Mode) {
    let server = Responder::start(mode).await;
    let timeout = Duration::from_millis(300);
    let probe = http_probe(
        Target::new(server.addr),
        vec![url_check(Url {
            path: "/".into(),
            ..Url::default()
        })],
        timeout,
    );
    let started = Instant::now();
    let result = probe.run().await;
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(elapsed >= timeout, "failed early: {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_millis(250),
        "failed late: {elapsed:?}"
    );
}

#[tokio::test]
async fn trickling_server_fails_at_the_total_deadline() {
    // keepalived #1817/#1822: a per-read timeout never fires here.
    fails_at_deadline(Mode::Trickle).await;
}

#[tokio::test]
async fn silent_server_fails_at_the_deadline() {
    fails_at_deadline(Mode::Silent).await;
}

#[tokio::test]
async fn garbage_and_resets_fail_fast() {
    let server = Responder::start(Mode::Respond(b"garbage\r\n\r\nmore".to_vec())).await;
    let probe = http_probe(
        Target::new(server.addr),
        vec![url_check(Url {
            path: "/".into(),
            ..Url::default()
        })],
        Duration::from_secs(5),
    );
    let started = Instant::now();
    let result = probe.run().await;
    assert!(matches!(result, Err(CheckError::Status(0))), "{result:?}");

    server.set_mode(Mode::Respond(b"HTTP/1.0 200 OK\r\nno end".to_vec()));
    let result = probe.run().await;
    assert!(matches!(result, Err(CheckError::Response(_))), "{result:?}");

    server.set_mode(Mode::Respond(Vec::new()));
    let result = probe.run().await;
    assert!(matches!(result, Err(CheckError::Response(_))), "{result:?}");

    server.set_mode(Mode::Reset);
    let result = probe.run().await;
    assert!(
        matches!(result, Err(CheckError::Io(_) | CheckError::Response(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn oversized_body_is_hashed_in_full() {
    let body: Vec<u8> = (0..(3usize << 20)).map(|i| (i % 251) as u8).collect();
    let server = Responder::start(Mode::Respond(http_response("200 OK", &body))).await;
    let probe = http_probe(
        Target::new(server.addr),
        vec![url_check(Url {
            path: "/big".into(),
            digest: Some(check::probe::md5(&body)),
            regex: Some("^\\x00\\x01".into()),
            ..Url::default()
        })],
        Duration::from_secs(10),
    );
    probe
        .run()
        .await
        .expect("digest of the whole body, regex on its start");
}

fn fast_timing(retry: u32) -> Timing {
    Timing {
        delay_loop: Duration::from_millis(100),
        retry,
        delay_before_retry: Duration::from_millis(60),
        warmup: Duration::ZERO,
        alpha: false,
        bootstrap: Duration::ZERO,
        timeout: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn driver_reports_down_after_retries_and_up_when_restored() {
    let mut server = Responder::start(Mode::Respond(http_response("200 OK", BODY))).await;
    let id = CheckerId {
        vs: 0,
        rs: 0,
        checker: 0,
    };
    let tcp_id = CheckerId { checker: 1, ..id };
    let tasks = vec![
        CheckerTask {
            id,
            probe: http_probe(
                Target::new(server.addr),
                vec![url_check(Url {
                    path: "/".into(),
                    digest: Some(check::probe::md5(BODY)),
                    ..Url::default()
                })],
                Duration::from_millis(300),
            ),
            timing: fast_timing(2),
        },
        CheckerTask {
            id: tcp_id,
            probe: tcp_probe(Target::new(server.addr), Duration::from_millis(300)),
            timing: fast_timing(2),
        },
    ];
    let mut aggregator = driver::Aggregator::new(&tasks);
    assert_eq!(aggregator.alive(0, 0), Some(true));
    let (sender, mut reports) = mpsc::channel(16);
    let handles = driver::spawn(tasks, sender);
    let limit = Duration::from_secs(5);

    // Both checkers report their first (successful) result.
    for _ in 0..2 {
        let report = driver::next_report(&mut reports, limit)
            .await
            .expect("first result");
        assert_eq!(report.transition, Some(Transition::Up));
        assert_eq!(aggregator.apply(&report), None);
    }

    // Service stopped: down only after 2 retries, 60 ms apart.
    server.stop();
    let stopped = Instant::now();
    let report = driver::next_report(&mut reports, limit)
        .await
        .expect("down");
    assert_eq!(report.transition, Some(Transition::Down { retries: 2 }));
    assert!(
        stopped.elapsed() >= Duration::from_millis(120),
        "{:?}",
        stopped.elapsed()
    );
    assert!(report.reason.is_some());
    assert_eq!(aggregator.apply(&report), Some((0, 0, false)));
    let report = driver::next_report(&mut reports, limit)
        .await
        .expect("other down");
    assert_eq!(aggregator.apply(&report), None);

    // Restored: up again, the real server once both checkers are.
    server.resume().await;
    let first = driver::next_report(&mut reports, limit).await.expect("up");
    assert_eq!(first.transition, Some(Transition::Up));
    assert_eq!(aggregator.apply(&first), None);
    let second = driver::next_report(&mut reports, limit).await.expect("up");
    assert_eq!(aggregator.apply(&second), Some((0, 0, true)));

    // Wrong content: the HTTP checker goes down, the TCP one stays up.
    server.set_mode(Mode::Respond(http_response("200 OK", b"changed")));
    let report = driver::next_report(&mut reports, limit)
        .await
        .expect("digest down");
    assert_eq!(report.id, id);
    assert_eq!(report.transition, Some(Transition::Down { retries: 2 }));
    assert!(
        report
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("digest")
    );
    assert_eq!(aggregator.apply(&report), Some((0, 0, false)));

    for handle in handles {
        handle.abort();
    }
}
