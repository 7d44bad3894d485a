//! How a video is cut into storyboard tiles: one tile every [`Plan::interval_ms`], 160 px wide with the
//! video's aspect ratio, laid out left to right and top to bottom in sheets of at most
//! [`MAX_TILES_PER_SHEET`] tiles.

use crate::layout;

/// The width of a tile in pixels (the height follows the video's aspect ratio).
pub const TILE_WIDTH: u32 = 160;
/// Tiles per row of a sheet.
pub const COLUMNS: u32 = 10;
/// At most this many tiles in one sheet (10 × 10 tiles of 160 × 90 px: a 1600 × 900 image).
pub const MAX_TILES_PER_SHEET: u32 = 100;
/// At most this many tiles for the whole video: beyond this the interval grows instead.
pub const MAX_TILES: u32 = 200;
/// The tile intervals to choose from, in milliseconds: the shortest that keeps the video within
/// [`MAX_TILES`] tiles (a 60 s video gets one a second, an hour one every 20 s).
const INTERVALS_MS: [u64; 13] = [
    1_000, 2_000, 3_000, 5_000, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    1_800_000,
];

/// The tiling of one video.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    /// One tile every this many milliseconds.
    pub interval_ms: u64,
    /// The video's duration in milliseconds: the last tile's cue ends here.
    pub duration_ms: u64,
    /// Tiles in all.
    pub count: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    pub columns: u32,
    pub tiles_per_sheet: u32,
    /// Number of sheets.
    pub sheets: u32,
}

/// Where one tile is and which time it shows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tile {
    /// 0-based index of the sheet ([`layout::storyboard_sheet`] names it).
    pub sheet: u32,
    pub x: u32,
    pub y: u32,
    /// The cue: from `start_ms` to `end_ms`; the picture is the frame at `start_ms`.
    pub start_ms: u64,
    pub end_ms: u64,
}

/// The storyboard of a video `duration_ms` long whose display size is `width` × `height`; `None` for a
/// video with no duration or no picture size.
pub fn plan(duration_ms: u64, width: u32, height: u32) -> Option<Plan> {
    if duration_ms == 0 || width == 0 || height == 0 {
        return None;
    }
    let interval_ms = INTERVALS_MS
        .into_iter()
        .find(|i| duration_ms.div_ceil(*i) <= u64::from(MAX_TILES))
        .unwrap_or(INTERVALS_MS[INTERVALS_MS.len() - 1]);
    let count = u32::try_from(duration_ms.div_ceil(interval_ms)).ok()?;
    // Height in proportion, even (encoders and sheets like even sizes), at least 2.
    let h = u64::from(TILE_WIDTH) * u64::from(height) / u64::from(width);
    let tile_height = u32::try_from((h / 2 * 2).clamp(2, 1024)).ok()?;
    let tiles_per_sheet = count.min(MAX_TILES_PER_SHEET);
    Some(Plan {
        interval_ms,
        duration_ms,
        count,
        tile_width: TILE_WIDTH,
        tile_height,
        columns: COLUMNS.min(tiles_per_sheet),
        tiles_per_sheet,
        sheets: count.div_ceil(tiles_per_sheet),
    })
}

impl Plan {
    /// The rows of sheet `k` (the last sheet may be shorter).
    pub fn rows(&self, sheet: u32) -> u32 {
        let before = sheet.saturating_mul(self.tiles_per_sheet);
        let here = self.count.saturating_sub(before).min(self.tiles_per_sheet);
        here.div_ceil(self.columns.max(1))
    }

    /// Pixel size of sheet `k`.
    pub fn sheet_size(&self, sheet: u32) -> (u32, u32) {
        let cols = self.columns.min(self.count).max(1);
        (
            cols.saturating_mul(self.tile_width),
            self.rows(sheet).saturating_mul(self.tile_height),
        )
    }

    /// Tile `i` (0-based), or `None` past the last.
    pub fn tile(&self, i: u32) -> Option<Tile> {
        if i >= self.count {
            return None;
        }
        let per = self.tiles_per_sheet.max(1);
        let j = i % per;
        let start_ms = u64::from(i) * self.interval_ms;
        Some(Tile {
            sheet: i / per,
            x: (j % self.columns) * self.tile_width,
            y: (j / self.columns) * self.tile_height,
            start_ms,
            end_ms: (start_ms + self.interval_ms).min(self.duration_ms),
        })
    }

    /// Every tile, in time order.
    pub fn tiles(&self) -> impl Iterator<Item = Tile> + '_ {
        (0..self.count).filter_map(|i| self.tile(i))
    }

    /// The file name of sheet `k` with the given picture format, relative to the thumbnail track.
    pub fn sheet_name(&self, sheet: u32, picture: layout::Picture) -> String {
        layout::storyboard_sheet(sheet, picture)
    }
}
