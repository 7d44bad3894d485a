//! AudioSampleEntry (ISO/IEC 14496-12 §12.2.3) and QuickTime sound sample descriptions v1/v2 (QuickTime
//! File Format, "Sound Sample Descriptions"), then `esds` (AAC, MP3) or `dOps` (Opus).

use super::{asc, entry_children, esds, required, AudioInfo, CodecKind, EntryBody, Parsed};
use crate::boxes::{find, Child, Cursor};
use crate::error::{Error, Result};

/// Sound fields after the box header: reserved[6], data_reference_index, then (QuickTime names) version,
/// revision, vendor, channelcount, samplesize, compression id, packet size, samplerate 16.16.
const SOUND_FIELDS_LEN: usize = 28;
/// QuickTime v1 adds samplesPerPacket, bytesPerPacket, bytesPerFrame, bytesPerSample.
const QT_V1_EXTRA: usize = 16;
/// QuickTime v2 adds sizeOfStructOnly, audioSampleRate (f64), numAudioChannels, always7F000000,
/// constBitsPerChannel, formatSpecificFlags, constBytesPerAudioPacket, constLPCMFramesPerAudioPacket.
const QT_V2_EXTRA: usize = 36;

pub(super) fn parse(body: &EntryBody<'_>) -> Result<Parsed> {
    let mut c = Cursor::new(body.payload, body.payload_offset, body.path);
    c.skip(8, "reserved and data_reference_index")?;
    let version_at = c.offset();
    // In ISO files these 8 bytes are reserved zeros; QuickTime puts the description version first. (ISO's
    // own AudioSampleEntryV1, only valid in an stsd of version 1, is not produced by any common muxer.)
    let version = c.u16("sound description version")?;
    c.skip(6, "revision level and vendor")?;
    let mut channels = c.u16("channelcount")?;
    c.skip(6, "samplesize, compression ID and packet size")?;
    let mut sample_rate = c.u32("samplerate")? >> 16; // 16.16 fixed point
    let fields_len = match version {
        0 => SOUND_FIELDS_LEN,
        1 => {
            c.skip(QT_V1_EXTRA, "QuickTime v1 sound fields")?;
            SOUND_FIELDS_LEN + QT_V1_EXTRA
        }
        2 => {
            c.skip(4, "sizeOfStructOnly")?;
            let rate = f64::from_bits(c.u64("audioSampleRate")?);
            let count_at = c.offset();
            let count = c.u32("numAudioChannels")?;
            c.skip(QT_V2_EXTRA - 16, "QuickTime v2 sound fields")?;
            channels = u16::try_from(count).map_err(|_| {
                Error::malformed(
                    body.path,
                    count_at,
                    format!("numAudioChannels is {count}; at most 65535 can be described"),
                )
            })?;
            // `as` saturates and maps NaN to 0; the range check keeps nonsense out.
            sample_rate = if rate.is_finite() && (1.0..=f64::from(u32::MAX)).contains(&rate) {
                crate::num::f64_to_u32(rate.round())
            } else {
                0
            };
            SOUND_FIELDS_LEN + QT_V2_EXTRA
        }
        v => {
            return Err(Error::unsupported(
                body.path,
                version_at,
                format!("QuickTime sound description version {v}; versions 0, 1 and 2 are known"),
            ))
        }
    };
    let kids = entry_children(body, fields_len)?;
    let parsed = if &body.fourcc == b"Opus" {
        opus(&kids, body)?
    } else {
        mp4a(&kids, body, channels, sample_rate)?
    };
    Ok(parsed)
}

/// mp4a: the esds is a direct child (ISO) or inside a `wave` atom (QuickTime).
fn mp4a(kids: &[Child<'_>], body: &EntryBody<'_>, channels: u16, rate: u32) -> Result<Parsed> {
    let wave_path = format!("{}.wave", body.path);
    let wave_kids;
    let (esds_box, parent) = match find(kids, b"esds") {
        Some(b) => (b, body.path),
        None => match find(kids, b"wave") {
            Some(wave) => {
                wave_kids =
                    crate::boxes::child_list(wave.payload, wave.payload_offset, &wave_path)?;
                let b = find(&wave_kids, b"esds").ok_or_else(|| {
                    Error::malformed(&wave_path, wave.offset, "mp4a's wave box has no esds box")
                })?;
                (b, wave_path.as_str())
            }
            None => {
                return Err(Error::malformed(
                    body.path,
                    body.offset,
                    "mp4a has no esds box (looked in the entry and in a QuickTime wave box)",
                ))
            }
        },
    };
    let path = format!("{parent}.esds");
    let e = esds::parse(Cursor::new(
        esds_box.payload,
        esds_box.payload_offset,
        &path,
    ))?;
    let mut audio = AudioInfo {
        channels,
        sample_rate: rate,
    };
    let asc = match e.specific_info {
        Some((bytes, at)) => Some((asc::parse(bytes, at, &path)?, bytes)),
        None => None,
    };
    if let Some((a, _)) = &asc {
        audio.sample_rate = a.sample_rate;
        audio.channels = a.channels.unwrap_or(channels);
    }
    let config = asc.as_ref().map(|(_, bytes)| bytes.to_vec());
    // objectTypeIndication values: ISO/IEC 14496-1 Table 5 / the MP4 registration authority.
    let (codec, codec_string, config) = match (e.object_type, &asc) {
        (0x40, Some((a, _))) => (CodecKind::Aac, format!("mp4a.40.{}", a.object_type), config),
        (0x40, None) => {
            return Err(Error::malformed(
                &path,
                esds_box.offset,
                "esds for MPEG-4 audio has no DecoderSpecificInfo (AudioSpecificConfig)",
            ))
        }
        // MPEG-2 AAC Main, LC, SSR (ISO/IEC 13818-7).
        (oti @ 0x66..=0x68, _) => (CodecKind::Aac, format!("mp4a.{oti:02x}"), config),
        // MPEG-1 (0x6B) and MPEG-2 (0x69) audio: "mp4a.40.34" is the MP3 string Safari and Chromium accept.
        (0x69 | 0x6b, _) => (CodecKind::Mp3, "mp4a.40.34".to_string(), None),
        (oti, _) => {
            return Err(Error::unsupported(
                &path,
                e.object_type_offset,
                format!(
                    "esds objectTypeIndication 0x{oti:02x} is not an audio codec upcast supports \
                     (AAC 0x40/0x66-0x68, MP3 0x69/0x6b)"
                ),
            ))
        }
    };
    if audio.sample_rate == 0 || audio.channels == 0 {
        return Err(Error::malformed(
            body.path,
            body.offset,
            format!(
                "{} channels at {} Hz: neither the sample entry nor the esds gives a usable value",
                audio.channels, audio.sample_rate
            ),
        ));
    }
    Ok(Parsed {
        codec,
        codec_string,
        config,
        video: None,
        audio: Some(audio),
    })
}

/// OpusSpecificBox (`dOps`, Encapsulation of Opus in ISOBMFF §4.3.2). Opus always decodes at 48 kHz.
fn opus(kids: &[Child<'_>], body: &EntryBody<'_>) -> Result<Parsed> {
    let b = required(kids, body, b"dOps")?;
    let path = format!("{}.dOps", body.path);
    let mut c = Cursor::new(b.payload, b.payload_offset, &path);
    let len = c.remaining();
    if len < 11 {
        return Err(c.malformed(format!("dOps is {len} bytes; at least 11 needed")));
    }
    let version_at = c.offset();
    let version = c.u8("Version")?;
    if version != 0 {
        return Err(Error::unsupported(
            &path,
            version_at,
            format!("dOps version {version}; only version 0 is defined"),
        ));
    }
    let count_at = c.offset();
    let channels = c.u8("OutputChannelCount")?;
    if channels == 0 {
        return Err(Error::malformed(&path, count_at, "OutputChannelCount is 0"));
    }
    c.skip(8, "PreSkip, InputSampleRate and OutputGain")?;
    let family = c.u8("ChannelMappingFamily")?;
    if family != 0 {
        c.skip(2, "StreamCount and CoupledCount")?;
        c.skip(usize::from(channels), "ChannelMapping")?;
    }
    Ok(Parsed {
        codec: CodecKind::Opus,
        codec_string: "opus".to_string(),
        config: Some(b.payload.to_vec()),
        video: None,
        audio: Some(AudioInfo {
            channels: u16::from(channels),
            sample_rate: 48000,
        }),
    })
}
