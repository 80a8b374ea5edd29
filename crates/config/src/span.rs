//! Source positions that survive preprocessing: every logical line the parser sees
//! remembers the real file and line it came from.

use std::path::{Path, PathBuf};

/// Index into [`SourceMap::files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A position in a real file. `line` and `col` are 1-based; `col` 0 means "whole line".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Span {
    pub fn line(file: FileId, line: u32) -> Self {
        Span { file, line, col: 0 }
    }
    pub fn with_col(self, col: u32) -> Self {
        Span { col, ..self }
    }
}

/// One configuration file that was read, kept for diagnostics (snippets).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as keepalived would print it (as given or as produced by the include glob).
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// The text of 1-based line `line`, if it exists.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text.lines().nth(index)
    }
}

/// Every file read while loading a configuration.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            text,
        });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(usize::try_from(id.0).ok()?)
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.get(id).map(|f| f.path.as_path())
    }
}
