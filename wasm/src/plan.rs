//! Plan: where segments start. Video cuts at the source's sync samples, about every target duration; audio is
//! cut at the same instants (Apple HLS Authoring Spec 8.22). Times are kept in each track's own timescale.

use crate::demux::{Movie, Track, TrackKind};
use crate::error::{Error, Result};
use serde::Serialize;
use std::ops::Range;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PlanOptions {
    /// Target segment duration, seconds.
    pub target_duration_s: f64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            target_duration_s: 6.0,
        }
    }
}

/// How much longer than the target a segment may be (Apple HLS Authoring Spec 7.7), milliseconds.
pub const TOLERANCE_MS: u64 = 500;

/// One segment of one track: a run of samples, split into fragments (one per GOP for video, so that every
/// key frame heads a moof and can be addressed by the I-frame playlist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentPlan {
    pub samples: Range<usize>,
    pub fragments: Vec<Range<usize>>,
    /// Output decode time of the first sample (the tfdt), track ticks.
    pub start: u64,
    /// Sum of the sample durations, track ticks.
    pub duration: u64,
}

/// How one track's samples map to the output timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TrackPlan {
    /// Index into `Movie::tracks`.
    pub track: usize,
    pub timescale: u32,
    /// Output decode time = source decode time - `dts_origin` + `delay` (never negative).
    pub dts_origin: u64,
    pub delay: u64,
    /// Output composition offset = source composition offset - `cts_adjust`; chosen so the first frame is
    /// presented at the same time it is decoded (no reliance on an edit list, which hls.js ignores).
    pub cts_adjust: i64,
    pub segments: Vec<SegmentPlan>,
}

impl TrackPlan {
    pub fn out_dts(&self, t: &Track, i: usize) -> u64 {
        t.samples[i].dts - self.dts_origin + self.delay
    }

    pub fn out_cts_offset(&self, t: &Track, i: usize) -> i64 {
        i64::from(t.samples[i].cts_offset) - self.cts_adjust
    }

    pub fn duration_ticks(&self) -> u64 {
        self.segments.iter().map(|s| s.duration).sum()
    }
}

/// Key frames further apart than the target allows.
#[derive(Debug, Clone, Serialize)]
pub struct LongGop {
    pub longest_segment_s: f64,
    pub target_duration_s: f64,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub target_duration_s: f64,
    pub video: Option<TrackPlan>,
    /// The primary audio track first, then other audio tracks with the same codec (alternate languages).
    pub audio: Vec<TrackPlan>,
    /// Set when the source's GOPs make some segment longer than target + 0.5 s: a caller may re-encode.
    pub long_gop: Option<LongGop>,
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn segment_count(&self) -> usize {
        self.video
            .as_ref()
            .or(self.audio.first())
            .map_or(0, |t| t.segments.len())
    }
}

pub fn plan(movie: &Movie, opts: &PlanOptions) -> Result<Plan> {
    let target = opts.target_duration_s;
    if !(target.is_finite() && (0.5..=60.0).contains(&target)) {
        return Err(Error::InvalidOption(format!(
            "target duration {target} s: choose between 0.5 and 60 seconds"
        )));
    }
    let mut warnings = Vec::new();
    let video = match movie.video {
        Some(i) => Some(plan_video(&movie.tracks[i], target, &mut warnings)?),
        None => None,
    };
    let mut audio = Vec::new();
    for t in audio_tracks(movie, &mut warnings) {
        let mut p = track_timing(t, 0);
        p.segments = match &video {
            Some(v) => cut_like(t, &p, &movie.tracks[v.track], v),
            None => cut_greedy(t, &p, 0..t.samples.len(), target, 0, &|_| true),
        };
        audio.push(p);
    }
    let mut long_gop = None;
    if let Some(v) = &video {
        let ts = f64::from(v.timescale);
        let longest = v.segments.iter().map(|s| s.duration).max().unwrap_or(0) as f64 / ts;
        if longest > target + TOLERANCE_MS as f64 / 1000.0 {
            long_gop = Some(LongGop {
                longest_segment_s: longest,
                target_duration_s: target,
                message: format!(
                    "the source's key frames are up to {longest:.2} s apart, so some segments are longer \
                     than the {target} s target allows (target + 0.5 s); re-encode the video for \
                     conforming segments"
                ),
            });
        }
    }
    Ok(Plan {
        target_duration_s: target,
        video,
        audio,
        long_gop,
        warnings,
    })
}

/// The primary audio track, then the other usable audio tracks that share its codec.
fn audio_tracks<'m>(movie: &'m Movie, warnings: &mut Vec<String>) -> Vec<&'m Track> {
    let Some(primary) = movie.audio.map(|i| &movie.tracks[i]) else {
        return Vec::new();
    };
    let codec = |t: &Track| t.entry.as_ref().map(|e| e.codec_string.clone());
    let mut out = vec![primary];
    for t in &movie.tracks {
        if t.kind != TrackKind::Audio || t.unusable.is_some() || t.index == primary.index {
            continue;
        }
        if codec(t) == codec(primary) {
            out.push(t);
        } else {
            warnings.push(format!(
                "audio track {} ({}) is left out: its codec differs from the main audio's",
                t.id,
                codec(t).unwrap_or_default()
            ));
        }
    }
    out
}

/// The output timing of a track that starts at sample `first`.
fn track_timing(t: &Track, first: usize) -> TrackPlan {
    TrackPlan {
        track: t.index,
        timescale: t.timescale,
        dts_origin: t.samples.get(first).map_or(0, |s| s.dts),
        delay: t.edit.delay,
        cts_adjust: 0,
        segments: Vec::new(),
    }
}

fn plan_video(t: &Track, target: f64, warnings: &mut Vec<String>) -> Result<TrackPlan> {
    debug_assert_eq!(t.kind, TrackKind::Video);
    let first = t.samples.iter().position(|s| s.sync).ok_or_else(|| {
        Error::unsupported(
            format!("track {}", t.id),
            0,
            "the video has no key frame (sync sample) to start a segment at",
        )
    })?;
    if first > 0 {
        warnings.push(format!(
            "the video starts with {first} frames that depend on an earlier key frame; they are dropped"
        ));
    }
    let mut p = track_timing(t, first);
    // Present the first GOP's earliest frame at the decode time of its first sample.
    let gop_end = t.samples[first + 1..]
        .iter()
        .position(|s| s.sync)
        .map_or(t.samples.len(), |n| first + 1 + n);
    let earliest = t.samples[first..gop_end]
        .iter()
        .map(|s| s.dts as i128 + i128::from(s.cts_offset))
        .min()
        .unwrap_or(0);
    p.cts_adjust = i64::try_from(earliest - i128::from(p.dts_origin)).map_err(|_| {
        Error::malformed(
            format!("track {}", t.id),
            0,
            "composition offsets out of range",
        )
    })?;
    if t.edit.complex {
        warnings.push("the video's edit list has several edits; only the first is applied".into());
    }
    for i in first..t.samples.len() {
        let o = p.out_cts_offset(t, i);
        if i32::try_from(o).is_err() {
            return Err(Error::malformed(
                format!("track {}", t.id),
                t.samples[i].offset,
                format!(
                    "composition offset {o} of sample {} does not fit 32 bits",
                    i + 1
                ),
            ));
        }
    }
    let tol = TOLERANCE_MS * u64::from(t.timescale) / 1000;
    p.segments = cut_greedy(t, &p, first..t.samples.len(), target, tol, &|s| {
        t.samples[s].sync
    });
    Ok(p)
}

/// Greedy cut: from each segment start, end at the latest cut point not later than target + `tol` ticks;
/// when there is none, at the first cut point after it (a long GOP).
fn cut_greedy(
    t: &Track,
    p: &TrackPlan,
    range: Range<usize>,
    target: f64,
    tol: u64,
    is_cut: &dyn Fn(usize) -> bool,
) -> Vec<SegmentPlan> {
    let target_ticks = crate::num::f64_to_u64((target * f64::from(t.timescale)).round());
    let limit = target_ticks + tol;
    let cands: Vec<usize> = (range.start + 1..range.end)
        .filter(|&i| is_cut(i))
        .collect();
    let mut starts = vec![range.start];
    let mut start = range.start;
    let mut best = None;
    let mut k = 0;
    while let Some(&c) = cands.get(k) {
        let span = t.samples[c].dts - t.samples[start].dts;
        if span <= limit {
            best = Some(c);
            k += 1;
            if span >= target_ticks {
                starts.push(c);
                start = c;
                best = None;
            }
            continue;
        }
        match best.take() {
            // Cut at the last point that fit, then look at `c` again from there.
            Some(b) => {
                starts.push(b);
                start = b;
            }
            // Nothing fit: a GOP longer than the limit.
            None => {
                starts.push(c);
                start = c;
                k += 1;
            }
        }
    }
    // The end of the track closes the last segment: cut once more if that leaves it too long.
    if let (Some(b), Some(last)) = (best, t.samples[..range.end].last()) {
        if last.dts + u64::from(last.duration) - t.samples[start].dts > limit {
            starts.push(b);
        }
    }
    build_segments(t, p, &starts, range.end, &|r: &Range<usize>| {
        if t.kind == TrackKind::Video {
            split_at(r, &cands)
        } else {
            vec![r.clone()]
        }
    })
}

/// Cut `t` (audio) at the presentation instants where the video's segments start.
fn cut_like(t: &Track, p: &TrackPlan, vt: &Track, v: &TrackPlan) -> Vec<SegmentPlan> {
    let cuts: Vec<u64> = v
        .segments
        .iter()
        .skip(1)
        .map(|seg| {
            let first = seg.samples.start;
            v.out_dts(vt, first)
                .saturating_add_signed(v.out_cts_offset(vt, first))
        })
        .collect();
    cut_at(t, p, v.timescale, &cuts)
}

/// Cut `t` (audio) at `cuts`: output presentation instants in ticks of `v_timescale`, ascending, the
/// track's start left out.
fn cut_at(t: &Track, p: &TrackPlan, v_timescale: u32, cuts: &[u64]) -> Vec<SegmentPlan> {
    let a_ts = u128::from(t.timescale);
    let v_ts = u128::from(v_timescale);
    let mut starts = vec![0];
    let mut i = 0;
    for &pts in cuts {
        let pts = u128::from(pts);
        // First audio sample at or after the video segment's start: a_dts / a_ts >= pts / v_ts.
        while i < t.samples.len() && u128::from(p.out_dts(t, i)) * v_ts < pts * a_ts {
            i += 1;
        }
        if i > *starts.last().unwrap_or(&0) && i < t.samples.len() {
            starts.push(i);
        }
    }
    build_segments(t, p, &starts, t.samples.len(), &|r: &Range<usize>| {
        vec![r.clone()]
    })
}

/// Re-cut every audio track of `plan` at `cuts` (presentation instants in ticks of `v_timescale`, the
/// first segment's start left out): for a ladder whose encoded rungs cut where the source has no key frame.
pub fn recut_audio(movie: &Movie, plan: &mut Plan, v_timescale: u32, cuts: &[u64]) {
    for p in &mut plan.audio {
        if let Some(t) = movie.tracks.get(p.track) {
            p.segments = cut_at(t, p, v_timescale, cuts);
        }
    }
}

fn split_at(r: &Range<usize>, cuts: &[usize]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut s = r.start;
    for &c in cuts.iter().filter(|&&c| c > r.start && c < r.end) {
        out.push(s..c);
        s = c;
    }
    out.push(s..r.end);
    out
}

fn build_segments(
    t: &Track,
    p: &TrackPlan,
    starts: &[usize],
    end: usize,
    fragments: &dyn Fn(&Range<usize>) -> Vec<Range<usize>>,
) -> Vec<SegmentPlan> {
    let mut out = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(end);
        if s >= e {
            continue;
        }
        let samples = s..e;
        out.push(SegmentPlan {
            fragments: fragments(&samples),
            start: p.out_dts(t, s),
            duration: t.samples[s..e].iter().map(|x| u64::from(x.duration)).sum(),
            samples,
        });
    }
    out
}
