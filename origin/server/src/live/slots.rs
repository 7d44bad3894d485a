//! Slots for blocked requests: at most N waiting origin-wide and M per client address, so a slow or
//! greedy viewer holding blocked requests costs no more than its slots.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// All origin-wide slots are taken (503 busy).
    Busy,
    /// This address holds its share (429).
    PerClient,
}

#[derive(Default)]
struct Held {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

pub struct Slots {
    max_total: usize,
    max_per_ip: usize,
    held: Arc<Mutex<Held>>,
}

/// A held slot, given back when dropped (the request finished or its connection went away).
pub struct Slot {
    ip: Option<IpAddr>,
    held: Arc<Mutex<Held>>,
}

impl Slots {
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Slots {
            max_total,
            max_per_ip,
            held: Arc::default(),
        }
    }

    pub fn acquire(&self, ip: Option<IpAddr>) -> Result<Slot, Refused> {
        let mut h = self.held.lock().unwrap_or_else(|e| e.into_inner());
        // The address's own share first: a client over it is told so even when the origin is full.
        let mine = ip.and_then(|ip| h.by_ip.get(&ip).copied()).unwrap_or(0);
        if ip.is_some() && mine >= self.max_per_ip {
            return Err(Refused::PerClient);
        }
        if h.total >= self.max_total {
            return Err(Refused::Busy);
        }
        if let Some(ip) = ip {
            *h.by_ip.entry(ip).or_default() += 1;
        }
        h.total += 1;
        Ok(Slot {
            ip,
            held: self.held.clone(),
        })
    }

    /// Slots held now.
    pub fn in_use(&self) -> usize {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut h = self.held.lock().unwrap_or_else(|e| e.into_inner());
        h.total = h.total.saturating_sub(1);
        if let Some(ip) = self.ip {
            if let Some(n) = h.by_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    h.by_ip.remove(&ip);
                }
            }
        }
    }
}
