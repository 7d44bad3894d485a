//! A forward-only big-endian reader over one box payload (or descriptor body) that knows its absolute file
//! offset and its box path, so every short read becomes an error naming the box, the field and the byte
//! where the data ran out. Nothing here indexes a slice directly or trusts a declared length. The one
//! reader of the guard, the CMAF readers and the sample-entry parsers (`codec/`).

use crate::error::{Error, Result};

/// Absolute offset of `local` bytes past `base`; saturates instead of panicking (only used for reporting).
pub fn at(base: u64, local: usize) -> u64 {
    base.saturating_add(u64::try_from(local).unwrap_or(u64::MAX))
}

/// `base` is the absolute file offset of `data[0]`; `path` names the box in errors
/// ("moov/trak[0]/mdia/minf/stbl/stsz", "stsd.avc1.avcC").
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
                let name = self.path.rsplit(['.', '/']).next().unwrap_or(self.path);
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

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.bytes(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &str) -> Result<u16> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub fn u24(&mut self, what: &str) -> Result<u32> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self, what: &str) -> Result<u32> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub fn i32(&mut self, what: &str) -> Result<i32> {
        self.array(what).map(i32::from_be_bytes)
    }

    pub fn u64(&mut self, what: &str) -> Result<u64> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// A FullBox's version and flags (ISO/IEC 14496-12 § 4.2).
    pub fn version_flags(&mut self) -> Result<(u8, u32)> {
        let v = self.u8("version")?;
        Ok((v, self.u24("flags")?))
    }
}
