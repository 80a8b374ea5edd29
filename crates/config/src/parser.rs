//! The keyword-table engine: keepalived's `process_stream()` and `alloc_value_block()`
//! (lib/parser.c) in Rust.
//!
//! keepalived's grammar is line-oriented and driven by keyword tables: a keyword either
//! takes the rest of its line, or opens a `{ ... }` block whose lines are looked up in the
//! keyword's sub-table. Unknown keywords are reported and skipped *without* skipping any
//! block they open, and a stray `}` ends the current block. We reproduce that exactly, so
//! that `keepalived -t` and we flag the same lines for the same (even malformed) input.
//!
//! Handlers receive a [`Ctx`] and the [`Line`]; they fill in the [`Config`] model and
//! report diagnostics. A missing parameter aborts the whole parse, as upstream does
//! (`null_strvec()` exits with KEEPALIVED_EXIT_CONFIG).

use std::collections::HashMap;
use std::rc::Rc;

use crate::Config;
use crate::diag::{Diagnostic, Diagnostics, Level};
use crate::reader::{Line, Reader};
use crate::span::Span;

/// Returned by a handler to stop parsing altogether (keepalived exits at that point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort;

pub type HandlerResult = Result<(), Abort>;
pub type Handler = fn(&mut Ctx<'_>, &Line) -> HandlerResult;
pub type CloseHandler = fn(&mut Ctx<'_>) -> HandlerResult;

/// One entry of a keyword table.
#[derive(Clone, Copy)]
pub struct Keyword {
    pub name: &'static str,
    pub handler: Option<Handler>,
    /// Keywords allowed inside this keyword's `{ }` block.
    pub sub: Option<&'static [Keyword]>,
    /// Run when the block closes (keepalived's `sub_close_handler`).
    pub close: Option<CloseHandler>,
}

impl Keyword {
    /// A keyword that takes the rest of its line (or reads its own value block).
    pub const fn new(name: &'static str, handler: Handler) -> Keyword {
        Keyword {
            name,
            handler: Some(handler),
            sub: None,
            close: None,
        }
    }

    /// A keyword that opens a block of sub-keywords.
    pub const fn block(
        name: &'static str,
        handler: Option<Handler>,
        sub: &'static [Keyword],
        close: Option<CloseHandler>,
    ) -> Keyword {
        Keyword {
            name,
            handler,
            sub: Some(sub),
            close,
        }
    }
}

impl std::fmt::Debug for Keyword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyword").field("name", &self.name).finish()
    }
}

/// Per-domain scratch state that handlers keep while a block is open (keepalived keeps
/// the same in file-level statics). Each domain module owns its own struct.
#[derive(Debug, Default)]
pub struct ParseState {
    pub global: crate::keywords::global::State,
    pub vrrp: crate::keywords::vrrp::State,
    pub check: crate::keywords::check::State,
}

/// Which of keepalived's configuration passes is being run. keepalived reads the
/// configuration once per process (parent/global, checker, VRRP, BFD); in each pass
/// only some root keywords are active, the others' blocks are skipped by counting
/// braces (lib/parser.c `process_stream()`, `keyword_vec->active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Every root keyword active (a single combined pass).
    All,
    /// The parent's pass (core/main.c `global_init_keywords()`).
    Global,
    /// check/check_parser.c `check_init_keywords()`.
    Checker,
    /// vrrp/vrrp_parser.c `vrrp_init_keywords()`.
    Vrrp,
    /// bfd/bfd_parser.c `bfd_init_keywords()`.
    Bfd,
}

/// A line as the reader handed it out, with the reader's current span at that time.
#[derive(Debug, Clone)]
pub struct RecordedLine {
    line: Rc<Line>,
    span: Option<Span>,
    /// Whether a word is `{` or `}`: a skipped block's lines without one change
    /// nothing and are passed over without looking at them.
    has_brace: bool,
}

/// Where lines come from: the reader (first pass), or the lines the first pass read
/// (keepalived's later passes re-read its consolidated copy of the configuration).
enum LineSource<'a> {
    Reader {
        reader: &'a mut Reader,
        record: Option<Vec<RecordedLine>>,
        /// The current line is an unterminated last line (see
        /// [`Reader::current_line_unterminated`]): this pass reports it one line up.
        unterminated: bool,
    },
    Replay {
        lines: &'a [RecordedLine],
        next: usize,
        current: Option<Span>,
    },
}

/// What a handler can see and do.
pub struct Ctx<'a> {
    source: LineSource<'a>,
    /// Which root keywords are active.
    pass: Pass,
    pub diags: &'a mut Diagnostics,
    pub cfg: &'a mut Config,
    pub state: &'a mut ParseState,
    /// keepalived's `skip_sublevel`: 0 = not skipping, -1 = skip the block that may start
    /// on the next line, n > 0 = inside a skipped block at depth n.
    skip: i64,
    /// keepalived's `kw_level`: how deep in keyword blocks we are.
    kw_level: u32,
    /// The host, for handlers that look an interface up while reading as keepalived
    /// does (`None`: such checks are left to validation).
    system: Option<&'a dyn crate::System>,
    /// "Did you mean" answers by unknown word and keyword tables: a `~SEQ` or an include
    /// repeats the same typo on thousands of lines, and each search is an edit distance
    /// against every keyword of the block.
    suggestions: HashMap<(String, Vec<usize>), Option<&'static str>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        reader: &'a mut Reader,
        diags: &'a mut Diagnostics,
        cfg: &'a mut Config,
        state: &'a mut ParseState,
    ) -> Ctx<'a> {
        Ctx {
            source: LineSource::Reader {
                reader,
                record: None,
                unterminated: false,
            },
            pass: Pass::All,
            diags,
            cfg,
            state,
            skip: 0,
            kw_level: 0,
            system: None,
            suggestions: HashMap::new(),
        }
    }

    /// A context for a later pass that re-reads the lines recorded by the first.
    pub fn replay(
        lines: &'a [RecordedLine],
        diags: &'a mut Diagnostics,
        cfg: &'a mut Config,
        state: &'a mut ParseState,
        pass: Pass,
    ) -> Ctx<'a> {
        Ctx {
            source: LineSource::Replay {
                lines,
                next: 0,
                current: None,
            },
            pass,
            diags,
            cfg,
            state,
            skip: 0,
            kw_level: 0,
            system: None,
            suggestions: HashMap::new(),
        }
    }

    /// Which pass is being run (handlers whose keyword several processes read differently
    /// act as the pass's process does).
    pub fn pass(&self) -> Pass {
        self.pass
    }

    /// Lets handlers look interfaces up while reading (see [`Ctx::interface_known`]).
    pub fn set_system(&mut self, system: &'a dyn crate::System) {
        self.system = Some(system);
    }

    /// Whether interface `name` can be used now (keepalived's `if_get_by_ifname()`
    /// with `dynamic_interfaces`): `None` when no host was given.
    pub fn interface_known(&self, name: &str) -> Option<bool> {
        let system = self.system?;
        Some(self.cfg.global.dynamic_interfaces || system.interface_exists(name))
    }

    /// Sets which root keywords are active.
    pub fn set_pass(&mut self, pass: Pass) {
        self.pass = pass;
    }

    /// Keeps every line read from the reader, for later passes ([`Ctx::take_recorded`]).
    pub fn record_lines(&mut self) {
        if let LineSource::Reader { record, .. } = &mut self.source {
            *record = Some(Vec::new());
        }
    }

    /// The lines recorded since [`Ctx::record_lines`].
    pub fn take_recorded(&mut self) -> Vec<RecordedLine> {
        match &mut self.source {
            LineSource::Reader { record, .. } => record.take().unwrap_or_default(),
            LineSource::Replay { .. } => Vec::new(),
        }
    }

    /// The next line, shared with the record so that passes copy no lines.
    fn next_line(&mut self) -> Option<Rc<Line>> {
        match &mut self.source {
            LineSource::Reader {
                reader,
                record,
                unterminated,
            } => {
                let reported_before = self.diags.items.len();
                let line = Rc::new(reader.next_line(self.diags)?);
                *unterminated = reader.current_line_unterminated();
                if *unterminated {
                    // The reader's findings on this line are made by every keepalived
                    // pass: the first reports them one line up.
                    let here = reader.current_span();
                    let first_parse: Vec<Diagnostic> = self
                        .diags
                        .items
                        .get(reported_before..)
                        .unwrap_or_default()
                        .iter()
                        .filter(|d| d.span.is_some() && d.span == here)
                        .map(|d| Diagnostic {
                            span: d.span.map(one_line_up),
                            ..d.clone()
                        })
                        .collect();
                    for d in first_parse {
                        self.diags.keep(d);
                    }
                }
                if let Some(record) = record {
                    record.push(RecordedLine {
                        line: Rc::clone(&line),
                        span: reader.current_span(),
                        has_brace: line.words().any(|w| w == "{" || w == "}"),
                    });
                }
                if *unterminated {
                    let mut first_parse = Line::clone(&line);
                    first_parse.span = one_line_up(first_parse.span);
                    return Some(Rc::new(first_parse));
                }
                Some(line)
            }
            LineSource::Replay {
                lines,
                next,
                current,
            } => match lines.get(*next) {
                Some(recorded) => {
                    *next += 1;
                    *current = recorded.span;
                    Some(Rc::clone(&recorded.line))
                }
                None => {
                    *current = None;
                    None
                }
            },
        }
    }

    /// Span of the line most recently read.
    pub fn current_span(&self) -> Option<Span> {
        match &self.source {
            LineSource::Reader {
                reader,
                unterminated,
                ..
            } => reader.current_span().map(|span| {
                if *unterminated {
                    one_line_up(span)
                } else {
                    span
                }
            }),
            LineSource::Replay { current, .. } => *current,
        }
    }

    /// Reports at the line most recently read, as keepalived does.
    pub fn report(&mut self, level: Level, message: impl Into<String>) {
        let span = self.current_span();
        self.diags.report(level, span, message);
    }

    /// Reports at an explicit position (e.g. a particular word).
    pub fn report_at(&mut self, level: Level, span: Span, message: impl Into<String>) {
        self.diags.report(level, Some(span), message);
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Word `index` of `line`. A missing word is a fatal parse error, like keepalived's
    /// `null_strvec()` which exits the process.
    pub fn arg<'l>(&mut self, line: &'l Line, index: usize) -> Result<&'l str, Abort> {
        match line.word(index) {
            Some(w) => Ok(w),
            None => {
                let keyword = line.word(0).unwrap_or("");
                let message = match index.checked_sub(1).and_then(|p| line.word(p)) {
                    Some(prev) => format!(
                        "line starting `{keyword}` is missing a parameter after `{prev}` (word {})",
                        index + 1
                    ),
                    None => format!(
                        "line starting `{keyword}` is missing a parameter (word {})",
                        index + 1
                    ),
                };
                self.report_at(Level::MissingParameter, line.span, message);
                self.diags.aborted = true;
                Err(Abort)
            }
        }
    }

    /// Applies `include_check` to the files included from here on (keepalived sets it
    /// while reading, so it affects later includes only).
    pub fn set_include_check(
        &mut self,
        read: bool,
        match_: bool,
        wildcard_match: bool,
        brace_match: bool,
    ) {
        // Later passes re-read the first pass's lines: includes are already resolved.
        if let LineSource::Reader { reader, .. } = &mut self.source {
            reader.set_include_check(read, match_, wildcard_match, brace_match);
        }
    }

    /// Stops processing the rest of the current block (keepalived's `skip_block()`).
    pub fn skip_block(&mut self, need_block_start: bool) {
        self.skip = if need_block_start { -1 } else { 1 };
    }

    /// keepalived's `read_unsigned_strvec()`: base-10 unsigned in `[min, max]`.
    /// Reports and returns `None` when invalid.
    pub fn read_unsigned(
        &mut self,
        line: &Line,
        index: usize,
        min: u32,
        max: u32,
    ) -> Result<Option<u32>, Abort> {
        self.read_unsigned_base(line, index, 10, min, max)
    }

    /// keepalived's `read_unsigned_base_strvec()` with an explicit base (0 = auto).
    pub fn read_unsigned_base(
        &mut self,
        line: &Line,
        index: usize,
        base: u32,
        min: u32,
        max: u32,
    ) -> Result<Option<u32>, Abort> {
        let word = self.arg(line, index)?;
        let span = line.span_of(index);
        Ok(self
            .parse_unsigned(
                word,
                span,
                base,
                u64::from(min),
                u64::from(max),
                u64::from(u32::MAX),
            )
            .and_then(|v| u32::try_from(v).ok()))
    }

    /// keepalived's `read_unsigned64_strvec()`.
    pub fn read_unsigned64(
        &mut self,
        line: &Line,
        index: usize,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, Abort> {
        let word = self.arg(line, index)?;
        let span = line.span_of(index);
        Ok(self.parse_unsigned(word, span, 10, min, max, u64::MAX))
    }

    /// Parses an unsigned number from a string that did not come from a line word.
    pub fn parse_unsigned(
        &mut self,
        word: &str,
        span: Span,
        base: u32,
        min: u64,
        max: u64,
        type_max: u64,
    ) -> Option<u64> {
        let trimmed = word.trim_start_matches(is_c_space);
        if trimmed.starts_with('-') {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("negative number '{word}'"),
            );
            return None;
        }
        // A value past the C type's range is strtoul()'s overflow for that type.
        let parsed = match strtou(trimmed, base) {
            StrToU::Value(v) if v > type_max => StrToU::Overflow,
            parsed => parsed,
        };
        match parsed {
            StrToU::Invalid => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("invalid number '{word}'"),
                );
                None
            }
            StrToU::Overflow => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("number '{word}' is too large"),
                );
                None
            }
            StrToU::Value(v) if v < min || v > max => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("number '{word}' outside range [{min}, {max}]"),
                );
                None
            }
            StrToU::Value(v) => Some(v),
        }
    }

    /// keepalived's `read_int_strvec()`: base-10 signed in `[min, max]`.
    pub fn read_int(
        &mut self,
        line: &Line,
        index: usize,
        min: i32,
        max: i32,
    ) -> Result<Option<i32>, Abort> {
        let word = self.arg(line, index)?;
        let span = line.span_of(index);
        Ok(self.parse_int(word, span, min, max))
    }

    /// Parses a signed number from any string.
    pub fn parse_int(&mut self, word: &str, span: Span, min: i32, max: i32) -> Option<i32> {
        let trimmed = word.trim_start_matches(is_c_space);
        let (negative, digits) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let magnitude = match strtou(digits, 10) {
            StrToU::Value(v) if !digits.starts_with(['+', '-']) => Some(v),
            StrToU::Overflow => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("number '{word}' outside integer range"),
                );
                return None;
            }
            _ => None,
        };
        let Some(magnitude) = magnitude else {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("invalid number '{word}'"),
            );
            return None;
        };
        let value = i128::from(magnitude) * if negative { -1 } else { 1 };
        if value < i128::from(i32::MIN) || value > i128::from(i32::MAX) {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("number '{word}' outside integer range"),
            );
            return None;
        }
        if value < i128::from(min) || value > i128::from(max) {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("number '{word}' outside range [{min}, {max}]"),
            );
            return None;
        }
        i32::try_from(value).ok()
    }

    /// keepalived's `read_decimal_unsigned_strvec()`: a non-negative decimal with up to
    /// `shift` decimal places, returned multiplied by 10^shift. `min`/`max` are in those
    /// units. Too many decimal places is reported and the value rounded.
    pub fn read_decimal(
        &mut self,
        line: &Line,
        index: usize,
        min: u64,
        max: u64,
        shift: u32,
    ) -> Result<Option<u64>, Abort> {
        let word = self.arg(line, index)?;
        let span = line.span_of(index);
        Ok(self.parse_decimal(word, span, min, max, shift))
    }

    /// Parses a fixed-point decimal from any string (see [`Ctx::read_decimal`]).
    pub fn parse_decimal(
        &mut self,
        word: &str,
        span: Span,
        min: u64,
        max: u64,
        shift: u32,
    ) -> Option<u64> {
        if word.starts_with('-') {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("negative number '{word}'"),
            );
            return None;
        }
        let (int_part, frac_part) = match word.find('.') {
            Some(dot) => (&word[..dot], &word[dot + 1..]),
            None => (word, ""),
        };
        let shift_usize = usize::try_from(shift).unwrap_or(0);
        let mut round_up = false;
        let frac_used = if frac_part.len() > shift_usize {
            self.report_at(
                Level::InvalidNumber,
                span,
                format!("number '{word}' has too many decimal places"),
            );
            round_up = frac_part
                .as_bytes()
                .get(shift_usize)
                .is_some_and(|c| *c >= b'5');
            // Cut at the byte, as keepalived does; a cut inside a multi-byte character
            // leaves a non-digit in the number either way, so keep it whole: invalid.
            frac_part.get(..shift_usize).unwrap_or(frac_part)
        } else {
            frac_part
        };
        let mut digits = String::with_capacity(int_part.len() + shift_usize);
        digits.push_str(int_part);
        digits.push_str(frac_used);
        for _ in frac_used.len()..shift_usize {
            digits.push('0');
        }
        let trimmed = digits.trim_start_matches(is_c_space);
        let value = match strtou(trimmed, 10) {
            StrToU::Value(v) => v.saturating_add(u64::from(round_up)),
            StrToU::Invalid => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("invalid number '{word}'"),
                );
                return None;
            }
            StrToU::Overflow => {
                self.report_at(
                    Level::InvalidNumber,
                    span,
                    format!("number '{word}' is too large"),
                );
                return None;
            }
        };
        if value < min || value > max {
            let scale = 10u64.pow(shift);
            let w = shift_usize;
            self.report_at(
                Level::InvalidNumber,
                span,
                format!(
                    "number '{word}' outside range [{}.{:0w$}, {}.{:0w$}]",
                    min / scale,
                    min % scale,
                    max / scale,
                    max % scale
                ),
            );
            return None;
        }
        Some(value)
    }

    /// keepalived's `read_timer()`: seconds with up to 6 decimal places, returned in
    /// microseconds; `max_us` 0 means keepalived's TIMER_MAXIMUM.
    pub fn read_timer(
        &mut self,
        line: &Line,
        index: usize,
        min_us: u64,
        max_us: u64,
    ) -> Result<Option<u64>, Abort> {
        let max = if max_us == 0 {
            TIMER_MAXIMUM_US
        } else {
            max_us
        };
        self.read_decimal(line, index, min_us, max, 6)
    }

    /// keepalived's `check_true_false()`: `Some(true)` for on/true/yes, `Some(false)`
    /// for off/false/no, `None` otherwise (not reported: callers word their own error).
    pub fn parse_bool(word: &str) -> Option<bool> {
        match word {
            "true" | "on" | "yes" => Some(true),
            "false" | "off" | "no" => Some(false),
            _ => None,
        }
    }

    /// For a flag keyword with an optional boolean: no word means true, a valid boolean
    /// is used, anything else is reported and `None` returned.
    pub fn read_optional_bool(&mut self, line: &Line, index: usize) -> Option<bool> {
        match line.word(index) {
            None => Some(true),
            Some(w) => match Ctx::parse_bool(w) {
                Some(b) => Some(b),
                None => {
                    let keyword = line.word(0).unwrap_or("");
                    self.report_at(
                        Level::GeneralError,
                        line.span_of(index),
                        format!("invalid value '{w}' for {keyword} (expected on/off, true/false or yes/no)"),
                    );
                    None
                }
            },
        }
    }

    /// Reads a value block (keepalived's `alloc_value_block()`): the lines of
    /// `keyword { ... }` (the `{` may be on the keyword line, on the next line, or the
    /// whole block on one line), calling `each` for every line inside with the
    /// reader's current position set to that line. Braces are removed from the lines.
    pub fn value_block<F>(&mut self, line: &Line, each: F) -> HandlerResult
    where
        F: FnMut(&mut Ctx<'_>, &Line) -> HandlerResult,
    {
        self.value_block_impl(line, false, each)
    }

    /// [`Ctx::value_block`] for a block keepalived reads with no keyword name in its
    /// word list (`virtual_server_group NAME { ... }`: word 0 is unset): where it would
    /// name the block in a message (a missing '{', extra parameters) it aborts instead,
    /// as its `strvec_slot()` of the unset word does.
    pub fn value_block_unnamed<F>(&mut self, line: &Line, each: F) -> HandlerResult
    where
        F: FnMut(&mut Ctx<'_>, &Line) -> HandlerResult,
    {
        self.value_block_impl(line, true, each)
    }

    fn abort_unset_word(&mut self, span: Span) -> Abort {
        self.report_at(
            Level::MissingParameter,
            span,
            "a line is missing its first word (the block has no name here)",
        );
        self.diags.aborted = true;
        Abort
    }

    fn value_block_impl<F>(&mut self, line: &Line, unnamed: bool, mut each: F) -> HandlerResult
    where
        F: FnMut(&mut Ctx<'_>, &Line) -> HandlerResult,
    {
        let mut need_block_start = true;
        let mut had_block_end = false;
        let mut first: Option<Line> = None;
        if line.len() > 1 {
            if line.word(1) == Some("{") {
                need_block_start = false;
                if line.len() > 2 {
                    let mut rest = line.clone();
                    rest.tokens.drain(..2);
                    if rest.tokens.last().is_some_and(|t| t.text == "}") {
                        rest.tokens.pop();
                        had_block_end = true;
                    }
                    first = Some(rest);
                }
            } else if unnamed {
                return Err(self.abort_unset_word(line.span));
            } else {
                let keyword = line.word(0).unwrap_or("");
                let extra = line.word(1).unwrap_or("");
                self.report(
                    Level::GeneralError,
                    format!("block {keyword} has extra parameters {extra} ..."),
                );
            }
        }
        loop {
            let mut current = match first.take() {
                Some(l) => l,
                None => {
                    if had_block_end {
                        break;
                    }
                    let Some(next) = self.next_line() else {
                        break;
                    };
                    let mut next = Rc::unwrap_or_clone(next);
                    if need_block_start {
                        need_block_start = false;
                        if next.word(0) == Some("{") {
                            if next.len() == 1 {
                                continue;
                            }
                            next.tokens.remove(0);
                        } else if unnamed {
                            return Err(self.abort_unset_word(next.span));
                        } else {
                            let keyword = line.word(0).unwrap_or("").to_string();
                            self.diags.push(Diagnostic::new(
                                Level::Note,
                                Some(next.span),
                                format!("'{{' missing from beginning of block {keyword}"),
                            ));
                        }
                    }
                    if next.tokens.last().is_some_and(|t| t.text == "}") {
                        if next.len() == 1 {
                            break;
                        }
                        had_block_end = true;
                        next.tokens.pop();
                    }
                    next
                }
            };
            if !current.is_empty() {
                each(self, &current)?;
            }
            current.tokens.clear();
            if had_block_end {
                break;
            }
        }
        Ok(())
    }

    /// Collects a value block's words (keepalived's `read_value_block()`).
    pub fn read_value_block(&mut self, line: &Line) -> Result<Vec<String>, Abort> {
        let mut words = Vec::new();
        self.value_block(line, |_, l| {
            words.extend(l.words().map(str::to_string));
            Ok(())
        })?;
        Ok(words)
    }

    /// keepalived's `process_stream()`. Returns `Ok(true)` when the block was ended by
    /// the end of a skipped block (so its close handler must not run).
    pub fn process_stream(
        &mut self,
        tables: &[&'static [Keyword]],
        need_block_start: bool,
    ) -> Result<bool, Abort> {
        let mut need_bob = need_block_start;
        loop {
            self.pass_over_plain_skipped_lines();
            let Some(line) = self.next_line() else { break };
            if self.kw_level == 0 && self.skip == 0 {
                self.diags.current_root_block = None;
            }
            let Some(first) = line.word(0) else { continue };

            if self.skip == -1 {
                if first == "{" {
                    self.skip = 1;
                    need_bob = false;
                    continue;
                }
                self.skip = 0;
            }
            if self.skip != 0 {
                let mut last = first;
                for word in line.words() {
                    last = word;
                    if word == "{" {
                        self.skip += 1;
                    } else if word == "}" {
                        self.skip -= 1;
                        if self.skip == 0 {
                            break;
                        }
                    }
                }
                if last == "}" && self.skip == 0 && self.kw_level > 0 {
                    return Ok(true);
                }
                continue;
            }

            if need_bob {
                need_bob = false;
                if first == "{" && self.kw_level > 0 {
                    continue;
                }
                self.report(
                    Level::MissingBlockStart,
                    "missing '{' at the beginning of a block",
                );
            } else if first == "{" {
                self.report(Level::UnexpectedBlockStart, "unexpected '{' - ignored");
                continue;
            }

            if first == "}" && self.kw_level > 0 {
                break;
            }

            let Some(keyword) = tables
                .iter()
                .flat_map(|t| t.iter())
                .find(|k| k.name == first)
            else {
                self.report_unknown(&line, tables);
                continue;
            };

            if self.kw_level == 0
                && self.pass != Pass::All
                && !crate::keywords::root_active(self.pass, keyword.name)
            {
                // keepalived: an inactive root keyword's block is skipped by counting
                // braces, from its own line if that ends with '{', else from the next
                // line if that is a '{' (otherwise nothing is skipped). Its sub-keywords
                // are not installed, so there is no nested pass over the block. Its
                // handler still runs without arguments, which is how keepalived's parent
                // learns which processes have work.
                if self.pass == Pass::Global {
                    self.cfg.present.note_root(keyword.name);
                }
                self.skip = if line.tokens.last().is_some_and(|t| t.text == "{") {
                    1
                } else {
                    -1
                };
                continue;
            }

            let mut line = line;
            let mut bob_needed = false;
            if keyword.sub.is_some() {
                if line.tokens.last().is_some_and(|t| t.text == "{") {
                    Rc::make_mut(&mut line).tokens.pop();
                } else {
                    bob_needed = true;
                }
            }
            let at_root = self.kw_level == 0;
            if at_root {
                self.diags.current_root_block = Some(keyword.name);
            }
            if let Some(handler) = keyword.handler {
                handler(self, &line)?;
            }
            if let Some(sub) = keyword.sub {
                self.kw_level += 1;
                let skipped = self.process_stream(&[sub], bob_needed);
                self.kw_level -= 1;
                let skipped = skipped?;
                if !skipped && let Some(close) = keyword.close {
                    close(self)?;
                }
            }
        }
        Ok(false)
    }

    /// Inside a skipped block (when replaying), lines without a brace change nothing:
    /// pass over them without copying or looking at them.
    fn pass_over_plain_skipped_lines(&mut self) {
        if self.skip <= 0 {
            return;
        }
        if let LineSource::Replay {
            lines,
            next,
            current,
        } = &mut self.source
        {
            while let Some(recorded) = lines.get(*next) {
                if recorded.has_brace {
                    break;
                }
                *current = recorded.span;
                *next += 1;
            }
        }
    }

    fn report_unknown(&mut self, line: &Line, tables: &[&'static [Keyword]]) {
        if self.diags.is_full() {
            // Only counted: no message, and no "did you mean" search (an edit distance
            // against every keyword of the tables, for each of millions of lines).
            self.diags
                .push(Diagnostic::new(Level::UnknownKeyword, None, String::new()));
            return;
        }
        let word = line.word(0).unwrap_or("");
        let mut d = Diagnostic::new(
            Level::UnknownKeyword,
            Some(line.span_of(0)),
            format!("unknown keyword '{word}'"),
        );
        // The tables are static: their addresses name them.
        let key = (
            word.to_string(),
            tables.iter().map(|t| t.as_ptr() as usize).collect(),
        );
        let best = *self.suggestions.entry(key).or_insert_with(|| {
            did_you_mean(word, tables.iter().flat_map(|t| t.iter()).map(|k| k.name))
        });
        if let Some(best) = best {
            d = d.with_help(format!("did you mean '{best}'?"));
        }
        self.diags.push(d);
    }
}

fn one_line_up(span: Span) -> Span {
    Span {
        line: span.line.saturating_sub(1),
        ..span
    }
}

/// keepalived's TIMER_MAXIMUM (in microseconds): ULONG_MAX / TIMER_HZ on 64-bit.
pub const TIMER_MAXIMUM_US: u64 = u64::MAX / 1_000_000;

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

enum StrToU {
    Value(u64),
    Invalid,
    Overflow,
}

/// C `strtoul()` followed by a "whole string consumed" check, for the bases keepalived
/// uses (0 = auto-detect 0x/0 prefixes, 8, 10, 16). An empty string is 0, as in C.
fn strtou(s: &str, base: u32) -> StrToU {
    let s = s.strip_prefix('+').unwrap_or(s);
    let (digits, radix) = match base {
        0 => {
            if let Some(rest) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                (rest, 16)
            } else if s.len() > 1 && s.starts_with('0') {
                (&s[1..], 8)
            } else {
                (s, 10)
            }
        }
        16 => (
            s.strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s),
            16,
        ),
        b => (s, b),
    };
    if digits.is_empty() {
        // strtoul of "" (or of "0x" with nothing after) consumes nothing: 0, end at start.
        return if s.is_empty() {
            StrToU::Value(0)
        } else {
            StrToU::Invalid
        };
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return StrToU::Invalid;
        };
        match value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        StrToU::Overflow
    } else {
        StrToU::Value(value)
    }
}

/// The closest known keyword to a misspelt one, if it is close enough to be a typo (the
/// first of the closest, in the candidates' order).
pub fn did_you_mean<'k>(word: &str, candidates: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    let word: Vec<char> = word.chars().collect();
    let limit = (word.len() / 3).clamp(1, 3);
    let mut rows = (Vec::new(), Vec::new());
    let mut best: Option<(usize, &'k str)> = None;
    for candidate in candidates {
        // Only a strictly closer keyword can replace the one found: the bound shrinks as
        // the search goes, and most keywords are ruled out by their length alone.
        let bound = match best {
            None => limit,
            Some((0, _)) => break,
            Some((d, _)) => d - 1,
        };
        if let Some(d) = edit_distance_within(&word, candidate, bound, &mut rows) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance between `a` and `b` if it is at most `bound`, else `None`; stops
/// as soon as a row exceeds the bound. `rows` is scratch space reused between calls
/// (an unknown keyword is compared with every keyword of its block).
fn edit_distance_within(
    a: &[char],
    b: &str,
    bound: usize,
    rows: &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    let b_len = b.chars().count();
    // The distance is at least the difference in length.
    if a.len().abs_diff(b_len) > bound {
        return None;
    }
    let (prev, cur) = rows;
    prev.clear();
    prev.extend(0..=b_len);
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        let mut row_min = i + 1;
        for (j, cb) in b.chars().enumerate() {
            let cost = usize::from(*ca != cb);
            let d = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(d);
            cur.push(d);
        }
        // Every later row is at least this row's minimum.
        if row_min > bound {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    Some(prev[b_len]).filter(|d| *d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos_only() {
        let names = ["advert_int", "priority", "state"];
        assert_eq!(
            did_you_mean("advert_intt", names.iter().copied()),
            Some("advert_int")
        );
        assert_eq!(
            did_you_mean("prority", names.iter().copied()),
            Some("priority")
        );
        assert_eq!(did_you_mean("completely_else", names.iter().copied()), None);
    }

    /// The plain dynamic programme the bounded search must agree with.
    fn reference_distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != *cb);
                cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    }

    proptest::proptest! {
        #[test]
        fn did_you_mean_picks_the_first_closest_within_the_limit(
            word in "[a-dé_]{0,12}",
            candidates in proptest::collection::vec("[a-dé_]{0,12}", 0..12),
        ) {
            let limit = (word.chars().count() / 3).clamp(1, 3);
            let expected = candidates
                .iter()
                .map(|c| (reference_distance(&word, c), c.as_str()))
                .filter(|(d, _)| *d <= limit)
                .min_by_key(|(d, _)| *d)
                .map(|(_, c)| c);
            proptest::prop_assert_eq!(
                did_you_mean(&word, candidates.iter().map(String::as_str)),
                expected
            );
        }
    }

    #[test]
    fn strtou_matches_c() {
        assert!(matches!(strtou("", 10), StrToU::Value(0)));
        assert!(matches!(strtou("12", 10), StrToU::Value(12)));
        assert!(matches!(strtou("+12", 10), StrToU::Value(12)));
        assert!(matches!(strtou("12a", 10), StrToU::Invalid));
        assert!(matches!(strtou("0x1f", 0), StrToU::Value(31)));
        assert!(matches!(strtou("010", 0), StrToU::Value(8)));
        assert!(matches!(
            strtou("99999999999999999999999", 10),
            StrToU::Overflow
        ));
    }
}
