//! The source video's output timeline: every frame's presentation time as the copy package presents it, in
//! the source video's ticks, sorted. Encoded chunks arrive with microsecond timestamps (JS numbers); each is
//! mapped back to the exact tick of the source frame it was made from, so encoded rungs share the copy
//! rung's timescale and cut at exactly its instants.

use crate::demux::Track;
use crate::error::{Error, Result};
use crate::num::f64_to_u64;
use crate::plan::TrackPlan;

#[derive(Debug, Clone)]
pub struct Timeline {
    pub timescale: u32,
    /// Presentation time of every frame of the package, ascending, ticks.
    pts: Vec<u64>,
    /// Indices into `pts` where every rung starts a segment; the first is 0.
    boundaries: Vec<usize>,
    /// End of the video: the copy rung's last decode time plus its last duration, ticks.
    pub end: u64,
    /// Duration of the source's last frame, ticks (for an encoded last frame that ends past `end`).
    pub last_duration: u64,
}

/// How far (µs) a chunk's timestamp may be from its source frame's: JS and WebCodecs carry whole
/// microseconds, and no real frame rate puts two frames this close.
const MATCH_US: f64 = 500.0;

impl Timeline {
    /// The timeline of `t` as planned by `p`, cut where `p`'s segments start (the copy rung's cuts).
    pub fn new(t: &Track, p: &TrackPlan) -> Result<Timeline> {
        let first = p.segments.first().map_or(0, |s| s.samples.start);
        let last = p.segments.last().map_or(0, |s| s.samples.end);
        let pts_of = |i: usize| {
            p.out_dts(t, i)
                .saturating_add_signed(p.out_cts_offset(t, i))
        };
        let mut pts: Vec<u64> = (first..last).map(pts_of).collect();
        pts.sort_unstable();
        if pts.is_empty() {
            return Err(Error::NoVideo("the video has no frames to encode".into()));
        }
        if pts.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::malformed(
                format!("track {}", t.id),
                0,
                "two frames are presented at the same time; the ladder needs distinct frame times",
            ));
        }
        let mut tl = Timeline {
            timescale: t.timescale,
            boundaries: Vec::new(),
            end: p.out_dts(t, last - 1) + u64::from(t.samples[last - 1].duration),
            last_duration: u64::from(t.samples[last - 1].duration).max(1),
            pts,
        };
        let cuts: Vec<u64> = p.segments.iter().map(|s| pts_of(s.samples.start)).collect();
        tl.boundaries = cuts
            .iter()
            .filter_map(|c| tl.pts.binary_search(c).ok())
            .collect();
        if tl.boundaries.first() != Some(&0) {
            tl.boundaries.insert(0, 0);
        }
        tl.boundaries.dedup();
        Ok(tl)
    }

    /// Replace the cuts with one every `target_s` seconds, at frame instants (the first frame at or after
    /// each multiple of the target from the previous cut): for a source whose key frames are too far apart.
    pub fn cut_every(&mut self, target_s: f64) {
        let step = f64_to_u64((target_s * f64::from(self.timescale)).round()).max(1);
        let mut b = vec![0];
        let mut next = self.pts[0] + step;
        for (i, &p) in self.pts.iter().enumerate().skip(1) {
            if p >= next {
                b.push(i);
                next = p + step;
            }
        }
        // A last segment under a quarter of the target is folded into the previous one.
        if let (Some(&l), true) = (b.last(), b.len() > 1) {
            if self.end - self.pts[l] < step / 4 {
                b.pop();
            }
        }
        self.boundaries = b;
    }

    pub fn frames(&self) -> usize {
        self.pts.len()
    }

    pub fn pts(&self, index: usize) -> u64 {
        self.pts[index]
    }

    /// Presentation instants (ticks) where segments start.
    pub fn boundary_ticks(&self) -> Vec<u64> {
        self.boundaries.iter().map(|&i| self.pts[i]).collect()
    }

    pub fn boundary_count(&self) -> usize {
        self.boundaries.len()
    }

    /// Ticks of boundary `k`, or the end of the video past the last one.
    pub fn boundary_or_end(&self, k: usize) -> u64 {
        self.boundaries.get(k).map_or(self.end, |&i| self.pts[i])
    }

    /// Where an encoded rung's last frame ends: the end of the video, or one source frame after the last
    /// frame shown when that is later (as [`super::mux::VideoMuxer::finish`] closes the last segment).
    pub fn rung_end(&self) -> u64 {
        let last = self.pts.last().copied().unwrap_or(0);
        if self.end > last {
            self.end
        } else {
            last + self.last_duration
        }
    }

    /// Duration (ticks) of every segment an encoded rung writes: boundary to boundary, the last one to
    /// [`Timeline::rung_end`]. Known before any frame is encoded, since every rung cuts at these instants.
    pub fn segment_ticks(&self) -> Vec<u64> {
        let ends = self.boundaries[1..]
            .iter()
            .map(|&i| self.pts[i])
            .chain([self.rung_end()]);
        self.boundaries
            .iter()
            .map(|&i| self.pts[i])
            .zip(ends)
            .map(|(a, b)| b.saturating_sub(a))
            .collect()
    }

    pub fn to_us(&self, ticks: u64) -> f64 {
        ticks as f64 * 1e6 / f64::from(self.timescale)
    }

    /// The tick of the source frame a chunk timestamped `us` was made from.
    pub fn tick_of_us(&self, us: f64) -> Result<u64> {
        if !us.is_finite() {
            return Err(Error::EncoderOutput(format!(
                "timestamp {us} µs is not a number"
            )));
        }
        let want = us * f64::from(self.timescale) / 1e6;
        let at = self.pts.partition_point(|&p| (p as f64) < want);
        let near = [at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.pts.get(i).copied())
            .min_by(|a, b| {
                (*a as f64 - want)
                    .abs()
                    .total_cmp(&(*b as f64 - want).abs())
            });
        match near {
            Some(p) if (self.to_us(p) - us).abs() <= MATCH_US => Ok(p),
            _ => Err(Error::EncoderOutput(format!(
                "timestamp {us} µs is not the time of a source frame (the timestamps must be those of \
                 videoSamples())"
            ))),
        }
    }
}
