//! A/V sync without edit lists in the output: where each track's first output sample is presented, so that
//! video and audio keep the source's relative timing to the audio sample.
//!
//! In the source, a track's media time `m` is presented at `m - media_start + delay` (its edit list, § 8.6.6):
//! AAC encoder delay and Opus pre-skip are a `media_start` on the audio (the priming samples are presented
//! before time 0 and hidden), a `-ss` stream copy is a `media_start` on the video inside its first GOP, and
//! a fragmented file without edit lists presents each track from its first decode time (tfdt). hls.js and
//! some players ignore `elst` in CMAF, so the package carries none: instead every track is moved by one
//! common amount that makes the earliest presented sample 0, and the priming audio (or the video's pre-roll
//! frames) plays before the other track starts instead of being hidden. The common amount is a whole
//! number of video ticks; each audio track's start is rounded to its own tick, half an audio sample at
//! most from the source's sync.

use crate::demux::Track;
use crate::error::{Error, Result};

/// A track's source presentation time of its first output sample, in its own ticks (may be negative).
fn lead(t: &Track, first_presented: i128) -> i128 {
    first_presented - i128::from(t.edit.media_start) + i128::from(t.edit.delay)
}

/// `ceil(a / b)` for `b > 0`.
fn div_ceil(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

/// `round(a / b)` for `b > 0`, halves up.
fn div_round(a: i128, b: i128) -> i128 {
    a.saturating_mul(2).saturating_add(b).div_euclid(2 * b)
}

/// The output presentation time of the first output sample of the reference track (the video, else the
/// first audio) and of each audio track, in each track's own ticks. `reference` is the track and the source
/// media time of its earliest presented sample; `audio` are the other tracks (their first sample is the
/// earliest presented).
pub fn start_delays(reference: (&Track, i128), audio: &[&Track]) -> Result<(u64, Vec<u64>)> {
    let (rt, earliest) = reference;
    let r_ts = i128::from(rt.timescale.max(1));
    let lr = lead(rt, earliest);
    let leads: Vec<(i128, i128)> = audio
        .iter()
        .map(|t| {
            let first = t.samples.first().map_or(0, |s| i128::from(s.dts));
            (lead(t, first), i128::from(t.timescale.max(1)))
        })
        .collect();
    // The smallest shift (reference ticks) that presents no track before 0.
    let shift = leads
        .iter()
        .map(|&(l, ts)| div_ceil((-l).saturating_mul(r_ts), ts))
        .fold(-lr, i128::max);
    let fit = |d: i128, t: &Track| {
        u64::try_from(d)
            .ok()
            .filter(|d| d.checked_add(t.duration_ticks()).is_some())
            .ok_or_else(|| {
                Error::malformed(
                    format!("track {}", t.id),
                    0,
                    "its start is too far from the other tracks' to be placed on one timeline",
                )
            })
    };
    let r_delay = fit(lr.saturating_add(shift), rt)?;
    let delays = leads
        .iter()
        .zip(audio)
        .map(|(&(l, ts), t)| {
            fit(
                l.saturating_add(div_round(shift.saturating_mul(ts), r_ts)),
                t,
            )
        })
        .collect::<Result<Vec<u64>>>()?;
    Ok((r_delay, delays))
}
