//! A stream's approximate current viewers: the client addresses that fetched a playlist recently. Bounded
//! in memory (an address flood forgets the oldest first, then stops counting new ones).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Addresses remembered at once, per stream.
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub struct Viewers {
    seen: Mutex<HashMap<IpAddr, Instant>>,
}

impl Viewers {
    /// `ip` fetched a playlist now; `horizon` is how long a fetch counts.
    pub fn saw(&self, ip: IpAddr, horizon: Duration) {
        let mut v = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if v.len() >= MAX_TRACKED && !v.contains_key(&ip) {
            v.retain(|_, t| now.duration_since(*t) < horizon);
            if v.len() >= MAX_TRACKED {
                return;
            }
        }
        v.insert(ip, now);
    }

    /// Distinct addresses seen within `horizon`.
    pub fn count(&self, horizon: Duration) -> usize {
        let mut v = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        v.retain(|_, t| now.duration_since(*t) < horizon);
        v.len()
    }
}
