//! The page's caption files and chapters (`options.text`) → the core's inputs, and added to the package
//! with [`crate::Package::add_text`] before it is checked and handed back: `{captions: [{lang, name,
//! default, forced, bytes: Uint8Array}], chapters: "0:00 Intro\n…"}`, every part optional.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::error::{js_text, WebError, WebResult};
use crate::captions::{parse_chapter_list, CaptionInput, TextLimits};

fn get(obj: &JsValue, key: &str) -> WebResult<JsValue> {
    if !obj.is_object() {
        return Ok(JsValue::UNDEFINED);
    }
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|e| WebError::option(&js_text(&e)))
}

fn string(obj: &JsValue, key: &str) -> WebResult<String> {
    Ok(get(obj, key)?.as_string().unwrap_or_default())
}

fn flag(obj: &JsValue, key: &str) -> WebResult<bool> {
    Ok(get(obj, key)?.as_bool().unwrap_or(false))
}

/// Add `options.text` (when present) to `package`; the warnings, or the refusal (`bad-captions`,
/// `captions-over-limit`, `bad-chapters`) naming the language and line.
pub fn add_text(package: &mut crate::Package, options: &JsValue) -> WebResult<Vec<String>> {
    let text = get(options, "text")?;
    if text.is_undefined() || text.is_null() {
        return Ok(Vec::new());
    }
    let limits = TextLimits::default();
    let list = get(&text, "captions")?;
    let mut inputs = Vec::new();
    if Array::is_array(&list) {
        for c in Array::from(&list).iter() {
            let bytes = get(&c, "bytes")?;
            if !bytes.is_instance_of::<Uint8Array>() {
                return Err(WebError::option(
                    "options.text.captions[].bytes must be a Uint8Array",
                ));
            }
            let bytes = Uint8Array::from(bytes);
            if usize::try_from(bytes.length()).unwrap_or(usize::MAX) > limits.max_bytes {
                return Err(WebError::new(
                    "captions-over-limit",
                    &format!("a caption file is over {} bytes", limits.max_bytes),
                ));
            }
            inputs.push(CaptionInput {
                lang: string(&c, "lang")?,
                name: string(&c, "name")?,
                default: flag(&c, "default")?,
                forced: flag(&c, "forced")?,
                bytes: bytes.to_vec(),
            });
        }
    }
    let chapters = string(&text, "chapters")?;
    let chapters = if chapters.trim().is_empty() {
        None
    } else {
        Some(
            parse_chapter_list(&chapters)
                .map_err(|e| WebError::new("bad-chapters", &format!("chapters: {e}")))?,
        )
    };
    if inputs.is_empty() && chapters.is_none() {
        return Ok(Vec::new());
    }
    package
        .add_text(&inputs, chapters.as_deref(), &limits)
        .map_err(|e| WebError::new(e.code(), &e.to_string()))
}
