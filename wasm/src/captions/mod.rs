//! Captions, subtitles and chapters: WebVTT and SRT read into one model ([`Track`]), written back as
//! normalised WebVTT, cut into HLS subtitle segments on the video's segment boundaries, and announced in
//! the multivariant playlist and the MPD ([`attach`]); a chapters track from (time, title) pairs.
//!
//! Written by hand: none of the named libraries reads WebVTT or SRT (m3u8-rs and `mp4` stop at the
//! playlist and the box), and the subtitle playlists themselves go through m3u8-rs.
//!
//! Times are integer milliseconds (WebVTT's resolution) in names ending `_ms`; segment boundaries are
//! microseconds (`_us`, what EXTINF's six decimals carry).

pub mod attach;
pub mod build;
pub mod chapters;
pub mod cue;
pub mod segment;
mod srt;
pub(crate) mod timestamp;
mod vtt;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_segment;

pub use attach::{attach, captions_in_master, first_variant, CaptionFiles, CaptionInfo};
pub use build::{add_text, CaptionInput, InputError, Manifests, TextOutcome, TextRequest};
pub use chapters::{chapters_vtt, parse_chapter_list, Chapter};
pub use cue::{Cue, Track};
pub use segment::{segment_track, Timeline};

/// The chapters track's path, at the package root.
pub const CHAPTERS: &str = "chapters.vtt";
/// The group every subtitle rendition belongs to (`EXT-X-MEDIA GROUP-ID`, `SUBTITLES=` on each variant).
pub const GROUP: &str = "subs";
/// The whole-file WebVTT of a subtitle rendition, inside its directory: the MPD's BaseURL.
pub const WHOLE_FILE: &str = "all.vtt";

/// Bounds on a caption file (untrusted input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TextLimits {
    /// Largest caption file, bytes (the origin's `--max-caption-bytes`).
    pub max_bytes: usize,
    /// Most cues in one file.
    pub max_cues: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        TextLimits {
            max_bytes: 5 << 20,
            max_cues: 50_000,
        }
    }
}

/// Why a caption file was refused: the line (1-based) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("line {line}: {msg}")]
    Syntax { line: usize, msg: String },
    #[error("over the limit: {0}")]
    Limit(String),
}

impl TextError {
    pub(crate) fn at(line: usize, msg: impl Into<String>) -> Self {
        TextError::Syntax {
            line,
            msg: msg.into(),
        }
    }

    /// A stable kebab-case code (the origin's JSON errors, the page's messages).
    pub fn code(&self) -> &'static str {
        match self {
            TextError::Syntax { .. } => "bad-captions",
            TextError::Limit(_) => "captions-over-limit",
        }
    }

    /// The line the error names, when it names one.
    pub fn line(&self) -> Option<usize> {
        match self {
            TextError::Syntax { line, .. } => Some(*line),
            TextError::Limit(_) => None,
        }
    }
}

/// Read a caption file, WebVTT or SRT (told apart by the `WEBVTT` signature after an optional BOM), within
/// `limits`.
pub fn parse(bytes: &[u8], limits: &TextLimits) -> Result<Track, TextError> {
    if bytes.len() > limits.max_bytes {
        return Err(TextError::Limit(format!(
            "the file is {} bytes; at most {} are accepted",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
        TextError::at(line, format!("not UTF-8 (byte {offset})"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut track = if text.starts_with("WEBVTT") {
        vtt::parse(text, limits)?
    } else {
        srt::parse(text, limits)?
    };
    track.sort_and_report();
    Ok(track)
}

/// A language tag in BCP 47's conventional case (RFC 5646 § 2.1.1: the language lowercase, a four-letter
/// script titlecase, a two-letter region uppercase: `pt-br` → `pt-BR`, `zh-hant-tw` → `zh-Hant-TW`), so
/// LANGUAGE and the MPD's `lang` keep the case people write and two spellings of one tag compare equal.
/// Letters, digits and hyphens, 2 to 35 bytes, starting with a letter. Directory names use it lowercased.
pub fn language_tag(lang: &str) -> Result<String, String> {
    let l = lang.trim().to_ascii_lowercase();
    let ok = (2..=35).contains(&l.len())
        && l.starts_with(|c: char| c.is_ascii_lowercase())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !l.ends_with('-')
        && !l.contains("--");
    if !ok {
        return Err(format!(
            "{lang:?} is not a language tag (BCP 47: letters, digits and hyphens, e.g. en, pt-BR)"
        ));
    }
    let mut out = Vec::new();
    let mut after_singleton = false;
    for (i, sub) in l.split('-').enumerate() {
        let cased = if i == 0 || after_singleton {
            sub.to_string()
        } else if sub.len() == 2 && sub.bytes().all(|b| b.is_ascii_alphabetic()) {
            sub.to_ascii_uppercase()
        } else if sub.len() == 4 && sub.bytes().all(|b| b.is_ascii_alphabetic()) {
            let mut c = sub.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        } else {
            sub.to_string()
        };
        // After an extension or private-use singleton (`-u-`, `-x-`), subtags keep lowercase.
        if sub.len() == 1 {
            after_singleton = true;
        }
        out.push(cased);
    }
    Ok(out.join("-"))
}
