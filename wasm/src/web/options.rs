//! The page's options object → the core's `SegmentOptions`, read field by field. serde_json's deserializer
//! would do it in one line but costs ~10 kB of the segmenter's wasm for two small structs. Fields are named
//! here as in Rust and read as JS names them ([`camel`]: `{plan: {targetDurationS}, limits: {maxMoovBytes}}`),
//! the casing of everything that crosses the boundary.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use super::error::{WebError, WebResult};
use super::js::camel;

use crate::{Limits, SegmentOptions};

fn field(obj: &JsValue, key: &str) -> WebResult<JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !obj.is_object() {
        return Err(WebError::option("options: expected an object"));
    }
    Reflect::get(obj, &JsValue::from_str(&camel(key)))
        .map_err(|e| WebError::option(&super::js_text(&e)))
}

/// A number option: absent keeps the default; present must be a finite number.
fn number(obj: &JsValue, key: &str, what: &str) -> WebResult<Option<f64>> {
    let v = field(obj, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(WebError::option(&format!(
            "options: {what} must be a number"
        ))),
    }
}

/// A whole-number limit: a finite, non-negative integer that fits.
fn whole<T: TryFrom<u64>>(obj: &JsValue, key: &str, into: &mut T) -> WebResult<()> {
    if let Some(n) = number(obj, key, &format!("limits.{}", camel(key)))? {
        let ok = n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64;
        *into = ok
            .then(|| T::try_from(crate::num::f64_to_u64(n)).ok())
            .flatten()
            .ok_or_else(|| {
                WebError::option(&format!(
                    "options: limits.{} must be a whole number",
                    camel(key)
                ))
            })?;
    }
    Ok(())
}

/// `{plan: {targetDurationS}, limits: {maxMoovBytes, ...}}`, every part optional.
pub fn segment_options(v: &JsValue) -> WebResult<SegmentOptions> {
    let mut o = SegmentOptions::default();
    if let Some(t) = number(
        &field(v, "plan")?,
        "target_duration_s",
        "plan.targetDurationS",
    )? {
        o.plan.target_duration_s = t;
    }
    let l = field(v, "limits")?;
    let Limits {
        max_moov_bytes,
        max_ftyp_bytes,
        max_depth,
        max_stsd_entries,
        max_tracks,
        max_top_level_boxes,
        moov_bytes_per_sample,
        max_moof_bytes,
        max_fragment_samples,
    } = &mut o.limits;
    whole(&l, "max_moov_bytes", max_moov_bytes)?;
    whole(&l, "max_ftyp_bytes", max_ftyp_bytes)?;
    whole(&l, "max_depth", max_depth)?;
    whole(&l, "max_stsd_entries", max_stsd_entries)?;
    whole(&l, "max_tracks", max_tracks)?;
    whole(&l, "max_top_level_boxes", max_top_level_boxes)?;
    whole(&l, "moov_bytes_per_sample", moov_bytes_per_sample)?;
    whole(&l, "max_moof_bytes", max_moof_bytes)?;
    whole(&l, "max_fragment_samples", max_fragment_samples)?;
    Ok(o)
}
