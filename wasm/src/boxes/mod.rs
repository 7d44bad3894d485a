//! ISO BMFF box headers and a bounds-checked big-endian cursor (ISO/IEC 14496-12 § 4.2).
//!
//! The `mp4` crate reads box headers with `Read + Seek` and trusts sizes; every byte that reaches it has first
//! been walked here, where each size is checked against its parent and the file.

pub mod cursor;
pub mod writer;

pub use cursor::{at, Cursor};

use crate::error::{Error, Result};

pub type FourCC = [u8; 4];

/// An offset or length inside bytes held in memory, as a slice index. Such a value is bounded by the
/// length of a slice (a moov, a payload), so it fits a `usize`; were it not, it saturates and the slicing
/// that follows fails, instead of reading the wrong bytes after a silent truncation.
pub fn index(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A four-character code for people: the letters when printable, else hex.
pub fn fourcc_str(f: FourCC) -> String {
    if f.iter().all(|b| (0x20..0x7f).contains(b)) {
        f.iter().map(|&b| b as char).collect()
    } else {
        format!("0x{:08x}", u32::from_be_bytes(f))
    }
}

/// One parsed box header. Offsets are absolute (bytes from the start of the source file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: FourCC,
    pub start: u64,
    pub header_len: u64,
    pub size: u64,
}

impl BoxHeader {
    pub fn end(&self) -> u64 {
        self.start + self.size
    }

    pub fn payload_start(&self) -> u64 {
        self.start + self.header_len
    }

    pub fn payload_len(&self) -> u64 {
        self.size - self.header_len
    }

    pub fn name(&self) -> String {
        fourcc_str(self.kind)
    }

    /// [`BoxHeader::header_len`] as a slice index (8, 16 or 24 bytes).
    pub fn header_bytes(&self) -> usize {
        index(self.header_len)
    }
}

/// Where a header is being read: decides which size encodings are acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A top-level box of the file; its parent end is the end of the file.
    Top,
    /// A box inside another box.
    Child,
}

/// Parse the header of the box that starts at absolute offset `start`. `bytes` holds at least the first
/// bytes of the box (up to 32 are used). `parent_end` is where the enclosing box (or the file) ends and
/// `path` names the parent for error messages.
pub fn read_header(
    bytes: &[u8],
    start: u64,
    parent_end: u64,
    level: Level,
    path: &str,
) -> Result<BoxHeader> {
    let room = parent_end.saturating_sub(start);
    if room < 8 || bytes.len() < 8 {
        return Err(Error::malformed(
            path,
            start,
            format!("{room} bytes left, too few for a box header (8 bytes)"),
        ));
    }
    let mut c = Cursor::new(bytes, start, path);
    let size32 = c.u32("box size")?;
    let kind: FourCC = c.array("box type")?;
    let name = fourcc_str(kind);
    let (size, mut header_len) = match size32 {
        0 => {
            // § 4.2: size 0 means "to the end of the file"; only sensible for the last top-level box, and we
            // only accept it for mdat (anything else that big would be read into memory).
            if level != Level::Top || &kind != b"mdat" {
                return Err(Error::malformed(
                    format!("{path}/{name}"),
                    start,
                    "size 0 (\"to the end of the file\") is only accepted for a top-level mdat",
                ));
            }
            (room, 8)
        }
        1 => {
            if room < 16 || bytes.len() < 16 {
                return Err(Error::malformed(
                    format!("{path}/{name}"),
                    start,
                    "size 1 announces a 64-bit largesize but the header is cut short",
                ));
            }
            let large = c.u64("64-bit largesize")?;
            if large < 16 {
                return Err(Error::malformed(
                    format!("{path}/{name}"),
                    start,
                    format!("64-bit largesize {large} is smaller than its own 16-byte header"),
                ));
            }
            (large, 16)
        }
        2..=7 => {
            return Err(Error::malformed(
                format!("{path}/{name}"),
                start,
                format!("size {size32} is smaller than the 8-byte box header"),
            ))
        }
        n => (u64::from(n), 8),
    };
    if &kind == b"uuid" {
        // § 4.2: a 16-byte extended type follows the compact type.
        header_len += 16;
        if size < header_len {
            return Err(Error::malformed(
                format!("{path}/uuid"),
                start,
                format!("size {size} cannot hold the 16-byte extended type"),
            ));
        }
    }
    if size > room {
        let msg = match level {
            Level::Top => format!(
                "box of {size} bytes runs past the end of the file ({} bytes left): the file is truncated",
                room
            ),
            Level::Child => format!(
                "child box of {size} bytes is larger than its parent, which has {room} bytes left"
            ),
        };
        return Err(Error::malformed(format!("{path}/{name}"), start, msg));
    }
    Ok(BoxHeader {
        kind,
        start,
        header_len,
        size,
    })
}

/// Iterate over the child boxes of a payload held in memory. `base` is the absolute offset of `payload[0]`.
pub fn children<'a>(payload: &'a [u8], base: u64, path: &'a str) -> Children<'a> {
    Children {
        payload,
        base,
        pos: 0,
        path,
        terminator: false,
    }
}

/// The child boxes of a sample entry (or a QuickTime atom list inside one): [`children`] that tolerates a
/// terminator, collected. Sizes 0 and 2–7, a `largesize` below 16 and any box running past its parent are
/// Malformed.
pub fn child_list<'a>(payload: &'a [u8], base: u64, path: &'a str) -> Result<Vec<Child<'a>>> {
    children(payload, base, path)
        .allow_terminator()
        .map(|r| {
            r.map(|(h, payload)| Child {
                fourcc: h.kind,
                offset: h.start,
                payload,
                payload_offset: h.payload_start(),
            })
        })
        .collect()
}

/// One child box found by [`child_list`].
#[derive(Debug, Clone)]
pub struct Child<'a> {
    pub fourcc: FourCC,
    /// Absolute file offset of the box header.
    pub offset: u64,
    /// The payload after the header.
    pub payload: &'a [u8],
    /// Absolute file offset of `payload[0]`.
    pub payload_offset: u64,
}

/// The first child of the given type.
pub fn find<'c, 'a>(kids: &'c [Child<'a>], fourcc: &FourCC) -> Option<&'c Child<'a>> {
    kids.iter().find(|c| &c.fourcc == fourcc)
}

pub struct Children<'a> {
    payload: &'a [u8],
    base: u64,
    pos: usize,
    path: &'a str,
    terminator: bool,
}

impl Children<'_> {
    /// End the list at up to 7 trailing zero bytes instead of refusing them: QuickTime writers end some
    /// atom lists (sample entries, `wave`) with a 32-bit zero terminator.
    pub fn allow_terminator(mut self) -> Self {
        self.terminator = true;
        self
    }
}

impl<'a> Iterator for Children<'a> {
    /// The header and the box's payload bytes.
    type Item = Result<(BoxHeader, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.payload.get(self.pos..).filter(|r| !r.is_empty())?;
        if self.terminator && rest.len() < 8 && rest.iter().all(|&b| b == 0) {
            self.pos = self.payload.len();
            return None;
        }
        let start = at(self.base, self.pos);
        let end = at(self.base, self.payload.len());
        let header = match read_header(rest, start, end, Level::Child, self.path) {
            Ok(h) => h,
            Err(e) => {
                self.pos = self.payload.len();
                return Some(Err(e));
            }
        };
        // Both are bounded by `rest.len()` (checked in read_header via `room`).
        let hl = header.header_bytes();
        let sz = index(header.size);
        self.pos += sz;
        Some(Ok((header, &rest[hl..sz])))
    }
}

#[cfg(test)]
mod tests;
