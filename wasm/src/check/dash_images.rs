//! The storyboard's image AdaptationSet in the MPD (DASH-IF IOP § 6.2.6 thumbnails,
//! [`crate::storyboard::dash`]): every sheet it names exists and is a picture of the declared type, the
//! tiling (`http://dashif.org/thumbnail_tile` `COLSxROWS`) divides the declared sheet size, each sheet is as
//! wide as declared and no taller, `bandwidth` is within 10 % of the largest sheet over one segment, and
//! when the package has a WebVTT thumbnail track the two agree (tile size, and a segment lasting COLS × ROWS
//! tile intervals), so a DASH player and a WebVTT one show the same tile at the same time.

use super::{CheckLimits, Location, PackageReader, Report, Severity};
use crate::dash::refs::{image_files, ImageFiles};
use crate::dash::Mpd;
use crate::hls::resolve::Strictness;
use crate::layout::STORYBOARD_VTT;
use crate::storyboard::{image, vtt};

const RULE: &str = "DASH thumbnails";
const TITLE: &str = "the image AdaptationSet names sheets that exist, tiled as declared";
/// A sheet is an image inside the package (the origin's limit for images).
const MAX_SHEET_BYTES: u64 = 4 << 20;

fn fail(report: &mut Report, path: &str, loc: Location, msg: String) {
    report.push(Severity::Must, RULE, TITLE, path, loc, msg);
}

pub(crate) fn check_images(
    reader: &dyn PackageReader,
    mpd_path: &str,
    text: &str,
    mpd: &Mpd,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let sets = match image_files(mpd_path, mpd, limits.max_segments, Strictness::Relative) {
        Ok(s) => s,
        Err(e) => return fail(report, mpd_path, Location::File, e),
    };
    for set in &sets {
        let loc = super::paths::line_containing(text, &format!("id=\"{}\"", set.id))
            .map_or(Location::File, |line| Location::Line { line });
        let mut problems = Vec::new();
        check_set(reader, set, limits, report, &mut problems);
        for msg in problems {
            fail(report, mpd_path, loc, msg);
        }
    }
}

/// The problems of one image Representation, into `problems`; the sheets read are counted in `report`.
fn check_set(
    reader: &dyn PackageReader,
    set: &ImageFiles,
    limits: &CheckLimits,
    report: &mut Report,
    problems: &mut Vec<String>,
) {
    let id = &set.id;
    let mut say = |msg: String| problems.push(msg);
    let ext = match set.mime_type.as_str() {
        "image/jpeg" => ".jpg",
        "image/webp" => ".webp",
        other => {
            return say(format!(
                "image Representation {id}: mimeType {other:?}; a sheet is image/jpeg or image/webp"
            ))
        }
    };
    let Some((cols, rows)) = set.tiles else {
        return say(format!(
            "image Representation {id}: no EssentialProperty \
             schemeIdUri=\"http://dashif.org/thumbnail_tile\" with a COLSxROWS value"
        ));
    };
    let (Some(width), Some(height)) = (set.width, set.height) else {
        return say(format!("image Representation {id}: no @width and @height"));
    };
    if width == 0 || height == 0 || width % cols != 0 || height % rows != 0 {
        return say(format!(
            "image Representation {id}: {width}x{height} is not a whole number of {cols}x{rows} tiles"
        ));
    }
    let mut largest = 0u64;
    for (k, sheet) in set.sheets.iter().enumerate() {
        if !sheet.ends_with(ext) {
            say(format!("{sheet}: not a {} file", set.mime_type));
            continue;
        }
        let bytes = match reader.read(sheet, MAX_SHEET_BYTES) {
            Ok(b) => b,
            Err(e) => {
                say(format!("sheet {} of Representation {id}: {e}", k + 1));
                continue;
            }
        };
        report.files_read += 1;
        report.bytes_read += bytes.len() as u64;
        largest = largest.max(bytes.len() as u64);
        match image::size(&bytes) {
            None => say(format!("{sheet}: not a JPEG or WebP picture")),
            Some((w, h)) if w != width || h > height || h == 0 || h % (height / rows) != 0 => {
                say(format!(
                    "{sheet} is {w}x{h} pixels; the MPD declares {width}x{height} in {cols}x{rows} tiles \
                     (a last sheet may have fewer rows)"
                ))
            }
            Some(_) => {}
        }
    }
    let seconds = set.duration as f64 / f64::from(set.timescale);
    let measured = largest as f64 * 8.0 / seconds;
    if largest > 0 && (set.bandwidth as f64 - measured).abs() > measured * 0.1 {
        say(format!(
            "image Representation {id}: bandwidth {} is not within 10 % of the largest sheet over one \
             segment ({measured:.0} b/s)",
            set.bandwidth
        ));
    }
    let Ok(track) = reader.read(STORYBOARD_VTT, limits.max_playlist_bytes) else {
        return;
    };
    let Ok(cues) = vtt::parse(&String::from_utf8_lossy(&track)) else {
        return; // the thumbnail track's own check reports it
    };
    if let Some(first) = cues.first() {
        let tile = (width / cols, height / rows);
        if (first.xywh[2], first.xywh[3]) != tile {
            say(format!(
                "{STORYBOARD_VTT} tiles are {}x{} pixels; the MPD's are {}x{}",
                first.xywh[2], first.xywh[3], tile.0, tile.1
            ));
        }
        let interval_ms = first.end_ms.saturating_sub(first.start_ms);
        let per_sheet_ms = u128::from(set.duration) * 1000 / u128::from(set.timescale.max(1));
        let tiles = u128::from(cols) * u128::from(rows);
        // The first cue is a whole interval unless the video is shorter than one.
        if cues.len() > 1 && u128::from(interval_ms) * tiles != per_sheet_ms {
            say(format!(
                "a sheet lasts {per_sheet_ms} ms in the MPD, but {STORYBOARD_VTT} shows a tile every \
                 {interval_ms} ms ({tiles} tiles a sheet: {} ms)",
                u128::from(interval_ms) * tiles
            ));
        }
    }
}
