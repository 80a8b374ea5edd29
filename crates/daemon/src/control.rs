//! Commands a subsystem runtime (VRRP or checker) receives while it runs.
//!
//! Signals, the parent process and the control socket all end up here, so every
//! runtime has one input for "what the operator wants" next to its network input.
//! A runtime's `run` returns when it gets [`Command::Stop`] or when every sender is gone.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// What the operator asks of a running subsystem.
#[derive(Debug)]
pub enum Command {
    /// SIGTERM / SIGINT: stop gracefully (priority-0 adverts, VIPs removed).
    Stop,
    /// SIGHUP: apply this configuration. The caller has loaded it and refused it if it
    /// had errors, so the runtime only applies the difference.
    Reload(Box<config::Config>),
    /// SIGUSR1: write `keepalived.data` (or `_check`).
    DumpData,
    /// SIGUSR2: write `keepalived.stats`; `clear` (STATS_CLEAR) zeroes the counters after.
    DumpStats { clear: bool },
    /// SIGRTMIN+2: write `keepalived.json`.
    DumpJson,
    /// A copy of the VRRP runtime's state, for the metrics endpoint and `--status`
    /// (the checker runtime drops the reply sender).
    Snapshot(tokio::sync::oneshot::Sender<Box<crate::vrrp::snapshot::Snapshot>>),
}

pub type CommandSender = UnboundedSender<Command>;
pub type CommandReceiver = UnboundedReceiver<Command>;

/// A new command channel.
pub fn channel() -> (CommandSender, CommandReceiver) {
    unbounded_channel()
}
