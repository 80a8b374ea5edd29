//! What the state machine asks its driver to do, and the counters it keeps.

use std::net::IpAddr;

use crate::advert::Advert;

/// Router state (keepalived `VRRP_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started yet (RFC 5798 §6.4.1 Initialize).
    Init,
    Backup,
    Master,
    Fault,
    /// Shut down by [`Input::Stop`](super::Input::Stop) (keepalived `VRRP_STATE_STOP`).
    Stop,
}

impl State {
    /// The word keepalived uses in logs and notify arguments.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a burst of gratuitous ARPs / unsolicited NAs is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarpReason {
    /// Just became MASTER (`garp_master_repeat`).
    BecameMaster,
    /// Second burst `garp_master_delay` after becoming MASTER.
    MasterDelay,
    /// Periodic refresh while MASTER (`garp_master_refresh`, `garp_master_refresh_repeat`).
    Refresh,
    /// A lower-priority advert reached the MASTER (`garp_lower_prio_repeat`).
    LowerPriority,
    /// Second burst `garp_lower_prio_delay` after that.
    LowerPriorityDelay,
}

/// A notable event the daemon should log (keepalived's wording is in each variant's doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEvent {
    /// "(VI_1) received lower priority (P) advert from A - discarding" (BACKUP, preempting).
    DiscardedLowerPriority { from: IpAddr, priority: u8 },
    /// "(VI_1) Received advert from A with lower priority P, ours Q[, forcing new election]".
    MasterReceivedLowerPriority {
        from: IpAddr,
        priority: u8,
        ours: u8,
        forcing_election: bool,
    },
    /// "(VI_1) Master received advert from A with higher priority P, ours Q" (or the same
    /// priority and a higher address when `priority == ours`).
    MasterReceivedHigherPriority {
        from: IpAddr,
        priority: u8,
        ours: u8,
    },
    /// "WARNING - equal priority advert received from remote host with our IP address."
    EqualPriorityFromOwnAddress,
    /// "CONFIGURATION ERROR: local instance and a remote instance are both configured as
    /// address owner, please fix - reducing local priority" (priority becomes 254).
    OwnerConflict { from: IpAddr },
    /// "(VI_1) Changing effective priority from A to B".
    EffectivePriorityChanged { from: u8, to: u8 },
    /// "(VI_1) start preempt delay" (BACKUP saw a lower priority with `preempt_delay`).
    PreemptDelayStarted,
    /// "(VI_1) stop preempt delay".
    PreemptDelayStopped,
    /// "(VI_1) advertisement interval updated from A to B by master" (v3), in centiseconds.
    MasterIntervalAdopted { from_cs: u16, to_cs: u16 },
}

/// Events a sync-group member reports to its [`SyncGroup`](super::SyncGroup); they never
/// reach a driver that uses the group, and a router outside a group never emits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncEvent {
    /// The member's down timer expired but it is held in BACKUP until the group agrees
    /// (keepalived `vrrp_sync_can_goto_master()`).
    WantMaster,
    /// The member changed state on its own (rx, timer, fault recovery).
    Transitioned { from: State, to: State },
    /// The member's own fault causes went from none to some (keepalived `down_instance`).
    OwnFaultRaised,
    /// The member's own fault causes are all gone; it waits in FAULT for the group.
    OwnFaultCleared,
    /// One of its virtual addresses/routes/rules was deleted from outside; it released
    /// everything and went BACKUP (keepalived `set_vrrp_backup`).
    AddressDeleted,
    /// As MASTER it answered a lower-priority advert; the other members send their
    /// lower-priority GARPs too (keepalived `vrrp_state_master_rx`).
    LowerPriorityGarp,
}

/// One thing for the driver to do, in order. Drain with `poll_action()` after every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this advertisement (priority 0 = "I am stopping", RFC 5798 §6.4.3).
    SendAdvert(Advert),
    /// Send `repeat` gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for every VIP and eVIP.
    SendGratuitous { repeat: u32, reason: GarpReason },
    /// Install the virtual addresses, eVIPs, virtual routes and rules, and the accept-mode
    /// firewall entries (keepalived `vrrp_state_become_master`).
    AddVips,
    /// Remove rules, routes, addresses and accept-mode entries (keepalived
    /// `vrrp_restore_interface`).
    RemoveVips,
    /// Log "(NAME) Entering `to` STATE" (`from == Init` is the "(init)" variant).
    StateChanged { from: State, to: State },
    /// Run the notify scripts / FIFO / DBus for this state with this priority.
    Notify { state: State, priority: u8 },
    /// `notify_master_rx_lower_pri`: a MASTER heard a lower-priority advert.
    NotifyMasterRxLowerPriority { from: IpAddr, priority: u8 },
    /// `notify_priority_changes`: the effective priority changed.
    NotifyPriorityChange { priority: u8 },
    /// A line worth logging.
    Log(LogEvent),
    /// For the sync-group coordinator only (see [`SyncEvent`]).
    Sync(SyncEvent),
}

/// keepalived's per-instance counters that the state machine owns (the packet checks own
/// the error counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
}
