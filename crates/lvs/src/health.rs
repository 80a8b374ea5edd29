//! Real-server health and virtual-server quorum (keepalived
//! `ipwrapper.c`: `weigh_live_realservers`, `set_quorum_states`,
//! `update_quorum_state`).

use config::model::lvs::{LvsConfig, RealServer, VirtualServer, VsAddress};
use std::net::IpAddr;

/// keepalived's IPVS_WEIGHT_MAX: weights given to IPVS are clamped to it.
pub const WEIGHT_MAX: i64 = i32::MAX as i64;

/// keepalived's `real_weight()`: an effective weight as IPVS takes it.
pub fn real_weight(effective: i64) -> u32 {
    u32::try_from(effective.clamp(0, WEIGHT_MAX)).unwrap_or(0)
}

/// One real server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsState {
    /// All its checkers pass (keepalived `ISALIVE(rs)`).
    pub alive: bool,
    /// Effective weight: configured weight plus dynamic checker weights
    /// (MISC_CHECK misc_dynamic, FILE_CHECK), before clamping.
    pub weight: i64,
}

/// One virtual server's state; `real_servers` is parallel to the
/// configuration's `real_servers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsState {
    pub quorum_up: bool,
    pub real_servers: Vec<RsState>,
}

/// The state of every virtual server, parallel to
/// `LvsConfig::virtual_servers`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    pub virtual_servers: Vec<VsState>,
}

/// A quorum transition, for `quorum_up` / `quorum_down` scripts and notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuorumChange {
    /// Index into `LvsConfig::virtual_servers`.
    pub vs: usize,
    pub up: bool,
    /// keepalived's `weight_sum`: the IPVS weights of the live real servers.
    pub weight_sum: i64,
    /// The threshold that was crossed (`quorum ± hysteresis`).
    pub threshold: i64,
}

/// Whether a real server starts up: keepalived adds real servers before
/// the first check unless a checker runs in `alpha` mode, where it starts
/// failed. A real server without checkers is always up.
pub fn initially_alive(vs: &VirtualServer, rs: &RealServer) -> bool {
    let rs_alpha = rs.alpha.unwrap_or(vs.alpha);
    !rs.checkers
        .iter()
        .any(|c| c.common.alpha.unwrap_or(rs_alpha))
}

/// The configured weight (`weight`, inherited from the virtual server).
pub fn configured_weight(vs: &VirtualServer, rs: &RealServer) -> i64 {
    i64::from(rs.weight.unwrap_or(vs.weight))
}

impl VsState {
    /// keepalived `weigh_live_realservers`.
    pub fn weight_sum(&self) -> i64 {
        self.real_servers
            .iter()
            .filter(|rs| rs.alive)
            .map(|rs| i64::from(real_weight(rs.weight)))
            .sum()
    }

    /// keepalived `update_quorum_state`: quorum is gained at
    /// `weight_sum >= quorum + hysteresis` and lost at `weight_sum == 0` or
    /// `weight_sum < quorum - hysteresis`. `init` also reports a down state
    /// at start-up (keepalived then adds the sorry server).
    pub fn update_quorum(
        &mut self,
        vs: &VirtualServer,
        index: usize,
        init: bool,
    ) -> Option<QuorumChange> {
        let weight_sum = self.weight_sum();
        let quorum = i64::from(vs.quorum);
        let hysteresis = i64::from(vs.hysteresis);
        let threshold = if self.quorum_up {
            quorum - hysteresis
        } else {
            quorum + hysteresis
        };
        let change = |up| QuorumChange {
            vs: index,
            up,
            weight_sum,
            threshold,
        };
        if !self.quorum_up && weight_sum >= threshold {
            self.quorum_up = true;
            Some(change(true))
        } else if self.quorum_up && (weight_sum == 0 || weight_sum < threshold) {
            self.quorum_up = false;
            Some(change(false))
        } else if init && !self.quorum_up {
            Some(change(false))
        } else {
            None
        }
    }
}

/// Identity of a virtual server across reloads (keepalived `vs_iseq`:
/// group name, else family + fwmark, else family + protocol + address).
pub fn same_vs(a: &VirtualServer, b: &VirtualServer) -> bool {
    match (&a.address, &b.address) {
        (VsAddress::Group(x), VsAddress::Group(y)) => x == y && a.protocol == b.protocol,
        (VsAddress::Fwmark { mark: x }, VsAddress::Fwmark { mark: y }) => {
            x == y && a.family == b.family
        }
        (VsAddress::Ip { addr: x, port: px }, VsAddress::Ip { addr: y, port: py }) => {
            x == y && px == py && a.protocol == b.protocol
        }
        _ => false,
    }
}

fn rs_key(rs: &RealServer) -> (IpAddr, u16) {
    (rs.addr, rs.port)
}

impl State {
    /// Start-up state (keepalived `init_services` after `set_quorum_states`);
    /// also returns the start-up quorum reports.
    pub fn initial(cfg: &LvsConfig) -> (State, Vec<QuorumChange>) {
        State::initial_with(cfg, |_, _| None)
    }

    /// Start-up state where `health(vs, rs)` knows a real server's state
    /// before the table is first built (keepalived: track files are read
    /// before `init_services`); `None` = [`initially_alive`] with the
    /// configured weight.
    pub fn initial_with(
        cfg: &LvsConfig,
        health: impl Fn(usize, usize) -> Option<RsState>,
    ) -> (State, Vec<QuorumChange>) {
        let mut state = State::default();
        let mut changes = Vec::new();
        for (index, vs) in cfg.virtual_servers.iter().enumerate() {
            let mut vs_state = VsState {
                quorum_up: false,
                real_servers: vs
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(rs_index, rs)| {
                        health(index, rs_index).unwrap_or(RsState {
                            alive: initially_alive(vs, rs),
                            weight: configured_weight(vs, rs),
                        })
                    })
                    .collect(),
            };
            // keepalived set_quorum_states(): up when the live weight reaches quorum + hysteresis.
            vs_state.quorum_up =
                vs_state.weight_sum() >= i64::from(vs.quorum) + i64::from(vs.hysteresis);
            changes.extend(vs_state.update_quorum(vs, index, true));
            state.virtual_servers.push(vs_state);
        }
        (state, changes)
    }

    /// State for a reloaded configuration (keepalived `clear_diff_services`):
    /// virtual servers still configured keep their quorum state, real servers
    /// still configured keep their liveness; weights come from the new
    /// configuration; new ones start as at start-up.
    pub fn reloaded(&self, old: &LvsConfig, new: &LvsConfig) -> (State, Vec<QuorumChange>) {
        let (mut state, _) = State::initial(new);
        let mut changes = Vec::new();
        for (index, (vs, vs_state)) in new
            .virtual_servers
            .iter()
            .zip(state.virtual_servers.iter_mut())
            .enumerate()
        {
            let previous = old
                .virtual_servers
                .iter()
                .zip(&self.virtual_servers)
                .find(|(old_vs, _)| same_vs(old_vs, vs));
            if let Some((old_vs, old_state)) = previous {
                vs_state.quorum_up = old_state.quorum_up;
                for (rs, rs_state) in vs.real_servers.iter().zip(vs_state.real_servers.iter_mut()) {
                    let before = old_vs
                        .real_servers
                        .iter()
                        .zip(&old_state.real_servers)
                        .find(|(old_rs, _)| rs_key(old_rs) == rs_key(rs));
                    if let Some((_, old_rs_state)) = before {
                        rs_state.alive = old_rs_state.alive;
                    }
                }
            }
            changes.extend(vs_state.update_quorum(vs, index, true));
        }
        (state, changes)
    }

    /// Records a real server's health and returns the quorum transition it
    /// causes, if any. Unknown indexes change nothing.
    pub fn set_alive(
        &mut self,
        cfg: &LvsConfig,
        vs: usize,
        rs: usize,
        alive: bool,
    ) -> Option<QuorumChange> {
        let vs_cfg = cfg.virtual_servers.get(vs)?;
        let vs_state = self.virtual_servers.get_mut(vs)?;
        let rs_state = vs_state.real_servers.get_mut(rs)?;
        if rs_state.alive == alive {
            return None;
        }
        rs_state.alive = alive;
        vs_state.update_quorum(vs_cfg, vs, false)
    }

    /// Records a real server's new effective weight (keepalived
    /// `update_svr_wgt`) and returns the quorum transition it causes.
    pub fn set_weight(
        &mut self,
        cfg: &LvsConfig,
        vs: usize,
        rs: usize,
        weight: i64,
    ) -> Option<QuorumChange> {
        let vs_cfg = cfg.virtual_servers.get(vs)?;
        let vs_state = self.virtual_servers.get_mut(vs)?;
        let rs_state = vs_state.real_servers.get_mut(rs)?;
        rs_state.weight = weight;
        vs_state.update_quorum(vs_cfg, vs, false)
    }
}
