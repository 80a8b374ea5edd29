//! The reader: turns configuration files into logical lines, the way keepalived's
//! `read_line()` + `alloc_strvec()` do (lib/parser.c).
//!
//! It owns everything that happens before the keyword tables see a line:
//! `include` (glob + braces, relative to the including file), `#`/`!` comments,
//! `@ID`/`@^ID` conditional lines, `$NAME=value` definitions (multi-line, parameterised,
//! built-ins), `~SEQ`/`~LST` expansion, splitting a line at `{` and `}`, and tokenising
//! (whitespace-separated words, `"..."` quoting). Every [`Line`] keeps the [`Span`] of the
//! real file and line it came from.
//!
//! Behaviour follows keepalived 2.2.7 `read_line()` (lib/parser.c) step by step,
//! including its quirks (lines longer than MAXBUF are cut into pieces like `fgets()`
//! does, a NUL byte ends a line, `$NAME` needs a separator after it, ...), so that
//! the same diagnostics come out at the same lines. Where keepalived can hang or
//! run out of memory (recursive definitions, include loops, huge `~SEQ`s) we stop
//! with a [`Level::GeneralError`] instead: [`MAX_INCLUDE_DEPTH`] nested includes,
//! [`MAX_FILES_OPENED`] included files, [`MAX_GENERATED_LINES`] lines from `~SEQ`/`~LST`
//! and multiline definitions, [`MAX_TOTAL_LINES`] lines in all, 1024 `$` replacements
//! per line, 64 nested multiline definitions, 1024 brace-split pieces per line.
//!
//! keepalived -t parses the configuration several times: the first parse (global
//! keywords) reads the files, the VRRP/checker/BFD parses re-read a decommented copy
//! of it. Most keywords are reported from the later parses, so where the two differ
//! we read like them: lines are decommented twice (an escaped `\#` ends up a comment)
//! and an unterminated last line is counted. Include problems are reported only by
//! the first parse, with its line numbers.
//!
//! Levels: include problems use keepalived's `file_config_error()` rule —
//! [`Level::FileNotFound`] when the include variant (`includer/m/w/b/a`) or
//! `include_check` asks for that check, otherwise [`Level::Logged`] (printed, no exit-code effect).
//! A FileNotFound include problem makes keepalived stop after reading with exit code
//! 6 ([`Reader::had_file_error`]); a main file that fails keepalived's check gives a
//! reader with no lines ([`Reader::opened`] false).

mod defs;
mod globbing;
mod seq;
mod text;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diag::{Diagnostics, Level};
use crate::span::{FileId, SourceMap, Span};

use defs::{BuiltinSource, Defs, ExpandStop, MultilineState};
use seq::Seq;
use text::{BLANKS, ColBuf, decomment, tokenize};

/// Options that influence preprocessing (from the command line).
#[derive(Debug, Clone, Default)]
pub struct ReaderOptions {
    /// `-i/--config-id`; `None` means the host name up to the first '.'.
    pub config_id: Option<String>,
    /// `-e/--all-config`: every include must match.
    pub all_config: bool,
    /// The top-level `instance` name, if known. Not used by the reader: keepalived
    /// 2.2.7 expands `${_INSTANCE}` to the config id, not to this.
    pub instance: Option<String>,
    /// A lower bound than [`MAX_GENERATED_LINES`] on lines made by `~SEQ`/`~LST` and
    /// multiline definitions (fuzzing and tests; `None` for the daemon).
    pub generated_line_limit: Option<u64>,
}

/// One word of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word with surrounding double quotes removed.
    pub text: String,
    /// 1-based column of the word in the real source line when known, otherwise 0
    /// (e.g. text produced by `$NAME` expansion).
    pub col: u32,
    /// Whether the word was written in double quotes.
    pub quoted: bool,
}

/// One logical line, as the keyword tables see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub tokens: Vec<Token>,
    /// The logical line's text after preprocessing (comments removed), for handlers
    /// that re-tokenise with their own rules (keepalived's `buf_extern`).
    pub raw: String,
    pub span: Span,
}

impl Line {
    /// The `index`th word, if present.
    pub fn word(&self, index: usize) -> Option<&str> {
        self.tokens.get(index).map(|t| t.text.as_str())
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Span of word `index` (falls back to the whole line).
    pub fn span_of(&self, index: usize) -> Span {
        match self.tokens.get(index) {
            Some(t) if t.col > 0 => self.span.with_col(t.col),
            _ => self.span,
        }
    }

    /// The words as `&str`s.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().map(|t| t.text.as_str())
    }
}

/// keepalived's MAXBUF: `fgets()` reads at most this minus one byte at a time, and
/// `$NAME` expansion may not make a line reach it.
const MAXBUF: usize = 1024;
/// Our bound on include nesting (keepalived has none and recurses until it runs out
/// of file descriptors).
pub const MAX_INCLUDE_DEPTH: usize = 64;
/// Our bound on lines produced by `~SEQ`/`~LST` and multiline definitions.
pub const MAX_GENERATED_LINES: u64 = 1_000_000;
/// Our bound on all lines read (files included many times, ...).
pub const MAX_TOTAL_LINES: u64 = 5_000_000;
/// Our bound on files opened by includes (a file including itself twice would
/// otherwise take exponential time).
pub const MAX_FILES_OPENED: u32 = 4096;
/// Larger files are read only up to this size.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

// keepalived's include_t flags.
const INCLUDE_R: u8 = 0x01;
const INCLUDE_M: u8 = 0x02;
const INCLUDE_W: u8 = 0x04;
const INCLUDE_B: u8 = 0x08;
const INCLUDE_ALL: u8 = INCLUDE_R | INCLUDE_M | INCLUDE_W | INCLUDE_B;

/// A file as keepalived names it and where it really is.
type LoadedKey = (String, PathBuf);

/// A file being read.
#[derive(Debug)]
struct OpenFile {
    id: FileId,
    data: Rc<[u8]>,
    pos: usize,
    line_no: u32,
    /// Column of the next byte minus one (a line longer than MAXBUF comes in pieces).
    col_base: u32,
    /// keepalived chdir()s to the directory of a file whose name has a `/`; relative
    /// includes inside it are relative to this.
    cwd: PathBuf,
    /// keepalived names the file in messages (included, or one of several main
    /// files); such a file is reported at "Line 0" before its first line is read.
    named: bool,
    /// The line counter was advanced for a last line without a newline (see
    /// `fgets`); include errors, reported only by keepalived's first parse, still
    /// use the uncounted number.
    counted_unterminated: bool,
}

/// One `include` (or the main file): its glob matches, read one after the other
/// (keepalived's `include_file_t`).
#[derive(Debug)]
struct IncludeGlob {
    matches: Vec<String>,
    next_match: usize,
    /// The directory the matches are relative to.
    dir: PathBuf,
    include_type: u8,
    saved_include_check: u8,
    /// The file being read, or the last one read (keepalived keeps reporting
    /// against it until the next match is opened).
    file: Option<OpenFile>,
}

/// Everything `${_PWD}`, `${_INSTANCE}` and `${_RANDOM}` need.
struct Env<'a> {
    cwd: &'a Path,
    config_id: Option<&'a str>,
    rng: &'a mut u64,
}

impl BuiltinSource for Env<'_> {
    fn pwd(&self) -> Vec<u8> {
        let absolute = std::env::current_dir()
            .map(|d| d.join(self.cwd))
            .unwrap_or_else(|_| self.cwd.to_path_buf());
        let path = std::fs::canonicalize(&absolute).unwrap_or(absolute);
        path.to_string_lossy().into_owned().into_bytes()
    }

    fn instance(&self) -> Vec<u8> {
        self.config_id.unwrap_or("").as_bytes().to_vec()
    }

    fn random(&mut self) -> u64 {
        // xorshift64: `${_RANDOM}` only needs to vary, not to be strong.
        let mut x = *self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *self.rng = x;
        x
    }
}

/// Produces [`Line`]s from a configuration file and everything it includes.
#[derive(Debug)]
pub struct Reader {
    sources: SourceMap,
    config_id: Option<String>,
    include_stack: Vec<IncludeGlob>,
    /// keepalived's `include_check` (set by `-e` and the `include_check` keyword).
    include_check: u8,
    defs: Defs,
    seqs: Vec<Seq>,
    /// keepalived's `seq_list_count`, kept separately from `seqs.len()` because
    /// keepalived decrements it for every rejected `~LST` too (an unsigned count
    /// that can wrap), which changes when later `~SEQ`s run.
    seq_list_count: u32,
    multiline: MultilineState,
    line_residue: Option<ColBuf>,
    /// Net `{` minus `}` seen so far (keepalived's `block_depth`).
    block_depth: i64,
    current: Option<Span>,
    main_file: PathBuf,
    /// Files already loaded, by real path (a file included again is not re-read).
    loaded: HashMap<LoadedKey, (FileId, Rc<[u8]>)>,
    /// A file error at a level that stops keepalived after reading.
    file_error: bool,
    opened: bool,
    generated_lines: u64,
    total_lines: u64,
    files_opened: u32,
    /// Pieces handed out from one line by brace splitting; a definition that
    /// re-creates the brace it is split at would loop forever in keepalived.
    residue_chain: usize,
    /// Set while an include is processed: keepalived reports include problems
    /// only from its first parse (the config copy has a blank line there).
    first_parse_only: bool,
    /// Bound on generated lines ([`MAX_GENERATED_LINES`] unless lowered).
    generated_limit: u64,
    exhausted: bool,
    rng: u64,
}

impl Reader {
    fn empty(main_file: &Path, options: &ReaderOptions) -> Reader {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        Reader {
            sources: SourceMap::default(),
            config_id: options.config_id.clone().or_else(host_config_id),
            include_stack: Vec::new(),
            include_check: if options.all_config { INCLUDE_ALL } else { 0 },
            defs: Defs::with_builtins(),
            seqs: Vec::new(),
            seq_list_count: 0,
            multiline: MultilineState::default(),
            line_residue: None,
            block_depth: 0,
            current: None,
            main_file: main_file.to_path_buf(),
            loaded: HashMap::new(),
            file_error: false,
            opened: false,
            generated_lines: 0,
            total_lines: 0,
            files_opened: 0,
            residue_chain: 0,
            generated_limit: options
                .generated_line_limit
                .map_or(MAX_GENERATED_LINES, |limit| limit.min(MAX_GENERATED_LINES)),
            first_parse_only: false,
            exhausted: false,
            rng: seed,
        }
    }

    /// Opens the main configuration file (a glob, like keepalived's `-f`).
    /// keepalived first checks it (`check_conf_file()`): a file that cannot be used
    /// is reported and gives a reader that yields no lines ([`Reader::opened`] false).
    pub fn open(path: &Path, options: ReaderOptions, diags: &mut Diagnostics) -> Reader {
        let mut reader = Reader::empty(path, &options);
        let pattern = path.to_string_lossy().into_owned();
        if reader.check_conf_file(&pattern, diags) {
            if reader.open_glob_file(&pattern, INCLUDE_R | INCLUDE_M | INCLUDE_W, diags) {
                reader.opened = true;
            } else {
                reader.file_config_error(
                    INCLUDE_R,
                    "failed to open the configuration file".into(),
                    diags,
                );
            }
        }
        reader
    }

    /// Reads from a string (tests); `name` is used in diagnostics and, when it has a
    /// directory part, relative includes are relative to that directory.
    pub fn from_str(
        name: &str,
        text: &str,
        options: ReaderOptions,
        _diags: &mut Diagnostics,
    ) -> Reader {
        let mut reader = Reader::empty(Path::new(name), &options);
        let data: Rc<[u8]> = Rc::from(text.as_bytes());
        let id = reader.sources.add(Path::new(name), text.to_string());
        reader.include_stack.push(IncludeGlob {
            matches: vec![name.to_string()],
            next_match: 1,
            dir: PathBuf::new(),
            include_type: INCLUDE_R | INCLUDE_M | INCLUDE_W,
            saved_include_check: reader.include_check,
            file: Some(OpenFile {
                id,
                data,
                pos: 0,
                line_no: 0,
                col_base: 0,
                cwd: file_cwd(Path::new(""), name),
                named: false,
                counted_unterminated: false,
            }),
        });
        reader.opened = true;
        reader
    }

    /// The next logical line, or `None` at the end of the last file.
    pub fn next_line(&mut self, diags: &mut Diagnostics) -> Option<Line> {
        loop {
            let Some(buf) = self.read_line(diags) else {
                self.current = None;
                return None;
            };
            let span = self.error_span();
            self.current = span;
            let (raw_tokens, unmatched) = tokenize(&buf);
            if unmatched {
                diags.report(
                    Level::UnmatchedQuote,
                    span,
                    format!("unmatched quote in '{}'", buf.lossy()),
                );
            }
            if raw_tokens.is_empty() {
                continue;
            }
            let tokens = raw_tokens
                .into_iter()
                .map(|t| Token {
                    text: String::from_utf8_lossy(&t.text).into_owned(),
                    col: t.col,
                    quoted: t.quoted,
                })
                .collect();
            let span = span.unwrap_or_else(|| self.line_zero_span());
            return Some(Line {
                tokens,
                raw: buf.lossy(),
                span,
            });
        }
    }

    /// The span of the line most recently returned (keepalived reports errors found
    /// while processing against the reader's current line). `None` before the first
    /// line, after the end, and where keepalived prints no line number.
    pub fn current_span(&self) -> Option<Span> {
        self.current
    }

    /// Whether the line just returned is the last line of its file and has no
    /// newline. keepalived's first parse does not count such a line (`fgets()` gives
    /// no '\n'), so it reports it under the previous line's number; its later passes
    /// read its copy of the configuration, where every line ends with a newline, and
    /// use the line's own number, which [`Reader::current_span`] gives.
    pub fn current_line_unterminated(&self) -> bool {
        if self.first_parse_only {
            return false;
        }
        let Some(top) = self.include_stack.last() else {
            return false;
        };
        let entry = if top.file.is_none() && self.include_stack.len() > 1 {
            self.include_stack.get(self.include_stack.len() - 2)
        } else {
            Some(top)
        };
        entry
            .and_then(|e| e.file.as_ref())
            .is_some_and(|f| f.counted_unterminated)
    }

    /// Unbalanced `{` count at the end (keepalived's `block_depth`).
    pub fn block_depth(&self) -> i64 {
        self.block_depth
    }

    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    pub fn into_sources(self) -> SourceMap {
        self.sources
    }

    pub fn main_file(&self) -> &Path {
        &self.main_file
    }

    /// Whether the main configuration passed keepalived's checks and was opened.
    /// When false, keepalived `-t` stops right there (exit code from the levels
    /// reported so far: 0 when only notes, 4 for FileNotFound/MultipleFiles-free fatal).
    pub fn opened(&self) -> bool {
        self.opened
    }

    /// Whether an include problem was reported at [`Level::FileNotFound`]
    /// (keepalived's `had_config_file_error()`): keepalived then exits with
    /// KEEPALIVED_EXIT_NO_CONFIG (6) once reading is over, before any validation.
    pub fn had_file_error(&self) -> bool {
        self.file_error
    }

    /// Lowers the bound on lines generated by `~SEQ`/`~LST`/multiline definitions
    /// (default [`MAX_GENERATED_LINES`]); for tests and fuzzing.
    pub fn set_generated_line_limit(&mut self, limit: u64) {
        self.generated_limit = limit.min(MAX_GENERATED_LINES);
    }

    /// Sets keepalived's `include_check` flags directly (for wiring the parsed
    /// `include_check` keyword, `model::global::IncludeCheck`, into the reader right
    /// after its line: it applies to the includes that follow, until the end of the
    /// file it is in, like keepalived).
    pub fn set_include_check(
        &mut self,
        read: bool,
        match_: bool,
        wildcard_match: bool,
        brace_match: bool,
    ) {
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        self.include_check = flag(read, INCLUDE_R)
            | flag(match_, INCLUDE_M)
            | flag(wildcard_match, INCLUDE_W)
            | flag(brace_match, INCLUDE_B);
    }

    /// The `include_check` keyword (global_defs), keepalived's `include_check_set()`:
    /// `words` are the words after the keyword; none means everything. Reports at the
    /// current line.
    pub fn include_check_set(&mut self, words: &[&str], diags: &mut Diagnostics) {
        if words.is_empty() {
            self.include_check = INCLUDE_ALL;
            return;
        }
        for (i, word) in words.iter().enumerate() {
            let (mode, name) = match word.as_bytes().first() {
                Some(b'-') => (-1, word.get(1..).unwrap_or("")),
                Some(b'+') => (1, word.get(1..).unwrap_or("")),
                _ => {
                    if i == 0 {
                        self.include_check = 0;
                    } else {
                        diags.report(
                            Level::GeneralError,
                            self.current,
                            format!("include_check: duplicate setting '{word}' ignored"),
                        );
                        continue;
                    }
                    (0, *word)
                }
            };
            let flag = match name {
                "read" => INCLUDE_R,
                "match" => INCLUDE_M,
                "wildcard_match" => INCLUDE_W,
                "brace_match" => INCLUDE_B,
                _ => {
                    diags.report(
                        Level::GeneralError,
                        self.current,
                        format!("include_check: unknown check '{name}' ignored"),
                    );
                    0
                }
            };
            if flag != 0 {
                match mode {
                    0 => self.include_check = INCLUDE_R | flag,
                    1 => self.include_check |= flag,
                    _ => self.include_check &= !flag,
                }
            }
        }
    }

    /// A span for a line keepalived would report without a line number (a piece of
    /// an over-long first line): the file, line 0.
    fn line_zero_span(&self) -> Span {
        let id = self
            .include_stack
            .last()
            .and_then(|g| g.file.as_ref())
            .map_or(FileId(0), |f| f.id);
        Span::line(id, 0)
    }

    /// Where keepalived's `report_config_error()` would point now: the innermost
    /// file being read, or, while an include is being opened, the including line.
    fn error_span(&self) -> Option<Span> {
        let top = self.include_stack.last()?;
        let entry = if top.file.is_none() && self.include_stack.len() > 1 {
            self.include_stack.get(self.include_stack.len() - 2)?
        } else {
            top
        };
        let file = entry.file.as_ref()?;
        let line_no = if self.first_parse_only && file.counted_unterminated {
            file.line_no.saturating_sub(1)
        } else {
            file.line_no
        };
        (line_no > 0 || file.named).then(|| Span::line(file.id, line_no))
    }

    /// The directory relative includes and `${_PWD}` refer to now.
    fn cwd(&self) -> PathBuf {
        self.include_stack
            .iter()
            .rev()
            .find_map(|g| g.file.as_ref().map(|f| f.cwd.clone()))
            .unwrap_or_default()
    }

    /// keepalived's `file_config_error()`: fatal (FileNotFound) only when the check
    /// is enabled by the include variant or `include_check`, otherwise just printed.
    fn file_config_error(&mut self, error_type: u8, message: String, diags: &mut Diagnostics) {
        let top_type = self.include_stack.last().map_or(0, |g| g.include_type);
        let level = if (self.include_check | top_type) & error_type != 0 {
            self.file_error = true;
            Level::FileNotFound
        } else {
            Level::Logged
        };
        diags.report(level, self.error_span(), message);
    }

    /// keepalived's `open_and_check_glob()`.
    fn open_and_check_glob(
        &mut self,
        pattern: &str,
        include_type: u8,
        cwd: &Path,
        diags: &mut Diagnostics,
    ) -> Option<Vec<String>> {
        let outcome = globbing::glob(pattern, cwd);
        let missing = outcome.missing_files > 0 || outcome.missing_directories > 0;
        if outcome.paths.is_empty() {
            if missing {
                let kind = if globbing::have_brace(pattern) {
                    INCLUDE_B
                } else {
                    INCLUDE_M
                };
                self.file_config_error(kind, format!("config files missing '{pattern}'"), diags);
            } else if outcome.have_wildcards && (self.include_check | include_type) & INCLUDE_W != 0
            {
                self.file_config_error(
                    INCLUDE_W,
                    format!("no config files matched '{pattern}'"),
                    diags,
                );
            }
            return None;
        }
        if missing {
            self.file_config_error(
                INCLUDE_B,
                format!("some config files missing: '{pattern}'"),
                diags,
            );
            if (self.include_check | include_type) & INCLUDE_B != 0 {
                return None;
            }
        }
        Some(outcome.paths)
    }

    /// keepalived's `check_glob_file()`: only regular, non-executable files.
    fn check_glob_file(&mut self, name: &str, dir: &Path, diags: &mut Diagnostics) -> bool {
        if name.ends_with('/') {
            self.file_config_error(
                INCLUDE_R,
                format!("configuration file '{name}' is a directory - skipping"),
                diags,
            );
            return false;
        }
        if !is_regular_non_executable(&dir.join(name)) {
            self.file_config_error(
                INCLUDE_R,
                format!(
                    "configuration file '{name}' is not a regular non-executable file - skipping"
                ),
                diags,
            );
            return false;
        }
        true
    }

    /// keepalived's `check_conf_file()`, run on the main file before reading it.
    fn check_conf_file(&mut self, pattern: &str, diags: &mut Diagnostics) -> bool {
        let Some(paths) = self.open_and_check_glob(pattern, 0, Path::new(""), diags) else {
            return false;
        };
        let mut ok = true;
        let mut usable = 0usize;
        for name in &paths {
            if !self.check_glob_file(name, Path::new(""), diags) {
                ok = false;
                continue;
            }
            if std::fs::File::open(name).is_err() {
                diags.report(
                    Level::FileNotFound,
                    None,
                    format!("unable to read configuration file {name}"),
                );
                ok = false;
                break;
            }
            usable += 1;
        }
        if ok {
            if usable > 1 {
                let first = paths.first().map_or("", String::as_str);
                diags.report(
                    Level::MultipleFiles,
                    None,
                    format!("multiple configuration files match {pattern}, starting with {first}"),
                );
            } else if usable == 0 {
                diags.report(
                    Level::FileNotFound,
                    None,
                    format!("unable to find configuration file {pattern}"),
                );
                ok = false;
            }
        }
        ok
    }

    /// keepalived's `open_glob_file()`: pushes an include and opens its first file.
    fn open_glob_file(&mut self, pattern: &str, include_type: u8, diags: &mut Diagnostics) -> bool {
        if self.include_stack.len() >= MAX_INCLUDE_DEPTH {
            diags.report(
                Level::GeneralError,
                self.error_span(),
                format!("includes nested more than {MAX_INCLUDE_DEPTH} deep (include loop?) - not including '{pattern}'"),
            );
            return false;
        }
        if self.files_opened >= MAX_FILES_OPENED {
            diags.report(
                Level::GeneralError,
                self.error_span(),
                format!("more than {MAX_FILES_OPENED} files included (include loop?) - not including '{pattern}'"),
            );
            return false;
        }
        let dir = self.cwd();
        self.include_stack.push(IncludeGlob {
            matches: Vec::new(),
            next_match: 0,
            dir: dir.clone(),
            include_type,
            saved_include_check: self.include_check,
            file: None,
        });
        let Some(paths) = self.open_and_check_glob(pattern, include_type, &dir, diags) else {
            self.include_stack.pop();
            return false;
        };
        let no_matches = paths.is_empty();
        if let Some(top) = self.include_stack.last_mut() {
            top.matches = paths;
        }
        if !self.open_conf_file(diags) {
            if no_matches {
                self.file_config_error(INCLUDE_R, format!("{pattern} - no matching file"), diags);
            }
            self.include_stack.pop();
            return false;
        }
        true
    }

    /// keepalived's `open_conf_file()`: opens the next usable match of the top include.
    fn open_conf_file(&mut self, diags: &mut Diagnostics) -> bool {
        loop {
            let Some(top) = self.include_stack.last_mut() else {
                return false;
            };
            let Some(name) = top.matches.get(top.next_match).cloned() else {
                return false;
            };
            top.next_match += 1;
            let dir = top.dir.clone();
            if !self.check_glob_file(&name, &dir, diags) {
                continue;
            }
            let real = dir.join(&name);
            let key = (name.clone(), real.clone());
            let loaded = match self.loaded.get(&key) {
                Some((id, data)) => Ok((*id, Rc::clone(data))),
                None => read_capped(&real).map(|bytes| {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let id = self.sources.add(Path::new(&name), text);
                    let data: Rc<[u8]> = Rc::from(bytes);
                    self.loaded.insert(key, (id, Rc::clone(&data)));
                    (id, data)
                }),
            };
            let (id, data) = match loaded {
                Ok(v) => v,
                Err(e) => {
                    self.file_config_error(
                        INCLUDE_R,
                        format!("configuration file '{name}' open problem ({e}) - skipping"),
                        diags,
                    );
                    continue;
                }
            };
            self.files_opened = self.files_opened.saturating_add(1);
            let named = self.include_stack.len() > 1
                || self
                    .include_stack
                    .last()
                    .is_some_and(|g| g.matches.len() > 1);
            if let Some(top) = self.include_stack.last_mut() {
                top.file = Some(OpenFile {
                    id,
                    data,
                    pos: 0,
                    line_no: 0,
                    col_base: 0,
                    cwd: file_cwd(&dir, &name),
                    named,
                    counted_unterminated: false,
                });
            }
            return true;
        }
    }

    /// keepalived's `get_next_file()`: the top include's current file ended.
    fn get_next_file(&mut self, diags: &mut Diagnostics) -> bool {
        if let Some(top) = self.include_stack.last() {
            self.include_check = top.saved_include_check;
        }
        if self.open_conf_file(diags) {
            return true;
        }
        self.include_stack.pop();
        !self.include_stack.is_empty()
    }

    /// keepalived's `check_include()`: `include`, `includer`, `includem`, `includew`,
    /// `includeb`, `includea` followed by white space and a glob pattern.
    fn check_include(&mut self, buf: &ColBuf, diags: &mut Diagnostics) -> bool {
        let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        if !buf.starts_with(b"include") || buf.len() <= 7 {
            return false;
        }
        let (include_type, mut p) = if is_space(buf.at(7)) {
            (0, 8)
        } else if is_space(buf.at(8)) {
            let kind = match buf.at(7) {
                b'r' => INCLUDE_R,
                b'a' => INCLUDE_ALL,
                b'w' => INCLUDE_R | INCLUDE_M | INCLUDE_W,
                b'm' => INCLUDE_R | INCLUDE_M,
                b'b' => INCLUDE_R | INCLUDE_B,
                _ => return false,
            };
            (kind, 9)
        } else {
            return false;
        };
        p += buf.span_of(p, BLANKS);
        let pattern = buf.tail(p).lossy();
        self.first_parse_only = true;
        self.open_glob_file(&pattern, include_type, diags);
        self.first_parse_only = false;
        true
    }

    /// Counts a line handed out; false (after reporting once) when over our bounds.
    fn count_line(&mut self, generated: bool, diags: &mut Diagnostics) -> bool {
        self.residue_chain = 0;
        self.total_lines += 1;
        if generated {
            self.generated_lines += 1;
        }
        if self.generated_lines > self.generated_limit || self.total_lines > MAX_TOTAL_LINES {
            if !self.exhausted {
                diags.report(
                    Level::GeneralError,
                    self.error_span(),
                    format!(
                        "configuration too large: more than {} generated or {MAX_TOTAL_LINES} total lines - stopped reading",
                        self.generated_limit
                    ),
                );
            }
            self.exhausted = true;
            self.seqs.clear();
            self.multiline = MultilineState::default();
            return false;
        }
        true
    }

    /// keepalived's `fgets()` loop: the next non-blank, decommented line of the
    /// files, or `None` at the end of all of them.
    fn read_file_line(
        &mut self,
        multiline_def: &mut Option<usize>,
        diags: &mut Diagnostics,
    ) -> Option<ColBuf> {
        loop {
            let top = self.include_stack.last_mut()?;
            let chunk = top.file.as_mut().and_then(fgets);
            let Some((mut bytes, first_col)) = chunk else {
                if self.get_next_file(diags) {
                    continue;
                }
                return None;
            };
            if !self.count_line(false, diags) {
                return None;
            }
            while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                bytes.pop();
            }
            if bytes.is_empty() {
                // A really empty line ends a multiline definition.
                if let Some(index) = multiline_def.take()
                    && let Some(def) = self.defs.list.get_mut(index)
                    && def.value.is_empty()
                {
                    def.multiline = false;
                }
                continue;
            }
            let mut buf = ColBuf::from_source(&bytes, first_col);
            let reported = self.decomment_and_report(&mut buf, diags);
            // keepalived -t: the VRRP, checker and BFD parses re-read the decommented
            // copy of the configuration written by the first parse and decomment it
            // again, so an escaped `\#` or `\!` starts a comment there. Most keywords
            // are reported from those parses, so we read the way they do.
            if decomment(&mut buf) && !reported {
                diags.report(
                    Level::GeneralError,
                    self.error_span(),
                    format!("unterminated quote in '{}'", buf.lossy()),
                );
            }
            if !buf.is_empty() {
                return Some(buf);
            }
        }
    }

    /// Decomments, reporting an unterminated quote; returns whether it reported.
    fn decomment_and_report(&mut self, buf: &mut ColBuf, diags: &mut Diagnostics) -> bool {
        let before = buf.clone();
        let unterminated = decomment(buf);
        if unterminated {
            let mut shown = before;
            let lead = shown.span_of(0, BLANKS);
            shown.remove_range(0, lead);
            diags.report(
                Level::GeneralError,
                self.error_span(),
                format!("unterminated quote in '{}'", shown.lossy()),
            );
        }
        unterminated
    }

    /// keepalived's `read_line()` up to the brace split: the next line that is not
    /// a definition, a `~SEQ`/`~LST`, a false conditional or an include.
    fn read_preprocessed(&mut self, diags: &mut Diagnostics) -> Option<ColBuf> {
        let mut multiline_def: Option<usize> = None;
        loop {
            if self.exhausted {
                return None;
            }
            let mut buf = if let Some(residue) = self.line_residue.take() {
                self.residue_chain += 1;
                if self.residue_chain > MAXBUF {
                    diags.report(
                        Level::GeneralError,
                        self.error_span(),
                        "line split at braces into too many pieces (recursive definition?) - stopped reading",
                    );
                    self.exhausted = true;
                    return None;
                }
                residue
            } else if !self.seqs.is_empty() && self.seq_count() > self.multiline.seq_depth {
                if !self.count_line(true, diags) {
                    return None;
                }
                let (defs, text, done) = match self.seqs.last_mut() {
                    Some(seq) => seq.step(),
                    None => continue,
                };
                for (name, value) in defs {
                    self.defs.set(&name, &value);
                }
                if done {
                    self.seqs.pop();
                    self.seq_list_count = self.seq_list_count.wrapping_sub(1);
                }
                ColBuf::from_generated(&text)
            } else if let Some(rest) = self.multiline.rest.take() {
                if !self.count_line(true, diags) {
                    return None;
                }
                match rest.iter().position(|b| *b == b'\n') {
                    Some(n) => {
                        self.multiline.rest = rest.get(n + 1..).map(<[u8]>::to_vec);
                        ColBuf::from_generated(rest.get(..n).unwrap_or_default())
                    }
                    None => {
                        match self.multiline.stack.pop() {
                            Some((ptr, depth)) => {
                                self.multiline.rest = Some(ptr);
                                self.multiline.seq_depth = depth;
                            }
                            None => self.multiline.seq_depth = 0,
                        }
                        ColBuf::from_generated(&rest)
                    }
                }
            } else {
                self.read_file_line(&mut multiline_def, diags)?
            };

            // Continuation lines of a multiline definition.
            if let Some(index) = multiline_def {
                let mut len = buf.len();
                let mut piece: Vec<u8> = buf.bytes().to_vec();
                let continues = piece.last() == Some(&b'\\');
                if continues {
                    len -= 1;
                    while len >= 1 && piece.get(len - 1).is_some_and(|b| BLANKS.contains(b)) {
                        len -= 1;
                    }
                    piece.truncate(len);
                    piece.push(b'\n');
                    len += 1;
                } else {
                    multiline_def = None;
                }
                if let Some(def) = self.defs.list.get_mut(index) {
                    if !continues && def.value.is_empty() {
                        def.multiline = false;
                    }
                    if len >= 2 || (len > 0 && !continues) {
                        def.value
                            .extend_from_slice(piece.get(..len).unwrap_or_default());
                    }
                }
                continue;
            }
            if buf.is_empty() {
                continue;
            }

            loop {
                let mut recheck = false;
                if buf.at(0) == b'@' && !self.conditional_keeps(&mut buf) {
                    buf.clear();
                    break;
                }
                if buf.at(0) == b'$'
                    && let Some(index) = self.defs.check_definition(buf.bytes())
                {
                    if self.defs.list.get(index).is_some_and(|d| d.multiline) {
                        multiline_def = Some(index);
                    }
                    buf.clear();
                    break;
                }
                if buf.starts_with(b"~SEQ") || buf.starts_with(b"~LST") {
                    self.add_seq_or_lst(&buf, diags);
                    buf.clear();
                    break;
                }
                if buf.at(0) == b'~' {
                    break;
                }
                if buf.find_any(0, b"$").is_some() {
                    let cwd = self.cwd();
                    self.multiline.seq_count = self.seq_count();
                    let mut env = Env {
                        cwd: &cwd,
                        config_id: self.config_id.as_deref(),
                        rng: &mut self.rng,
                    };
                    let expansion =
                        self.defs
                            .replace(&mut buf, MAXBUF, &mut self.multiline, &mut env);
                    for note in expansion.notes {
                        diags.report(Level::Note, self.error_span(), note);
                    }
                    match expansion.stop {
                        Some(ExpandStop::LineTooLong) => {
                            diags.report(
                                Level::Note,
                                self.error_span(),
                                format!("definition expansion of '{}' would exceed the maximum line length", buf.lossy()),
                            );
                            break;
                        }
                        Some(ExpandStop::ReplacementLimit) => {
                            diags.report(
                                Level::GeneralError,
                                self.error_span(),
                                format!(
                                    "more than {} definition expansions on one line (recursive definition?) in '{}'",
                                    defs::MAX_REPLACEMENTS,
                                    buf.lossy()
                                ),
                            );
                            buf.clear();
                            break;
                        }
                        Some(ExpandStop::NestingLimit) => {
                            diags.report(
                                Level::GeneralError,
                                self.error_span(),
                                format!(
                                    "multiline definitions nested more than {} deep (recursive definition?) in '{}'",
                                    defs::MAX_MULTILINE_DEPTH,
                                    buf.lossy()
                                ),
                            );
                            // Abandon the whole nested expansion.
                            self.multiline = MultilineState::default();
                            buf.clear();
                            break;
                        }
                        None => {}
                    }
                    if !expansion.found {
                        break;
                    }
                    let _ = self.decomment_and_report(&mut buf, diags);
                    if buf.at(0) == b'@' || buf.find_any(0, b"$").is_some() {
                        recheck = true;
                    }
                }
                if !recheck {
                    break;
                }
            }
            if buf.is_empty() {
                continue;
            }
            if self.check_include(&buf, diags) {
                continue;
            }
            return Some(buf);
        }
    }

    /// `@ID rest` keeps `rest` when ID is the config id, `@^ID rest` when it is not;
    /// a lone `@ID` is dropped. Returns false when the line is dropped.
    fn conditional_keeps(&self, buf: &mut ColBuf) -> bool {
        let (negate, ofs) = if buf.at(1) == b'^' {
            (true, 2)
        } else {
            (false, 1)
        };
        let Some(space) = buf.find_any(ofs, BLANKS) else {
            return false;
        };
        let id = buf.bytes().get(ofs..space).unwrap_or_default();
        let matches = self
            .config_id
            .as_deref()
            .is_some_and(|c| c.as_bytes() == id);
        if matches == negate {
            return false;
        }
        let start = space + buf.span_of(space, BLANKS);
        buf.remove_range(0, start);
        true
    }

    /// keepalived's `seq_list_count` as the size_t it is compared with.
    fn seq_count(&self) -> usize {
        usize::try_from(self.seq_list_count).unwrap_or(usize::MAX)
    }

    fn add_seq_or_lst(&mut self, buf: &ColBuf, diags: &mut Diagnostics) {
        let is_seq = buf.at(1) == b'S';
        let result = if is_seq {
            seq::parse_seq_head(buf.bytes()).and_then(|mut head| {
                // keepalived expands `$NAME`s in the parameters, in a small buffer.
                let mut params = ColBuf::from_generated(&head.params);
                let cwd = self.cwd();
                let mut own = MultilineState {
                    seq_count: self.seq_count(),
                    ..MultilineState::default()
                };
                let mut env = Env {
                    cwd: &cwd,
                    config_id: self.config_id.as_deref(),
                    rng: &mut self.rng,
                };
                self.defs
                    .replace(&mut params, seq::SEQ_PARAMS_MAX, &mut own, &mut env);
                if own.rest.is_some() {
                    return Err(seq::SeqError {
                        detail: Some("~SEQ parameter is a multiline definition".into()),
                        counted: false,
                    });
                }
                head.params = params.bytes().to_vec();
                seq::finish_seq(head)
            })
        } else {
            seq::parse_lst(buf.bytes())
        };
        match result {
            Ok(seq) => {
                self.seqs.push(seq);
                self.seq_list_count = self.seq_list_count.wrapping_add(1);
            }
            Err(error) => {
                if !is_seq && error.counted {
                    // keepalived: a rejected ~LST is freed with free_seq_lst(), which
                    // decrements seq_list_count although it was never counted.
                    self.seq_list_count = self.seq_list_count.wrapping_sub(1);
                }
                let span = self.error_span();
                if let Some(detail) = error.detail {
                    diags.report(
                        Level::GeneralError,
                        span,
                        format!("{detail} '{}'", buf.lossy()),
                    );
                }
                let what = if is_seq { "~SEQ" } else { "~LST" };
                diags.report(
                    Level::GeneralError,
                    span,
                    format!("invalid {what} specification '{}'", buf.lossy()),
                );
            }
        }
    }

    /// The rest of keepalived's `read_line()`: a line is cut before an unquoted
    /// `{` or `}` that is not its first character, and after a leading one (the rest
    /// comes back as the next line); a line that is just `{` or `}` moves
    /// `block_depth`.
    fn read_line(&mut self, diags: &mut Diagnostics) -> Option<ColBuf> {
        let mut buf = self.read_preprocessed(diags)?;
        let first = buf.at(0);
        let mut brace = if first == b'{' || first == b'}' {
            Some(0)
        } else {
            None
        };
        if brace.is_none() {
            let mut p = 0;
            while let Some(found) = buf.find_any(p, b"{}\"") {
                if buf.at(found) != b'"' {
                    brace = Some(found);
                    break;
                }
                match buf.find_any(found + 1, b"\"") {
                    Some(close) => p = close + 1,
                    None => break,
                }
            }
        }
        if let Some(at) = brace {
            let skip = if at == 0 {
                1 + buf.span_of(1, BLANKS)
            } else {
                0
            };
            if at + skip < buf.len() {
                let mut residue = buf.tail(at + skip);
                residue.trim_end_blanks();
                buf.truncate(at + skip);
                self.line_residue = Some(residue);
            }
        }
        buf.trim_end_blanks();
        match buf.bytes() {
            b"{" => self.block_depth += 1,
            b"}" => {
                self.block_depth -= 1;
                if self.block_depth < 0 {
                    diags.report(
                        Level::UnexpectedBlockEnd,
                        self.error_span(),
                        "extra '}' found",
                    );
                    self.block_depth = 0;
                }
            }
            _ => {}
        }
        Some(buf)
    }
}

/// keepalived's `fgets(buf, MAXBUF)`: up to a newline or MAXBUF-1 bytes; a NUL byte
/// ends the string early (so the newline after it is not seen and the line number
/// does not advance, as in keepalived). Returns the bytes and their first column.
fn fgets(file: &mut OpenFile) -> Option<(Vec<u8>, u32)> {
    let rest = file.data.get(file.pos..)?;
    if rest.is_empty() {
        return None;
    }
    let limit = rest.len().min(MAXBUF - 1);
    let window = rest.get(..limit)?;
    let taken = window
        .iter()
        .position(|b| *b == b'\n')
        .map_or(limit, |n| n + 1);
    let chunk = window.get(..taken)?;
    file.pos += taken;
    let first_col = file.col_base + 1;
    let visible = chunk
        .iter()
        .position(|b| *b == 0)
        .map_or(chunk, |n| chunk.get(..n).unwrap_or_default());
    if chunk.last() == Some(&b'\n') {
        file.col_base = 0;
    } else {
        file.col_base = file
            .col_base
            .saturating_add(u32::try_from(taken).unwrap_or(u32::MAX));
    }
    // A last line without a newline: the first parse does not count it, but the
    // VRRP/checker parses of keepalived -t read the config copy, where every line
    // was written back with a newline; most keywords are reported from those.
    let unterminated_last = file.pos >= file.data.len() && visible.len() == chunk.len();
    if visible.last() == Some(&b'\n') || unterminated_last {
        file.line_no = file.line_no.saturating_add(1);
        file.counted_unterminated = unterminated_last && visible.last() != Some(&b'\n');
    }
    Some((visible.to_vec(), first_col))
}

/// The directory keepalived chdir()s to for a file: its own directory when its name
/// has a `/`, otherwise unchanged.
fn file_cwd(dir: &Path, name: &str) -> PathBuf {
    match name.rfind('/') {
        Some(0) => PathBuf::from("/"),
        Some(i) => dir.join(name.get(..i).unwrap_or("")),
        None => dir.to_path_buf(),
    }
}

fn is_regular_non_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 == 0)
}

fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// keepalived's default config id: the host name up to the first '.'.
fn host_config_id() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    let short = name.split('.').next().unwrap_or(name);
    (!short.is_empty()).then(|| short.to_string())
}
