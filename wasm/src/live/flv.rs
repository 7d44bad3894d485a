//! FLV VIDEODATA / AUDIODATA tag bodies as RTMP delivers them (the message payload; no FLV file tag
//! header), legacy and Enhanced RTMP (veovera enhanced-rtmp v1 and v2): the ExHeader bit, FourCC codecs,
//! ModEx prefixes, multitrack (one track, many tracks, many tracks with many codecs).
//!
//! Each body becomes a list of [`Item`]s (a multitrack body carries one per track): a decoder
//! configuration, a coded frame (payload borrowed from the body) or an end of sequence. Metadata, command
//! frames and multichannel configurations carry nothing the muxer uses and give no item. Every error names
//! the field and its byte offset in the body; no input panics.

use super::flv_ex::{
    audio_track, enhanced_tracks, packet, skip_mod_ex, video_track, FRAME_COMMAND,
};
use crate::boxes::Cursor;
use crate::codec::CodecKind;
use crate::error::{Error, Result};

pub(super) const VIDEO: &str = "flv.video";
pub(super) const AUDIO: &str = "flv.audio";

/// What one track of a tag body says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// The decoder configuration record: avcC / hvcC / av1C / vpcC payload, AudioSpecificConfig, OpusHead.
    Config {
        track: u8,
        codec: CodecKind,
        data: &'a [u8],
    },
    /// One coded frame. `cts_ms` is the composition offset (presentation minus decode time, ms).
    Frame {
        track: u8,
        codec: CodecKind,
        key: bool,
        cts_ms: i32,
        data: &'a [u8],
    },
    /// The encoder ended this track's sequence.
    End { track: u8, codec: CodecKind },
}

fn cursor<'a>(body: &'a [u8], path: &'a str) -> Cursor<'a> {
    Cursor::new(body, 0, path)
}

/// A video tag body.
pub fn parse_video(body: &[u8]) -> Result<Vec<Item<'_>>> {
    let mut c = cursor(body, VIDEO);
    let b0 = c.u8("FrameType/CodecID byte")?;
    let frame_type = (b0 >> 4) & 0x7;
    if b0 & 0x80 == 0 {
        return legacy_video(c, frame_type, b0 & 0x0f);
    }
    let packet_type = skip_mod_ex(&mut c, b0 & 0x0f)?;
    if frame_type == FRAME_COMMAND && packet_type != packet::VIDEO_METADATA {
        return Ok(Vec::new());
    }
    let key = matches!(frame_type, 1 | 4);
    enhanced_tracks(
        c,
        packet_type,
        packet::VIDEO_MULTITRACK,
        |c, track, fourcc, pt| video_track(c, track, fourcc, pt, key),
    )
}

/// An audio tag body.
pub fn parse_audio(body: &[u8]) -> Result<Vec<Item<'_>>> {
    let mut c = cursor(body, AUDIO);
    let b0 = c.u8("SoundFormat byte")?;
    match b0 >> 4 {
        10 => {
            let at = c.offset();
            let data = match c.u8("AACPacketType")? {
                0 => Item::Config {
                    track: 0,
                    codec: CodecKind::Aac,
                    data: c.rest(),
                },
                1 => Item::Frame {
                    track: 0,
                    codec: CodecKind::Aac,
                    key: true,
                    cts_ms: 0,
                    data: c.rest(),
                },
                t => return Err(Error::malformed(AUDIO, at, format!("AACPacketType {t}"))),
            };
            Ok(vec![data])
        }
        9 => {
            let packet_type = skip_mod_ex(&mut c, b0 & 0x0f)?;
            enhanced_tracks(c, packet_type, packet::AUDIO_MULTITRACK, audio_track)
        }
        f => Err(Error::unsupported(
            AUDIO,
            0,
            format!(
                "SoundFormat {f} ({}); upcast takes AAC, or Opus / AAC through Enhanced RTMP",
                sound_format_name(f)
            ),
        )),
    }
}

fn sound_format_name(f: u8) -> &'static str {
    match f {
        0 | 3 => "linear PCM",
        1 => "ADPCM",
        2 | 14 => "MP3",
        4..=6 => "Nellymoser",
        7 | 8 => "G.711",
        11 => "Speex",
        _ => "reserved",
    }
}

fn legacy_video(mut c: Cursor<'_>, frame_type: u8, codec_id: u8) -> Result<Vec<Item<'_>>> {
    if frame_type == FRAME_COMMAND {
        return Ok(Vec::new());
    }
    if codec_id != 7 {
        return Err(Error::unsupported(
            VIDEO,
            0,
            format!(
                "CodecID {codec_id}; upcast takes H.264 (7), or HEVC / AV1 / VP9 through Enhanced RTMP"
            ),
        ));
    }
    let at = c.offset();
    let pt = c.u8("AVCPacketType")?;
    let cts_ms = si24(&mut c, "CompositionTime")?;
    let item = match pt {
        0 => Item::Config {
            track: 0,
            codec: CodecKind::H264,
            data: c.rest(),
        },
        1 => Item::Frame {
            track: 0,
            codec: CodecKind::H264,
            key: matches!(frame_type, 1 | 4),
            cts_ms,
            data: c.rest(),
        },
        2 => Item::End {
            track: 0,
            codec: CodecKind::H264,
        },
        t => return Err(Error::malformed(VIDEO, at, format!("AVCPacketType {t}"))),
    };
    Ok(vec![item])
}

pub(super) fn si24(c: &mut Cursor<'_>, what: &str) -> Result<i32> {
    let [a, b, d] = c.array::<3>(what)?;
    // Sign-extend the 24-bit big-endian value.
    Ok(i32::from_be_bytes([a, b, d, 0]) >> 8)
}
