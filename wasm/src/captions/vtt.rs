//! WebVTT (W3C WebVTT § 4 file structure): the `WEBVTT` signature line and header, then blocks separated
//! by blank lines: NOTE comments (dropped), STYLE and REGION blocks before the first cue (kept as
//! written), and cues (optional identifier, timing line with settings, payload). Stricter than the
//! browser's lenient parser where leniency would hide a mistake: a block that is no cue is an error
//! naming its line.

use super::cue::{Cue, Track};
use super::timestamp::{timing_line, Flavour};
use super::{TextError, TextLimits};

/// Lines with their 1-based numbers; CRLF, CR and LF all end a line (§ 4.1).
pub(crate) fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut n = 1;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        out.push((n, &rest[..end]));
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        n += 1;
    }
    out
}

/// Blocks: runs of non-empty lines.
pub(crate) fn blocks<'a>(lines: &[(usize, &'a str)]) -> Vec<Vec<(usize, &'a str)>> {
    lines
        .split(|(_, l)| l.trim_matches([' ', '\t']).is_empty())
        .filter(|b| !b.is_empty())
        .map(<[_]>::to_vec)
        .collect()
}

fn keyword(line: &str, word: &str) -> bool {
    line.strip_prefix(word)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

pub(crate) fn parse(text: &str, limits: &TextLimits) -> Result<Track, TextError> {
    let all = lines(text);
    let Some(&(_, first)) = all.first() else {
        return Err(TextError::at(1, "expected \"WEBVTT\""));
    };
    if !keyword(first, "WEBVTT") {
        return Err(TextError::at(
            1,
            "expected \"WEBVTT\" alone or followed by a space or tab",
        ));
    }
    // The header runs to the first blank line; its lines (X-TIMESTAMP-MAP, old metadata) are not kept:
    // the segmenter writes its own timestamp map.
    let body_start = all
        .iter()
        .position(|(_, l)| l.trim_matches([' ', '\t']).is_empty())
        .unwrap_or(all.len());
    let mut track = Track::default();
    for block in blocks(&all[body_start..]) {
        let (n, head) = block[0];
        if keyword(head, "NOTE") {
            continue;
        }
        if (keyword(head, "STYLE") || keyword(head, "REGION")) && !head.contains("-->") {
            if !track.cues.is_empty() {
                return Err(TextError::at(
                    n,
                    format!("a {} block must come before the first cue", head.trim()),
                ));
            }
            let lines: Vec<&str> = block.iter().map(|(_, l)| *l).collect();
            track.blocks.push(lines.join("\n"));
            continue;
        }
        track.cues.push(cue(&block)?);
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

/// A cue whose end is not after its start is never shown; it is dropped with a warning (many tools write
/// zero-length cues) rather than refusing the file.
pub(crate) fn drop_empty_spans(track: &mut Track) {
    let mut dropped = Vec::new();
    track.cues.retain(|c| {
        let keep = c.end_ms > c.start_ms;
        if !keep {
            dropped.push(c.line);
        }
        keep
    });
    if let Some(first) = dropped.first() {
        track.warnings.push(format!(
            "line {first}: {} cue(s) end at or before their start and were dropped",
            dropped.len()
        ));
    }
}

fn cue(block: &[(usize, &str)]) -> Result<Cue, TextError> {
    let (n0, l0) = block[0];
    let (id, timing_at) = if l0.contains("-->") {
        (None, 0)
    } else {
        (Some(l0.to_string()), 1)
    };
    let timing = block.get(timing_at).filter(|(_, l)| l.contains("-->"));
    let Some(&(n, timing)) = timing else {
        return Err(TextError::at(
            n0,
            format!(
                "{l0:?} is not a cue: expected a timing line \"00:00:01.000 --> 00:00:02.000\" \
                 (or NOTE, STYLE, REGION)"
            ),
        ));
    };
    let (start_ms, end_ms, settings) =
        timing_line(timing, Flavour::Vtt).map_err(|e| TextError::at(n, e))?;
    let payload = &block[timing_at + 1..];
    if let Some((n, _)) = payload.iter().find(|(_, l)| l.contains("-->")) {
        return Err(TextError::at(
            *n,
            "cue text may not contain \"-->\" (a blank line is missing before this cue?)",
        ));
    }
    Ok(Cue {
        id,
        start_ms,
        end_ms,
        settings: settings.split_whitespace().collect::<Vec<_>>().join(" "),
        text: payload
            .iter()
            .map(|(_, l)| l.replace('\0', "\u{fffd}"))
            .collect::<Vec<_>>()
            .join("\n"),
        line: n,
    })
}
