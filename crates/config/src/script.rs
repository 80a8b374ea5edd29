//! Scripts: how keepalived parses a script line, whose user runs it, and whether it is
//! safe to run (lib/notify.c: `notify_script_init()`, `set_script_params_array()`,
//! `get_default_script_user()`, `check_script_secure()`).
//!
//! # How domains use this module
//!
//! While parsing (handlers):
//! - notify-style keywords (`notify_master "CMD ARGS" [USER [GROUP]]`, `startup_script`,
//!   `*_notify_fifo_script`, real server `notify_up`, ...): [`parse_script`]. It takes the
//!   USER/GROUP words and, when there are none, records that the script takes the
//!   default script user at this line.
//! - block-style scripts whose user comes from another keyword (`vrrp_script { script
//!   ...; user ... }`, `MISC_CHECKER { misc_path ...; user ... }`): [`parse_script_command`]
//!   for the command, [`set_script_user`] for `user USER [GROUP]`, and at the block's close
//!   (when no `user` was given) [`use_default_script_user`], which is where keepalived
//!   takes the default user.
//!
//! keepalived resolves user names while parsing; we have no host access while parsing, so
//! resolution happens at validation. `keywords::global::validate` (which runs before the
//! other domains' validation) replays, in parse order, every `script_user` and every use of
//! the default user, reporting keepalived's "unable to set default user" error at the line
//! where keepalived reports it. Domains then, in their `validate`:
//! - call [`resolve_script_user`] where keepalived would drop a script whose user cannot be
//!   set (e.g. vrrp_script: "Unable to set default user for vrrp script X - removing" at the
//!   block's close line, [`Script::user_span`]);
//! - call [`check_script_security`] for every script that keepalived's
//!   `check_*_script_security()` looks at (only when keepalived would: e.g. VRRP scripts only
//!   when there is at least one vrrp_instance), and drop the script as keepalived does,
//!   using [`ScriptVerdict::keep_notify`] or [`ScriptVerdict::keep_tracked`].
//!
//! The integrator calls [`finish_script_security`] once, after every domain validated: it
//! checks the global notify FIFO scripts and the startup/shutdown scripts, and reports the
//! single "SECURITY VIOLATION" ([`Level::Security`], exit code 6) when scripts would run
//! without `enable_script_security`. Afterwards `GlobalConfig::script_audit` tells what was
//! found; `config_test_killed` means keepalived 2.2.7's `-t` would have died with SIGTERM
//! (exit status 143) while checking a script run by a non-root user.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::diag::Level;
use crate::model::global::{DEFAULT_SCRIPT_USER, ScriptDomain, ScriptUserEvent};
use crate::parser::{Abort, Ctx};
use crate::reader::Line;
use crate::span::Span;
use crate::system::System;
use crate::{Config, Validation};

/// A script to run, as keepalived stores it (`notify_script_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// argv: the command word split again with keepalived's quoting/escaping rules, so
    /// `"/bin/x 'a b'"` gives `["/bin/x", "a b"]`. After [`check_script_security`],
    /// `args[0]` is the resolved path (PATH search, symlinks), as keepalived rewrites it.
    pub args: Vec<String>,
    /// The USER word, when given.
    pub user: Option<String>,
    /// The GROUP word, when given.
    pub group: Option<String>,
    /// Where the script was written.
    pub span: Span,
    /// Where the user was set or the default user taken (errors about the user go here).
    pub user_span: Span,
    /// Index in `GlobalConfig::script_user_log` when the script took the default user.
    pub user_event: Option<usize>,
    /// uid/gid that runs the script, once resolved.
    pub uid_gid: Option<(u32, u32)>,
    /// The result of [`check_script_security`], once checked.
    pub verdict: Option<ScriptVerdict>,
    /// keepalived's reading pass the script is parsed in (from its keyword).
    pub domain: ScriptDomain,
}

impl Script {
    /// The command line as keepalived prints it (`cmd_str()`): words quoted with `'`.
    pub fn command_string(&self) -> String {
        self.args
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The command (first word), or "" when there is none.
    pub fn command(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("")
    }

    /// Whether this is keepalived's `</path` form: it only checks that a file can be
    /// opened, nothing is executed.
    pub fn is_file_check(&self) -> bool {
        let cmd = self.command();
        cmd.strip_prefix('<')
            .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('/'))
    }
}

/// keepalived's SC_* flags (lib/notify.h) as found by [`check_script_security`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptVerdict {
    /// The file exists (SC_ISSCRIPT).
    pub is_script: bool,
    /// Executable by the script's uid/gid (SC_EXECUTABLE).
    pub executable: bool,
    /// The `</path` form (SC_SYSTEM).
    pub system: bool,
    /// Some part of the path is writable by a non-root user (SC_INSECURE).
    pub insecure: bool,
    /// Must not run (SC_INHIBIT): insecure with script security on, wrong file type, or
    /// its uid/gid cannot be used.
    pub inhibit: bool,
    /// Not found or not accessible (SC_NOTFOUND).
    pub not_found: bool,
    /// The script's user could not be set, so keepalived never created it.
    pub no_user: bool,
    /// The check ran as the script's uid/gid, different from keepalived's (see
    /// `ScriptAudit::config_test_killed`).
    pub switched_user: bool,
}

impl ScriptVerdict {
    /// keepalived's `check_notify_script_secure()`: notify scripts are kept only when
    /// found, not inhibited and executable.
    pub fn keep_notify(&self) -> bool {
        !self.no_user && !self.inhibit && !self.not_found && self.executable
    }

    /// keepalived's rule for vrrp_script, MISC_CHECKER and startup/shutdown scripts:
    /// the `</path` form is also accepted.
    pub fn keep_tracked(&self) -> bool {
        !self.no_user && !self.inhibit && !self.not_found && (self.executable || self.system)
    }
}

/// Why a script's user could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptUserError {
    #[error("script user '{0}' does not exist")]
    NoSuchUser(String),
    #[error("script group '{0}' does not exist")]
    NoSuchGroup(String),
    #[error("the default script user could not be set")]
    DefaultUnavailable,
}

/// Splits a string the way keepalived's `alloc_strvec_quoted_escaped()` does: words
/// separated by blanks, `"..."` and `'...'` quoting (quotes removed, may be glued to
/// other text), backslash escapes (`\n`, `\t`, `\xHH`, `\cX`, octal `\NNN`, `\<char>`).
/// `Err` with the missing quote character when a quote is not closed; `Ok(None)` when
/// there is a trailing lone backslash (keepalived gives up on the line).
pub fn split_quoted_escaped(src: &str) -> Result<Option<Vec<String>>, char> {
    let mut words = Vec::new();
    let mut chars = src.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| is_blank(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (_, '\\') => {
                    chars.next();
                    let Some(e) = chars.next() else {
                        return Ok(None);
                    };
                    word.push(unescape(e, &mut chars));
                }
                (Some(q), c) if c == q => {
                    chars.next();
                    quote = None;
                }
                (Some(_), c) => {
                    chars.next();
                    word.push(c);
                }
                (None, '"' | '\'') => {
                    chars.next();
                    quote = Some(c);
                }
                (None, c) if is_blank(c) => break,
                (None, c) => {
                    chars.next();
                    word.push(c);
                }
            }
        }
        if let Some(q) = quote {
            return Err(q);
        }
        words.push(word);
    }
    Ok(Some(words))
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The character an escape sequence stands for (`e` is the character after `\`).
fn unescape(e: char, rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    match e {
        'x' if rest.peek().is_some_and(char::is_ascii_hexdigit) => {
            // keepalived accumulates every hex digit into one byte.
            let mut value: u8 = 0;
            while let Some(d) = rest.peek().and_then(|c| c.to_digit(16)) {
                value = value.wrapping_shl(4) | u8::try_from(d).unwrap_or(0);
                rest.next();
            }
            char::from(value)
        }
        'c' if rest.peek().is_some() => {
            let c = rest.next().map(u32::from).unwrap_or(0);
            char::from_u32(c & 0x1f).unwrap_or('\0')
        }
        '0'..='7' => {
            let mut value = e.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match rest.peek().and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        value = (value << 3) + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            char::from(u8::try_from(value & 0xff).unwrap_or(0))
        }
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        other => other,
    }
}

/// The words of `line` re-split with quoting/escaping (keepalived re-reads the raw line
/// for scripts). An unclosed quote is reported (keepalived: CONFIG_UNMATCHED_QUOTE).
fn requoted_words(ctx: &mut Ctx<'_>, line: &Line) -> Option<Vec<String>> {
    match split_quoted_escaped(&line.raw) {
        Ok(words) => words.filter(|w| !w.is_empty()),
        Err(q) => {
            ctx.report_at(
                Level::UnmatchedQuote,
                line.span,
                format!("script line has no closing {q}"),
            );
            None
        }
    }
}

/// Splits the command word into argv; `None` when it has no words or cannot be split.
fn command_args(ctx: &mut Ctx<'_>, line: &Line, command: &str) -> Option<Vec<String>> {
    match split_quoted_escaped(command) {
        Ok(Some(args)) if !args.is_empty() => Some(args),
        Ok(_) => None,
        Err(q) => {
            ctx.report_at(
                Level::UnmatchedQuote,
                line.span,
                format!("script '{command}' has no closing {q}"),
            );
            None
        }
    }
}

/// The reading pass a script keyword belongs to (see [`ScriptDomain`]).
pub fn domain_of_keyword(keyword: &str) -> ScriptDomain {
    match keyword {
        "startup_script"
        | "shutdown_script"
        | "notify_fifo_script"
        | "vrrp_notify_fifo_script"
        | "lvs_notify_fifo_script" => ScriptDomain::Global,
        "notify_up" | "notify_down" | "quorum_up" | "quorum_down" | "misc_path" => {
            ScriptDomain::Checker
        }
        _ => ScriptDomain::Vrrp,
    }
}

fn new_script(args: Vec<String>, span: Span) -> Script {
    Script {
        domain: ScriptDomain::Vrrp,
        args,
        user: None,
        group: None,
        span,
        user_span: span,
        user_event: None,
        uid_gid: None,
        verdict: None,
    }
}

/// keepalived's `notify_script_init()`: word `first_word` (normally 1) of the line is the
/// command with its arguments (split again with quoting), optionally followed by USER
/// `[GROUP]`. Without USER the script takes the default script user (recorded here).
/// A missing command word aborts parsing, as in keepalived. `Ok(None)` when keepalived
/// would ignore the script (empty or unparsable command).
pub fn parse_script(
    ctx: &mut Ctx<'_>,
    line: &Line,
    first_word: usize,
) -> Result<Option<Script>, Abort> {
    // keepalived's notify_script_init() re-splits the raw line first: an unterminated
    // quote is reported there and the script dropped; only then does a missing command
    // word abort (its strvec_slot() on the re-split words).
    let Some(words) = requoted_words(ctx, line) else {
        return Ok(None);
    };
    ctx.arg(line, first_word)?;
    let Some(command) = words.get(first_word) else {
        return Ok(None);
    };
    let Some(args) = command_args(ctx, line, command) else {
        return Ok(None);
    };
    let mut script = new_script(args, line.span);
    script.domain = domain_of_keyword(line.word(0).unwrap_or(""));
    match words.get(first_word + 1) {
        Some(user) => {
            script.user = Some(user.clone());
            script.group = words.get(first_word + 2).cloned();
        }
        None => use_default_script_user(ctx, &mut script),
    }
    Ok(Some(script))
}

/// keepalived's `set_script_params_array()` alone (vrrp_script `script`, MISC_CHECKER
/// `misc_path`): the command and its arguments, no user words. `Ok(None)` when there is
/// no command (keepalived leaves the script unset and complains when the block closes).
pub fn parse_script_command(
    ctx: &mut Ctx<'_>,
    line: &Line,
    first_word: usize,
) -> Result<Option<Script>, Abort> {
    let Some(words) = requoted_words(ctx, line) else {
        return Ok(None);
    };
    let Some(command) = words.get(first_word) else {
        return Ok(None);
    };
    let domain = domain_of_keyword(line.word(0).unwrap_or(""));
    Ok(command_args(ctx, line, command).map(|args| {
        let mut script = new_script(args, line.span);
        script.domain = domain;
        script
    }))
}

/// `user USER [GROUP]` inside a script block: word `first_word` is USER. Resolution
/// (and keepalived's error for an unknown user) happens at validation with
/// [`resolve_script_user`]. A missing USER aborts parsing, as in keepalived.
pub fn set_script_user(
    ctx: &mut Ctx<'_>,
    script: &mut Script,
    line: &Line,
    first_word: usize,
) -> Result<(), Abort> {
    let user = ctx.arg(line, first_word)?;
    script.user = Some(user.to_string());
    script.group = line.word(first_word + 1).map(str::to_string);
    script.user_span = line.span;
    script.user_event = None;
    Ok(())
}

/// The script takes keepalived's default script user here (keepalived's
/// `get_default_script_user()` call): records the use at the current line.
pub fn use_default_script_user(ctx: &mut Ctx<'_>, script: &mut Script) {
    let span = ctx.current_span().unwrap_or(script.span);
    script.user_event = Some(record_default_user_use_in(ctx, span, script.domain));
    script.user_span = span;
}

/// Records a use of the default script user at `span` by something of global_defs that
/// is not a [`Script`] (a notify FIFO's owner); returns the index to look up later with
/// [`default_user_for`].
pub fn record_default_user_use(ctx: &mut Ctx<'_>, span: Span) -> usize {
    record_default_user_use_in(ctx, span, ScriptDomain::Global)
}

/// Records a use of the default script user at `span` in keepalived's reading pass
/// `domain`; returns the index to look up later with [`default_user_for`].
pub fn record_default_user_use_in(ctx: &mut Ctx<'_>, span: Span, domain: ScriptDomain) -> usize {
    let global = &mut ctx.cfg.global;
    global.script_user_log.push(ScriptUserEvent::Use {
        span,
        security: global.enable_script_security,
        domain,
    });
    global.script_user_log.len() - 1
}

/// The default user's uid/gid for a use recorded at `event`, after the replay done by
/// `keywords::global::validate`; `None` when keepalived could not set it.
pub fn default_user_for(cfg: &Config, event: usize) -> Option<(u32, u32)> {
    cfg.global
        .script_user_resolved
        .get(event)
        .copied()
        .flatten()
}

/// keepalived's `set_uid_gid()`: a user name (and optional group name) to uid/gid.
pub fn lookup_user_group(
    system: &dyn System,
    user: &str,
    group: Option<&str>,
) -> Result<(u32, u32), ScriptUserError> {
    let (uid, mut gid) = system
        .user(user)
        .ok_or_else(|| ScriptUserError::NoSuchUser(user.to_string()))?;
    if let Some(group) = group {
        gid = system
            .group(group)
            .ok_or_else(|| ScriptUserError::NoSuchGroup(group.to_string()))?;
    }
    Ok((uid, gid))
}

/// The uid/gid that runs `script` (stored in [`Script::uid_gid`]): its own USER/GROUP,
/// or the default script user in force where it was parsed. Nothing is reported: the
/// caller words keepalived's error where keepalived reports one.
pub fn resolve_script_user(
    v: &mut Validation<'_>,
    script: &mut Script,
) -> Result<(u32, u32), ScriptUserError> {
    if let Some(ids) = script.uid_gid {
        return Ok(ids);
    }
    let ids = match (&script.user, script.user_event) {
        (Some(user), _) => lookup_user_group(v.system, user, script.group.as_deref())?,
        (None, Some(event)) => {
            default_user_for(v.cfg, event).ok_or(ScriptUserError::DefaultUnavailable)?
        }
        // Never given a user nor the default (a caller did not record it): use the
        // default the last recorded use got, else the loading process's ids.
        (None, None) => match v.cfg.global.script_user_resolved.last() {
            Some(Some(ids)) => *ids,
            Some(None) => return Err(ScriptUserError::DefaultUnavailable),
            None => v.system.process_ids(),
        },
    };
    script.uid_gid = Some(ids);
    Ok(ids)
}

/// Replays the log of default-script-user events the way `keepalived -t` meets them
/// (keepalived's `set_default_script_user()` / `get_default_script_user()`): pass by
/// pass (global_defs, then checker, then VRRP keywords, see [`ScriptDomain`]), in file
/// order within a pass. Reports keepalived's errors at their lines and fills
/// `script_user_resolved`. Called once by `keywords::global::validate`.
pub fn replay_default_user(v: &mut Validation<'_>) {
    replay_default_user_up_to(v, ScriptDomain::Bfd);
}

/// [`replay_default_user`] limited to the passes up to `last_pass` (after an aborted
/// parse only the global_defs pass is known to have completed).
pub fn replay_default_user_up_to(v: &mut Validation<'_>, last_pass: ScriptDomain) {
    let ours = v.system.process_ids();
    let events = v.cfg.global.script_user_log.clone();
    // enable_script_security is set by the first (global_defs) pass, so the later passes
    // all see its final value.
    let security_at_end = v.cfg.global.enable_script_security;
    let mut order: Vec<usize> = (0..events.len()).collect();
    let pass_of = |i: usize| match events.get(i) {
        Some(ScriptUserEvent::Use { domain, .. }) => *domain,
        _ => ScriptDomain::Global,
    };
    order.retain(|&i| pass_of(i) <= last_pass);
    order.sort_by_key(|&i| (pass_of(i), i));
    let mut is_set = false;
    let mut failed = false;
    let mut current = ours;
    let mut resolved = vec![None; events.len()];
    for index in order {
        let Some(event) = events.get(index) else {
            continue;
        };
        match event {
            ScriptUserEvent::Set { user, group, span } => {
                is_set = true;
                match lookup_user_group(v.system, user, group.as_deref()) {
                    Ok(ids) => current = ids,
                    Err(_) => failed = true,
                }
                if let Some(slot) = resolved.get_mut(index) {
                    *slot = (!failed).then_some(current);
                }
                // keepalived: the handler reports whenever the default is in a failed
                // state afterwards, even if this user resolved.
                if failed {
                    let group = group
                        .as_deref()
                        .map(|g| format!(" group '{g}'"))
                        .unwrap_or_default();
                    v.diags.report(
                        Level::GeneralError,
                        Some(*span),
                        format!("script_user: cannot use user '{user}'{group} as the default script user"),
                    );
                }
            }
            ScriptUserEvent::Use {
                span,
                security,
                domain,
            } => {
                let security = if *domain == ScriptDomain::Global {
                    *security
                } else {
                    security_at_end
                };
                if !failed && !is_set {
                    is_set = true;
                    current = ours;
                    match lookup_user_group(v.system, DEFAULT_SCRIPT_USER, None) {
                        Ok(ids) => current = ids,
                        Err(_) if security => {
                            failed = true;
                            v.diags.report(
                                Level::GeneralError,
                                Some(*span),
                                format!(
                                    "cannot set the default script user: user '{DEFAULT_SCRIPT_USER}' does not exist and enable_script_security is set (use script_user)"
                                ),
                            );
                        }
                        Err(_) => {}
                    }
                }
                if let Some(slot) = resolved.get_mut(index) {
                    *slot = (!failed).then_some(current);
                }
            }
        }
    }
    v.cfg.global.script_user_resolved = resolved;
}

/// keepalived's `is_executable()`.
fn is_executable(meta: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = meta.mode();
    (uid == 0 && mode & 0o111 != 0)
        || (uid == meta.uid() && mode & 0o100 != 0)
        || (uid != meta.uid()
            && ((gid == meta.gid() && mode & 0o010 != 0)
                || (gid != meta.gid() && mode & 0o001 != 0)))
}

/// keepalived's `find_path()`: a bare command name searched in PATH (as the script's
/// uid/gid); the first regular, executable match.
fn find_in_path(system: &dyn System, file: &str, uid: u32, gid: u32) -> Option<String> {
    if file.is_empty() || file.len() > 255 {
        return None;
    }
    let path = system.path_env();
    for dir in path.split(':') {
        let candidate = if dir.is_empty() {
            file.to_string()
        } else {
            format!("{dir}/{file}")
        };
        if let Some(meta) = system.metadata(Path::new(&candidate))
            && meta.is_file()
            && is_executable(&meta, uid, gid)
        {
            return Some(candidate);
        }
    }
    None
}

/// keepalived's `check_security()`: every directory on the way to `filename`, and the
/// file itself, must be owned by root and not writable by others (directories with the
/// sticky bit excepted).
fn check_path_security(
    system: &dyn System,
    filename: &str,
    security: bool,
    verdict: &mut ScriptVerdict,
) {
    let mut prefixes: Vec<&str> = filename
        .match_indices('/')
        .map(|(i, _)| if i == 0 { "/" } else { &filename[..i] })
        .collect();
    prefixes.push(filename);
    let last = prefixes.len() - 1;
    for (index, prefix) in prefixes.iter().enumerate() {
        let is_last = index == last;
        let Some(meta) = system.symlink_metadata(Path::new(prefix)) else {
            verdict.not_found = true;
            return;
        };
        let file_type = meta.file_type();
        if (!is_last && !file_type.is_dir())
            || (is_last && !file_type.is_file() && !file_type.is_symlink())
        {
            verdict.inhibit = true;
            return;
        }
        let mode = meta.mode();
        let writable_by_others = (meta.gid() != 0 && mode & 0o020 != 0) || mode & 0o002 != 0;
        let sticky_dir = file_type.is_dir() && mode & 0o1000 != 0;
        let checked_type = (file_type.is_dir() && !sticky_dir) || file_type.is_file();
        if meta.uid() != 0 || (checked_type && writable_by_others) {
            verdict.insecure = true;
            if security {
                verdict.inhibit = true;
            }
            return;
        }
    }
}

/// keepalived's `check_script_secure()` on a script whose uid/gid is known; rewrites
/// `args[0]` to the resolved path as keepalived does.
fn check_secure(
    system: &dyn System,
    script: &mut Script,
    uid: u32,
    gid: u32,
    security: bool,
) -> ScriptVerdict {
    let mut verdict = ScriptVerdict::default();
    if script.is_file_check() {
        verdict.system = true;
        return verdict;
    }
    let Some(command) = script.args.first().cloned() else {
        verdict.not_found = true;
        return verdict;
    };
    let mut command = command;
    if !command.contains('/') {
        match find_in_path(system, &command, uid, gid) {
            Some(found) => command = found,
            None => {
                verdict.not_found = true;
                return verdict;
            }
        }
    }
    // keepalived switches to the script's uid/gid around realpath() here.
    verdict.switched_user = (uid, gid) != system.process_ids();
    let Some(canonical) = system.canonicalize(Path::new(&command)) else {
        verdict.not_found = true;
        return verdict;
    };
    let mut new_path = canonical.to_string_lossy().into_owned();
    let mut real_file_path: Option<String> = None;
    if command != new_path {
        let orig_file = command.rsplit('/').next().unwrap_or("");
        let new_file = new_path.rsplit('/').next().unwrap_or("");
        if orig_file != new_file {
            // keepalived keeps the name the script was called by (programs may behave
            // differently by name) when that name in the resolved directory is the
            // same file.
            let dir_len = new_path.len() - new_file.len();
            let candidate = format!("{}{}", &new_path[..dir_len], orig_file);
            let real = system.metadata(Path::new(&new_path));
            let same = match (&real, system.metadata(Path::new(&candidate))) {
                (Some(r), Some(c)) => r.dev() == c.dev() && r.ino() == c.ino(),
                (Some(_), None) => false,
                (None, _) => true,
            };
            if same {
                real_file_path = Some(std::mem::replace(&mut new_path, candidate));
            }
        }
        command = new_path;
    }
    if let Some(first) = script.args.first_mut() {
        *first = command.clone();
    }
    let target = real_file_path.as_deref().unwrap_or(&command);
    let Some(meta) = system.metadata(Path::new(target)) else {
        verdict.not_found = true;
        return verdict;
    };
    verdict.is_script = true;
    let mut need_protection = false;
    if is_executable(&meta, uid, gid) {
        verdict.executable = true;
        let mode = meta.mode();
        need_protection = uid == 0
            || gid == 0
            || (meta.uid() == 0 && mode & 0o100 != 0 && mode & 0o4000 != 0)
            || (meta.gid() == 0 && mode & 0o010 != 0 && mode & 0o2000 != 0);
    }
    if !need_protection {
        return verdict;
    }
    check_path_security(system, &command, security, &mut verdict);
    if let Some(real) = &real_file_path {
        check_path_security(system, real, security, &mut verdict);
    }
    verdict
}

/// keepalived's `check_script_secure()` for one script, at validation. `kind` names the
/// script in our notes ("notify_master", "vrrp_script chk", ...). Resolves the user if
/// not done yet (a script whose user cannot be set gets `no_user` and is not checked:
/// keepalived never created it), rewrites `args[0]` to the resolved path, stores and
/// returns the verdict, and remembers what it found for the final SECURITY VIOLATION
/// report. Call it exactly where keepalived checks scripts; drop the script when the
/// verdict says so ([`ScriptVerdict::keep_notify`] / [`ScriptVerdict::keep_tracked`]).
pub fn check_script_security(
    v: &mut Validation<'_>,
    script: &mut Script,
    kind: &str,
) -> ScriptVerdict {
    if let Some(verdict) = script.verdict {
        return verdict;
    }
    let verdict = match resolve_script_user(v, script) {
        Err(_) => ScriptVerdict {
            no_user: true,
            ..ScriptVerdict::default()
        },
        Ok((uid, gid)) => {
            let security = v.cfg.global.enable_script_security;
            let verdict = check_secure(v.system, script, uid, gid, security);
            note_verdict(v, script, kind, &verdict);
            verdict
        }
    };
    let audit = &mut v.cfg.global.script_audit;
    audit.any_script |= verdict.is_script;
    audit.any_insecure |= verdict.insecure;
    audit.config_test_killed |= verdict.switched_user;
    script.verdict = Some(verdict);
    verdict
}

/// keepalived only logs these (log_message); we keep them as notes.
fn note_verdict(v: &mut Validation<'_>, script: &Script, kind: &str, verdict: &ScriptVerdict) {
    let command = script.command().to_string();
    let message = if verdict.not_found {
        Some(format!(
            "{kind} script '{command}' not found or not accessible - disabled"
        ))
    } else if verdict.inhibit {
        Some(format!(
            "{kind} script '{command}' is insecure (path writable by non-root) - disabled"
        ))
    } else if verdict.insecure {
        Some(format!(
            "{kind} script '{command}' has a path writable by non-root users"
        ))
    } else if verdict.is_script && !verdict.executable {
        Some(format!(
            "{kind} script '{command}' is not executable by the user running it - disabled"
        ))
    } else {
        None
    };
    if let Some(message) = message {
        v.diags.report(Level::Note, Some(script.span), message);
    }
}

/// Which process domains keepalived would start for this configuration: it only checks
/// the scripts of a domain that has something to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveDomains {
    /// At least one vrrp_instance.
    pub vrrp: bool,
    /// At least one virtual_server.
    pub checker: bool,
}

/// Called once by the integrator after every domain validated: checks the global
/// notify-FIFO scripts (for each active domain, as keepalived's VRRP and checker
/// processes do) and the startup/shutdown scripts, then reports the SECURITY VIOLATION
/// (once, [`Level::Security`], no line: keepalived prints it after reading) when scripts
/// would run without `enable_script_security`.
pub fn finish_script_security(v: &mut Validation<'_>, active: ActiveDomains) {
    if active.vrrp || active.checker {
        check_fifo_script(v, FifoKind::Global);
    }
    if active.vrrp {
        check_fifo_script(v, FifoKind::Vrrp);
    }
    if active.checker {
        check_fifo_script(v, FifoKind::Lvs);
    }
    for startup in [true, false] {
        let slot = if startup {
            v.cfg.global.startup_script.take()
        } else {
            v.cfg.global.shutdown_script.take()
        };
        let Some(mut script) = slot else { continue };
        let kind = if startup { "startup" } else { "shutdown" };
        let verdict = check_script_security(v, &mut script, kind);
        if verdict.keep_tracked() {
            if startup {
                v.cfg.global.startup_script = Some(script);
            } else {
                v.cfg.global.shutdown_script = Some(script);
            }
        }
    }
    crate::keywords::global::share_notify_fifos(v.cfg);
    let audit = v.cfg.global.script_audit;
    if !v.cfg.global.enable_script_security && audit.any_script && !audit.reported {
        v.cfg.global.script_audit.reported = true;
        let insecure = if audit.any_insecure {
            " Some scripts are insecure."
        } else {
            ""
        };
        v.diags.report(
            Level::Security,
            None,
            format!(
                "SECURITY VIOLATION - scripts would be run but enable_script_security is not set.{insecure}"
            ),
        );
    }
}

#[derive(Clone, Copy)]
enum FifoKind {
    Global,
    Vrrp,
    Lvs,
}

fn check_fifo_script(v: &mut Validation<'_>, which: FifoKind) {
    let fifo = match which {
        FifoKind::Global => &mut v.cfg.global.notify_fifo,
        FifoKind::Vrrp => &mut v.cfg.global.vrrp_notify_fifo,
        FifoKind::Lvs => &mut v.cfg.global.lvs_notify_fifo,
    };
    let Some(mut script) = fifo.script.take() else {
        return;
    };
    let kind = match which {
        FifoKind::Global => "notify_fifo",
        FifoKind::Vrrp => "vrrp_notify_fifo",
        FifoKind::Lvs => "lvs_notify_fifo",
    };
    let verdict = check_script_security(v, &mut script, kind);
    if verdict.keep_notify() {
        let fifo = match which {
            FifoKind::Global => &mut v.cfg.global.notify_fifo,
            FifoKind::Vrrp => &mut v.cfg.global.vrrp_notify_fifo,
            FifoKind::Lvs => &mut v.cfg.global.lvs_notify_fifo,
        };
        fifo.script = Some(script);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_handles_quotes_and_escapes() {
        let w = split_quoted_escaped(r#"notify "/bin/x 'a b'" root"#)
            .ok()
            .flatten();
        assert_eq!(
            w,
            Some(vec!["notify".into(), "/bin/x 'a b'".into(), "root".into()])
        );
        let w = split_quoted_escaped(r"/bin/x 'a b' c\ d \x41\t")
            .ok()
            .flatten();
        assert_eq!(
            w,
            Some(vec![
                "/bin/x".into(),
                "a b".into(),
                "c d".into(),
                "A\t".into()
            ])
        );
        assert_eq!(split_quoted_escaped("a 'b"), Err('\''));
        assert_eq!(split_quoted_escaped("a b\\"), Ok(None));
        assert_eq!(
            split_quoted_escaped("x\"y z\"w"),
            Ok(Some(vec!["xy zw".into()]))
        );
    }

    #[test]
    fn file_check_form() {
        let mut s = new_script(
            vec!["< /etc/passwd".into()],
            Span::line(crate::span::FileId(0), 1),
        );
        assert!(s.is_file_check());
        s.args = vec!["/bin/true".into()];
        assert!(!s.is_file_check());
    }
}
