//! The storyboard, when the package has one (`storyboard/storyboard.vtt`): its thumbnail track checked by
//! [`crate::storyboard::vtt::check`] against the video's duration (the longest media playlist) and the
//! sheets it names, whose pixel sizes are read from their headers.

use super::load::Pkg;
use super::{CheckLimits, Location, PackageReader, Report, Severity};
use crate::layout::{in_dir, STORYBOARD_DIR, STORYBOARD_VTT};
use crate::storyboard::{image, vtt};

const RULE: &str = "WebVTT thumbnails";
const TITLE: &str = "Storyboard thumbnail track covers the video and names sheets that exist";
/// A sheet is an image inside the package (the origin's limit for images).
const MAX_SHEET_BYTES: u64 = 4 << 20;

pub(crate) fn check_storyboard(
    reader: &dyn PackageReader,
    pkg: &Pkg,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let Ok(bytes) = reader.read(STORYBOARD_VTT, limits.max_playlist_bytes) else {
        return; // no storyboard
    };
    report.files_read += 1;
    report.bytes_read += bytes.len() as u64;
    let Ok(text) = String::from_utf8(bytes) else {
        return push(report, 0, "the thumbnail track is not UTF-8".to_string());
    };
    let sizes = std::cell::RefCell::new(Vec::new());
    let sheet = |name: &str| match reader.read(&in_dir(STORYBOARD_DIR, name), MAX_SHEET_BYTES) {
        Err(_) => vtt::Sheet::Missing,
        Ok(b) => {
            sizes.borrow_mut().push(b.len() as u64);
            image::size(&b).map_or(vtt::Sheet::Present, |(w, h)| vtt::Sheet::Sized(w, h))
        }
    };
    let problems = vtt::check(&text, duration_ms(pkg), &memo(sheet));
    for p in problems {
        push(report, p.line, p.message);
    }
    let read = sizes.into_inner();
    report.files_read += read.len();
    report.bytes_read += read.iter().sum::<u64>();
}

/// Each sheet looked up once, however many cues name it.
fn memo<'a>(f: impl Fn(&str) -> vtt::Sheet + 'a) -> impl Fn(&str) -> vtt::Sheet + 'a {
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<String, vtt::Sheet>::new());
    move |name| {
        if let Some(s) = seen.borrow().get(name) {
            return *s;
        }
        let s = f(name);
        seen.borrow_mut().insert(name.to_string(), s);
        s
    }
}

fn push(report: &mut Report, line: usize, message: String) {
    let location = if line == 0 {
        Location::File
    } else {
        Location::Line { line }
    };
    report.push(
        Severity::Must,
        RULE,
        TITLE,
        STORYBOARD_VTT,
        location,
        message,
    );
}

/// The longest media playlist's duration (sum of EXTINF), in milliseconds; `None` without playlists.
fn duration_ms(pkg: &Pkg) -> Option<u64> {
    pkg.medias
        .iter()
        .map(|m| {
            m.pl.segments
                .iter()
                .map(|s| f64::from(s.duration))
                .sum::<f64>()
        })
        .fold(None, |a: Option<f64>, d| Some(a.map_or(d, |a| a.max(d))))
        .filter(|d| d.is_finite() && *d > 0.0)
        .map(|d| crate::num::f64_to_u64((d * 1000.0).round()))
}
