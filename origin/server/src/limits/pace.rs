//! How fast a request body must arrive. The per-chunk idle timeout alone lets a client keep an upload (and
//! its spool, connection and upload slot) open forever by sending a byte just before each timeout. So,
//! after a grace period, the body must average a minimum rate over a sliding window, and it must finish
//! within a deadline proportional to its size limit.
use std::time::{Duration, Instant};

use crate::error::{ApiError, ApiResult};
use crate::Limits;

/// Slots in the sliding window.
const SLOTS: u32 = 8;

/// The ring index of slot number `n`.
fn ring(n: u64) -> usize {
    // The remainder is below SLOTS (8): it fits any usize.
    #[allow(clippy::cast_possible_truncation)]
    let i = (n % u64::from(SLOTS)) as usize;
    i
}

pub struct Pace {
    start: Instant,
    grace: Duration,
    slot: Duration,
    min_rate: u64,
    deadline: Option<Instant>,
    /// Bytes received in each slot of the window, a ring indexed by slot number.
    bytes: [u64; SLOTS as usize],
    /// Number of the slot `bytes` was last advanced to (slots since `start`).
    head: u64,
}

impl Pace {
    /// The pace for a body of at most `size_limit` bytes, starting now.
    pub fn new(limits: &Limits, size_limit: u64, start: Instant) -> Pace {
        let min_rate = limits.body_min_rate;
        let deadline = (min_rate > 0).then(|| {
            let secs = size_limit.div_ceil(min_rate);
            start + limits.body_rate_grace + Duration::from_secs(secs)
        });
        Pace {
            start,
            grace: limits.body_rate_grace,
            slot: (limits.body_rate_window / SLOTS).max(Duration::from_millis(10)),
            min_rate,
            deadline,
            bytes: [0; SLOTS as usize],
            head: 0,
        }
    }

    fn slot_of(&self, t: Instant) -> u64 {
        let n = t.saturating_duration_since(self.start).as_nanos() / self.slot.as_nanos();
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// When slot number `n` starts (saturating: a body never lives 2^32 slots, its deadline comes first).
    fn slot_start(&self, n: u64) -> Instant {
        self.start
            + self
                .slot
                .saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn advance(&mut self, now: Instant) {
        let i = self.slot_of(now);
        let stale = (i - self.head.min(i)).min(u64::from(SLOTS));
        for k in 1..=stale {
            self.bytes[ring(self.head + k)] = 0;
        }
        self.head = self.head.max(i);
    }

    /// Count `n` bytes that arrived at `now`.
    pub fn record(&mut self, now: Instant, n: u64) {
        self.advance(now);
        self.bytes[ring(self.head)] += n;
    }

    /// Fail with `body-timeout` when the body is past its deadline, or past the grace period and under the
    /// minimum rate over the window.
    pub fn check(&mut self, now: Instant) -> ApiResult<()> {
        if self.min_rate == 0 {
            return Ok(());
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return Err(ApiError::BodyTimeout);
        }
        if now.saturating_duration_since(self.start) < self.grace {
            return Ok(());
        }
        self.advance(now);
        // The window runs from the start of the oldest slot still in the ring (or the body's start) to now.
        let first = self.head.saturating_sub(u64::from(SLOTS) - 1);
        let from = self.slot_start(first);
        let covered = now.saturating_duration_since(from).as_secs_f64();
        let got: u64 = self.bytes.iter().sum();
        if (got as f64) < self.min_rate as f64 * covered {
            return Err(ApiError::BodyTimeout);
        }
        Ok(())
    }

    /// When to check again if no byte arrives before: the next slot boundary, not before the grace period
    /// ends; `None` when the rate is not checked.
    pub fn next_check(&self, now: Instant) -> Option<Instant> {
        if self.min_rate == 0 {
            return None;
        }
        let next = self.slot_start(self.slot_of(now).saturating_add(1));
        let at = next.max(self.start + self.grace);
        Some(self.deadline.map_or(at, |d| at.min(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate: u64, window: u64, grace: u64) -> Limits {
        Limits {
            body_min_rate: rate,
            body_rate_window: Duration::from_secs(window),
            body_rate_grace: Duration::from_secs(grace),
            ..Limits::default()
        }
    }

    #[test]
    fn a_trickle_is_cut_after_the_grace_period_and_a_steady_body_is_not() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let l = limits(1000, 8, 4);
        // One byte every 25 s: fine during the grace period, cut at the first check after it.
        let mut trickle = Pace::new(&l, 1 << 20, t0);
        trickle.record(t0, 1);
        assert!(trickle.check(t0 + 3 * s).is_ok());
        assert_eq!(
            trickle.check(t0 + 4 * s).unwrap_err().code(),
            "body-timeout"
        );
        // 2000 B/s for a minute, then a pause shorter than what the window's surplus covers.
        let mut steady = Pace::new(&l, 1 << 30, t0);
        for i in 0..60 {
            steady.record(t0 + i * s, 2000);
            steady.check(t0 + i * s + s / 2).unwrap();
        }
        assert!(steady.check(t0 + 63 * s).is_ok());
        // A long pause drops the window's average under the minimum.
        assert!(steady.check(t0 + 70 * s).is_err());
    }

    #[test]
    fn the_deadline_follows_the_size_limit() {
        let t0 = Instant::now();
        let l = limits(1000, 8, 4);
        let mut p = Pace::new(&l, 10_000, t0);
        // grace 4 s + 10 000 B / 1000 B/s = 14 s, whatever the rate.
        for i in 0..14 {
            p.record(t0 + Duration::from_secs(i), 100_000);
        }
        assert!(p.check(t0 + Duration::from_millis(13_900)).is_ok());
        assert!(p.check(t0 + Duration::from_secs(14)).is_err());
        assert_eq!(
            p.next_check(t0 + Duration::from_millis(13_990)),
            Some(t0 + Duration::from_secs(14))
        );
    }

    #[test]
    fn rate_zero_checks_nothing() {
        let t0 = Instant::now();
        let mut p = Pace::new(&limits(0, 8, 4), 10, t0);
        assert!(p.check(t0 + Duration::from_secs(1_000_000)).is_ok());
        assert_eq!(p.next_check(t0), None);
    }
}
