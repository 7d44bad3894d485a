//! FLV VIDEODATA / AUDIODATA tag bodies as RTMP delivers them (the message payload; no FLV file tag
//! header), legacy and Enhanced RTMP (veovera enhanced-rtmp v1 and v2): the ExHeader bit, FourCC codecs,
//! ModEx prefixes, multitrack (one track, many tracks, many tracks with many codecs).
//!
//! Each body becomes a list of [`Item`]s (a multitrack body carries one per track): a decoder
//! configuration, a coded frame (payload borrowed from the body) or an end of sequence. Metadata, command
//! frames and multichannel configurations carry nothing the muxer uses and give no item. Every error names
//! the field and its byte offset in the body; no input panics.

use crate::boxes::Cursor;
use crate::codec::CodecKind;
use crate::error::{Error, Result};

const VIDEO: &str = "flv.video";
const AUDIO: &str = "flv.audio";

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

/// Enhanced RTMP packet types (video and audio share the numbering for the types used here).
mod packet {
    pub const SEQUENCE_START: u8 = 0;
    pub const CODED_FRAMES: u8 = 1;
    pub const SEQUENCE_END: u8 = 2;
    pub const CODED_FRAMES_X: u8 = 3;
    pub const VIDEO_METADATA: u8 = 4;
    pub const MPEG2TS_SEQUENCE_START: u8 = 5;
    pub const VIDEO_MULTITRACK: u8 = 6;
    pub const AUDIO_MULTICHANNEL_CONFIG: u8 = 4;
    pub const AUDIO_MULTITRACK: u8 = 5;
    pub const MOD_EX: u8 = 7;
}

/// AvMultitrackType.
const ONE_TRACK: u8 = 0;
const MANY_TRACKS: u8 = 1;
const MANY_TRACKS_MANY_CODECS: u8 = 2;

/// Legacy FrameType 5: a video info / command frame, no picture.
const FRAME_COMMAND: u8 = 5;

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

fn si24(c: &mut Cursor<'_>, what: &str) -> Result<i32> {
    let [a, b, d] = c.array::<3>(what)?;
    // Sign-extend the 24-bit big-endian value.
    Ok(i32::from_be_bytes([a, b, d, 0]) >> 8)
}

/// ModEx prefixes (packet type 7): a size-prefixed payload, then a byte whose low nibble is the real packet
/// type. The payload only carries a nanosecond timestamp offset, below the muxer's resolution: skipped.
fn skip_mod_ex(c: &mut Cursor<'_>, mut packet_type: u8) -> Result<u8> {
    while packet_type == packet::MOD_EX {
        let mut size = usize::from(c.u8("ModEx data size")?) + 1;
        if size == 256 {
            size = usize::from(c.u16("ModEx data size (16 bits)")?) + 1;
        }
        c.skip(size, "ModEx data")?;
        packet_type = c.u8("ModEx type / packet type")? & 0x0f;
    }
    Ok(packet_type)
}

/// The track loop shared by video and audio: a single track, or the multitrack layout. `one` parses one
/// track's body given its cursor, track id, FourCC and packet type.
fn enhanced_tracks<'a>(
    mut c: Cursor<'a>,
    packet_type: u8,
    multitrack: u8,
    mut one: impl FnMut(&mut Cursor<'a>, u8, [u8; 4], u8) -> Result<Option<Item<'a>>>,
) -> Result<Vec<Item<'a>>> {
    let path = c.path();
    if packet_type != multitrack {
        let fourcc = c.array::<4>("FourCC")?;
        return Ok(one(&mut c, 0, fourcc, packet_type)?.into_iter().collect());
    }
    let at = c.offset();
    let b = c.u8("AvMultitrackType / packet type")?;
    let (mt_type, packet_type) = (b >> 4, b & 0x0f);
    if packet_type == multitrack {
        return Err(Error::malformed(
            path,
            at,
            "a multitrack packet nested in a multitrack packet",
        ));
    }
    if !matches!(mt_type, ONE_TRACK | MANY_TRACKS | MANY_TRACKS_MANY_CODECS) {
        return Err(Error::malformed(
            path,
            at,
            format!("AvMultitrackType {mt_type}"),
        ));
    }
    let mut fourcc = if mt_type == MANY_TRACKS_MANY_CODECS {
        [0; 4]
    } else {
        c.array::<4>("FourCC")?
    };
    let mut out = Vec::new();
    loop {
        if mt_type == MANY_TRACKS_MANY_CODECS {
            fourcc = c.array::<4>("FourCC of the track")?;
        }
        let track = c.u8("trackId")?;
        if mt_type == ONE_TRACK {
            out.extend(one(&mut c, track, fourcc, packet_type)?);
            return Ok(out);
        }
        let size = usize::try_from(c.u24("size of the track")?)
            .map_err(|_| c.malformed("track size does not fit"))?;
        let start = c.offset();
        let data = c.bytes(size, "the track's data (its declared size)")?;
        let mut tc = Cursor::new(data, start, path);
        out.extend(one(&mut tc, track, fourcc, packet_type)?);
        if c.remaining() == 0 {
            return Ok(out);
        }
    }
}

fn video_codec(c: &Cursor<'_>, fourcc: [u8; 4]) -> Result<CodecKind> {
    match &fourcc {
        b"avc1" => Ok(CodecKind::H264),
        b"hvc1" => Ok(CodecKind::Hevc),
        b"av01" => Ok(CodecKind::Av1),
        b"vp09" => Ok(CodecKind::Vp9),
        _ => Err(Error::unsupported(
            c.path(),
            c.offset().saturating_sub(1),
            format!(
                "video FourCC '{}'; upcast takes avc1, hvc1, av01 and vp09",
                crate::codec::fourcc_str(fourcc)
            ),
        )),
    }
}

fn video_track<'a>(
    c: &mut Cursor<'a>,
    track: u8,
    fourcc: [u8; 4],
    packet_type: u8,
    key: bool,
) -> Result<Option<Item<'a>>> {
    let codec = video_codec(c, fourcc)?;
    Ok(match packet_type {
        packet::SEQUENCE_START => Some(Item::Config {
            track,
            codec,
            data: c.rest(),
        }),
        packet::CODED_FRAMES | packet::CODED_FRAMES_X => {
            let cts_ms = if packet_type == packet::CODED_FRAMES
                && matches!(codec, CodecKind::H264 | CodecKind::Hevc)
            {
                si24(c, "CompositionTime")?
            } else {
                0
            };
            Some(Item::Frame {
                track,
                codec,
                key,
                cts_ms,
                data: c.rest(),
            })
        }
        packet::SEQUENCE_END => Some(Item::End { track, codec }),
        packet::VIDEO_METADATA => None,
        packet::MPEG2TS_SEQUENCE_START => return Err(Error::unsupported(
            c.path(),
            c.offset(),
            "MPEG2TSSequenceStart (an MPEG-2 TS style AV1 configuration); send SequenceStart with \
                 an AV1CodecConfigurationRecord",
        )),
        t => {
            return Err(Error::malformed(
                c.path(),
                c.offset(),
                format!("video PacketType {t}"),
            ))
        }
    })
}

fn audio_track<'a>(
    c: &mut Cursor<'a>,
    track: u8,
    fourcc: [u8; 4],
    packet_type: u8,
) -> Result<Option<Item<'a>>> {
    let codec = match &fourcc {
        b"mp4a" => CodecKind::Aac,
        b"Opus" => CodecKind::Opus,
        _ => {
            return Err(Error::unsupported(
                c.path(),
                c.offset().saturating_sub(1),
                format!(
                    "audio FourCC '{}'; upcast takes mp4a (AAC) and Opus",
                    crate::codec::fourcc_str(fourcc)
                ),
            ))
        }
    };
    Ok(match packet_type {
        packet::SEQUENCE_START => Some(Item::Config {
            track,
            codec,
            data: c.rest(),
        }),
        packet::CODED_FRAMES => Some(Item::Frame {
            track,
            codec,
            key: true,
            cts_ms: 0,
            data: c.rest(),
        }),
        packet::SEQUENCE_END => Some(Item::End { track, codec }),
        packet::AUDIO_MULTICHANNEL_CONFIG => None,
        t => {
            return Err(Error::malformed(
                c.path(),
                c.offset(),
                format!("audio PacketType {t}"),
            ))
        }
    })
}
