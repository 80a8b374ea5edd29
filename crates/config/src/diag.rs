//! Diagnostics: what went wrong, where, and how bad it is.
//!
//! The severity ladder mirrors keepalived's `config_err_t` (lib/parser.h), because
//! `keepalived -t` derives its exit code from the *highest* level reported, and we must
//! exit with the same code as keepalived 2.2.7 for the same configuration.

use std::fmt::Write as _;

use crate::span::{SourceMap, Span};

/// How bad a diagnostic is, in keepalived's order (later is "higher").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    // The following mean keepalived cannot run the config.
    FileNotFound,
    BadInterface,
    Fatal,
    // Configuration errors, but keepalived will still run.
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBlockStart,
    MissingBlockStart,
    UnexpectedBlockEnd,
    MissingBlockEnd,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    GeneralError,
    Warning,
    Deprecated,
    // Script security not enabled when needed.
    Security,
    /// Informational only: printed, but never changes the exit code. Used for our own
    /// extra hints (keepalived logs these with log_message, not report_config_error).
    Note,
    /// Printed by keepalived with its file and line (so it counts as a flagged line),
    /// but with no effect on the exit code (e.g. an optional include that matched
    /// nothing).
    Logged,
}

impl Level {
    /// Whether this level prevents keepalived from running the configuration.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            Level::FileNotFound | Level::BadInterface | Level::Fatal
        )
    }

    /// A short word for the rendered diagnostic.
    pub fn label(self) -> &'static str {
        match self {
            Level::FileNotFound | Level::BadInterface | Level::Fatal => "fatal",
            Level::Security => "security",
            Level::Warning => "warning",
            Level::Deprecated => "deprecated",
            Level::Note | Level::Logged => "note",
            _ => "error",
        }
    }
}

/// One finding about the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// Where, when it belongs to a line (validation findings about a whole instance
    /// usually point at the instance's header line).
    pub span: Option<Span>,
    pub message: String,
    /// An extra hint, e.g. "did you mean `advert_int`?".
    pub help: Option<String>,
    /// The root keyword whose block was being read when this was found (`None` for
    /// root-level lines, the reader, and end-of-read validation). keepalived reads the
    /// file once per process with other domains' blocks inactive; this lets us tell
    /// which of its passes would have printed a finding.
    pub root_block: Option<&'static str>,
}

impl Diagnostic {
    pub fn new(level: Level, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            span,
            message: message.into(),
            help: None,
            root_block: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// `keepalived -t` exit codes as keepalived 2.2.7 really returns them
/// (`config_test_exit()` in keepalived/core/main.c, `enum chk_exit_code` in lib/scheduler.h).
/// The man page documents 3/4/5; the code returns 4/5/6, and the code is what users get.
pub mod exit_code {
    pub const OK: i32 = 0;
    /// The configuration cannot run (file not found, bad interface, fatal error).
    pub const UNRUNNABLE: i32 = 4;
    /// Errors were found, but keepalived would still run.
    pub const ERRORS: i32 = 5;
    /// Scripts are configured but script security is not enabled.
    pub const SECURITY: i32 = 6;
    /// Parsing was abandoned (a keyword missing a required parameter):
    /// keepalived exits with KEEPALIVED_EXIT_CONFIG.
    pub const ABORTED: i32 = 2;
}

/// How many diagnostics are kept. A configuration can make millions (a `~SEQ` over a
/// broken block repeats its errors on every generated line): keepalived prints them
/// all, which floods the log and costs gigabytes here; beyond this many we only count
/// them, keeping the exit code they imply, and say how many were left out.
pub const MAX_KEPT_DIAGNOSTICS: usize = 10_000;

/// Collects diagnostics in the order they are found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    /// The first [`MAX_KEPT_DIAGNOSTICS`] findings.
    pub items: Vec<Diagnostic>,
    /// Findings left out once `items` was full, and the highest level among them
    /// (it still decides the exit code).
    pub left_out: usize,
    left_out_max_level: Option<Level>,
    /// Parsing stopped early (a missing parameter: keepalived exits with
    /// KEEPALIVED_EXIT_CONFIG there, before any validation).
    pub aborted: bool,
    /// The root keyword whose block is being read (set by the parser).
    pub current_root_block: Option<&'static str>,
    /// Overrides the computed exit code (keepalived situations that end the process
    /// early, e.g. an unenterable `net_namespace` exits 0 after the global pass).
    pub exit_override: Option<i32>,
}

impl Diagnostics {
    pub fn push(&mut self, mut diagnostic: Diagnostic) {
        if diagnostic.root_block.is_none() {
            diagnostic.root_block = self.current_root_block;
        }
        self.keep(diagnostic);
    }

    /// Whether further findings are only counted: callers can skip composing them.
    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_KEPT_DIAGNOSTICS
    }

    /// Adds a finding as it is, or only counts it once [`MAX_KEPT_DIAGNOSTICS`] are kept.
    pub fn keep(&mut self, diagnostic: Diagnostic) {
        if self.is_full() {
            self.left_out += 1;
            if counts_for_exit(diagnostic.level) {
                self.left_out_max_level = self.left_out_max_level.max(Some(diagnostic.level));
            }
            return;
        }
        self.items.push(diagnostic);
    }

    pub fn report(&mut self, level: Level, span: Option<Span>, message: impl Into<String>) {
        self.push(Diagnostic::new(level, span, message));
    }

    /// The highest level that counts towards the exit code.
    pub fn max_level(&self) -> Option<Level> {
        self.items
            .iter()
            .map(|d| d.level)
            .filter(|l| counts_for_exit(*l))
            .max()
            .max(self.left_out_max_level)
    }

    /// The exit code `keepalived -t` gives for these findings.
    pub fn exit_code(&self) -> i32 {
        if let Some(code) = self.exit_override {
            return code;
        }
        if self.aborted {
            return exit_code::ABORTED;
        }
        match self.max_level() {
            None | Some(Level::Note | Level::Logged) => exit_code::OK,
            Some(l) if l.is_fatal() => exit_code::UNRUNNABLE,
            Some(Level::Security) => exit_code::SECURITY,
            Some(_) => exit_code::ERRORS,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.left_out == 0
    }

    /// Counts what `other` left out as left out here too.
    pub fn add_left_out(&mut self, other: &Diagnostics) {
        self.left_out += other.left_out;
        self.left_out_max_level = self.left_out_max_level.max(other.left_out_max_level);
    }

    /// Renders every diagnostic as `file:line:col: level: message` followed by the source
    /// line and a caret, like a compiler.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for d in &self.items {
            render_one(&mut out, d, sources);
        }
        if self.left_out > 0 {
            let _ = writeln!(out, "{}", self.left_out_line());
        }
        out
    }

    /// The line that says how many findings were not kept.
    pub fn left_out_line(&self) -> String {
        format!(
            "note: up to {} more diagnostics not shown (only the first {MAX_KEPT_DIAGNOSTICS} are kept)",
            self.left_out
        )
    }
}

fn counts_for_exit(level: Level) -> bool {
    !matches!(level, Level::Note | Level::Logged)
}

fn render_one(out: &mut String, d: &Diagnostic, sources: &SourceMap) {
    let location = d.span.and_then(|span| {
        let file = sources.get(span.file)?;
        Some((span, file))
    });
    match location {
        Some((span, file)) => {
            let col = if span.col == 0 {
                String::new()
            } else {
                format!(":{}", span.col)
            };
            let _ = writeln!(
                out,
                "{}:{}{}: {}: {}",
                file.path.display(),
                span.line,
                col,
                d.level.label(),
                d.message
            );
            if let Some(text) = file.line_text(span.line) {
                let gutter = span.line.to_string();
                let _ = writeln!(out, "{} | {}", gutter, text);
                if span.col > 0 {
                    let pad = " ".repeat(gutter.len());
                    let indent: String = text
                        .chars()
                        .take(usize::try_from(span.col - 1).unwrap_or(0))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let _ = writeln!(out, "{} | {}^", pad, indent);
                }
            }
        }
        None => {
            let _ = writeln!(out, "{}: {}", d.level.label(), d.message);
        }
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {}", help);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_follows_the_highest_level() {
        let mut d = Diagnostics::default();
        assert_eq!(d.exit_code(), 0);
        d.report(Level::Note, None, "fyi");
        assert_eq!(d.exit_code(), 0);
        d.report(Level::BadInterface, None, "no eth9");
        assert_eq!(d.exit_code(), 4);
        d.report(Level::UnknownKeyword, None, "foo");
        assert_eq!(
            d.exit_code(),
            5,
            "a later, higher level wins over a fatal one"
        );
        d.report(Level::Security, None, "scripts");
        assert_eq!(d.exit_code(), 6);
    }

    #[test]
    fn findings_beyond_the_cap_are_counted_and_still_decide_the_exit_code() {
        let mut d = Diagnostics::default();
        for _ in 0..MAX_KEPT_DIAGNOSTICS {
            d.report(Level::Warning, None, "w");
        }
        assert_eq!(d.exit_code(), exit_code::ERRORS);
        d.report(Level::Note, None, "left out, no effect on the exit code");
        assert_eq!(d.exit_code(), exit_code::ERRORS);
        d.report(
            Level::Security,
            None,
            "left out, but it decides the exit code",
        );
        assert_eq!(d.items.len(), MAX_KEPT_DIAGNOSTICS);
        assert_eq!(d.left_out, 2);
        assert_eq!(d.exit_code(), exit_code::SECURITY);
        let rendered = d.render(&SourceMap::default());
        assert!(
            rendered.ends_with(&format!("{}\n", d.left_out_line())),
            "{}",
            &rendered[rendered.len().saturating_sub(200)..]
        );
    }

    #[test]
    fn render_points_at_the_column() {
        let mut sources = SourceMap::default();
        let f = sources.add(
            std::path::Path::new("k.conf"),
            "a\n  advert_intt 1\n".into(),
        );
        let mut d = Diagnostics::default();
        d.push(
            Diagnostic::new(
                Level::UnknownKeyword,
                Some(Span::line(f, 2).with_col(3)),
                "unknown keyword `advert_intt`",
            )
            .with_help("did you mean `advert_int`?"),
        );
        let text = d.render(&sources);
        assert_eq!(
            text,
            "k.conf:2:3: error: unknown keyword `advert_intt`\n2 |   advert_intt 1\n  |   ^\n  = help: did you mean `advert_int`?\n"
        );
    }
}
