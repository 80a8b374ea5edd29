//! From keepalived.conf to IPVS: checkers built from a validated configuration,
//! run against loopback servers, their verdicts applied to `lvs::Lvs` over a
//! simulated kernel (real server removed when down, back when up; MISC_CHECK
//! dynamic weight).

mod support;

use std::time::Duration;

use check::driver::{self, Aggregator};
use ipvs::reconcile::SimulatedKernel;
use support::{Mode, Responder, http_response};
use tokio::sync::mpsc;

fn load(text: &str) -> config::model::lvs::LvsConfig {
    let loaded = config::load_str(
        "keepalived.conf",
        text,
        &config::LoadOptions::default(),
        &config::HostSystem,
    );
    assert!(loaded.exit_code() == 0, "{}", loaded.render());
    loaded.config.lvs
}

/// (address, port, weight) of every destination in the kernel.
fn dests(kernel: &SimulatedKernel) -> Vec<(String, u16, u32)> {
    kernel
        .table
        .services
        .values()
        .flat_map(|s| s.dests.values())
        .map(|d| (d.addr.to_string(), d.port, d.weight))
        .collect()
}

#[tokio::test]
async fn checkers_drive_the_ipvs_table() {
    let mut web = Responder::start(Mode::Respond(http_response("200 OK", b"ok\n"))).await;
    let tcp = Responder::start(Mode::Silent).await;
    let dir = support::ScratchDir::new("lvs");
    let weight_file = dir.0.join("weight");
    std::fs::write(&weight_file, "7").expect("weight file");
    let conf = format!(
        r#"
global_defs {{
    enable_script_security
    script_user root
}}
virtual_server 10.9.9.9 80 {{
    delay_loop 0.1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {web} {{
        weight 3
        HTTP_GET {{
            url {{
                path /
                digest {digest}
            }}
            connect_timeout 0.3
            retry 1
            delay_before_retry 0.05
            warmup 0
        }}
        TCP_CHECK {{
            connect_timeout 0.3
            warmup 0
        }}
    }}
    real_server 127.0.0.2 {tcp} {{
        weight 5
        TCP_CHECK {{
            connect_ip 127.0.0.1
            connect_timeout 0.3
            warmup 0
        }}
        MISC_CHECK {{
            misc_path "/bin/sh -c 'exit $(cat {file})'"
            misc_dynamic
            warmup 0
        }}
    }}
}}
"#,
        web = web.addr.port(),
        tcp = tcp.addr.port(),
        digest = check::http::hex(&check::probe::md5(b"ok\n")),
        file = weight_file.display(),
    );
    let cfg = load(&conf);
    let mut tasks = driver::checkers(&cfg).expect("checkers build");
    assert_eq!(tasks.len(), 4);
    for task in &mut tasks {
        // Skip keepalived's one-second bootstrap delay to keep the test fast.
        task.timing.bootstrap = Duration::ZERO;
    }
    let mut aggregator = Aggregator::new(&tasks);
    let mut lvs = lvs::Lvs::new(cfg, None);
    let mut kernel = SimulatedKernel::default();
    lvs.start(&mut kernel, false).expect("start");
    let web_dest = ("127.0.0.1".to_string(), web.addr.port());
    let has = |kernel: &SimulatedKernel, dest: &(String, u16), weight: Option<u32>| {
        dests(kernel)
            .iter()
            .any(|(a, p, w)| (a, p) == (&dest.0, &dest.1) && weight.is_none_or(|x| x == *w))
    };
    assert!(has(&kernel, &web_dest, Some(3)));

    let (sender, mut reports) = mpsc::channel(64);
    let handles = driver::spawn(tasks, sender);
    let limit = Duration::from_secs(5);
    let mut wait_until = async |kernel: &mut SimulatedKernel,
                                lvs: &mut lvs::Lvs,
                                what: &str,
                                done: &dyn Fn(&SimulatedKernel) -> bool| {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(kernel) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let report = driver::next_report(&mut reports, left)
                .await
                .unwrap_or_else(|| panic!("timed out waiting for {what}: {:?}", dests(kernel)));
            if driver::apply(&mut aggregator, &report, lvs) {
                lvs.sync(kernel).expect("sync");
            }
        }
    };

    // misc_dynamic: exit 7 → weight 5 for the second server.
    let misc_dest = ("127.0.0.2".to_string(), tcp.addr.port());
    wait_until(&mut kernel, &mut lvs, "dynamic weight 5", &|k| {
        has(k, &misc_dest, Some(5)) && dests(k).len() == 2
    })
    .await;
    std::fs::write(&weight_file, "12").expect("weight file");
    wait_until(&mut kernel, &mut lvs, "dynamic weight 10", &|k| {
        has(k, &misc_dest, Some(10))
    })
    .await;

    // Web server stopped: removed from the table; restored: back.
    web.stop();
    wait_until(&mut kernel, &mut lvs, "web server removed", &|k| {
        !has(k, &web_dest, None)
    })
    .await;
    web.resume().await;
    wait_until(&mut kernel, &mut lvs, "web server back", &|k| {
        has(k, &web_dest, Some(3))
    })
    .await;
    // Wrong content: removed again.
    web.set_mode(Mode::Respond(http_response("200 OK", b"changed\n")));
    wait_until(
        &mut kernel,
        &mut lvs,
        "web server removed on digest",
        &|k| !has(k, &web_dest, None),
    )
    .await;

    for handle in handles {
        handle.abort();
    }
}
