//! The reader against keepalived 2.2.7's `read_line()` behaviour (lib/parser.c).
//! Expected lines/levels were checked against `keepalived -t` 2.2.7.

use std::path::{Path, PathBuf};

use config::Diagnostics;
use config::Level;
use config::reader::{Line, Reader, ReaderOptions};
use proptest::prelude::*;

fn opts(id: &str) -> ReaderOptions {
    ReaderOptions {
        config_id: Some(id.to_string()),
        ..ReaderOptions::default()
    }
}

/// All lines as (line number, words joined by '|'), and the diagnostics.
fn read_all(reader: &mut Reader, diags: &mut Diagnostics) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    while let Some(line) = reader.next_line(diags) {
        out.push((line.span.line, line.words().collect::<Vec<_>>().join("|")));
    }
    out
}

fn lines_of(text: &str) -> (Vec<(u32, String)>, Diagnostics, Reader) {
    let mut diags = Diagnostics::default();
    let mut reader = Reader::from_str("t.conf", text, opts("node1"), &mut diags);
    let lines = read_all(&mut reader, &mut diags);
    (lines, diags, reader)
}

fn levels(diags: &Diagnostics) -> Vec<(Level, Option<u32>)> {
    diags
        .items
        .iter()
        .map(|d| (d.level, d.span.map(|s| s.line)))
        .collect()
}

fn l(n: u32, s: &str) -> (u32, String) {
    (n, s.to_string())
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("kars-reader-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, rel: &str, text: &[u8]) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open_all(
    path: &Path,
    options: ReaderOptions,
) -> (Vec<(String, u32, String)>, Diagnostics, Reader) {
    let mut diags = Diagnostics::default();
    let mut reader = Reader::open(path, options, &mut diags);
    let mut out = Vec::new();
    while let Some(line) = reader.next_line(&mut diags) {
        let name = reader
            .sources()
            .path(line.span.file)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        out.push((
            name,
            line.span.line,
            line.words().collect::<Vec<_>>().join("|"),
        ));
    }
    (out, diags, reader)
}

#[test]
fn comments_escapes_and_columns() {
    let (lines, diags, _) =
        lines_of("  a b # c\n! all\nx \\# y ! z\nq \"in # quote\" # out\nr \"\\#\" s\n");
    // `\#` is unescaped by the first decomment and, as in keepalived -t's VRRP and
    // checker parses (which re-read the decommented copy), is a comment after that.
    assert_eq!(
        lines,
        [
            l(1, "a|b"),
            l(3, "x"),
            l(4, "q|in # quote"),
            l(5, "r|\\#|s")
        ]
    );
    assert!(diags.is_empty());
    let mut d = Diagnostics::default();
    let mut r = Reader::from_str("t.conf", "\t  word  \"two\"\n", opts("n"), &mut d);
    let line: Line = r.next_line(&mut d).expect("a line");
    let cols: Vec<u32> = line.tokens.iter().map(|t| t.col).collect();
    assert_eq!(cols, [4, 10]);
    assert!(line.tokens.get(1).is_some_and(|t| t.quoted));
}

#[test]
fn braces_split_like_read_line() {
    let (lines, diags, reader) = lines_of("a { b } c\nd \"x { y\" { e\n}\n} }\n{ f\n");
    assert_eq!(
        lines,
        [
            l(1, "a"),
            l(1, "{"),
            l(1, "b"),
            l(1, "}"),
            l(1, "c"),
            l(2, "d|x { y"),
            l(2, "{"),
            l(2, "e"),
            l(3, "}"),
            l(4, "}"),
            l(4, "}"),
            l(5, "{"),
            l(5, "f"),
        ]
    );
    // keepalived: "Extra '}' found" for each '}' that would go below zero.
    assert_eq!(
        levels(&diags),
        [
            (Level::UnexpectedBlockEnd, Some(4)),
            (Level::UnexpectedBlockEnd, Some(4))
        ]
    );
    assert_eq!(reader.block_depth(), 1);
}

#[test]
fn unterminated_quotes_report_like_keepalived() {
    let (lines, diags, _) = lines_of("a \"b\nc\n");
    assert_eq!(lines, [l(1, "a"), l(2, "c")]);
    // decomment() reports a general error, alloc_strvec() the unmatched quote.
    assert_eq!(
        levels(&diags),
        [
            (Level::GeneralError, Some(1)),
            (Level::UnmatchedQuote, Some(1))
        ]
    );
}

#[test]
fn long_lines_and_nul_bytes_follow_fgets() {
    let mut text = String::from("first\nlong ");
    text.push_str(&"x".repeat(1100));
    text.push_str(" tail\nnul\0 more\nafter\n");
    let (lines, _, _) = lines_of(&text);
    let numbers: Vec<u32> = lines.iter().map(|(n, _)| *n).collect();
    // The first 1023 bytes come before the line counter moves; a NUL hides the newline.
    assert_eq!(numbers, [1, 1, 2, 2, 3]);
    assert_eq!(lines.get(3), Some(&l(2, "nul")));
}

#[test]
fn a_last_line_without_newline_is_counted() {
    let (lines, _, _) = lines_of("a\nb");
    assert_eq!(lines, [l(1, "a"), l(2, "b")]);
}

#[test]
fn binary_junk_never_panics() {
    let junk: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let dir = TempDir::new("junk");
    let path = dir.write("junk.bin", &junk);
    let (lines, _, _) = open_all(&path, opts("n"));
    assert!(!lines.is_empty());
}

#[test]
fn conditionals_use_the_config_id() {
    let text = "@node1 yes1\n@^node1 no1\n@other no2\n@^other yes2\n@node1\n@node1\tyes3 x\n";
    let (lines, _, _) = lines_of(text);
    assert_eq!(lines, [l(1, "yes1"), l(4, "yes2"), l(6, "yes3|x")]);
}

#[test]
fn definitions_expand() {
    let text = "$A=1\n$B=two words\nk $A $B\nk ${A}x $A.x $NOPE\n$A =3\nk $A\n$_HASH=z\nk $_HASH \"${_BANG}\" ${_INSTANCE} ${_BANG} gone\n";
    let (lines, _, _) = lines_of(text);
    assert_eq!(
        lines,
        [
            l(3, "k|1|two|words"),
            l(4, "k|1x|$A.x|$NOPE"),
            l(5, "1|=3"),
            l(6, "k|1"),
            l(8, "k|z|!|node1"),
        ]
    );
}

#[test]
fn expanded_words_have_no_column() {
    let mut d = Diagnostics::default();
    let mut r = Reader::from_str("t.conf", "$A=v\nk $A\n", opts("n"), &mut d);
    let line = r.next_line(&mut d).expect("line");
    let cols: Vec<u32> = line.tokens.iter().map(|t| t.col).collect();
    assert_eq!(cols, [1, 0]);
}

#[test]
fn multiline_definitions() {
    let text = "$M=first \\\n  second \\\n\n  third\nk\n$M\nk2 $M\n$M more\n";
    let (lines, _, _) = lines_of(text);
    // The blank line ends the definition; "third" is an ordinary line. A multiline
    // definition only expands at the end of a line.
    assert_eq!(
        lines,
        [
            l(4, "third"),
            l(5, "k"),
            l(6, "first"),
            l(6, "second"),
            l(7, "k2|first"),
            l(7, "second"),
            l(8, "$M|more"),
        ]
    );
}

#[test]
fn recursive_definitions_are_stopped() {
    let (lines, diags, _) = lines_of("$A=$A\nk $A\n$B=x$B\nk2 $B\nend\n");
    assert!(lines.iter().any(|(n, w)| *n == 5 && w == "end"));
    assert!(
        diags
            .items
            .iter()
            .any(|d| d.level == Level::GeneralError && d.span.map(|s| s.line) == Some(2))
    );
}

#[test]
fn self_referencing_multiline_definitions_are_stopped() {
    // Tail recursion: keepalived loops forever; we stop at the generated-line bound.
    let text = "$M=a \\\n  $N\n\n$N=b \\\n  $M\n\n$M\nend\n";
    let mut diags = Diagnostics::default();
    let mut reader = Reader::from_str("t.conf", text, opts("n"), &mut diags);
    reader.set_generated_line_limit(1_000);
    let lines = read_all(&mut reader, &mut diags);
    assert!(lines.len() <= 1_001, "{} lines", lines.len());
    assert!(diags.items.iter().any(|d| d.level == Level::GeneralError));
    // Nested recursion (the reference is not the last line of the value): each level
    // stacks the rest of the outer definition; we stop at 64 levels and go on.
    let text = "$M=a \\\n  $M \\\n  c\n\n$M\nend\n";
    let (lines, diags, _) = lines_of(text);
    assert!(lines.len() < 200, "{} lines", lines.len());
    assert_eq!(lines.last(), Some(&l(6, "end")));
    assert!(diags.items.iter().any(|d| d.level == Level::GeneralError));
}

#[test]
fn seq_and_lst() {
    let text = "~SEQ(i,3) s$i\n~SEQ(i,1,2) ~SEQ(j,2) n${i}_${j}\n~LST({P,Q},{1,2},{3}) l${P}_${Q}\n~SEQx(h,9,1,11) h${h}\n~SEQ(i,1,-1,5) bad\n~LST(a b) bad\n";
    let (lines, diags, _) = lines_of(text);
    let words: Vec<&str> = lines.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(
        words,
        [
            "s1", "s2", "s3", "n1_1", "n1_2", "n2_1", "n2_2", "l1_2", "l3_", "h9", "ha", "hb"
        ]
    );
    assert_eq!(
        levels(&diags),
        [
            (Level::GeneralError, Some(5)),
            (Level::GeneralError, Some(5)),
            (Level::GeneralError, Some(6)),
        ]
    );
}

#[test]
fn seq_inside_a_definition() {
    let (lines, _, _) = lines_of("$D=~SEQ(k,2) d$k\n$D\n");
    assert_eq!(lines, [l(2, "d1"), l(2, "d2")]);
}

#[test]
fn a_huge_seq_is_bounded() {
    let mut diags = Diagnostics::default();
    let mut reader = Reader::from_str(
        "t.conf",
        "~SEQ(a,1000) ~SEQ(b,1000) ~SEQ(c,1000) x\nend\n",
        opts("n"),
        &mut diags,
    );
    reader.set_generated_line_limit(20_000);
    let lines = read_all(&mut reader, &mut diags);
    assert!(lines.len() <= 20_000);
    assert!(lines.len() >= 19_000);
    assert!(diags.items.iter().any(|d| d.level == Level::GeneralError));
}

#[test]
fn includes_relative_to_the_including_file() {
    let dir = TempDir::new("incl");
    let main = dir.write(
        "main.conf",
        b"top\ninclude inc/*.conf\nincludem missing.conf\ninclude missing2.conf\nincludew none*.conf\ninclude inc/sub\nincluder inc/sub\nend\n",
    );
    dir.write("inc/a.conf", b"a1\n\na3\n");
    dir.write("inc/b.conf", b"b1\ninclude sub/c.conf\nb3\n");
    dir.write("inc/sub/c.conf", b"c1\n");
    let (lines, diags, reader) = open_all(&main, opts("n"));
    let main_name = main.display().to_string();
    let got: Vec<(String, u32, String)> = lines;
    let expect = |f: &str, n: u32, w: &str| (f.to_string(), n, w.to_string());
    assert_eq!(
        got,
        [
            expect(&main_name, 1, "top"),
            expect("inc/a.conf", 1, "a1"),
            expect("inc/a.conf", 3, "a3"),
            expect("inc/b.conf", 1, "b1"),
            expect("sub/c.conf", 1, "c1"),
            expect("inc/b.conf", 3, "b3"),
            expect(&main_name, 8, "end"),
        ]
    );
    // Levels as keepalived: only the checked variants are fatal.
    assert_eq!(
        levels(&diags),
        [
            (Level::FileNotFound, Some(3)),
            (Level::Logged, Some(4)),
            (Level::FileNotFound, Some(5)),
            (Level::Logged, Some(6)),
            (Level::FileNotFound, Some(7)),
        ]
    );
    assert!(reader.had_file_error());
}

#[test]
fn include_braces_and_include_check() {
    let dir = TempDir::new("brace");
    let main = dir.write("main.conf", b"include {a,zz}.conf\nincludeb {a,zz}.conf\n");
    dir.write("a.conf", b"a\n");
    let (lines, diags, _) = open_all(&main, opts("n"));
    let words: Vec<&str> = lines.iter().map(|(_, _, w)| w.as_str()).collect();
    // "Some config files missing": printed for include, fatal (and skipped) for includeb.
    assert_eq!(words, ["a"]);
    assert_eq!(
        levels(&diags),
        [(Level::Logged, Some(1)), (Level::FileNotFound, Some(2))]
    );
    let mut all = opts("n");
    all.all_config = true;
    let (_, diags, _) = open_all(&main, all);
    assert!(diags.items.iter().all(|d| d.level == Level::FileNotFound));
}

#[test]
fn include_check_keyword_changes_later_includes() {
    let dir = TempDir::new("check");
    let main = dir.write("main.conf", b"k\ninclude missing.conf\n");
    let mut diags = Diagnostics::default();
    let mut reader = Reader::open(&main, opts("n"), &mut diags);
    let _ = reader.next_line(&mut diags);
    reader.include_check_set(&["match"], &mut diags);
    while reader.next_line(&mut diags).is_some() {}
    assert_eq!(levels(&diags), [(Level::FileNotFound, Some(2))]);

    let mut diags = Diagnostics::default();
    let mut reader = Reader::open(&main, opts("n"), &mut diags);
    let _ = reader.next_line(&mut diags);
    reader.set_include_check(true, true, false, false);
    while reader.next_line(&mut diags).is_some() {}
    assert_eq!(levels(&diags), [(Level::FileNotFound, Some(2))]);
    assert!(reader.had_file_error());
}

#[test]
fn include_loops_are_bounded() {
    let dir = TempDir::new("loop");
    let main = dir.write("main.conf", b"x\ninclude main.conf\ninclude main.conf\n");
    let (lines, diags, _) = open_all(&main, opts("n"));
    assert!(!lines.is_empty());
    assert!(diags.items.iter().any(|d| d.level == Level::GeneralError));
}

#[test]
fn main_file_checks() {
    let dir = TempDir::new("main");
    let (lines, diags, reader) = open_all(&dir.0.join("nope.conf"), opts("n"));
    assert!(lines.is_empty());
    assert!(!reader.opened());
    // keepalived -t exits 0 for a missing main file: the message is not an error level.
    assert_eq!(levels(&diags), [(Level::Logged, None)]);
    dir.write("a1.conf", b"one\n");
    dir.write("a2.conf", b"two\n");
    let pattern = dir.0.join("a*.conf");
    let (lines, diags, _) = open_all(&pattern, opts("n"));
    assert_eq!(lines.len(), 2);
    assert_eq!(levels(&diags), [(Level::MultipleFiles, None)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut diags = Diagnostics::default();
        let mut reader = Reader::from_str("p.conf", &text, opts("n"), &mut diags);
        reader.set_generated_line_limit(5_000);
        let mut count = 0usize;
        while reader.next_line(&mut diags).is_some() {
            count += 1;
            prop_assert!(count <= 2_000_000);
        }
    }

    #[test]
    fn preprocessor_shaped_input_terminates(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("$A=".to_string()), Just("$A".to_string()), Just("${A}".to_string()),
                Just("~SEQ(i,".to_string()), Just("~LST({".to_string()), Just(")".to_string()),
                Just("}".to_string()), Just("{".to_string()), Just("\"".to_string()),
                Just("\\".to_string()), Just("\n".to_string()), Just(" ".to_string()),
                Just("@n ".to_string()), Just("#".to_string()), Just(",".to_string()),
                Just("9".to_string()), Just("$i".to_string()), Just("x".to_string()),
            ],
            0..60,
        )
    ) {
        let text: String = parts.concat();
        let mut diags = Diagnostics::default();
        let mut reader = Reader::from_str("p.conf", &text, opts("n"), &mut diags);
        reader.set_generated_line_limit(5_000);
        while reader.next_line(&mut diags).is_some() {}
    }
}
