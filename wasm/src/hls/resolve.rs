//! Resolving a URI found in a playlist to a path inside its package (RFC 3986 § 5.2 for relative references,
//! without scheme or authority), refusing anything a browser would take outside the package. In its strict
//! mode the result must also pass the package path rules ([`crate::layout::check_package_path`]).
//!
//! Browsers resolve with the WHATWG URL parser, which is more forgiving than RFC 3986: it drops tabs and
//! newlines anywhere, strips leading spaces, reads `\` as `/` and `%2e` as `.` in dot segments, so
//! `/\t/host`, ` //host`, `\\host` and `%2e%2e/` all leave the package. Those are refused here in both
//! modes, as are variable references (`{$name}`, RFC 8216bis § 4.4.2.3), whose value is not in the package.

/// How strict [`resolve`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Any relative path that stays inside the package: `.` and `..` segments are resolved (the checker,
    /// for packages made by other tools).
    Relative,
    /// A stored package (the origin): no dot or empty segments, and the result must pass
    /// [`crate::layout::check_package_path`].
    Package,
}

/// Resolve `uri`, named by the playlist at package path `base` (such as "video/playlist.m3u8"), to a package
/// path. The message of an error names the URI and why it leaves the package.
pub fn resolve(base: &str, uri: &str, strictness: Strictness) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("URI {uri:?} {why}"));
    if uri.is_empty() {
        return refuse("is empty");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("holds whitespace or a control character (browsers drop or strip them)");
    }
    let first = uri.split(['/', '?', '#']).next().unwrap_or("");
    if first.contains(':') {
        return refuse("has a scheme: an absolute URI leaves the package");
    }
    if uri.starts_with("//") || uri.starts_with('\\') {
        return refuse("names another host (a network-path reference)");
    }
    if uri.starts_with('/') {
        return refuse("is an absolute path: it leaves the package wherever the package is served");
    }
    if uri.contains(['?', '#']) {
        return refuse("has a query or fragment: it is not a relative path inside the package");
    }
    if uri.contains('\\') {
        return refuse("holds a backslash (browsers read it as '/')");
    }
    if uri.contains("{$") {
        return refuse(
            "holds a variable reference (EXT-X-DEFINE), whose value is not in the package",
        );
    }
    if let Some(why) = bad_escape(uri) {
        return refuse(why);
    }
    let dir = base.rfind('/').map_or("", |i| &base[..=i]);
    let joined = format!("{dir}{uri}");
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." | ".." if strictness == Strictness::Package => {
                return refuse("has an empty, '.' or '..' segment (not a package path)");
            }
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return refuse("climbs above the package root");
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return refuse("names no file");
    }
    let path = parts.join("/");
    if strictness == Strictness::Package {
        crate::layout::check_package_path(&path).map_err(|e| format!("URI {uri:?}: {e}"))?;
    }
    Ok(path)
}

/// A percent-escape a browser would decode into a dot segment or a separator (`%2e`, `%2f`, `%5c`), or a
/// `%` not followed by two hex digits.
fn bad_escape(uri: &str) -> Option<&'static str> {
    let b = uri.as_bytes();
    for (i, _) in uri.match_indices('%') {
        let hex = b.get(i + 1..i + 3)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return Some("holds a '%' that is not a percent-escape");
        }
        if matches!(hex.to_ascii_lowercase().as_slice(), b"2e" | b"2f" | b"5c") {
            return Some("percent-escapes '.', '/' or '\\' (browsers decode them in paths)");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use Strictness::{Package, Relative};

    #[test]
    fn relative_paths_resolve_under_the_playlist() {
        for s in [Relative, Package] {
            assert_eq!(
                resolve("master.m3u8", "video/playlist.m3u8", s).unwrap(),
                "video/playlist.m3u8"
            );
            assert_eq!(
                resolve("video/playlist.m3u8", "seg_00001.m4s", s).unwrap(),
                "video/seg_00001.m4s"
            );
        }
        assert_eq!(
            resolve("a/video/playlist.m3u8", "../audio/./init.mp4", Relative).unwrap(),
            "a/audio/init.mp4"
        );
        assert_eq!(
            resolve("a/b.m3u8", "Seg_1.ts", Relative).unwrap(),
            "a/Seg_1.ts"
        );
    }

    #[test]
    fn anything_leaving_the_package_is_refused_in_both_modes() {
        for uri in [
            "",
            "http://evil.example/x.m4s",
            "HTTPS://evil.example/x.m4s",
            "http:x.m4s",
            "data:text/plain,hi",
            "skd://key",
            "javascript:alert(1)",
            "//evil.example/x.m4s",
            "\\\\evil.example\\x.m4s",
            "/v/other/video/seg.m4s",
            "/\t/evil.example/x.m4s",
            " //evil.example/x.m4s",
            "a\\..\\..\\x.m4s",
            "../../other/video/seg.m4s",
            "%2e%2e/%2E%2E/x.m4s",
            "a%2fb.m4s",
            "a%zz.m4s",
            "seg.m4s?x=1",
            "seg.m4s#t=1",
            "{$host}/seg.m4s",
            "seg\u{2028}.m4s",
        ] {
            for s in [Relative, Package] {
                assert!(
                    resolve("video/playlist.m3u8", uri, s).is_err(),
                    "{uri:?} accepted ({s:?})"
                );
            }
        }
    }

    #[test]
    fn package_mode_applies_the_package_path_rules() {
        for uri in [
            "./seg.m4s",
            "a//seg.m4s",
            "Seg.m4s",
            "seg.ts",
            "x/../seg.m4s",
        ] {
            assert!(
                resolve("video/playlist.m3u8", uri, Package).is_err(),
                "{uri:?}"
            );
        }
        assert!(resolve("a/b/c/playlist.m3u8", "d/seg.m4s", Package).is_err());
        assert!(resolve("a/b/c/playlist.m3u8", "d/seg.m4s", Relative).is_ok());
    }
}
