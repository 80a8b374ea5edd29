//! keepalived's checker-side IPVS semantics (keepalived 2.2.7
//! `check/ipwrapper.c`, `check/ipvswrapper.c`), as pure functions over the
//! typed configuration, plus a small runtime that keeps the kernel in step.
//!
//! * [`health`]: per real server liveness and weight, per virtual server
//!   quorum with hysteresis ([`health::State`]). Real-server health will come
//!   from the checkers; until then a real server starts up unless one of its
//!   checkers is in `alpha` mode (keepalived: alpha checkers start failed).
//! * [`mapping`]: configuration + state → [`ipvs::reconcile::DesiredTable`]:
//!   `virtual_server` by address, fwmark or `group` (ranges and fwmarks
//!   expanded), `lvs_sched`, scheduler flags, `lvs_method` (NAT/DR/TUN with
//!   tunnel options), `persistence_*`, real server weights and thresholds,
//!   `inhibit_on_failure`, the sorry server (`sorry_server_inhibit`,
//!   `sorry_server_lvs_method`) while quorum is down.
//! * [`runtime::Lvs`]: start (`lvs_flush`), reload (only what changed is
//!   sent, state carried over), health/weight updates, and stop (`-I`,
//!   `lvs_flush_on_stop [VS]`), over any [`ipvs::reconcile::Kernel`];
//!   [`runtime::TimeoutKeeper`] for `lvs_timeouts` (restored at exit).
//!
//! The ipvs crate knows nothing of the configuration; this crate is the only
//! place where the two meet.
//!
//! ## Differences from keepalived 2.2.7 (deliberate)
//!
//! * Declarative: the table is recomputed from configuration + state and
//!   the difference sent, instead of keepalived's per-event commands. The
//!   resulting tables are the same (tests/vm.rs compares them with
//!   keepalived's at start-up and after a reload).
//! * A group entry added by a reload gets the same real servers a fresh
//!   start would give it. keepalived's `ipvs_group_sync_entry()` uses the
//!   configured real-server port there (0 for a DR server without one),
//!   and at exit it then leaves that service behind.
//! * A service that already exists in the kernel and that the configuration
//!   names is adopted and edited to the configured settings (keepalived's
//!   add fails with EEXIST, which it ignores, keeping the old settings).
//! * Not here: `nftables_ipvs` automatic fwmarks; running the
//!   `quorum_up`/`quorum_down`/notify scripts, SMTP, FIFO and SNMP
//!   notifications (quorum transitions are returned as [`QuorumChange`]s
//!   for the daemon); `omega` and `ha_suspend` have no effect on the table.
//! * A group range is expanded to at most [`mapping::MAX_RANGE_SERVICES`]
//!   services (with a warning).

pub mod health;
pub mod mapping;
pub mod runtime;

pub use health::{QuorumChange, RsState, State, VsState};
pub use mapping::{Mapped, desired_table};
pub use runtime::{Lvs, TimeoutKeeper, release_mode};
