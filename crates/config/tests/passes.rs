//! keepalived -t reads the configuration once per process (global, checker, VRRP,
//! BFD), each time with only that process's root keywords active and the others'
//! blocks skipped by counting braces. These tests pin the consequences, checked
//! against what `keepalived -t` 2.2.7 prints for the same text.

use config::{FakeSystem, Level, LoadOptions, Loaded};

fn host() -> FakeSystem {
    FakeSystem {
        interfaces: ["lo", "eth0", "eth1", "eth2", "eth3"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        hostname: "test".into(),
        ..FakeSystem::default()
    }
}

fn load(text: &str) -> Loaded {
    config::load_str("k.conf", text, &LoadOptions::default(), &host())
}

/// (level, line) of every diagnostic that is not a note, each once, sorted.
fn flagged(l: &Loaded) -> Vec<(Level, u32)> {
    let mut v: Vec<(Level, u32)> = l
        .diags
        .items
        .iter()
        .filter(|d| d.level != Level::Note)
        .filter_map(|d| Some((d.level, d.span?.line)))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn virtual_server_without_brace_breaks_the_other_passes() {
    // Inactive in the global, VRRP and BFD passes, `virtual_server` with no '{' on its
    // line or the next skips nothing: its lines become unknown root keywords there.
    // In the checker pass it is active and only the missing '{' is reported.
    let text = "\
virtual_server 10.0.0.1 22
    delay_loop 3
    real_server 10.0.0.2 22 {
        weight 1
    }
}
vrrp_instance VI_1
{
    interface eth0
    virtual_router_id 1
    priority 100
    virtual_ipaddress {
      10.0.0.1
    }
}
";
    let l = load(text);
    let mut expected = vec![
        (Level::UnknownKeyword, 2),
        (Level::UnknownKeyword, 3),
        (Level::UnknownKeyword, 4),
        (Level::UnknownKeyword, 5),
        (Level::UnknownKeyword, 6),
        (Level::MissingBlockStart, 2),
        (Level::UnexpectedBlockStart, 3),
        (Level::UnexpectedBlockEnd, 6),
    ];
    expected.sort();
    assert_eq!(flagged(&l), expected);
    // Each finding is printed once, although several passes meet it.
    let unknown_delay_loop = l
        .diags
        .items
        .iter()
        .filter(|d| d.message.contains("delay_loop"))
        .count();
    assert_eq!(unknown_delay_loop, 1);
    // Each domain's model comes from its own pass.
    assert_eq!(l.config.lvs.virtual_servers.len(), 1);
    assert_eq!(l.config.vrrp.instances.len(), 1);
    assert_eq!(l.exit_code(), 5);
}

#[test]
fn braces_from_an_undefined_parameter_are_counted_in_a_skipped_block() {
    // `${UNDEF}` stays as `$ { UNDEF }`: in the VRRP pass the `}` would close the sync
    // group, but keepalived stops after the global pass here (the namespace cannot be
    // entered), and there the whole block is skipped by counting braces.
    let text = "\
net_namespace kaconf_test_no_such_namespace
vrrp_sync_group G {
    group {
      VI_1
    }
    notify /tmp/n.${UNDEF}.sh
    smtp_alert
}
";
    let l = load(text);
    assert_eq!(flagged(&l), vec![]);
    assert_eq!(l.exit_code(), 0);
}

#[test]
fn the_same_block_read_in_the_vrrp_pass_is_flagged() {
    let text = "\
vrrp_sync_group G {
    group {
      VI_1
    }
    notify /tmp/n.${UNDEF}.sh
    smtp_alert
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority 100
    virtual_ipaddress {
      10.0.0.1
    }
}
";
    let l = load(text);
    let lines: Vec<u32> = flagged(&l).iter().map(|(_, n)| *n).collect();
    assert!(lines.contains(&5), "{lines:?}");
    assert!(lines.contains(&6), "{lines:?}");
    assert!(lines.contains(&7), "{lines:?}");
    assert_eq!(l.exit_code(), 5);
}

#[test]
fn global_defs_is_read_only_in_the_global_pass() {
    // An unknown keyword inside global_defs is reported once (the child passes skip
    // the block), and an inactive root keyword whose block opens on the next line is
    // skipped whole.
    let text = "\
global_defs
{
    no_such_global_keyword
}
";
    let l = load(text);
    assert_eq!(flagged(&l), vec![(Level::UnknownKeyword, 3)]);
    assert_eq!(
        l.diags
            .items
            .iter()
            .filter(|d| d.level != Level::Note)
            .count(),
        1
    );
}

#[test]
fn an_abort_in_the_vrrp_pass_comes_after_the_checker_pass_and_before_the_bfd_pass() {
    // keepalived -t: the checker pass reads the whole file (here a virtual_server after
    // the aborting line, and the bfd_instance with the checker's handler), then the VRRP
    // pass exits at the missing parameter; the BFD pass, which would object to the
    // instance without a neighbour, never runs.
    let text = "\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority
}
virtual_server 10.0.0.1 80 {
    bogus_vs_kw
}
global_defs {
    bogus_global
}
bfd_instance b1 {
    bogus_bfd
}
";
    let l = load(text);
    let mut expected = vec![
        (Level::MissingParameter, 4),
        (Level::UnknownKeyword, 7),
        (Level::UnknownKeyword, 10),
        (Level::UnknownKeyword, 13),
    ];
    expected.sort();
    assert_eq!(flagged(&l), expected);
    assert_eq!(l.exit_code(), 2);
}

#[test]
fn bfd_session_keywords_are_read_only_in_the_bfd_pass() {
    // `min_rx` without its value aborts only in the BFD pass (the checker and VRRP
    // processes ignore it), so the checker and VRRP findings are all printed first.
    let text = "\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    bogus_vrrp
    virtual_ipaddress {
      10.0.0.1
    }
}
bfd_instance b1 {
    min_rx
}
virtual_server 10.0.0.1 80 {
    bogus_vs
}
";
    let l = load(text);
    let mut expected = vec![
        (Level::UnknownKeyword, 4),
        (Level::MissingParameter, 10),
        (Level::UnknownKeyword, 13),
    ];
    expected.sort();
    assert_eq!(flagged(&l), expected);
    assert_eq!(l.exit_code(), 2);
}

#[test]
fn an_abort_in_the_vrrp_pass_still_validates_the_checker_configuration() {
    // The checker process had read and validated its part (dropping the MISC_CHECK
    // whose user does not exist, at its line) before the VRRP pass exited.
    let text = "\
global_defs {
  script_user nosuchuserx
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    priority
}
virtual_server 10.0.0.1 80 {
  real_server 10.0.0.2 80 {
    MISC_CHECK {
      misc_path /bin/true
      user nosuchuser
    }
  }
}
";
    let l = load(text);
    let mut expected = vec![
        (Level::GeneralError, 2),
        (Level::MissingParameter, 7),
        (Level::GeneralError, 13),
    ];
    expected.sort();
    assert_eq!(flagged(&l), expected);
    assert_eq!(l.exit_code(), 2);
}

#[test]
fn an_unterminated_last_line_is_one_line_up_in_the_global_pass_only() {
    // keepalived's first pass does not count a last line without a newline; the later
    // passes read its copy, where it has one. A stray '}' there is flagged by every
    // pass (the reader's "extra '}'" and the unknown keyword), so under both numbers.
    let text = "global_defs {\n    router_id r1\n}\n }";
    let l = load(text);
    let mut expected = vec![
        (Level::UnknownKeyword, 3),
        (Level::UnknownKeyword, 4),
        (Level::UnexpectedBlockEnd, 3),
        (Level::UnexpectedBlockEnd, 4),
    ];
    expected.sort();
    assert_eq!(flagged(&l), expected);
    assert_eq!(l.exit_code(), 5);
}

#[test]
fn a_notify_script_with_an_unterminated_quote_is_dropped_without_aborting() {
    // keepalived re-splits the raw line, reports the missing closing quote and drops
    // the script; the later lines are still read (here: an unknown keyword).
    let text = "\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    notify_fault \"/bin/true x
    bogus_vrrp
    virtual_ipaddress {
      10.0.0.1
    }
}
";
    let l = load(text);
    let lines: Vec<u32> = flagged(&l).iter().map(|(_, n)| *n).collect();
    assert!(lines.contains(&4), "{lines:?}");
    assert!(lines.contains(&5), "{lines:?}");
    assert!(!l.diags.aborted);
    assert_eq!(l.exit_code(), 5);
}

#[test]
fn the_parents_global_pass_notes_which_processes_have_work() {
    let text = "global_defs {\n    router_id parent\n}\n\
                vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    \
                priority 100\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n\
                virtual_server 192.0.2.10 80 {\n    real_server 192.0.2.11 80 {\n    }\n}\n";
    let global_only = LoadOptions {
        global_only: true,
        ..LoadOptions::default()
    };
    let parent = config::load_str("keepalived.conf", text, &global_only, &host());
    assert_eq!(parent.config.global.router_id.as_deref(), Some("parent"));
    assert!(parent.config.present.vrrp && parent.config.present.checker);
    assert!(!parent.config.present.bfd);
    assert!(
        parent.config.vrrp.instances.is_empty() && parent.config.lvs.virtual_servers.is_empty(),
        "the parent does not read the children's blocks"
    );

    let whole = load(text);
    assert_eq!(whole.config.present, parent.config.present);
    assert_eq!(whole.config.vrrp.instances.len(), 1);

    let static_only = "static_routes {\n    192.0.2.0/24 dev eth0\n}\n";
    let parent = config::load_str("keepalived.conf", static_only, &global_only, &host());
    assert!(parent.config.present.vrrp && !parent.config.present.checker);
}

/// Found by fuzzing: a `~SEQ` over a block that is not valid repeats its errors on every
/// generated line. keepalived prints millions of lines for minutes; we keep the first
/// [`config::MAX_KEPT_DIAGNOSTICS`], count the rest, and end with one line saying so.
#[test]
fn a_sequence_of_broken_lines_keeps_the_first_diagnostics_and_counts_the_rest() {
    let text = "$BROKEN=no_such_keyword ${N}\n~SEQ(N,1,30000) $BROKEN\n";
    let loaded = load(text);
    assert_eq!(loaded.diags.items.len(), config::MAX_KEPT_DIAGNOSTICS);
    assert!(loaded.diags.left_out >= 30_000 - config::MAX_KEPT_DIAGNOSTICS);
    assert_eq!(loaded.exit_code(), 5, "unknown keywords are errors");
    let rendered = loaded.render();
    assert!(
        rendered
            .lines()
            .last()
            .is_some_and(|l| l.contains("more diagnostics not shown")),
        "{}",
        &rendered[rendered.len().saturating_sub(300)..]
    );
}

/// Found by the config fuzzer: a decimal with more places than the keyword takes,
/// and a multi-byte character across the cut, panicked slicing a `str`. keepalived
/// cuts the bytes and rejects the non-digit.
#[test]
fn a_decimal_cut_inside_a_multi_byte_character_is_an_invalid_number() {
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    advert_int 1.0000\u{fffd}\n}\n";
    let l = load(text);
    assert!(
        flagged(&l).contains(&(Level::InvalidNumber, 4)),
        "{}",
        l.render()
    );
    assert!(l.render().contains("invalid"), "{}", l.render());
}
