//! HTTP_GET and genhash against Debian's nginx; genhash output compared with
//! Debian's keepalived 2.2.7 `genhash`.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use check::genhash;
use check::probe::{CheckError, HttpCheck, Probe, ProbeKind, Target, UrlCheck};
use config::model::lvs::{HttpProtocol, Url};
use support::{Nginx, PAGE};

fn probe(port: u16, url: Url) -> Probe {
    Probe {
        target: Target::new(SocketAddr::from(([127, 0, 0, 1], port))),
        kind: ProbeKind::Http(HttpCheck {
            urls: vec![UrlCheck::from_config(&url).expect("valid url")],
            protocol: HttpProtocol::Http11,
            virtualhost: None,
            tls: None,
        }),
        timeout: Duration::from_secs(3),
    }
}

#[tokio::test]
async fn http_get_against_nginx() {
    let Some(mut nginx) = Nginx::start(false) else {
        return;
    };
    let port = nginx.http_port;
    let healthy = Url {
        path: "/index.html".into(),
        digest: Some(check::probe::md5(PAGE)),
        regex: Some("check page".into()),
        ..Url::default()
    };
    probe(port, healthy.clone())
        .run()
        .await
        .expect("nginx healthy");

    let result = probe(
        port,
        Url {
            digest: Some([1; 16]),
            ..healthy.clone()
        },
    )
    .run()
    .await;
    assert!(
        matches!(result, Err(CheckError::Digest { .. })),
        "{result:?}"
    );

    let teapot = Url {
        path: "/teapot".into(),
        ..Url::default()
    };
    let result = probe(port, teapot.clone()).run().await;
    assert!(matches!(result, Err(CheckError::Status(418))), "{result:?}");
    probe(
        port,
        Url {
            status_codes: vec![(400, 420)],
            ..teapot
        },
    )
    .run()
    .await
    .expect("418 accepted by range");

    nginx.stop();
    let result = probe(port, healthy.clone()).run().await;
    assert!(matches!(result, Err(CheckError::Connect(_))), "{result:?}");
    nginx.resume();
    probe(port, healthy).run().await.expect("nginx restored");
}

fn options(port: u16, url: &str) -> genhash::Options {
    genhash::Options {
        verbose: false,
        ssl: false,
        sni: false,
        server: IpAddr::from([127, 0, 0, 1]),
        port,
        url: url.into(),
        virtualhost: None,
        fwmark: None,
        protocol: HttpProtocol::Http10,
        timeout: Some(Duration::from_secs(3)),
    }
}

#[tokio::test]
async fn genhash_prints_the_digest() {
    let Some(nginx) = Nginx::start(false) else {
        return;
    };
    let (out, err) = genhash::fetch(&options(nginx.http_port, "/index.html")).await;
    assert_eq!(
        out,
        format!("{}\n", check::http::hex(&check::probe::md5(PAGE)))
    );
    assert_eq!(err, "");

    let closed = support::free_port();
    let (out, _) = genhash::fetch(&options(closed, "/")).await;
    assert_eq!(out, "Connection failed\n");
}

#[tokio::test]
async fn genhash_output_matches_debian_genhash() {
    let Some(nginx) = Nginx::start(false) else {
        return;
    };
    if !lab::have_program("genhash") {
        println!("SKIP: Debian genhash not installed (apt-get install -y keepalived)");
        return;
    }
    let port = nginx.http_port.to_string();
    let cases: [&[&str]; 5] = [
        &["-s", "127.0.0.1", "-p", &port, "-u", "/index.html"],
        &["-s", "127.0.0.1", "-p", &port, "-u", "/teapot", "-P", "1.1"],
        &[
            "-s",
            "127.0.0.1",
            "-p",
            &port,
            "-u",
            "/nothing",
            "-V",
            "www.test",
        ],
        &[
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--url=/",
            "-P1.0c",
            "-t",
            "2",
        ],
        &["-s", "127.0.0.1", "-p", "1", "-u", "/"],
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
        assert_eq!(debian.status.code(), Some(0));
    }
}

#[test]
fn genhash_usage_errors_exit_1_like_debian() {
    let mut cases: Vec<Vec<String>> = vec![
        vec!["genhash".into(), "-s".into(), "127.0.0.1".into()],
        vec![
            "genhash".into(),
            "-s".into(),
            "x".into(),
            "-p".into(),
            "1".into(),
            "-u".into(),
            "/".into(),
        ],
        vec!["genhash".into(), "-h".into(), "-v".into()],
    ];
    for case in cases.drain(..) {
        assert_eq!(genhash::main(&case), 1, "{case:?}");
        if lab::have_program("genhash") {
            let debian = std::process::Command::new("genhash")
                .args(case.get(1..).unwrap_or_default())
                .output()
                .expect("genhash runs");
            assert_eq!(debian.status.code(), Some(1), "{case:?}");
        }
    }
}
