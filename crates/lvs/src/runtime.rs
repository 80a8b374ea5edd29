//! The checker process's IPVS side at run time: the configuration, the
//! health state and a [`Reconciler`], kept in step with the kernel.

use config::SourceMap;
use config::model::global::{GlobalConfig, LvsFlushOnStop, LvsTimeouts};
use config::model::lvs::LvsConfig;
use ipvs::reconcile::{ApplyReport, Kernel, Op, ReadError, Reconciler, Release};
use ipvs::{Ipvs, Timeouts};

use crate::health::{QuorumChange, State};
use crate::mapping::{Mapped, desired_table};

/// What to do with our IPVS entries at exit: `-I` keeps them, else
/// `lvs_flush_on_stop` / `lvs_flush_on_stop VS` / one by one.
pub fn release_mode(global: &GlobalConfig, dont_release_ipvs: bool) -> Release {
    if dont_release_ipvs {
        return Release::Keep;
    }
    match global.lvs_flush_on_stop {
        LvsFlushOnStop::None => Release::Remove,
        LvsFlushOnStop::Full => Release::Flush,
        LvsFlushOnStop::Vs => Release::ServicesOnly,
    }
}

/// Configuration, health and kernel state of the load balancer.
#[derive(Debug, Clone)]
pub struct Lvs {
    config: LvsConfig,
    sources: Option<SourceMap>,
    state: State,
    reconciler: Reconciler,
    /// Quorum transitions not yet taken by [`Lvs::take_quorum_changes`].
    quorum_changes: Vec<QuorumChange>,
}

/// The result of one synchronisation with the kernel.
#[derive(Debug, Default)]
pub struct Sync {
    pub report: ApplyReport,
    /// Notes from mapping the configuration (unknown groups, merged services).
    pub warnings: Vec<String>,
}

impl Lvs {
    /// Start-up state for `config`; nothing is sent yet.
    pub fn new(config: LvsConfig, sources: Option<SourceMap>) -> Lvs {
        Lvs::with_health(config, sources, |_, _| None)
    }

    /// As [`Lvs::new`], with real-server states known before the first table
    /// (see [`State::initial_with`]).
    pub fn with_health(
        config: LvsConfig,
        sources: Option<SourceMap>,
        health: impl Fn(usize, usize) -> Option<crate::RsState>,
    ) -> Lvs {
        let (state, quorum_changes) = State::initial_with(&config, health);
        Lvs {
            config,
            sources,
            state,
            reconciler: Reconciler::new(),
            quorum_changes,
        }
    }

    pub fn config(&self) -> &LvsConfig {
        &self.config
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn reconciler(&self) -> &Reconciler {
        &self.reconciler
    }

    /// The table for the current configuration and health.
    pub fn desired(&self) -> Mapped {
        desired_table(&self.config, &self.state, self.sources.as_ref())
    }

    /// Programs the kernel at start-up; `lvs_flush` first empties the whole
    /// table (keepalived: only at start, not on reload).
    pub fn start<K: Kernel + ?Sized>(
        &mut self,
        kernel: &mut K,
        lvs_flush: bool,
    ) -> Result<Sync, ReadError> {
        let mut flushed = ApplyReport::default();
        if lvs_flush {
            match kernel.execute(&Op::Flush) {
                Ok(()) => flushed.applied.push(Op::Flush),
                Err(error) => flushed.failed.push(ipvs::reconcile::OpFailure {
                    op: Op::Flush,
                    origin: Some("lvs_flush".into()),
                    error,
                }),
            }
        }
        let mut sync = self.sync(kernel)?;
        flushed.applied.append(&mut sync.report.applied);
        flushed.failed.append(&mut sync.report.failed);
        flushed.skipped.append(&mut sync.report.skipped);
        sync.report = flushed;
        Ok(sync)
    }

    /// Brings the kernel in line with the configuration and health.
    pub fn sync<K: Kernel + ?Sized>(&mut self, kernel: &mut K) -> Result<Sync, ReadError> {
        let mapped = self.desired();
        let report = self.reconciler.reconcile(kernel, &mapped.desired)?;
        Ok(Sync {
            report,
            warnings: mapped.warnings,
        })
    }

    /// A reload: the new configuration takes over the state of what it
    /// still contains, and only the differences reach the kernel.
    pub fn reload<K: Kernel + ?Sized>(
        &mut self,
        kernel: &mut K,
        config: LvsConfig,
        sources: Option<SourceMap>,
    ) -> Result<Sync, ReadError> {
        let (state, changes) = self.state.reloaded(&self.config, &config);
        self.config = config;
        self.sources = sources;
        self.state = state;
        self.quorum_changes.extend(changes);
        self.sync(kernel)
    }

    /// A checker's verdict on real server `rs` of virtual server `vs`
    /// (indexes into the configuration). Call [`Lvs::sync`] afterwards.
    pub fn set_alive(&mut self, vs: usize, rs: usize, alive: bool) {
        let change = self.state.set_alive(&self.config, vs, rs, alive);
        self.quorum_changes.extend(change);
    }

    /// A dynamic weight change (MISC_CHECK misc_dynamic, FILE_CHECK).
    pub fn set_weight(&mut self, vs: usize, rs: usize, weight: i64) {
        let change = self.state.set_weight(&self.config, vs, rs, weight);
        self.quorum_changes.extend(change);
    }

    /// Quorum transitions since the last call (for `quorum_up`/`quorum_down`).
    pub fn take_quorum_changes(&mut self) -> Vec<QuorumChange> {
        std::mem::take(&mut self.quorum_changes)
    }

    /// Removes our entries as `mode` says (see [`release_mode`]).
    pub fn stop<K: Kernel + ?Sized>(&mut self, kernel: &mut K, mode: Release) -> ApplyReport {
        self.reconciler.release(kernel, mode)
    }
}

/// `lvs_timeouts`, with keepalived's bookkeeping (`libipvs.c`
/// `ipvs_set_timeout`, `ipvswrapper.c` `ipvs_stop`): the kernel's values are
/// saved before the first change; unset ones keep the saved value; a reload
/// without `lvs_timeouts` and the exit put the saved values back.
#[derive(Debug, Clone, Default)]
pub struct TimeoutKeeper {
    original: Option<Timeouts>,
}

impl TimeoutKeeper {
    pub fn new() -> Self {
        TimeoutKeeper::default()
    }

    /// The kernel's values before we changed them, if we did.
    pub fn original(&self) -> Option<Timeouts> {
        self.original
    }

    /// Applies the configured timeouts (at start and on reload).
    pub fn apply(&mut self, ipvs: &mut Ipvs, wanted: &LvsTimeouts) -> Result<(), ipvs::Error> {
        if wanted.tcp.is_none() && wanted.tcpfin.is_none() && wanted.udp.is_none() {
            return self.restore(ipvs);
        }
        let original = match self.original {
            Some(original) => original,
            None => {
                let now = ipvs.timeouts()?;
                self.original = Some(now);
                now
            }
        };
        ipvs.set_timeouts(&Timeouts {
            tcp: wanted.tcp.unwrap_or(original.tcp),
            tcp_fin: wanted.tcpfin.unwrap_or(original.tcp_fin),
            udp: wanted.udp.unwrap_or(original.udp),
        })
    }

    /// Puts the saved values back (at exit); nothing if we changed nothing.
    pub fn restore(&mut self, ipvs: &mut Ipvs) -> Result<(), ipvs::Error> {
        match self.original.take() {
            Some(original) => ipvs.set_timeouts(&original),
            None => Ok(()),
        }
    }
}
