//! keepalived-rs daemon library: the VRRP runtime and the process chores around it,
//! kept out of `main` so that a VRRP child process (parent/child split, reload) can
//! embed [`vrrp::VrrpRuntime`] as it is.
//!
//! - [`logging`]: keepalived-format log lines through `tracing` (`-l`, `-D`, `-G`, `-g`).
//! - [`process`]: pid files, `-s NETNS`, daemonising.
//! - [`vrrp`]: the event loop owning every router, socket pools, VIPs, GARPs.
//! - [`daemon`]: `keepalived -f FILE` as a whole: config, namespace, pid files,
//!   signals, runtime.
//! - [`control`]: the commands (stop, reload, dumps) every subsystem runtime takes.

pub mod checker;
pub mod control;
pub mod daemon;
pub mod logging;
pub mod process;
pub mod vrrp;
