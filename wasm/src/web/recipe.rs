//! One package file as a recipe the page materializes when it needs the bytes (to hash, upload or play):
//! `{path, size, type, head, layout}`. `head` holds every byte the writer made (styp, moof and mdat
//! headers, or the whole file for playlists and init segments); `layout` lists the file's pieces in order
//! as `(from, offset, len)` triples: `from` 0 is `head[offset..offset + len]`, 1 is the source's
//! `[offset, offset + len)`. `layout` is `null` when the file is `head` alone.
//!
//! Why not a `Blob` per file: composing `new Blob([header, file.slice(a, b), ...])` costs Chromium an IPC
//! per slice (measured at ~0.18 ms per `Blob.slice` in a Worker, ~540 ms for the ~3,000 runs of an
//! interleaved 60 s 1080p file), and reading such a Blob back is ~10× slower than reading the File. A
//! recipe costs nothing to make; `www/lib/package-file.js` reads the source in large windows when asked and
//! gathers the runs, or composes slices when a file has only a few runs.

use js_sys::{Float64Array, Object, Uint8Array};
use wasm_bindgen::JsValue;

use super::error::WebResult;

use crate::cmaf::data::Chunk;
use crate::package::FileBody;

pub const FROM_HEAD: f64 = 0.0;
pub const FROM_SOURCE: f64 = 1.0;

/// The recipe object of one file.
pub fn recipe(path: &str, body: &FileBody<'_>) -> WebResult<Object> {
    let o = Object::new();
    super::set(&o, "path", &JsValue::from_str(path))?;
    super::set(&o, "size", &JsValue::from_f64(body.len() as f64))?;
    super::set(&o, "type", &JsValue::from_str(crate::layout::mime(path)))?;
    match body {
        FileBody::Bytes(b) => {
            super::set(&o, "head", &Uint8Array::from(*b))?;
            super::set(&o, "layout", &JsValue::NULL)?;
        }
        FileBody::Segment(s) => {
            let mut head = Vec::new();
            let mut layout = Vec::with_capacity(s.chunks.len() * 3);
            for c in &s.chunks {
                match c {
                    Chunk::Bytes(b) => {
                        layout.extend([FROM_HEAD, head.len() as f64, b.len() as f64]);
                        head.extend_from_slice(b);
                    }
                    // Offsets and lengths are below 2^53: exact in an f64.
                    Chunk::Source { offset, len } => {
                        layout.extend([FROM_SOURCE, *offset as f64, *len as f64])
                    }
                }
            }
            super::set(&o, "head", &Uint8Array::from(head.as_slice()))?;
            super::set(&o, "layout", &Float64Array::from(layout.as_slice()))?;
        }
    }
    Ok(o)
}
