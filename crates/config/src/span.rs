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
    /// Byte offset where each line starts, found on the first snippet asked for: a
    /// file with thousands of diagnostics would otherwise be scanned from the top
    /// for each one.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> SourceFile {
        SourceFile {
            path,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    /// The text of 1-based line `line`, if it exists (as `str::lines` splits it).
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(at, _)| at + 1))
                .collect()
        });
        let start = *starts.get(index)?;
        if start >= self.text.len() {
            // After a final newline: `lines` yields no empty last line.
            return None;
        }
        let end = starts.get(index + 1).copied().unwrap_or(self.text.len());
        let line = self.text.get(start..end)?;
        Some(match line.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => line,
        })
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
        self.files.push(SourceFile::new(path.to_path_buf(), text));
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(usize::try_from(id.0).ok()?)
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.get(id).map(|f| f.path.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn line_text_is_the_nth_of_str_lines(text in "[a\\r\\né]{0,24}", line in 0u32..12) {
            let file = SourceFile::new(PathBuf::from("k.conf"), text.clone());
            let expected = usize::try_from(line)
                .ok()
                .and_then(|l| l.checked_sub(1))
                .and_then(|index| text.lines().nth(index));
            proptest::prop_assert_eq!(file.line_text(line), expected);
        }
    }
}
