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

pub use diag::{Diagnostic, Diagnostics, Level};
pub use model::Config;
pub use reader::ReaderOptions;
pub use span::{SourceMap, Span};
pub use system::{FakeSystem, HostSystem, System};

use parser::{Ctx, ParseState};
use reader::Reader;

/// How to load a configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub reader: ReaderOptions,
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
    let mut config = Config::default();
    let mut state = ParseState::default();
    let parsed = {
        let mut ctx = Ctx::new(&mut reader, &mut diags, &mut config, &mut state);
        ctx.process_stream(&keywords::root_tables(), false)
    };
    // What keepalived's later passes stop at is decided by what was read.
    diags.current_root_block = None;
    if !reader.opened() || reader.had_file_error() {
        // keepalived stops after reading: an unusable main file ends `-t` with what was
        // reported so far; a failed include check exits KEEPALIVED_EXIT_NO_CONFIG (6).
        if reader.had_file_error() {
            diags.exit_override = Some(6);
        }
        return Loaded {
            config,
            diags,
            sources: reader.into_sources(),
        };
    }
    let active = script::ActiveDomains {
        vrrp: !config.vrrp.instances.is_empty(),
        checker: !config.lvs.virtual_servers.is_empty(),
    };
    if keywords::global::unenterable_net_namespace(&config, system).is_some() {
        // keepalived cannot enter the namespace: it stops right after the global pass
        // and exits 0, having printed only what that pass found (reader findings,
        // root-level lines and the global blocks), and validates nothing.
        let global_roots: Vec<&str> = keywords::global::ROOT.iter().map(|k| k.name).collect();
        diags
            .items
            .retain(|d| d.root_block.is_none_or(|root| global_roots.contains(&root)));
        diags.exit_override = Some(diag::exit_code::OK);
        return Loaded {
            config,
            diags,
            sources: reader.into_sources(),
        };
    }
    let mut v = Validation {
        cfg: &mut config,
        diags: &mut diags,
        system,
        options,
    };
    if parsed.is_ok() {
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
    } else {
        // keepalived exits in the pass that hit the missing parameter; host-dependent
        // findings of the global pass before it were still printed.
        keywords::global::validate_after_abort(&mut v);
        // An abort inside a VRRP block happened in keepalived's VRRP pass, which had
        // already looked up interfaces and script users for the lines before it.
        let vrrp_roots: Vec<&str> = keywords::vrrp::ROOT.iter().map(|k| k.name).collect();
        let aborted_in_vrrp = v
            .diags
            .items
            .iter()
            .rev()
            .find(|d| d.level == Level::MissingParameter)
            .and_then(|d| d.root_block)
            .is_some_and(|root| vrrp_roots.contains(&root));
        if aborted_in_vrrp {
            keywords::vrrp::validate_after_abort(&mut v);
        }
    }
    if config.global.script_audit.config_test_killed {
        // keepalived -t kills itself (SIGTERM) checking a script run as another user.
        diags.exit_override = Some(128 + 15);
    }
    Loaded {
        config,
        diags,
        sources: reader.into_sources(),
    }
}
