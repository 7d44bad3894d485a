//! A/V sync without edit lists in the output: [`align`] rewrites a demuxed movie so that each track's first
//! output sample is presented where the source presents it, relative to the other tracks, to the sample.
//!
//! In the source, a track's media time `m` is presented at `m - media_start + delay` (its edit list,
//! § 8.6.6): AAC encoder delay and Opus pre-skip are a `media_start` on the audio (the priming is presented
//! before time 0 and hidden), a `-ss` stream copy is a `media_start` on the video inside its first GOP, and
//! a fragmented file without edit lists presents each track from its first decode time (tfdt). hls.js and
//! some players ignore `elst` in CMAF, so the package carries none. Instead:
//! - audio frames wholly before the edit's start (the priming) are dropped; the frame that straddles it is
//!   kept, so no sound is lost;
//! - video frames before the edit's start that the first shown frame needs to be decoded (the pre-roll of
//!   a `-ss` copy) are kept, but shown for one tick each just before the edit's start;
//! - every track is then given one output delay ([`crate::demux::Edit::delay`]): the earliest presents at 0, the others
//!   after it by their source distance. The video moves by whole ticks of its own; each audio track is
//!   rounded to its own tick, half an audio sample at most from the source's sync.

use crate::demux::{Movie, Sample, Track, TrackKind};
use crate::error::{Error, Result};

/// Place every usable video and audio track of `movie` on one output timeline with the source's sync:
/// drops audio priming, squeezes video pre-roll, and sets each track's [`crate::demux::Edit::delay`] to the output
/// presentation time of its first output sample (the video's from its first key frame). Call after the
/// primary tracks are picked.
pub fn align(movie: &mut Movie) -> Result<()> {
    let audio: Vec<usize> = movie
        .tracks
        .iter()
        .filter(|t| t.kind == TrackKind::Audio && t.unusable.is_none())
        .map(|t| t.index)
        .collect();
    for &i in &audio {
        drop_priming(&mut movie.tracks[i])?;
    }
    let video = movie.video;
    if let Some(v) = video {
        if let Some(w) = squeeze_pre_roll(&mut movie.tracks[v])? {
            movie.warnings.push(w);
        }
    }
    // The reference: the video, else the primary audio; the other tracks are placed relative to it.
    let Some(reference) = video.or(movie.audio) else {
        return Ok(());
    };
    let others: Vec<usize> = audio.into_iter().filter(|&i| i != reference).collect();
    let (r_delay, delays) = {
        let r = &movie.tracks[reference];
        let o: Vec<&Track> = others.iter().map(|&i| &movie.tracks[i]).collect();
        start_delays((r, first_presented(r)), &o)?
    };
    movie.tracks[reference].edit.delay = r_delay;
    for (i, d) in others.into_iter().zip(delays) {
        movie.tracks[i].edit.delay = d;
    }
    Ok(())
}

fn pts(s: &Sample) -> i128 {
    i128::from(s.dts) + i128::from(s.cts_offset)
}

fn seconds(ticks: impl Into<i128>, t: &Track) -> f64 {
    ticks.into() as f64 / f64::from(t.timescale.max(1))
}

/// The source media time of the first sample a track presents in the package: for video, the earliest
/// frame of the GOP of its first key frame (the frames before it are not packaged); for audio, its first.
fn first_presented(t: &Track) -> i128 {
    if t.kind != TrackKind::Video {
        return t.samples.first().map_or(0, |s| i128::from(s.dts));
    }
    let Some(first) = t.samples.iter().position(|s| s.sync) else {
        return t.samples.first().map_or(0, pts);
    };
    let end = t.samples[first + 1..]
        .iter()
        .position(|s| s.sync)
        .map_or(t.samples.len(), |n| first + 1 + n);
    t.samples[first..end].iter().map(pts).min().unwrap_or(0)
}

/// Remove the audio frames that end at or before the edit's start (encoder priming, Opus pre-skip, the
/// sound before a `-ss` cut); the one that straddles the start stays.
fn drop_priming(t: &mut Track) -> Result<()> {
    let start = t.edit.media_start;
    let n = t
        .samples
        .iter()
        .take_while(|s| s.dts.saturating_add(u64::from(s.duration)) <= start)
        .count();
    if n == 0 {
        return Ok(());
    }
    if n == t.samples.len() {
        return Err(Error::malformed(
            format!("track {}", t.id),
            t.samples.last().map_or(0, |s| s.offset),
            format!(
                "its edit list starts presentation at {:.3} s of its media, after its last sample",
                seconds(start, t)
            ),
        ));
    }
    t.samples.drain(..n);
    Ok(())
}

/// A video whose edit list starts presentation inside its first GOP (a `-ss` stream copy) has frames that
/// must be decoded but are not shown. Keep them, but give each one tick, just before the edit's start, so
/// that the package shows what the source shows from where its edit says: in decode order, each such frame
/// lasts one tick and the shown frames among them keep their durations, ending where the next frame's
/// decode time begins; in presentation order they take the ticks right before the edit's start. Returns
/// the warning to show, or `None` when there is no pre-roll. When the decode times leave no room (frames
/// before the first key frame in the way), the frames are left as they are and shown at their own pace.
fn squeeze_pre_roll(t: &mut Track) -> Result<Option<String>> {
    let Some(first) = t.samples.iter().position(|s| s.sync) else {
        return Ok(None);
    };
    let start = i128::from(t.edit.media_start);
    let pre: Vec<usize> = (first..t.samples.len())
        .filter(|&i| pts(&t.samples[i]) < start)
        .collect();
    let Some(&last) = pre.last() else {
        return Ok(None);
    };
    let path = format!("track {}", t.id);
    let Some(next) = t.samples.get(last + 1).map(|s| i128::from(s.dts)) else {
        return Err(Error::malformed(
            path,
            t.samples.last().map_or(0, |s| s.offset),
            format!(
                "the video's edit list starts presentation at {:.3} s of its media, after its last frame",
                seconds(start, t)
            ),
        ));
    };
    let k = pre.len() as i128;
    // New decode times, walking back from the first frame after the pre-roll.
    let mut dts = vec![0i128; last + 1 - first];
    let mut at = next;
    for i in (first..=last).rev() {
        let s = &t.samples[i];
        at -= if pts(s) < start {
            1
        } else {
            i128::from(s.duration)
        };
        dts[i - first] = at;
    }
    // New presentation times of the pre-roll: its order kept, on the k ticks before the edit's start.
    let mut order = pre.clone();
    order.sort_by_key(|&i| (pts(&t.samples[i]), i));
    let mut new_pts = std::collections::HashMap::with_capacity(order.len());
    for (rank, &i) in order.iter().enumerate() {
        new_pts.insert(i, start - k + rank as i128);
    }
    let floor = match first.checked_sub(1) {
        Some(b) => i128::from(t.samples[b].dts) + 1,
        None => 0,
    };
    let rewritten: Option<Vec<(u64, u32, i32)>> = (first..=last)
        .map(|i| {
            let s = &t.samples[i];
            let d = dts[i - first];
            let p = new_pts.get(&i).copied().unwrap_or_else(|| pts(s));
            let end = dts.get(i + 1 - first).copied().unwrap_or(next);
            if d < floor || p < d {
                return None;
            }
            Some((
                u64::try_from(d).ok()?,
                u32::try_from(end - d).ok()?,
                i32::try_from(p - d).ok()?,
            ))
        })
        .collect();
    let lead = seconds(start - pts(&t.samples[first]), t);
    let Some(rewritten) = rewritten else {
        return Ok(Some(format!(
            "the video's edit list starts presentation {lead:.3} s after its first key frame; the package \
             also shows the {k} frames before that point (they are needed to decode the rest), and keeps \
             the audio in sync"
        )));
    };
    for (i, (d, dur, cts)) in (first..=last).zip(rewritten) {
        let s = &mut t.samples[i];
        s.dts = d;
        s.duration = dur;
        s.cts_offset = cts;
    }
    // The frame before the first key frame (not packaged) still ends where the next one starts.
    if let Some(b) = first.checked_sub(1) {
        if let Ok(d) = u32::try_from(t.samples[first].dts - t.samples[b].dts) {
            t.samples[b].duration = d;
        }
    }
    Ok(Some(format!(
        "the video's edit list starts presentation {lead:.3} s after its first key frame: the {k} frames \
         before that point are kept for decoding but shown for one tick each ({:.3} ms in all), so the \
         package starts where the source does",
        seconds(k, t) * 1000.0
    )))
}

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

/// The output presentation time of the first output sample of the reference track and of each other
/// track, in each track's own ticks. `reference` is the track and the source media time of its earliest
/// presented sample; the others present their first sample first.
fn start_delays(reference: (&Track, i128), others: &[&Track]) -> Result<(u64, Vec<u64>)> {
    let (rt, earliest) = reference;
    let r_ts = i128::from(rt.timescale.max(1));
    let lr = lead(rt, earliest);
    let leads: Vec<(i128, i128)> = others
        .iter()
        .map(|t| (lead(t, first_presented(t)), i128::from(t.timescale.max(1))))
        .collect();
    // The smallest shift (whole reference ticks) that presents no track before 0.
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
        .zip(others)
        .map(|(&(l, ts), t)| {
            fit(
                l.saturating_add(div_round(shift.saturating_mul(ts), r_ts)),
                t,
            )
        })
        .collect::<Result<Vec<u64>>>()?;
    Ok((r_delay, delays))
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
