//! The checker runtime: every `virtual_server`'s real servers checked, their results
//! applied to the kernel's IPVS table (crate `lvs` over crate `ipvs`), notify scripts,
//! FIFO lines and alerts sent. It runs in the checker child process.
//!
//! Placeholder until the checker child lands (issue 8): it starts nothing and waits
//! for [`Command::Stop`], so the process structure can be built around it.

use thiserror::Error;
use tracing::{info, warn};

use crate::control::{Command, CommandReceiver};

/// Why the checker runtime cannot start.
#[derive(Debug, Error)]
pub enum CheckerError {
    #[error("IPVS: {0}")]
    Ipvs(String),
}

/// Daemon-level options for the checker runtime.
#[derive(Debug, Clone, Default)]
pub struct CheckerOptions {
    /// `-D`: detail logs.
    pub log_detail: bool,
}

/// The checker runtime. See the module documentation.
pub struct CheckerRuntime {
    _options: CheckerOptions,
}

impl CheckerRuntime {
    /// Builds the virtual servers of `config` and starts their checks.
    pub async fn start(
        config: &config::Config,
        options: CheckerOptions,
    ) -> Result<CheckerRuntime, CheckerError> {
        if config.lvs.have_checker_config {
            warn!("the checker runtime is not implemented yet - no checks run");
        }
        Ok(CheckerRuntime { _options: options })
    }

    /// Runs until [`Command::Stop`] arrives or every sender is gone.
    pub async fn run(self, mut commands: CommandReceiver) {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Stop => break,
                other => info!("checker: {other:?} is not implemented yet - ignored"),
            }
        }
    }
}
