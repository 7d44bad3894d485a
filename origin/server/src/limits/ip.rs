//! Per-client-address state: open connections, an API token bucket, and request bodies in flight.
//!
//! Bounded: an entry with no open connection, no body in flight and a full bucket says nothing a missing
//! entry would not, so it is dropped (on release, or swept when the map is full). When the map is at its cap
//! and nothing is idle, the entries that only hold a bucket are dropped (their addresses get a fresh burst),
//! so the map never holds more than its cap plus the addresses with a live connection or upload, which the
//! process's file-descriptor limit bounds.
//!
//! IPv6 clients are keyed by their /64: one host usually holds a whole /64, and keying by full address would
//! let it pick a fresh address per connection.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::Limits;

/// The key a client address is counted under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(_) => ClientKey(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    ClientKey(IpAddr::V6(Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    )))
                }
            },
        }
    }
}

struct Entry {
    conns: u32,
    uploads: u32,
    tokens: f64,
    refilled: Instant,
}

pub struct Settings {
    pub max_conns: u32,
    pub rate: u32,
    pub burst: u32,
    pub max_uploads: u32,
    pub max_entries: usize,
}

impl Settings {
    pub fn from(l: &Limits) -> Settings {
        Settings {
            max_conns: l.max_conns_per_ip,
            rate: l.api_rate_per_ip,
            burst: l.api_burst_per_ip.max(1),
            max_uploads: l.max_uploads_per_ip,
            max_entries: l.max_tracked_ips.max(1),
        }
    }
}

pub struct IpTable {
    settings: Settings,
    map: Mutex<HashMap<ClientKey, Entry>>,
}

/// An open connection, counted until it is dropped (with the connection's extensions).
pub struct ConnGuard {
    table: Arc<IpTable>,
    key: ClientKey,
    /// The address had its limit of connections open when this one arrived: its requests are refused.
    pub over: bool,
}

/// A request body in flight, counted until it is dropped.
pub struct UploadGuard {
    table: Arc<IpTable>,
    key: ClientKey,
}

impl IpTable {
    pub fn new(settings: Settings) -> Arc<IpTable> {
        Arc::new(IpTable {
            settings,
            map: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Addresses currently tracked.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientKey, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn entry<'a>(
        &self,
        map: &'a mut HashMap<ClientKey, Entry>,
        key: ClientKey,
        now: Instant,
    ) -> &'a mut Entry {
        if !map.contains_key(&key) && map.len() >= self.settings.max_entries {
            map.retain(|_, e| !self.idle(e, now));
            if map.len() >= self.settings.max_entries {
                map.retain(|_, e| e.conns > 0 || e.uploads > 0);
            }
        }
        let burst = self.settings.burst as f64;
        map.entry(key).or_insert(Entry {
            conns: 0,
            uploads: 0,
            tokens: burst,
            refilled: now,
        })
    }

    fn refill(&self, e: &mut Entry, now: Instant) {
        let dt = now.saturating_duration_since(e.refilled).as_secs_f64();
        e.tokens = (e.tokens + dt * self.settings.rate as f64).min(self.settings.burst as f64);
        e.refilled = now;
    }

    fn idle(&self, e: &mut Entry, now: Instant) -> bool {
        self.refill(e, now);
        e.conns == 0 && e.uploads == 0 && e.tokens >= self.settings.burst as f64
    }

    fn release(&self, key: ClientKey, f: impl FnOnce(&mut Entry)) {
        let mut map = self.lock();
        let now = Instant::now();
        if let Some(e) = map.get_mut(&key) {
            f(e);
            if self.idle(e, now) {
                map.remove(&key);
            }
        }
    }

    /// Count a new connection from `ip`.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> ConnGuard {
        let key = ClientKey::of(ip);
        let mut map = self.lock();
        let e = self.entry(&mut map, key, Instant::now());
        let over = self.settings.max_conns > 0 && e.conns >= self.settings.max_conns;
        e.conns += 1;
        ConnGuard {
            table: self.clone(),
            key,
            over,
        }
    }

    /// Take one API request from `ip`'s bucket, or say in how many seconds one will be there.
    pub fn api_request(&self, ip: IpAddr) -> Result<(), u64> {
        if self.settings.rate == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.lock();
        let e = self.entry(&mut map, ClientKey::of(ip), now);
        self.refill(e, now);
        if e.tokens >= 1.0 {
            e.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - e.tokens) / self.settings.rate as f64;
            // A few seconds at most: tokens are in [0, 1) here and the rate is at least 1/s (0 turns the
            // limit off above), so the wait is positive, finite and far below u64::MAX.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let secs = wait.ceil() as u64;
            Err(secs.max(1))
        }
    }

    /// Count a request body from `ip`, or `None` when it already has its limit in flight.
    pub fn start_upload(self: &Arc<Self>, ip: IpAddr) -> Option<UploadGuard> {
        let key = ClientKey::of(ip);
        let mut map = self.lock();
        let e = self.entry(&mut map, key, Instant::now());
        if self.settings.max_uploads > 0 && e.uploads >= self.settings.max_uploads {
            return None;
        }
        e.uploads += 1;
        Some(UploadGuard {
            table: self.clone(),
            key,
        })
    }
}

impl ConnGuard {
    /// The connection limit this guard was counted against.
    pub fn limit(&self) -> u32 {
        self.table.settings.max_conns
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.table
            .release(self.key, |e| e.conns = e.conns.saturating_sub(1));
    }
}

impl Drop for UploadGuard {
    fn drop(&mut self) {
        self.table
            .release(self.key, |e| e.uploads = e.uploads.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(max_conns: u32, rate: u32, burst: u32, max_uploads: u32, cap: usize) -> Arc<IpTable> {
        IpTable::new(Settings {
            max_conns,
            rate,
            burst,
            max_uploads,
            max_entries: cap,
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn connections_are_counted_until_dropped() {
        let t = table(2, 0, 1, 0, 100);
        let a = t.connect(ip("10.0.0.1"));
        let b = t.connect(ip("10.0.0.1"));
        let c = t.connect(ip("10.0.0.1"));
        let other = t.connect(ip("10.0.0.2"));
        assert_eq!(
            (a.over, b.over, c.over, other.over),
            (false, false, true, false)
        );
        drop((a, c));
        assert!(!t.connect(ip("10.0.0.1")).over);
        drop((b, other));
        assert!(t.is_empty(), "an idle address's entry is dropped");
    }

    #[test]
    fn ipv6_is_counted_per_64() {
        let t = table(1, 0, 1, 0, 100);
        let _a = t.connect(ip("2001:db8:1:2::1"));
        assert!(t.connect(ip("2001:db8:1:2:ffff::9")).over);
        assert!(!t.connect(ip("2001:db8:1:3::1")).over);
        let _m = t.connect(ip("::ffff:10.0.0.1"));
        assert!(
            t.connect(ip("10.0.0.1")).over,
            "v4-mapped is the v4 address"
        );
    }

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let t = table(0, 1, 3, 0, 100);
        for _ in 0..3 {
            t.api_request(ip("10.0.0.1")).unwrap();
        }
        assert_eq!(t.api_request(ip("10.0.0.1")), Err(1));
        assert!(t.api_request(ip("10.0.0.2")).is_ok());
    }

    #[test]
    fn uploads_in_flight_are_limited() {
        let t = table(0, 0, 1, 2, 100);
        let a = t.start_upload(ip("10.0.0.1")).unwrap();
        let _b = t.start_upload(ip("10.0.0.1")).unwrap();
        assert!(t.start_upload(ip("10.0.0.1")).is_none());
        drop(a);
        assert!(t.start_upload(ip("10.0.0.1")).is_some());
    }

    #[test]
    fn the_map_is_capped() {
        let t = table(0, 1, 2, 0, 4);
        let held = t.connect(ip("10.0.0.100"));
        for i in 0..1000 {
            // Each address spends a token: its entry is not idle, yet the map stays at the cap.
            t.api_request(ip(&format!("10.1.{}.{}", i / 256, i % 256)))
                .unwrap();
            assert!(t.len() <= 4, "{}", t.len());
        }
        // The address with an open connection is still counted.
        assert!(t.lock().contains_key(&ClientKey::of(ip("10.0.0.100"))));
        drop(held);
    }
}
