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
//! STATUS: minimal placeholder (single file, comments, braces split, quotes). The full
//! preprocessor replaces the body of [`Reader`] without changing this interface.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, Level};
use crate::span::{FileId, SourceMap, Span};

/// Options that influence preprocessing (from the command line).
#[derive(Debug, Clone, Default)]
pub struct ReaderOptions {
    /// `-i/--config-id`; `None` means the host name up to the first '.'.
    pub config_id: Option<String>,
    /// `-e/--all-config`: every include must match.
    pub all_config: bool,
    /// `${_INSTANCE}` (the top-level `instance` name), if known.
    pub instance: Option<String>,
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

/// Produces [`Line`]s from a configuration file and everything it includes.
#[derive(Debug)]
pub struct Reader {
    sources: SourceMap,
    pending: std::collections::VecDeque<Line>,
    /// Net `{` minus `}` seen so far (keepalived's `block_depth`).
    block_depth: i64,
    current: Option<Span>,
    main_file: PathBuf,
}

impl Reader {
    /// Opens the main configuration file. A file that cannot be read is reported
    /// (level [`Level::FileNotFound`]) and gives a reader that yields no lines.
    pub fn open(path: &Path, _options: ReaderOptions, diags: &mut Diagnostics) -> Reader {
        let mut reader = Reader {
            sources: SourceMap::default(),
            pending: Default::default(),
            block_depth: 0,
            current: None,
            main_file: path.to_path_buf(),
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let id = reader.sources.add(path, text.clone());
                reader.load_simple(id, &text, diags);
            }
            Err(e) => diags.report(
                Level::FileNotFound,
                None,
                format!("cannot read configuration file {}: {e}", path.display()),
            ),
        }
        reader
    }

    /// Reads from a string (tests); `name` is used in diagnostics.
    pub fn from_str(
        name: &str,
        text: &str,
        _options: ReaderOptions,
        diags: &mut Diagnostics,
    ) -> Reader {
        let mut reader = Reader {
            sources: SourceMap::default(),
            pending: Default::default(),
            block_depth: 0,
            current: None,
            main_file: PathBuf::from(name),
        };
        let id = reader.sources.add(Path::new(name), text.to_string());
        reader.load_simple(id, text, diags);
        reader
    }

    fn load_simple(&mut self, file: FileId, text: &str, _diags: &mut Diagnostics) {
        for (n, raw_line) in text.lines().enumerate() {
            let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let stripped = strip_comment(raw_line);
            for piece in split_braces(stripped) {
                let tokens = tokenize(piece.0, piece.1);
                if tokens.is_empty() {
                    continue;
                }
                for t in &tokens {
                    if !t.quoted && t.text == "{" {
                        self.block_depth += 1;
                    } else if !t.quoted && t.text == "}" {
                        self.block_depth -= 1;
                    }
                }
                self.pending.push_back(Line {
                    tokens,
                    raw: piece.0.to_string(),
                    span: Span::line(file, line_no),
                });
            }
        }
    }

    /// The next logical line, or `None` at the end of the last file.
    pub fn next_line(&mut self, _diags: &mut Diagnostics) -> Option<Line> {
        let line = self.pending.pop_front()?;
        self.current = Some(line.span);
        Some(line)
    }

    /// The span of the line most recently returned (keepalived reports errors found
    /// while processing against the reader's current line).
    pub fn current_span(&self) -> Option<Span> {
        self.current
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
}

fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '#' | '!' if !in_quote => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits at each unquoted `{` / `}` so that each brace starts a new piece.
/// Returns (text, 1-based column of the text's first byte).
fn split_braces(line: &str) -> Vec<(&str, u32)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '{' | '}' if !in_quote => {
                if i > start {
                    pieces.push((&line[start..i], col(start)));
                }
                pieces.push((&line[i..i + 1], col(i)));
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < line.len() {
        pieces.push((&line[start..], col(start)));
    }
    pieces
}

fn col(byte: usize) -> u32 {
    u32::try_from(byte + 1).unwrap_or(u32::MAX)
}

fn tokenize(text: &str, first_col: u32) -> Vec<Token> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if bytes[i] == b'"' {
            let body = i + 1;
            let end = text[body..].find('"').map(|e| body + e);
            let stop = end.unwrap_or(bytes.len());
            tokens.push(Token {
                text: text[body..stop].to_string(),
                col: first_col + u32::try_from(start).unwrap_or(0),
                quoted: true,
            });
            i = end.map(|e| e + 1).unwrap_or(bytes.len());
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'"' {
                i += 1;
            }
            tokens.push(Token {
                text: text[start..i].to_string(),
                col: first_col + u32::try_from(start).unwrap_or(0),
                quoted: false,
            });
        }
    }
    tokens
}
