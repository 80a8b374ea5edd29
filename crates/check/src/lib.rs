//! keepalived's health checkers (keepalived 2.2.7 `keepalived/check/`).
//!
//! * [`clock`]: the checkers' clock (coarse monotonic, no system call).
//! * [`engine`]: the checker timing state machine (warmup, delay_loop, retry,
//!   delay_before_retry, alpha) and real-server liveness (all checkers up), pure
//!   and driven by time passed in.
//! * [`probe`]: one check as a future under a single total deadline (connect +
//!   request + response): TCP_CHECK and HTTP_GET with the common options
//!   (connect_ip/port, bindto, bind_port, bind_if, fwmark).
//! * [`http`]: HTTP_GET's request bytes and response parsing (status code,
//!   Content-Length, MD5 digest, body for regex), as keepalived.
//! * [`driver`]: one tokio task per checker, and an aggregator turning checker
//!   transitions into `(vs, rs, alive)` for `lvs::Lvs::set_alive` + `sync`.
//! * [`file`]: FILE_CHECK (`track_file` values watched with inotify).
//! * [`genhash`]: the genhash program (`genhash ...` / `keepalived -T ...`).
//!
//! ## Differences from keepalived 2.2.7
//!
//! * Every timeout is a total deadline for the whole check; keepalived restarts
//!   its timer on each read or write (bugs #1817/#1822), so a trickling server
//!   never fails there.
//! * Not yet implemented: BFD_CHECK — such a checker is built as
//!   [`probe::ProbeKind::Unsupported`] and always fails (so the real server is
//!   never wrongly reported up).
//! * `regex` uses the `regex` crate on the first [`http::REGEX_BODY_CAP`] bytes of
//!   the body, not PCRE2 on keepalived's 4 KiB sliding buffer; the PCRE2 options
//!   without an equivalent are ignored.

pub mod checks;
pub mod clock;
pub mod driver;
pub mod engine;
pub mod file;
pub mod genhash;
pub mod http;
pub mod probe;
pub mod tls;
