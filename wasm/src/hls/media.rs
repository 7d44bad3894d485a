//! Media playlists and I-frame playlists of one rendition.

use super::{to_string, VERSION};
use crate::cmaf::Rendition;
use m3u8_rs::{ByteRange, Map, MediaPlaylist, MediaPlaylistType, MediaSegment};

fn playlist(target_duration: u64, ended: bool) -> MediaPlaylist {
    // EXTINF as decimal-floating-point with microsecond resolution ("6.006000", never "6"): finer than any
    // frame. m3u8-rs only offers this as a process-wide setting; every writer in this crate wants the same.
    m3u8_rs::WRITE_OPT_FLOAT_PRECISION.store(6, std::sync::atomic::Ordering::Relaxed);
    MediaPlaylist {
        version: Some(VERSION),
        target_duration,
        independent_segments: true,
        playlist_type: Some(if ended {
            MediaPlaylistType::Vod
        } else {
            MediaPlaylistType::Event
        }),
        end_list: ended,
        ..MediaPlaylist::default()
    }
}

fn map() -> Map {
    Map {
        uri: crate::layout::INIT.into(),
        ..Map::default()
    }
}

/// A media playlist of consecutive segments `seg_00001.m4s`… lasting `durations_s`, after one EXT-X-MAP.
fn segments_playlist(
    durations_s: impl IntoIterator<Item = f64>,
    target_duration: u64,
    ended: bool,
) -> String {
    let mut p = playlist(target_duration, ended);
    for (k, d) in durations_s.into_iter().enumerate() {
        p.segments.push(MediaSegment {
            uri: crate::layout::segment_name(k),
            duration: crate::num::f64_to_f32(d),
            map: (k == 0).then(map),
            ..MediaSegment::default()
        });
    }
    to_string(|w| p.write_to(w))
}

/// The media playlist of the first `count` segments: VOD with ENDLIST when `count` covers them all,
/// else a growing EVENT playlist (playable while an upload is still running).
pub fn media_playlist(r: &Rendition, target_duration: u64, count: usize) -> String {
    let count = count.min(r.segments.len());
    segments_playlist(
        r.segments
            .iter()
            .take(count)
            .map(|s| s.duration_s(r.timescale)),
        target_duration,
        count == r.segments.len(),
    )
}

/// A media playlist written before its segments exist (a ladder's rung at the start of encoding): every
/// planned segment with its duration, as a growing EVENT playlist without ENDLIST. The origin serves the
/// prefix of it that is stored; the playlist written from the segments replaces it at the end.
pub fn planned_media_playlist(durations_s: &[f64], target_duration: u64) -> String {
    segments_playlist(durations_s.iter().copied(), target_duration, false)
}

/// The I-frame playlist: one entry per key frame, a byte range from its moof to the end of the frame inside
/// the existing segments (RFC 8216 § 4.3.3.6). Apple HLS Authoring Spec 6.1.
pub fn iframe_playlist(r: &Rendition, target_duration: u64) -> String {
    let mut p = playlist(target_duration, true);
    p.i_frames_only = true;
    let mut first = true;
    for (k, s) in r.segments.iter().enumerate() {
        for f in &s.iframes {
            p.segments.push(MediaSegment {
                uri: crate::layout::segment_name(k),
                duration: crate::num::f64_to_f32(f.duration as f64 / f64::from(r.timescale)),
                byte_range: Some(ByteRange {
                    length: f.len,
                    offset: Some(f.offset),
                }),
                map: std::mem::take(&mut first).then(map),
                ..MediaSegment::default()
            });
        }
    }
    to_string(|w| p.write_to(w))
}

/// Peak and average bits per second of the I-frame playlist.
pub fn iframe_bitrates(r: &Rendition) -> (u64, u64) {
    let ts = f64::from(r.timescale);
    let mut peak = 0f64;
    let (mut bytes, mut ticks) = (0u64, 0u64);
    for f in r.segments.iter().flat_map(|s| &s.iframes) {
        if f.duration > 0 {
            peak = peak.max(f.len as f64 * 8.0 * ts / f.duration as f64);
        }
        bytes += f.len;
        ticks += f.duration;
    }
    let avg = if ticks > 0 {
        bytes as f64 * 8.0 * ts / ticks as f64
    } else {
        0.0
    };
    (
        crate::num::f64_to_u64(peak.ceil()),
        crate::num::f64_to_u64(avg.ceil()),
    )
}
