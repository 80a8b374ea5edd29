//! global_defs, the root process-wide keywords and the shared script module.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use config::model::global::{LvsFlushOnStop, ReloadFile, ScriptDomain};
use config::script::{self, ActiveDomains};
use config::{FakeSystem, Level, LoadOptions, Loaded, System, Validation};

fn host() -> FakeSystem {
    FakeSystem {
        interfaces: vec!["lo".into(), "eth0".into()],
        users: vec![("root".into(), 0, 0), ("nobody".into(), 65534, 65534)],
        groups: vec![("root".into(), 0), ("nogroup".into(), 65534)],
        hostname: "testhost".into(),
    }
}

fn load_with(text: &str, system: &FakeSystem) -> Loaded {
    config::load_str("keepalived.conf", text, &LoadOptions::default(), system)
}

fn load(text: &str) -> Loaded {
    load_with(text, &host())
}

/// Loads (which already runs the final script-security step for the domains the config
/// has) and runs it again for `active`; the SECURITY VIOLATION is reported only once.
fn load_finished(text: &str, system: &FakeSystem, active: ActiveDomains) -> Loaded {
    let options = LoadOptions::default();
    let mut loaded = config::load_str("keepalived.conf", text, &options, system);
    let mut v = Validation {
        cfg: &mut loaded.config,
        diags: &mut loaded.diags,
        system,
        options: &options,
    };
    script::finish_script_security(&mut v, active);
    loaded
}

/// (level, line) of every diagnostic that counts (notes excluded).
fn flagged(loaded: &Loaded) -> Vec<(Level, u32)> {
    loaded
        .diags
        .items
        .iter()
        .filter(|d| d.level != Level::Note)
        .map(|d| (d.level, d.span.map(|s| s.line).unwrap_or(0)))
        .collect()
}

fn lines(loaded: &Loaded) -> Vec<u32> {
    let mut l: Vec<u32> = flagged(loaded).into_iter().map(|(_, l)| l).collect();
    l.dedup();
    l
}

#[test]
fn defaults_are_keepalived_defaults() {
    let loaded = load("");
    let g = &loaded.config.global;
    assert_eq!(loaded.exit_code(), 0);
    assert_eq!(g.vrrp_version, 2);
    assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 18));
    assert_eq!(
        g.vrrp_mcast_group6,
        "ff02::12".parse::<Ipv6Addr>().expect("literal")
    );
    assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(5));
    assert_eq!(g.vrrp_garp_master_repeat, 5);
    assert_eq!(g.vrrp_garp_master_refresh, Duration::ZERO);
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 1);
    assert_eq!(g.vrrp_garp_lower_prio_delay, None);
    assert_eq!(g.vrrp_garp_lower_prio_repeat, None);
    assert_eq!(g.vrrp_down_timer_adverts, 3);
    assert_eq!(g.smtp_connect_timeout, Duration::from_secs(30));
    assert_eq!(g.min_auto_priority_delay_us, 1_000_000);
    assert_eq!(g.vrrp_rlimit_rttime_us, 10_000);
    assert_eq!(g.vrrp_rx_bufs_multiplier, 3);
    assert_eq!(g.nftables_ipvs_start_fwmark, 1000);
    assert_eq!(g.smtp_alert, None);
    assert!(!g.vrrp_strict && !g.enable_script_security);
}

#[test]
fn vrrp_family() {
    let loaded = load(
        "global_defs {\n\
         vrrp_version 3\n\
         vrrp_strict\n\
         vrrp_mcast_group4 224.0.0.100\n\
         vrrp_mcast_group6 ff02::100\n\
         vrrp_garp_master_delay 10\n\
         vrrp_garp_master_repeat 3\n\
         vrrp_garp_master_refresh 60\n\
         vrrp_garp_master_refresh_repeat 2\n\
         vrrp_garp_lower_prio_delay 7\n\
         vrrp_garp_lower_prio_repeat 4\n\
         vrrp_garp_interval 0.001\n\
         vrrp_gna_interval 0.000002\n\
         vrrp_down_timer_adverts 5\n\
         vrrp_garp_extra_if all 30\n\
         vrrp_lower_prio_no_advert\n\
         vrrp_higher_prio_send_advert off\n\
         vrrp_check_unicast_src\n\
         vrrp_skip_check_adv_addr\n\
         default_interface eth0\n\
         vrrp_startup_delay 5.5\n\
         vrrp_rx_bufs_policy MTU\n\
         nftables\n\
         nftables_priority -5\n\
         vmac_prefix vm\n\
         }\n",
    );
    assert_eq!(flagged(&loaded), vec![]);
    let g = &loaded.config.global;
    assert_eq!(g.vrrp_version, 3);
    assert!(g.vrrp_strict);
    assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 100));
    assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(10));
    assert_eq!(g.vrrp_garp_master_repeat, 3);
    assert_eq!(g.vrrp_garp_master_refresh, Duration::from_secs(60));
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 2);
    assert_eq!(g.vrrp_garp_lower_prio_delay, Some(Duration::from_secs(7)));
    assert_eq!(g.vrrp_garp_lower_prio_repeat, Some(4));
    assert_eq!(g.vrrp_garp_interval, Duration::from_micros(1000));
    assert_eq!(g.vrrp_gna_interval, Duration::from_micros(2));
    assert_eq!(g.vrrp_down_timer_adverts, 5);
    assert_eq!(g.vrrp_garp_extra_if, Some(Duration::from_secs(30)));
    assert!(g.vrrp_garp_extra_if_all);
    assert!(g.vrrp_lower_prio_no_advert && !g.vrrp_higher_prio_send_advert);
    assert!(g.vrrp_check_unicast_src && g.vrrp_skip_check_adv_addr);
    assert_eq!(g.default_interface.as_deref(), Some("eth0"));
    assert_eq!(g.vrrp_startup_delay, Duration::from_millis(5500));
    assert!(g.vrrp_rx_bufs_policy.mtu);
    assert_eq!(g.nftables.as_deref(), Some("keepalived"));
    assert_eq!(g.nftables_priority, -5);
    assert_eq!(g.vmac_prefix.as_deref(), Some("vm"));
}

#[test]
fn vrrp_min_garp_only_changes_defaults() {
    let loaded = load("global_defs {\n vrrp_garp_master_repeat 3\n vrrp_min_garp\n}\n");
    let g = &loaded.config.global;
    assert_eq!(g.vrrp_garp_master_repeat, 3, "explicit value kept");
    assert_eq!(g.vrrp_garp_master_delay, Duration::ZERO);
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 0);
    let loaded = load("global_defs {\n vrrp_min_garp off\n}\n");
    assert_eq!(loaded.config.global.vrrp_garp_master_repeat, 5);
}

#[test]
fn process_and_scheduling_family() {
    let loaded = load(
        "global_defs {\n\
         process_names\n\
         process_name ka\n\
         bfd_process_name kbfd\n\
         vrrp_priority -5\n\
         checker_no_swap\n\
         bfd_rt_priority 50\n\
         vrrp_cpu_affinity 0\n\
         checker_rlimit_rttime 1\n\
         max_auto_priority\n\
         min_auto_priority_delay 500\n\
         }\n",
    );
    assert_eq!(flagged(&loaded), vec![]);
    let g = &loaded.config.global;
    assert_eq!(g.vrrp_process_name.as_deref(), Some("keepalived_vrrp"));
    assert_eq!(g.checker_process_name.as_deref(), Some("keepalived_lvs"));
    assert_eq!(g.process_name.as_deref(), Some("ka"));
    assert_eq!(g.bfd_process_name.as_deref(), Some("kbfd"));
    assert_eq!(g.vrrp_priority, -5);
    assert!(g.checker_no_swap);
    assert_eq!(g.bfd_rt_priority, Some(50));
    assert_eq!(g.vrrp_cpu_affinity, vec![0]);
    assert_eq!(
        g.checker_rlimit_rttime_us, 2,
        "1 is raised to 2 as keepalived does"
    );
    assert_eq!(g.max_auto_priority, 99);
    assert_eq!(g.min_auto_priority_delay_us, 500);
}

#[test]
fn email_lvs_snmp_misc_family() {
    let loaded = load(
        "global_defs {\n\
         router_id r1\n\
         notification_email {\n  a@b.c\n  d@e.f\n }\n\
         notification_email_from ka@x\n\
         smtp_server 10.0.0.1 2525\n\
         smtp_connect_timeout 12\n\
         smtp_alert\n\
         smtp_alert_vrrp off\n\
         lvs_timeouts tcp 900 tcpfin 30 udp 300\n\
         lvs_flush\n\
         lvs_flush_on_stop VS\n\
         lvs_sync_daemon eth0 inst VI_1 id 7 port 8848 ttl 2 group 224.0.0.81\n\
         enable_snmp_rfc\n\
         snmp_socket tcp:localhost:705\n\
         enable_dbus\n\
         umask IRUSR|IWUSR | IRGRP\n\
         reload_file\n\
         include_check -match\n\
         data_use_instance\n\
         vrrp_netlink_cmd_rcv_bufs 1000\n\
         vrrp_netlink_cmd_rcv_bufs_force\n\
         }\n",
    );
    assert_eq!(flagged(&loaded), vec![]);
    let g = &loaded.config.global;
    assert_eq!(g.router_id.as_deref(), Some("r1"));
    assert_eq!(g.notification_email, vec!["a@b.c", "d@e.f"]);
    let smtp = g.smtp_server.as_ref().expect("smtp server");
    assert_eq!((smtp.host.as_str(), smtp.port), ("10.0.0.1", 2525));
    assert_eq!(g.smtp_connect_timeout, Duration::from_secs(12));
    assert_eq!((g.smtp_alert, g.smtp_alert_vrrp), (Some(true), Some(false)));
    assert_eq!(
        (
            g.lvs_timeouts.tcp,
            g.lvs_timeouts.tcpfin,
            g.lvs_timeouts.udp
        ),
        (Some(900), Some(30), Some(300))
    );
    assert!(g.lvs_flush);
    assert_eq!(g.lvs_flush_on_stop, LvsFlushOnStop::Vs);
    let syncd = g.lvs_sync_daemon.as_ref().expect("sync daemon");
    assert_eq!(syncd.instance.as_deref(), Some("VI_1"));
    assert_eq!(
        (syncd.id, syncd.port, syncd.ttl),
        (Some(7), Some(8848), Some(2))
    );
    assert!(g.enable_snmp_rfcv2 && g.enable_snmp_rfcv3 && g.enable_dbus);
    assert_eq!(g.umask, Some(0o640));
    assert_eq!(g.reload_file, Some(ReloadFile::Default));
    let checks = g.include_check.expect("include_check");
    assert!(!checks.match_);
    assert!(g.data_use_instance);
    assert_eq!(g.vrrp_netlink_cmd_rcv_bufs, Some(1000));
    assert!(g.vrrp_netlink_cmd_rcv_bufs_force);
}

#[test]
fn deprecated_synonyms_map_to_the_same_field() {
    let loaded = load(
        "global_defs {\n\
         lvs_flush_onstop\n\
         vrrp_vmac_garp_intvl 10\n\
         enable_snmp_keepalived\n\
         vrrp_rlimit_rtime 5000\n\
         lvs_process_name lvs\n\
         }\n",
    );
    let g = &loaded.config.global;
    assert_eq!(g.lvs_flush_on_stop, LvsFlushOnStop::Full);
    assert_eq!(g.vrrp_garp_extra_if, Some(Duration::from_secs(10)));
    assert!(g.enable_snmp_vrrp);
    assert_eq!(g.vrrp_rlimit_rttime_us, 5000);
    assert_eq!(g.checker_process_name.as_deref(), Some("lvs"));
    // keepalived reports only vrrp_vmac_garp_intvl (CONFIG_DEPRECATED); the others are
    // log messages.
    assert_eq!(flagged(&loaded), vec![(Level::Deprecated, 3)]);
    assert_eq!(loaded.exit_code(), 5);
}

#[test]
fn range_errors_report_level_and_line() {
    let loaded = load(
        "global_defs {\n\
         vrrp_version 4\n\
         vrrp_garp_master_repeat 0\n\
         vrrp_mcast_group4 10.0.0.1\n\
         vrrp_mcast_group6 ff05::12\n\
         vrrp_rt_priority 200\n\
         smtp_connect_timeout 5000\n\
         umask 0999\n\
         process_name averyveryverylongprocessname\n\
         }\n",
    );
    assert_eq!(
        flagged(&loaded),
        vec![
            (Level::InvalidNumber, 2),
            (Level::GeneralError, 2),
            (Level::GeneralError, 3),
            (Level::GeneralError, 4),
            (Level::Warning, 5),
            (Level::GeneralError, 6),
            (Level::InvalidNumber, 7),
            (Level::GeneralError, 7),
            (Level::GeneralError, 8),
            (Level::GeneralError, 9),
        ]
    );
    let g = &loaded.config.global;
    assert_eq!(g.vrrp_version, 2, "invalid value ignored");
    assert_eq!(g.vrrp_garp_master_repeat, 1, "0 raised to 1");
    assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(224, 0, 0, 18));
    assert_eq!(g.vrrp_rt_priority, Some(99), "clamped");
    assert_eq!(g.process_name.as_deref(), Some("averyveryverylo"));
    assert_eq!(loaded.exit_code(), 5);
}

#[test]
fn missing_required_word_aborts_like_keepalived() {
    let loaded = load("global_defs {\n vrrp_version\n}\n");
    assert!(loaded.diags.aborted);
    assert_eq!(loaded.exit_code(), 2);
    // Keywords that check their word count only complain.
    let loaded = load("global_defs {\n router_id\n}\n");
    assert!(!loaded.diags.aborted);
    assert_eq!(flagged(&loaded), vec![(Level::GeneralError, 2)]);
}

#[test]
fn root_keywords() {
    let loaded = load(
        "net_namespace blue\n\
         net_namespace red\n\
         instance one\n\
         net_namespace_ipvs\n\
         child_wait_time 4\n\
         linkbeat_use_polling\n\
         namespace_with_ipsets\n\
         global_defs {\n child_wait_time 3\n}\n",
    );
    let g = &loaded.config.global;
    assert_eq!(g.net_namespace.as_deref(), Some("blue"));
    assert_eq!(g.instance.as_deref(), Some("one"));
    assert_eq!(g.net_namespace_ipvs.as_deref(), Some(""));
    assert_eq!(g.child_wait_time, Some(Duration::from_secs(4)));
    assert!(g.use_pid_dir && g.linkbeat_use_polling && g.namespace_with_ipsets);
    // duplicate namespace, then a root-only keyword inside global_defs is unknown.
    assert_eq!(
        flagged(&loaded),
        vec![(Level::GeneralError, 2), (Level::UnknownKeyword, 9)]
    );
}

#[test]
fn script_parsing_forms() {
    let loaded = load(
        "global_defs {\n\
         startup_script \"/bin/echo 'a b' c\\\\ d\" nobody nogroup\n\
         shutdown_script /bin/true\n\
         notify_fifo_script \"/bin/cat\" root\n\
         }\n",
    );
    // Scripts without enable_script_security: keepalived's one SECURITY VIOLATION, no line.
    assert_eq!(flagged(&loaded), vec![(Level::Security, 0)]);
    let g = &loaded.config.global;
    let startup = g.startup_script.as_ref().expect("startup script");
    // The security check resolves symlinks in the path as keepalived does (realpath).
    let echo = real_path("/bin/echo");
    assert_eq!(startup.args, vec![echo.as_str(), "a b", "c d"]);
    assert_eq!(startup.user.as_deref(), Some("nobody"));
    assert_eq!(startup.group.as_deref(), Some("nogroup"));
    assert_eq!(startup.span.line, 2);
    assert_eq!(startup.domain, ScriptDomain::Global);
    assert_eq!(g.startup_script_timeout, Some(Duration::from_secs(10)));
    let shutdown = g.shutdown_script.as_ref().expect("shutdown script");
    assert_eq!(shutdown.args, vec![real_path("/bin/true")]);
    assert_eq!(shutdown.user, None);
    assert!(shutdown.user_event.is_some(), "takes the default user");
    assert_eq!(
        g.notify_fifo.script.as_ref().map(|s| s.args.clone()),
        Some(vec!["/bin/cat".to_string()])
    );
}

#[test]
fn split_quoted_escaped_matches_keepalived() {
    let split = |s: &str| script::split_quoted_escaped(s);
    assert_eq!(
        split(r#"/bin/x "a b"'c d' \t\x41"#),
        Ok(Some(vec!["/bin/x".into(), "a bc d".into(), "\tA".into()]))
    );
    assert_eq!(split("a \"b"), Err('"'));
    assert_eq!(split("a\\"), Ok(None), "lone trailing backslash");
}

#[test]
fn duplicate_and_invalid_scripts() {
    let loaded = load(
        "global_defs {\n\
         startup_script /bin/true\n\
         startup_script /bin/false\n\
         startup_script_timeout 2000\n\
         shutdown_script \"\"\n\
         }\n",
    );
    assert_eq!(
        lines(&loaded),
        vec![3, 4, 5, 0],
        "duplicate, out of range, empty command; then the SECURITY VIOLATION (no line)"
    );
    assert_eq!(
        loaded
            .config
            .global
            .startup_script
            .as_ref()
            .map(|s| s.command().to_string()),
        Some(real_path("/bin/true"))
    );
}

#[test]
fn unknown_explicit_user_invalidates_the_startup_script() {
    let loaded = load("global_defs {\n startup_script /bin/true ghost\n}\n");
    assert_eq!(flagged(&loaded), vec![(Level::GeneralError, 2)]);
    assert!(loaded.config.global.startup_script.is_none());
}

#[test]
fn default_user_with_script_security_needs_keepalived_script() {
    // No keepalived_script user: keepalived reports at the first script taking the
    // default user once enable_script_security is set, and the script is invalid.
    let text = "global_defs {\n enable_script_security\n startup_script /bin/true\n shutdown_script /bin/true\n}\n";
    let loaded = load(text);
    assert_eq!(
        flagged(&loaded),
        vec![
            (Level::GeneralError, 3),
            (Level::GeneralError, 3),
            (Level::GeneralError, 4)
        ]
    );
    // With the user present, all is well and scripts run as that user.
    let mut system = host();
    system.users.push(("keepalived_script".into(), 900, 901));
    let loaded = load_with(text, &system);
    assert_eq!(flagged(&loaded), vec![]);
    let mut loaded_cfg = loaded.config.clone();
    let mut diags = loaded.diags.clone();
    let options = LoadOptions::default();
    let mut v = Validation {
        cfg: &mut loaded_cfg,
        diags: &mut diags,
        system: &system,
        options: &options,
    };
    let mut s = v.cfg.global.startup_script.clone().expect("script");
    assert_eq!(script::resolve_script_user(&mut v, &mut s), Ok((900, 901)));
}

#[test]
fn security_enabled_after_the_script_does_not_matter_for_it() {
    // keepalived settles the default user at the first script: root then.
    let loaded = load("global_defs {\n startup_script /bin/true\n enable_script_security\n}\n");
    assert_eq!(flagged(&loaded), vec![]);
}

#[test]
fn failed_script_user_is_reported_and_sticks() {
    let loaded = load("global_defs {\n script_user ghost\n startup_script /bin/true\n}\n");
    assert_eq!(
        flagged(&loaded),
        vec![(Level::GeneralError, 2), (Level::GeneralError, 3)]
    );
    let loaded = load("global_defs {\n script_user nobody nogroup\n startup_script /bin/true\n}\n");
    assert_eq!(
        flagged(&loaded),
        vec![(Level::Security, 0)],
        "only the missing script security"
    );
}

/// A fresh directory under the system temp dir (root-owned 1777 /tmp keeps the path
/// secure when the tests run as root), removed on drop (a failing test too).
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ka-global-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    TempDir(dir)
}

fn write_script(dir: &std::path::Path, name: &str, mode: u32) -> String {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path.to_string_lossy().into_owned()
}

fn running_as_root() -> bool {
    host().process_ids().0 == 0
}

fn none_active() -> ActiveDomains {
    ActiveDomains::default()
}

#[test]
fn startup_script_without_script_security_is_a_security_violation() {
    let dir = temp_dir();
    let ok = write_script(&dir, "ok.sh", 0o755);
    let text = format!("global_defs {{\n startup_script {ok} root\n}}\n");
    let loaded = load_finished(&text, &host(), none_active());
    assert_eq!(flagged(&loaded), vec![(Level::Security, 0)]);
    assert_eq!(loaded.exit_code(), 6);
    let verdict = loaded
        .config
        .global
        .startup_script
        .as_ref()
        .and_then(|s| s.verdict)
        .expect("checked");
    assert!(verdict.is_script && verdict.executable);

    // With script security there is nothing to report.
    let mut system = host();
    system.users.push(("keepalived_script".into(), 0, 0));
    let text = format!("global_defs {{\n enable_script_security\n startup_script {ok}\n}}\n");
    let loaded = load_finished(&text, &system, none_active());
    assert_eq!(flagged(&loaded), vec![]);
    assert!(loaded.config.global.startup_script.is_some());
}

#[test]
fn missing_or_non_executable_scripts_are_dropped_silently() {
    let dir = temp_dir();
    let noexec = write_script(&dir, "noexec.sh", 0o644);
    let text = format!(
        "global_defs {{\n startup_script {}/absent.sh root\n shutdown_script {noexec} nobody\n}}\n",
        dir.display()
    );
    let loaded = load_finished(&text, &host(), none_active());
    // Not found: no SC_ISSCRIPT. Not executable for nobody: it exists, so it still
    // counts as a script for the security violation, as in keepalived.
    assert_eq!(flagged(&loaded), vec![(Level::Security, 0)]);
    assert!(loaded.config.global.startup_script.is_none());
    assert!(loaded.config.global.shutdown_script.is_none());
    let text = format!(
        "global_defs {{\n startup_script {}/absent.sh root\n}}\n",
        dir.display()
    );
    let loaded = load_finished(&text, &host(), none_active());
    assert_eq!(flagged(&loaded), vec![]);
}

#[test]
fn world_writable_script_is_insecure() {
    if !running_as_root() {
        // The path check needs root-owned directories, as keepalived (run as root) has.
        return;
    }
    let dir = temp_dir();
    let ww = write_script(&dir, "ww.sh", 0o777);
    let text = format!("global_defs {{\n startup_script {ww} root\n}}\n");
    let loaded = load_finished(&text, &host(), none_active());
    assert_eq!(flagged(&loaded), vec![(Level::Security, 0)]);
    assert!(
        loaded
            .diags
            .items
            .iter()
            .any(|d| d.level == Level::Security && d.message.contains("insecure"))
    );
    let verdict = loaded
        .config
        .global
        .startup_script
        .as_ref()
        .and_then(|s| s.verdict)
        .expect("kept and checked");
    assert!(verdict.insecure && !verdict.inhibit);

    // With script security the insecure script is inhibited and dropped.
    let text = format!("global_defs {{\n enable_script_security\n startup_script {ww} root\n}}\n");
    let loaded = load_finished(&text, &host(), none_active());
    assert_eq!(flagged(&loaded), vec![]);
    assert!(loaded.config.global.startup_script.is_none());
}

#[test]
fn symlinked_script_resolves_and_keeps_its_name() {
    if !running_as_root() {
        return;
    }
    let dir = temp_dir();
    let other = temp_dir();
    let target = write_script(&dir, "real.sh", 0o755);
    let canonical = std::fs::canonicalize(&target).expect("canonical");
    let canonical_dir = canonical.parent().expect("dir").to_path_buf();

    // A link in another directory: keepalived runs the resolved file.
    let far_link = other.join("far.sh");
    std::os::unix::fs::symlink(&target, &far_link).expect("symlink");
    let text = format!(
        "global_defs {{\n startup_script {} root\n}}\n",
        far_link.display()
    );
    let loaded = load_finished(&text, &host(), none_active());
    let script = loaded.config.global.startup_script.as_ref().expect("kept");
    assert_eq!(script.command(), canonical.to_string_lossy());
    assert_eq!(loaded.exit_code(), 6);

    // A link next to its target: keepalived keeps the name it was called by (some
    // programs behave by name), in the resolved directory.
    let near_link = dir.join("near.sh");
    std::os::unix::fs::symlink(&target, &near_link).expect("symlink");
    let text = format!(
        "global_defs {{\n startup_script {} root\n}}\n",
        near_link.display()
    );
    let loaded = load_finished(&text, &host(), none_active());
    let script = loaded.config.global.startup_script.as_ref().expect("kept");
    assert_eq!(
        script.command(),
        canonical_dir.join("near.sh").to_string_lossy()
    );
}

#[test]
fn file_check_form_and_path_search() {
    let loaded = load_finished(
        "global_defs {\n startup_script \"</etc/passwd\" root\n}\n",
        &host(),
        none_active(),
    );
    let verdict = loaded
        .config
        .global
        .startup_script
        .as_ref()
        .and_then(|s| s.verdict)
        .expect("kept");
    assert!(verdict.system && !verdict.is_script);
    assert_eq!(flagged(&loaded), vec![], "nothing is executed");

    // A bare name is searched in PATH (sh exists on any host running the tests).
    let loaded = load_finished(
        "global_defs {\n shutdown_script \"sh -c true\" root\n}\n",
        &host(),
        none_active(),
    );
    let script = loaded.config.global.shutdown_script.as_ref().expect("kept");
    assert!(script.command().starts_with('/'), "{}", script.command());
    assert_eq!(
        script.args.get(1..),
        Some(&["-c".to_string(), "true".to_string()][..])
    );
    assert_eq!(loaded.exit_code(), 6);
}

#[test]
fn fifo_scripts_are_checked_only_for_active_domains() {
    let text =
        "global_defs {\n notify_fifo /tmp/ka.fifo root\n notify_fifo_script /bin/true root\n}\n";
    let loaded = load_finished(text, &host(), none_active());
    assert_eq!(flagged(&loaded), vec![]);
    let loaded = load_finished(
        text,
        &host(),
        ActiveDomains {
            vrrp: true,
            checker: false,
        },
    );
    assert_eq!(flagged(&loaded), vec![(Level::Security, 0)]);
}

#[test]
fn notify_fifo_with_unknown_owner_is_dropped() {
    let loaded =
        load("global_defs {\n notify_fifo /tmp/ka.fifo ghost\n vrrp_notify_fifo /tmp/v.fifo\n}\n");
    assert_eq!(flagged(&loaded), vec![]);
    assert_eq!(loaded.config.global.notify_fifo.name, None);
    assert_eq!(
        loaded.config.global.vrrp_notify_fifo.name.as_deref(),
        Some("/tmp/v.fifo")
    );
}

#[test]
fn missing_net_namespace_stops_keepalived() {
    let loaded = load("net_namespace ka-test-no-such-namespace\n");
    assert_eq!(
        config::keywords::global::unenterable_net_namespace(&loaded.config, &host()),
        Some("ka-test-no-such-namespace".to_string())
    );
    let loaded = load("");
    assert_eq!(
        config::keywords::global::unenterable_net_namespace(&loaded.config, &host()),
        None
    );
}

#[test]
fn checking_a_script_of_another_user_kills_keepalived_t() {
    let text = "global_defs {\n startup_script /bin/true nobody\n}\n";
    let loaded = load_finished(text, &host(), none_active());
    assert!(loaded.config.global.script_audit.config_test_killed);
    let text = "global_defs {\n startup_script /bin/true root\n}\n";
    let loaded = load_finished(text, &host(), none_active());
    assert_eq!(
        loaded.config.global.script_audit.config_test_killed,
        !running_as_root()
    );
}

#[test]
fn default_user_replay_follows_keepalived_pass_order() {
    use config::model::global::ScriptUserEvent;
    use config::span::{FileId, Span};
    let at = |line| Span::line(FileId(0), line);
    let mut cfg = config::Config::default();
    // File order: a VRRP script (line 3) before global_defs' enable_script_security and
    // a checker script (line 20). keepalived's passes: global_defs, checker, VRRP; and
    // the later passes see enable_script_security wherever it is written.
    cfg.global.enable_script_security = true;
    cfg.global.script_user_log = vec![
        ScriptUserEvent::Use {
            span: at(3),
            security: false,
            domain: ScriptDomain::Vrrp,
        },
        ScriptUserEvent::Use {
            span: at(20),
            security: true,
            domain: ScriptDomain::Checker,
        },
    ];
    let mut diags = config::Diagnostics::default();
    let system = host();
    let options = LoadOptions::default();
    let mut v = Validation {
        cfg: &mut cfg,
        diags: &mut diags,
        system: &system,
        options: &options,
    };
    script::replay_default_user(&mut v);
    // Only the first use in pass order (the checker's) reports; both fail.
    let reported: Vec<u32> = diags
        .items
        .iter()
        .filter_map(|d| d.span.map(|s| s.line))
        .collect();
    assert_eq!(reported, vec![20]);
    assert_eq!(cfg.global.script_user_resolved, vec![None, None]);
    assert_eq!(script::default_user_for(&cfg, 0), None);

    // Without script security the default is the loading process's ids.
    cfg.global.enable_script_security = false;
    cfg.global.script_user_log = vec![ScriptUserEvent::Use {
        span: at(3),
        security: false,
        domain: ScriptDomain::Vrrp,
    }];
    let mut diags = config::Diagnostics::default();
    let mut v = Validation {
        cfg: &mut cfg,
        diags: &mut diags,
        system: &system,
        options: &options,
    };
    script::replay_default_user(&mut v);
    assert!(diags.items.is_empty());
    assert_eq!(
        script::default_user_for(&cfg, 0),
        Some(system.process_ids())
    );
}

#[test]
fn shared_notify_fifos_follow_keepalived() {
    let text = "global_defs {\n\
        notify_fifo /tmp/ka.fifo root\n\
        vrrp_notify_fifo /tmp/ka.fifo root\n\
        lvs_notify_fifo /tmp/lvs.fifo root\n\
        }\n";
    let loaded = load_finished(text, &host(), none_active());
    let g = &loaded.config.global;
    assert_eq!(g.notify_fifo.name.as_deref(), Some("/tmp/ka.fifo"));
    assert_eq!(g.vrrp_notify_fifo.name, None, "same as the global FIFO");
    assert_eq!(g.lvs_notify_fifo.name.as_deref(), Some("/tmp/lvs.fifo"));
}

#[test]
fn global_defs_errors_survive_a_later_abort() {
    // load_str runs validate_after_abort itself when parsing aborts.
    let loaded = config::load_str(
        "keepalived.conf",
        "global_defs {\n script_user ghost\n}\nglobal_defs {\n vrrp_version\n}\n",
        &LoadOptions::default(),
        &host(),
    );
    assert!(loaded.diags.aborted);
    assert_eq!(
        flagged(&loaded),
        vec![(Level::MissingParameter, 5), (Level::GeneralError, 2)]
    );
    assert_eq!(loaded.exit_code(), 2);
}

/// `path` with symlinks resolved (e.g. /bin/true → /usr/bin/true on merged-/usr hosts).
fn real_path(path: &str) -> String {
    std::fs::canonicalize(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string())
}
