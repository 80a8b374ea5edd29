//! The `keepalived` binary's command line, run as a user would.

use std::path::PathBuf;
use std::process::Command;

fn keepalived() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keepalived"))
}

fn temp_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kars-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, text).expect("write config");
    path
}

#[test]
fn signum_prints_debian_numbers() {
    for (name, number) in [
        ("STOP", "15"),
        ("RELOAD", "1"),
        ("DATA", "10"),
        ("JSON", "36"),
    ] {
        let out = keepalived()
            .arg(format!("--signum={name}"))
            .output()
            .expect("runs");
        assert!(out.status.success(), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), number);
    }
    let out = keepalived().arg("--signum=BOGUS").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unknown sigfunc BOGUS"));
}

#[test]
fn version_mentions_enable_json_for_exporters() {
    let out = keepalived().arg("-v").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.starts_with("Keepalived v"), "{text}");
    assert!(text.contains("--enable-json"), "{text}");
}

#[test]
fn config_test_reports_unknown_keyword_with_location_and_exit_5() {
    let path = temp_config(
        "unknown",
        "global_defs {\n    router_id a\n    routr_id b\n}\n",
    );
    let out = keepalived()
        .arg("-t")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:5", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("routr_id"), "{stderr}");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
fn config_test_of_missing_file_says_so_and_exits_0_like_keepalived() {
    // keepalived 2.2.7: `keepalived -t -f /nonexistent` prints "Config files missing
    // '/nonexistent'." and exits 0.
    let out = keepalived()
        .args(["-t", "-f", "/nonexistent/keepalived-rs/none.conf"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/keepalived-rs/none.conf"),
        "{stderr}"
    );
}

#[test]
fn config_test_can_write_to_a_log_file() {
    let path = temp_config("logfile", "bogus_keyword\n");
    let log = path.with_file_name("test.log");
    let out = keepalived()
        .arg(format!("--config-test={}", log.display()))
        .arg("-f")
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(5));
    let logged = std::fs::read_to_string(&log).expect("log written");
    assert!(logged.contains("bogus_keyword"), "{logged}");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[test]
fn genhash_mode_is_reached_with_dash_t_first() {
    // Nothing listens on port 1 of loopback: genhash reports the failed connection.
    let out = keepalived()
        .args(["-T", "-s", "127.0.0.1", "-p", "1", "-u", "/"])
        .output()
        .expect("runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Connection failed"), "{text}");
}
