//! Byte-level line text with per-byte source columns, and the small string
//! routines keepalived's reader applies to it (lib/parser.c `decomment()`,
//! `alloc_strvec_r()`, `strtol()`).

/// A line of bytes where every byte remembers its 1-based column in the real
/// source line, or 0 when it was produced by an expansion (`$NAME`, `~SEQ`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ColBuf {
    bytes: Vec<u8>,
    cols: Vec<u32>,
}

impl ColBuf {
    /// Bytes read from a file, the first one at column `first_col`.
    pub(crate) fn from_source(bytes: &[u8], first_col: u32) -> ColBuf {
        let cols = (0..bytes.len())
            .map(|i| {
                u32::try_from(i)
                    .ok()
                    .and_then(|i| i.checked_add(first_col))
                    .unwrap_or(0)
            })
            .collect();
        ColBuf {
            bytes: bytes.to_vec(),
            cols,
        }
    }

    /// Bytes produced by an expansion: no column.
    pub(crate) fn from_generated(bytes: &[u8]) -> ColBuf {
        ColBuf {
            bytes: bytes.to_vec(),
            cols: vec![0; bytes.len()],
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The byte at `i`, or 0 past the end (keepalived's C strings are NUL terminated,
    /// and its scanning code relies on reading that NUL).
    pub(crate) fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    pub(crate) fn col(&self, i: usize) -> u32 {
        self.cols.get(i).copied().unwrap_or(0)
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.cols.clear();
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.bytes.truncate(len);
        self.cols.truncate(len);
    }

    /// Removes `start..end` (clamped to the buffer).
    pub(crate) fn remove_range(&mut self, start: usize, end: usize) {
        let end = end.min(self.bytes.len());
        let start = start.min(end);
        self.bytes.drain(start..end);
        self.cols.drain(start..end);
    }

    /// Replaces `start..end` with generated (column-less) bytes.
    pub(crate) fn splice_generated(&mut self, start: usize, end: usize, with: &[u8]) {
        let end = end.min(self.bytes.len());
        let start = start.min(end);
        self.bytes.splice(start..end, with.iter().copied());
        self.cols
            .splice(start..end, std::iter::repeat_n(0, with.len()));
    }

    pub(crate) fn push(&mut self, byte: u8, col: u32) {
        self.bytes.push(byte);
        self.cols.push(col);
    }

    /// The part from `start` on, as a new buffer.
    pub(crate) fn tail(&self, start: usize) -> ColBuf {
        let start = start.min(self.bytes.len());
        ColBuf {
            bytes: self.bytes.get(start..).unwrap_or_default().to_vec(),
            cols: self.cols.get(start..).unwrap_or_default().to_vec(),
        }
    }

    /// Index of the first byte at or after `from` that is in `set`.
    pub(crate) fn find_any(&self, from: usize, set: &[u8]) -> Option<usize> {
        self.bytes
            .get(from..)?
            .iter()
            .position(|b| set.contains(b))
            .map(|p| p + from)
    }

    /// Number of bytes from `from` on that are in `set` (C `strspn`).
    pub(crate) fn span_of(&self, from: usize, set: &[u8]) -> usize {
        self.bytes
            .get(from..)
            .map(|s| s.iter().take_while(|b| set.contains(b)).count())
            .unwrap_or(0)
    }

    /// Removes trailing spaces and tabs.
    pub(crate) fn trim_end_blanks(&mut self) {
        while matches!(self.bytes.last(), Some(b' ' | b'\t')) {
            self.bytes.pop();
            self.cols.pop();
        }
    }

    pub(crate) fn starts_with(&self, prefix: &[u8]) -> bool {
        self.bytes.starts_with(prefix)
    }

    pub(crate) fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// keepalived's WHITE_SPACE set.
pub(crate) const WHITE_SPACE: &[u8] = b" \t\x0c\n\r\x0b";
pub(crate) const BLANKS: &[u8] = b" \t";

/// keepalived's `decomment()`: strips leading blanks, a comment (`#` or `!` outside
/// double quotes; `\#` and `\!` outside quotes are unescaped), trailing blanks, and
/// keeps a final `\` (continuation) right after the remaining text. Returns whether
/// a double quote was left open (keepalived reports "Unterminated quote").
pub(crate) fn decomment(buf: &mut ColBuf) -> bool {
    let lead = buf.span_of(0, BLANKS);
    buf.remove_range(0, lead);

    let mut in_quote = false;
    let mut comment_at: Option<usize> = None;
    let mut continuation: Option<u32> = None;
    let mut p = 0;
    while let Some(found) = buf.find_any(p, b"!#\"\\") {
        p = found;
        match buf.at(p) {
            b'"' => {
                if comment_at.is_none() {
                    in_quote = !in_quote;
                }
                p += 1;
            }
            b'\\' => {
                if p + 1 < buf.len() {
                    let next = buf.at(p + 1);
                    if !in_quote && (next == b'#' || next == b'!') {
                        buf.remove_range(p, p + 1);
                        p += 1;
                    } else {
                        p += 2;
                    }
                    continue;
                }
                continuation = Some(buf.col(p));
                buf.truncate(p);
                break;
            }
            _ => {
                if !in_quote && comment_at.is_none() {
                    comment_at = Some(p);
                }
                p += 1;
            }
        }
    }
    let unterminated = in_quote;
    if let Some(at) = comment_at {
        buf.truncate(at);
    }
    buf.trim_end_blanks();
    if let Some(col) = continuation {
        buf.push(b'\\', col);
    }
    unterminated
}

/// A word as keepalived's `alloc_strvec_r()` cuts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawToken {
    pub text: Vec<u8>,
    pub col: u32,
    pub quoted: bool,
}

/// keepalived's `alloc_strvec_r()`: whitespace-separated words, `"..."` as one word
/// without its quotes. Returns the words and whether a quote was left unmatched (the
/// words before it are kept, the rest of the line is dropped).
pub(crate) fn tokenize(buf: &ColBuf) -> (Vec<RawToken>, bool) {
    let mut tokens = Vec::new();
    let mut p = 0;
    loop {
        p += buf.span_of(p, WHITE_SPACE);
        if p >= buf.len() {
            return (tokens, false);
        }
        if buf.at(p) == b'"' {
            let body = p + 1;
            let Some(close) = buf.find_any(body, b"\"") else {
                return (tokens, true);
            };
            tokens.push(RawToken {
                text: buf.bytes().get(body..close).unwrap_or_default().to_vec(),
                col: buf.col(p),
                quoted: true,
            });
            p = close + 1;
        } else {
            let end = buf
                .bytes()
                .get(p..)
                .and_then(|s| s.iter().position(|b| WHITE_SPACE.contains(b) || *b == b'"'))
                .map_or(buf.len(), |e| e + p);
            tokens.push(RawToken {
                text: buf.bytes().get(p..end).unwrap_or_default().to_vec(),
                col: buf.col(p),
                quoted: false,
            });
            p = end;
        }
    }
}

/// C `strtol(s, &end, 0)`: returns the value and the index just past the number
/// (`start` itself when there is no number). Saturates like strtol on overflow.
pub(crate) fn strtol(s: &[u8], start: usize) -> (i64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut p = start;
    while matches!(at(p), b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        p += 1;
    }
    let negative = at(p) == b'-';
    if matches!(at(p), b'+' | b'-') {
        p += 1;
    }
    let (radix, digits_from) =
        if at(p) == b'0' && matches!(at(p + 1), b'x' | b'X') && at(p + 2).is_ascii_hexdigit() {
            (16u32, p + 2)
        } else if at(p) == b'0' {
            (8, p)
        } else {
            (10, p)
        };
    let mut q = digits_from;
    let mut value: i128 = 0;
    while let Some(d) = char::from(at(q)).to_digit(radix) {
        value = (value * i128::from(radix) + i128::from(d)).min(i128::from(i64::MAX) + 1);
        q += 1;
    }
    if q == digits_from {
        return (0, start);
    }
    let value = if negative { -value } else { value };
    let clamped = i64::try_from(value).unwrap_or(if negative { i64::MIN } else { i64::MAX });
    (clamped, q)
}

/// C `strtoul(s, &end, 10)` restricted to what `${_RANDOM a b}` can contain.
pub(crate) fn strtoul10(s: &[u8], start: usize) -> (u64, usize) {
    let mut p = start;
    while s.get(p) == Some(&b' ') {
        p += 1;
    }
    let digits_from = p;
    let mut value: u64 = 0;
    while let Some(d) = s.get(p).and_then(|b| char::from(*b).to_digit(10)) {
        value = value.saturating_mul(10).saturating_add(u64::from(d));
        p += 1;
    }
    if p == digits_from {
        return (0, start);
    }
    (value, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> (String, bool) {
        let mut b = ColBuf::from_source(s.as_bytes(), 1);
        let open = decomment(&mut b);
        (b.lossy(), open)
    }

    #[test]
    fn decomment_follows_keepalived() {
        assert_eq!(dec("  foo bar # c"), ("foo bar".into(), false));
        assert_eq!(dec("foo ! c"), ("foo".into(), false));
        assert_eq!(dec("foo \\# bar"), ("foo # bar".into(), false));
        assert_eq!(dec("foo \"a # b\" # c"), ("foo \"a # b\"".into(), false));
        assert_eq!(dec("foo \"a \\# b\""), ("foo \"a \\# b\"".into(), false));
        assert_eq!(dec("foo \"abc"), ("foo \"abc".into(), true));
        assert_eq!(dec("foo bar   \\"), ("foo bar\\".into(), false));
        // A comment before a final backslash still leaves the continuation mark.
        assert_eq!(dec("foo # x \\"), ("foo\\".into(), false));
        assert_eq!(dec("# only"), ("".into(), false));
    }

    #[test]
    fn decomment_keeps_columns() {
        let mut b = ColBuf::from_source(b"   ab \\#c", 1);
        decomment(&mut b);
        assert_eq!(b.bytes(), b"ab #c");
        assert_eq!(b.col(0), 4);
        assert_eq!(b.col(3), 9 - 1);
    }

    #[test]
    fn tokenize_like_alloc_strvec() {
        let b = ColBuf::from_source(b"a  \"b c\"d\te", 1);
        let (t, bad) = tokenize(&b);
        assert!(!bad);
        let words: Vec<_> = t
            .iter()
            .map(|t| String::from_utf8_lossy(&t.text).into_owned())
            .collect();
        assert_eq!(words, ["a", "b c", "d", "e"]);
        assert_eq!(t.iter().map(|t| t.col).collect::<Vec<_>>(), [1, 4, 9, 11]);
        let b = ColBuf::from_source(b"a \"b", 1);
        let (t, bad) = tokenize(&b);
        assert!(bad);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn strtol_bases() {
        assert_eq!(strtol(b" 12)", 0), (12, 3));
        assert_eq!(strtol(b"0x1f,", 0), (31, 4));
        assert_eq!(strtol(b"-010", 0), (-8, 4));
        assert_eq!(strtol(b"abc", 0), (0, 0));
        assert_eq!(strtol(b"99999999999999999999999", 0).0, i64::MAX);
    }
}
