//! A live track's decoder configuration (what RTMP's sequence start carries) → its sample entry, init
//! segment and [`TrackInfo`], with the ladder's entry writers ([`crate::ladder::entry`]) and the CMAF init
//! writer.

use super::{sps, TrackInfo};
use crate::cmaf::init::{init_segment, InitTrack};
use crate::codec::{CodecKind, SampleEntry};
use crate::demux::TrackKind;
use crate::error::{Error, Result};
use crate::ladder::entry::{aac_entry, opus_entry, video_entry};
use crate::ladder::mux::header;

/// The timescale of every live video track (the one MPEG-TS and most HLS packagers use).
pub const VIDEO_TIMESCALE: u32 = 90_000;

/// A configured track: its entry, timescale and the description the playlists and status need.
#[derive(Debug, Clone)]
pub struct Configured {
    pub entry: SampleEntry,
    pub timescale: u32,
    pub info: TrackInfo,
}

/// Build the track for `codec` from its decoder configuration (`None`: an Opus track whose publisher sent
/// no OpusHead, which gets a stereo mapping-family-0 one).
pub fn configure(codec: CodecKind, config: Option<&[u8]>) -> Result<Configured> {
    let entry = match codec {
        CodecKind::H264 | CodecKind::Hevc | CodecKind::Av1 | CodecKind::Vp9 => {
            let config = config.ok_or_else(|| missing(codec))?;
            let (family, size) = match codec {
                CodecKind::H264 => ("avc1", sps::avcc_size(config)),
                CodecKind::Hevc => ("hvc1", sps::hvcc_size(config)),
                CodecKind::Av1 => ("av01", None),
                _ => ("vp09", None),
            };
            // AV1 and VP9 carry their size in the bitstream only (sequence header / frame header); the
            // entry says 0 x 0 and the decoder reads the real size.
            let (w, h) = size
                .filter(|&(w, h)| w <= 0xffff && h <= 0xffff)
                .unwrap_or((0, 0));
            video_entry(family, w, h, Some(config), None)?
        }
        CodecKind::Aac => {
            let asc = config.ok_or_else(|| missing(codec))?;
            // aac_entry writes the AudioSampleEntry's channel count and rate from its arguments; they
            // are only known once the AudioSpecificConfig is read, which parsing a first entry does.
            let probe = aac_entry(Some(asc), 2, 48_000)?;
            let a = probe
                .audio
                .ok_or_else(|| Error::EncoderOutput("AAC configuration without audio".into()))?;
            aac_entry(Some(asc), a.channels, a.sample_rate)?
        }
        CodecKind::Opus => opus_entry(config, 2)?,
        CodecKind::Mp3 => {
            return Err(Error::EncoderOutput(
                "MP3 cannot be published live; send AAC or Opus".into(),
            ))
        }
        CodecKind::Vp8 => {
            return Err(Error::EncoderOutput(
                "VP8 cannot be published live; send H.264, HEVC, AV1 or VP9".into(),
            ))
        }
    };
    let video = codec.is_video();
    let (width, height) = entry
        .video
        .as_ref()
        .map_or((0, 0), |v| (u32::from(v.width), u32::from(v.height)));
    let (sample_rate, channels) = entry
        .audio
        .as_ref()
        .map_or((0, 0), |a| (a.sample_rate, a.channels));
    let timescale = if video { VIDEO_TIMESCALE } else { sample_rate };
    if timescale == 0 {
        return Err(Error::EncoderOutput(
            "the audio configuration declares a sample rate of 0".into(),
        ));
    }
    let kind = if video {
        TrackKind::Video
    } else {
        TrackKind::Audio
    };
    let init = init_segment(&InitTrack {
        kind,
        timescale,
        language: "und",
        header: header(width, height),
        entry: &entry.bytes,
    })?;
    let info = TrackInfo {
        kind,
        codec: entry.codec_string.clone(),
        width,
        height,
        sample_rate,
        channels,
        init,
    };
    Ok(Configured {
        entry,
        timescale,
        info,
    })
}

fn missing(codec: CodecKind) -> Error {
    Error::EncoderOutput(format!(
        "{codec:?} frames arrived before the decoder configuration (sequence start)"
    ))
}
