//! JS exceptions to text, in one place.

use wasm_bindgen::{JsCast, JsValue};

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
