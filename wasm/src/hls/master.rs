//! The multivariant playlist: one variant per video rendition (or one audio-only variant), the audio group,
//! and an I-frame variant per video rendition. BANDWIDTH and AVERAGE-BANDWIDTH are measured from the
//! written segments; CODECS comes from the sample entries that were written (Apple HLS Authoring Spec 9.1,
//! 9.14, 1.26–1.27).

use super::language::{display_name, rfc5646};
use super::media::iframe_bitrates;
use super::{to_string, VERSION};
use crate::cmaf::Rendition;
use m3u8_rs::{AlternativeMedia, AlternativeMediaType, MasterPlaylist, Resolution, VariantStream};

pub const AUDIO_GROUP: &str = "audio";

/// Path of a rendition's media playlist, relative to the multivariant playlist.
pub fn playlist_uri(r: &Rendition) -> String {
    crate::layout::in_dir(&r.id, crate::layout::PLAYLIST)
}

/// Path of a video rendition's I-frame playlist, relative to the multivariant playlist.
pub fn iframes_uri(r: &Rendition) -> String {
    crate::layout::in_dir(&r.id, crate::layout::IFRAMES)
}

/// Peak bits per second of `video` played with `audio`: segment by segment when both cut at the same
/// instants (the same count), else the sum of the two peaks (an upper bound).
pub fn peak_bitrate(video: &Rendition, audio: Option<&Rendition>) -> u64 {
    let combined = match audio {
        None => video.peak_bitrate(),
        Some(a) if a.segments.len() == video.segments.len() => (0..video.segments.len())
            .map(|k| {
                let secs = video.segments[k].duration_s(video.timescale);
                if secs > 0.0 {
                    (video.segments[k].len + a.segments[k].len) as f64 * 8.0 / secs
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max),
        Some(a) => video.peak_bitrate() + a.peak_bitrate(),
    };
    crate::num::f64_to_u64(combined.ceil())
}

pub fn average_bitrate(video: &Rendition, audio: Option<&Rendition>) -> u64 {
    crate::num::f64_to_u64(
        (video.average_bitrate() + audio.map_or(0.0, Rendition::average_bitrate)).ceil(),
    )
}

fn codecs(parts: &[&Rendition]) -> String {
    parts
        .iter()
        .map(|r| r.entry.codec_string.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Frame rate with three decimals, as Apple's tools write it.
pub fn frame_rate_attr(fps: f64) -> f64 {
    (fps * 1000.0).round() / 1000.0
}

fn frame_rate(r: &Rendition) -> Option<f64> {
    r.frame_rate.map(frame_rate_attr)
}

/// What the multivariant playlist says of one variant (or I-frame variant): measured from a rendition
/// ([`master_playlist`]) or planned before its segments exist (`crate::ladder::planned`).
#[derive(Debug, Clone, PartialEq)]
pub struct VariantLine {
    pub uri: String,
    /// BANDWIDTH: peak bits per second.
    pub peak_bps: u64,
    /// AVERAGE-BANDWIDTH: bits per second over the whole presentation.
    pub average_bps: u64,
    pub codecs: String,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
}

/// An audio rendition of the variants' audio group.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioLine {
    pub uri: String,
    /// The rendition's ISO 639-2/T code as stored (`und` when unknown).
    pub language: String,
    pub channels: Option<u16>,
}

/// The multivariant playlist of `variants`, every one of them joined to the audio group `audios` (none
/// when it is empty), and the I-frame variants `iframes`.
pub fn write_master(
    variants: &[VariantLine],
    audios: &[AudioLine],
    iframes: &[VariantLine],
) -> String {
    let mut m = MasterPlaylist {
        version: Some(VERSION),
        independent_segments: true,
        ..MasterPlaylist::default()
    };
    for (i, a) in audios.iter().enumerate() {
        let mut name = display_name(&a.language);
        if audios[..i]
            .iter()
            .any(|b| display_name(&b.language) == name)
        {
            name = format!("{name} {}", i + 1);
        }
        m.alternatives.push(AlternativeMedia {
            media_type: AlternativeMediaType::Audio,
            uri: Some(a.uri.clone()),
            group_id: AUDIO_GROUP.into(),
            language: Some(rfc5646(&a.language)),
            name,
            default: i == 0,
            autoselect: true,
            channels: a.channels.map(|c| c.to_string()),
            ..AlternativeMedia::default()
        });
    }
    let resolution = |v: &VariantLine| {
        v.resolution.map(|(w, h)| Resolution {
            width: w.into(),
            height: h.into(),
        })
    };
    for v in variants {
        m.variants.push(VariantStream {
            uri: v.uri.clone(),
            bandwidth: v.peak_bps,
            average_bandwidth: Some(v.average_bps),
            codecs: Some(v.codecs.clone()),
            resolution: resolution(v),
            frame_rate: v.frame_rate,
            audio: (!audios.is_empty()).then(|| AUDIO_GROUP.to_string()),
            ..VariantStream::default()
        });
    }
    for v in iframes {
        m.variants.push(VariantStream {
            is_i_frame: true,
            uri: v.uri.clone(),
            bandwidth: v.peak_bps,
            average_bandwidth: Some(v.average_bps),
            codecs: Some(v.codecs.clone()),
            resolution: resolution(v),
            ..VariantStream::default()
        });
    }
    to_string(|w| m.write_to(w))
}

/// The audio group's line for rendition `a`.
pub fn audio_line(a: &Rendition) -> AudioLine {
    AudioLine {
        uri: playlist_uri(a),
        language: a.language.clone(),
        channels: a.entry.audio.as_ref().map(|x| x.channels),
    }
}

/// The multivariant playlist of written renditions: one variant per video rendition with the first
/// audio rendition (the group lists them all), or one audio-only variant when there is no video.
pub fn master_playlist(videos: &[&Rendition], audios: &[&Rendition]) -> String {
    let default_audio = audios.first().copied();
    let mut variants = Vec::new();
    for v in videos {
        let mut parts = vec![*v];
        parts.extend(default_audio);
        variants.push(VariantLine {
            uri: playlist_uri(v),
            peak_bps: peak_bitrate(v, default_audio),
            average_bps: average_bitrate(v, default_audio),
            codecs: codecs(&parts),
            resolution: v.display,
            frame_rate: frame_rate(v),
        });
    }
    if videos.is_empty() {
        if let Some(a) = default_audio {
            variants.push(VariantLine {
                uri: playlist_uri(a),
                peak_bps: peak_bitrate(a, None),
                average_bps: average_bitrate(a, None),
                codecs: codecs(&[a]),
                resolution: None,
                frame_rate: None,
            });
        }
    }
    let group: Vec<AudioLine> = if videos.is_empty() {
        Vec::new()
    } else {
        audios.iter().map(|a| audio_line(a)).collect()
    };
    let iframes: Vec<VariantLine> = videos
        .iter()
        .map(|v| {
            let (peak, avg) = iframe_bitrates(v);
            VariantLine {
                uri: iframes_uri(v),
                peak_bps: peak,
                average_bps: avg,
                codecs: codecs(&[v]),
                resolution: v.display,
                frame_rate: None,
            }
        })
        .collect();
    write_master(&variants, &group, &iframes)
}
