//! SubRip (`.srt`): numbered blocks of a `hh:mm:ss,ttt --> hh:mm:ss,ttt` line and text, read into the
//! same model as WebVTT. Its markup is turned into WebVTT's: `<b>`, `<i>`, `<u>` kept, `<font>` and other
//! tags dropped, `{\anN}` positions become `line`/`align` settings, other `{\...}` overrides dropped, and
//! `&`, `<` escaped where they are not markup.

use super::cue::{Cue, Track};
use super::timestamp::{timing_line, Flavour};
use super::vtt::{blocks, drop_empty_spans, lines};
use super::{TextError, TextLimits};

pub(crate) fn parse(text: &str, limits: &TextLimits) -> Result<Track, TextError> {
    let all = lines(text);
    let mut track = Track::default();
    for block in blocks(&all) {
        let (n0, l0) = block[0];
        let timing_at = usize::from(!l0.contains("-->"));
        if timing_at == 1 && !l0.trim().bytes().all(|b| b.is_ascii_digit()) {
            let what = if track.cues.is_empty() && n0 == 1 {
                "neither WebVTT (no \"WEBVTT\" line) nor SRT: expected a cue number".to_string()
            } else {
                format!("expected a cue number or a timing line, found {l0:?}")
            };
            return Err(TextError::at(n0, what));
        }
        let Some(&(n, timing)) = block.get(timing_at) else {
            return Err(TextError::at(
                n0,
                "expected a timing line \"00:00:01,000 --> 00:00:02,000\" after the cue number",
            ));
        };
        let (start_ms, end_ms, rest) =
            timing_line(timing, Flavour::Srt).map_err(|e| TextError::at(n, e))?;
        if !rest.is_empty() && !rest.starts_with("X1:") {
            return Err(TextError::at(
                n,
                format!("unexpected {rest:?} after the end time"),
            ));
        }
        let raw: Vec<&str> = block[timing_at + 1..].iter().map(|(_, l)| *l).collect();
        let (text, settings) = markup(&raw.join("\n"));
        track.cues.push(Cue {
            id: None,
            start_ms,
            end_ms,
            settings,
            text,
            line: n,
        });
        if track.cues.len() > limits.max_cues {
            return Err(TextError::Limit(format!(
                "more than {} cues (line {n})",
                limits.max_cues
            )));
        }
    }
    drop_empty_spans(&mut track);
    Ok(track)
}

const KEPT_TAGS: [&str; 6] = ["b", "i", "u", "/b", "/i", "/u"];

/// SRT text to WebVTT cue text, and the cue settings an `{\anN}` asks for.
fn markup(s: &str) -> (String, String) {
    let mut out = String::with_capacity(s.len());
    let mut settings = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest.find('>') {
                let tag = rest[1..end].trim().to_ascii_lowercase();
                if KEPT_TAGS.contains(&tag.as_str()) {
                    out.push_str(&format!("<{tag}>"));
                }
                rest = &rest[end + 1..];
                continue;
            }
            out.push_str("&lt;");
        } else if c == '{' && rest.starts_with("{\\") {
            if let Some(end) = rest.find('}') {
                if let Some(pos) = rest[..end].strip_prefix("{\\an") {
                    settings = position(pos);
                }
                rest = &rest[end + 1..];
                continue;
            }
            out.push(c);
        } else if c == '&' && !is_entity(rest) {
            out.push_str("&amp;");
        } else if c == '>' {
            out.push_str("&gt;");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    (out, settings)
}

fn is_entity(s: &str) -> bool {
    let Some(end) = s.find(';') else {
        return false;
    };
    let body = &s[1..end];
    (1..=8).contains(&body.len())
        && (body.bytes().all(|b| b.is_ascii_alphanumeric())
            || body
                .strip_prefix('#')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_alphanumeric())))
}

/// `{\anN}`: numpad positions (1–3 bottom, 4–6 middle, 7–9 top; left, centre, right).
fn position(n: &str) -> String {
    let Ok(n @ 1..=9) = n.parse::<u8>() else {
        return String::new();
    };
    let line = match n {
        7..=9 => Some("line:0"),
        4..=6 => Some("line:50%"),
        _ => None,
    };
    let align = match n % 3 {
        1 => Some("align:start"),
        0 => Some("align:end"),
        _ => None,
    };
    line.into_iter().chain(align).collect::<Vec<_>>().join(" ")
}
