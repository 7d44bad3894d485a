//! How a [`super::LadderJob`] describes its source to the page: whether the copy rung can be kept, and the
//! video and audio as the encoder configuration needs them.

use super::job::{us, SourceAudio, SourceVideo};
use crate::cmaf::Rendition;
use crate::codec::{CodecKind, SampleEntry};
use crate::demux::{Movie, Track};
use crate::num::f64_to_u64;
use crate::plan::{LongGop, TrackPlan};

/// Whether the copy rung can be part of the ladder, and why not.
pub(super) fn copy_decision(
    long_gop: Option<&LongGop>,
    entry: &SampleEntry,
) -> (bool, Option<String>) {
    if let Some(why) = entry.codec.no_cmaf_packaging() {
        return (false, Some(why.to_string()));
    }
    match long_gop {
        // Every other video codec the demuxer accepts has a CODECS string HLS players take.
        None if entry.codec.is_video() => (true, None),
        None => (
            false,
            Some(format!(
                "{} is not a video codec HLS players take",
                entry.codec_string
            )),
        ),
        Some(l) => (false, Some(l.message.clone())),
    }
}

/// The source video: its coded size, the copy rendition's display size and frame rate, and the planned
/// samples' bitrate and timing. `frames` counts the timeline's frames.
pub(super) fn source_video(
    entry: &SampleEntry,
    copy: &Rendition,
    track: &Track,
    vp: &TrackPlan,
    frames: usize,
) -> SourceVideo {
    let max_segment_s =
        vp.segments.iter().map(|s| s.duration).max().unwrap_or(0) as f64 / f64::from(vp.timescale);
    let (display_width, display_height) = copy.display.unwrap_or((0, 0));
    let duration_ticks = vp.duration_ticks();
    let coded = entry.video.clone();
    SourceVideo {
        codec: entry.codec_string.clone(),
        coded_width: coded.as_ref().map_or(0, |v| u32::from(v.width)),
        coded_height: coded.as_ref().map_or(0, |v| u32::from(v.height)),
        display_width,
        display_height,
        frame_rate: copy.frame_rate.unwrap_or(0.0),
        bitrate: planned_bitrate(track, vp),
        timescale: vp.timescale,
        frames,
        duration_us: us(duration_ticks, vp.timescale),
        max_segment_s,
        // WebCodecs' "vp8" takes no description (the vpcC of its `vp08` entry is this crate's own).
        description: entry
            .config
            .clone()
            .filter(|_| entry.codec != CodecKind::Vp8),
    }
}

/// Bits per second of the planned samples, rounded; 0 for a plan without duration.
fn planned_bitrate(track: &Track, vp: &TrackPlan) -> u64 {
    let bytes: u64 = vp
        .segments
        .iter()
        .flat_map(|s| s.samples.clone())
        .map(|i| u64::from(track.samples[i].size))
        .sum();
    let secs = vp.duration_ticks() as f64 / f64::from(vp.timescale);
    if secs > 0.0 {
        f64_to_u64((bytes as f64 * 8.0 / secs).round())
    } else {
        0
    }
}

/// The primary audio track as the encoder needs it; AAC is copied as it is.
pub(super) fn source_audio(movie: &Movie) -> Option<SourceAudio> {
    movie
        .audio
        .and_then(|i| movie.tracks[i].entry.as_ref())
        .and_then(|e| {
            let a = e.audio.as_ref()?;
            Some(SourceAudio {
                codec: if e.codec == CodecKind::Mp3 {
                    "mp3".into()
                } else {
                    e.codec_string.clone()
                },
                sample_rate: a.sample_rate,
                channels: a.channels,
                description: e.config.clone(),
                copy: e.codec == CodecKind::Aac,
            })
        })
}
