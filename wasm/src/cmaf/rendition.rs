//! A rendition of the copy rung: one source track, re-wrapped as CMAF with no payload copied.

use super::data::SegmentData;
use super::entry::cmaf_entry;
use super::fragment::{fragment_header, styp, OutSample};
use super::init::{init_segment, InitTrack};
use crate::codec::{parse_sample_entry, SampleEntry, VideoInfo};
use crate::demux::{Movie, Track, TrackKind};
use crate::error::{Error, Result};
use crate::plan::{SegmentPlan, TrackPlan};
use std::ops::Range;

/// Where a key frame sits inside a media segment: the byte range from its moof to the end of the frame,
/// which is what an I-frame playlist entry addresses (RFC 8216 § 4.3.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IFrameRef {
    pub offset: u64,
    pub len: u64,
    /// Ticks until the next key frame.
    pub duration: u64,
}

/// What the playlists need of one media segment: its size and timing, not its bytes.
#[derive(Debug, Clone)]
pub struct MediaSegment {
    /// Size of the segment file, bytes.
    pub len: u64,
    /// tfdt of the first fragment, rendition ticks.
    pub start: u64,
    pub duration: u64,
    pub iframes: Vec<IFrameRef>,
}

impl MediaSegment {
    pub fn duration_s(&self, timescale: u32) -> f64 {
        self.duration as f64 / f64::from(timescale)
    }
}

#[derive(Debug, Clone)]
pub struct Rendition {
    /// Directory name inside the package ("video", "audio", ...).
    pub id: String,
    pub kind: TrackKind,
    pub timescale: u32,
    pub language: String,
    pub entry: SampleEntry,
    pub init: Vec<u8>,
    pub segments: Vec<MediaSegment>,
    /// The copy rung's segments as recipes (header bytes + source ranges), one per entry of `segments`.
    /// Empty for an encoded rendition: its segment bytes were handed out as they were made.
    pub data: Vec<SegmentData>,
    /// Display size after pixel aspect ratio and rotation, for RESOLUTION (video only).
    pub display: Option<(u32, u32)>,
    /// Frames per second, from the sample durations (video only).
    pub frame_rate: Option<f64>,
}

impl Rendition {
    /// The copy rendition of the planned track: headers written here, payload named as source ranges.
    pub fn copy(movie: &Movie, plan: &TrackPlan, id: &str) -> Result<Rendition> {
        let t = &movie.tracks[plan.track];
        let source_entry = t.entry.as_ref().ok_or_else(|| {
            Error::Internal(format!("track {} has no usable sample description", t.id))
        })?;
        // What the init segment carries, parsed back so the rendition describes what was written.
        let entry = parse_sample_entry(&cmaf_entry(source_entry)?, 0)?;
        let init = init_segment(&InitTrack {
            kind: t.kind,
            timescale: t.timescale,
            language: &t.language,
            header: t.header,
            entry: &entry.bytes,
        })?;
        let mut seq = 0u32;
        let mut segments = Vec::with_capacity(plan.segments.len());
        let mut bodies = Vec::with_capacity(plan.segments.len());
        for sp in &plan.segments {
            let (segment, data) = copy_segment(t, plan, sp, &mut seq)?;
            segments.push(segment);
            bodies.push(data);
        }
        let (display, frame_rate) = match (&entry.video, t.kind) {
            (Some(v), TrackKind::Video) => {
                let display = display_size(t, v)?;
                let ticks: u64 = segments.iter().map(|s| s.duration).sum();
                let frames = plan.segments.iter().map(|s| s.samples.len()).sum::<usize>();
                let fps =
                    (ticks > 0).then(|| frames as f64 * f64::from(t.timescale) / ticks as f64);
                (Some(display), fps)
            }
            _ => (None, None),
        };
        Ok(Rendition {
            id: id.to_string(),
            kind: t.kind,
            timescale: t.timescale,
            language: t.language.clone(),
            entry,
            init,
            segments,
            data: bodies,
            display,
            frame_rate,
        })
    }

    pub fn duration_s(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum::<u64>() as f64 / f64::from(self.timescale)
    }

    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Bits per second of segment `k`.
    pub fn segment_bitrate(&self, k: usize) -> f64 {
        let s = &self.segments[k];
        let secs = s.duration_s(self.timescale);
        if secs > 0.0 {
            s.len as f64 * 8.0 / secs
        } else {
            0.0
        }
    }

    /// The highest per-segment bits per second.
    pub fn peak_bitrate(&self) -> f64 {
        (0..self.segments.len())
            .map(|k| self.segment_bitrate(k))
            .fold(0.0, f64::max)
    }

    /// Average bits per second over the whole rendition.
    pub fn average_bitrate(&self) -> f64 {
        let secs = self.duration_s();
        if secs > 0.0 {
            self.total_bytes() as f64 * 8.0 / secs
        } else {
            0.0
        }
    }
}

/// One media segment of the copy rung: a styp, then each fragment's header followed by its samples named as
/// source ranges. `seq` is the last fragment sequence number written.
fn copy_segment(
    t: &Track,
    plan: &TrackPlan,
    sp: &SegmentPlan,
    seq: &mut u32,
) -> Result<(MediaSegment, SegmentData)> {
    let mut data = SegmentData::new();
    data.push_bytes(styp());
    let mut iframes = Vec::new();
    for gop in &sp.fragments {
        let gop_ticks: u64 = gop.clone().map(|i| u64::from(t.samples[i].duration)).sum();
        for (n, frag) in gop_fragments(t.kind, gop).into_iter().enumerate() {
            *seq += 1;
            let samples = out_samples(t, plan, frag.clone())?;
            let header = fragment_header(*seq, plan.out_dts(t, frag.start), &samples)?;
            let moof_at = data.len();
            let payload: u64 = samples.iter().map(|s| u64::from(s.size)).sum();
            let len = header.len() as u64 + payload;
            data.push_bytes(header);
            if t.kind == TrackKind::Video && n == 0 {
                iframes.push(IFrameRef {
                    offset: moof_at,
                    len,
                    duration: gop_ticks,
                });
            }
            for i in frag {
                let s = &t.samples[i];
                data.push_source(s.offset, u64::from(s.size));
            }
        }
    }
    let segment = MediaSegment {
        len: data.len(),
        start: sp.start,
        duration: sp.duration,
        iframes,
    };
    Ok((segment, data))
}

/// A video GOP is written as two fragments: the key frame alone, then the rest. The I-frame playlist can
/// then address a complete moof + mdat (RFC 8216 § 4.3.3.6), which every reader accepts, rather than a moof
/// whose trun describes bytes outside the range.
fn gop_fragments(kind: TrackKind, gop: &Range<usize>) -> Vec<Range<usize>> {
    if kind == TrackKind::Video && gop.len() > 1 {
        vec![gop.start..gop.start + 1, gop.start + 1..gop.end]
    } else {
        vec![gop.clone()]
    }
}

/// The fragment's samples as the trun describes them, on the output timeline.
fn out_samples(t: &Track, plan: &TrackPlan, frag: Range<usize>) -> Result<Vec<OutSample>> {
    frag.map(|i| {
        let s = &t.samples[i];
        // plan_video checked that every adjusted offset fits 32 bits.
        let cts = plan.out_cts_offset(t, i);
        let cts_offset = i32::try_from(cts)
            .map_err(|_| Error::Internal(format!("track {}: cts offset {cts}", t.id)))?;
        Ok(OutSample {
            size: s.size,
            duration: s.duration,
            cts_offset,
            sync: s.sync || t.kind != TrackKind::Video,
        })
    })
    .collect()
}

/// Display size for RESOLUTION: the coded size stretched by the pixel aspect ratio, turned by the rotation.
fn display_size(t: &Track, v: &VideoInfo) -> Result<(u32, u32)> {
    let (mut w, mut h) = (u32::from(v.width), u32::from(v.height));
    if let Some((hs, vs)) = v.pasp.filter(|&(hs, vs)| hs > 0 && vs > 0) {
        // The codec refused a pasp that stretches the width beyond 32 bits (codec/video.rs).
        w = u32::try_from(u64::from(w) * u64::from(hs) / u64::from(vs)).map_err(|_| {
            Error::Internal(format!("track {}: pasp {hs}:{vs} was not refused", t.id))
        })?;
    }
    if matches!(t.rotation(), Some(90 | 270)) {
        std::mem::swap(&mut w, &mut h);
    }
    Ok((w, h))
}
