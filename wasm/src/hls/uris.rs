//! Every URI a playlist holds, with its line and where it came from: URI lines, and every attribute whose
//! name is `URI`, ends in `-URI` or is `X-ASSET-LIST` (interstitials), in every tag, known or not, quoted or
//! unquoted. One extractor for the browser, the CLI's checker and the origin's upload check.
//!
//! The contract: every URI a player could act on is in [`PlaylistUris::uris`], or
//! [`PlaylistUris::errors`] is not empty. A conformant parser reads lines and attribute lists as RFC 8216bis
//! § 4 says; hls.js (src/loader/m3u8-parser.ts) reads them with unanchored regexes, so this also refuses
//! what would make the two disagree:
//! - a CR not followed by LF, other control characters, U+2028 and U+2029: hls.js ends lines at all of them;
//! - `#EXT` anywhere but at the start of a line: hls.js finds `#EXT-X-CONTENT-STEERING:`,
//!   `#EXT-X-SESSION-KEY:` and the other multivariant tags inside comments, quoted strings and URI lines;
//! - an attribute list that does not parse ([`super::attr_list`]), in a tag whose value is one or in any
//!   other tag whose value holds `URI` in any case;
//! - an `#EXTINF` whose duration is followed by anything but a comma: hls.js reads the rest as a segment URI
//!   (`#EXTINF:10http://host/x.m4s`), as it does with the title of an `#EXTINF` on an unterminated last line.

use super::attr_list;
use super::resolve::{resolve, Strictness};
use std::collections::HashSet;
use std::fmt;

/// Where a URI came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriSource<'a> {
    /// A URI line: a media segment, or the variant after `EXT-X-STREAM-INF`.
    Line,
    /// An attribute of a tag, both without their punctuation (`EXT-X-KEY`, `URI`).
    Attribute { tag: &'a str, name: &'a str },
}

impl fmt::Display for UriSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriSource::Line => f.write_str("URI line"),
            UriSource::Attribute { tag, name } => write!(f, "{tag} {name}"),
        }
    }
}

/// One URI, borrowed from the playlist text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaylistUri<'a> {
    /// 1-based line.
    pub line: usize,
    pub source: UriSource<'a>,
    /// The URI as written (a URI line trimmed, a quoted value without its quotes).
    pub uri: &'a str,
}

/// A line whose URIs cannot be told for sure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    pub message: String,
}

/// What [`playlist_uris`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaylistUris<'a> {
    pub uris: Vec<PlaylistUri<'a>>,
    pub errors: Vec<SyntaxError>,
}

/// Past this many errors the extraction stops: the playlist is refused anyway.
pub const MAX_ERRORS: usize = 100;

/// An attribute whose value a player fetches: `URI` (EXT-X-KEY, EXT-X-SESSION-KEY, EXT-X-MAP, EXT-X-MEDIA,
/// EXT-X-I-FRAME-STREAM-INF, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT, EXT-X-SESSION-DATA,
/// EXT-X-IMAGE-STREAM-INF, …), any `*-URI` (`SERVER-URI` of EXT-X-CONTENT-STEERING, `X-ASSET-URI` of
/// EXT-X-DATERANGE), and `X-ASSET-LIST` (an interstitial's asset list, which hls.js fetches).
pub fn names_uri(name: &str) -> bool {
    name == "URI" || name.ends_with("-URI") || name == "X-ASSET-LIST"
}

/// Every URI in `text`, in line order, and every line that makes the list uncertain.
pub fn playlist_uris(text: &str) -> PlaylistUris<'_> {
    let mut out = PlaylistUris::default();
    let unterminated = !text.ends_with('\n');
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((i, raw)) = lines.next() {
        if out.errors.len() >= MAX_ERRORS {
            break;
        }
        let line_no = i + 1;
        let last = unterminated && lines.peek().is_none();
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Err(message) = scan_line(line, last, line_no, &mut out.uris) {
            out.errors.push(SyntaxError {
                line: line_no,
                message,
            });
        }
    }
    out
}

fn scan_line<'a>(
    line: &'a str,
    last: bool,
    line_no: usize,
    uris: &mut Vec<PlaylistUri<'a>>,
) -> Result<(), String> {
    if let Some(c) = line
        .chars()
        .find(|&c| (c.is_ascii_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(if c == '\r' {
            "a carriage return not followed by a line feed (players end the line there)".into()
        } else {
            format!(
                "control character U+{:04X} (RFC 8216 § 4.1; players may end the line there)",
                u32::from(c)
            )
        });
    }
    if line.match_indices("#EXT").any(|(at, _)| at > 0) {
        return Err(
            "#EXT inside a line: players look for tags anywhere, in comments and quoted strings too"
                .into(),
        );
    }
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(());
    }
    if !line.starts_with("#EXT") {
        if !line.starts_with('#') {
            uris.push(PlaylistUri {
                line: line_no,
                source: UriSource::Line,
                uri: trimmed,
            });
        }
        return Ok(()); // a URI line, or a comment
    }
    let Some((tag, value)) = line[1..].split_once(':') else {
        return Ok(()); // a tag without a value
    };
    if tag == "EXTINF" {
        return check_extinf(value, last);
    }
    if !value.contains('=') {
        return Ok(()); // a single value (a number, a date, an enumerated string), no attributes
    }
    let attrs = match attr_list::parse(value) {
        Ok(attrs) => attrs,
        Err(e) if ATTRIBUTE_LIST_TAGS.contains(&tag) || might_name_a_uri(value) => {
            return Err(format!("#{tag}: attribute list does not parse: {e}"));
        }
        // A tag of another grammar, such as `#EXT-OATCLS-SCTE35:<base64>==`: no parser, however lenient,
        // finds an attribute named like a URI in it.
        Err(_) => return Ok(()),
    };
    uris.extend(
        attrs
            .into_iter()
            .filter(|a| names_uri(a.name))
            .map(|a| PlaylistUri {
                line: line_no,
                source: UriSource::Attribute { tag, name: a.name },
                uri: a.value,
            }),
    );
    Ok(())
}

/// The tags whose value is an attribute list (RFC 8216bis § 4.4, and EXT-X-IMAGE-STREAM-INF and EXT-X-TILES
/// of Roku's image playlists): their lists must parse. Other tags holding a `=` must parse too when a
/// lenient parser could find a URI attribute in them ([`might_name_a_uri`]).
const ATTRIBUTE_LIST_TAGS: &[&str] = &[
    "EXT-X-KEY",
    "EXT-X-MAP",
    "EXT-X-DATERANGE",
    "EXT-X-SKIP",
    "EXT-X-PRELOAD-HINT",
    "EXT-X-RENDITION-REPORT",
    "EXT-X-PART",
    "EXT-X-PART-INF",
    "EXT-X-SERVER-CONTROL",
    "EXT-X-MEDIA",
    "EXT-X-STREAM-INF",
    "EXT-X-I-FRAME-STREAM-INF",
    "EXT-X-IMAGE-STREAM-INF",
    "EXT-X-TILES",
    "EXT-X-SESSION-DATA",
    "EXT-X-SESSION-KEY",
    "EXT-X-CONTENT-STEERING",
    "EXT-X-START",
    "EXT-X-DEFINE",
];

/// Whether some parser could read an attribute named like a URI ([`names_uri`]) in `value`: it holds
/// `URI` or `X-ASSET-LIST` in any case.
fn might_name_a_uri(value: &str) -> bool {
    let v = value.to_ascii_uppercase();
    v.contains("URI") || v.contains("X-ASSET-LIST")
}

/// `#EXTINF:<duration>[,<title>]`, with hls.js's duration grammar (`\s*\d*(\.\d+)?`): anything after the
/// duration but a comma and a title, or blanks, would become a segment URI in hls.js.
fn check_extinf(value: &str, last: bool) -> Result<(), String> {
    let v = value.trim_start_matches([' ', '\t']);
    let int = v.bytes().take_while(u8::is_ascii_digit).count();
    let mut end = int;
    if v[int..].starts_with('.') {
        let frac = v[int + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if frac > 0 {
            end += 1 + frac;
        }
    }
    let rest = &v[end..];
    if rest.starts_with(',') {
        if last {
            return Err(
                "#EXTINF with a title on the last line, without a line end: players read the title as a URI"
                    .into(),
            );
        }
        return Ok(());
    }
    if rest.trim().is_empty() {
        return Ok(());
    }
    Err(format!(
        "#EXTINF: {rest:?} after the duration (players read it as a segment URI)"
    ))
}

/// The package paths the playlist at package path `path` references, as the origin checks an upload: UTF-8,
/// starts with `#EXTM3U`, every URI from [`playlist_uris`] resolves inside the package under its path rules
/// ([`Strictness::Package`]), and the whole parses with m3u8-rs. Each path is listed once, in line order.
/// An error names the line and, for a URI, the tag and attribute it came from.
pub fn package_references(path: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{path} is not UTF-8: {e}"))?;
    if !text.starts_with("#EXTM3U") {
        return Err(format!("{path} does not start with #EXTM3U"));
    }
    let found = playlist_uris(text);
    if let Some(e) = found.errors.first() {
        return Err(format!("{path}:{}: {}", e.line, e.message));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for u in &found.uris {
        let p = resolve(path, u.uri, Strictness::Package)
            .map_err(|e| format!("{path}:{}: {}: {e}", u.line, u.source))?;
        if seen.insert(p.clone()) {
            out.push(p);
        }
    }
    m3u8_rs::parse_playlist_res(bytes).map_err(|_| format!("{path} does not parse as HLS"))?;
    Ok(out)
}

#[cfg(test)]
#[path = "uris_tests.rs"]
mod tests;
