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

    // The rules themselves are tested where they live (`upcast_core::layout`, `upcast_core::hls::resolve`);
    // here, that the origin applies them and answers with its own error.
    #[test]
    fn the_origin_applies_the_core_rules() {
        assert_eq!(check("video/seg_00001.m4s").unwrap(), FileKind::Segment);
        assert!(matches!(check("../x.m4s"), Err(ApiError::BadPath(_))));
        assert_eq!(
            resolve("video/playlist.m3u8", "seg_00001.m4s").unwrap(),
            "video/seg_00001.m4s"
        );
        assert!(resolve("video/playlist.m3u8", "https://evil.example/x.m4s").is_err());
        assert!(check_video_id("abcdefabcdefabcd").is_ok());
        assert!(check_video_id("../../etc/passwd").is_err());
    }
}
