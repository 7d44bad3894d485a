//! The playlists of a ladder written at the START of its job, before any rung is encoded, so that the
//! package plays while it encodes: the multivariant playlist from the planned rungs, and every media
//! playlist with its segments' durations (all rungs cut at the copy rung's instants, so these are known
//! now). The origin serves each media playlist as the growing EVENT view of the segments already stored;
//! the playlists [`super::LadderJob::finish`] writes from the segments replace these at publish.
//!
//! What is exact and what is an estimate:
//! - segment durations of encoded video rungs: exact (boundaries of [`super::timeline::Timeline`]);
//! - the copy rung and copied audio: every figure is exact (their segments are planned from the source);
//! - BANDWIDTH and AVERAGE-BANDWIDTH of encoded rungs: estimates. The encoders are asked for a bit rate
//!   in WebCodecs' `variable` mode, which aims at it on average; how far a segment goes above it is known
//!   only once the segment is written. Both attributes state the configured rate (plus the audio's) until
//!   publish, when the measured peak and average replace them;
//! - CODECS of encoded rungs: the string the encoder was configured with (the written one comes from the
//!   encoder's avcC/av1C/vpcC and can name another level);
//! - encoded audio: its segments are cut at the first encoder frame at or after each video boundary, so
//!   each duration is the video's within one audio frame.
//!
//! No I-frame variants and no DASH MPD are written now: an I-frame playlist holds byte ranges of segments
//! that do not exist yet, and the MPD is served as stored (a static MPD has no growing form).

use super::plan::Candidate;
use super::OutFile;
use crate::cmaf::Rendition;
use crate::hls::master::{
    audio_line, average_bitrate, frame_rate_attr, peak_bitrate, playlist_uri, write_master,
    AudioLine, VariantLine,
};
use crate::hls::media::planned_media_playlist;
use crate::layout;
use crate::num::f64_to_u64;

/// The audio encoder's configuration, known before its first chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAudio {
    /// "mp4a.40.2" or "opus", as configured (the CODECS string of either).
    pub codec: String,
    pub channels: u16,
    /// Bits per second the encoder is asked for.
    pub bitrate: u64,
}

/// The audio of the planned ladder.
pub enum AudioPlan<'a> {
    None,
    /// The source's AAC tracks, copied (the first is the default; none when the source's audio could
    /// not be planned): planned in full.
    Copied(Vec<&'a Rendition>),
    /// Re-encoded into the `audio` rendition: the encoder's configuration and the source track's
    /// ISO 639-2/T language.
    Encoded(&'a PlannedAudio, &'a str),
}

/// What the planned playlists are made of.
pub struct PlannedLadder<'a> {
    /// The video variants (encoded rungs and the copy rung), in the order the multivariant playlist
    /// lists them.
    pub videos: Vec<PlannedVideo<'a>>,
    pub audio: AudioPlan<'a>,
    /// Duration (s) of every segment of an encoded rung.
    pub rung_segments_s: Vec<f64>,
}

/// A video variant of the planned ladder.
pub enum PlannedVideo<'a> {
    /// An encoded rung, as configured.
    Encoded(&'a Candidate),
    Copy(&'a Rendition),
}

impl PlannedVideo<'_> {
    /// Average bits per second: the configured rate, or the copy rung's measured one.
    pub fn average_bps(&self) -> f64 {
        match self {
            PlannedVideo::Encoded(r) => r.bitrate as f64,
            PlannedVideo::Copy(c) => c.average_bitrate(),
        }
    }

    pub fn codec(&self) -> &str {
        match self {
            PlannedVideo::Encoded(r) => &r.codec,
            PlannedVideo::Copy(c) => &c.entry.codec_string,
        }
    }
}

/// The variant line of one planned video with the planned audio.
fn variant(v: &PlannedVideo<'_>, audio: &AudioPlan<'_>) -> VariantLine {
    let audio_codec = match audio {
        AudioPlan::None => None,
        AudioPlan::Copied(a) => a.first().map(|a| a.entry.codec_string.as_str()),
        AudioPlan::Encoded(a, _) => Some(a.codec.as_str()),
    };
    let codecs = std::iter::once(v.codec())
        .chain(audio_codec)
        .collect::<Vec<_>>()
        .join(",");
    let (peak_bps, average_bps) = match (v, audio) {
        // Measured, segment by segment, as the written playlist will say.
        (PlannedVideo::Copy(c), AudioPlan::Copied(a)) => (
            peak_bitrate(c, a.first().copied()),
            average_bitrate(c, a.first().copied()),
        ),
        (PlannedVideo::Copy(c), AudioPlan::None) => {
            (peak_bitrate(c, None), average_bitrate(c, None))
        }
        (PlannedVideo::Copy(c), AudioPlan::Encoded(a, _)) => (
            peak_bitrate(c, None) + a.bitrate,
            average_bitrate(c, None) + a.bitrate,
        ),
        // Estimates (see the module's comment): the configured rate, plus the audio's.
        (PlannedVideo::Encoded(r), audio) => {
            let (peak, avg) = match audio {
                AudioPlan::None => (0, 0),
                AudioPlan::Copied(a) => a.first().map_or((0, 0), |a| {
                    (
                        f64_to_u64(a.peak_bitrate().ceil()),
                        f64_to_u64(a.average_bitrate().ceil()),
                    )
                }),
                AudioPlan::Encoded(a, _) => (a.bitrate, a.bitrate),
            };
            (r.bitrate + peak, r.bitrate + avg)
        }
    };
    let (resolution, frame_rate) = match v {
        PlannedVideo::Encoded(r) => (
            Some((r.width, r.height)),
            (r.framerate > 0.0).then(|| frame_rate_attr(r.framerate)),
        ),
        PlannedVideo::Copy(c) => (c.display, c.frame_rate.map(frame_rate_attr)),
    };
    let uri = match v {
        PlannedVideo::Encoded(r) => layout::in_dir(&r.id, layout::PLAYLIST),
        PlannedVideo::Copy(c) => playlist_uri(c),
    };
    VariantLine {
        uri,
        peak_bps,
        average_bps,
        codecs,
        resolution,
        frame_rate,
    }
}

/// The planned playlists: `master.m3u8` first, then a media playlist per video and for the audio.
pub fn playlists(plan: &PlannedLadder<'_>) -> Vec<OutFile> {
    let copy_s = |r: &Rendition| -> Vec<f64> {
        r.segments
            .iter()
            .map(|s| s.duration_s(r.timescale))
            .collect()
    };
    let mut media: Vec<(String, Vec<f64>)> = plan
        .videos
        .iter()
        .map(|v| match v {
            PlannedVideo::Encoded(r) => (
                layout::in_dir(&r.id, layout::PLAYLIST),
                plan.rung_segments_s.clone(),
            ),
            PlannedVideo::Copy(c) => (playlist_uri(c), copy_s(c)),
        })
        .collect();
    let group: Vec<AudioLine> = match &plan.audio {
        AudioPlan::None => Vec::new(),
        AudioPlan::Copied(list) => {
            media.extend(list.iter().map(|a| (playlist_uri(a), copy_s(a))));
            list.iter().map(|a| audio_line(a)).collect()
        }
        AudioPlan::Encoded(a, language) => {
            let uri = layout::in_dir(layout::AUDIO_DIR, layout::PLAYLIST);
            media.push((uri.clone(), plan.rung_segments_s.clone()));
            vec![AudioLine {
                uri,
                language: (*language).to_string(),
                channels: Some(a.channels),
            }]
        }
    };
    let variants: Vec<VariantLine> = plan
        .videos
        .iter()
        .map(|v| variant(v, &plan.audio))
        .collect();
    let target = crate::hls::target_duration(media.iter().flat_map(|(_, d)| d.iter().copied()));
    let mut out = vec![(
        layout::MASTER.to_string(),
        write_master(&variants, &group, &[]).into_bytes(),
    )];
    for (path, durations) in media {
        out.push((
            path,
            planned_media_playlist(&durations, target).into_bytes(),
        ));
    }
    out
}
