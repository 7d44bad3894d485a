//! Chapters the source carries, in either of the two forms MP4 and MOV files use:
//!
//! - a **chapter track** (QuickTime File Format, "Chapter lists"; also what ffmpeg, Apple and HandBrake
//!   write in MP4): a `tref/chap` box in a track names the track IDs of a text track whose samples are the
//!   chapter titles, each a 16-bit length then the text (UTF-8, or UTF-16 after a byte-order mark), and
//!   each sample's decode time is the chapter's start;
//! - **Nero chapters** (`moov/udta/chpl`): a list of (start in 100 ns units, 8-bit length, UTF-8 title).
//!
//! Written by hand: the `mp4` crate reads neither (it has no `tref` reader, keeps no `udta` child but
//! `meta`, and never reads a sample's payload). A chapter track wins over `chpl` when both are present
//! (ffmpeg writes both, with the same chapters). Bounded like the rest of the demuxer: counts are checked
//! against the bytes that hold them, a chapter sample is read only when it is small, and every error names
//! the box path and the byte offset. A broken chapter list never stops packaging: the demuxer turns the
//! error into a warning and the video is packaged without the source's chapters.

use super::guard::{MoovIndex, Span};
use super::movie::{Track, TrackKind};
use crate::boxes::Cursor;
use crate::captions::chapters::{MAX_CHAPTERS, MAX_TITLE};
use crate::captions::Chapter;
use crate::error::{Error, Result};
use crate::source::Source;

/// The largest chapter sample read from the file: a title of [`MAX_TITLE`] characters in UTF-16 with its
/// length and an `encd`/`styl` atom fit many times over.
pub const MAX_CHAPTER_SAMPLE: u32 = 4096;
/// At most this many track IDs in one `chap` box (the demuxer's default track limit).
const MAX_CHAP_IDS: usize = 32;

/// What the source says about chapters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceChapters {
    /// Sorted by start, titles tidied ([`tidy`]).
    pub chapters: Vec<Chapter>,
    /// The IDs of the text tracks read as chapters (they are not "left out" subtitle tracks).
    pub track_ids: Vec<u32>,
    /// What was changed while tidying (a title cut, two chapters at one instant).
    pub warnings: Vec<String>,
}

/// Read the chapters of a demuxed movie: its tracks, the moov buffer and the guard's index of it.
pub fn read(
    src: &dyn Source,
    moov: &[u8],
    index: &MoovIndex,
    tracks: &[Track],
) -> Result<SourceChapters> {
    let mut ids = Vec::new();
    for (i, t) in index.traks.iter().enumerate() {
        if let Some(chap) = &t.chap {
            let path = format!("moov/trak[{i}]/tref/chap");
            for id in chap_track_ids(body(moov, chap), chap.header.payload_start(), &path)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    // The first referenced track that is a text track of this movie.
    let text = ids.iter().find_map(|id| {
        tracks
            .iter()
            .find(|t| t.id == *id && t.kind == TrackKind::Other)
    });
    let raw = match (text, &index.chpl) {
        (Some(track), _) => track_chapters(src, track)?,
        (None, Some(chpl)) => read_chpl(
            body(moov, chpl),
            chpl.header.payload_start(),
            "moov/udta/chpl",
        )?,
        (None, None) => return Ok(SourceChapters::default()),
    };
    let (chapters, warnings) = tidy(raw);
    Ok(SourceChapters {
        chapters,
        track_ids: text.map(|t| vec![t.id]).unwrap_or_default(),
        warnings,
    })
}

/// A box's payload inside the moov buffer.
fn body<'a>(moov: &'a [u8], s: &Span) -> &'a [u8] {
    &moov[s.range.clone()][s.header.header_bytes()..]
}

/// The track IDs of a `tref/chap` box (ISO/IEC 14496-12 § 8.3.3.2: `unsigned int(32) track_IDs[]` filling
/// the box); IDs of 0 are skipped (the spec reserves them; ffmpeg writes one when it has no chapter track).
pub fn chap_track_ids(body: &[u8], at: u64, path: &str) -> Result<Vec<u32>> {
    if body.len() % 4 != 0 {
        return Err(Error::malformed(
            path,
            at,
            format!(
                "is {} bytes long; it holds 4-byte track IDs only",
                body.len()
            ),
        ));
    }
    if body.len() / 4 > MAX_CHAP_IDS {
        return Err(Error::limit(
            path,
            at,
            format!(
                "names {} chapter tracks; at most {MAX_CHAP_IDS} are read",
                body.len() / 4
            ),
        ));
    }
    Ok(body
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .filter(|&id| id != 0)
        .collect())
}

/// The chapters of a chapter text track: one per sample, starting at the sample's presentation time.
fn track_chapters(src: &dyn Source, track: &Track) -> Result<Vec<Chapter>> {
    let path = format!("moov/trak[{}] (chapter track {})", track.index, track.id);
    let first_offset = track.samples.first().map_or(0, |s| s.offset);
    if track.samples.len() > MAX_CHAPTERS {
        return Err(Error::limit(
            &path,
            first_offset,
            format!(
                "has {} samples; at most {MAX_CHAPTERS} chapters are read",
                track.samples.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(track.samples.len());
    for (k, s) in track.samples.iter().enumerate() {
        let at = s.offset;
        if s.size > MAX_CHAPTER_SAMPLE {
            return Err(Error::limit(
                &path,
                at,
                format!(
                    "chapter sample {k} is {} bytes; at most {MAX_CHAPTER_SAMPLE} are read",
                    s.size
                ),
            ));
        }
        // The demuxer checked every sample lies inside the file.
        let bytes = src.read_vec(at, u64::from(s.size))?;
        let title = sample_title(&bytes, at, &path)?;
        let ticks = u128::from(track.edit.delay.saturating_add(s.dts))
            .saturating_sub(u128::from(track.edit.media_start));
        let start_ms = u64::try_from(ticks * 1000 / u128::from(track.timescale.max(1)))
            .map_err(|_| Error::malformed(&path, at, "chapter start does not fit 64 bits"))?;
        out.push(Chapter { start_ms, title });
    }
    Ok(out)
}

/// The title in one chapter sample (QuickTime File Format, "Text sample data": a 16-bit big-endian
/// length, then the text; UTF-16 when it starts with a byte-order mark, UTF-8 otherwise). Atoms after the
/// text (`encd`, `styl`) are not read.
pub fn sample_title(bytes: &[u8], at: u64, path: &str) -> Result<String> {
    let mut c = Cursor::new(bytes, at, path);
    let len = usize::from(c.u16("the title length")?);
    if len > c.remaining() {
        return Err(Error::malformed(
            path,
            at,
            format!(
                "a chapter sample's title is {len} bytes long; the sample holds {} after the length",
                c.remaining()
            ),
        ));
    }
    let text = c.bytes(len, "the title")?;
    decode_title(text).map_err(|why| Error::malformed(path, at + 2, why))
}

fn decode_title(text: &[u8]) -> std::result::Result<String, String> {
    let utf16 = |be: bool, b: &[u8]| -> std::result::Result<String, String> {
        if b.len() % 2 != 0 {
            return Err("a UTF-16 title has an odd number of bytes".into());
        }
        let units = b.chunks_exact(2).map(|u| {
            if be {
                u16::from_be_bytes([u[0], u[1]])
            } else {
                u16::from_le_bytes([u[0], u[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .map_err(|e| format!("the title is not valid UTF-16: {e}"))
    };
    match text {
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        _ => std::str::from_utf8(text)
            .map(str::to_string)
            .map_err(|e| format!("the title is not UTF-8 (byte {})", e.valid_up_to())),
    }
}

/// Nero chapters: `moov/udta/chpl` is a FullBox (version 1 adds a reserved 32-bit field), then an 8-bit
/// count and per chapter a 64-bit start in 100 ns units, an 8-bit title length and the UTF-8 title (the
/// layout ffmpeg and MP4Box read and write; there is no public specification).
pub fn read_chpl(body: &[u8], at: u64, path: &str) -> Result<Vec<Chapter>> {
    let mut c = Cursor::new(body, at, path);
    let (version, _) = c.version_flags()?;
    if version > 1 {
        return Err(Error::unsupported(
            path,
            at,
            format!("chpl version {version}"),
        ));
    }
    if version == 1 {
        c.skip(4, "reserved")?;
    }
    let count_at = c.offset();
    let count = usize::from(c.u8("the chapter count")?);
    // Each chapter takes at least 9 bytes (start and title length).
    if count * 9 > c.remaining() {
        return Err(Error::malformed(
            path,
            count_at,
            format!(
                "declares {count} chapters; only {} fit in the box",
                c.remaining() / 9
            ),
        ));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let entry_at = c.offset();
        let start = c.u64("a chapter start")?;
        let len = usize::from(c.u8("a title length")?);
        let title = c.bytes(len, "a chapter title")?;
        let title = decode_title(title).map_err(|why| Error::malformed(path, entry_at, why))?;
        out.push(Chapter {
            start_ms: start / 10_000,
            title,
        });
    }
    Ok(out)
}

/// Chapters as the chapters track takes them: sorted by start, one per instant, each title one line of 1
/// to [`MAX_TITLE`] characters (an empty one is named by its number); what changed is said.
pub fn tidy(mut list: Vec<Chapter>) -> (Vec<Chapter>, Vec<String>) {
    let mut warnings = Vec::new();
    list.sort_by_key(|c| c.start_ms);
    let before = list.len();
    list.dedup_by_key(|c| c.start_ms);
    if list.len() < before {
        warnings.push(format!(
            "{} of the source's chapters start at the same instant as another and are left out",
            before - list.len()
        ));
    }
    for (i, c) in list.iter_mut().enumerate() {
        let one_line: String = c
            .title
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .collect();
        let mut title = one_line.trim().to_string();
        if title.chars().count() > MAX_TITLE {
            title = title.chars().take(MAX_TITLE).collect::<String>();
            title = title.trim_end().to_string();
            warnings.push(format!(
                "the source's chapter {} has a title over {MAX_TITLE} characters; it is cut",
                i + 1
            ));
        }
        if title.is_empty() {
            title = format!("Chapter {}", i + 1);
        }
        c.title = title;
    }
    (list, warnings)
}

#[cfg(test)]
#[path = "chapters_tests.rs"]
mod tests;
