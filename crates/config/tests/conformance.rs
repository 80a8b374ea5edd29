//! Conformance with keepalived 2.2.7 over the config corpora in ../shared/corpus.
//!
//! For every file, Debian's `keepalived -t` (the oracle) and our loader must agree on the
//! exit code and on the set of (file, line) pairs flagged. The oracle runs inside a
//! private network namespace whose only interfaces are lo and eth0..eth3; we load with
//! a `System` that describes exactly that host.
//!
//! Every divergence fails the test, except the short list in
//! `tests/conformance-known.txt`, where keepalived itself hangs or crashes (each line
//! gives the reason); a panic or a hang of ours on any file always fails. The file's
//! `floor: N` line is a second guard: at least N files must agree fully. A listed file
//! that starts to agree is reported so the list only shrinks. Details of every
//! divergence go to `<target dir>/conformance-report.txt`.
//!
//! Skips (with a message) when not root, when `keepalived` is not installed, or when the
//! corpus is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use config::{LoadOptions, System};

const INTERFACES: [&str; 5] = ["lo", "eth0", "eth1", "eth2", "eth3"];
const ORACLE_TIMEOUT_SECS: u32 = 5;
const OUR_TIMEOUT: Duration = Duration::from_secs(10);

/// The host the oracle sees: real users, groups, files and host name, but only the
/// namespace's interfaces.
struct CorpusHost;

impl System for CorpusHost {
    fn interface_exists(&self, name: &str) -> bool {
        INTERFACES.contains(&name)
    }
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        config::HostSystem.user(name)
    }
    fn group(&self, name: &str) -> Option<u32> {
        config::HostSystem.group(name)
    }
    fn hostname(&self) -> String {
        config::HostSystem.hostname()
    }
}

/// A network namespace that is deleted when dropped, even if the test fails.
struct Netns(String);

impl Netns {
    fn create() -> Option<Netns> {
        let name = format!("kacf{}", std::process::id());
        let ns = Netns(name.clone());
        let run = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !run(&["netns", "add", &name]) {
            return None;
        }
        let ok = run(&["-n", &name, "link", "set", "lo", "up"])
            && run(&[
                "-n", &name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
            ])
            && run(&[
                "-n", &name, "link", "add", "eth2", "type", "veth", "peer", "name", "eth3",
            ])
            && ["eth0", "eth1", "eth2", "eth3"]
                .iter()
                .all(|i| run(&["-n", &name, "link", "set", i, "up"]));
        ok.then_some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    exit: i32,
    /// (file name, line) pairs, with the message(s) for the report.
    lines: BTreeMap<(String, u32), Vec<String>>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            all_files(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses keepalived's `(FILE: Line N) msg` / `(Line N) msg` prefixes.
fn parse_oracle(main_file: &str, stderr: &str) -> BTreeMap<(String, u32), Vec<String>> {
    let mut lines: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    for l in stderr.lines() {
        let Some(rest) = l.strip_prefix('(') else {
            continue;
        };
        let Some(close) = rest.find(") ") else {
            continue;
        };
        let inside = &rest[..close];
        let message = rest[close + 2..].to_string();
        let (file, number) = if let Some(n) = inside.strip_prefix("Line ") {
            (file_name(main_file), n)
        } else if let Some(pos) = inside.rfind(": Line ") {
            (file_name(&inside[..pos]), &inside[pos + 7..])
        } else {
            continue;
        };
        if let Ok(n) = number.parse::<u32>() {
            lines.entry((file, n)).or_default().push(message);
        }
    }
    lines
}

fn run_oracle(ns: &str, path: &Path) -> Verdict {
    let output = Command::new("timeout")
        .arg(ORACLE_TIMEOUT_SECS.to_string())
        .args(["ip", "netns", "exec", ns, "keepalived", "-t", "-f"])
        .arg(path)
        .output();
    match output {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Verdict {
                // `timeout` re-raises a signal that killed keepalived on itself; count
                // it the way a shell does (128 + signal), as we report ours.
                exit: out
                    .status
                    .code()
                    .or_else(|| out.status.signal().map(|sig| 128 + sig))
                    .unwrap_or(-1),
                lines: parse_oracle(&path.to_string_lossy(), &stderr),
            }
        }
        Err(e) => Verdict {
            exit: -1,
            lines: BTreeMap::from([(("<oracle>".into(), 0), vec![e.to_string()])]),
        },
    }
}

enum Ours {
    Done(Verdict),
    Panicked(String),
    Hung,
}

fn run_ours(path: &Path) -> Ours {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(|| {
            let loaded = config::load_file(&owned, &LoadOptions::default(), &CorpusHost);
            let mut lines: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
            for d in &loaded.diags.items {
                if d.level == config::Level::Note {
                    continue;
                }
                if let Some(span) = d.span {
                    let name = loaded
                        .sources
                        .path(span.file)
                        .map(|p| file_name(&p.to_string_lossy()))
                        .unwrap_or_default();
                    lines
                        .entry((name, span.line))
                        .or_default()
                        .push(d.message.clone());
                }
            }
            Verdict {
                exit: loaded.exit_code(),
                lines,
            }
        });
        let _ = tx.send(result.map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        }));
    });
    match rx.recv_timeout(OUR_TIMEOUT) {
        Ok(Ok(v)) => Ours::Done(v),
        Ok(Err(msg)) => Ours::Panicked(msg),
        Err(_) => Ours::Hung,
    }
}

#[test]
fn corpus_matches_keepalived_2_2_7() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        println!("SKIP: corpus not found at {}", corpus.display());
        return;
    }
    if !is_root() {
        println!("SKIP: the oracle needs root (network namespace)");
        return;
    }
    if Command::new("keepalived").arg("-v").output().is_err() {
        println!("SKIP: keepalived (the oracle) is not installed");
        return;
    }
    let corpus = corpus.canonicalize().expect("corpus path");
    let Some(ns) = Netns::create() else {
        panic!("could not create the oracle's network namespace");
    };

    let mut files = Vec::new();
    all_files(&corpus, &mut files);
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    if let Some(filter) = &only {
        files.retain(|f| f.to_string_lossy().contains(filter.as_str()));
    }

    // Run the oracle on two threads (it is a separate process per file).
    let (tx, rx) = mpsc::channel();
    let chunks: Vec<Vec<PathBuf>> = (0..2)
        .map(|k| files.iter().skip(k).step_by(2).cloned().collect())
        .collect();
    std::thread::scope(|s| {
        for chunk in &chunks {
            let tx = tx.clone();
            let ns = ns.0.clone();
            s.spawn(move || {
                for f in chunk {
                    let v = run_oracle(&ns, f);
                    let _ = tx.send((f.clone(), v));
                }
            });
        }
    });
    drop(tx);
    let oracle: BTreeMap<PathBuf, Verdict> = rx.into_iter().collect();

    let known_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-known.txt");
    let known_text = std::fs::read_to_string(&known_path).unwrap_or_default();
    let floor: usize = known_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("floor:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let known: BTreeSet<String> = known_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("floor:"))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();

    let mut report = String::new();
    let mut agree = 0usize;
    let mut exit_agree = 0usize;
    let mut unexpected = Vec::new();
    let mut crashed = Vec::new();
    let mut now_agree = Vec::new();
    let mut diverging = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&corpus)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(expected) = oracle.get(f) else {
            continue;
        };
        let ours = run_ours(f);
        let (same, detail) = match &ours {
            Ours::Done(v) => {
                let same_exit = v.exit == expected.exit;
                if same_exit {
                    exit_agree += 1;
                }
                let ok_keys: BTreeSet<_> = expected.lines.keys().collect();
                let our_keys: BTreeSet<_> = v.lines.keys().collect();
                let mut detail = String::new();
                if !same_exit {
                    detail += &format!("  exit: keepalived {} ours {}\n", expected.exit, v.exit);
                }
                for k in ok_keys.difference(&our_keys) {
                    detail += &format!(
                        "  only keepalived {}:{}: {:?}\n",
                        k.0, k.1, expected.lines[*k]
                    );
                }
                for k in our_keys.difference(&ok_keys) {
                    detail += &format!("  only ours {}:{}: {:?}\n", k.0, k.1, v.lines[*k]);
                }
                (same_exit && ok_keys == our_keys, detail)
            }
            Ours::Panicked(m) => (false, format!("  PANIC: {m}\n")),
            Ours::Hung => (false, "  HANG: no result within 10 s\n".to_string()),
        };
        if same {
            agree += 1;
            if known.contains(&rel) {
                now_agree.push(rel.clone());
            }
        } else {
            diverging.push(rel.clone());
            report += &format!("== {rel}\n{detail}");
            if matches!(ours, Ours::Panicked(_) | Ours::Hung) {
                crashed.push(rel.clone());
            } else if !known.contains(&rel) {
                unexpected.push(rel.clone());
            }
        }
    }
    let summary = format!(
        "conformance: {agree}/{} files agree fully, {exit_agree}/{} on the exit code; {} diverge ({} not in the known list)\n",
        files.len(),
        files.len(),
        diverging.len(),
        unexpected.len()
    );
    // The target dir this test binary was built in (…/target/<profile>/deps/<bin>).
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"));
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(
        target.join("conformance-report.txt"),
        format!("{summary}{report}"),
    );
    let _ = std::fs::write(
        target.join("conformance-diverging.txt"),
        diverging.join("\n") + "\n",
    );
    print!("{summary}");
    if !now_agree.is_empty() {
        println!("these files now agree; remove them from tests/conformance-known.txt:");
        for f in &now_agree {
            println!("  {f}");
        }
    }
    assert!(
        crashed.is_empty(),
        "we panicked or hung on {} files: {:?}",
        crashed.len(),
        crashed
    );
    if !unexpected.is_empty() {
        println!(
            "{} files diverge that are not in tests/conformance-known.txt, e.g. {:?}",
            unexpected.len(),
            unexpected.iter().take(10).collect::<Vec<_>>()
        );
    }
    assert!(
        unexpected.is_empty(),
        "{} files diverge from keepalived -t and are not in tests/conformance-known.txt \
         (details in <target dir>/conformance-report.txt): {:?}",
        unexpected.len(),
        unexpected
    );
    assert!(
        agree >= floor,
        "only {agree} files agree fully with keepalived -t, below the floor of {floor} \
         in tests/conformance-known.txt (details in <target dir>/conformance-report.txt)"
    );
}
