//! URI resolution inside a package and line numbers in playlist text.

use crate::hls::resolve::Strictness;

/// Resolve `uri` as named by the playlist at `base` (a package path such as "video/playlist.m3u8") to a
/// package path: [`crate::hls::resolve::resolve`] with [`Strictness::Relative`]. Absolute URLs and paths,
/// queries, fragments and paths that climb above the package root are refused: a package is checked as a
/// closed set of files.
pub fn resolve(base: &str, uri: &str) -> Result<String, String> {
    crate::hls::resolve::resolve(base, uri, Strictness::Relative)
}

/// 1-based line numbers of the URI lines of a playlist (lines that are neither blank nor tags/comments):
/// the k-th is the k-th media segment's (RFC 8216 § 4.1).
pub fn uri_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// 1-based line of the first line starting with `prefix`, if any.
pub fn tag_line(text: &str, prefix: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(prefix))
        .map(|i| i + 1)
}

/// 1-based line of the first line containing `needle`, if any.
pub fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_dot_segments() {
        assert_eq!(
            resolve("master.m3u8", "video/playlist.m3u8").unwrap(),
            "video/playlist.m3u8"
        );
        assert_eq!(
            resolve("a/video/playlist.m3u8", "../audio/init.mp4").unwrap(),
            "a/audio/init.mp4"
        );
        assert!(resolve("a/b.m3u8", "/x/y.m4s").is_err());
        assert!(resolve("master.m3u8", "../etc/passwd").is_err());
        assert!(resolve("master.m3u8", "http://example.com/a.m3u8").is_err());
        assert!(resolve("master.m3u8", "").is_err());
    }

    #[test]
    fn lines() {
        let t = "#EXTM3U\n#EXTINF:2,\na.m4s\n\n#EXTINF:2,\nb.m4s\n";
        assert_eq!(uri_lines(t), vec![3, 6]);
        assert_eq!(tag_line(t, "#EXTINF"), Some(2));
        assert_eq!(line_containing(t, "b.m4s"), Some(6));
    }
}
