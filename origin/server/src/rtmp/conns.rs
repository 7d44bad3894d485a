//! Open RTMP connections, origin-wide and per client address (IPv6 per /64, as the HTTP limits count).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::limits::ip::ClientKey;

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<ClientKey, u32>,
}

/// The counts; [`Conns::admit`] hands out a slot that gives itself back when dropped.
#[derive(Clone)]
pub(crate) struct Conns {
    counts: Arc<Mutex<Counts>>,
    max_total: usize,
    max_per_ip: u32,
}

/// One admitted connection.
pub(crate) struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: ClientKey,
}

impl Conns {
    pub(crate) fn new(max_total: usize, max_per_ip: u32) -> Self {
        Conns {
            counts: Arc::default(),
            max_total,
            max_per_ip,
        }
    }

    /// A slot for a connection from `ip`, or which limit is full.
    pub(crate) fn admit(&self, ip: IpAddr) -> Result<Slot, &'static str> {
        // The counts stay consistent under a panic elsewhere (every update is one statement).
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if c.total >= self.max_total {
            return Err("max-connections");
        }
        let ip = ClientKey::of(ip);
        let n = c.per_ip.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err("max-connections-per-address");
        }
        *n += 1;
        c.total += 1;
        Ok(Slot {
            counts: self.counts.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_and_slots_come_back() {
        let conns = Conns::new(3, 2);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let s1 = conns.admit(a).unwrap();
        let _s2 = conns.admit(a).unwrap();
        assert_eq!(conns.admit(a).err(), Some("max-connections-per-address"));
        let _s3 = conns.admit(b).unwrap();
        assert_eq!(conns.admit(b).err(), Some("max-connections"));
        drop(s1);
        assert!(conns.admit(a).is_ok());
        // One IPv6 /64 is one client.
        let conns = Conns::new(10, 1);
        let _x = conns.admit("2001:db8::1".parse().unwrap()).unwrap();
        let y = conns.admit("2001:db8::2".parse().unwrap());
        assert_eq!(y.err(), Some("max-connections-per-address"));
        assert!(conns.admit("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }
}
