//! Browser bindings, compiled only for wasm32. The core stays pure; this layer owns the browser objects:
//! it reads a `File` through [`source::BlobSource`] (in a dedicated Worker: `FileReaderSync`), runs the
//! core, and hands every file of the package back as a recipe ([`recipe`]): the header bytes made here and
//! the byte ranges of the source between them. Sample bytes never pass through wasm; the page reads them
//! from the `File` only when a file is hashed, uploaded or played (`www/lib/package-file.js`).

pub mod error;
pub mod js;
/// `class Ladder` (the adaptive ladder): feature `ladder`, in the full build only.
#[cfg(feature = "ladder")]
pub mod ladder;
/// `class LiveRung` (one rung of a live ladder from the Go live page): feature `live`, in the full build.
#[cfg(feature = "live")]
pub mod live;
pub mod options;
pub mod recipe;
pub mod source;
pub mod storyboard;
pub mod text;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::Blob;

use crate::package::segment;
pub use error::{js_text, WebError, WebResult};
pub use source::BlobSource;

/// The conformance report as a JS value when `check` is asked for: `null` otherwise, and an error when this
/// build has no checker (the segmenter-only build; the page loads the full one to check).
fn check_report(package: &crate::Package, src: &BlobSource, check: bool) -> WebResult<JsValue> {
    if !check {
        return Ok(JsValue::NULL);
    }
    #[cfg(feature = "check")]
    return to_js(&package.check(src));
    #[cfg(not(feature = "check"))]
    {
        let _ = (package, src);
        Err(WebError::option(
            "this build of upcast has no conformance checker (load the full build to check)",
        ))
    }
}

/// A serde value as a plain JS value, as its JSON would parse ([`js::to_js`]).
pub(crate) fn to_js<T: serde::Serialize>(v: &T) -> WebResult<JsValue> {
    js::to_js(v)
}

pub(crate) fn set(obj: &Object, key: &str, value: &JsValue) -> WebResult<()> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|e| WebError::option(&js_text(&e)))
}

/// `segmentFile(file, options, check)` → `{files: [{path, size, type, head, layout}], summary, report,
/// bytesRead}` (files as [`recipe`]s); `report` is the conformance checker's (`null` unless `check`).
///
/// `options` is `undefined` or `{plan: {targetDurationS}, limits: {...}}` (the core's `SegmentOptions`,
/// camelCase as everything that crosses the boundary), and `text: {captions, chapters}` to add caption
/// renditions and a chapters track ([`text::add_text`]).
/// Must run in a dedicated Worker (`FileReaderSync`). Throws an `UpcastError` ([`error`]): `code`, `path`,
/// `offset` and `reason` as fields, the core's message as `message`.
#[wasm_bindgen(js_name = segmentFile)]
pub fn segment_file(file: &Blob, options: JsValue, check: bool) -> WebResult<JsValue> {
    let opts = options::segment_options(&options)?;
    let src = BlobSource::new(file.clone())?;
    let mut package = segment(&src, &opts)?;
    text::add_text(&mut package, &options)?;
    let bytes_read = src.bytes_read();
    let report = check_report(&package, &src, check)?;
    let files = Array::new();
    for (path, body) in package.files() {
        files.push(&recipe::recipe(&path, &body)?.into());
    }
    let out = Object::new();
    set(&out, "files", &files)?;
    set(&out, "summary", &to_js(&package.summary)?)?;
    set(&out, "report", &report)?;
    set(&out, "bytesRead", &JsValue::from_f64(bytes_read as f64))?;
    Ok(out.into())
}
