//! keepalived.conf, the way keepalived 2.2.7 reads it.
//!
//! Pipeline: [`reader`] (files, includes, comments, `@`/`$`/`~SEQ` preprocessing,
//! tokens with real spans) → [`parser`] (keepalived's keyword-table engine) →
//! [`keywords`] (one table + handlers per domain, filling the [`model`]) →
//! validation (each domain's `validate`) → [`diag`] (severities that give
//! `keepalived -t`'s exit code, rendered with file:line:col and a snippet).

pub mod diag;
pub mod keywords;
pub mod model;
pub mod parser;
pub mod reader;
pub mod script;
pub mod span;
pub mod system;

use std::path::Path;

pub use diag::{Diagnostic, Diagnostics, Level, MAX_KEPT_DIAGNOSTICS};
pub use model::Config;
pub use reader::ReaderOptions;
pub use span::{SourceMap, Span};
pub use system::{FakeSystem, HostSystem, System};

use parser::{Ctx, ParseState, Pass};
use reader::Reader;

/// How to load a configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub reader: ReaderOptions,
    /// Read only what keepalived's parent reads: the global pass (global_defs and
    /// which root blocks are present, [`Config::present`]), then the global
    /// validation. The other domains stay empty and their findings unreported.
    pub global_only: bool,
}

/// The result of loading: the model (as far as it could be built), every diagnostic,
/// and the text of every file read (for rendering snippets).
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub diags: Diagnostics,
    pub sources: SourceMap,
}

impl Loaded {
    /// The exit code `keepalived -t` gives for this configuration.
    pub fn exit_code(&self) -> i32 {
        self.diags.exit_code()
    }

    /// All diagnostics rendered for a terminal.
    pub fn render(&self) -> String {
        self.diags.render(&self.sources)
    }
}

/// What validation functions get.
pub struct Validation<'a> {
    pub cfg: &'a mut Config,
    pub diags: &'a mut Diagnostics,
    pub system: &'a dyn System,
    pub options: &'a LoadOptions,
}

/// Loads a configuration file and everything it includes.
pub fn load_file(path: &Path, options: &LoadOptions, system: &dyn System) -> Loaded {
    let mut diags = Diagnostics::default();
    let reader = Reader::open(path, options.reader.clone(), &mut diags);
    run(reader, diags, options, system)
}

/// Loads a configuration from a string; `name` stands for its file name.
pub fn load_str(name: &str, text: &str, options: &LoadOptions, system: &dyn System) -> Loaded {
    let mut diags = Diagnostics::default();
    let reader = Reader::from_str(name, text, options.reader.clone(), &mut diags);
    run(reader, diags, options, system)
}

fn run(
    mut reader: Reader,
    mut diags: Diagnostics,
    options: &LoadOptions,
    system: &dyn System,
) -> Loaded {
    // keepalived -t reads the configuration once per process, in this order: the
    // parent's (global) pass from the files, then the checker, VRRP and BFD passes from
    // the parent's consolidated copy. Each pass has only its own root keywords active;
    // the others' blocks are skipped by counting braces.
    let mut config = Config::default();
    let mut state = ParseState::default();
    let (global_parsed, lines) = {
        let mut ctx = Ctx::new(&mut reader, &mut diags, &mut config, &mut state);
        ctx.set_pass(Pass::Global);
        ctx.set_system(system);
        if !options.global_only {
            // The other passes replay these lines.
            ctx.record_lines();
        }
        let parsed = ctx.process_stream(&keywords::root_tables(), false);
        (parsed, ctx.take_recorded())
    };
    // What keepalived's later passes stop at is decided by what was read.
    diags.current_root_block = None;
    if !reader.opened() || reader.had_file_error() {
        // keepalived stops after reading: an unusable main file ends `-t` with what was
        // reported so far; a failed include check exits KEEPALIVED_EXIT_NO_CONFIG (6).
        if reader.had_file_error() {
            diags.exit_override = Some(6);
        }
        return finish(config, diags, reader);
    }
    if global_parsed.is_ok()
        && keywords::global::unenterable_net_namespace(&config, system).is_some()
    {
        // keepalived cannot enter the namespace: it stops right after the global pass
        // and exits 0, having printed only what that pass found, and validates nothing.
        diags.exit_override = Some(diag::exit_code::OK);
        return finish(config, diags, reader);
    }
    if options.global_only {
        if global_parsed.is_ok() {
            let mut v = Validation {
                cfg: &mut config,
                diags: &mut diags,
                system,
                options,
            };
            keywords::global::validate(&mut v);
        }
        return finish(config, diags, reader);
    }
    let mut aborted_in = global_parsed.is_err().then_some(Pass::Global);
    if aborted_in.is_none() {
        let global_config = config.clone();
        for pass in [Pass::Checker, Pass::Vrrp, Pass::Bfd] {
            // Each pass starts from what the global pass built, but the global data
            // carries what the earlier passes added to it (the default script user's
            // log, in keepalived's pass order).
            let mut pass_config = Config {
                global: std::mem::take(&mut config.global),
                ..global_config.clone()
            };
            let mut pass_state = ParseState::default();
            let mut pass_diags = Diagnostics::default();
            let mut ctx = Ctx::replay(
                &lines,
                &mut pass_diags,
                &mut pass_config,
                &mut pass_state,
                pass,
            );
            ctx.set_system(system);
            let parsed = ctx.process_stream(&keywords::root_tables(), false);
            merge_pass_diagnostics(&mut diags, pass_diags);
            // Each domain's model comes from its own process's pass.
            config.global = std::mem::take(&mut pass_config.global);
            match pass {
                Pass::Checker => {
                    config.lvs = pass_config.lvs;
                    config.bfd.checker_tracked = pass_config.bfd.checker_tracked;
                }
                Pass::Vrrp => {
                    config.vrrp = pass_config.vrrp;
                    config.bfd.vrrp_tracked = pass_config.bfd.vrrp_tracked;
                }
                Pass::Bfd => config.bfd.instances = pass_config.bfd.instances,
                Pass::Global | Pass::All => {}
            }
            if parsed.is_err() {
                aborted_in = Some(pass);
                break;
            }
        }
    }
    let active = script::ActiveDomains {
        vrrp: !config.vrrp.instances.is_empty(),
        checker: !config.lvs.virtual_servers.is_empty(),
    };
    let mut v = Validation {
        cfg: &mut config,
        diags: &mut diags,
        system,
        options,
    };
    if aborted_in.is_none() {
        let depth = reader.block_depth();
        if depth > 0 {
            v.diags.report(
                Level::MissingBlockEnd,
                None,
                format!("there are {depth} missing '}}'s or extra '{{'s"),
            );
        }
        keywords::global::validate(&mut v);
        keywords::vrrp::validate(&mut v);
        keywords::check::validate(&mut v);
        keywords::bfd::validate(&mut v);
        script::finish_script_security(&mut v, active);
    } else if aborted_in == Some(Pass::Bfd) {
        // The checker and VRRP processes' passes, validation included, were over when
        // the BFD pass exited.
        keywords::global::validate(&mut v);
        keywords::vrrp::validate(&mut v);
        keywords::check::validate(&mut v);
        script::finish_script_security(&mut v, active);
    } else {
        // keepalived exits in the pass that hit the missing parameter; host-dependent
        // findings of the global pass before it were still printed.
        if aborted_in == Some(Pass::Vrrp) {
            // The checker pass and its validation were over; the VRRP pass had already
            // looked up interfaces and script users for the lines before the abort.
            keywords::global::validate_after_abort_in(&mut v, model::global::ScriptDomain::Vrrp);
            keywords::check::validate(&mut v);
            keywords::vrrp::validate_after_abort(&mut v);
        } else {
            keywords::global::validate_after_abort(&mut v);
        }
    }
    if config.global.script_audit.config_test_killed {
        // keepalived -t kills itself (SIGTERM) checking a script run as another user.
        diags.exit_override = Some(128 + 15);
    }
    finish(config, diags, reader)
}

/// The loaded configuration, remembering the files it came from.
fn finish(mut config: Config, diags: Diagnostics, reader: Reader) -> Loaded {
    let sources = reader.into_sources();
    config.source_files = sources.files.iter().map(|f| f.path.clone()).collect();
    Loaded {
        config,
        diags,
        sources,
    }
}

/// Adds a later pass's findings, leaving out those an earlier pass already reported
/// (keepalived prints them once per pass; we print each once). Repeats within one
/// pass are kept.
fn merge_pass_diagnostics(diags: &mut Diagnostics, pass: Diagnostics) {
    let seen: std::collections::HashSet<(Level, Option<Span>, String)> = diags
        .items
        .iter()
        .map(|d| (d.level, d.span, d.message.clone()))
        .collect();
    diags.add_left_out(&pass);
    for d in pass.items {
        if !seen.contains(&(d.level, d.span, d.message.clone())) {
            diags.keep(d);
        }
    }
    diags.aborted |= pass.aborted;
    if pass.exit_override.is_some() {
        diags.exit_override = pass.exit_override;
    }
}
