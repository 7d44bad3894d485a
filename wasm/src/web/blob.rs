//! One file of the package as a `Blob`. A media segment is `new Blob([header, file.slice(a, b), ...])`:
//! header bytes are copied out of wasm memory (they are small), payload stays a reference into the file.

use js_sys::{Array, Uint8Array};
use web_sys::{Blob, BlobPropertyBag};

use super::error::{js_text, WebError, WebResult};
use crate::cmaf::data::Chunk;
use crate::package::FileBody;

/// The MIME type the origin serves the file with (RFC 8216 § 4 for playlists).
pub fn mime(path: &str) -> &'static str {
    if path.ends_with(".m3u8") {
        "application/vnd.apple.mpegurl"
    } else {
        "video/mp4"
    }
}

/// Compose the Blob of one package file; `file` is the source the segment recipe points into.
pub fn compose(file: &Blob, path: &str, body: &FileBody<'_>) -> WebResult<Blob> {
    let parts = Array::new();
    match body {
        FileBody::Bytes(b) => {
            parts.push(&Uint8Array::from(*b));
        }
        FileBody::Segment(s) => {
            for c in &s.chunks {
                match c {
                    Chunk::Bytes(b) => {
                        parts.push(&Uint8Array::from(b.as_slice()));
                    }
                    Chunk::Source { offset, len } => {
                        let end = offset.saturating_add(*len);
                        let part = file
                            .slice_with_f64_and_f64(*offset as f64, end as f64)
                            .map_err(|e| WebError::option(&js_text(&e)))?;
                        parts.push(&part);
                    }
                }
            }
        }
    }
    let bag = BlobPropertyBag::new();
    bag.set_type(mime(path));
    Blob::new_with_blob_sequence_and_options(&parts, &bag)
        .map_err(|e| WebError::option(&js_text(&e)))
}
