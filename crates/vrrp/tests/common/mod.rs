//! The virtual LAN shared by the discrete-event simulations (`sim.rs`, `sim_sync.rs`): a
//! seeded PRNG, a time-ordered event queue, and advert delivery with random delay and
//! loss that never reorders one sender's packets on a link.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// splitmix64: tiny, deterministic, good enough for loss and delay draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..=max`.
    fn up_to(&mut self, max: u64) -> u64 {
        if max == 0 { 0 } else { self.next() % (max + 1) }
    }
}

/// The primary address of node `index`: 192.0.2.11, .12, …
pub fn node_address(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        192,
        0,
        2,
        11 + u8::try_from(index).unwrap_or(0),
    ))
}

/// The LAN: events of type `E` queued by time (ties in scheduling order).
pub struct Lan<E> {
    queue: BTreeMap<(u64, u64), E>,
    seq: u64,
    rng: Rng,
    pub loss_per_mille: u64,
    pub max_delay_us: u64,
    /// Last delivery time per (sender, receiver): one LAN segment does not reorder the
    /// packets of one sender.
    link_busy_until: BTreeMap<(usize, usize), u64>,
}

impl<E> Lan<E> {
    pub fn new(seed: u64, loss_per_mille: u64, max_delay_us: u64) -> Self {
        Lan {
            queue: BTreeMap::new(),
            seq: 0,
            rng: Rng(seed),
            loss_per_mille,
            max_delay_us,
            link_busy_until: BTreeMap::new(),
        }
    }

    pub fn schedule(&mut self, at: u64, event: E) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// When the earliest queued event is due.
    pub fn next_at(&self) -> Option<u64> {
        self.queue.keys().next().map(|&(at, _)| at)
    }

    /// The earliest queued event.
    pub fn pop(&mut self) -> Option<E> {
        self.queue.pop_first().map(|(_, event)| event)
    }

    /// An advert sent by node `from` at `now` to the other `0..nodes`: each copy is lost
    /// with probability `loss_per_mille`, else delivered after a random delay up to
    /// `max_delay_us` (never before the previous one on the same link) as `deliver(to)`.
    pub fn broadcast(&mut self, now: u64, from: usize, nodes: usize, deliver: impl Fn(usize) -> E) {
        for to in 0..nodes {
            if to == from || self.rng.up_to(999) < self.loss_per_mille {
                continue;
            }
            let delay = self.rng.up_to(self.max_delay_us);
            let link = self.link_busy_until.entry((from, to)).or_insert(0);
            let at = (now + delay).max(*link);
            *link = at;
            self.schedule(at, deliver(to));
        }
    }
}
