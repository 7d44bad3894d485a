//! Random access to the input file. The core never needs the whole file: it reads box headers and the moov
//! through this trait, and media segments name byte ranges of the source instead of copying payload.

use crate::error::{Error, Result};

/// A read-only, random-access byte source of known length.
pub trait Source {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// True when the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fill `buf` from `offset`; fails unless every byte is there.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;

    /// Read `len` bytes at `offset` into a new buffer. The length is checked against the source first, so a
    /// hostile length never turns into an allocation.
    fn read_vec(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        let end = offset.checked_add(len).filter(|&e| e <= self.len());
        if end.is_none() {
            return Err(Error::Read {
                offset,
                msg: format!(
                    "{len} bytes requested but the source is {} bytes",
                    self.len()
                ),
            });
        }
        let len = usize::try_from(len).map_err(|_| Error::Read {
            offset,
            msg: format!("{len} bytes do not fit in memory on this platform"),
        })?;
        let mut buf = vec![0; len];
        self.read_exact_at(offset, &mut buf)?;
        Ok(buf)
    }
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let start = usize::try_from(offset).ok();
        let range = start.and_then(|s| Some(s..s.checked_add(buf.len())?));
        match range.and_then(|r| self.get(r)) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(Error::Read {
                offset,
                msg: format!(
                    "{} bytes requested past the end ({} bytes)",
                    buf.len(),
                    <[u8]>::len(self)
                ),
            }),
        }
    }
}

impl Source for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.as_slice().read_exact_at(offset, buf)
    }
}

/// A file on disk, read with positioned reads (native builds only; the browser has its own source).
#[cfg(all(unix, not(target_arch = "wasm32")))]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
}

#[cfg(all(unix, not(target_arch = "wasm32")))]
impl FileSource {
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

#[cfg(all(unix, not(target_arch = "wasm32")))]
impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        use std::os::unix::fs::FileExt;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| Error::Read {
                offset,
                msg: e.to_string(),
            })
    }
}
