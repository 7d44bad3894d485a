//! Who may start a publish check now. The check reads and parses the whole package (seconds for a large
//! one), off the metadata lock; this gate keeps it from becoming a lever: one check per video at a time, a
//! few in the whole origin, and a video whose publish keeps failing waits longer each time (1, 2, 4 … s up
//! to a minute by default) before its next check runs. A success forgets the video.
//!
//! The wait applies at once when the package is the same as at the last failed check (the answer could
//! not change), and only after [`FREE_RETRIES`] failures in a row when files changed in between: the
//! upload page's "publish, upload what was missing, publish again" never waits.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::{ApiError, ApiResult};

/// Entries kept for videos whose last publish failed; beyond this the oldest are forgotten (bounded state).
const MAX_TRACKED: usize = 10_000;

/// Failed checks in a row, each of a changed package, before the wait applies to changed packages too.
pub const FREE_RETRIES: u32 = 3;

#[derive(Default)]
struct Entry {
    running: bool,
    failures: u32,
    not_before: Option<Instant>,
    /// The package (its files and their digests) of the last failed check.
    failed_package: Option<[u8; 32]>,
    /// The package of the running check.
    checking: Option<[u8; 32]>,
}

pub struct PublishGate {
    inner: Mutex<HashMap<String, Entry>>,
    max_running: usize,
    backoff_base: Duration,
    backoff_max: Duration,
}

/// A running check; dropping it without [`Ticket::failed`] or [`Ticket::succeeded`] counts as neither
/// (a cancelled request).
pub struct Ticket<'a> {
    gate: &'a PublishGate,
    video_id: String,
    outcome: Option<bool>,
}

impl PublishGate {
    pub fn new(max_running: usize, backoff_base: Duration, backoff_max: Duration) -> Self {
        PublishGate {
            inner: Mutex::default(),
            max_running: max_running.max(1),
            backoff_base,
            backoff_max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a check of `video_id`'s package (`package`: a digest of its files), or say why not and when
    /// to try again.
    pub fn begin(&self, video_id: &str, package: [u8; 32]) -> ApiResult<Ticket<'_>> {
        let now = Instant::now();
        let mut map = self.lock();
        let running = map.values().filter(|e| e.running).count();
        let e = map.entry(video_id.to_string()).or_default();
        if e.running {
            return Err(ApiError::RateLimited {
                what: "this video's package is being checked for publishing already".into(),
                retry_after: 1,
                limit: None,
            });
        }
        let unchanged = e.failed_package == Some(package);
        let waits = unchanged || e.failures >= FREE_RETRIES;
        if let Some(t) = e.not_before.filter(|t| waits && *t > now) {
            return Err(ApiError::RateLimited {
                what: format!(
                    "this video failed to publish {} time(s) in a row{}",
                    e.failures,
                    if unchanged {
                        ", and its files have not changed since"
                    } else {
                        ""
                    }
                ),
                retry_after: ceil_secs(t - now),
                limit: None,
            });
        }
        if running >= self.max_running {
            return Err(ApiError::RateLimited {
                what: "too many packages are being checked for publishing at once".into(),
                retry_after: 1,
                limit: None,
            });
        }
        e.running = true;
        e.checking = Some(package);
        if map.len() > MAX_TRACKED {
            map.retain(|_, e| e.running || e.not_before.is_some_and(|t| t > now));
        }
        Ok(Ticket {
            gate: self,
            video_id: video_id.to_string(),
            outcome: None,
        })
    }
}

impl Ticket<'_> {
    pub fn failed(mut self) {
        self.outcome = Some(false);
    }

    pub fn succeeded(mut self) {
        self.outcome = Some(true);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let g = self.gate;
        let mut map = g.lock();
        match self.outcome {
            Some(true) => {
                map.remove(&self.video_id);
            }
            outcome => {
                let Some(e) = map.get_mut(&self.video_id) else {
                    return;
                };
                e.running = false;
                let checked = e.checking.take();
                if outcome == Some(false) {
                    e.failed_package = checked;
                    e.failures = e.failures.saturating_add(1);
                    let wait = g
                        .backoff_base
                        .saturating_mul(1 << (e.failures - 1).min(16))
                        .min(g.backoff_max);
                    e.not_before = Some(Instant::now() + wait);
                } else if e.failures == 0 {
                    map.remove(&self.video_id);
                }
            }
        }
    }
}

/// Whole seconds, rounded up (a Retry-After never says 0 while there is a wait).
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_per_video_and_failures_back_off() {
        let g = PublishGate::new(2, Duration::from_secs(10), Duration::from_secs(60));
        let (p1, p2) = ([1u8; 32], [2u8; 32]);
        let t = g.begin("a", p1).unwrap();
        assert!(matches!(
            g.begin("a", p1),
            Err(ApiError::RateLimited { .. })
        ));
        let u = g.begin("b", p1).unwrap();
        // Two running: a third video waits.
        assert!(matches!(
            g.begin("c", p1),
            Err(ApiError::RateLimited { .. })
        ));
        u.succeeded();
        t.failed();
        // The same package again waits; a changed one is checked at once.
        match g.begin("a", p1) {
            Err(ApiError::RateLimited { retry_after, .. }) => {
                assert!((9..=10).contains(&retry_after))
            }
            _ => panic!("a failed publish of an unchanged package must wait"),
        }
        g.begin("a", p2).unwrap().failed();
        g.begin("a", p1).unwrap().failed();
        // Three failures in a row: now a changed package waits too.
        assert!(matches!(
            g.begin("a", [3u8; 32]),
            Err(ApiError::RateLimited { .. })
        ));
        // A success forgets the video; a cancelled check neither counts nor blocks.
        drop(g.begin("b", p1).unwrap());
        g.begin("b", p1).unwrap().succeeded();
        assert!(g.lock().get("b").is_none());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let g = PublishGate::new(1, Duration::ZERO, Duration::ZERO);
        for _ in 0..40 {
            g.begin("a", [0u8; 32]).unwrap().failed();
        }
        assert_eq!(g.lock()["a"].failures, 40);
    }
}
