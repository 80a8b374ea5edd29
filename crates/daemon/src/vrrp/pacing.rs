//! When a pool's receive task reads its socket.
//!
//! Reading each advert as it comes costs a wake-up of the VRRP child (a context
//! switch and an `epoll_wait`) per burst of adverts: at 1,000 instances that is most
//! of a BACKUP's CPU, all of it in the kernel. A BACKUP does not need an advert the
//! moment it comes, only before a decision that depends on it: the kernel stamps each
//! packet with its arrival time (SO_TIMESTAMPNS) and the event loop runs the state
//! machine at that time, so a Master_Down timer restarted from a late-read advert
//! ends where it would have (RFC 5798 §6.4.2), and before any Master_Down timer
//! fires the loop reads whatever is queued (`VrrpRuntime::read_queued`).
//!
//! So while adverts come faster than a pool's *gap*, its socket is taken out of the
//! event loop (no wake-up per packet) and read once per gap; as soon as a read finds
//! nothing, or too much for the queue, the socket is watched again. The gap is a
//! quarter of the shortest Skew_Time of the pool's instances, at most
//! [`MAX_GAP`]: a priority-0 advert, which asks a BACKUP to take over after
//! Skew_Time, is always read well before then. Pools whose gap would be under
//! [`MIN_GAP`] (advert intervals of a few centiseconds) are never paced: there is
//! nothing to save, a wake-up per advert being what such a rate costs anyway.

use std::time::{Duration, Instant, SystemTime};

/// The longest a paced pool leaves its queue unread.
pub const MAX_GAP: Duration = Duration::from_millis(20);
/// Below this, pacing saves nothing worth the delay.
pub const MIN_GAP: Duration = Duration::from_millis(2);
/// The kernel's memory per queued advert, counted against SO_RCVBUF (an skb clone's
/// truesize for a small packet is 0.7–1.3 KB; this bounds it from above).
pub const QUEUED_ADVERT_BYTES: usize = 2048;

/// SO_RCVBUF below which a paced pool keeps the kernel's default (the usual
/// `rmem_default`, 208 KiB): its queue is checked at run time anyway.
pub const USUAL_DEFAULT_BUFFER: usize = 212_992;

/// A pool's gap from its instances' (advert interval, priority): a quarter of the
/// shortest Skew_Time (RFC 5798 §6.1: `((256 - priority) * interval) / 256`), at most
/// [`MAX_GAP`]; zero (never paced) under [`MIN_GAP`]. An address owner (255) is left
/// out: it is MASTER from the start and never waits on a Skew_Time.
pub fn gap(instances: impl IntoIterator<Item = (Duration, u8)>) -> Duration {
    let shortest = instances
        .into_iter()
        .filter(|&(_, priority)| priority < 255)
        .map(|(interval, priority)| interval * (256 - u32::from(priority)) / 256 / 4)
        .min();
    match shortest {
        None => Duration::ZERO,
        Some(gap) if gap < MIN_GAP => Duration::ZERO,
        Some(gap) => gap.min(MAX_GAP),
    }
}

/// The receive buffer a paced pool needs: room for one advert of each of its
/// instances (within a gap, a quarter of an advert interval, each peer instance
/// sends at most one), twice over for anything else on the segment.
pub fn paced_receive_buffer(instances: usize) -> usize {
    instances
        .saturating_mul(QUEUED_ADVERT_BYTES)
        .saturating_mul(2)
}

/// How long ago a packet stamped `arrived` came, by the real-time clock at
/// `real_now`, at most `max_age`: a step of that clock (NTP) cannot make a packet
/// look older than a read can delay it, nor younger than now.
pub fn packet_age(real_now: SystemTime, arrived: SystemTime, max_age: Duration) -> Duration {
    real_now
        .duration_since(arrived)
        .unwrap_or(Duration::ZERO)
        .min(max_age)
}

/// What the receive task does after the reads of one wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextRead {
    /// Watch the socket: the next arrival wakes the task.
    Watch,
    /// Leave the socket unwatched and read again after this long.
    Pause(Duration),
}

/// The pacing state of one pool's receive task.
#[derive(Debug)]
pub struct ReadPacing {
    gap: Duration,
    /// How many adverts the queue holds for sure ([`QUEUED_ADVERT_BYTES`] each).
    queue_room: usize,
    last_wake: Option<Instant>,
    paused: bool,
    /// No pausing before this: the queue overflowed while paused.
    hold_until: Option<Instant>,
}

/// How long a pool reads at once on each arrival after its queue overflowed.
pub const OVERFLOW_HOLD: Duration = Duration::from_secs(30);

impl ReadPacing {
    /// `gap` from [`gap`]; `receive_buffer` the socket's SO_RCVBUF as the kernel
    /// reports it.
    pub fn new(gap: Duration, receive_buffer: usize) -> ReadPacing {
        ReadPacing {
            gap,
            queue_room: receive_buffer / QUEUED_ADVERT_BYTES,
            last_wake: None,
            paused: false,
            hold_until: None,
        }
    }

    /// A new gap (after a reload changed the pool's instances).
    pub fn set_gap(&mut self, gap: Duration) {
        self.gap = gap;
    }

    /// Whether the socket is left unwatched.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Decides after the reads of one wake-up at `now`, which took `packets` (and
    /// emptied the queue); `overflowed` when the kernel dropped packets for a full
    /// queue since the last wake-up.
    pub fn after_wake(&mut self, now: Instant, packets: usize, overflowed: bool) -> NextRead {
        let previous = self.last_wake.replace(now);
        if overflowed {
            self.hold_until = Some(now + OVERFLOW_HOLD);
        }
        let held = self.hold_until.is_some_and(|until| now < until);
        // Half the queue: what came in one gap may come again, a little more.
        let fits = packets.saturating_mul(2) <= self.queue_room;
        if self.gap.is_zero() || held || packets == 0 || !fits {
            self.paused = false;
            return NextRead::Watch;
        }
        if !self.paused {
            // Watched: pause only once arrivals come closer together than the gap.
            let close = previous.is_some_and(|p| now.saturating_duration_since(p) < self.gap);
            if !close {
                return NextRead::Watch;
            }
            self.paused = true;
        }
        NextRead::Pause(self.gap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn gap_is_a_quarter_of_the_shortest_skew_time_capped() {
        // 1 s, priority 100: Skew_Time 609 ms; a quarter is over the cap.
        assert_eq!(gap([(SECOND, 100)]), MAX_GAP);
        // 0.1 s, priority 100: Skew_Time 60.9 ms, a quarter 15.2 ms.
        let gap_100ms = gap([(SECOND / 10, 100), (SECOND, 100)]);
        assert_eq!(gap_100ms, Duration::from_nanos(15_234_375));
        // 10 ms: 1.5 ms, not worth pacing.
        assert_eq!(gap([(SECOND / 100, 100), (SECOND, 100)]), Duration::ZERO);
        // priority 254 at 1 s: Skew_Time 7.8 ms, a quarter 1.95 ms.
        assert_eq!(gap([(SECOND, 254)]), Duration::ZERO);
        // An address owner does not count; alone, nothing is paced.
        assert_eq!(gap([(SECOND / 100, 255), (SECOND, 100)]), MAX_GAP);
        assert_eq!(gap([(SECOND, 255)]), Duration::ZERO);
        assert_eq!(gap([]), Duration::ZERO);
    }

    fn paced(room: usize) -> ReadPacing {
        ReadPacing::new(MAX_GAP, room * QUEUED_ADVERT_BYTES)
    }

    #[test]
    fn sparse_arrivals_are_read_as_they_come() {
        let mut pacing = paced(1000);
        let t0 = Instant::now();
        for i in 0..5 {
            let now = t0 + SECOND * i;
            assert_eq!(pacing.after_wake(now, 1, false), NextRead::Watch);
        }
        assert!(!pacing.is_paused());
    }

    #[test]
    fn close_arrivals_pause_until_a_read_finds_nothing() {
        let mut pacing = paced(1000);
        let t0 = Instant::now();
        assert_eq!(pacing.after_wake(t0, 3, false), NextRead::Watch);
        let t1 = t0 + Duration::from_millis(2);
        assert_eq!(pacing.after_wake(t1, 2, false), NextRead::Pause(MAX_GAP));
        assert!(pacing.is_paused());
        let t2 = t1 + MAX_GAP;
        assert_eq!(pacing.after_wake(t2, 40, false), NextRead::Pause(MAX_GAP));
        let t3 = t2 + MAX_GAP;
        assert_eq!(pacing.after_wake(t3, 0, false), NextRead::Watch);
        assert!(!pacing.is_paused());
        // Watched again, a single arrival later on does not pause.
        assert_eq!(pacing.after_wake(t3 + SECOND, 1, false), NextRead::Watch);
    }

    #[test]
    fn more_than_half_the_queue_in_one_read_stops_pausing() {
        let mut pacing = paced(100);
        let t0 = Instant::now();
        pacing.after_wake(t0, 1, false);
        let t1 = t0 + Duration::from_millis(1);
        assert_eq!(pacing.after_wake(t1, 50, false), NextRead::Pause(MAX_GAP));
        assert_eq!(pacing.after_wake(t1 + MAX_GAP, 51, false), NextRead::Watch);
    }

    #[test]
    fn an_overflow_holds_pausing_off() {
        let mut pacing = paced(1000);
        let t0 = Instant::now();
        pacing.after_wake(t0, 1, false);
        let t1 = t0 + Duration::from_millis(1);
        assert_eq!(pacing.after_wake(t1, 5, false), NextRead::Pause(MAX_GAP));
        let t2 = t1 + MAX_GAP;
        assert_eq!(pacing.after_wake(t2, 5, true), NextRead::Watch);
        let t3 = t2 + Duration::from_millis(1);
        assert_eq!(pacing.after_wake(t3, 5, false), NextRead::Watch);
        let later = t2 + OVERFLOW_HOLD;
        assert_eq!(pacing.after_wake(later, 5, false), NextRead::Watch);
        assert_eq!(
            pacing.after_wake(later + Duration::from_millis(1), 5, false),
            NextRead::Pause(MAX_GAP)
        );
    }

    #[test]
    fn packet_age_is_bounded_both_ways() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let max = Duration::from_millis(25);
        let ms = Duration::from_millis;
        assert_eq!(packet_age(now, now - ms(7), max), ms(7));
        // The clock stepped forward while the packet waited: at most the bound.
        assert_eq!(packet_age(now, now - ms(900), max), max);
        // Stepped back: a packet "from the future" came now.
        assert_eq!(packet_age(now, now + ms(300), max), Duration::ZERO);
    }

    #[test]
    fn an_unpaced_pool_never_pauses() {
        let mut pacing = ReadPacing::new(Duration::ZERO, 1 << 20);
        let t0 = Instant::now();
        for i in 0..10 {
            let now = t0 + Duration::from_micros(100 * i);
            assert_eq!(pacing.after_wake(now, 8, false), NextRead::Watch);
        }
    }
}
