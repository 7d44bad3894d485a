//! Subtitle segments on the video's boundaries (RFC 8216 § 3.5 WebVTT segments): segment k holds every
//! cue that overlaps its span, so a cue across a boundary appears, whole, in both segments (the player
//! drops the repeat by identical timing and text). Each file carries `X-TIMESTAMP-MAP` mapping cue time
//! zero to the video's first presentation time in the 90 kHz clock (§ 3.5; hls.js compares MPEGTS to the
//! fMP4 init PTS, so for a package starting at zero it is `MPEGTS:0`).

use super::cue::Track;
use m3u8_rs::{MediaPlaylist, MediaPlaylistType, MediaSegment};

/// The video's segments: start and duration of each, microseconds, and the EXT-X-TARGETDURATION the
/// package's playlists carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub target_duration: u64,
    pub segments_us: Vec<(u64, u64)>,
    /// The video's first presentation time, 90 kHz ticks (X-TIMESTAMP-MAP's MPEGTS).
    pub start_90k: u64,
}

/// Most segments a timeline is read with (a day of 1 s segments).
pub const MAX_SEGMENTS: usize = 86_400;

impl Timeline {
    /// From EXTINF durations (seconds) starting at zero.
    pub fn from_durations(target_duration: u64, durations_s: &[f64]) -> Timeline {
        let mut start = 0u64;
        let segments_us = durations_s
            .iter()
            .map(|d| {
                let dur = crate::num::f64_to_u64((d * 1e6).round());
                let s = (start, dur);
                start = start.saturating_add(dur);
                s
            })
            .collect();
        Timeline {
            target_duration,
            segments_us,
            start_90k: 0,
        }
    }

    /// From a written video rendition: its segments' tfdt and durations, exactly.
    pub fn from_rendition(r: &crate::cmaf::Rendition, target_duration: u64) -> Timeline {
        let ts = u128::from(r.timescale.max(1));
        let scale =
            |ticks: u64, per: u128| u64::try_from(u128::from(ticks) * per / ts).unwrap_or(u64::MAX);
        let first = r.segments.first().map_or(0, |s| s.start);
        Timeline {
            target_duration,
            segments_us: r
                .segments
                .iter()
                .map(|s| {
                    (
                        scale(s.start.saturating_sub(first), 1_000_000),
                        scale(s.duration, 1_000_000),
                    )
                })
                .collect(),
            start_90k: scale(first, 90_000),
        }
    }

    /// From a video rendition's media playlist (what the origin has of a published video).
    pub fn from_media_playlist(text: &str) -> Result<Timeline, String> {
        let p = m3u8_rs::parse_media_playlist_res(text.as_bytes())
            .map_err(|e| format!("the video's media playlist does not parse: {e}"))?;
        if p.segments.is_empty() || p.segments.len() > MAX_SEGMENTS {
            return Err(format!(
                "the video's media playlist has {} segments (1 to {MAX_SEGMENTS} expected)",
                p.segments.len()
            ));
        }
        let durations: Vec<f64> = p.segments.iter().map(|s| f64::from(s.duration)).collect();
        Ok(Self::from_durations(p.target_duration, &durations))
    }

    /// The end of the last segment, milliseconds.
    pub fn end_ms(&self) -> u64 {
        self.segments_us.last().map_or(0, |(s, d)| (s + d) / 1000)
    }
}

/// The X-TIMESTAMP-MAP header line of every segment of `timeline`.
pub fn timestamp_map(timeline: &Timeline) -> String {
    // MPEGTS is a 33-bit PES timestamp (ISO/IEC 13818-1).
    format!(
        "X-TIMESTAMP-MAP=MPEGTS:{},LOCAL:00:00:00.000",
        timeline.start_90k % (1 << 33)
    )
}

/// The WebVTT text of each segment of `timeline`, in order.
pub fn segment_track(track: &Track, timeline: &Timeline) -> Vec<String> {
    let header = track.header(Some(&timestamp_map(timeline)));
    timeline
        .segments_us
        .iter()
        .map(|&(start_us, dur_us)| {
            let end_us = start_us.saturating_add(dur_us);
            let mut out = header.clone();
            for c in track.cues.iter().filter(|c| {
                c.start_ms.saturating_mul(1000) < end_us && c.end_ms.saturating_mul(1000) > start_us
            }) {
                out.push('\n');
                out.push_str(&c.to_vtt());
                out.push('\n');
            }
            out
        })
        .collect()
}

/// The file name of the `k`-th (0-based) subtitle segment: `seg_00001.vtt`, ...
pub fn segment_name(k: usize) -> String {
    format!("seg_{:05}.vtt", k + 1)
}

/// The subtitle rendition's media playlist: VOD, the video's target duration and EXTINFs.
pub fn media_playlist(timeline: &Timeline) -> String {
    // EXTINF with six decimals, as every other playlist of the package (see hls::media).
    m3u8_rs::WRITE_OPT_FLOAT_PRECISION.store(6, std::sync::atomic::Ordering::Relaxed);
    let p = MediaPlaylist {
        version: Some(crate::hls::VERSION),
        target_duration: timeline.target_duration,
        playlist_type: Some(MediaPlaylistType::Vod),
        end_list: true,
        segments: timeline
            .segments_us
            .iter()
            .enumerate()
            .map(|(k, &(_, d))| MediaSegment {
                uri: segment_name(k),
                duration: crate::num::f64_to_f32(d as f64 / 1e6),
                ..MediaSegment::default()
            })
            .collect(),
        ..MediaPlaylist::default()
    };
    crate::hls::to_string(|w| p.write_to(w))
}
