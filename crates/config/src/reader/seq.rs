//! `~SEQ(var, [start,] [step,] end) text`, `~SEQx(...)` and
//! `~LST(var | {v1, v2, ...}, value | {a, b, ...}, ...) text` (keepalived lib/parser.c
//! `add_seq()` / `add_lst()`): the text is produced once per value with the
//! variables defined, each line going through the preprocessor again (so they nest).

use super::text::strtol;

/// A variable name and the value it gets for one produced line.
pub(crate) type Assignment = (Vec<u8>, Vec<u8>);

/// One active `~SEQ` or `~LST`.
#[derive(Debug, Clone)]
pub(crate) enum Seq {
    Range {
        var: Vec<u8>,
        next: i64,
        last: i64,
        step: i64,
        hex: bool,
        text: Vec<u8>,
    },
    List {
        params: Vec<Vec<u8>>,
        /// Each value set has exactly `params.len()` values (missing ones are blank).
        values: Vec<Vec<Vec<u8>>>,
        next: usize,
        text: Vec<u8>,
    },
}

/// A failed `~SEQ`/`~LST`: keepalived reports some failures itself (GeneralError,
/// with its own message) before the caller's "Invalid ~SEQ specification".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SeqError {
    /// The extra GeneralError keepalived reports from inside add_seq()/add_lst().
    pub detail: Option<String>,
    /// Whether keepalived's failure path decrements its sequence count (every
    /// rejected `~LST` after its opening parenthesis was found... and before).
    pub counted: bool,
}

fn fail(detail: Option<&str>) -> SeqError {
    SeqError {
        detail: detail.map(str::to_string),
        counted: true,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    p: usize,
}

impl Cursor<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }
    fn cur(&self) -> u8 {
        self.at(self.p)
    }
    fn skip_blanks(&mut self) {
        while matches!(self.cur(), b' ' | b'\t') {
            self.p += 1;
        }
    }
    /// Advances over bytes not in `stop` (C `strcspn`), returning the skipped text.
    fn take_until(&mut self, stop: &[u8]) -> Vec<u8> {
        let start = self.p;
        while self.p < self.s.len() && !stop.contains(&self.cur()) {
            self.p += 1;
        }
        self.s.get(start..self.p).unwrap_or_default().to_vec()
    }
    fn rest(&self) -> Vec<u8> {
        self.s.get(self.p..).unwrap_or_default().to_vec()
    }
}

/// The parameter part of a `~SEQ` after the variable: `start, step, end)` text up to
/// and including `)`, so the caller can expand `$NAME`s in it (keepalived does, with
/// a 64-byte buffer).
pub(crate) struct SeqHead {
    pub hex: bool,
    pub var: Vec<u8>,
    pub params: Vec<u8>,
    pub text: Vec<u8>,
}

/// Size of keepalived's buffer for the `~SEQ` parameters.
pub(crate) const SEQ_PARAMS_MAX: usize = 3 * 20 + 3 + 1;

/// First half of keepalived's add_seq(): the variable and the raw parameters.
pub(crate) fn parse_seq_head(buf: &[u8]) -> Result<SeqHead, SeqError> {
    let mut c = Cursor { s: buf, p: 4 };
    let hex = c.cur() == b'x';
    if hex {
        c.p += 1;
    }
    c.skip_blanks();
    if c.cur() != b'(' {
        return Err(fail(None));
    }
    c.p += 1;
    c.skip_blanks();
    let var = c.take_until(b" \t,)");
    c.skip_blanks();
    if c.p >= buf.len() || c.cur() == b')' || var.is_empty() {
        return Err(fail(Some("invalid ~SEQ definition")));
    }
    c.p += 1;
    c.skip_blanks();
    let Some(close) = buf
        .get(c.p..)
        .and_then(|s| s.iter().position(|b| *b == b')'))
        .map(|e| e + c.p)
    else {
        return Err(fail(Some("~SEQ parameter strings too long")));
    };
    if close + 2 - c.p > SEQ_PARAMS_MAX {
        return Err(fail(Some("~SEQ parameter strings too long")));
    }
    let params = buf.get(c.p..=close).unwrap_or_default().to_vec();
    let mut t = Cursor {
        s: buf,
        p: close + 1,
    };
    t.skip_blanks();
    Ok(SeqHead {
        hex,
        var,
        params,
        text: t.rest(),
    })
}

/// Second half of add_seq(): the numbers (after `$NAME` expansion).
pub(crate) fn finish_seq(head: SeqHead) -> Result<Seq, SeqError> {
    let invalid = || fail(Some("invalid ~SEQ definition"));
    let s = head.params.as_slice();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let skip = |mut p: usize| {
        while matches!(at(p), b' ' | b'\t') {
            p += 1;
        }
        p
    };
    let (one, p) = strtol(s, 0);
    let p = skip(p);
    let (start, step, end);
    if at(p) == b')' {
        end = one;
        step = if end < 1 { -1 } else { 1 };
        start = if end < 0 { -1 } else { 1 };
    } else {
        if at(p) != b',' {
            return Err(invalid());
        }
        let (two, p) = strtol(s, p + 1);
        let p = skip(p);
        if at(p) == b')' {
            start = one;
            end = two;
            step = if start <= end { 1 } else { -1 };
        } else {
            if at(p) != b',' {
                return Err(invalid());
            }
            let (three, p) = strtol(s, p + 1);
            let p = skip(p);
            if at(p) != b')' {
                return Err(invalid());
            }
            start = one;
            step = two;
            end = three;
            if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                return Err(fail(Some("invalid ~SEQ values")));
            }
        }
    }
    if head.hex && (start < 0 || end < 0) {
        return Err(fail(Some("~SEQx is only valid for positive numbers")));
    }
    Ok(Seq::Range {
        var: head.var,
        next: start,
        last: end,
        step,
        hex: head.hex,
        text: head.text,
    })
}

/// keepalived's add_lst().
pub(crate) fn parse_lst(buf: &[u8]) -> Result<Seq, SeqError> {
    let mut c = Cursor { s: buf, p: 4 };
    c.skip_blanks();
    if c.cur() != b'(' {
        return Err(fail(None));
    }
    c.p += 1;
    c.skip_blanks();
    let mut end_char = b',';
    if c.cur() == b'{' {
        end_char = b'}';
        c.p += 1;
        c.skip_blanks();
    }
    let mut params = Vec::new();
    let mut num_vars = 0usize;
    loop {
        params.push(c.take_until(b" \t,}"));
        c.skip_blanks();
        if c.cur() == end_char {
            break;
        }
        if c.cur() != b',' {
            return Err(fail(None));
        }
        c.p += 1;
        c.skip_blanks();
        num_vars += 1;
    }
    if c.cur() == b'}' {
        c.p += 1;
        c.skip_blanks();
    }
    if c.cur() != b',' {
        return Err(fail(None));
    }
    c.p += 1;
    c.skip_blanks();
    let mut values = Vec::new();
    loop {
        let mut end_char = b',';
        if c.cur() == b'{' {
            end_char = b'}';
            c.p += 1;
            c.skip_blanks();
        }
        let mut set = Vec::new();
        let mut num_values = 0usize;
        loop {
            set.push(c.take_until(b" \t,})"));
            c.skip_blanks();
            if c.cur() == end_char || (c.cur() == b')' && end_char == b',') {
                break;
            }
            if c.cur() != b',' {
                return Err(fail(None));
            }
            c.p += 1;
            c.skip_blanks();
            num_values += 1;
            if num_values > num_vars {
                return Err(fail(Some("~LST specification has too many values")));
            }
        }
        // keepalived fills missing values with blanks; it sizes a set by the
        // number of commas it saw, so keep exactly one value per variable.
        set.resize(params.len(), Vec::new());
        values.push(set);
        if c.cur() == b'}' && end_char == b'}' {
            c.p += 1;
            c.skip_blanks();
        }
        if c.cur() == b')' {
            break;
        }
        if c.cur() != b',' {
            return Err(fail(None));
        }
        c.p += 1;
        c.skip_blanks();
    }
    c.p += 1;
    c.skip_blanks();
    Ok(Seq::List {
        params,
        values,
        next: 0,
        text: c.rest(),
    })
}

impl Seq {
    /// The next `(variables to define, text)`, and whether this was the last one.
    pub(crate) fn step(&mut self) -> (Vec<Assignment>, Vec<u8>, bool) {
        match self {
            Seq::Range {
                var,
                next,
                last,
                step,
                hex,
                text,
            } => {
                let value = if *hex {
                    format!("{:x}", *next as u64)
                } else {
                    next.to_string()
                };
                let done = match next.checked_add(*step) {
                    Some(n) => {
                        *next = n;
                        (*step > 0 && n > *last) || (*step < 0 && n < *last)
                    }
                    None => true,
                };
                (vec![(var.clone(), value.into_bytes())], text.clone(), done)
            }
            Seq::List {
                params,
                values,
                next,
                text,
            } => {
                let set = values.get(*next).cloned().unwrap_or_default();
                let defs = params.iter().cloned().zip(set).collect();
                *next += 1;
                (defs, text.clone(), *next >= values.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(s: &str) -> Result<Vec<String>, SeqError> {
        let mut seq = finish_seq(parse_seq_head(s.as_bytes())?)?;
        let mut out = Vec::new();
        loop {
            let (defs, text, done) = seq.step();
            for (n, v) in defs {
                out.push(format!(
                    "{}={} {}",
                    String::from_utf8_lossy(&n),
                    String::from_utf8_lossy(&v),
                    String::from_utf8_lossy(&text)
                ));
            }
            if done || out.len() > 100 {
                return Ok(out);
            }
        }
    }

    #[test]
    fn seq_forms() {
        assert_eq!(
            seq("~SEQ(i, 3) x").expect("valid"),
            ["i=1 x", "i=2 x", "i=3 x"]
        );
        assert_eq!(seq("~SEQ(i, 0) x").expect("valid"), ["i=1 x", "i=0 x"]);
        assert_eq!(seq("~SEQ(i, -2) x").expect("valid"), ["i=-1 x", "i=-2 x"]);
        assert_eq!(
            seq("~SEQ(i, 5, 3)").expect("valid"),
            ["i=5 ", "i=4 ", "i=3 "]
        );
        assert_eq!(
            seq("~SEQ(i, 0, 16, 40) y").expect("valid"),
            ["i=0 y", "i=16 y", "i=32 y"]
        );
        assert_eq!(
            seq("~SEQx(i, 0x9, 1, 0xb) y").expect("valid"),
            ["i=9 y", "i=a y", "i=b y"]
        );
        assert!(seq("~SEQ(i, 1, -1, 5) y").is_err());
        assert!(seq("~SEQx(i, -1, 5) y").is_err());
        assert!(seq("~SEQ(i) y").is_err());
        assert!(seq("~SEQ(i, 1, 2").is_err());
        assert!(seq("~SEQ i, 1, 2)").is_err());
    }

    #[test]
    fn lst_forms() {
        let Ok(Seq::List {
            params,
            values,
            text,
            ..
        }) = parse_lst(b"~LST(IP, 1, 2, 3) a ${IP}")
        else {
            panic!("not parsed")
        };
        assert_eq!(params, [b"IP".to_vec()]);
        assert_eq!(values.len(), 3);
        assert_eq!(text, b"a ${IP}");
        let Ok(Seq::List { params, values, .. }) = parse_lst(b"~LST({A, B}, {10,1},{20},{5,6}) x")
        else {
            panic!("not parsed")
        };
        assert_eq!(params.len(), 2);
        assert_eq!(values[1], [b"20".to_vec(), Vec::new()]);
        assert!(parse_lst(b"~LST({A}, {1,2}) x").is_err());
        assert!(parse_lst(b"~LST(A 1) x").is_err());
    }
}
