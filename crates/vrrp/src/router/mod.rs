//! The per-instance VRRP state machine (RFC 5798 §6, as keepalived 2.2.7 runs it), sans-IO.
//!
//! # Driving it (the quinn-proto model)
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use vrrp::advert::Version;
//! use vrrp::router::{Action, Input, Router, RouterConfig, Timestamp};
//!
//! let me = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11));
//! let mut router = Router::new(RouterConfig::new("VI_1", Version::V2, 51, 100, me)).unwrap();
//! let t0 = Timestamp::from_micros(0);
//! router.handle(t0, Input::Start).unwrap();
//! while let Some(action) = router.poll_action() { /* log, notify, ... */ let _ = action; }
//! // Nobody else speaks: at the deadline (Master_Down_Interval = 3.609375 s) we take over.
//! let deadline = router.next_deadline().unwrap();
//! assert_eq!(deadline.as_micros(), 3_609_375);
//! router.handle_timeout(deadline);
//! assert!(matches!(router.poll_action(), Some(Action::SendAdvert(_))));
//! ```
//!
//! - [`Router::new`] validates a [`RouterConfig`] (typed [`ConfigError`]).
//! - [`Router::handle`]`(now, `[`Input`]`)` feeds one event: [`Input::Start`] (once),
//!   [`Input::Advert`] (an advert that passed the packet checks, for this VRID),
//!   [`Input::Tracker`] (a tracked script/file/process/interface changed),
//!   [`Input::InterfaceDown`]/[`Input::InterfaceUp`] (the instance's own interface),
//!   [`Input::VirtualAddressDeleted`] (netlink saw a tracked VIP/route/rule vanish),
//!   [`Input::Stop`] (graceful shutdown: priority-0 advert, then remove the VIPs).
//!   `Err(`[`InputError`]`)` only for driver mistakes (wrong VRID, unknown tracker).
//! - [`Router::handle_timeout`]`(now)` must be called when `now ≥ `[`Router::next_deadline`]
//!   (and before feeding an input stamped later than the deadline, so events are seen in
//!   time order). Calling it early is harmless.
//! - After every call, drain [`Router::poll_action`] until `None` and perform the
//!   [`Action`]s in order: [`Action::SendAdvert`] (a ready [`Advert`] for the codec),
//!   [`Action::SendGratuitous`], [`Action::AddVips`]/[`Action::RemoveVips`] (addresses,
//!   eVIPs, routes, rules, accept-mode firewall), [`Action::StateChanged`] (the "(VI_1)
//!   Entering MASTER STATE" line), [`Action::Notify`], [`Action::NotifyMasterRxLowerPriority`],
//!   [`Action::NotifyPriorityChange`], [`Action::Log`].
//! - `now` is a [`Timestamp`]: microseconds on any monotonic clock the driver chooses.
//! - Counters (`become_master`, `release_master`, `pri_zero_sent`, ...) are in
//!   [`Router::stats`]; timers in [`Router::master_down_interval`], [`Router::skew_time`].
//! - SIGHUP reload: build the new router from the new config, call
//!   [`Router::restore_from`]`(&old)`, then [`Input::Start`].
//! - Instances in a `vrrp_sync_group` are driven through a [`SyncGroup`] instead, which has
//!   the same calls plus a member index and yields [`GroupAction`]s.
//!
//! Deliberate keepalived behaviours (not plain RFC 5798), each cited at its code:
//! startup always goes through BACKUP (only an owner that wants MASTER skips the wait);
//! a MASTER answers a lower-priority advert with its own advert and GARPs (RFC 9568);
//! `down_timer_adverts`; `preempt_delay`; owner conflict drops our priority to 254;
//! entering FAULT from MASTER sends priority-0 adverts; tracking weights.

mod actions;
mod priority;
mod sync_group;
mod timers;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use crate::advert::{Advert, Version};

pub use actions::{Action, GarpReason, LogEvent, State, Stats, SyncEvent};
pub use priority::{TrackerConfig, TrackerId, TrackerStatus};
pub use sync_group::{GroupAction, SyncGroup};
pub use timers::{
    MICROS_PER_CS, MICROS_PER_SEC, Timestamp, master_down_interval_us, minimum_skew_us,
    skew_time_us,
};

use priority::Contribution;

/// The address owner's priority (RFC 5798 §6.1).
pub const PRIORITY_OWNER: u8 = 255;
/// Priority 0: "the master is leaving" (RFC 5798 §6.4.3).
pub const PRIORITY_STOP: u8 = 0;

/// Gratuitous ARP / NA timing (keepalived `garp_*`; defaults from `global_defs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarpConfig {
    /// `garp_master_delay`: second burst after becoming MASTER (0 = none). Default 5 s.
    pub master_delay: Duration,
    /// `garp_master_repeat`: GARPs per burst. Default 5.
    pub master_repeat: u32,
    /// `garp_master_refresh`: periodic refresh while MASTER (0 = none, the default).
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`: GARPs per refresh. Default 1.
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: second burst after a lower-priority advert. Default: the
    /// master delay (5 s).
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: GARPs sent on a lower-priority advert. Default: the master
    /// repeat (5).
    pub lower_prio_repeat: u32,
}

impl Default for GarpConfig {
    fn default() -> Self {
        GarpConfig {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// One `vrrp_instance`, as far as the state machine cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Instance name, for logs ("(VI_1) Entering MASTER STATE").
    pub name: String,
    pub version: Version,
    /// `virtual_router_id`, 1..=255.
    pub vrid: u8,
    /// Base `priority`, 1..=255 (255 = address owner).
    pub priority: u8,
    /// `advert_int` in centiseconds: v2 whole seconds (100..=25500), v3 1..=4095.
    pub advert_interval_cs: u16,
    /// `state MASTER` (or priority 255 with no `state`): the wanted state at startup.
    pub wants_master: bool,
    /// Our primary (source) address, compared with the sender's on equal priority.
    pub primary_address: IpAddr,
    /// Addresses carried in our adverts.
    pub virtual_addresses: Vec<IpAddr>,
    /// `nopreempt`: a BACKUP accepts any master, whatever its priority.
    pub nopreempt: bool,
    /// `preempt_delay` (0..=1000 s).
    pub preempt_delay: Duration,
    /// `down_timer_adverts` (1..=100, default 3).
    pub down_timer_adverts: u8,
    /// `lower_prio_no_advert`: the older RFC behaviour (no answer to a lower priority).
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: send one advert before yielding to a higher priority.
    pub higher_prio_send_advert: bool,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    pub garp: GarpConfig,
    /// Weighted or weight-0 trackers (scripts, files, processes, interfaces, BFD).
    pub trackers: Vec<TrackerConfig>,
    /// Whether the instance's interface is up when the router is created.
    pub interface_up: bool,
    /// keepalived `-X/--release-vips`: leaving MASTER removes the VIPs even when the
    /// router does not believe it set them (e.g. after a reload demoted it).
    pub release_vips_always: bool,
}

impl RouterConfig {
    /// keepalived's defaults: 1 s interval, BACKUP, preemption on, 3 down-timer adverts.
    pub fn new(
        name: impl Into<String>,
        version: Version,
        vrid: u8,
        priority: u8,
        primary_address: IpAddr,
    ) -> Self {
        RouterConfig {
            name: name.into(),
            version,
            vrid,
            priority,
            advert_interval_cs: 100,
            wants_master: priority == PRIORITY_OWNER,
            primary_address,
            virtual_addresses: Vec::new(),
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            down_timer_adverts: 3,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            notify_priority_changes: false,
            garp: GarpConfig::default(),
            trackers: Vec::new(),
            interface_up: true,
            release_vips_always: false,
        }
    }
}

/// A [`RouterConfig`] the state machine cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("({name}) virtual_router_id 0 is out of range 1..255")]
    ZeroVrid { name: String },
    #[error("({name}) priority 0 is reserved for a stopping master")]
    ZeroPriority { name: String },
    #[error("({name}) advert interval {interval_cs} cs is invalid for VRRP{version}")]
    BadInterval {
        name: String,
        version: u8,
        interval_cs: u16,
    },
    #[error("({name}) down_timer_adverts {value} is out of range 1..100")]
    BadDownTimerAdverts { name: String, value: u8 },
    #[error("({name}) preempt_delay {seconds} s is out of range 0..1000")]
    PreemptDelayTooLong { name: String, seconds: u64 },
    #[error("({name}) tracker {id:?} weight {weight} is out of range -254..254")]
    TrackerWeight {
        name: String,
        id: TrackerId,
        weight: i32,
    },
    #[error("({name}) tracker {id:?} is configured twice")]
    DuplicateTracker { name: String, id: TrackerId },
}

/// An input the router refuses (the driver's mistake, never a network condition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("advert for VRID {got} given to the instance with VRID {expected}")]
    WrongVrid { expected: u8, got: u8 },
    #[error("advert of another VRRP version given to the instance")]
    WrongVersion,
    #[error("tracker {0:?} is not configured on this instance")]
    UnknownTracker(TrackerId),
    #[error("sync group has no member {0}")]
    NoSuchMember(usize),
}

/// Events fed to [`Router::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin (RFC 5798 §6.4.1; keepalived `vrrp_init_state`). Inputs before this only
    /// update tracker and interface status.
    Start,
    /// A received advertisement that passed the packet checks.
    Advert(Advert),
    /// A tracked object changed.
    Tracker {
        id: TrackerId,
        status: TrackerStatus,
    },
    /// The instance's interface went down (unless `dont_track_primary`): FAULT.
    InterfaceDown,
    /// The instance's interface came back.
    InterfaceUp,
    /// A VIP, eVIP, virtual route or rule (not `no_track`) was deleted from outside while
    /// MASTER (keepalived `set_vrrp_backup`): release everything with a priority-0 advert,
    /// go BACKUP, and come back after only Skew_Time unless someone else takes over.
    VirtualAddressDeleted,
    /// Graceful shutdown (SIGTERM).
    Stop,
}

/// Membership link to a [`SyncGroup`], kept up to date by the group.
#[derive(Debug, Clone, Copy)]
struct SyncLink {
    group_state: State,
    /// Set while the group itself moves this member, so the member does not report the
    /// transition back to the group.
    forced: bool,
}

/// Room kept in an idle router's action queue: the periodic advert, and a spare.
const IDLE_ACTION_CAPACITY: usize = 2;

/// One VRRP instance's state machine. See the module documentation for how to drive it.
#[derive(Debug, Clone)]
pub struct Router {
    config: RouterConfig,
    state: State,
    /// keepalived `wantstate`: the state we would be in, disregarding any sync group.
    want: State,
    base_priority: u8,
    effective_priority: u8,
    /// `Master_Adver_Interval` (RFC 5798 §6.1): ours, or the master's for a v3 backup.
    master_adver_int_us: u64,
    /// keepalived `ms_down_timer`: the delay the BACKUP timer was last armed with.
    down_timer_us: u64,
    /// keepalived `sands`: BACKUP → master-down expiry, MASTER → next advert.
    sands: Option<Timestamp>,
    garp_delay_at: Option<Timestamp>,
    garp_lower_prio_at: Option<Timestamp>,
    /// Checked when an advert is sent, like keepalived (not a wake-up of its own).
    garp_refresh_at: Option<Timestamp>,
    /// keepalived `preempt_time`: end of the running preempt delay.
    preempt_until: Option<Timestamp>,
    master_address: Option<IpAddr>,
    master_priority: u8,
    vips_set: bool,
    notifies_sent: bool,
    /// State of the previous incarnation, set by [`Router::restore_from`].
    reloaded_state: Option<State>,
    tracker_status: Vec<TrackerStatus>,
    interface_up: bool,
    /// Own fault causes (weight-0 trackers down, interface down).
    own_faults: usize,
    sync: Option<SyncLink>,
    actions: VecDeque<Action>,
    stats: Stats,
}

impl Router {
    /// Validate the configuration and build a router in [`State::Init`].
    pub fn new(config: RouterConfig) -> Result<Self, ConfigError> {
        validate(&config)?;
        let tracker_status = config.trackers.iter().map(|t| t.initial).collect();
        let master_adver_int_us = u64::from(config.advert_interval_cs) * MICROS_PER_CS;
        let mut router = Router {
            state: State::Init,
            want: if config.wants_master {
                State::Master
            } else {
                State::Backup
            },
            base_priority: config.priority,
            effective_priority: config.priority,
            master_adver_int_us,
            down_timer_us: 0,
            sands: None,
            garp_delay_at: None,
            garp_lower_prio_at: None,
            garp_refresh_at: None,
            preempt_until: None,
            master_address: None,
            master_priority: 0,
            vips_set: false,
            notifies_sent: false,
            reloaded_state: None,
            tracker_status,
            interface_up: config.interface_up,
            own_faults: 0,
            sync: None,
            actions: VecDeque::new(),
            stats: Stats::default(),
            config,
        };
        let (faults, total) = router.tracking_sum();
        router.own_faults = faults;
        router.effective_priority = priority::effective_priority(router.base_priority, total);
        router.down_timer_us = router.master_down_us();
        Ok(router)
    }

    /// Feed one event at time `now`.
    pub fn handle(&mut self, now: Timestamp, input: Input) -> Result<(), InputError> {
        match input {
            Input::Start => self.start(now),
            Input::Advert(advert) => self.receive(now, &advert)?,
            Input::Tracker { id, status } => {
                let index = self
                    .config
                    .trackers
                    .iter()
                    .position(|t| t.id == id)
                    .ok_or(InputError::UnknownTracker(id))?;
                if let Some(slot) = self.tracker_status.get_mut(index) {
                    *slot = status;
                }
                self.tracking_changed(now);
            }
            Input::InterfaceDown => {
                self.interface_up = false;
                self.tracking_changed(now);
            }
            Input::InterfaceUp => {
                self.interface_up = true;
                self.tracking_changed(now);
            }
            Input::VirtualAddressDeleted => {
                if self.state == State::Master {
                    self.forced(|r| r.set_backup(now));
                    if self.sync.is_some() {
                        self.push(Action::Sync(SyncEvent::AddressDeleted));
                    }
                }
            }
            Input::Stop => self.stop(),
        }
        Ok(())
    }

    /// Fire every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.garp_delay_at.is_some_and(|at| at <= now) {
            self.garp_delay_at = None;
            if self.state == State::Master && self.config.garp.master_repeat > 0 {
                self.push(Action::SendGratuitous {
                    repeat: self.config.garp.master_repeat,
                    reason: GarpReason::MasterDelay,
                });
            }
        }
        if self.garp_lower_prio_at.is_some_and(|at| at <= now) {
            self.garp_lower_prio_at = None;
            if self.state == State::Master && self.config.garp.lower_prio_repeat > 0 {
                self.push(Action::SendGratuitous {
                    repeat: self.config.garp.lower_prio_repeat,
                    reason: GarpReason::LowerPriorityDelay,
                });
            }
        }
        if self.sands.is_some_and(|at| at <= now) {
            match self.state {
                // RFC 5798 §6.4.2: Master_Down_Timer fired.
                State::Backup => self.backup_timer_expired(now),
                // RFC 5798 §6.4.3: Adver_Timer fired.
                State::Master => {
                    self.master_tx(now, State::Master);
                    self.sands = Some(now.add_micros(self.adver_int_us()));
                }
                _ => self.sands = None,
            }
        }
    }

    /// When [`Router::handle_timeout`] must next be called, if ever.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        [self.sands, self.garp_delay_at, self.garp_lower_prio_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next action to perform, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() > IDLE_ACTION_CAPACITY {
            // A transition queues up to ~8 actions; a daemon with 1000 routers would
            // keep that room forever (~400 B each). Steady state needs one (an advert).
            self.actions.shrink_to(IDLE_ACTION_CAPACITY);
        }
        action
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// keepalived `wantstate`.
    pub fn want_state(&self) -> State {
        self.want
    }

    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The priority we advertise and compare with (base + tracking, clamped).
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// The configured priority, unless an owner conflict lowered it to 254.
    pub fn base_priority(&self) -> u8 {
        self.base_priority
    }

    /// The address and priority of the last master we accepted (or, when preempting, heard).
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master_address.map(|a| (a, self.master_priority))
    }

    /// `Master_Adver_Interval` currently in force.
    pub fn master_adver_interval(&self) -> Duration {
        Duration::from_micros(self.master_adver_int_us)
    }

    /// `Skew_Time` for the current effective priority and `Master_Adver_Interval`.
    pub fn skew_time(&self) -> Duration {
        Duration::from_micros(self.skew_us())
    }

    /// `Master_Down_Interval` for the current effective priority and interval.
    pub fn master_down_interval(&self) -> Duration {
        Duration::from_micros(self.master_down_us())
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether the VIPs are installed (keepalived `vipset`).
    pub fn vips_set(&self) -> bool {
        self.vips_set
    }

    /// Whether any own fault cause (weight-0 tracker, interface down) is active.
    pub fn has_own_fault(&self) -> bool {
        self.own_faults > 0
    }

    // ----- timers ---------------------------------------------------------------------

    fn adver_int_us(&self) -> u64 {
        u64::from(self.config.advert_interval_cs) * MICROS_PER_CS
    }

    fn skew_us(&self) -> u64 {
        skew_time_us(
            self.config.version,
            self.effective_priority,
            self.master_adver_int_us,
        )
    }

    fn master_down_us(&self) -> u64 {
        master_down_interval_us(
            self.config.version,
            self.effective_priority,
            self.master_adver_int_us,
            self.config.down_timer_adverts,
        )
    }

    /// keepalived `vrrp_init_instance_sands`.
    fn rearm(&mut self, now: Timestamp) {
        self.sands = match self.state {
            State::Master => Some(now.add_micros(self.adver_int_us())),
            State::Backup => Some(now.add_micros(self.down_timer_us)),
            State::Init | State::Fault | State::Stop => None,
        };
    }

    // ----- startup and shutdown -------------------------------------------------------

    /// keepalived `vrrp_init_state`.
    fn start(&mut self, now: Timestamp) {
        if self.state != State::Init {
            return;
        }
        self.master_adver_int_us = self.adver_int_us();
        if self.own_faults > 0 {
            self.want = State::Fault;
        }
        // After a reload the instance carries its previous state (keepalived
        // `vrrp_init_state` compares against it before logging and notifying).
        let begin = self.reloaded_state.take().unwrap_or(State::Init);
        let reload_master = begin == State::Master;
        let new_state = self.sync.map_or(self.want, |link| link.group_state);
        let is_up = self.own_faults == 0;
        if is_up
            && new_state == State::Master
            && (self.base_priority == PRIORITY_OWNER || reload_master)
            && self.want == State::Master
        {
            if reload_master {
                // keepalived `reload_master`: still MASTER, advertise at once; the VIPs
                // were kept (and any new ones added by `restore_from`).
                self.state = State::Master;
                self.sands = Some(now);
            } else {
                // keepalived: the only fast path at first start. An owner that wants
                // MASTER "times out" of BACKUP after 1 µs, silently (no "Entering BACKUP
                // STATE" line, no notify).
                self.state = State::Backup;
                self.down_timer_us = 1;
                self.rearm(now);
            }
            return;
        }
        self.down_timer_us = if new_state == State::Backup && self.want == State::Master {
            // keepalived: a sync-group member that wants MASTER while its group is BACKUP
            // waits one interval to be sure nobody else is master.
            self.master_adver_int_us
                + minimum_skew_us(self.config.version, self.master_adver_int_us)
        } else {
            // Everyone else, `state MASTER` included, waits the full Master_Down_Interval.
            self.master_down_us()
        };
        // keepalived: anything a previous run (or a reloaded MASTER) left goes.
        self.restore_interface(false);
        self.state = if is_up && new_state != State::Fault {
            State::Backup
        } else {
            State::Fault
        };
        if begin != self.state {
            self.push(Action::StateChanged {
                from: begin,
                to: self.state,
            });
            // keepalived: a member in FAULT only because of its group does not notify.
            if self.state != State::Fault || self.own_faults > 0 {
                self.notify();
            }
        }
        self.rearm(now);
    }

    /// keepalived `restore_vrrp_state` (SIGHUP reload): carry the previous incarnation's
    /// state, counters and installed VIPs into this freshly configured router, before
    /// [`Input::Start`]. A reloaded MASTER stays MASTER without a down-timer wait; a
    /// reloaded BACKUP does not log or notify again. Emits [`Action::AddVips`] when the
    /// VIPs were installed, so that addresses new in the configuration are added.
    pub fn restore_from(&mut self, previous: &Router) {
        if self.state != State::Init {
            return;
        }
        self.stats = previous.stats;
        // keepalived works out FAULT afresh; it does not carry it.
        if self.own_faults == 0 && matches!(previous.state, State::Master | State::Backup) {
            self.reloaded_state = Some(previous.state);
            self.want = previous.state;
        } else if previous.state == State::Fault {
            // keepalived `vrrp_complete_init`: an instance that was in FAULT already is
            // not logged or notified again if it is still faulty.
            self.reloaded_state = Some(State::Fault);
        }
        self.vips_set = previous.vips_set;
        if self.vips_set {
            self.push(Action::AddVips);
        }
    }

    /// keepalived `restore_vrrp_interfaces` + the STOP notification.
    fn stop(&mut self) {
        if matches!(self.state, State::Stop) {
            return;
        }
        if self.state == State::Master {
            self.restore_interface(true);
        }
        let from = self.state;
        self.state = State::Stop;
        self.want = State::Stop;
        self.sands = None;
        self.garp_delay_at = None;
        self.garp_lower_prio_at = None;
        self.push(Action::StateChanged {
            from,
            to: State::Stop,
        });
        self.notify();
    }

    // ----- receiving ------------------------------------------------------------------

    fn receive(&mut self, now: Timestamp, advert: &Advert) -> Result<(), InputError> {
        if advert.vrid != self.config.vrid {
            return Err(InputError::WrongVrid {
                expected: self.config.vrid,
                got: advert.vrid,
            });
        }
        if advert.version != self.config.version {
            return Err(InputError::WrongVersion);
        }
        match self.state {
            State::Backup => {
                self.count_received(advert);
                self.backup_rx(now, advert);
            }
            State::Master => {
                self.count_received(advert);
                if self.master_rx(now, advert) {
                    self.leave_master(now, false);
                } else if !self.config.lower_prio_no_advert {
                    // keepalived `vrrp_dispatcher_read`: we (normally) just sent an
                    // advert, so the next one is a full interval away.
                    self.rearm(now);
                }
            }
            // RFC 5798 §6.4.1 / keepalived: adverts are not processed in INIT or FAULT.
            State::Init | State::Fault | State::Stop => {}
        }
        Ok(())
    }

    fn count_received(&mut self, advert: &Advert) {
        self.stats.advert_rcvd += 1;
        if advert.priority == PRIORITY_STOP {
            self.stats.pri_zero_rcvd += 1;
        }
    }

    /// RFC 5798 §6.4.2 (keepalived `vrrp_state_backup`).
    fn backup_rx(&mut self, now: Timestamp, advert: &Advert) {
        if advert.priority == PRIORITY_STOP {
            // RFC 5798 §6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set
            // the Master_Down_Timer to Skew_Time".
            self.down_timer_us = self.skew_us();
            self.rearm(now);
            return;
        }
        let preempt_delay_holds = !self.config.preempt_delay.is_zero()
            && self.preempt_until.is_none_or(|until| until > now);
        if self.config.nopreempt
            || advert.priority >= self.effective_priority
            || preempt_delay_holds
        {
            // RFC 5798 §6.4.2: accept — adopt the master's interval (v3), reset the timer.
            if self.config.version == Version::V3 {
                self.adopt_master_interval(advert.interval_cs);
            }
            self.down_timer_us = self.master_down_us();
            self.master_address = Some(advert.source);
            self.master_priority = advert.priority;
            if !self.config.preempt_delay.is_zero() {
                // keepalived: a higher/equal master stops the delay; the first lower one
                // starts it. While it runs, lower-priority masters are still accepted.
                if advert.priority >= self.effective_priority {
                    if self.preempt_until.take().is_some() {
                        self.push(Action::Log(LogEvent::PreemptDelayStopped));
                    }
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + self.config.preempt_delay);
                    self.push(Action::Log(LogEvent::PreemptDelayStarted));
                }
            }
            // keepalived: a backup held back by its sync group wants BACKUP again.
            self.want = State::Backup;
            self.rearm(now);
        } else {
            // RFC 5798 §6.4.2 "Otherwise, discard the ADVERTISEMENT": the timer keeps
            // running, so we take over when it expires.
            self.push(Action::Log(LogEvent::DiscardedLowerPriority {
                from: advert.source,
                priority: advert.priority,
            }));
            self.master_address = Some(advert.source);
        }
    }

    fn adopt_master_interval(&mut self, interval_cs: u16) {
        let interval_us = u64::from(interval_cs) * MICROS_PER_CS;
        // A zero interval never passes the packet checks; do not let one zero our timers.
        if interval_us == 0 || interval_us == self.master_adver_int_us {
            return;
        }
        let from_cs = u16::try_from(self.master_adver_int_us / MICROS_PER_CS).unwrap_or(u16::MAX);
        self.push(Action::Log(LogEvent::MasterIntervalAdopted {
            from_cs,
            to_cs: interval_cs,
        }));
        self.master_adver_int_us = interval_us;
    }

    /// Compare the sender's address with ours: RFC 5798 §6.4.3 breaks priority ties by the
    /// primary IP address. Different families compare equal, like keepalived.
    fn compare_with_own_address(&self, source: IpAddr) -> std::cmp::Ordering {
        match (source, self.config.primary_address) {
            (IpAddr::V4(a), IpAddr::V4(b)) => a.cmp(&b),
            (IpAddr::V6(a), IpAddr::V6(b)) => a.cmp(&b),
            _ => std::cmp::Ordering::Equal,
        }
    }

    /// RFC 5798 §6.4.3 (keepalived `vrrp_state_master_rx`). Returns true to go to BACKUP.
    fn master_rx(&mut self, now: Timestamp, advert: &Advert) -> bool {
        use std::cmp::Ordering;
        let addr_cmp = self.compare_with_own_address(advert.source);
        let ours = self.effective_priority;
        let higher =
            advert.priority > ours || (advert.priority == ours && addr_cmp == Ordering::Greater);

        if advert.priority == PRIORITY_STOP {
            // RFC 5798 §6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send
            // an ADVERTISEMENT" and stay MASTER.
            self.send_advert(ours);
            return false;
        }
        if self.config.higher_prio_send_advert && higher {
            // keepalived `higher_prio_send_advert`: one last advert before yielding.
            self.send_advert(ours);
        }

        if advert.priority == ours {
            if addr_cmp == Ordering::Equal {
                self.push(Action::Log(LogEvent::EqualPriorityFromOwnAddress));
            } else if ours == PRIORITY_OWNER {
                // keepalived (2.2.7 rogue owner): two owners is a configuration error; we
                // drop to 254, which makes the other owner's advert a higher priority.
                self.push(Action::Log(LogEvent::OwnerConflict {
                    from: advert.source,
                }));
                self.base_priority = PRIORITY_OWNER - 1;
                self.effective_priority = PRIORITY_OWNER - 1;
            }
        }
        let ours = self.effective_priority;

        if advert.priority < ours || (advert.priority == ours && addr_cmp == Ordering::Less) {
            // RFC 5798 §6.4.3 discards; keepalived (RFC 9568) re-asserts itself with an
            // advert unless `lower_prio_no_advert`, refreshes ARP caches and notifies.
            self.push(Action::Log(LogEvent::MasterReceivedLowerPriority {
                from: advert.source,
                priority: advert.priority,
                ours,
                forcing_election: !self.config.lower_prio_no_advert,
            }));
            if !self.config.lower_prio_no_advert {
                self.send_advert(ours);
            }
            self.lower_prio_garp(now);
            if self.sync.is_some() {
                self.push(Action::Sync(SyncEvent::LowerPriorityGarp));
            }
            self.push(Action::NotifyMasterRxLowerPriority {
                from: advert.source,
                priority: advert.priority,
            });
            return false;
        }

        if advert.priority > ours || (advert.priority == ours && addr_cmp == Ordering::Greater) {
            // RFC 5798 §6.4.3: higher priority (or equal with a higher address) → Backup.
            self.push(Action::Log(LogEvent::MasterReceivedHigherPriority {
                from: advert.source,
                priority: advert.priority,
                ours,
            }));
            if self.config.version == Version::V3 {
                self.adopt_master_interval(advert.interval_cs);
            }
            self.down_timer_us = self.master_down_us();
            self.master_priority = advert.priority;
            self.master_address = Some(advert.source);
            self.want = State::Backup;
            return true;
        }
        false
    }

    /// GARPs after a lower-priority advert (also asked of the other sync-group members).
    fn lower_prio_garp(&mut self, now: Timestamp) {
        let garp = &self.config.garp;
        if garp.lower_prio_repeat == 0 {
            return;
        }
        let repeat = garp.lower_prio_repeat;
        let delay = garp.lower_prio_delay;
        self.push(Action::SendGratuitous {
            repeat,
            reason: GarpReason::LowerPriority,
        });
        if !delay.is_zero() {
            self.garp_lower_prio_at = Some(now + delay);
        }
    }

    // ----- transitions ----------------------------------------------------------------

    fn backup_timer_expired(&mut self, now: Timestamp) {
        self.want = State::Master;
        if self.sync.is_some() {
            // keepalived `vrrp_sync_can_goto_master`: the group decides; meanwhile we wait
            // another full down interval in BACKUP.
            self.down_timer_us = self.master_down_us();
            self.rearm(now);
            self.push(Action::Sync(SyncEvent::WantMaster));
            return;
        }
        self.goto_master(now);
    }

    /// keepalived `vrrp_state_goto_master` (past the sync-group check).
    fn goto_master(&mut self, now: Timestamp) {
        let from = self.state;
        self.state = State::Master;
        self.master_tx(now, from);
        self.rearm(now);
        self.report_transition(from);
    }

    /// keepalived `vrrp_state_master_tx`: the advert first, so that the old master drops
    /// its VIPs before our GARPs go out.
    fn master_tx(&mut self, now: Timestamp, from: State) {
        self.send_advert(self.effective_priority);
        if !self.vips_set {
            self.push(Action::StateChanged {
                from,
                to: State::Master,
            });
            self.become_master(now);
            if !self.config.garp.master_delay.is_zero() {
                self.garp_delay_at = Some(now + self.config.garp.master_delay);
            }
        } else if self.garp_refresh_at.is_some_and(|at| now > at) {
            if self.config.garp.master_refresh_repeat > 0 {
                self.push(Action::SendGratuitous {
                    repeat: self.config.garp.master_refresh_repeat,
                    reason: GarpReason::Refresh,
                });
            }
            self.garp_refresh_at = Some(now + self.config.garp.master_refresh);
        }
    }

    /// keepalived `vrrp_state_become_master`.
    fn become_master(&mut self, now: Timestamp) {
        self.stats.become_master += 1;
        // RFC 5798 §6.4.1: a master advertises its own interval.
        self.master_adver_int_us = self.adver_int_us();
        self.push(Action::AddVips);
        self.vips_set = true;
        if self.config.garp.master_repeat > 0 {
            self.push(Action::SendGratuitous {
                repeat: self.config.garp.master_repeat,
                reason: GarpReason::BecameMaster,
            });
        }
        self.garp_refresh_at = if self.config.garp.master_refresh.is_zero() {
            None
        } else {
            Some(now + self.config.garp.master_refresh)
        };
        self.notify();
    }

    /// keepalived `vrrp_restore_interface`.
    fn restore_interface(&mut self, send_stop_advert: bool) {
        if send_stop_advert {
            // RFC 5798 §6.4.3 Shutdown: "Send an ADVERTISEMENT with Priority = 0".
            self.send_advert(PRIORITY_STOP);
            self.stats.pri_zero_sent += 1;
        }
        self.garp_delay_at = None;
        self.garp_lower_prio_at = None;
        self.garp_refresh_at = None;
        if self.vips_set || self.config.release_vips_always {
            self.push(Action::RemoveVips);
            self.vips_set = false;
        }
    }

    /// keepalived `vrrp_state_leave_master` (to `self.want`: BACKUP or FAULT).
    fn leave_master(&mut self, now: Timestamp, send_stop_advert: bool) {
        let to = if self.want == State::Fault {
            State::Fault
        } else {
            State::Backup
        };
        self.push(Action::StateChanged {
            from: State::Master,
            to,
        });
        if to == State::Backup {
            self.preempt_until = None;
        } else {
            // keepalived: entering FAULT from MASTER tells the others at once.
            self.send_advert(PRIORITY_STOP);
        }
        self.restore_interface(send_stop_advert);
        self.state = to;
        self.notify();
        self.down_timer_us = self.master_down_us();
        self.rearm(now);
        self.stats.release_master += 1;
        self.report_transition(State::Master);
    }

    /// keepalived `vrrp_state_leave_fault` (to `self.want`).
    fn leave_fault(&mut self, now: Timestamp) {
        if self.want == State::Master {
            self.goto_master(now);
        } else {
            let from = self.state;
            if from != self.want {
                self.push(Action::StateChanged {
                    from,
                    to: self.want,
                });
            }
            if self.want == State::Fault && from == State::Master {
                self.send_advert(PRIORITY_STOP);
                self.restore_interface(false);
            }
            self.state = self.want;
            self.notify();
            if self.state == State::Backup {
                self.preempt_until = None;
            }
            self.report_transition(from);
        }
        self.master_adver_int_us = self.adver_int_us();
        self.down_timer_us = self.master_down_us();
        self.rearm(now);
    }

    // ----- tracking -------------------------------------------------------------------

    /// (own fault causes, base + Σ weights).
    fn tracking_sum(&self) -> (usize, i64) {
        let mut faults = usize::from(!self.interface_up);
        let mut total = i64::from(self.base_priority);
        for (config, status) in self.config.trackers.iter().zip(&self.tracker_status) {
            match priority::contribution(config, *status) {
                Contribution::Fault => faults += 1,
                Contribution::Weight(w) => total += i64::from(w),
            }
        }
        (faults, total)
    }

    fn tracking_changed(&mut self, now: Timestamp) {
        let (faults, total) = self.tracking_sum();
        self.set_effective_priority(priority::effective_priority(self.base_priority, total));
        let was_faulty = self.own_faults > 0;
        self.own_faults = faults;
        if matches!(self.state, State::Init | State::Stop) {
            return;
        }
        match (was_faulty, faults > 0) {
            (false, true) => self.down_instance(now),
            (true, false) => self.try_up_instance(now),
            _ => {}
        }
    }

    /// keepalived `vrrp_set_effective_priority`: a BACKUP's running down timer moves by the
    /// change in Master_Down_Interval.
    fn set_effective_priority(&mut self, new: u8) {
        if self.base_priority == PRIORITY_OWNER || new == self.effective_priority {
            return;
        }
        self.push(Action::Log(LogEvent::EffectivePriorityChanged {
            from: self.effective_priority,
            to: new,
        }));
        self.effective_priority = new;
        let old_down = self.down_timer_us;
        self.down_timer_us = self.master_down_us();
        if self.state == State::Backup
            && let Some(sands) = self.sands
        {
            self.sands = Some(if old_down < self.down_timer_us {
                sands.add_micros(self.down_timer_us - old_down)
            } else {
                sands.sub_micros(old_down - self.down_timer_us)
            });
        }
        if self.config.notify_priority_changes {
            self.push(Action::NotifyPriorityChange { priority: new });
        }
    }

    /// keepalived `down_instance`.
    fn down_instance(&mut self, now: Timestamp) {
        self.want = State::Fault;
        if self.state == State::Master {
            // keepalived sends two priority-0 adverts here: one for entering FAULT, one
            // from releasing the addresses.
            self.leave_master(now, true);
        } else {
            self.leave_fault(now);
        }
        if self.sync.is_some() {
            self.push(Action::Sync(SyncEvent::OwnFaultRaised));
        }
    }

    /// keepalived `try_up_instance`.
    fn try_up_instance(&mut self, now: Timestamp) {
        // `down_instance` set want to FAULT, so this is BACKUP unless the group forced
        // something else in between.
        if !(self.want == State::Master && self.base_priority == PRIORITY_OWNER) {
            self.want = State::Backup;
        }
        self.master_adver_int_us = self.adver_int_us();
        if self.sync.is_some() {
            // The group decides when the whole group can leave FAULT.
            self.push(Action::Sync(SyncEvent::OwnFaultCleared));
            return;
        }
        self.leave_fault(now);
    }

    // ----- output helpers -------------------------------------------------------------

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn send_advert(&mut self, priority: u8) {
        self.stats.advert_sent += 1;
        self.push(Action::SendAdvert(Advert {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            interval_cs: self.config.advert_interval_cs,
            addresses: self.config.virtual_addresses.clone(),
            source: self.config.primary_address,
        }));
    }

    /// keepalived `send_instance_notifies`: a member already in its group's state (after
    /// a first notification) stays quiet.
    fn notify(&mut self) {
        if self.notifies_sent && self.sync.is_some_and(|link| link.group_state == self.state) {
            return;
        }
        self.notifies_sent = true;
        self.push(Action::Notify {
            state: self.state,
            priority: self.effective_priority,
        });
    }

    fn report_transition(&mut self, from: State) {
        if let Some(link) = self.sync
            && !link.forced
            && from != self.state
        {
            self.push(Action::Sync(SyncEvent::Transitioned {
                from,
                to: self.state,
            }));
        }
    }

    // ----- sync-group hooks (called by `SyncGroup`) -----------------------------------

    fn join_group(&mut self, group_state: State) {
        self.sync = Some(SyncLink {
            group_state,
            forced: false,
        });
    }

    fn set_group_state(&mut self, group_state: State) {
        if let Some(link) = &mut self.sync {
            link.group_state = group_state;
        }
    }

    fn forced<F: FnOnce(&mut Router)>(&mut self, f: F) {
        if let Some(link) = &mut self.sync {
            link.forced = true;
        }
        f(self);
        if let Some(link) = &mut self.sync {
            link.forced = false;
        }
    }

    /// keepalived `set_vrrp_backup` (also applied by the group to its other MASTERs).
    fn set_backup(&mut self, now: Timestamp) {
        self.want = State::Backup;
        self.leave_master(now, true);
        // "We want a quick transition back to master".
        self.down_timer_us = self.skew_us();
        self.rearm(now);
    }

    fn group_address_deleted(&mut self, now: Timestamp) {
        self.forced(|r| r.set_backup(now));
    }

    /// keepalived `vrrp_sync_master` for one member.
    fn group_goto_master(&mut self, now: Timestamp) {
        self.forced(|r| {
            r.want = State::Master;
            r.goto_master(now);
        });
    }

    /// keepalived `vrrp_sync_backup` for one member.
    fn group_to_backup(&mut self, now: Timestamp) {
        self.forced(|r| {
            r.want = State::Backup;
            match r.state {
                State::Fault | State::Init => r.leave_fault(now),
                State::Master => r.leave_master(now, false),
                State::Backup | State::Stop => {}
            }
        });
    }

    /// keepalived `vrrp_sync_fault` for one member.
    fn group_to_fault(&mut self, now: Timestamp) {
        self.forced(|r| {
            r.want = State::Fault;
            match r.state {
                State::Master => r.leave_master(now, false),
                State::Backup | State::Init => r.leave_fault(now),
                State::Fault | State::Stop => {}
            }
        });
    }

    /// The rest of keepalived `try_up_instance` once the whole group is fault-free.
    fn group_leave_fault(&mut self, now: Timestamp, may_be_master: bool) {
        if self.want == State::Master && !may_be_master {
            self.want = State::Backup;
        }
        self.forced(|r| r.leave_fault(now));
    }
}

fn validate(config: &RouterConfig) -> Result<(), ConfigError> {
    let name = || config.name.clone();
    if config.vrid == 0 {
        return Err(ConfigError::ZeroVrid { name: name() });
    }
    if config.priority == 0 {
        return Err(ConfigError::ZeroPriority { name: name() });
    }
    let interval_ok = match config.version {
        // RFC 3768 §5.3.7: whole seconds in an 8-bit field.
        Version::V2 => {
            config.advert_interval_cs.is_multiple_of(100)
                && (100..=25_500).contains(&config.advert_interval_cs)
        }
        // RFC 5798 §5.2.7: 12-bit centiseconds.
        Version::V3 => (1..=4095).contains(&config.advert_interval_cs),
    };
    if !interval_ok {
        return Err(ConfigError::BadInterval {
            name: name(),
            version: match config.version {
                Version::V2 => 2,
                Version::V3 => 3,
            },
            interval_cs: config.advert_interval_cs,
        });
    }
    if !(1..=100).contains(&config.down_timer_adverts) {
        return Err(ConfigError::BadDownTimerAdverts {
            name: name(),
            value: config.down_timer_adverts,
        });
    }
    if config.preempt_delay > Duration::from_secs(1000) {
        return Err(ConfigError::PreemptDelayTooLong {
            name: name(),
            seconds: config.preempt_delay.as_secs(),
        });
    }
    for (index, tracker) in config.trackers.iter().enumerate() {
        if !(-254..=254).contains(&tracker.weight) {
            return Err(ConfigError::TrackerWeight {
                name: name(),
                id: tracker.id,
                weight: tracker.weight,
            });
        }
        if config
            .trackers
            .iter()
            .take(index)
            .any(|t| t.id == tracker.id)
        {
            return Err(ConfigError::DuplicateTracker {
                name: name(),
                id: tracker.id,
            });
        }
    }
    Ok(())
}
