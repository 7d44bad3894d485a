//! Which paths a package may contain, and what kind of file each one is. The rules, the file kinds and their
//! MIME types are the core's package contract (`upcast_core::layout`), which the playlist URI resolver
//! applies too: a path is relative, lowercase, `dir/dir/name.ext` with `[a-z0-9_-]` directory names,
//! `[a-z0-9_.-]` file names that do not start with a dot, at most [`MAX_DEPTH`] components and [`MAX_LEN`]
//! bytes, and an extension of `.m3u8`, `.mp4` or `.m4s`; or the video's poster image, [`POSTER`] at the root.
use upcast_core::hls::resolve::{self as core, Strictness};
use upcast_core::layout;

use super::error::ApiError;

/// What a file in a package is, decided by its extension; `FileKind::mime` is the type it is served with.
pub use layout::FileKind;
pub use layout::{MAX_DEPTH, MAX_LEN, POSTER};

/// Check a package path (the core's package path rules, [`layout::check_package_path`]) and tell what kind
/// of file it names.
pub fn check(path: &str) -> Result<FileKind, ApiError> {
    layout::check_package_path(path).map_err(ApiError::BadPath)
}

/// Resolve a URI found in the playlist at `playlist_path` to a package path, refusing anything that would
/// leave this video: the core's resolver (shared with the conformance checker) in its strict mode, which
/// also applies the package path rules.
pub fn resolve(playlist_path: &str, uri: &str) -> Result<String, String> {
    core::resolve(playlist_path, uri, Strictness::Package)
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
