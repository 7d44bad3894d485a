//! A `Blob` (a dropped `File`) as the core's [`Source`]: each read is `blob.slice(a, b)` read with
//! `FileReaderSync`, which exists only in Workers; the core reads box headers and the moov, nothing else.
//!
//! Each `FileReaderSync` call costs far more than copying the bytes it returns, and the core makes many
//! small reads (box headers, table entries), so reads go through a small cache of aligned 64 KiB blocks.
//! When misses run in order (the conformance checker walking a rendition's samples), a miss fetches the
//! next [`READ_AHEAD`] blocks in one call: one pass over a 60 s 1080p file is then ~30 reads, not ~1,000.

use std::cell::{Cell, RefCell};

use js_sys::Uint8Array;
use web_sys::{Blob, FileReaderSync};

use super::error::{js_text, WebError};
use crate::error::{Error, Result};
use crate::source::Source;

pub struct BlobSource {
    blob: Blob,
    len: u64,
    reader: FileReaderSync,
    bytes_read: Cell<u64>,
    /// Recently read blocks, most recent last: (block index, bytes).
    cache: RefCell<Vec<(u64, Vec<u8>)>>,
    /// The block of the latest miss: a miss at the next block means the reads run in order.
    last_miss: Cell<Option<u64>>,
}

const BLOCK: u64 = 64 * 1024;
const CACHED_BLOCKS: usize = 64;
/// Blocks fetched at once when misses run in order (2 MiB).
const READ_AHEAD: u64 = 32;

impl BlobSource {
    pub fn new(blob: Blob) -> std::result::Result<Self, WebError> {
        let reader = FileReaderSync::new().map_err(|e| {
            WebError::new(
                "read-failed",
                &format!(
                    "FileReaderSync (run the segmenter in a dedicated Worker): {}",
                    js_text(&e)
                ),
            )
        })?;
        // Blob sizes are exact integers in an f64 (at most 2^53).
        let len = crate::num::f64_to_u64(blob.size());
        Ok(BlobSource {
            blob,
            len,
            reader,
            bytes_read: Cell::new(0),
            cache: RefCell::new(Vec::new()),
            last_miss: Cell::new(None),
        })
    }

    /// One block, from the cache or the file.
    fn block(&self, index: u64, f: impl FnOnce(&[u8])) -> Result<()> {
        let mut cache = self.cache.borrow_mut();
        if let Some(i) = cache.iter().position(|(k, _)| *k == index) {
            let hit = cache.remove(i);
            cache.push(hit);
        } else {
            let in_order = self.last_miss.get().is_some_and(|m| index == m + 1);
            let count = if in_order { READ_AHEAD } else { 1 };
            let start = index * BLOCK;
            let end = (start + count * BLOCK).min(self.len);
            let mut bytes = vec![0; crate::boxes::index(end - start)];
            self.read_direct(start, &mut bytes)?;
            let mut blocks: Vec<(u64, Vec<u8>)> = bytes
                .chunks(crate::boxes::index(BLOCK))
                .zip(index..)
                .map(|(b, k)| (k, b.to_vec()))
                .collect();
            let last = index + blocks.len() as u64 - 1;
            // The requested block goes in last: it is the most recently used.
            blocks.rotate_left(1);
            for (key, block) in blocks {
                cache.retain(|(k, _)| *k != key);
                if cache.len() == CACHED_BLOCKS {
                    cache.remove(0);
                }
                cache.push((key, block));
            }
            self.last_miss.set(Some(last));
        }
        let (_, bytes) = cache.last().unwrap_or_else(|| unreachable!("just pushed"));
        f(bytes);
        Ok(())
    }

    fn read_direct(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset + buf.len() as u64;
        let read_err = |e: wasm_bindgen::JsValue| Error::Read {
            offset,
            msg: js_text(&e),
        };
        let part = self
            .blob
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(read_err)?;
        let bytes = self.reader.read_as_array_buffer(&part).map_err(read_err)?;
        let view = Uint8Array::new(&bytes);
        if view.length() as usize != buf.len() {
            return Err(Error::Read {
                offset,
                msg: format!(
                    "the browser returned {} of {} bytes (was the file changed?)",
                    view.length(),
                    buf.len()
                ),
            });
        }
        view.copy_to(buf);
        self.bytes_read
            .set(self.bytes_read.get() + buf.len() as u64);
        Ok(())
    }

    /// Bytes of the source read so far (headers and the moov, in whole blocks).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }
}

impl Source for BlobSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| Error::Read {
                offset,
                msg: format!(
                    "{} bytes requested past the end ({} bytes)",
                    buf.len(),
                    self.len
                ),
            })?;
        // A large read (a whole moov) goes straight to the file; small ones through the block cache.
        if buf.len() as u64 >= 4 * BLOCK {
            return self.read_direct(offset, buf);
        }
        let mut pos = offset;
        let mut done = 0usize;
        while pos < end {
            let index = pos / BLOCK;
            // Both are below BLOCK (64 KiB).
            let within = crate::boxes::index(pos - index * BLOCK);
            let n = crate::boxes::index((BLOCK - within as u64).min(end - pos));
            self.block(index, |bytes| {
                buf[done..done + n].copy_from_slice(&bytes[within..within + n])
            })?;
            pos += n as u64;
            done += n;
        }
        Ok(())
    }
}
