//! A bounded EBML reader (RFC 8794): element headers read from a [`Source`] one at a time, and the values
//! of small elements read from bytes in memory.
//!
//! Written by hand rather than with a crate: the Matroska readers on crates.io (`matroska-demuxer`,
//! `webm-iterable`, `mkv-element`) read through `std::io::Read`, buffer whole clusters or allocate from
//! declared sizes, and none keeps the byte offset of each frame, which is what the segmenter needs (it
//! copies frames by byte range and never loads the file). Here a header is at most 12 bytes, every size is
//! checked against its parent before anything is read, and only Info, Tracks and block headers are ever
//! held in memory.

use crate::error::{Error, Result};
use crate::source::Source;

/// One element: its ID (marker bits kept, as the spec writes them), where it starts, its header length and
/// its data size (`None`: unknown size, "until the parent or a higher-level element ends").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    pub id: u32,
    pub start: u64,
    pub header_len: u64,
    pub size: Option<u64>,
}

impl Element {
    pub fn data_start(&self) -> u64 {
        self.start + self.header_len
    }

    /// Where the element ends; an unknown size ends at `parent_end`.
    pub fn end(&self, parent_end: u64) -> u64 {
        self.size.map_or(parent_end, |s| self.data_start() + s)
    }
}

/// A variable-length integer (§ 4): the length marker and the value. `None` when the first byte is 0 (a
/// length over 8 bytes) or the bytes run out.
fn vint(bytes: &[u8]) -> Option<(usize, u64, bool)> {
    let first = *bytes.first()?;
    let len = usize::try_from(first.leading_zeros()).ok()? + 1;
    if len > 8 {
        return None;
    }
    let raw = bytes.get(..len)?;
    let mut v = u64::from(first) & (0xff >> len);
    let mut all_ones = v == 0xff >> len;
    for &b in raw.get(1..).unwrap_or_default() {
        v = (v << 8) | u64::from(b);
        all_ones &= b == 0xff;
    }
    Some((len, v, all_ones))
}

/// Read the header of the element at `at`, inside a parent that ends at `parent_end`. `path` names the
/// parent in errors ("Segment/Cluster").
pub fn read_header<S: Source + ?Sized>(
    src: &S,
    at: u64,
    parent_end: u64,
    path: &str,
) -> Result<Element> {
    let room = parent_end.saturating_sub(at);
    let mut buf = [0u8; 12];
    let n = usize::try_from(room.min(12)).unwrap_or(12);
    let head = buf.get_mut(..n).unwrap_or_default();
    src.read_exact_at(at, head)?;
    let bad = |msg: &str| Error::malformed(path, at, msg.to_string());
    let (id_len, _, _) =
        vint(head).ok_or_else(|| bad("element ID cut short or longer than 4 bytes"))?;
    if id_len > 4 {
        return Err(bad("element ID longer than 4 bytes"));
    }
    let id = head
        .get(..id_len)
        .unwrap_or_default()
        .iter()
        .fold(0u32, |a, &b| (a << 8) | u32::from(b));
    let rest = head.get(id_len..).unwrap_or_default();
    let (size_len, size, unknown) =
        vint(rest).ok_or_else(|| bad("element size cut short or longer than 8 bytes"))?;
    let header_len = (id_len + size_len) as u64;
    let el = Element {
        id,
        start: at,
        header_len,
        size: (!unknown).then_some(size),
    };
    let name = name(id);
    if let Some(s) = el.size {
        if s > room.saturating_sub(header_len) {
            return Err(Error::malformed(
                format!("{path}/{name}"),
                at,
                format!(
                    "element of {s} bytes runs past its parent ({} bytes left)",
                    room.saturating_sub(header_len)
                ),
            ));
        }
    } else if !matches!(id, SEGMENT | CLUSTER) {
        return Err(Error::malformed(
            format!("{path}/{name}"),
            at,
            "unknown size is only accepted for Segment and Cluster",
        ));
    }
    Ok(el)
}

/// An unsigned integer element's value (§ 7.1: 0 to 8 bytes, big-endian).
pub fn uint(data: &[u8], path: &str, at: u64) -> Result<u64> {
    if data.len() > 8 {
        return Err(Error::malformed(
            path,
            at,
            "unsigned integer longer than 8 bytes",
        ));
    }
    Ok(data.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
}

/// A float element's value (§ 7.3: 0, 4 or 8 bytes).
pub fn float(data: &[u8], path: &str, at: u64) -> Result<f64> {
    match data.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([
            data[0], data[1], data[2], data[3],
        ]))),
        8 => Ok(f64::from_be_bytes([
            data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7],
        ])),
        n => Err(Error::malformed(
            path,
            at,
            format!("float of {n} bytes (0, 4 or 8)"),
        )),
    }
}

/// A string element's value: text up to the first zero byte (§ 7.4).
pub fn string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    String::from_utf8_lossy(data.get(..end).unwrap_or_default()).into_owned()
}

/// The children of an element held in memory: (element, its data). Sizes are checked against the parent.
pub fn children<'a>(data: &'a [u8], base: u64, path: &str) -> Result<Vec<(Element, &'a [u8])>> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    let len = data.len() as u64;
    while pos < len {
        let el = read_header(data, pos, len, path).map_err(|e| rebase(e, base))?;
        let Some(size) = el.size else {
            return Err(Error::malformed(
                format!("{path}/{}", name(el.id)),
                base + pos,
                "unknown size inside a header element",
            ));
        };
        let s = crate::boxes::index(el.data_start());
        let body = data
            .get(s..s + crate::boxes::index(size))
            .unwrap_or_default();
        out.push((
            Element {
                start: base + el.start,
                ..el
            },
            body,
        ));
        pos = el.data_start() + size;
    }
    Ok(out)
}

/// Move an error's offset from a buffer's to the file's.
fn rebase(e: Error, base: u64) -> Error {
    match e {
        Error::Malformed { path, offset, msg } => Error::Malformed {
            path,
            offset: offset + base,
            msg,
        },
        other => other,
    }
}

pub const EBML: u32 = 0x1A45_DFA3;
pub const DOC_TYPE: u32 = 0x4282;
pub const SEGMENT: u32 = 0x1853_8067;
pub const INFO: u32 = 0x1549_A966;
pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
pub const TRACKS: u32 = 0x1654_AE6B;
pub const TRACK_ENTRY: u32 = 0xAE;
pub const TRACK_NUMBER: u32 = 0xD7;
pub const TRACK_TYPE: u32 = 0x83;
pub const FLAG_ENABLED: u32 = 0xB9;
pub const CODEC_ID: u32 = 0x86;
pub const CODEC_PRIVATE: u32 = 0x63A2;
pub const DEFAULT_DURATION: u32 = 0x23_E383;
pub const CODEC_DELAY: u32 = 0x56AA;
pub const LANGUAGE: u32 = 0x22_B59C;
pub const CONTENT_ENCODINGS: u32 = 0x6D80;
pub const VIDEO: u32 = 0xE0;
pub const PIXEL_WIDTH: u32 = 0xB0;
pub const PIXEL_HEIGHT: u32 = 0xBA;
pub const AUDIO: u32 = 0xE1;
pub const CHANNELS: u32 = 0x9F;
pub const SAMPLING_FREQUENCY: u32 = 0xB5;
pub const CLUSTER: u32 = 0x1F43_B675;
pub const CLUSTER_TIMESTAMP: u32 = 0xE7;
pub const SIMPLE_BLOCK: u32 = 0xA3;
pub const BLOCK_GROUP: u32 = 0xA0;
pub const BLOCK: u32 = 0xA1;
pub const BLOCK_DURATION: u32 = 0x9B;
pub const REFERENCE_BLOCK: u32 = 0xFB;

/// Elements that may follow a Cluster at the Segment level: one of these ends an unknown-size Cluster.
pub const SEGMENT_LEVEL: [u32; 9] = [
    CLUSTER,
    0x114D_9B74,
    INFO,
    TRACKS,
    0x1C53_BB6B,
    0x1941_A469,
    0x1043_A770,
    0x1254_C367,
    SEGMENT,
];

/// The element's name for error paths (the Matroska spec's names; the ID in hex for the rest).
pub fn name(id: u32) -> String {
    let n = match id {
        EBML => "EBML",
        SEGMENT => "Segment",
        INFO => "Info",
        TRACKS => "Tracks",
        TRACK_ENTRY => "TrackEntry",
        CODEC_PRIVATE => "CodecPrivate",
        VIDEO => "Video",
        AUDIO => "Audio",
        CLUSTER => "Cluster",
        CLUSTER_TIMESTAMP => "Timestamp",
        SIMPLE_BLOCK => "SimpleBlock",
        BLOCK_GROUP => "BlockGroup",
        BLOCK => "Block",
        0x114D_9B74 => "SeekHead",
        0x1C53_BB6B => "Cues",
        0xEC => "Void",
        _ => return format!("0x{id:X}"),
    };
    n.to_string()
}
