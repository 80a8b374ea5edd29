//! `vrrp_sync_group`: members move together (keepalived `vrrp_sync.c`, reference §3.11).
//!
//! The group owns its member [`Router`]s and is driven exactly like one router, with a
//! member index. Members report [`SyncEvent`]s through their action queues; the group
//! consumes those and answers by moving the other members, so a driver only ever sees
//! [`GroupAction`]s.

use std::collections::VecDeque;

use super::{Action, Input, InputError, PRIORITY_OWNER, Router, State, SyncEvent, Timestamp};

/// Output of a [`SyncGroup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupAction {
    /// An action of member `index` (see [`Action`]).
    Member { index: usize, action: Action },
    /// "VRRP_Group(NAME) Syncing instances to `to` state".
    GroupStateChanged { from: State, to: State },
    /// Group notify scripts (`notify_master` … of the group; `notify` gets `GROUP NAME
    /// STATE 0`).
    GroupNotify { state: State },
}

/// A sync group: a coordinator over member routers, still sans-IO.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    name: String,
    members: Vec<Router>,
    state: State,
    /// keepalived `num_member_fault`: members with own fault causes.
    faulty_members: usize,
    output: VecDeque<GroupAction>,
    pending: VecDeque<(usize, SyncEvent)>,
    /// keepalived `state_same_at_reload`: the group was rebuilt by a reload and is in
    /// the state it had before, so [`SyncGroup::start`] does not notify it again.
    same_at_reload: bool,
}

impl SyncGroup {
    /// Build a group from its members (in configuration order). The members must not have
    /// been started.
    pub fn new(name: impl Into<String>, mut members: Vec<Router>) -> Self {
        // keepalived `vrrp_sync_set_group`: MASTER only if every member is an owner that
        // wants MASTER; FAULT if any member starts faulty.
        let all_owner_masters = !members.is_empty()
            && members
                .iter()
                .all(|m| m.want_state() == State::Master && m.base_priority() == PRIORITY_OWNER);
        let faulty_members = members.iter().filter(|m| m.has_own_fault()).count();
        // keepalived `vrrp_complete_init` at a reload: a group whose members were all
        // MASTER before stays MASTER (the members come from `Router::restore_from`).
        let all_reloaded_masters = !members.is_empty()
            && members
                .iter()
                .all(|m| m.reloaded_state == Some(State::Master));
        let state = if faulty_members > 0 {
            State::Fault
        } else if all_owner_masters || all_reloaded_masters {
            State::Master
        } else {
            State::Backup
        };
        for member in &mut members {
            member.join_group(state);
        }
        SyncGroup {
            name: name.into(),
            members,
            state,
            faulty_members,
            output: VecDeque::new(),
            pending: VecDeque::new(),
            same_at_reload: false,
        }
    }

    /// SIGHUP reload: a group rebuilt from members that went through
    /// [`Router::restore_from`] does not notify its state again at
    /// [`SyncGroup::start`] when that state is the one `previous` was in (keepalived
    /// `set_previous_sync_group_states`).
    pub fn restore_from(&mut self, previous: &SyncGroup) {
        self.same_at_reload = self.state == previous.state;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The group's state (keepalived `sgroup->state`).
    pub fn state(&self) -> State {
        self.state
    }

    pub fn members(&self) -> &[Router] {
        &self.members
    }

    pub fn member(&self, index: usize) -> Option<&Router> {
        self.members.get(index)
    }

    /// Start every member (keepalived `vrrp_init_state`, group notifications first).
    pub fn start(&mut self, now: Timestamp) {
        if matches!(self.state, State::Fault | State::Backup) && !self.same_at_reload {
            self.output
                .push_back(GroupAction::GroupNotify { state: self.state });
        }
        self.same_at_reload = false;
        for index in 0..self.members.len() {
            if let Some(member) = self.members.get_mut(index) {
                // Start is infallible for a router.
                let _ = member.handle(now, Input::Start);
            }
            self.pump(now);
        }
    }

    /// Feed an input to one member. [`Input::Start`] starts only that member; prefer
    /// [`SyncGroup::start`].
    pub fn handle(&mut self, now: Timestamp, index: usize, input: Input) -> Result<(), InputError> {
        let member = self
            .members
            .get_mut(index)
            .ok_or(InputError::NoSuchMember(index))?;
        let result = member.handle(now, input);
        self.pump(now);
        result
    }

    /// Fire every member's due timers.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        for index in 0..self.members.len() {
            if let Some(member) = self.members.get_mut(index) {
                member.handle_timeout(now);
            }
            self.pump(now);
        }
    }

    /// The earliest member deadline.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.members.iter().filter_map(Router::next_deadline).min()
    }

    pub fn poll_action(&mut self) -> Option<GroupAction> {
        self.output.pop_front()
    }

    /// Move member actions to the output and act on their sync events until quiet.
    fn pump(&mut self, now: Timestamp) {
        loop {
            for (index, member) in self.members.iter_mut().enumerate() {
                while let Some(action) = member.poll_action() {
                    match action {
                        Action::Sync(event) => self.pending.push_back((index, event)),
                        action => self.output.push_back(GroupAction::Member { index, action }),
                    }
                }
            }
            let Some((index, event)) = self.pending.pop_front() else {
                return;
            };
            self.on_event(now, index, event);
        }
    }

    fn on_event(&mut self, now: Timestamp, index: usize, event: SyncEvent) {
        match event {
            SyncEvent::WantMaster => {
                if self.can_goto_master(index) {
                    self.sync_master(now);
                }
            }
            SyncEvent::Transitioned { from, to } => {
                // keepalived VRRP_TSM: only MASTER → BACKUP moves the group here; every
                // other transition is either group-driven or reported separately.
                if from == State::Master && to == State::Backup {
                    self.sync_backup(now, index);
                }
            }
            SyncEvent::OwnFaultRaised => {
                self.faulty_members += 1;
                if self.faulty_members == 1 {
                    self.sync_fault(now, index);
                }
            }
            SyncEvent::OwnFaultCleared => {
                self.faulty_members = self.faulty_members.saturating_sub(1);
                if self.faulty_members > 0 {
                    return;
                }
                let may_be_master = self.can_goto_master(index);
                if let Some(member) = self.members.get_mut(index) {
                    member.group_leave_fault(now, may_be_master);
                }
                let went_master = self
                    .members
                    .get(index)
                    .is_some_and(|m| m.state() == State::Master);
                if went_master {
                    self.sync_master(now);
                } else {
                    self.sync_backup(now, index);
                }
            }
            SyncEvent::AddressDeleted => {
                // keepalived `set_vrrp_backup`: every other MASTER member releases too and
                // the group is BACKUP, without group notifications.
                for (other, member) in self.members.iter_mut().enumerate() {
                    if other != index && member.state() == State::Master {
                        member.group_address_deleted(now);
                    }
                }
                self.state = State::Backup;
                for member in &mut self.members {
                    member.set_group_state(State::Backup);
                }
            }
            SyncEvent::LowerPriorityGarp => {
                for (other, member) in self.members.iter_mut().enumerate() {
                    if other != index && member.state() == State::Master {
                        member.lower_prio_garp(now);
                    }
                }
            }
        }
    }

    /// keepalived `vrrp_sync_can_goto_master`: the group is MASTER already, or every other
    /// member wants MASTER (prefer BACKUP to avoid thrashing).
    fn can_goto_master(&self, index: usize) -> bool {
        self.state == State::Master
            || self
                .members
                .iter()
                .enumerate()
                .all(|(i, m)| i == index || m.want_state() == State::Master)
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        self.state = to;
        for member in &mut self.members {
            member.set_group_state(to);
        }
        self.output
            .push_back(GroupAction::GroupStateChanged { from, to });
        self.output
            .push_back(GroupAction::GroupNotify { state: to });
    }

    /// keepalived `vrrp_sync_master`: everyone not MASTER goes MASTER.
    fn sync_master(&mut self, now: Timestamp) {
        for member in &mut self.members {
            if !matches!(member.state(), State::Master | State::Stop) {
                member.group_goto_master(now);
            }
        }
        if self.state != State::Master {
            self.set_state(State::Master);
        }
    }

    /// keepalived `vrrp_sync_backup`.
    fn sync_backup(&mut self, now: Timestamp, index: usize) {
        if self.state == State::Backup {
            return;
        }
        for (other, member) in self.members.iter_mut().enumerate() {
            if other != index && !matches!(member.state(), State::Backup | State::Stop) {
                member.group_to_backup(now);
            }
        }
        self.set_state(State::Backup);
    }

    /// keepalived `vrrp_sync_fault`.
    fn sync_fault(&mut self, now: Timestamp, index: usize) {
        if self.state == State::Fault {
            return;
        }
        for (other, member) in self.members.iter_mut().enumerate() {
            if other != index && !matches!(member.state(), State::Fault | State::Stop) {
                member.group_to_fault(now);
            }
        }
        self.set_state(State::Fault);
    }
}
