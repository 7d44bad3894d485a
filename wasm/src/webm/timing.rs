//! From Matroska block timestamps (presentation times, no durations in MediaRecorder files, no decode
//! times at all) to the sample table the segmenter works on: decode times, durations and composition
//! offsets in the track's timescale.

use super::clusters::Frame;
use crate::demux::Sample;
use crate::error::{Error, Result};

/// The samples and the media time at which presentation starts (the edit's `media_start`).
pub struct Timed {
    pub samples: Vec<Sample>,
    pub media_start: u64,
}

/// `frames` in storage (decode) order; `to_ticks` turns a block timestamp into track ticks; `default` is
/// the DefaultDuration in ticks; `delay` the codec delay in ticks (presented before time 0).
pub fn samples(
    frames: &[Frame],
    to_ticks: &dyn Fn(i128) -> i128,
    default: Option<i128>,
    delay: i128,
    path: &str,
    at: u64,
) -> Result<Timed> {
    let err = |msg: &str| Error::malformed(path, at, msg.to_string());
    let pts = presentation_times(frames, to_ticks, default);
    // Decode times: the presentation times in order, moved back by the largest reordering, so that no
    // frame is presented before it is decoded (B-frames in H.264 Matroska).
    let mut sorted = pts.clone();
    sorted.sort_unstable();
    let shift = sorted
        .iter()
        .zip(&pts)
        .map(|(s, p)| s - p)
        .fold(0, i128::max);
    let dts: Vec<i128> = sorted.iter().map(|s| s - shift).collect();
    // Track ticks start at 0: what lies before goes into media_start with the codec delay.
    let origin = dts.first().copied().unwrap_or(0).min(0);
    let media_start = u64::try_from(delay - origin)
        .map_err(|_| err("negative codec delay or timestamps out of range"))?;
    let mut out = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let duration = match dts.get(i + 1) {
            Some(next) => next - dts[i],
            None => last_duration(f, to_ticks, default, &out),
        };
        out.push(Sample {
            offset: f.offset,
            size: f.size,
            dts: u64::try_from(dts[i] - origin).map_err(|_| err("timestamps out of range"))?,
            duration: u32::try_from(duration)
                .map_err(|_| err("a frame lasts longer than 2^32 ticks"))?,
            cts_offset: i32::try_from(pts[i] - dts[i])
                .map_err(|_| err("frames reordered by more than 2^31 ticks"))?,
            sync: f.key,
        });
    }
    Ok(Timed {
        samples: out,
        media_start,
    })
}

/// Each frame's presentation time: its block's timestamp, plus its place in a lace times the frame
/// duration (DefaultDuration, else the block's span up to the next block shared equally).
fn presentation_times(
    frames: &[Frame],
    to_ticks: &dyn Fn(i128) -> i128,
    default: Option<i128>,
) -> Vec<i128> {
    let mut out = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let block = to_ticks(i128::from(f.ts));
        let (k, n) = (i128::from(f.lace.0), i128::from(f.lace.1.max(1)));
        if k == 0 {
            out.push(block);
            continue;
        }
        let step = default.unwrap_or_else(|| {
            let next = frames
                .get(i..)
                .unwrap_or_default()
                .iter()
                .find(|g| g.lace.0 == 0)
                .map(|g| to_ticks(i128::from(g.ts)));
            next.map_or(0, |t| (t - block) / n)
        });
        out.push(block + k * step);
    }
    out
}

/// The last frame's duration: BlockDuration, else DefaultDuration, else the frame before's.
fn last_duration(
    f: &Frame,
    to_ticks: &dyn Fn(i128) -> i128,
    default: Option<i128>,
    before: &[Sample],
) -> i128 {
    f.block_duration
        .map(|d| to_ticks(i128::from(d)))
        .or(default)
        .unwrap_or_else(|| before.last().map_or(0, |s| i128::from(s.duration)))
}
