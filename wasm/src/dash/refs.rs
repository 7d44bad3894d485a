//! The files an MPD names: each Representation's init segment and, expanded from its SegmentTemplate and
//! SegmentTimeline, every media segment with its start and duration. The checker walks these, and the
//! origin refuses an uploaded MPD that names anything outside its video.
//! A Representation's SegmentTemplate (its own, or its AdaptationSet's) must carry a SegmentTimeline;
//! what else an MPD may not hold is refused by [`Mpd::parse`].

use super::model::{Mpd, Representation, SegmentTemplate};
use super::template::{expand, Vars};
use crate::hls::resolve::{resolve, Strictness};

/// One media segment of a Representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRef {
    /// Package path, resolved against the MPD's.
    pub path: String,
    pub number: u64,
    /// Start and duration in the Representation's timescale.
    pub start: u64,
    pub duration: u64,
}

/// A Representation's files.
#[derive(Debug, Clone)]
pub struct RepFiles {
    /// Index of its AdaptationSet in the (first) Period.
    pub set: usize,
    pub id: String,
    pub timescale: u32,
    pub init: String,
    pub segments: Vec<SegmentRef>,
}

/// Every Representation of the Period with its files, URLs resolved against `mpd_path` under `strictness`
/// ([`Strictness::Package`] at the origin). `max_segments` bounds the expansion over the
/// whole MPD (a hostile `@r` could name billions).
pub fn representations(
    mpd_path: &str,
    mpd: &Mpd,
    max_segments: usize,
    strictness: Strictness,
) -> Result<Vec<RepFiles>, String> {
    let period = match mpd.periods.as_slice() {
        [p] => p,
        [] => return Err("the MPD has no Period".into()),
        _ => return Err("more than one Period (upcast writes one)".into()),
    };
    let mut budget = max_segments;
    let mut out = Vec::new();
    // Image sets (the storyboard's sheets, [`image_files`]) and text files are not CMAF tracks.
    for (set, a) in period.adaptation_sets.iter().enumerate() {
        if a.content_type == IMAGE {
            continue;
        }
        for r in a.representations.iter().filter(|r| r.base_url.is_none()) {
            let template = r.segment_template.as_ref().or(a.segment_template.as_ref());
            out.push(rep_files(
                mpd_path,
                set,
                r,
                template,
                &mut budget,
                strictness,
            )?);
        }
    }
    Ok(out)
}

fn rep_files(
    mpd_path: &str,
    set: usize,
    r: &Representation,
    template: Option<&SegmentTemplate>,
    budget: &mut usize,
    strictness: Strictness,
) -> Result<RepFiles, String> {
    let id = &r.id;
    let t = template.ok_or_else(|| format!("Representation {id}: no SegmentTemplate"))?;
    let timeline = t
        .segment_timeline
        .as_ref()
        .ok_or_else(|| format!("Representation {id}: SegmentTemplate without SegmentTimeline"))?;
    let timescale = t.timescale.unwrap_or(1);
    if timescale == 0 {
        return Err(format!("Representation {id}: timescale 0"));
    }
    let vars = |number, time| Vars {
        representation_id: id,
        number,
        bandwidth: r.bandwidth,
        time,
    };
    let url = |template: &str, number, time| {
        let u = expand(template, &vars(number, time))
            .map_err(|e| format!("Representation {id}: {e}"))?;
        resolve(mpd_path, &u, strictness).map_err(|e| format!("Representation {id}: {e}"))
    };
    let init = url(&t.initialization, 0, 0)?;
    let mut segments = Vec::new();
    let mut number = t.start_number.unwrap_or(1);
    let mut end = 0u64;
    for s in &timeline.entries {
        let repeat = u64::try_from(s.r.unwrap_or(0)).map_err(|_| {
            format!("Representation {id}: S@r is negative (repeat to the end): give the count")
        })?;
        let mut start = s.t.unwrap_or(end);
        for _ in 0..=repeat {
            if *budget == 0 {
                return Err("the MPD names more segments than are checked".into());
            }
            *budget -= 1;
            segments.push(SegmentRef {
                path: url(&t.media, number, start)?,
                number,
                start,
                duration: s.d,
            });
            number = number.saturating_add(1);
            start = start.saturating_add(s.d);
        }
        end = start;
    }
    Ok(RepFiles {
        set,
        id: id.clone(),
        timescale,
        init,
        segments,
    })
}

/// A text Representation's one file (its BaseURL), resolved against the MPD's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFile {
    pub set: usize,
    pub id: String,
    pub lang: Option<String>,
    pub path: String,
}

/// The text Representations of the (first) Period: those with a BaseURL, which [`representations`]
/// leaves out.
pub fn text_files(
    mpd_path: &str,
    mpd: &Mpd,
    strictness: Strictness,
) -> Result<Vec<TextFile>, String> {
    let mut out = Vec::new();
    for p in mpd.periods.iter().take(1) {
        for (set, a) in p.adaptation_sets.iter().enumerate() {
            for r in &a.representations {
                let Some(u) = &r.base_url else { continue };
                let path = resolve(mpd_path, u, strictness)
                    .map_err(|e| format!("Representation {}: BaseURL {e}", r.id))?;
                out.push(TextFile {
                    set,
                    id: r.id.clone(),
                    lang: a.lang.clone(),
                    path,
                });
            }
        }
    }
    Ok(out)
}

/// The `contentType` of the storyboard's AdaptationSet (DASH-IF IOP thumbnails).
pub const IMAGE: &str = "image";

/// An image Representation (DASH-IF IOP § 6.2.6, thumbnails): sprite sheets of `cols` × `rows` tiles, one
/// sheet per `duration` ticks of `timescale`, each sheet `width` × `height` pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFiles {
    pub set: usize,
    pub id: String,
    pub mime_type: String,
    pub bandwidth: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The `EssentialProperty` tiling, when it is the thumbnail scheme with a `COLSxROWS` value.
    pub tiles: Option<(u32, u32)>,
    pub timescale: u32,
    pub duration: u64,
    /// The sheets, in order: as many as segments of `duration` fit in the presentation (rounded up).
    pub sheets: Vec<String>,
}

/// DASH-IF's thumbnail tiling scheme.
pub const THUMBNAIL_SCHEME: &str = "http://dashif.org/thumbnail_tile";

/// `COLSxROWS` (both at least 1).
pub fn parse_tiles(value: &str) -> Option<(u32, u32)> {
    let (c, r) = value.split_once('x')?;
    let (c, r) = (c.parse().ok()?, r.parse().ok()?);
    (c > 0 && r > 0).then_some((c, r))
}

/// The image Representations of the (first) Period with the sheets they name: a SegmentTemplate with
/// `@duration` and `$Number$` media, expanded over `mediaPresentationDuration` (up to `@endNumber`). At most `max_segments`
/// sheets over all.
pub fn image_files(
    mpd_path: &str,
    mpd: &Mpd,
    max_segments: usize,
    strictness: Strictness,
) -> Result<Vec<ImageFiles>, String> {
    let mut out = Vec::new();
    let mut budget = max_segments;
    for p in mpd.periods.iter().take(1) {
        for (set, a) in p.adaptation_sets.iter().enumerate() {
            if a.content_type != IMAGE {
                continue;
            }
            for r in &a.representations {
                let id = &r.id;
                let t = r
                    .segment_template
                    .as_ref()
                    .or(a.segment_template.as_ref())
                    .ok_or_else(|| format!("image Representation {id}: no SegmentTemplate"))?;
                if t.segment_timeline.is_some() || !t.initialization.is_empty() {
                    return Err(format!(
                        "image Representation {id}: a SegmentTemplate with @duration and @media \
                         only (no SegmentTimeline, no initialization)"
                    ));
                }
                let timescale = t.timescale.unwrap_or(1);
                let duration = t.duration.filter(|d| *d > 0).ok_or_else(|| {
                    format!("image Representation {id}: SegmentTemplate@duration is missing or 0")
                })?;
                if timescale == 0 {
                    return Err(format!("image Representation {id}: timescale 0"));
                }
                let total_ms = mpd
                    .media_presentation_duration
                    .as_deref()
                    .and_then(super::model::duration_ms)
                    .ok_or_else(|| {
                        "an image AdaptationSet needs MPD@mediaPresentationDuration".to_string()
                    })?;
                let total_ticks = u128::from(total_ms) * u128::from(timescale);
                let start = t.start_number.unwrap_or(1);
                let mut count = total_ticks.div_ceil(u128::from(duration) * 1000);
                if let Some(end) = t.end_number {
                    let last = end.checked_sub(start).ok_or_else(|| {
                        format!("image Representation {id}: endNumber {end} is before startNumber {start}")
                    })?;
                    count = count.min(u128::from(last) + 1);
                }
                let count = usize::try_from(count)
                    .ok()
                    .filter(|c| *c <= budget)
                    .ok_or("the MPD names more segments than are checked")?;
                budget -= count;
                let mut sheets = Vec::with_capacity(count);
                for k in 0..count as u64 {
                    let number = start.saturating_add(k);
                    let vars = Vars {
                        representation_id: id,
                        number,
                        bandwidth: r.bandwidth,
                        time: k.saturating_mul(duration),
                    };
                    let u =
                        expand(&t.media, &vars).map_err(|e| format!("Representation {id}: {e}"))?;
                    sheets.push(
                        resolve(mpd_path, &u, strictness)
                            .map_err(|e| format!("Representation {id}: {e}"))?,
                    );
                }
                out.push(ImageFiles {
                    set,
                    id: id.clone(),
                    mime_type: a.mime_type.clone(),
                    bandwidth: r.bandwidth,
                    width: r.width,
                    height: r.height,
                    tiles: r
                        .essential_property
                        .as_ref()
                        .filter(|p| p.scheme_id_uri == THUMBNAIL_SCHEME)
                        .and_then(|p| parse_tiles(&p.value)),
                    timescale,
                    duration,
                    sheets,
                });
            }
        }
    }
    Ok(out)
}

/// The package paths the MPD at package path `path` names, each once, as the origin checks an upload:
/// UTF-8, parses as an MPD upcast accepts ([`Mpd::parse`]), every URL inside the package under its path
/// rules.
pub fn package_references(path: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{path} is not UTF-8: {e}"))?;
    let mpd = Mpd::parse(text).map_err(|e| format!("{path}: {e}"))?;
    let reps = representations(path, &mpd, 200_000, Strictness::Package)
        .map_err(|e| format!("{path}: {e}"))?;
    let texts = text_files(path, &mpd, Strictness::Package).map_err(|e| format!("{path}: {e}"))?;
    let images =
        image_files(path, &mpd, 10_000, Strictness::Package).map_err(|e| format!("{path}: {e}"))?;
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = texts.into_iter().map(|t| t.path).collect();
    out.extend(images.into_iter().flat_map(|i| i.sheets));
    for r in &reps {
        for p in std::iter::once(&r.init).chain(r.segments.iter().map(|s| &s.path)) {
            if seen.insert(p.clone()) {
                out.push(p.clone());
            }
        }
    }
    Ok(out)
}
