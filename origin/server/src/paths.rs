//! Which paths a package may contain, and what kind of file each one is.
//!
//! A path is relative, lowercase, `dir/dir/name.ext` with `[a-z0-9_-]` directory names, `[a-z0-9_.-]` file
//! names that do not start with a dot, at most [`MAX_DEPTH`] components and [`MAX_LEN`] bytes, and an
//! extension of `.m3u8`, `.mp4` or `.m4s`; or the video's poster image, [`POSTER`] at the root. No `..`, no
//! absolute paths, no percent-escapes, no odd characters.
use super::error::ApiError;

pub const MAX_DEPTH: usize = 4;
pub const MAX_LEN: usize = 200;
/// The poster image the upload page makes from a frame of the video (JPEG), shown in the video list.
pub const POSTER: &str = "poster.jpg";

/// What a file in a package is, decided by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Playlist,
    Init,
    Segment,
    Poster,
}

impl FileKind {
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Playlist => "application/vnd.apple.mpegurl",
            FileKind::Init => "video/mp4",
            FileKind::Segment => "video/iso.segment",
            FileKind::Poster => "image/jpeg",
        }
    }
}

/// Check a package path and tell what kind of file it names.
pub fn check(path: &str) -> Result<FileKind, ApiError> {
    let bad = |why: &str| Err(ApiError::BadPath(format!("{path:?}: {why}")));
    if path == POSTER {
        return Ok(FileKind::Poster);
    }
    if path.is_empty() || path.len() > MAX_LEN {
        return bad("length must be 1 to 200 bytes");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > MAX_DEPTH {
        return bad("too many directory levels");
    }
    let (name, dirs) = match parts.split_last() {
        Some(v) => v,
        None => return bad("empty"),
    };
    for d in dirs {
        if d.is_empty()
            || !d
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        {
            return bad("directory names are [a-z0-9_-]+");
        }
    }
    if name.starts_with('.')
        || !name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'))
        || name.contains("..")
    {
        return bad("file names are [a-z0-9_.-]+ and do not start with a dot");
    }
    let kind = if let Some(stem) = name.strip_suffix(".m3u8") {
        (!stem.is_empty()).then_some(FileKind::Playlist)
    } else if let Some(stem) = name.strip_suffix(".mp4") {
        (!stem.is_empty()).then_some(FileKind::Init)
    } else if let Some(stem) = name.strip_suffix(".m4s") {
        (!stem.is_empty()).then_some(FileKind::Segment)
    } else {
        None
    };
    match kind {
        Some(k) => Ok(k),
        None => bad("only .m3u8, .mp4 and .m4s files (and poster.jpg) are accepted"),
    }
}

/// Resolve a URI found in the playlist at `playlist_path` to a package path, refusing anything that would
/// leave this video: absolute URLs, absolute paths, `..`, queries, fragments and escapes.
pub fn resolve(playlist_path: &str, uri: &str) -> Result<String, String> {
    if uri.contains("://") || uri.starts_with('/') || uri.starts_with("//") {
        return Err(format!("{uri:?} is not a relative URI"));
    }
    if uri.contains(['?', '#', '%', '\\', ':']) {
        return Err(format!(
            "{uri:?} has characters a package path may not hold"
        ));
    }
    let base = match playlist_path.rfind('/') {
        Some(i) => &playlist_path[..=i],
        None => "",
    };
    let joined = format!("{base}{uri}");
    check(&joined).map_err(|e| e.to_string())?;
    Ok(joined)
}

/// A video id: what the origin generates (`[a-z0-9]{16}`), checked before it reaches the store or the DB.
pub fn check_video_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 16 && id.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9')) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_package_paths() {
        assert_eq!(check("master.m3u8").unwrap(), FileKind::Playlist);
        assert_eq!(check("video/init.mp4").unwrap(), FileKind::Init);
        assert_eq!(check("video/seg_00001.m4s").unwrap(), FileKind::Segment);
        assert_eq!(check("v-720p/iframes.m3u8").unwrap(), FileKind::Playlist);
    }

    #[test]
    fn refuses_odd_paths() {
        for p in [
            "",
            "../x.m4s",
            "a/../x.m4s",
            "/abs.m4s",
            "a//b.m4s",
            "A.m4s",
            ".hidden.m4s",
            "x.html",
            "x.svg",
            "x.m4s.html",
            ".m4s",
            "a/b/c/d/e.m4s",
            "a b.m4s",
            "a\\b.m4s",
            "a%2fb.m4s",
            "a/..m4s",
        ] {
            assert!(check(p).is_err(), "{p:?} accepted");
        }
        assert!(check(&format!("{}.m4s", "a".repeat(200))).is_err());
    }

    #[test]
    fn resolves_relative_uris_inside_the_video() {
        assert_eq!(
            resolve("video/playlist.m3u8", "seg_00001.m4s").unwrap(),
            "video/seg_00001.m4s"
        );
        assert_eq!(
            resolve("master.m3u8", "video/playlist.m3u8").unwrap(),
            "video/playlist.m3u8"
        );
        for uri in [
            "https://evil.example/x.m4s",
            "//evil.example/x.m4s",
            "/v/other/video/seg.m4s",
            "../../other/video/seg.m4s",
            "seg.m4s?x=1",
            "data:text/html,hi",
            "skd://key",
        ] {
            assert!(
                resolve("video/playlist.m3u8", uri).is_err(),
                "{uri:?} accepted"
            );
        }
    }
}
