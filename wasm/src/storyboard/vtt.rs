//! The storyboard's WebVTT thumbnail track: writing one from a [`Plan`] and checking one (W3C WebVTT § 4,
//! with the thumbnail payload `sheet.webp#xywh=x,y,w,h` of Media Fragments URI § 4.2.2, spatial dimension
//! in pixels). The checker reads only what a thumbnail track needs: the `WEBVTT` header, cue timings and
//! one-line payloads; every problem names its line.

use super::plan::Plan;
use crate::layout::{self, Picture};

/// At most this many cues are read: a storyboard has [`super::plan::MAX_TILES`]; a hostile track cannot
/// make the checker build a long list.
pub const MAX_CUES: usize = 10_000;

/// The thumbnail track of `plan` whose sheets are `picture` files.
pub fn write(plan: &Plan, picture: Picture) -> String {
    let mut out = String::from("WEBVTT\n");
    for t in plan.tiles() {
        out.push_str(&format!(
            "\n{} --> {}\n{}#xywh={},{},{},{}\n",
            timestamp(t.start_ms),
            timestamp(t.end_ms),
            layout::storyboard_sheet(t.sheet, picture),
            t.x,
            t.y,
            plan.tile_width,
            plan.tile_height
        ));
    }
    out
}

/// WebVTT timestamps (§ 4.5; hours may pass 99) are read and written by the caption reader's one
/// implementation.
pub use crate::captions::timestamp::format as timestamp;

/// One cue of a thumbnail track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cue {
    /// 1-based line of the timing line.
    pub line: usize,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The sheet, relative to the track.
    pub sheet: String,
    /// x, y, w, h in pixels.
    pub xywh: [u32; 4],
}

/// A problem with a thumbnail track, at a 1-based line (0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

fn problem(line: usize, message: impl Into<String>) -> Problem {
    Problem {
        line,
        message: message.into(),
    }
}

/// The cues of a thumbnail track; the first problem that stops reading it is the error.
pub fn parse(text: &str) -> Result<Vec<Cue>, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.first().copied().unwrap_or("");
    if !(header == "WEBVTT" || header.starts_with("WEBVTT ") || header.starts_with("WEBVTT\t")) {
        return Err(problem(1, "a WebVTT file starts with the line WEBVTT"));
    }
    let mut cues = Vec::new();
    let mut i = 1;
    while i < lines.len() {
        let l = lines[i].trim_end();
        if l.is_empty() {
            i += 1;
            continue;
        }
        if l.starts_with("NOTE") || l.starts_with("STYLE") || l.starts_with("REGION") {
            i = skip_block(&lines, i);
            continue;
        }
        // An optional cue identifier line before the timing line.
        let at = if l.contains("-->") { i } else { i + 1 };
        let timing = lines.get(at).map_or("", |s| s.trim_end());
        let (start_ms, end_ms) = parse_timing(timing).map_err(|m| problem(at + 1, m))?;
        let payload = lines.get(at + 1).map_or("", |s| s.trim());
        let (sheet, xywh) = parse_payload(payload).map_err(|m| problem(at + 2, m))?;
        if cues.len() >= MAX_CUES {
            return Err(problem(at + 1, format!("more than {MAX_CUES} cues")));
        }
        cues.push(Cue {
            line: at + 1,
            start_ms,
            end_ms,
            sheet,
            xywh,
        });
        i = skip_block(&lines, at);
    }
    Ok(cues)
}

/// The index of the first line after the block starting at `i` (blocks end at a blank line).
fn skip_block(lines: &[&str], mut i: usize) -> usize {
    while i < lines.len() && !lines[i].trim().is_empty() {
        i += 1;
    }
    i
}

/// `start --> end [settings]`.
fn parse_timing(l: &str) -> Result<(u64, u64), String> {
    let Some((a, b)) = l.split_once("-->") else {
        return Err(format!(
            "expected a cue timing line `start --> end`, found {l:?}"
        ));
    };
    let b = b.split_whitespace().next().unwrap_or("");
    let start =
        parse_time(a.trim()).ok_or_else(|| format!("{:?} is not a WebVTT timestamp", a.trim()))?;
    let end = parse_time(b).ok_or_else(|| format!("{b:?} is not a WebVTT timestamp"))?;
    if end <= start {
        return Err(format!(
            "the cue ends ({b}) before it starts ({})",
            a.trim()
        ));
    }
    Ok((start, end))
}

/// `[hh:]mm:ss.ttt` in milliseconds (WebVTT § 4.5), read as caption files' are.
pub fn parse_time(s: &str) -> Option<u64> {
    crate::captions::timestamp::parse(s, crate::captions::timestamp::Flavour::Vtt).ok()
}

/// `name.webp#xywh=x,y,w,h`.
fn parse_payload(p: &str) -> Result<(String, [u32; 4]), String> {
    let Some((sheet, frag)) = p.split_once("#xywh=") else {
        return Err(format!(
            "expected a thumbnail `sheet.webp#xywh=x,y,w,h`, found {p:?}"
        ));
    };
    let nums: Vec<Option<u32>> = frag.split(',').map(|n| n.trim().parse().ok()).collect();
    match nums.as_slice() {
        [Some(x), Some(y), Some(w), Some(h)] if *w > 0 && *h > 0 => {
            Ok((sheet.to_string(), [*x, *y, *w, *h]))
        }
        _ => Err(format!(
            "#xywh= takes four whole numbers x,y,w,h with w and h above 0, found {frag:?}"
        )),
    }
}

/// What the checker knows about a sheet a cue names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sheet {
    /// Not in the package.
    Missing,
    /// Present; its pixel size could not be read from its header.
    Present,
    /// Present, this many pixels wide and high.
    Sized(u32, u32),
}

/// Check a thumbnail track: cues in time order without overlaps or gaps, the first at 0 and the last
/// ending at the video's end (within one interval when `duration_ms` is known), every sheet present and
/// every `xywh` inside its sheet when its size is known. `sheet(name)` looks up a sheet (a name relative
/// to the track).
pub fn check(text: &str, duration_ms: Option<u64>, sheet: &dyn Fn(&str) -> Sheet) -> Vec<Problem> {
    let cues = match parse(text) {
        Ok(c) => c,
        Err(p) => return vec![p],
    };
    let mut out = Vec::new();
    let Some(first) = cues.first() else {
        return vec![problem(0, "the thumbnail track has no cues")];
    };
    // Half a second of slack: a video's first frame may start a little after 0.
    if first.start_ms > 500 {
        out.push(problem(
            first.line,
            format!(
                "the first thumbnail starts at {} instead of 0: the start of the video has none",
                timestamp(first.start_ms)
            ),
        ));
    }
    for w in cues.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if b.start_ms < a.end_ms {
            out.push(problem(b.line, format!("this cue starts at {} before the previous one ends ({}): thumbnail times must increase", timestamp(b.start_ms), timestamp(a.end_ms))));
        } else if b.start_ms > a.end_ms {
            out.push(problem(
                b.line,
                format!(
                    "a gap from {} to {}: no thumbnail for that time",
                    timestamp(a.end_ms),
                    timestamp(b.start_ms)
                ),
            ));
        }
    }
    if let (Some(d), Some(last)) = (duration_ms, cues.last()) {
        let interval = cues
            .iter()
            .map(|c| c.end_ms - c.start_ms)
            .max()
            .unwrap_or(0);
        if last.end_ms + interval.max(1000) < d {
            out.push(problem(
                last.line,
                format!(
                    "the last thumbnail ends at {} but the video lasts {}",
                    timestamp(last.end_ms),
                    timestamp(d)
                ),
            ));
        }
        if last.start_ms >= d + 1000 {
            out.push(problem(
                last.line,
                format!(
                    "this thumbnail starts at {}, after the video's end ({})",
                    timestamp(last.start_ms),
                    timestamp(d)
                ),
            ));
        }
    }
    check_sheets(&cues, sheet, &mut out);
    out
}

/// Every named sheet present, every rectangle inside its sheet; one problem per sheet for a missing one.
fn check_sheets(cues: &[Cue], sheet: &dyn Fn(&str) -> Sheet, out: &mut Vec<Problem>) {
    let mut missing: Vec<&str> = Vec::new();
    for c in cues {
        if !is_sheet_name(&c.sheet) {
            out.push(problem(
                c.line + 1,
                format!(
                    "{:?} is not a sheet beside the track (a file name like sheet_001.webp)",
                    c.sheet
                ),
            ));
            continue;
        }
        match sheet(&c.sheet) {
            Sheet::Missing if !missing.contains(&c.sheet.as_str()) => {
                missing.push(&c.sheet);
                out.push(problem(
                    c.line + 1,
                    format!("the sheet {} is not in the package", c.sheet),
                ));
            }
            Sheet::Sized(w, h) => {
                let [x, y, cw, ch] = c.xywh.map(u64::from);
                if x + cw > u64::from(w) || y + ch > u64::from(h) {
                    out.push(problem(
                        c.line + 1,
                        format!(
                            "#xywh={x},{y},{cw},{ch} reaches outside {} ({w} x {h} px)",
                            c.sheet
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
}

/// A `.jpg`/`.webp` file name without directories (a sheet lives beside its track).
fn is_sheet_name(name: &str) -> bool {
    !name.contains('/')
        && layout::check_package_path(&layout::in_dir(layout::STORYBOARD_DIR, name))
            .is_ok_and(|k| matches!(k, layout::FileKind::Image(_)))
}
