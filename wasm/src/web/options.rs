//! The page's options object → the core's `SegmentOptions`, read field by field. serde_json's deserializer
//! would do it in one line but costs ~10 kB of the segmenter's wasm for two small structs.

use js_sys::Reflect;
use wasm_bindgen::{JsError, JsValue};

use crate::{Limits, SegmentOptions};

fn field(obj: &JsValue, key: &str) -> Result<JsValue, JsError> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !obj.is_object() {
        return Err(JsError::new("options: expected an object"));
    }
    Reflect::get(obj, &JsValue::from_str(key)).map_err(|e| JsError::new(&super::js_text(&e)))
}

/// A number option: absent keeps the default; present must be a finite number.
fn number(obj: &JsValue, key: &str, what: &str) -> Result<Option<f64>, JsError> {
    let v = field(obj, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(JsError::new(&format!("options: {what} must be a number"))),
    }
}

/// A whole-number limit: a finite, non-negative integer that fits.
fn whole<T: TryFrom<u64>>(obj: &JsValue, key: &str, into: &mut T) -> Result<(), JsError> {
    if let Some(n) = number(obj, key, &format!("limits.{key}"))? {
        let ok = n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64;
        *into = ok
            .then(|| T::try_from(n as u64).ok())
            .flatten()
            .ok_or_else(|| {
                JsError::new(&format!("options: limits.{key} must be a whole number"))
            })?;
    }
    Ok(())
}

/// `{plan: {target_duration_s}, limits: {max_moov_bytes, ...}}`, every part optional.
pub fn segment_options(v: &JsValue) -> Result<SegmentOptions, JsError> {
    let mut o = SegmentOptions::default();
    if let Some(t) = number(
        &field(v, "plan")?,
        "target_duration_s",
        "plan.target_duration_s",
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
    } = &mut o.limits;
    whole(&l, "max_moov_bytes", max_moov_bytes)?;
    whole(&l, "max_ftyp_bytes", max_ftyp_bytes)?;
    whole(&l, "max_depth", max_depth)?;
    whole(&l, "max_stsd_entries", max_stsd_entries)?;
    whole(&l, "max_tracks", max_tracks)?;
    whole(&l, "max_top_level_boxes", max_top_level_boxes)?;
    whole(&l, "moov_bytes_per_sample", moov_bytes_per_sample)?;
    Ok(o)
}
