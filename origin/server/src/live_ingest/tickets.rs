//! HTTP publish tickets: `POST /api/live/publish` trades a stream key for one (`upp_…`, shown once, kept
//! hashed). A ticket holds its stream's publishing right (the [`crate::streams::Publisher`] inside its
//! [`Feed`]) until it expires, its publisher goes idle, or it ends the publish.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::check::Rung;
use super::feed::Feed;
use crate::auth::hash_token;

/// Parts (and init segments) one ticket may have in flight (bodies being received or checked) at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Requests one ticket may make per second.
pub const MAX_PER_SECOND: u32 = 64;

/// What an HTTP publisher has sent so far.
pub struct Publish {
    pub feed: Feed,
    pub rungs: HashMap<String, Rung>,
    /// Wall clock when the first part arrived, and that part's end on the media clock (µs).
    pub anchor: Option<(std::time::SystemTime, i64)>,
    pub last_seen: Instant,
    /// When the status figures were last refreshed.
    pub stats_at: Option<Instant>,
    /// Start of the current one-second rate window and the requests in it.
    rate: (Instant, u32),
}

/// A ticket's life: its expiry (renewable) and when its publish ended.
pub struct Lease {
    expires: Mutex<Instant>,
    /// When the publish ended (idle, expired, ended).
    gone: Mutex<Option<Instant>>,
}

impl Lease {
    pub fn new(ttl: Duration) -> Lease {
        Lease {
            expires: Mutex::new(Instant::now() + ttl),
            gone: Mutex::new(None),
        }
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= *self.expires.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new expiry `ttl` from now.
    pub fn renew(&self, ttl: Duration) {
        *self.expires.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now() + ttl;
    }

    /// The publish is over: the ticket is refused from now on.
    pub fn set_gone(&self) {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Instant::now);
    }

    pub fn is_gone(&self) -> bool {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Whether the ticket may be used now.
    pub fn check(&self) -> Result<(), TicketError> {
        if self.expired() {
            Err(TicketError::Expired)
        } else if self.is_gone() {
            Err(TicketError::Ended)
        } else {
            Ok(())
        }
    }
}

pub struct Ticket {
    hash: String,
    pub stream_id: String,
    pub lease: Lease,
    in_flight: AtomicUsize,
    pub publish: Mutex<Publish>,
}

/// A slot of [`MAX_IN_FLIGHT`], released when dropped.
pub struct Slot(Arc<Ticket>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ticket {
    pub fn lock(&self) -> MutexGuard<'_, Publish> {
        self.publish.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take an in-flight slot and count the request against the rate: `Err(code)` when over either.
    pub fn admit(self: &Arc<Self>) -> Result<Slot, &'static str> {
        {
            let mut p = self.lock();
            p.last_seen = Instant::now();
            if !rate_hit(&mut p.rate, Instant::now()) {
                return Err("rate-limited");
            }
        }
        if !take_slot(&self.in_flight) {
            return Err("too-many-in-flight");
        }
        Ok(Slot(self.clone()))
    }
}

/// Count a request in the one-second window `rate` (its start, requests in it): false beyond
/// [`MAX_PER_SECOND`].
fn rate_hit(rate: &mut (Instant, u32), now: Instant) -> bool {
    if now.saturating_duration_since(rate.0) >= Duration::from_secs(1) {
        *rate = (now, 0);
    }
    rate.1 += 1;
    rate.1 <= MAX_PER_SECOND
}

/// Take one of [`MAX_IN_FLIGHT`] slots counted by `c` (give it back with `fetch_sub`).
fn take_slot(c: &AtomicUsize) -> bool {
    if c.fetch_add(1, Ordering::AcqRel) >= MAX_IN_FLIGHT {
        c.fetch_sub(1, Ordering::AcqRel);
        return false;
    }
    true
}

/// Why a bearer ticket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketError {
    /// No ticket, an unknown one, or one for another stream.
    Bad,
    Expired,
    /// The publish ended (the publisher went idle or said it ended).
    Ended,
}

/// A ticket whose publish is over is remembered this long (to answer `ticket-ended` / `ticket-expired`
/// rather than `bad-ticket`), then forgotten.
const REMEMBER_GONE: Duration = Duration::from_secs(600);

/// Tickets whose publish is over are remembered (their hash and why) at most this many at once.
const MAX_GONE: usize = 4096;

/// The live tickets, and the hashes of those whose publish ended (tombstones: a ticket that ended keeps
/// nothing of its stream in memory).
#[derive(Default)]
pub struct Tickets {
    all: Mutex<HashMap<String, Arc<Ticket>>>,
    gone: Mutex<HashMap<String, (Instant, TicketError, String)>>,
}

impl Tickets {
    fn all(&self) -> MutexGuard<'_, HashMap<String, Arc<Ticket>>> {
        self.all.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gone(&self) -> MutexGuard<'_, HashMap<String, (Instant, TicketError, String)>> {
        self.gone.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep `feed` under `token` (its hash) for `ttl`.
    pub fn issue(&self, token: &str, feed: Feed, ttl: Duration) -> Arc<Ticket> {
        let t = Arc::new(Ticket {
            hash: hash_token(token),
            stream_id: feed.stream_id.clone(),
            lease: Lease::new(ttl),
            in_flight: AtomicUsize::new(0),
            publish: Mutex::new(Publish {
                feed,
                rungs: HashMap::new(),
                anchor: None,
                last_seen: Instant::now(),
                stats_at: None,
                rate: (Instant::now(), 0),
            }),
        });
        self.all().insert(t.hash.clone(), t.clone());
        t
    }

    /// The publish of `t` is over: it is refused from now on, and forgotten but for a tombstone.
    pub fn retire(&self, t: &Ticket) {
        let why = if t.lease.expired() {
            TicketError::Expired
        } else {
            TicketError::Ended
        };
        t.lease.set_gone();
        self.all().remove(&t.hash);
        let mut gone = self.gone();
        gone.retain(|_, (at, _, _)| at.elapsed() < REMEMBER_GONE);
        if gone.len() < MAX_GONE {
            gone.insert(t.hash.clone(), (Instant::now(), why, t.stream_id.clone()));
        }
    }

    /// The ticket `token` for stream `id`.
    pub fn find(&self, token: &str, id: &str) -> Result<Arc<Ticket>, TicketError> {
        let hash = hash_token(token);
        let Some(t) = self.all().get(&hash).cloned() else {
            return match self.gone().get(&hash) {
                Some((_, why, sid)) if sid == id => Err(*why),
                _ => Err(TicketError::Bad),
            };
        };
        if t.stream_id != id {
            return Err(TicketError::Bad);
        }
        t.lease.check()?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_bounded_per_second_and_in_flight() {
        let t0 = Instant::now();
        let mut rate = (t0, 0);
        for _ in 0..MAX_PER_SECOND {
            assert!(rate_hit(&mut rate, t0));
        }
        assert!(!rate_hit(&mut rate, t0 + Duration::from_millis(999)));
        assert!(
            rate_hit(&mut rate, t0 + Duration::from_secs(1)),
            "a new second"
        );
        let c = AtomicUsize::new(0);
        for _ in 0..MAX_IN_FLIGHT {
            assert!(take_slot(&c));
        }
        assert!(!take_slot(&c));
        assert_eq!(
            c.load(Ordering::Acquire),
            MAX_IN_FLIGHT,
            "a refusal takes nothing"
        );
        c.fetch_sub(1, Ordering::AcqRel);
        assert!(take_slot(&c));
    }

    #[test]
    fn a_lease_expires_renews_and_ends() {
        let l = Lease::new(Duration::from_millis(30));
        assert_eq!(l.check(), Ok(()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(l.check(), Err(TicketError::Expired));
        l.renew(Duration::from_secs(60));
        assert_eq!(l.check(), Ok(()));
        l.set_gone();
        assert_eq!(l.check(), Err(TicketError::Ended));
        assert!(l.is_gone());
    }
}
