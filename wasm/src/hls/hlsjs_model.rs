//! An independent model of what hls.js would fetch from a playlist, and the invariant the `check_playlist`
//! fuzz target (wasm/fuzz) and its regression test hold the URI extractor to: a playlist the origin accepts
//! names nothing, in any form hls.js reads, outside its video.
//!
//! The model over-approximates hls.js (src/loader/m3u8-parser.ts, src/utils/attr-list.ts at
//! afe5b8bf1a43): lines end at CR, LF, U+2028 and U+2029 as well as at CR and LF alone (the multivariant
//! regexes use `[^\r\n]`, `.` stops at all four); a tag is looked for at every `#EXT` in a line, not only at
//! its start (the multivariant regex is unanchored); attribute lists are split the way the regex
//! `(.+?)=(".*?"|.*?)(?:,|$)` splits them; what follows an `#EXTINF` duration other than a comma is a URI.
//! Not modelled: the title of an `#EXTINF` on an unterminated last line, which hls.js reads as a URI (the
//! extractor refuses that line, so the invariant below is never asked about it).

use super::resolve::{resolve, Strictness};
use super::uris::{package_references, playlist_uris};

/// The attributes hls.js resolves as URLs (`URI` of the keys, maps, renditions, I-frame variants, parts,
/// preload hints and rendition reports; `SERVER-URI` of content steering; the interstitial assets), written
/// out here rather than taken from the extractor, so the two are checked against each other.
const FOLLOWED: &[&str] = &["URI", "SERVER-URI", "X-ASSET-URI", "X-ASSET-LIST"];

/// Whether a browser resolving `uri` against the playlist at package path `base` (served under a video's
/// prefix, over http) lands outside the video: the WHATWG URL parser's relative resolution, reduced to
/// what decides that. Leading and trailing C0 controls and spaces are stripped, tabs and newlines removed,
/// `\` read as `/`; a scheme or a leading `/` leaves; `.`, `..` and their `%2e` spellings are dot segments.
pub fn leaves_the_video(base: &str, uri: &str) -> bool {
    let trimmed = uri.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let scheme_end = cleaned
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .filter(|&i| i > 0 && cleaned.as_bytes()[0].is_ascii_alphabetic());
    if scheme_end.is_some_and(|i| cleaned[i..].starts_with(':')) || cleaned.starts_with('/') {
        return true;
    }
    let path = cleaned.split(['?', '#']).next().unwrap_or("");
    let dir = base.rfind('/').map_or("", |i| &base[..=i]);
    let mut depth: usize = 0;
    let joined = format!("{dir}{path}");
    let segs: Vec<&str> = joined.split('/').collect();
    for (i, seg) in segs.iter().enumerate() {
        let lower = seg.to_ascii_lowercase().replace("%2e", ".");
        match lower.as_str() {
            "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ if i + 1 < segs.len() => depth += 1,
            _ => {}
        }
    }
    false
}

/// Every string hls.js might resolve as a URL from `text` (a superset).
pub fn hlsjs_uris(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let narrow: &[char] = &['\r', '\n'];
    let wide: &[char] = &['\r', '\n', '\u{2028}', '\u{2029}'];
    for ends in [narrow, wide] {
        for line in text.split(ends) {
            // `(?!#) *(\S[^\r\n]*)`: a line not starting with '#' is a URI, leading blanks skipped.
            let trimmed = line.trim();
            if !trimmed.is_empty() && !line.starts_with('#') {
                out.push(trimmed);
            }
            for (at, _) in line.match_indices("#EXT") {
                let Some((tag, value)) = line[at + 1..].split_once(':') else {
                    continue;
                };
                if tag == "EXTINF" {
                    let rest = extinf_rest(value).trim();
                    if !rest.is_empty() {
                        out.push(rest);
                    }
                    continue;
                }
                out.extend(
                    regex_attrs(value)
                        .into_iter()
                        .filter(|(name, _)| FOLLOWED.contains(name))
                        .map(|(_, value)| value),
                );
            }
        }
    }
    out
}

/// What hls.js's `#EXTINF:\s*(\d*(?:\.\d+)?)(?:,(.*)\s+)?` leaves after the duration when no title
/// follows: the start of the next match, which is a URI unless it is blank.
fn extinf_rest(value: &str) -> &str {
    let v = value.trim_start();
    let int = v.bytes().take_while(u8::is_ascii_digit).count();
    let frac = v[int..]
        .strip_prefix('.')
        .map_or(0, |f| f.bytes().take_while(u8::is_ascii_digit).count());
    let rest = &v[int + if frac > 0 { 1 + frac } else { 0 }..];
    if rest.starts_with(',') {
        // The title is taken when whitespace follows it; at the end of the text it is not.
        return "";
    }
    rest
}

/// The (trimmed name, value) pairs hls.js's attribute regex finds in `list`, quotes stripped as
/// `AttrList.parseAttrList` strips them.
fn regex_attrs(list: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut pos = 0;
    // `(.+?)=`: at least one character, then the first '=' (the rest of the regex always matches).
    while let Some(eq) = list.get(pos..).and_then(|s| {
        s.char_indices()
            .skip(1)
            .find(|&(_, c)| c == '=')
            .map(|(i, _)| pos + i)
    }) {
        let name = list[pos..eq].trim();
        let v0 = eq + 1;
        let after = &list[v0..];
        // `".*?"` followed by a comma or the end, the shortest first; else `.*?` up to a comma or the end.
        let quoted = after.strip_prefix('"').and_then(|q| {
            q.match_indices('"')
                .map(|(i, _)| i + 2)
                .find(|&end| matches!(after.as_bytes().get(end), None | Some(b',')))
        });
        let end = quoted.unwrap_or_else(|| after.find(',').unwrap_or(after.len()));
        let raw = &after[..end];
        let value = if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
            &raw[1..raw.len() - 1]
        } else if raw == "\"" {
            ""
        } else {
            raw
        };
        out.push((name, value));
        pos = v0 + end + usize::from(after.as_bytes().get(end) == Some(&b','));
        if pos >= list.len() {
            break;
        }
    }
    out
}

/// The `check_playlist` fuzz target: the origin's upload check ([`package_references`]) and the checker's
/// extraction never panic; every URI the extractor reports lies on its line; when the origin accepts the
/// playlist, everything hls.js might fetch from it resolves inside the video to a path it listed; when the
/// checker reports nothing, everything hls.js might fetch stays inside the package.
pub fn check_playlist_bytes(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let found = playlist_uris(&text);
    let lines: Vec<&str> = text.split('\n').collect();
    for u in &found.uris {
        let line = lines
            .get(u.line.wrapping_sub(1))
            .ok_or("line out of range")?;
        let (l0, u0) = (line.as_ptr() as usize, u.uri.as_ptr() as usize);
        if u0 < l0 || u0 + u.uri.len() > l0 + line.len() {
            return Err(format!("{:?} is not on line {}", u.uri, u.line));
        }
    }
    let base = "video/playlist.m3u8";
    let model = hlsjs_uris(&text);
    if found.errors.is_empty()
        && found
            .uris
            .iter()
            .all(|u| resolve(base, u.uri, Strictness::Relative).is_ok())
    {
        if let Some(m) = model
            .iter()
            .find(|m| leaves_the_video(base, m) || resolve(base, m, Strictness::Relative).is_err())
        {
            return Err(format!(
                "the checker finds nothing, but hls.js may fetch {m:?}"
            ));
        }
    }
    if let Ok(refs) = package_references(base, bytes) {
        for m in &model {
            if leaves_the_video(base, m) {
                return Err(format!(
                    "accepted, but hls.js may fetch {m:?}, outside the video"
                ));
            }
            match resolve(base, m, Strictness::Package) {
                Ok(p) if refs.contains(&p) => {}
                Ok(p) => return Err(format!("accepted, but {p:?} (from {m:?}) is not listed")),
                Err(e) => return Err(format!("accepted, but hls.js may fetch {m:?}: {e}")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regex_model_splits_as_hls_js_does() {
        assert_eq!(
            regex_attrs(r#"A="x,y",URI=foo"#),
            [("A", "x,y"), ("URI", "foo")]
        );
        assert_eq!(
            regex_attrs(r#"X="a,URI=http://x/"#),
            [("X", "\"a"), ("URI", "http://x/")]
        );
        assert_eq!(
            regex_attrs(r#"X="foo,URI=b,Y="bar""#),
            [("X", "foo,URI=b,Y=\"bar")]
        );
        assert_eq!(
            regex_attrs("BANDWIDTH=1,junk,URI=http://x/"),
            [("BANDWIDTH", "1"), ("junk,URI", "http://x/")]
        );
        assert_eq!(regex_attrs(" URI = x"), [("URI", " x")]);
    }

    #[test]
    fn the_model_sees_what_the_extractor_refuses() {
        for (text, want) in [
            ("#EXTM3U\n#EXTINF:6http://x/s.m4s\n", "http://x/s.m4s"),
            (
                "#EXTM3U\n# #EXT-X-CONTENT-STEERING:SERVER-URI=http://x/\n",
                "http://x/",
            ),
            (
                "#EXTM3U\n#EXT-X-KEY:METHOD=NONE\rhttp://x/s.m4s\n",
                "http://x/s.m4s",
            ),
            ("#EXTM3U\n#EXT-X-KEY:X=\"a,URI=http://x/\n", "http://x/"),
        ] {
            assert!(
                hlsjs_uris(text).contains(&want),
                "{text:?}: {:?}",
                hlsjs_uris(text)
            );
            assert!(!playlist_uris(text).errors.is_empty(), "{text:?}");
            assert!(check_playlist_bytes(text.as_bytes()).is_ok());
        }
    }

    #[test]
    fn what_leaves_the_video_in_a_browser() {
        let base = "video/playlist.m3u8";
        for uri in [
            "http://x/",
            "HTTPS:x",
            "data:,a",
            "//x/a",
            "/v/other/a.m4s",
            "\\\\x\\a",
            " \t//x/a",
            "/\t/x/a",
            "../../a.m4s",
            "../%2e%2E/a.m4s",
            "a/../../../b",
        ] {
            assert!(leaves_the_video(base, uri), "{uri:?}");
        }
        for uri in [
            "a.m4s",
            "../a.m4s",
            "./a/../b.m4s",
            "1http:x",
            "a.m4s?x=1#t",
            "%2e%2ex/a",
        ] {
            assert!(!leaves_the_video(base, uri), "{uri:?}");
        }
    }

    #[test]
    fn the_fixture_playlists_hold_the_invariant() {
        for text in [
            include_str!("../../../origin/testkit/fixtures/pkg/master.m3u8"),
            include_str!("../../../origin/testkit/fixtures/pkg/video/playlist.m3u8"),
            include_str!("../../../origin/testkit/fixtures/pkg/video/iframes.m3u8"),
            include_str!("../../../origin/testkit/fixtures/pkg/audio/playlist.m3u8"),
        ] {
            check_playlist_bytes(text.as_bytes()).unwrap();
            assert!(hlsjs_uris(text).len() >= 3, "{text}");
        }
    }
}
