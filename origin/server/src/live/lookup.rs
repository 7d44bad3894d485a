//! What the playlists and the routes read from a rendition's window: its live edge, single parts and
//! segments (ranges of the stored segment, never copies), and the bandwidth measured from it.
use actix_web::web::Bytes;

use super::window::RenditionWindow;

/// Where a requested part or segment stands.
pub enum Lookup {
    Ready(Bytes),
    /// Not yet there but expected next (the preload-hinted part): wait for it.
    Pending,
    Gone,
}

impl RenditionWindow {
    /// The MSN of the open segment (or the next one when none is open) and how many parts it has.
    pub fn edge(&self) -> (u64, usize) {
        match &self.open {
            Some(o) => (o.msn, o.parts.len()),
            None => (self.next_msn, 0),
        }
    }

    /// `(LAST-MSN, LAST-PART)` for rendition reports: the last part there is.
    pub fn last_part(&self) -> Option<(u64, u64)> {
        match (&self.open, self.segments.back()) {
            (Some(o), _) => Some((o.msn, (o.parts.len() as u64).saturating_sub(1))),
            (None, Some(s)) => Some((s.msn, (s.parts.len() as u64).saturating_sub(1))),
            (None, None) => None,
        }
    }

    pub fn segment(&self, msn: u64) -> Lookup {
        match self.segments.iter().find(|s| s.msn == msn) {
            Some(s) if !s.is_gap() => Lookup::Ready(s.bytes.clone()),
            _ => Lookup::Gone,
        }
    }

    /// Part number `n` (numbered across the rendition's segments): ready, the hinted next one, or gone
    /// (never made, out of the window, or a GAP part).
    pub fn part(&self, n: u64) -> Lookup {
        // Its index in a segment whose first part is `first`, when it is one of its `len` parts.
        let at = |first: u64, len: usize| {
            let k = usize::try_from(n.checked_sub(first)?).ok()?;
            (k < len).then_some(k)
        };
        // Segments' first parts only grow: the one that can hold `n` is the last that starts at or before it.
        let after = self.segments.partition_point(|s| s.first_part <= n);
        if let Some(s) = after.checked_sub(1).and_then(|i| self.segments.get(i)) {
            if let Some(k) = at(s.first_part, s.parts.len()) {
                return match s.parts.get(k) {
                    Some(p) if !p.range.is_empty() => Lookup::Ready(s.bytes.slice(p.range.clone())),
                    _ => Lookup::Gone,
                };
            }
        }
        if let Some(o) = &self.open {
            if let Some(k) = at(o.first_part, o.parts.len()) {
                return match o.parts.get(k) {
                    // A GAP part (the rendition is paused).
                    Some(p) if p.0.is_empty() => Lookup::Gone,
                    Some(p) => Lookup::Ready(p.0.clone()),
                    None => Lookup::Gone,
                };
            }
        }
        if n == self.next_part && !self.paused {
            Lookup::Pending
        } else {
            Lookup::Gone
        }
    }

    /// Part `k` of segment `msn` (complete or open): its seconds and its segment's program date-time.
    pub(super) fn part_at(&self, msn: u64, k: usize) -> Option<(f64, std::time::SystemTime)> {
        if let Some(o) = self.open.as_ref().filter(|o| o.msn == msn) {
            return o.parts.get(k).map(|p| (p.1, o.pdt));
        }
        let s = self.segments.iter().rev().find(|s| s.msn == msn)?;
        s.parts.get(k).map(|p| (p.duration, s.pdt))
    }

    /// The open segment's parts as (duration, independent, GAP), for the playlist.
    pub(super) fn open_parts(&self) -> Vec<(f64, bool, bool)> {
        self.open
            .iter()
            .flat_map(|o| o.parts.iter().map(|p| (p.1, p.2, p.0.is_empty())))
            .collect()
    }

    /// Peak bits per second over the window's segments (the open segment's parts when none is complete).
    pub fn bandwidth(&self) -> u64 {
        let rate = |bytes: usize, secs: f64| {
            #[allow(clippy::cast_precision_loss)] // segment sizes are far below 2^52
            let bits = bytes as f64 * 8.0;
            if secs > 0.0 {
                upcast_core::num::f64_to_u64((bits / secs).ceil())
            } else {
                0
            }
        };
        let peak = self
            .segments
            .iter()
            .map(|s| rate(s.bytes.len(), s.duration))
            .max();
        peak.unwrap_or_else(|| {
            let open = self.open.iter().flat_map(|o| o.parts.iter());
            let (b, d) = open.fold((0, 0.0), |(b, d), p| (b + p.0.len(), d + p.1));
            rate(b, d)
        })
    }
}

/// Samples in the CMAF fragments of `segment` (0 when they cannot be read against `init`).
pub(super) fn samples(segment: &[u8], init: &[u8]) -> u32 {
    use upcast_core::cmaf::read::{read_init, read_segment};
    let frags = read_init(init).and_then(|i| read_segment(segment, &i));
    let n: usize = frags.map_or(0, |f| f.iter().map(|f| f.samples.len()).sum());
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl RenditionWindow {
    /// Seconds of the listed complete segments.
    pub(super) fn duration(&self) -> f64 {
        self.listed().map(|s| s.duration).sum()
    }

    pub(super) fn bytes(&self) -> usize {
        let open: usize = self
            .open
            .iter()
            .flat_map(|o| o.parts.iter().map(|p| p.0.len()))
            .sum();
        open + self.segments.iter().map(|s| s.bytes.len()).sum::<usize>()
    }

    /// Frames per second over the listed segments (None when no frame was counted).
    pub fn frame_rate(&self) -> Option<f64> {
        let (n, ticks) = self
            .listed()
            .filter(|s| s.frames > 0)
            .fold((0u64, 0u64), |(n, t), s| {
                (n + u64::from(s.frames), t + s.ticks)
            });
        #[allow(clippy::cast_precision_loss)] // frame and tick counts are far below 2^52
        (n > 0 && ticks > 0).then(|| n as f64 * f64::from(self.timescale) / ticks as f64)
    }
}
