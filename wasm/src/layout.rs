//! The package contract: what a package's files are called, what kind each one is, the MIME type it is
//! served with, and the path rules a stored package obeys. Written once here; the writers (`hls/`,
//! `cmaf/`, `ladder/`, [`crate::package`]), the browser bindings (`web/`, which hand the MIME type of every
//! file to JS) and the origin (`paths.rs`, `publish.rs`) all read it from here.
//!
//! ```text
//! master.m3u8                 the multivariant playlist, at the root
//! manifest.mpd                the DASH MPD, at the root, naming the same init and media segments
//! poster.jpg                  the poster the upload page makes (the origin accepts it; the core never writes it)
//! <rendition>/playlist.m3u8   a media playlist: video (the copy), audio, audio_2, ... or a ladder rung's id
//! <rendition>/iframes.m3u8    the I-frame playlist of a video rendition
//! <rendition>/init.mp4        the CMAF init segment (EXT-X-MAP)
//! <rendition>/seg_00001.m4s   media segments, numbered from 1
//! <dir>/<name>.vtt            WebVTT text: caption/subtitle segments, a chapters track, a storyboard's
//!                             thumbnail track
//! <dir>/<name>.jpg | .webp    images inside a directory: a storyboard's sprite sheets
//! ```

/// The multivariant playlist, at the package root: what a player opens.
pub const MASTER: &str = "master.m3u8";
/// The DASH MPD, at the package root beside [`MASTER`]: what a DASH player opens.
pub const MANIFEST: &str = "manifest.mpd";
/// The poster image the upload page makes from a frame of the video (JPEG), shown in the video list.
pub const POSTER: &str = "poster.jpg";
/// A rendition's init segment (`EXT-X-MAP`), inside its directory.
pub const INIT: &str = "init.mp4";
/// A rendition's media playlist, inside its directory.
pub const PLAYLIST: &str = "playlist.m3u8";
/// A video rendition's I-frame playlist, inside its directory.
pub const IFRAMES: &str = "iframes.m3u8";
/// The directory of the copied video rendition.
pub const VIDEO_DIR: &str = "video";
/// The directory of the first audio rendition; further ones are `audio_2`, `audio_3`, ...
pub const AUDIO_DIR: &str = "audio";
/// The directory of the storyboard (seek-bar thumbnails): its thumbnail track and sprite sheets.
pub const STORYBOARD_DIR: &str = "storyboard";
/// The storyboard's WebVTT thumbnail track, from the package root (cues name sheets relative to it).
pub const STORYBOARD_VTT: &str = "storyboard/storyboard.vtt";

/// The file name of the `k`-th (0-based) storyboard sheet, relative to [`STORYBOARD_VTT`]:
/// `sheet_001.webp`, `sheet_002.jpg`, ...; [`in_dir`]`(`[`STORYBOARD_DIR`]`, ..)` is its package path.
pub fn storyboard_sheet(k: u32, picture: Picture) -> String {
    format!("sheet_{:03}.{}", u64::from(k) + 1, picture.extension())
}

/// The directory of the `i`-th (0-based) audio rendition: `audio`, `audio_2`, `audio_3`, ...
pub fn audio_dir(i: usize) -> String {
    if i == 0 {
        AUDIO_DIR.to_string()
    } else {
        format!("{AUDIO_DIR}_{}", i + 1)
    }
}

/// The file name of the `k`-th (0-based) media segment of a rendition: `seg_00001.m4s`, ...
pub fn segment_name(k: usize) -> String {
    format!("seg_{:05}.m4s", k + 1)
}

/// The 0-based index of a media segment file named by [`segment_name`] (None for any other name).
pub fn segment_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("seg_")?.strip_suffix(".m4s")?;
    if digits.len() != 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_sub(1)
}

/// `dir/name`: a file inside a rendition's directory.
pub fn in_dir(dir: &str, name: &str) -> String {
    format!("{dir}/{name}")
}

/// What a file of a package is, decided by its extension (or, for the poster, its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `.m3u8`: a multivariant, media or I-frame playlist.
    Playlist,
    /// `.mpd`: a DASH MPD (XML: never read as a playlist).
    Manifest,
    /// `.mp4`: a CMAF init segment.
    Init,
    /// `.m4s`: a CMAF media segment.
    Segment,
    /// [`POSTER`].
    Poster,
    /// `.vtt`: a WebVTT file (W3C WebVTT; caption and subtitle segments, chapters, thumbnail tracks).
    Text,
    /// `.jpg` or `.webp` inside a directory: an image other than the poster (a storyboard's sprite sheet).
    Image(Picture),
}

/// The two image formats a package may hold besides its poster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Picture {
    Jpeg,
    Webp,
}

impl Picture {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Picture::Jpeg => "jpg",
            Picture::Webp => "webp",
        }
    }
}

impl FileKind {
    /// The extension of each kind a package holds under a rendition ([`FileKind::Poster`] is a name).
    const EXTENSIONS: [(&'static str, FileKind); 7] = [
        (".m3u8", FileKind::Playlist),
        (".mpd", FileKind::Manifest),
        (".mp4", FileKind::Init),
        (".m4s", FileKind::Segment),
        (".vtt", FileKind::Text),
        (".jpg", FileKind::Image(Picture::Jpeg)),
        (".webp", FileKind::Image(Picture::Webp)),
    ];

    /// The kind of the file at `path` by its name alone, without the path rules of
    /// [`check_package_path`].
    pub fn of(path: &str) -> Option<FileKind> {
        if path == POSTER {
            return Some(FileKind::Poster);
        }
        Self::EXTENSIONS
            .into_iter()
            .find(|(ext, _)| path.ends_with(ext))
            .map(|(_, k)| k)
    }

    /// The MIME type the file is served and uploaded with: RFC 8216 § 4 for playlists; ISO/IEC 23009-1
    /// Annex C for an MPD; `video/mp4` for
    /// an init segment and `video/iso.segment` for a media segment (RFC 8216bis § 3.4 / ISO/IEC 23000-19
    /// CMAF, the type registered for ISO BMFF segments).
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Playlist => "application/vnd.apple.mpegurl",
            FileKind::Manifest => "application/dash+xml",
            FileKind::Init => "video/mp4",
            FileKind::Segment => "video/iso.segment",
            FileKind::Poster => "image/jpeg",
            FileKind::Text => "text/vtt",
            FileKind::Image(Picture::Jpeg) => "image/jpeg",
            FileKind::Image(Picture::Webp) => "image/webp",
        }
    }
}

/// The MIME type of the package file at `path` ([`FileKind::mime`]), `application/octet-stream` for a
/// name that is no package file.
pub fn mime(path: &str) -> &'static str {
    FileKind::of(path).map_or("application/octet-stream", FileKind::mime)
}

/// At most this many `/`-separated components in a package path.
pub const MAX_DEPTH: usize = 4;
/// At most this many bytes in a package path.
pub const MAX_LEN: usize = 200;

/// The path rules of a stored package: relative, lowercase, `dir/dir/name.ext` with `[a-z0-9_-]` directory
/// names, `[a-z0-9_.-]` file names that do not start with a dot, at most [`MAX_DEPTH`] components and
/// [`MAX_LEN`] bytes, and an extension of `.m3u8`, `.mpd`, `.mp4`, `.m4s` or `.vtt` (`.jpg` and `.webp`
/// inside a directory only); or [`POSTER`] at the root. No `..`, no
/// absolute paths, no percent-escapes, no odd characters. The origin refuses any other path, and the
/// playlist URI resolver in its strict mode ([`crate::hls::resolve::Strictness::Package`]) applies them.
pub fn check_package_path(path: &str) -> Result<FileKind, String> {
    let bad = |why: &str| Err(format!("{path:?}: {why}"));
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
    let Some((name, dirs)) = parts.split_last() else {
        return bad("empty");
    };
    if !dirs.iter().all(|d| is_dir_name(d)) {
        return bad("directory names are [a-z0-9_-]+");
    }
    if name.starts_with('.')
        || !name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.'))
        || name.contains("..")
    {
        return bad("file names are [a-z0-9_.-]+ and do not start with a dot");
    }
    let kind = FileKind::EXTENSIONS
        .into_iter()
        .find(|(ext, _)| name.strip_suffix(ext).is_some_and(|stem| !stem.is_empty()));
    match kind {
        Some((_, FileKind::Image(_))) if dirs.is_empty() => {
            bad("images other than poster.jpg live inside a directory")
        }
        Some((_, k)) => Ok(k),
        None => bad(
            "only .m3u8, .mpd, .mp4, .m4s, .vtt, .jpg and .webp files (and poster.jpg) are accepted",
        ),
    }
}

/// A directory name a package may use (`[a-z0-9_-]+`): what a ladder rung's id must be.
pub fn is_dir_name(d: &str) -> bool {
    !d.is_empty()
        && d.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(segment_name(0), "seg_00001.m4s");
        assert_eq!(segment_index("seg_00001.m4s"), Some(0));
        assert_eq!(segment_index(&segment_name(41)), Some(41));
        for bad in [
            "seg_00000.m4s",
            "seg_1.m4s",
            "seg_0000x.m4s",
            "init.mp4",
            "seg_00001.mp4",
        ] {
            assert_eq!(segment_index(bad), None, "{bad}");
        }
        assert_eq!(audio_dir(0), "audio");
        assert_eq!(audio_dir(1), "audio_2");
        assert_eq!(in_dir(VIDEO_DIR, INIT), "video/init.mp4");
        assert_eq!(storyboard_sheet(0, Picture::Webp), "sheet_001.webp");
        assert_eq!(storyboard_sheet(11, Picture::Jpeg), "sheet_012.jpg");
        let sheet = in_dir(STORYBOARD_DIR, &storyboard_sheet(0, Picture::Jpeg));
        assert_eq!(
            check_package_path(&sheet),
            Ok(FileKind::Image(Picture::Jpeg))
        );
        assert_eq!(check_package_path(STORYBOARD_VTT), Ok(FileKind::Text));
        for p in [
            MASTER.to_string(),
            MANIFEST.to_string(),
            in_dir(VIDEO_DIR, PLAYLIST),
            in_dir(VIDEO_DIR, IFRAMES),
            in_dir(&audio_dir(1), INIT),
            in_dir(VIDEO_DIR, &segment_name(99_998)),
            POSTER.to_string(),
        ] {
            assert!(check_package_path(&p).is_ok(), "{p}");
        }
    }

    #[test]
    fn one_mime_table() {
        assert_eq!(mime("master.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(mime("video/iframes.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(mime("video/init.mp4"), "video/mp4");
        assert_eq!(mime(MANIFEST), "application/dash+xml");
        assert_eq!(check_package_path(MANIFEST), Ok(FileKind::Manifest));
        assert_eq!(mime("video/seg_00001.m4s"), "video/iso.segment");
        assert_eq!(mime("poster.jpg"), "image/jpeg");
        assert_eq!(mime("subs_en/seg_00001.vtt"), "text/vtt");
        assert_eq!(mime("storyboard/sheet_001.webp"), "image/webp");
        assert_eq!(mime("x.html"), "application/octet-stream");
        for p in ["master.m3u8", "v/init.mp4", "v/seg_00001.m4s", "poster.jpg"] {
            assert_eq!(FileKind::of(p), check_package_path(p).ok(), "{p}");
        }
    }

    #[test]
    fn package_paths() {
        assert_eq!(check_package_path("master.m3u8"), Ok(FileKind::Playlist));
        assert_eq!(check_package_path("video/init.mp4"), Ok(FileKind::Init));
        assert_eq!(
            check_package_path("video/seg_00001.m4s"),
            Ok(FileKind::Segment)
        );
        assert_eq!(
            check_package_path("v-720p/iframes.m3u8"),
            Ok(FileKind::Playlist)
        );
        assert_eq!(check_package_path("poster.jpg"), Ok(FileKind::Poster));
        assert_eq!(
            check_package_path("subs_en/seg_00001.vtt"),
            Ok(FileKind::Text)
        );
        assert_eq!(check_package_path("chapters.vtt"), Ok(FileKind::Text));
        assert_eq!(
            check_package_path("storyboard/sheet_001.webp"),
            Ok(FileKind::Image(Picture::Webp))
        );
        assert_eq!(
            check_package_path("storyboard/sheet_001.jpg"),
            Ok(FileKind::Image(Picture::Jpeg))
        );
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
            "x.mpd.xml",
            ".mpd",
            ".m4s",
            "a/b/c/d/e.m4s",
            "a b.m4s",
            "a\\b.m4s",
            "a%2fb.m4s",
            "a/..m4s",
            "other.jpg",
            "sheet.webp",
            "x.png",
            ".vtt",
        ] {
            assert!(check_package_path(p).is_err(), "{p:?} accepted");
        }
        assert!(check_package_path(&format!("{}.m4s", "a".repeat(200))).is_err());
    }
}
