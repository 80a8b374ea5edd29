//! `$NAME=value` definitions and their expansion (keepalived lib/parser.c:
//! `check_definition()`, `find_definition()`, `replace_param()`, `set_std_definitions()`).

use super::text::{BLANKS, ColBuf, strtoul10};

/// Built-in definitions computed at each use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `${_PWD}`: the directory of the file being read.
    Pwd,
    /// `${_INSTANCE}`: keepalived 2.2.7 expands it to the config id.
    Instance,
    /// `${_RANDOM [MIN [MAX]]}`.
    Random,
}

#[derive(Debug, Clone)]
pub(crate) struct Def {
    pub name: Vec<u8>,
    /// Lines separated by `\n` when `multiline`.
    pub value: Vec<u8>,
    pub multiline: bool,
    pub builtin: Option<Builtin>,
    pub max_params: u32,
}

/// What a lookup matched: the definition and, for `${NAME 1 2}`, the parameter text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found {
    pub index: usize,
    /// Byte range (in the scanned buffer) of the parameters, first to last non-space.
    pub params: Option<(usize, usize)>,
}

/// What the environment provides for built-ins.
pub(crate) trait BuiltinSource {
    fn pwd(&self) -> Vec<u8>;
    fn instance(&self) -> Vec<u8>;
    fn random(&mut self) -> u64;
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Defs {
    pub list: Vec<Def>,
}

/// Replacements allowed while expanding one line: keepalived loops forever on
/// `$A=$A`; we stop and report.
pub(crate) const MAX_REPLACEMENTS: usize = 1024;

/// Why an expansion stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandStop {
    /// The line would exceed keepalived's MAXBUF (keepalived only logs this).
    LineTooLong,
    /// Our own bound on recursive expansion was reached.
    ReplacementLimit,
    /// Multiline definitions nested deeper than [`MAX_MULTILINE_DEPTH`].
    NestingLimit,
}

/// Nesting allowed for multiline definitions expanded inside multiline definitions
/// (keepalived stacks them without limit, so a self-referencing one never ends).
pub(crate) const MAX_MULTILINE_DEPTH: usize = 64;

/// The result of `replace_param()`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expansion {
    pub found: bool,
    pub stop: Option<ExpandStop>,
    /// Log-only messages (keepalived's log_message), e.g. extra `${_RANDOM}` parameters.
    pub notes: Vec<String>,
}

fn is_alpha(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Defs {
    pub(crate) fn with_builtins() -> Defs {
        let mut defs = Defs::default();
        let mut add = |name: &str, value: &str, builtin: Option<Builtin>, max_params: u32| {
            defs.list.push(Def {
                name: name.as_bytes().to_vec(),
                value: value.as_bytes().to_vec(),
                multiline: false,
                builtin,
                max_params,
            });
        };
        add("_PWD", "", Some(Builtin::Pwd), 0);
        add("_INSTANCE", "", Some(Builtin::Instance), 0);
        add("_RANDOM", "", Some(Builtin::Random), 2);
        add("_HASH", "#", None, 0);
        add("_BANG", "!", None, 0);
        defs
    }

    /// keepalived's `find_definition()` for a reference at `buf[at..]` (just after
    /// the `$`). `len` is the name length when already known (definitions).
    pub(crate) fn find(
        &self,
        buf: &[u8],
        at: usize,
        len: Option<usize>,
        definition: bool,
    ) -> Option<Found> {
        if self.list.is_empty() {
            return None;
        }
        let byte = |i: usize| buf.get(i).copied().unwrap_or(0);
        let mut name = at;
        let mut braces = false;
        if !definition && byte(name) == b'{' {
            braces = true;
            name += 1;
        }
        if !is_alpha(byte(name)) && byte(name) != b'_' {
            return None;
        }
        let mut params = None;
        let name_len = match len {
            Some(l) => l,
            None => {
                let mut p = name + 1;
                while is_name_char(byte(p)) {
                    p += 1;
                }
                let l = p - name;
                if braces {
                    if !definition {
                        let mut first = None;
                        let mut last = 0;
                        while byte(p) == b' ' || byte(p).is_ascii_digit() {
                            if byte(p) != b' ' {
                                first.get_or_insert(p);
                                last = p;
                            }
                            p += 1;
                        }
                        if let Some(first) = first {
                            if last + 1 != p {
                                return None;
                            }
                            params = Some((first, last));
                        }
                    }
                    if byte(p) != b'}' {
                        return None;
                    }
                } else if !definition && !matches!(byte(p), b' ' | b'\t' | b',' | b')' | 0) {
                    return None;
                }
                l
            }
        };
        let end_of_line = if braces {
            name + name_len + 1 >= buf.len()
        } else {
            name + name_len >= buf.len()
        };
        let allow_multiline = definition || end_of_line;
        let wanted = buf.get(name..name + name_len)?;
        let index = self
            .list
            .iter()
            .position(|d| d.name == wanted && (allow_multiline || !d.multiline))?;
        let def = self.list.get(index)?;
        if params.is_some() && def.max_params == 0 {
            return None;
        }
        Some(Found { index, params })
    }

    /// keepalived's `set_definition()` (used by `~SEQ`/`~LST` for their variables).
    pub(crate) fn set(&mut self, name: &[u8], value: &[u8]) {
        let found = self.find(name, 0, Some(name.len()), false);
        match found.and_then(|f| self.list.get_mut(f.index)) {
            Some(def) => {
                def.value = value.to_vec();
                def.builtin = None;
            }
            None => self.list.push(Def {
                name: name.to_vec(),
                value: value.to_vec(),
                multiline: false,
                builtin: None,
                max_params: 0,
            }),
        }
    }

    /// keepalived's `check_definition()`: `$NAME=value` (the line starts with `$`).
    /// Returns the index of the definition that was set.
    pub(crate) fn check_definition(&mut self, buf: &[u8]) -> Option<usize> {
        let byte = |i: usize| buf.get(i).copied().unwrap_or(0);
        if byte(0) != b'$' || (!is_alpha(byte(1)) && byte(1) != b'_') {
            return None;
        }
        let mut p = 2;
        while p < buf.len() && byte(p) != b'=' {
            if !is_name_char(byte(p)) {
                return None;
            }
            p += 1;
        }
        if byte(p) != b'=' {
            return None;
        }
        let name = buf.get(1..p)?.to_vec();
        // Skip '=' and the blanks after it.
        let mut v = p + 1;
        while BLANKS.contains(&byte(v)) {
            v += 1;
        }
        let mut value = buf.get(v..).unwrap_or_default().to_vec();
        let multiline = value.last() == Some(&b'\\');
        if multiline {
            let mut len = value.len();
            while len >= 2 && value.get(len - 2).is_some_and(|b| BLANKS.contains(b)) {
                len -= 1;
            }
            if len < 2 {
                value.clear();
            } else {
                value.truncate(len);
                if let Some(last) = value.last_mut() {
                    *last = b'\n';
                }
            }
        }
        let existing = self.find(&name, 0, Some(name.len()), true).map(|f| f.index);
        let def = Def {
            name,
            value,
            multiline,
            builtin: None,
            max_params: 0,
        };
        match existing.and_then(|i| self.list.get_mut(i).map(|d| (i, d))) {
            Some((i, slot)) => {
                slot.value = def.value;
                slot.multiline = def.multiline;
                slot.builtin = None;
                Some(i)
            }
            None => {
                self.list.push(def);
                Some(self.list.len() - 1)
            }
        }
    }

    /// keepalived's `replace_param()`: expands `$NAME` / `${NAME}` / `${NAME params}`
    /// in place, rescanning the replacement text. A multiline definition puts its
    /// first line in place and returns the rest through `multiline` (the caller feeds
    /// it as the following lines).
    pub(crate) fn replace(
        &mut self,
        buf: &mut ColBuf,
        max_len: usize,
        multiline: &mut MultilineState,
        env: &mut dyn BuiltinSource,
    ) -> Expansion {
        let mut result = Expansion::default();
        let mut cur = 0usize;
        // keepalived keeps the multiline pointer in a local and only stores it back
        // when a definition was found and the expansion completed.
        let mut multiline_ptr: Option<Vec<u8>> = multiline.rest.clone();
        let mut next_rest: Option<Vec<u8>> = None;
        let mut replacements = 0usize;
        while let Some(dollar) = buf.find_any(cur, b"$") {
            cur = dollar;
            if cur + 1 >= buf.len() {
                break;
            }
            let Some(found) = self.find(buf.bytes(), cur + 1, None, false) else {
                cur += 1;
                continue;
            };
            replacements += 1;
            if replacements > MAX_REPLACEMENTS {
                result.stop = Some(ExpandStop::ReplacementLimit);
                return result;
            }
            result.found = true;
            let braces = buf.at(cur + 1) == b'{';
            let extra = if braces { 2 } else { 0 };
            let Some(def) = self.list.get_mut(found.index) else {
                break;
            };
            next_rest.clone_from(&multiline_ptr);
            if def.multiline {
                if let Some(ptr) = &multiline_ptr {
                    if multiline.stack.len() >= MAX_MULTILINE_DEPTH {
                        result.stop = Some(ExpandStop::NestingLimit);
                        return result;
                    }
                    multiline.stack.push((ptr.clone(), multiline.seq_depth));
                }
                multiline.seq_depth = multiline.seq_count;
            }
            if let Some(builtin) = def.builtin {
                def.value = match builtin {
                    Builtin::Pwd => env.pwd(),
                    Builtin::Instance => env.instance(),
                    Builtin::Random => {
                        random_value(buf.bytes(), found.params, env, &mut result.notes)
                    }
                };
            }
            let replaced = match found.params {
                Some((_, last)) => last + 2 - cur,
                None => 1 + def.name.len() + extra,
            };
            let replacement: Vec<u8> = if def.multiline {
                let first_len = def.value.iter().position(|b| *b == b'\n');
                let rest = first_len
                    .and_then(|n| def.value.get(n + 1..))
                    .map(<[u8]>::to_vec);
                next_rest.clone_from(&rest);
                multiline_ptr = rest;
                def.value
                    .get(..first_len.unwrap_or(def.value.len()))
                    .unwrap_or_default()
                    .to_vec()
            } else {
                def.value.clone()
            };
            if (buf.len() + replacement.len()).saturating_sub(replaced) >= max_len {
                result.stop = Some(ExpandStop::LineTooLong);
                return result;
            }
            buf.splice_generated(cur, cur + replaced, &replacement);
            let first_non_blank = replacement.iter().find(|b| !BLANKS.contains(b));
            if first_non_blank == Some(&b'~') {
                break;
            }
        }
        if result.found {
            multiline.rest = next_rest;
        }
        result
    }
}

/// The multiline-expansion state keepalived keeps in statics (`next_ptr`,
/// `multiline_stack`, `multiline_seq_depth`).
#[derive(Debug, Clone, Default)]
pub(crate) struct MultilineState {
    /// The rest of the multiline definition being expanded (keepalived's `next_ptr`).
    pub rest: Option<Vec<u8>>,
    pub stack: Vec<(Vec<u8>, usize)>,
    pub seq_depth: usize,
    /// The current number of active `~SEQ`/`~LST` (kept in sync by the reader).
    pub seq_count: usize,
}

/// `${_RANDOM [MIN [MAX]]}`: MIN defaults to 0, MAX to 32767; the text is cut to the
/// number of digits of MAX as keepalived does.
fn random_value(
    buf: &[u8],
    params: Option<(usize, usize)>,
    env: &mut dyn BuiltinSource,
    notes: &mut Vec<String>,
) -> Vec<u8> {
    let mut min = 0u64;
    let mut max = 32767u64;
    if let Some((first, last)) = params {
        let (value, end) = strtoul10(buf, first);
        min = value;
        if end < last + 1 {
            let (value, end) = strtoul10(buf, end);
            max = value;
            if end != last + 1 {
                notes.push("too many parameters or extra text for ${_RANDOM}".to_string());
            }
        }
    }
    let width = max.to_string().len();
    let span = max.wrapping_sub(min).wrapping_add(1);
    let value = if span == 0 {
        min
    } else {
        (env.random() % span).wrapping_add(min)
    };
    let mut text = value.to_string().into_bytes();
    text.truncate(width);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Env;
    impl BuiltinSource for Env {
        fn pwd(&self) -> Vec<u8> {
            b"/here".to_vec()
        }
        fn instance(&self) -> Vec<u8> {
            b"host1".to_vec()
        }
        fn random(&mut self) -> u64 {
            7
        }
    }

    fn expand(defs: &mut Defs, s: &str) -> (String, Expansion) {
        let mut b = ColBuf::from_source(s.as_bytes(), 1);
        let mut m = MultilineState::default();
        let e = defs.replace(&mut b, 1024, &mut m, &mut Env);
        (b.lossy(), e)
    }

    #[test]
    fn definitions_and_uses() {
        let mut d = Defs::with_builtins();
        assert!(d.check_definition(b"$IP=10.0.0.1").is_some());
        assert!(d.check_definition(b"$BAD NAME=1").is_none());
        assert!(
            d.check_definition(b"$X = 1").is_none(),
            "no space before '='"
        );
        assert_eq!(expand(&mut d, "a $IP b").0, "a 10.0.0.1 b");
        assert_eq!(expand(&mut d, "a ${IP}/24").0, "a 10.0.0.1/24");
        assert_eq!(
            expand(&mut d, "a $IP/24").0,
            "a $IP/24",
            "needs a separator after a bare name"
        );
        assert_eq!(expand(&mut d, "a $NOPE").0, "a $NOPE");
        assert_eq!(
            expand(&mut d, "${_PWD} ${_INSTANCE} $_HASH $_BANG").0,
            "/here host1 # !"
        );
        assert_eq!(expand(&mut d, "${_RANDOM 5 9}").0, "7");
        assert_eq!(expand(&mut d, "${_RANDOM}").0, "7");
    }

    #[test]
    fn recursive_definitions_are_bounded() {
        let mut d = Defs::with_builtins();
        d.check_definition(b"$A=$A");
        let (_, e) = expand(&mut d, "x $A");
        assert_eq!(e.stop, Some(ExpandStop::ReplacementLimit));
        d.check_definition(b"$B=xx $B");
        let (_, e) = expand(&mut d, "x $B");
        assert_eq!(e.stop, Some(ExpandStop::LineTooLong));
        d.check_definition(b"$C=$D $D");
        d.check_definition(b"$D=1");
        assert_eq!(expand(&mut d, "$C").0, "1 1");
    }

    #[test]
    fn multiline_first_line_and_rest() {
        let mut d = Defs::with_builtins();
        d.check_definition(b"$M=line1\\");
        if let Some(def) = d.list.last_mut() {
            def.value.extend_from_slice(b"line2");
        }
        let mut b = ColBuf::from_source(b"$M", 1);
        let mut m = MultilineState::default();
        d.replace(&mut b, 1024, &mut m, &mut Env);
        assert_eq!(b.lossy(), "line1");
        assert_eq!(m.rest.as_deref(), Some(&b"line2"[..]));
        // Not at the end of the line: a multiline definition is not expanded.
        let (text, _) = expand(&mut d, "$M x");
        assert_eq!(text, "$M x");
    }
}
