//! Per-track figures for a stream's status: counts, the last key-frame interval, whether B-frames were
//! seen, and the frame rate and bit rate over the last few seconds.

use std::collections::VecDeque;

/// The window the frame rate and bit rate are measured over.
const WINDOW_US: i64 = 5_000_000;
/// Frames kept for the window, whatever the frame rate (bounds the memory of a hostile publisher).
const WINDOW_FRAMES: usize = 4096;

/// What a status page shows about one live track.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackStats {
    pub frames: u64,
    pub bytes: u64,
    /// Frames dropped before the track could start (video before its first key frame, a follower before
    /// the first segment boundary).
    pub dropped: u64,
    /// Time between the last two key frames, µs (video; `None` until two were seen).
    pub key_interval_us: Option<i64>,
    /// Any frame presented out of decode order (a non-zero composition offset).
    pub b_frames: bool,
    /// Frames per second over the last seconds (`None` until two frames were seen).
    pub frame_rate: Option<f64>,
    /// Bits per second over the last seconds.
    pub bitrate: Option<f64>,
}

/// The running measurement behind [`TrackStats`].
#[derive(Debug, Default)]
pub(crate) struct Meter {
    stats: TrackStats,
    last_key_us: Option<i64>,
    recent: VecDeque<(i64, usize)>,
}

impl Meter {
    pub fn frame(&mut self, dts_us: i64, cts_us: i64, key: bool, len: usize) {
        let s = &mut self.stats;
        s.frames += 1;
        s.bytes += len as u64;
        s.b_frames |= cts_us != 0;
        if key {
            if let Some(k) = self.last_key_us {
                s.key_interval_us = Some(dts_us - k);
            }
            self.last_key_us = Some(dts_us);
        }
        self.recent.push_back((dts_us, len));
        while self.recent.len() > WINDOW_FRAMES
            || self
                .recent
                .front()
                .is_some_and(|&(t, _)| dts_us - t > WINDOW_US)
        {
            self.recent.pop_front();
        }
    }

    pub fn dropped(&mut self) {
        self.stats.dropped += 1;
    }

    pub fn last_key_us(&self) -> Option<i64> {
        self.last_key_us
    }

    pub fn stats(&self) -> TrackStats {
        let mut s = self.stats.clone();
        if let (Some(&(first, _)), Some(&(last, _))) = (self.recent.front(), self.recent.back()) {
            let span = (last - first) as f64 / 1e6;
            if span > 0.0 {
                let n = self.recent.len() as f64;
                // The bytes of the frames that span [first, last): all but the last.
                let bytes: usize = self.recent.iter().rev().skip(1).map(|&(_, b)| b).sum();
                s.frame_rate = Some((n - 1.0) / span);
                s.bitrate = Some(bytes as f64 * 8.0 / span);
            }
        }
        s
    }
}
