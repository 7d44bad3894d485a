//! Cue timestamps: WebVTT's `[hh:]mm:ss.ttt` (hours any number of digits, at least two when present) and
//! SRT's `hh:mm:ss,ttt`, both to milliseconds; and back to WebVTT text.

/// Which separator comes before the milliseconds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    Vtt,
    /// SRT writes a comma; a dot is accepted too (many files mix them).
    Srt,
}

fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 12 {
        return None;
    }
    s.parse().ok()
}

/// Milliseconds of one timestamp, or a description of what was expected.
pub(crate) fn parse(s: &str, flavour: Flavour) -> Result<u64, String> {
    let expected = || match flavour {
        Flavour::Vtt => format!("expected a timestamp like 00:01:02.345 or 01:02.345, found {s:?}"),
        Flavour::Srt => format!("expected a timestamp like 00:01:02,345, found {s:?}"),
    };
    let (clock, frac) = match flavour {
        Flavour::Vtt => s.split_once('.'),
        Flavour::Srt => s.split_once(',').or_else(|| s.split_once('.')),
    }
    .ok_or_else(expected)?;
    if frac.len() != 3 {
        return Err(expected());
    }
    let ms = digits(frac).ok_or_else(expected)?;
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, m, sec) = match (parts.as_slice(), flavour) {
        ([m, s], Flavour::Vtt) => ("0", *m, *s),
        ([h, m, s], Flavour::Vtt) if h.len() >= 2 => (*h, *m, *s),
        ([h, m, s], Flavour::Srt) => (*h, *m, *s),
        _ => return Err(expected()),
    };
    if m.len() != 2 || sec.len() != 2 {
        return Err(expected());
    }
    let (h, m, sec) = (
        digits(h).ok_or_else(expected)?,
        digits(m).ok_or_else(expected)?,
        digits(sec).ok_or_else(expected)?,
    );
    if m > 59 || sec > 59 {
        return Err(format!("{s:?}: minutes and seconds go up to 59"));
    }
    h.checked_mul(3_600_000)
        .and_then(|h| h.checked_add(m * 60_000 + sec * 1000 + ms))
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// `hh:mm:ss.ttt`, with more hour digits when needed (WebVTT allows any number).
pub fn format(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    format!(
        "{h:02}:{:02}:{:02}.{:03}",
        rest / 60_000,
        rest % 60_000 / 1000,
        rest % 1000
    )
}

/// Split a timing line's `start --> end rest` into its three parts, or say what was expected.
pub(crate) fn timing_line(line: &str, flavour: Flavour) -> Result<(u64, u64, &str), String> {
    let (start, rest) = line
        .split_once("-->")
        .ok_or("expected a cue timing line: \"start --> end\"")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let end_len = rest.find([' ', '\t']).unwrap_or(rest.len());
    let (end, settings) = rest.split_at(end_len);
    let start = parse(start.trim_matches([' ', '\t']), flavour)?;
    let end = parse(end, flavour)?;
    Ok((start, end, settings.trim_matches([' ', '\t'])))
}
