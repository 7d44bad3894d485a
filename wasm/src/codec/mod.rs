//! One ISO BMFF sample entry (a child of `stsd`) in, everything the segmenter needs out: the codec, the RFC
//! 6381 CODECS string derived from the configuration box bytes, the decoder configuration WebCodecs wants as
//! `description`, and the picture or sound parameters.
//!
//! Everything here reads untrusted bytes: no panics, no unchecked indexing, no allocation sized by a declared
//! count. Errors carry the box path ("stsd.avc1.avcC") and the absolute file offset of the problem.

#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)
)]

mod asc;
mod audio;
mod av1;
mod avc;
mod esds;
mod hevc;
mod video;
mod vp9;

#[cfg(test)]
mod tests;

pub use crate::boxes::fourcc_str;
use crate::error::{Error, Result};

/// The codecs the segmenter reads: all of them are packaged into CMAF except VP8, which is only decoded
/// (the ladder encodes every rendition from it; see [`CodecKind::no_cmaf_packaging`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    H264,
    Hevc,
    Av1,
    Vp9,
    Vp8,
    Aac,
    Opus,
    Mp3,
}

impl CodecKind {
    pub fn is_video(self) -> bool {
        matches!(
            self,
            CodecKind::H264 | CodecKind::Hevc | CodecKind::Av1 | CodecKind::Vp9 | CodecKind::Vp8
        )
    }

    /// Why this codec is read but never packaged as it is, or `None` when it is packaged. VP8 has a
    /// sample entry (`vp08`, VP Codec ISO Media File Format Binding § 2) but neither HLS nor the CMAF
    /// media profiles carry it, and the MSE players here (hls.js, Shaka in Chromium) do not play it from
    /// MP4: a VP8 source goes through the ladder, every rendition encoded from frames decoded in the tab.
    pub fn no_cmaf_packaging(self) -> Option<&'static str> {
        match self {
            CodecKind::Vp8 => Some(VP8_NOT_PACKAGED),
            _ => None,
        }
    }

    pub fn is_audio(self) -> bool {
        !self.is_video()
    }
}

/// Why a VP8 track is not copied (the ladder's copy rung; the copy package adds how to publish it).
pub const VP8_NOT_PACKAGED: &str = "VP8 video has no CMAF packaging that HLS players play";

/// What the copy package says of a track it leaves out because its codec is only decoded.
pub fn decoded_only_note(why: &str) -> String {
    format!(
        "{why}; upload it with the ladder (encoded renditions) to encode every rendition from it"
    )
}

/// Picture parameters from a VisualSampleEntry (ISO/IEC 14496-12 §12.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    pub width: u16,
    pub height: u16,
    /// Pixel aspect ratio from `pasp` as (hSpacing, vSpacing); `None` when absent or when either is 0.
    pub pasp: Option<(u32, u32)>,
}

/// Sound parameters. Taken from the codec configuration when it has them (AudioSpecificConfig, dOps),
/// because the sample entry's fields are often placeholders (2 channels, 16-bit, a 16.16 rate that cannot
/// hold 96 kHz).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    pub channels: u16,
    /// Output sample rate in Hz: from the AudioSpecificConfig (the SBR rate for HE-AAC) or 48 000 for Opus,
    /// else the sample entry's rate.
    pub sample_rate: u32,
}

/// One parsed sample entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEntry {
    /// The entry's box type: avc1, avc3, hvc1, hev1, av01, vp09, vp08, mp4a, Opus.
    pub fourcc: [u8; 4],
    pub codec: CodecKind,
    /// RFC 6381 / codec-specific CODECS value: "avc1.64001f", "hvc1.1.6.L93.B0", "av01.0.04M.08",
    /// "vp09.00.10.08", "vp8" (the WebCodecs string: VP8 is never in a CODECS attribute), "mp4a.40.2",
    /// "mp4a.40.34" (MP3), "opus".
    pub codec_string: String,
    /// The whole entry verbatim, header included: the init segment copies it as-is.
    pub bytes: Vec<u8>,
    /// Decoder configuration without box header: the avcC / hvcC / av1C / vpcC payload (WebCodecs
    /// `description`), the AudioSpecificConfig for AAC, the dOps payload for Opus; `None` for MP3.
    pub config: Option<Vec<u8>>,
    pub video: Option<VideoInfo>,
    pub audio: Option<AudioInfo>,
}

/// Parse one sample entry: `bytes` is the complete box (8-byte header included) and `file_offset` the
/// absolute offset of its first byte in the source, used in error messages.
pub fn parse_sample_entry(bytes: &[u8], file_offset: u64) -> Result<SampleEntry> {
    let mut c = crate::boxes::Cursor::new(bytes, file_offset, "stsd");
    let size = c.u32("sample entry size")?;
    let fourcc: [u8; 4] = c.array("sample entry type")?;
    let path = format!("stsd.{}", fourcc_str(fourcc));
    let header_len = match size {
        1 => {
            let large = c.u64("sample entry largesize")?;
            check_entry_size(large, bytes.len(), &path, file_offset)?;
            16
        }
        n => {
            check_entry_size(u64::from(n), bytes.len(), &path, file_offset)?;
            8
        }
    };
    let payload = bytes.get(header_len..).unwrap_or(&[]);
    let payload_offset = file_offset.saturating_add(header_len as u64);
    let body = EntryBody {
        fourcc,
        path: &path,
        offset: file_offset,
        payload,
        payload_offset,
    };
    let parsed = match &fourcc {
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" | b"av01" | b"vp09" | b"vp08" => {
            video::parse(&body)?
        }
        b"mp4a" | b"Opus" => audio::parse(&body)?,
        b"encv" | b"enca" => return Err(encrypted(&path, file_offset)),
        _ => {
            return Err(Error::unsupported(
                &path,
                file_offset,
                format!(
                    "codec '{}' is not supported; upcast packages H.264, HEVC, AV1, VP9, AAC, MP3 and Opus",
                    fourcc_str(fourcc)
                ),
            ))
        }
    };
    Ok(SampleEntry {
        fourcc,
        codec: parsed.codec,
        codec_string: parsed.codec_string,
        bytes: bytes.to_vec(),
        config: parsed.config,
        video: parsed.video,
        audio: parsed.audio,
    })
}

/// The declared entry size must be exactly the bytes handed in.
fn check_entry_size(declared: u64, actual: usize, path: &str, offset: u64) -> Result<()> {
    if u64::try_from(actual).ok() == Some(declared) {
        return Ok(());
    }
    Err(Error::malformed(
        path,
        offset,
        format!("sample entry declares {declared} bytes but {actual} were given"),
    ))
}

fn encrypted(path: &str, offset: u64) -> Error {
    Error::unsupported(path, offset, crate::error::ENCRYPTED)
}

/// The entry with its header stripped, handed to the video and audio parsers.
struct EntryBody<'a> {
    fourcc: [u8; 4],
    path: &'a str,
    /// Absolute offset of the entry's header.
    offset: u64,
    /// Everything after the box header.
    payload: &'a [u8],
    payload_offset: u64,
}

/// What a codec-family parser returns; `parse_sample_entry` adds the verbatim bytes.
struct Parsed {
    codec: CodecKind,
    codec_string: String,
    config: Option<Vec<u8>>,
    video: Option<VideoInfo>,
    audio: Option<AudioInfo>,
}

/// Child boxes of an entry, after refusing encrypted content (a `sinf` child marks a protected entry even
/// when the fourcc was not rewritten to encv/enca).
fn entry_children<'a>(
    body: &EntryBody<'a>,
    fields_len: usize,
) -> Result<Vec<crate::boxes::Child<'a>>> {
    let data = body.payload.get(fields_len..).unwrap_or(&[]);
    let base = crate::boxes::at(body.payload_offset, fields_len);
    let kids = crate::boxes::child_list(data, base, body.path)?;
    if let Some(sinf) = crate::boxes::find(&kids, b"sinf") {
        return Err(encrypted(&format!("{}.sinf", body.path), sinf.offset));
    }
    Ok(kids)
}

/// The payload of the required configuration box, or Malformed naming what is missing.
fn required<'c, 'a>(
    kids: &'c [crate::boxes::Child<'a>],
    body: &EntryBody<'_>,
    fourcc: &[u8; 4],
) -> Result<&'c crate::boxes::Child<'a>> {
    crate::boxes::find(kids, fourcc).ok_or_else(|| {
        Error::malformed(
            body.path,
            body.offset,
            format!(
                "{} has no {} box",
                fourcc_str(body.fourcc),
                fourcc_str(*fourcc)
            ),
        )
    })
}
