//! Browser bindings, compiled only for wasm32. The core stays pure; this layer owns the browser objects:
//! it reads a `File` through [`source::BlobSource`] (in a dedicated Worker: `FileReaderSync`), runs the
//! core, and hands every file of the package back as a `Blob`. Media segments are composed of the header
//! bytes made here and `file.slice(a, b)` ranges of the source ([`blob::compose`]), so sample bytes never
//! pass through wasm or JS memory.

pub mod blob;
pub mod error;
pub mod ladder;
pub mod source;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::Blob;

use crate::package::{segment, SegmentOptions};
pub use error::js_text;
pub use source::BlobSource;

/// One file of the package as the browser holds it.
pub struct WebFile {
    pub path: String,
    pub blob: Blob,
    pub size: u64,
}

/// The package as Blobs, the summary, the conformance report (when asked for), and how many bytes of the
/// source were read to make it.
pub struct WebPackage {
    pub files: Vec<WebFile>,
    pub summary: crate::summary::Summary,
    pub report: Option<crate::check::Report>,
    pub bytes_read: u64,
}

/// Package `file` (any `Blob`): demux its moov, plan, write headers, and compose every file as a `Blob`.
///
/// With `check`, the package is also run through the conformance checker before anything leaves the tab:
/// that reads every media segment once (through the same `FileReaderSync` source), so it costs a pass over
/// the payload.
pub fn package_blob(
    file: &Blob,
    opts: &SegmentOptions,
    check: bool,
) -> Result<WebPackage, JsError> {
    let src = BlobSource::new(file.clone())?;
    let pkg = segment(&src, opts).map_err(|e| JsError::new(&e.to_string()))?;
    let bytes_read = src.bytes_read();
    let report = check.then(|| pkg.check(&src));
    let mut files = Vec::new();
    for (path, body) in pkg.files() {
        let blob = blob::compose(file, &path, &body)?;
        files.push(WebFile {
            size: body.len(),
            path,
            blob,
        });
    }
    Ok(WebPackage {
        files,
        summary: pkg.summary,
        report,
        bytes_read,
    })
}

fn set(obj: &Object, key: &str, value: &JsValue) -> Result<(), JsError> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| JsError::new(&js_text(&e)))
}

/// `segmentFile(file, options, check)` → `{files: [{path, blob, size}], summary, report, bytesRead}`;
/// `report` is the conformance checker's (`null` unless `check`).
///
/// `options` is `undefined` or `{plan: {target_duration_s}, limits: {...}}` (the core's `SegmentOptions`).
/// Must run in a dedicated Worker (`FileReaderSync`). Errors carry the core's message: the box path and the
/// byte offset where the file is wrong.
#[wasm_bindgen(js_name = segmentFile)]
pub fn segment_file(file: &Blob, options: JsValue, check: bool) -> Result<JsValue, JsError> {
    let opts: SegmentOptions = if options.is_undefined() || options.is_null() {
        SegmentOptions::default()
    } else {
        let text = js_sys::JSON::stringify(&options)
            .map_err(|e| JsError::new(&js_text(&e)))?
            .as_string()
            .unwrap_or_default();
        serde_json::from_str(&text).map_err(|e| JsError::new(&format!("options: {e}")))?
    };
    let pkg = package_blob(file, &opts, check)?;
    let files = Array::new();
    for f in &pkg.files {
        let o = Object::new();
        set(&o, "path", &JsValue::from_str(&f.path))?;
        set(&o, "blob", &f.blob)?;
        set(&o, "size", &JsValue::from_f64(f.size as f64))?;
        files.push(&o);
    }
    let summary = serde_json::to_string(&pkg.summary).map_err(|e| JsError::new(&e.to_string()))?;
    let out = Object::new();
    set(&out, "files", &files)?;
    set(
        &out,
        "summary",
        &js_sys::JSON::parse(&summary).map_err(|e| JsError::new(&js_text(&e)))?,
    )?;
    let report = serde_json::to_string(&pkg.report).map_err(|e| JsError::new(&e.to_string()))?;
    set(
        &out,
        "report",
        &js_sys::JSON::parse(&report).map_err(|e| JsError::new(&js_text(&e)))?,
    )?;
    set(&out, "bytesRead", &JsValue::from_f64(pkg.bytes_read as f64))?;
    Ok(out.into())
}
