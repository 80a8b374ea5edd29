//! keepalived-rs daemon library: the VRRP runtime and the process chores around it,
//! kept out of `main` so that the child processes embed [`vrrp::VrrpRuntime`] and
//! [`checker::CheckerRuntime`] as they are.
//!
//! - [`daemon`]: `keepalived -f FILE` as a whole: options, configuration, namespace,
//!   pid file names, per-process logging.
//! - [`parent`]: the watchdog: starts, restarts and signals the children.
//! - [`child`]: a VRRP or checker child process: signals become [`control`] commands.
//! - [`systemd`]: `Type=notify` notifications.
//! - [`reload_time`]: `reload_time_file`, keepalived's scheduled reload.
//! - [`logging`]: keepalived-format log lines through `tracing` (`-l`, `-D`, `-G`,
//!   `-g`, `-S`).
//! - [`process`]: pid files, `-s NETNS`, daemonising, process roles.
//! - [`vrrp`]: the event loop owning every router, socket pools, VIPs, GARPs.
//! - [`alert`]: `smtp_alert` mail (VRRP and checker events), queued and sent in the
//!   background.
//! - [`control`]: the commands (stop, reload, dumps) every subsystem runtime takes.

pub mod alert;
pub mod checker;
pub mod child;
pub mod control;
pub mod daemon;
pub mod dump;
pub mod logging;
pub mod metrics;
pub mod parent;
pub mod process;
pub mod reload_time;
pub mod status;
pub mod systemd;
pub mod vrrp;
