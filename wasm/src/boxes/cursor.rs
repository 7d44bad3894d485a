//! A big-endian reader over a byte slice that knows its absolute file offset, so every short read becomes an
//! error naming the box path and the byte where the data ran out.

use crate::error::{Error, Result};

pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: u64,
    path: &'a str,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8], base: u64, path: &'a str) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
            path,
        }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::malformed(
                self.path,
                self.offset(),
                format!(
                    "needs {n} more bytes but only {} are left in the box",
                    self.remaining()
                ),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u24(&mut self) -> Result<u32> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A FullBox's version and flags (§ 4.2).
    pub fn version_flags(&mut self) -> Result<(u8, u32)> {
        let v = self.u8()?;
        Ok((v, self.u24()?))
    }
}
