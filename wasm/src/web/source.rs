//! A `Blob` (a dropped `File`) as the core's [`Source`]: each read is `blob.slice(a, b)` read with
//! `FileReaderSync`, which exists only in Workers; the core reads box headers and the moov, nothing else.

use std::cell::Cell;

use js_sys::Uint8Array;
use wasm_bindgen::JsError;
use web_sys::{Blob, FileReaderSync};

use super::error::js_text;
use crate::error::{Error, Result};
use crate::source::Source;

pub struct BlobSource {
    blob: Blob,
    len: u64,
    reader: FileReaderSync,
    bytes_read: Cell<u64>,
}

impl BlobSource {
    pub fn new(blob: Blob) -> std::result::Result<Self, JsError> {
        let reader = FileReaderSync::new().map_err(|e| {
            JsError::new(&format!(
                "FileReaderSync (run the segmenter in a dedicated Worker): {}",
                js_text(&e)
            ))
        })?;
        // Blob sizes are exact integers in an f64 (at most 2^53).
        let len = blob.size() as u64;
        Ok(BlobSource {
            blob,
            len,
            reader,
            bytes_read: Cell::new(0),
        })
    }

    /// Bytes of the source read so far (headers and the moov).
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
}
