//! The storyboard's tiling and thumbnail track for the browser, which draws the tiles (in both builds:
//! the segmenter's page and the ladder's Worker each make one).

use wasm_bindgen::prelude::*;

use super::{to_js, WebError, WebResult};
use crate::layout::Picture;
use crate::storyboard::{plan, vtt, Plan};

fn plan_of(duration_ms: f64, width: u32, height: u32) -> WebResult<Plan> {
    let ms = crate::num::f64_to_u64(duration_ms.round());
    plan(ms, width, height)
        .ok_or_else(|| WebError::option("a storyboard needs a duration and a picture size"))
}

/// `storyboardPlan(durationMs, width, height)` → `{intervalMs, durationMs, count, tileWidth, tileHeight,
/// columns, tilesPerSheet, sheets, sheetSizes: [[w, h]], tiles: [{sheet, x, y, startMs, endMs}]}`.
#[wasm_bindgen(js_name = storyboardPlan)]
pub fn storyboard_plan(duration_ms: f64, width: u32, height: u32) -> WebResult<JsValue> {
    // Spelled out rather than `#[serde(flatten)]`: a flattened struct serializes as a map, whose keys the
    // JS conversion keeps as they are (snake_case) instead of camelCasing them as fields.
    #[derive(serde::Serialize)]
    struct Out {
        interval_ms: u64,
        duration_ms: u64,
        count: u32,
        tile_width: u32,
        tile_height: u32,
        columns: u32,
        tiles_per_sheet: u32,
        sheets: u32,
        sheet_sizes: Vec<(u32, u32)>,
        tiles: Vec<crate::storyboard::Tile>,
    }
    let p = plan_of(duration_ms, width, height)?;
    to_js(&Out {
        interval_ms: p.interval_ms,
        duration_ms: p.duration_ms,
        count: p.count,
        tile_width: p.tile_width,
        tile_height: p.tile_height,
        columns: p.columns,
        tiles_per_sheet: p.tiles_per_sheet,
        sheets: p.sheets,
        sheet_sizes: (0..p.sheets).map(|k| p.sheet_size(k)).collect(),
        tiles: p.tiles().collect(),
    })
}

fn picture_of(picture: &str) -> WebResult<Picture> {
    match picture {
        "webp" => Ok(Picture::Webp),
        "jpeg" => Ok(Picture::Jpeg),
        other => Err(WebError::option(&format!(
            "a storyboard sheet is 'webp' or 'jpeg', not {other:?}"
        ))),
    }
}

/// `storyboardManifest(mpd, durationMs, width, height, picture, maxSheetBytes)` → the MPD text with the
/// storyboard of that plan as its DASH-IF thumbnails AdaptationSet ([`crate::storyboard::dash`]).
#[wasm_bindgen(js_name = storyboardManifest)]
pub fn storyboard_manifest(
    mpd: &str,
    duration_ms: f64,
    width: u32,
    height: u32,
    picture: &str,
    max_sheet_bytes: f64,
) -> WebResult<String> {
    let plan = plan_of(duration_ms, width, height)?;
    crate::storyboard::dash::attach(
        mpd,
        &plan,
        picture_of(picture)?,
        crate::num::f64_to_u64(max_sheet_bytes.max(0.0)),
    )
    .map_err(|e| WebError::option(&e))
}

/// `storyboardTrack(durationMs, width, height, picture)` → the WebVTT thumbnail track of that plan, its
/// sheets `'webp'` or `'jpeg'` files.
#[wasm_bindgen(js_name = storyboardTrack)]
pub fn storyboard_track(
    duration_ms: f64,
    width: u32,
    height: u32,
    picture: &str,
) -> WebResult<String> {
    Ok(vtt::write(
        &plan_of(duration_ms, width, height)?,
        picture_of(picture)?,
    ))
}
