//! What demuxing a file yields: tracks with fully expanded, checked sample tables.

use crate::codec::SampleEntry;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    Video,
    Audio,
    Other,
}

/// One sample as stored in the source. Times are in the track's media timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Absolute byte offset in the source file.
    pub offset: u64,
    pub size: u32,
    /// Decode time, media timescale ticks from the start of the track's media.
    pub dts: u64,
    pub duration: u32,
    /// Composition offset (ctts), media timescale ticks; presentation time = dts + cts_offset.
    pub cts_offset: i32,
    pub sync: bool,
}

impl Sample {
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.size)
    }
}

/// The start of presentation from the track's edit list (§ 8.6.6), in media timescale ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Empty edits before the media starts (presentation is delayed by this). Once demuxing is done
    /// ([`crate::sync::align`]), the output presentation time of the track's first packaged sample.
    pub delay: u64,
    /// Media time where presentation starts (B-frame delay for video, encoder priming for audio).
    pub media_start: u64,
    /// True when the list holds more than one media edit or a rate other than 1: only the first is applied.
    pub complex: bool,
}

#[derive(Debug, Clone)]
pub struct Track {
    /// Position of the trak in the moov.
    pub index: usize,
    pub id: u32,
    pub kind: TrackKind,
    /// The handler type as written ("vide", "soun", "text", "meta", ...).
    pub handler: String,
    pub timescale: u32,
    /// ISO 639-2/T code from mdhd ("und" when unset).
    pub language: String,
    pub enabled: bool,
    /// The sample description, when its codec is one this product can copy.
    pub entry: Option<SampleEntry>,
    /// Why the track cannot be copied (unsupported codec, no samples, ...), if it cannot.
    pub unusable: Option<String>,
    pub samples: Vec<Sample>,
    pub edit: Edit,
    /// From the source's tkhd: carried into the init segment.
    pub header: TrackHeader,
}

/// What the init segment keeps of the source's tkhd (§ 8.3.2): the display matrix (rotation), the display
/// size (which carries pixel aspect ratio) and the layering fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrackHeader {
    pub flags: u32,
    /// a, b, u, c, d, v, x, y, w (16.16 except u, v, w which are 2.30).
    pub matrix: [i32; 9],
    /// 16.16 fixed point.
    pub width: u32,
    pub height: u32,
    /// 8.8 fixed point.
    pub volume: u16,
    pub layer: u16,
    pub alternate_group: u16,
}

impl TrackHeader {
    pub(crate) fn from_mp4(t: &mp4::MoovBox) -> Self {
        let t = &t.traks[0].tkhd;
        let m = &t.matrix;
        TrackHeader {
            flags: t.flags,
            matrix: [m.a, m.b, m.u, m.c, m.d, m.v, m.x, m.y, m.w],
            width: t.width.raw_value(),
            height: t.height.raw_value(),
            volume: t.volume.raw_value(),
            layer: t.layer,
            alternate_group: t.alternate_group,
        }
    }
}

impl Track {
    /// Sum of the sample durations, media ticks.
    pub fn duration_ticks(&self) -> u64 {
        self.samples
            .last()
            .map(|s| s.dts + u64::from(s.duration))
            .unwrap_or(0)
            .saturating_sub(self.samples.first().map(|s| s.dts).unwrap_or(0))
    }

    pub fn duration_s(&self) -> f64 {
        self.duration_ticks() as f64 / f64::from(self.timescale)
    }

    /// Display rotation in degrees clockwise from the tkhd matrix (0, 90, 180, 270), if it is a pure rotation.
    pub fn rotation(&self) -> Option<u16> {
        let [a, b, _, c, d, ..] = self.header.matrix;
        let one = 0x0001_0000;
        match (a, b, c, d) {
            (a, 0, 0, d) if a == one && d == one => Some(0),
            (0, b, c, 0) if b == one && c == -one => Some(90),
            (a, 0, 0, d) if a == -one && d == -one => Some(180),
            (0, b, c, 0) if b == -one && c == one => Some(270),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Movie {
    pub file_len: u64,
    pub major_brand: String,
    pub compatible_brands: Vec<String>,
    pub movie_timescale: u32,
    pub tracks: Vec<Track>,
    /// Index into `tracks` of the primary video and audio tracks.
    pub video: Option<usize>,
    pub audio: Option<usize>,
    /// Things a user should know that do not stop segmentation.
    pub warnings: Vec<String>,
    /// The source's own chapters (a chapter text track or a Nero `chpl` box; [`super::chapters`]).
    pub chapters: Vec<crate::captions::Chapter>,
    /// The IDs of the text tracks read as chapters.
    pub chapter_tracks: Vec<u32>,
}
