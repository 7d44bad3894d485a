//! What the bindings throw, and JS exceptions to text, in one place.
//!
//! Every error that leaves the bindings is a JS `Error` named `UpcastError` whose fields a caller reads
//! instead of parsing its text (`www/lib/error.js` is the same shape on the JS side):
//!
//! - `code`: the core's stable code ([`crate::Error::code`]: `malformed-mp4`, `mp4-over-limit`, `no-video`,
//!   `encoder-output`, ...); the bindings' own argument checks use `invalid-option`, and a source the
//!   browser cannot read `read-failed`, as the core does;
//! - `path`: the box path (`moov/trak[0]/mdia/minf/stbl/stsz`), or `null`;
//! - `offset`: the absolute byte offset in the source, or `null`;
//! - `reason`: what is wrong, without the place (the message is "`path` at byte `offset`: `reason`");
//! - `message`: the core's whole message, as `upcast segment` prints it.

use wasm_bindgen::{JsCast, JsError, JsValue};

/// An `UpcastError` on its way to JS (`Result<T, WebError>` throws it).
#[derive(Debug)]
pub struct WebError(JsValue);

pub type WebResult<T> = Result<T, WebError>;

impl WebError {
    /// An error of the bindings themselves (no place in the file).
    pub fn new(code: &str, message: &str) -> Self {
        WebError(build(code, None, None, message, message))
    }

    /// A caller's argument the bindings cannot use.
    pub fn option(message: &str) -> Self {
        Self::new("invalid-option", message)
    }

    /// The error as the JS value that is thrown.
    pub fn into_js(self) -> JsValue {
        self.0
    }
}

impl From<crate::Error> for WebError {
    fn from(e: crate::Error) -> Self {
        let message = e.to_string();
        let (path, offset) = (e.path(), e.offset());
        // The place is the message's prefix when the core names one: the reason is the rest.
        let place = match (path, offset) {
            (Some(p), Some(o)) => format!("{p} at byte {o}: "),
            _ => String::new(),
        };
        let reason = message.strip_prefix(place.as_str()).unwrap_or(&message);
        WebError(build(e.code(), path, offset, reason, &message))
    }
}

/// A JS exception caught by the bindings (a failed `Reflect` call and the like).
impl From<JsError> for WebError {
    fn from(e: JsError) -> Self {
        Self::option(&js_text(&JsValue::from(e)))
    }
}

impl From<WebError> for JsValue {
    fn from(e: WebError) -> Self {
        e.0
    }
}

fn build(
    code: &str,
    path: Option<&str>,
    offset: Option<u64>,
    reason: &str,
    message: &str,
) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("UpcastError");
    let set = |k: &str, v: JsValue| {
        // Setting a data property on a fresh Error cannot throw.
        let _ = js_sys::Reflect::set(&e, &JsValue::from_str(k), &v);
    };
    set("code", JsValue::from_str(code));
    set("path", path.map_or(JsValue::NULL, JsValue::from_str));
    // Offsets are below 2^53: exact in an f64.
    set(
        "offset",
        offset.map_or(JsValue::NULL, |o| JsValue::from_f64(o as f64)),
    );
    set("reason", JsValue::from_str(reason));
    e.into()
}

/// The message of a thrown JS value: `name: message` for an `Error`, the string itself for a string,
/// otherwise its JSON form (or its type, for what JSON cannot write).
pub fn js_text(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("a thrown {}", v.js_typeof().as_string().unwrap_or_default()))
}
