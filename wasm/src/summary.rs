//! A summary of what was found and what was made, for people (the CLI prints it, the page shows it) and
//! for machines (it serializes to JSON).

use crate::cmaf::Rendition;
use crate::demux::{Movie, TrackKind};
use crate::num::f64_to_u64;
use crate::plan::{LongGop, Plan};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct TrackSummary {
    pub id: u32,
    pub kind: TrackKind,
    pub handler: String,
    pub codec: Option<String>,
    pub language: String,
    /// Packaged as a rendition.
    pub packaged: bool,
    /// Why not, when it is not.
    pub note: Option<String>,
    pub samples: usize,
    pub duration_s: f64,
    pub width: Option<u16>,
    pub height: Option<u16>,
    pub rotation: Option<u16>,
    pub pixel_aspect: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
    /// Longest distance between key frames, seconds (video).
    pub max_gop_s: Option<f64>,
    pub channels: Option<u16>,
    pub sample_rate: Option<u32>,
    pub bitrate: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenditionSummary {
    pub id: String,
    pub kind: TrackKind,
    pub codec: String,
    pub segments: usize,
    pub bytes: u64,
    pub duration_s: f64,
    pub average_bitrate: u64,
    pub peak_bitrate: u64,
    pub shortest_segment_s: f64,
    pub longest_segment_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub container: String,
    pub duration_s: f64,
    pub file_bytes: u64,
    pub tracks: Vec<TrackSummary>,
    pub renditions: Vec<RenditionSummary>,
    pub segments: usize,
    pub target_duration_s: f64,
    /// EXT-X-TARGETDURATION written in the playlists.
    pub playlist_target_duration: u64,
    pub long_gop: Option<LongGop>,
    pub warnings: Vec<String>,
    /// The subtitle renditions the package announces (`crate::captions`).
    pub captions: Vec<crate::captions::CaptionInfo>,
    /// The chapters track's path, when the package has one.
    pub chapters: Option<String>,
    /// The chapters the source file carries (`crate::demux::chapters`): the package's chapters track
    /// unless typed chapters replace them or the caller leaves them out.
    pub source_chapters: Vec<crate::captions::Chapter>,
}

impl Summary {
    pub fn new(movie: &Movie, plan: &Plan, renditions: &[Rendition], target: u64) -> Summary {
        let packaged: Vec<usize> = plan
            .video
            .iter()
            .chain(plan.audio.iter())
            .map(|p| p.track)
            .collect();
        let tracks = movie
            .tracks
            .iter()
            .map(|t| {
                let video = t.entry.as_ref().and_then(|e| e.video.as_ref());
                let audio = t.entry.as_ref().and_then(|e| e.audio.as_ref());
                let secs = t.duration_s();
                let bytes: u64 = t.samples.iter().map(|s| u64::from(s.size)).sum();
                let is_video = t.kind == TrackKind::Video;
                let syncs: Vec<u64> = t.samples.iter().filter(|s| s.sync).map(|s| s.dts).collect();
                let max_gop = syncs
                    .windows(2)
                    .map(|w| w[1] - w[0])
                    .chain(syncs.last().map(|&l| t.duration_ticks().saturating_sub(l)))
                    .max();
                TrackSummary {
                    id: t.id,
                    kind: t.kind,
                    handler: t.handler.clone(),
                    codec: t.entry.as_ref().map(|e| e.codec_string.clone()),
                    language: t.language.clone(),
                    packaged: packaged.contains(&t.index),
                    note: t.unusable.clone(),
                    samples: t.samples.len(),
                    duration_s: secs,
                    width: video.map(|v| v.width),
                    height: video.map(|v| v.height),
                    rotation: is_video.then(|| t.rotation()).flatten(),
                    pixel_aspect: video.and_then(|v| v.pasp),
                    frame_rate: (is_video && secs > 0.0).then(|| t.samples.len() as f64 / secs),
                    max_gop_s: is_video
                        .then(|| max_gop.map(|g| g as f64 / f64::from(t.timescale)))
                        .flatten(),
                    channels: audio.map(|a| a.channels),
                    sample_rate: audio.map(|a| a.sample_rate),
                    bitrate: if secs > 0.0 {
                        f64_to_u64(bytes as f64 * 8.0 / secs)
                    } else {
                        0
                    },
                }
            })
            .collect();
        let renditions: Vec<RenditionSummary> = renditions
            .iter()
            .map(|r| {
                let durs: Vec<f64> = r
                    .segments
                    .iter()
                    .map(|s| s.duration_s(r.timescale))
                    .collect();
                RenditionSummary {
                    id: r.id.clone(),
                    kind: r.kind,
                    codec: r.entry.codec_string.clone(),
                    segments: r.segments.len(),
                    bytes: r.total_bytes(),
                    duration_s: r.duration_s(),
                    average_bitrate: f64_to_u64(r.average_bitrate().ceil()),
                    peak_bitrate: f64_to_u64(r.peak_bitrate().ceil()),
                    shortest_segment_s: durs.iter().copied().fold(f64::INFINITY, f64::min),
                    longest_segment_s: durs.iter().copied().fold(0.0, f64::max),
                }
            })
            .collect();
        let mut warnings = movie.warnings.clone();
        warnings.extend(plan.warnings.iter().cloned());
        if let Some(l) = &plan.long_gop {
            warnings.push(l.message.clone());
        }
        Summary {
            container: if movie.major_brand.is_empty() {
                "unknown".into()
            } else {
                movie.major_brand.clone()
            },
            duration_s: renditions.iter().map(|r| r.duration_s).fold(0.0, f64::max),
            file_bytes: movie.file_len,
            tracks,
            renditions,
            segments: plan.segment_count(),
            target_duration_s: plan.target_duration_s,
            playlist_target_duration: target,
            long_gop: plan.long_gop.clone(),
            warnings,
            captions: Vec::new(),
            chapters: None,
            source_chapters: movie.chapters.clone(),
        }
    }
}
