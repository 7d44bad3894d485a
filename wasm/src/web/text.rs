//! The page's caption files and chapters (`options.text`) → the core's inputs, and added to the package
//! with [`crate::Package::add_text`] before it is checked and handed back: `{captions: [{lang, name,
//! default, forced, bytes: Uint8Array}], chapters: "0:00 Intro\n…", sourceChapters: true}`, every part
//! optional. The source's own chapters (a chapter track or `chpl`) become the chapters track when none are
//! typed, unless `sourceChapters` is `false`.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use super::error::{js_text, WebError, WebResult};
use crate::captions::chapters::choose;
use crate::captions::{parse_chapter_list, CaptionInput, TextLimits, TextRequest};

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

/// Add `options.text` to `package` (the source's chapters even without it); the warnings, or the refusal
/// (`bad-captions`, `captions-over-limit`, `bad-chapters`) naming the language and line.
pub fn add_text(package: &mut crate::Package, options: &JsValue) -> WebResult<Vec<String>> {
    let req = read_text(options)?;
    let limits = TextLimits::default();
    let chapters = choose(
        req.chapters,
        package.source_chapters(),
        req.use_source_chapters,
    );
    if req.inputs.is_empty() && chapters.is_none() {
        return Ok(Vec::new());
    }
    package
        .add_text(&req.inputs, chapters.as_deref(), &limits)
        .map_err(|e| WebError::new(e.code(), &e.to_string()))
}

/// Read `options.text` (absent: nothing typed, source chapters used).
pub fn read_text(options: &JsValue) -> WebResult<TextRequest> {
    let text = get(options, "text")?;
    if text.is_undefined() || text.is_null() {
        return Ok(TextRequest::default());
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
    Ok(TextRequest {
        inputs,
        chapters,
        use_source_chapters: get(&text, "sourceChapters")?.as_bool() != Some(false),
    })
}
