//! Bounds-checked reading of untrusted bytes: a cursor that knows its absolute file offset and box path, and
//! a child-box walker. Nothing here indexes a slice directly or trusts a declared length.

use crate::error::{Error, Result};

/// Printable form of a four-character code: the characters when all are printable ASCII, else hex.
pub fn fourcc_str(fourcc: [u8; 4]) -> String {
    if fourcc.iter().all(|b| (0x20..=0x7e).contains(b)) {
        fourcc.iter().map(|&b| char::from(b)).collect()
    } else {
        format!("0x{:08x}", u32::from_be_bytes(fourcc))
    }
}

/// Absolute offset of `local` bytes past `base`; saturates instead of panicking (only used for reporting).
pub fn at(base: u64, local: usize) -> u64 {
    base.saturating_add(u64::try_from(local).unwrap_or(u64::MAX))
}

/// A forward-only reader over one box payload (or descriptor body). `base` is the absolute file offset of
/// `data[0]`; `path` names the box in errors ("stsd.avc1.avcC").
#[derive(Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    path: &'a str,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], base: u64, path: &'a str) -> Self {
        Cursor {
            data,
            pos: 0,
            base,
            path,
        }
    }

    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Absolute file offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        at(self.base, self.pos)
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// A Malformed error at the cursor's current position.
    pub fn malformed(&self, msg: impl Into<String>) -> Error {
        Error::malformed(self.path, self.offset(), msg)
    }

    /// Take `n` bytes; `what` names the field for the error message.
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| Some((end, self.data.get(self.pos..end)?))) {
            Some((end, s)) => {
                self.pos = end;
                Ok(s)
            }
            None => {
                let name = self.path.rsplit('.').next().unwrap_or(self.path);
                Err(self.malformed(format!(
                    "{name} is {} bytes; {what} needs {n} bytes at byte {} of it but only {} remain",
                    self.data.len(),
                    self.pos,
                    self.remaining()
                )))
            }
        }
    }

    pub fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.bytes(n, what).map(|_| ())
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &str) -> Result<u16> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub fn u32(&mut self, what: &str) -> Result<u32> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        self.array(what).map(u64::from_be_bytes)
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
}

/// One child box found by [`children`].
#[derive(Debug, Clone)]
pub struct Child<'a> {
    pub fourcc: [u8; 4],
    /// Absolute file offset of the box header.
    pub offset: u64,
    /// The payload after the (8- or 16-byte) header.
    pub payload: &'a [u8],
    /// Absolute file offset of `payload[0]`.
    pub payload_offset: u64,
}

/// Split `data` (the bytes after a parent's own fields) into child boxes. `base` is the absolute offset of
/// `data[0]`; `parent` is the parent's path for errors. Sizes 0 and 2–7, a `largesize` below 16 and any box
/// running past its parent are Malformed. Up to 7 trailing zero bytes are tolerated: QuickTime writers end
/// some atom lists with a 32-bit zero terminator.
pub fn children<'a>(data: &'a [u8], base: u64, parent: &str) -> Result<Vec<Child<'a>>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let rest = data.get(pos..).unwrap_or(&[]);
        let offset = at(base, pos);
        if rest.len() < 8 {
            if rest.iter().all(|&b| b == 0) {
                break;
            }
            return Err(Error::malformed(
                parent,
                offset,
                format!(
                    "{} stray bytes after the last child box; a box header needs 8",
                    rest.len()
                ),
            ));
        }
        let mut c = Cursor::new(rest, offset, parent);
        let size32 = c.u32("box size")?;
        let fourcc: [u8; 4] = c.array("box type")?;
        let name = format!("{parent}.{}", fourcc_str(fourcc));
        let (size, header) = match size32 {
            0 => {
                return Err(Error::malformed(
                    name,
                    offset,
                    "box size 0 (\"to end of file\") is not allowed inside a sample entry",
                ))
            }
            1 => (c.u64("64-bit largesize")?, 16u64),
            n => (u64::from(n), 8u64),
        };
        if size < header {
            return Err(Error::malformed(
                name,
                offset,
                format!("box size {size} is smaller than its {header}-byte header"),
            ));
        }
        let size = match usize::try_from(size) {
            Ok(s) if s <= rest.len() => s,
            _ => {
                return Err(Error::malformed(
                    name,
                    offset,
                    format!(
                        "box declares {size} bytes but only {} remain in {parent}",
                        rest.len()
                    ),
                ))
            }
        };
        let header = header as usize; // 8 or 16
        out.push(Child {
            fourcc,
            offset,
            payload: rest.get(header..size).unwrap_or(&[]),
            payload_offset: offset.saturating_add(header as u64),
        });
        pos = pos.saturating_add(size);
    }
    Ok(out)
}

/// The first child of the given type.
pub fn find<'c, 'a>(kids: &'c [Child<'a>], fourcc: &[u8; 4]) -> Option<&'c Child<'a>> {
    kids.iter().find(|c| &c.fourcc == fourcc)
}
