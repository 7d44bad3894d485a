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
fn frame_rate(r: &Rendition) -> Option<f64> {
    r.frame_rate.map(|f| (f * 1000.0).round() / 1000.0)
}

pub fn master_playlist(videos: &[&Rendition], audios: &[&Rendition]) -> String {
    let mut m = MasterPlaylist {
        version: Some(VERSION),
        independent_segments: true,
        ..MasterPlaylist::default()
    };
    let default_audio = audios.first().copied();
    if !videos.is_empty() {
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
                uri: Some(playlist_uri(a)),
                group_id: AUDIO_GROUP.into(),
                language: Some(rfc5646(&a.language)),
                name,
                default: i == 0,
                autoselect: true,
                channels: a.entry.audio.as_ref().map(|x| x.channels.to_string()),
                ..AlternativeMedia::default()
            });
        }
    }
    for v in videos {
        let mut parts = vec![*v];
        parts.extend(default_audio);
        m.variants.push(VariantStream {
            uri: playlist_uri(v),
            bandwidth: peak_bitrate(v, default_audio),
            average_bandwidth: Some(average_bitrate(v, default_audio)),
            codecs: Some(codecs(&parts)),
            resolution: v.display.map(|(w, h)| Resolution {
                width: w.into(),
                height: h.into(),
            }),
            frame_rate: frame_rate(v),
            audio: default_audio.map(|_| AUDIO_GROUP.to_string()),
            ..VariantStream::default()
        });
    }
    if videos.is_empty() {
        if let Some(a) = default_audio {
            m.variants.push(VariantStream {
                uri: playlist_uri(a),
                bandwidth: peak_bitrate(a, None),
                average_bandwidth: Some(average_bitrate(a, None)),
                codecs: Some(codecs(&[a])),
                ..VariantStream::default()
            });
        }
    }
    for v in videos {
        let (peak, avg) = iframe_bitrates(v);
        m.variants.push(VariantStream {
            is_i_frame: true,
            uri: iframes_uri(v),
            bandwidth: peak,
            average_bandwidth: Some(avg),
            codecs: Some(codecs(&[v])),
            resolution: v.display.map(|(w, h)| Resolution {
                width: w.into(),
                height: h.into(),
            }),
            ..VariantStream::default()
        });
    }
    to_string(|w| m.write_to(w))
}
