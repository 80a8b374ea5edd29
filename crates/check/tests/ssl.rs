//! SSL_GET against nginx over HTTPS with a generated CA and certificate; TLS
//! handshake stall; genhash -S compared with Debian's genhash.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use check::genhash;
use check::probe::{CheckError, HttpCheck, Probe, ProbeKind, Target, UrlCheck};
use check::tls::{TlsSettings, client_config};
use config::model::lvs::{HttpProtocol, SslConfig, Url};
use support::{Mode, Nginx, PAGE, Responder};

fn ssl_probe(addr: SocketAddr, ssl: Option<&SslConfig>, url: Url, timeout: Duration) -> Probe {
    sni_probe(addr, ssl, url, timeout, true)
}

fn sni_probe(
    addr: SocketAddr,
    ssl: Option<&SslConfig>,
    url: Url,
    timeout: Duration,
    sni: bool,
) -> Probe {
    Probe {
        target: Target::new(addr),
        kind: ProbeKind::Http(HttpCheck {
            urls: vec![UrlCheck::from_config(&url).expect("valid url")],
            protocol: HttpProtocol::Http10,
            virtualhost: Some("check.test".into()),
            tls: Some(TlsSettings {
                config: client_config(ssl).expect("tls config"),
                sni,
            }),
        }),
        timeout,
    }
}

fn page_url() -> Url {
    Url {
        path: "/index.html".into(),
        digest: Some(check::probe::md5(PAGE)),
        ..Url::default()
    }
}

#[tokio::test]
async fn ssl_get_against_nginx() {
    let Some(mut nginx) = Nginx::start(true) else {
        return;
    };
    let Some(port) = nginx.https_port else {
        return;
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(3);
    // No CA: any certificate is accepted (keepalived).
    ssl_probe(addr, None, page_url(), timeout)
        .run()
        .await
        .expect("healthy over TLS");
    // The right CA.
    let dir = nginx.dir.0.clone();
    let with_ca = |ca: &str| SslConfig {
        ca_file: Some(dir.join(ca).display().to_string()),
        ..SslConfig::default()
    };
    ssl_probe(addr, Some(&with_ca("ca.pem")), page_url(), timeout)
        .run()
        .await
        .expect("certificate chains to the configured CA");
    // An unrelated CA: the certificate is invalid.
    let result = ssl_probe(addr, Some(&with_ca("other-ca.pem")), page_url(), timeout)
        .run()
        .await;
    assert!(matches!(result, Err(CheckError::Tls(_))), "{result:?}");
    // Wrong status and digest over TLS.
    let result = ssl_probe(
        addr,
        None,
        Url {
            path: "/teapot".into(),
            ..Url::default()
        },
        timeout,
    )
    .run()
    .await;
    assert!(matches!(result, Err(CheckError::Status(418))), "{result:?}");
    let result = ssl_probe(
        addr,
        None,
        Url {
            digest: Some([7; 16]),
            ..page_url()
        },
        timeout,
    )
    .run()
    .await;
    assert!(
        matches!(result, Err(CheckError::Digest { .. })),
        "{result:?}"
    );
    // SNI carries the virtualhost only with enable_sni.
    let sni_url = Url {
        path: "/sni".into(),
        regex: Some("sni=check.test;".into()),
        ..Url::default()
    };
    sni_probe(addr, None, sni_url.clone(), timeout, true)
        .run()
        .await
        .expect("SNI sent");
    let result = sni_probe(addr, None, sni_url, timeout, false).run().await;
    assert!(matches!(result, Err(CheckError::Regex)), "{result:?}");
    // Stopped, then restored.
    nginx.stop();
    let result = ssl_probe(addr, None, page_url(), timeout).run().await;
    assert!(matches!(result, Err(CheckError::Connect(_))), "{result:?}");
    nginx.resume();
    ssl_probe(addr, None, page_url(), timeout)
        .run()
        .await
        .expect("restored");
}

#[tokio::test]
async fn tls_handshake_stall_fails_at_the_deadline() {
    let server = Responder::start(Mode::Silent).await;
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let result = ssl_probe(server.addr, None, page_url(), timeout)
        .run()
        .await;
    let elapsed = started.elapsed();
    assert!(matches!(result, Err(CheckError::Timeout(_))), "{result:?}");
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_millis(250),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn genhash_ssl_matches_debian_genhash() {
    let Some(nginx) = Nginx::start(true) else {
        return;
    };
    let Some(port) = nginx.https_port else {
        return;
    };
    if !lab::have_program("genhash") {
        println!("SKIP: Debian genhash not installed (apt-get install -y keepalived)");
        return;
    }
    let port = port.to_string();
    let cases: [&[&str]; 2] = [
        &["-S", "-s", "127.0.0.1", "-p", &port, "-u", "/index.html"],
        &[
            "-S",
            "-I",
            "-V",
            "check.test",
            "-s",
            "127.0.0.1",
            "-p",
            &port,
            "-u",
            "/teapot",
        ],
    ];
    for case in cases {
        let args: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        let debian = std::process::Command::new("genhash")
            .args(&args)
            .output()
            .expect("genhash runs");
        let options = genhash::parse(&args).expect("valid options");
        let (out, err) = genhash::fetch(&options).await;
        assert_eq!(
            out,
            String::from_utf8_lossy(&debian.stdout),
            "stdout for {case:?}"
        );
        assert_eq!(
            err,
            String::from_utf8_lossy(&debian.stderr),
            "stderr for {case:?}"
        );
    }
}
