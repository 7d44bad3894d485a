//! Chapters: (start, title) pairs → a WebVTT chapters track (W3C WebVTT § 2.2 "chapter title text"):
//! one cue per chapter, from its start to the next chapter's start (the last to the video's end), the
//! title as the cue's text. Read from typed lines (`1:02:03 Title`, YouTube's description form) or from
//! a WebVTT chapters file.

use super::timestamp::format;
use super::TextLimits;

/// Most chapters a video may have.
pub const MAX_CHAPTERS: usize = 500;
/// Longest chapter title, characters.
pub const MAX_TITLE: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chapter {
    pub start_ms: u64,
    pub title: String,
}

/// `[[h:]m:]s[.fff]` (minutes and seconds up to 59 after the first field).
fn clock(s: &str) -> Option<u64> {
    let (clock, frac_ms) = match s.split_once('.') {
        Some((c, f)) if (1..=3).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => (
            c,
            f.parse::<u64>().ok()? * 10u64.pow(3 - u32::try_from(f.len()).ok()?),
        ),
        Some(_) => return None,
        None => (s, 0),
    };
    let mut ms = 0u64;
    for (i, part) in clock.split(':').enumerate() {
        if i > 2 || part.is_empty() || part.len() > 9 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u64 = part.parse().ok()?;
        if i > 0 && (v > 59 || part.len() != 2) {
            return None;
        }
        ms = ms.checked_mul(60)?.checked_add(v)?;
    }
    ms.checked_mul(1000)?.checked_add(frac_ms)
}

/// Chapters from typed lines, one per line: a time then the title (`0:00 Intro`, `12:30 - Part two`,
/// `1:02:03.500 End`); blank lines skipped. Also reads a WebVTT chapters file (cue starts and texts).
/// Errors name the line and what was expected.
pub fn parse_chapter_list(text: &str) -> Result<Vec<Chapter>, String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.starts_with("WEBVTT") {
        let track =
            super::parse(body.as_bytes(), &TextLimits::default()).map_err(|e| e.to_string())?;
        return Ok(track
            .cues
            .into_iter()
            .map(|c| Chapter {
                start_ms: c.start_ms,
                title: c.text.replace('\n', " "),
            })
            .collect());
    }
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (time, title) = line.split_once([' ', '\t']).unwrap_or((line, ""));
        let start_ms = clock(time).ok_or_else(|| {
            format!(
                "line {}: expected a time (like 0:00, 12:30 or 1:02:03.5) then a title, found {time:?}",
                i + 1
            )
        })?;
        let title = title.trim().trim_start_matches(['-', '–', '|', ':']).trim();
        out.push(Chapter {
            start_ms,
            title: title.to_string(),
        });
    }
    Ok(out)
}

/// The chapters of `list` that start before `end_ms` (a source's chapter list may run past the packaged
/// media, or be left from a longer edit).
pub fn before_end(list: &[Chapter], end_ms: u64) -> Vec<Chapter> {
    list.iter()
        .filter(|c| c.start_ms < end_ms)
        .cloned()
        .collect()
}

/// The chapters a package gets: the typed ones when there are any (they win), else the source's when
/// `use_source`, else none.
pub fn choose(
    typed: Option<Vec<Chapter>>,
    source: Vec<Chapter>,
    use_source: bool,
) -> Option<Vec<Chapter>> {
    match typed {
        Some(t) if !t.is_empty() => Some(t),
        _ if use_source && !source.is_empty() => Some(source),
        _ => None,
    }
}

fn escape(title: &str) -> String {
    title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The chapters track of a video lasting `end_ms`: chapters sorted by start; refused when there are none,
/// too many, a title is empty or too long, two start together, or one starts at or after the end.
pub fn chapters_vtt(chapters: &[Chapter], end_ms: u64) -> Result<String, String> {
    if chapters.is_empty() || chapters.len() > MAX_CHAPTERS {
        return Err(format!(
            "{} chapters: 1 to {MAX_CHAPTERS} expected",
            chapters.len()
        ));
    }
    let mut sorted = chapters.to_vec();
    sorted.sort_by_key(|c| c.start_ms);
    for (i, c) in sorted.iter().enumerate() {
        let n = c.title.chars().count();
        if n == 0 || n > MAX_TITLE || c.title.contains(['\n', '\r']) {
            return Err(format!(
                "chapter at {}: a title is one line of 1 to {MAX_TITLE} characters",
                format(c.start_ms)
            ));
        }
        if c.start_ms >= end_ms {
            return Err(format!(
                "chapter {:?} starts at {}, not before the video's end ({})",
                c.title,
                format(c.start_ms),
                format(end_ms)
            ));
        }
        if i > 0 && sorted[i - 1].start_ms == c.start_ms {
            return Err(format!("two chapters start at {}", format(c.start_ms)));
        }
    }
    let mut out = String::from("WEBVTT\n");
    for (i, c) in sorted.iter().enumerate() {
        let end = sorted.get(i + 1).map_or(end_ms, |n| n.start_ms);
        out.push_str(&format!(
            "\nchapter-{}\n{} --> {}\n{}\n",
            i + 1,
            format(c.start_ms),
            format(end),
            escape(&c.title)
        ));
    }
    Ok(out)
}
