//! The Enhanced RTMP parts of a tag body (veovera enhanced-rtmp v1 and v2): ModEx prefixes, the FourCC
//! track loop with its multitrack layouts, and the packet types of video and audio tracks.

use super::flv::{si24, Item};
use crate::boxes::Cursor;
use crate::codec::CodecKind;
use crate::error::{Error, Result};

/// Enhanced RTMP packet types (video and audio share the numbering for the types used here).
pub(super) mod packet {
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

/// FrameType 5: a video info / command frame, no picture.
pub(super) const FRAME_COMMAND: u8 = 5;

/// ModEx prefixes (packet type 7): a size-prefixed payload, then a byte whose low nibble is the real packet
/// type. The payload only carries a nanosecond timestamp offset, below the muxer's resolution: skipped.
pub(super) fn skip_mod_ex(c: &mut Cursor<'_>, mut packet_type: u8) -> Result<u8> {
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
pub(super) fn enhanced_tracks<'a>(
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

pub(super) fn video_track<'a>(
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

pub(super) fn audio_track<'a>(
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
