//! WebM / Matroska input, demuxed to the same [`Movie`] as an MP4: each frame a sample addressed by its byte
//! range in the file, so the CMAF copy path and the ladder work unchanged.
//!
//! Copyable: VP9 (vpcC made from the first key frame), AV1 (CodecPrivate is the av1C), H.264 and HEVC
//! (CodecPrivate is the avcC / hvcC), Opus (CodecPrivate is the OpusHead; CodecDelay is its priming) and
//! AAC. VP8 is read (a `vp08` entry) but never copied: the copy package leaves it out with a message, and
//! the ladder decodes it and encodes every rendition ([`crate::demux::adopt_decoded_video`]). Vorbis has
//! no CMAF packaging: its tracks are left out with a message saying so.

pub mod clusters;
pub mod ebml;
pub mod lacing;
pub mod timing;
pub mod tracks;
pub mod vp9;

use crate::codec::SampleEntry;
use crate::demux::{Edit, Movie, Track, TrackHeader, TrackKind};
use crate::error::{Error, Result};
use crate::ladder::entry::{aac_entry, opus_entry, video_entry, vp8_entry};
use crate::limits::Limits;
use crate::source::Source;
use clusters::{Frame, SegmentRead};
use tracks::TrackInfo;

/// The first four bytes of every EBML file.
pub const MAGIC: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];

/// Read a WebM or Matroska file's structure and frame index. Payload bytes are read only for the first
/// VP9 key frame's header and the lace headers of laced blocks.
pub fn demux(src: &dyn Source, limits: &Limits) -> Result<Movie> {
    let len = src.len();
    let head = ebml::read_header(src, 0, len, "file")?;
    if head.id != ebml::EBML {
        return Err(Error::NotMp4(
            "it does not start with an EBML header".into(),
        ));
    }
    let doc = doc_type(src, &head)?;
    let seg = ebml::read_header(src, head.end(len), len, "file")?;
    if seg.id != ebml::SEGMENT {
        return Err(Error::malformed(
            format!("file/{}", ebml::name(seg.id)),
            seg.start,
            "expected the Segment after the EBML header",
        ));
    }
    let read = clusters::read_segment(src, &seg, limits)?;
    let mut movie = Movie {
        file_len: len,
        major_brand: doc,
        compatible_brands: Vec::new(),
        movie_timescale: 1000,
        tracks: Vec::new(),
        video: None,
        audio: None,
        warnings: Vec::new(),
        // Matroska's Chapters element is not read: a WebM's chapters are typed on the page.
        chapters: Vec::new(),
        chapter_tracks: Vec::new(),
    };
    for t in &read.tracks {
        if let Some(track) = make_track(src, &read, t)? {
            movie.tracks.push(track);
        }
    }
    crate::demux::finish_movie(&mut movie, seg.start)?;
    Ok(movie)
}

/// The EBML header's DocType: "webm" or "matroska".
fn doc_type(src: &dyn Source, head: &ebml::Element) -> Result<String> {
    let size = head.size.unwrap_or(0);
    if size > 4096 {
        return Err(Error::limit(
            "file/EBML",
            head.start,
            format!("EBML header of {size} bytes"),
        ));
    }
    let data = src.read_vec(head.data_start(), size)?;
    let doc = ebml::children(&data, head.data_start(), "file/EBML")?
        .into_iter()
        .find(|(e, _)| e.id == ebml::DOC_TYPE)
        .map(|(_, d)| ebml::string(d))
        .unwrap_or_default();
    match doc.as_str() {
        "webm" | "matroska" => Ok(doc),
        other => Err(Error::unsupported(
            "file/EBML/DocType",
            head.start,
            format!("EBML document type \"{other}\" (WebM and Matroska are read)"),
        )),
    }
}

/// One video or audio track; `None` for subtitle and other tracks.
fn make_track(src: &dyn Source, read: &SegmentRead, t: &TrackInfo) -> Result<Option<Track>> {
    let kind = match t.kind {
        1 => TrackKind::Video,
        2 => TrackKind::Audio,
        _ => return Ok(None),
    };
    let path = format!("Segment/Tracks/TrackEntry[{}]", t.index);
    let frames: &[Frame] = read.frames.get(&t.number).map_or(&[], Vec::as_slice);
    let (entry, mut unusable) = match sample_entry(src, t, frames, &path) {
        Ok(e) => (Some(e), None),
        Err(Error::Unsupported { msg, .. }) => (None, Some(msg)),
        Err(e) => return Err(e),
    };
    if let Some(why) = entry.as_ref().and_then(|e| e.codec.no_cmaf_packaging()) {
        unusable = Some(crate::codec::decoded_only_note(why));
    }
    let timescale = track_timescale(read.scale, t, &path)?;
    let scale = i128::from(read.scale);
    let ts = i128::from(timescale);
    let to_ticks = move |v: i128| v.saturating_mul(scale).saturating_mul(ts) / 1_000_000_000;
    let ns = |v: u64| i128::from(v).saturating_mul(ts) / 1_000_000_000;
    let default = t.default_duration.map(ns);
    let timed = timing::samples(frames, &to_ticks, default, ns(t.codec_delay), &path, t.at)?;
    if timed.samples.is_empty() && unusable.is_none() {
        unusable = Some("the track has no frames".into());
    }
    let (w, h) = (t.width, t.height);
    let fixed = |v: u64| u32::try_from(v.min(0xffff) << 16).unwrap_or(0);
    Ok(Some(Track {
        index: t.index,
        id: u32::try_from(t.number).unwrap_or(u32::MAX),
        kind,
        handler: if kind == TrackKind::Video {
            "vide"
        } else {
            "soun"
        }
        .into(),
        timescale,
        language: language(&t.language),
        enabled: t.enabled,
        entry,
        unusable,
        samples: timed.samples,
        edit: Edit {
            delay: 0,
            media_start: timed.media_start,
            complex: false,
        },
        header: TrackHeader {
            flags: if t.enabled { 3 } else { 2 },
            matrix: [0x1_0000, 0, 0, 0, 0x1_0000, 0, 0, 0, 0x4000_0000],
            width: fixed(w),
            height: fixed(h),
            volume: if kind == TrackKind::Audio { 0x100 } else { 0 },
            layer: 0,
            alternate_group: 0,
        },
    }))
}

/// Ticks per second for a track: the sample rate for audio when block timestamps convert to it exactly,
/// else what TimestampScale makes a tick (1000 for the usual millisecond).
fn track_timescale(scale: u64, t: &TrackInfo, path: &str) -> Result<u32> {
    let rate = if t.codec_id == "A_OPUS" {
        48000.0
    } else {
        t.sampling_frequency
    };
    let rate_u = crate::num::f64_to_u64(rate.round());
    if t.kind == 2 && rate_u > 0 && (u128::from(rate_u) * u128::from(scale)) % 1_000_000_000 == 0 {
        return u32::try_from(rate_u)
            .map_err(|_| Error::malformed(path, t.at, "sample rate too high"));
    }
    if 1_000_000_000 % scale == 0 {
        return u32::try_from(1_000_000_000 / scale)
            .map_err(|_| Error::malformed(path, t.at, "TimestampScale too small"));
    }
    Err(Error::unsupported(
        "Segment/Info/TimestampScale",
        0,
        format!("TimestampScale {scale} ns does not divide a second"),
    ))
}

/// The sample entry the CMAF init segment will carry, built from CodecPrivate (or the bitstream for VP9).
/// Unsupported: the track is left out with this message.
fn sample_entry(
    src: &dyn Source,
    t: &TrackInfo,
    frames: &[Frame],
    path: &str,
) -> Result<SampleEntry> {
    let here = format!("{path}/CodecPrivate");
    let private = t.private.as_deref();
    let need = || {
        private.ok_or_else(|| {
            Error::malformed(&here, t.at, format!("{} needs a CodecPrivate", t.codec_id))
        })
    };
    let (w, h) = (
        u32::try_from(t.width).unwrap_or(u32::MAX),
        u32::try_from(t.height).unwrap_or(u32::MAX),
    );
    let channels = u16::try_from(t.channels).unwrap_or(0);
    let made = match t.codec_id.as_str() {
        "V_MPEG4/ISO/AVC" => video_entry("avc1", w, h, Some(need()?), None),
        "V_MPEGH/ISO/HEVC" => video_entry("hvc1", w, h, Some(need()?), None),
        "V_AV1" => video_entry("av01", w, h, Some(need()?), None),
        "V_VP9" => {
            let codec = vp9_codec(src, t, frames, path)?;
            video_entry(&codec, w, h, None, None)
        }
        "A_OPUS" => opus_entry(Some(need()?), channels),
        "A_AAC" => {
            let rate = crate::num::f64_to_u64(t.sampling_frequency.round());
            aac_entry(Some(need()?), channels, u32::try_from(rate).unwrap_or(0))
        }
        // Read for the ladder, which decodes it; the copy package leaves it out (`make_track`).
        "V_VP8" => vp8_entry(w, h),
        "A_VORBIS" => {
            return Err(Error::unsupported(
                path,
                t.at,
                "Vorbis audio has no CMAF packaging; re-encode the audio to Opus or AAC",
            ))
        }
        other => {
            return Err(Error::unsupported(
                path,
                t.at,
                format!(
                    "codec {other} is not supported; upcast packages VP9, AV1, H.264, HEVC, Opus and AAC"
                ),
            ))
        }
    };
    made.map_err(|e| match e {
        Error::Unsupported { .. } | Error::Malformed { .. } => e,
        other => Error::malformed(&here, t.at, other.to_string()),
    })
}

/// The VP9 codec string from the first key frame's header (its first 64 bytes are enough).
fn vp9_codec(src: &dyn Source, t: &TrackInfo, frames: &[Frame], path: &str) -> Result<String> {
    let key = frames
        .iter()
        .find(|f| f.key)
        .ok_or_else(|| Error::unsupported(path, t.at, "the VP9 track has no key frame"))?;
    let head = src.read_vec(key.offset, u64::from(key.size.min(64)))?;
    vp9::codec_string(&head, t.width, t.height)
        .map_err(|m| Error::malformed(format!("{path} (SimpleBlock)"), key.offset, m))
}

/// Matroska languages are ISO 639-2 (bibliographic or terminology) codes; "und" for anything else.
fn language(code: &str) -> String {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) {
        code.to_string()
    } else {
        "und".to_string()
    }
}
