//! Include-file globbing the way glibc's `glob(GLOB_MARK | GLOB_BRACE | GLOB_ALTDIRFUNC)`
//! behaves for keepalived (lib/parser.c `open_and_check_glob()`): csh brace
//! expansion, `*?[` wildcards per path component (no leading-dot match), results
//! sorted per brace alternative, directories marked with a trailing `/`, and the
//! counters keepalived's directory hooks keep (missing files / directories, whether
//! any directory had to be scanned).

use std::path::{Path, PathBuf};

/// Bounds so that a hostile pattern cannot explode.
const MAX_ALTERNATIVES: usize = 1024;
const MAX_RESULTS: usize = 10_000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct GlobOutcome {
    /// Matches, spelt as keepalived prints them (relative to the directory the
    /// pattern was relative to).
    pub paths: Vec<String>,
    /// A literal path component did not exist (keepalived's `gl_lstat` hook failed).
    pub missing_files: u32,
    /// A directory to scan could not be opened (keepalived's `gl_opendir` hook failed).
    pub missing_directories: u32,
    /// A directory was scanned for a wildcard (keepalived's `gl_opendir` was called).
    pub have_wildcards: bool,
}

/// Globs `pattern`; relative patterns are relative to `cwd` (keepalived chdir()s to
/// the including file's directory; we keep that directory instead).
pub(crate) fn glob(pattern: &str, cwd: &Path) -> GlobOutcome {
    let mut out = GlobOutcome::default();
    let mut alternatives = Vec::new();
    expand_braces(pattern, &mut alternatives);
    for alternative in alternatives {
        let mut found = glob_no_brace(&alternative, cwd, false, &mut out);
        found.sort();
        for path in found {
            if out.paths.len() >= MAX_RESULTS {
                break;
            }
            let marked = if is_dir(&cwd.join(&path)) && !path.ends_with('/') {
                format!("{path}/")
            } else {
                path
            };
            out.paths.push(marked);
        }
    }
    out
}

/// Whether `pattern` contains an unescaped `{` (keepalived's `have_brace()`).
pub(crate) fn have_brace(pattern: &str) -> bool {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'{') => return true,
            _ => i += 1,
        }
    }
    false
}

fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// glibc's GLOB_BRACE: the first unescaped `{` with a matching `}` is expanded into
/// its top-level comma-separated alternatives, each of which is expanded again. A
/// `{` without a match is taken literally.
fn expand_braces(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_ALTERNATIVES {
        return;
    }
    let bytes = pattern.as_bytes();
    let mut open = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'{') => {
                open = Some(i);
                break;
            }
            _ => i += 1,
        }
    }
    let Some(open) = open else {
        out.push(pattern.to_string());
        return;
    };
    // Find the alternatives and the closing brace at depth 0.
    let mut depth = 0usize;
    let mut separators = Vec::new();
    let mut close = None;
    let mut j = open + 1;
    while j < bytes.len() {
        match bytes.get(j) {
            Some(b'\\') => {
                j += 2;
                continue;
            }
            Some(b'{') => depth += 1,
            Some(b'}') if depth == 0 => {
                close = Some(j);
                break;
            }
            Some(b'}') => depth -= 1,
            Some(b',') if depth == 0 => separators.push(j),
            _ => {}
        }
        j += 1;
    }
    let Some(close) = close else {
        out.push(pattern.to_string());
        return;
    };
    let prefix = pattern.get(..open).unwrap_or("");
    let rest = pattern.get(close + 1..).unwrap_or("");
    let mut start = open + 1;
    for end in separators.into_iter().chain(std::iter::once(close)) {
        let alternative = pattern.get(start..end).unwrap_or("");
        expand_braces(&format!("{prefix}{alternative}{rest}"), out);
        start = end + 1;
    }
}

/// Whether a pattern component has glob magic (unescaped `*`, `?` or `[`).
fn has_magic(component: &str) -> bool {
    let bytes = component.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'*' | b'?' | b'[') => return true,
            _ => i += 1,
        }
    }
    false
}

/// Removes glob backslash escapes.
fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Turns a shell component pattern into a `glob::Pattern` (escapes become `[c]`).
fn to_pattern(component: &str) -> Option<glob::Pattern> {
    let mut text = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                text.push_str(&glob::Pattern::escape(&next.to_string()));
            }
        } else {
            text.push(c);
        }
    }
    glob::Pattern::new(&text).ok()
}

fn join(dir: Option<&str>, name: &str) -> String {
    match dir {
        None => name.to_string(),
        Some("/") => format!("/{name}"),
        Some(d) => format!("{d}/{name}"),
    }
}

/// One brace-free pattern: the directory part is globbed first (only directories
/// kept), then the last component is looked up in each directory.
fn glob_no_brace(pattern: &str, cwd: &Path, only_dirs: bool, out: &mut GlobOutcome) -> Vec<String> {
    if pattern.is_empty() {
        return Vec::new();
    }
    // "dir/" globs "dir" and keeps directories (glibc).
    if pattern.len() > 1 && pattern.ends_with('/') {
        let trimmed = pattern.trim_end_matches('/');
        let base = if trimmed.is_empty() { "/" } else { trimmed };
        return glob_no_brace(base, cwd, true, out);
    }
    let (dir_part, file_part) = match pattern.rfind('/') {
        None => (None, pattern),
        Some(0) => (Some("/".to_string()), pattern.get(1..).unwrap_or("")),
        Some(i) => (
            Some(pattern.get(..i).unwrap_or("").to_string()),
            pattern.get(i + 1..).unwrap_or(""),
        ),
    };
    let dirs: Vec<Option<String>> = match &dir_part {
        None => vec![None],
        Some(d) if has_magic(d) => {
            let mut found = glob_no_brace(d, cwd, true, out);
            found.sort();
            found.into_iter().map(Some).collect()
        }
        Some(d) => vec![Some(unescape(d))],
    };
    let mut results = Vec::new();
    for dir in dirs {
        if results.len() >= MAX_RESULTS {
            break;
        }
        let dir = dir.as_deref();
        if !has_magic(file_part) {
            let name = join(dir, &unescape(file_part));
            let real = cwd.join(&name);
            if std::fs::symlink_metadata(&real).is_ok() {
                if !only_dirs || is_dir(&real) {
                    results.push(name);
                }
            } else {
                out.missing_files = out.missing_files.saturating_add(1);
            }
            continue;
        }
        out.have_wildcards = true;
        let scan = cwd.join(dir.unwrap_or("."));
        let scan = if dir.is_none() && cwd.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            scan
        };
        let Ok(entries) = std::fs::read_dir(&scan) else {
            out.missing_directories = out.missing_directories.saturating_add(1);
            continue;
        };
        let Some(matcher) = to_pattern(file_part) else {
            continue;
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if matcher.matches_with(&name, options) {
                let full = join(dir, &name);
                if !only_dirs || is_dir(&cwd.join(&full)) {
                    results.push(full);
                }
                if results.len() >= MAX_RESULTS {
                    break;
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(p: &str) -> Vec<String> {
        let mut v = Vec::new();
        expand_braces(p, &mut v);
        v
    }

    #[test]
    fn braces_expand_like_csh() {
        assert_eq!(expand("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(expand("{a,b}/{c,d}"), ["a/c", "a/d", "b/c", "b/d"]);
        assert_eq!(expand("x{a,{b,c}}"), ["xa", "xb", "xc"]);
        assert_eq!(expand("x{,y}"), ["x", "xy"]);
        assert_eq!(expand("x{a"), ["x{a"]);
        assert_eq!(expand("x\\{a,b}"), ["x\\{a,b}"]);
        assert!(have_brace("a{b}"));
        assert!(!have_brace("a\\{b}"));
    }

    #[test]
    fn brace_bomb_is_bounded() {
        let p = "{a,b}".repeat(40);
        assert!(expand(&p).len() <= MAX_ALTERNATIVES);
    }
}
