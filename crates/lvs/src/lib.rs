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

pub mod health;
pub mod mapping;
pub mod runtime;

pub use health::{QuorumChange, RsState, State, VsState};
pub use mapping::{Mapped, desired_table};
pub use runtime::{Lvs, TimeoutKeeper, release_mode};
