//! Content checks on uploaded bytes, with the core's CMAF reader (`upcast_core::cmaf::read`, the same code
//! the browser runs before uploading): an init segment must parse as ftyp + moov (one track, mvex); a media
//! segment must parse as moof + mdat fragments against its rendition's init segment, with sample data inside
//! the mdat. HTML, SVG or a zip renamed `.m4s` is refused. Playlists and MPDs are checked in
//! [`super::playlist`].
use std::io::{Read, Seek, SeekFrom};

use upcast_core::cmaf::read::{read_init, read_segment};

use super::error::ApiError;
use super::paths::FileKind;
use super::playlist;
use upcast_core::layout::Picture;

/// The init segment a media segment at `path` is read against: `init.mp4` in the same rendition directory
/// (the layout `upcast segment` writes).
pub fn init_path_for(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => upcast_core::layout::in_dir(&path[..i], upcast_core::layout::INIT),
        None => upcast_core::layout::INIT.to_string(),
    }
}

/// Check a spooled upload of `kind` at package path `path` (`len` bytes). Media segments need the bytes of
/// their init segment. Returns the package paths a playlist references (empty for media files).
pub fn check_file<R: Read + Seek>(
    path: &str,
    kind: FileKind,
    file: &mut R,
    len: u64,
    init: Option<&[u8]>,
) -> Result<Vec<String>, ApiError> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(ApiError::from_io)?;
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(ApiError::from_io)?;
    check_bytes(path, kind, &bytes, init)
}

/// A poster is a thumbnail, not a photo: 2 MiB is plenty.
pub const MAX_POSTER_BYTES: u64 = 2 << 20;

/// A JPEG starts with SOI and a marker (FF D8 FF) and ends with EOI (FF D9) (ITU-T T.81 B.2).
fn check_jpeg(path: &str, bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.len() < 8 || !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || !bytes.ends_with(&[0xFF, 0xD9])
    {
        return Err(ApiError::NotJpeg(format!(
            "{path}: not a JPEG image (no SOI marker at the start or EOI at the end)"
        )));
    }
    Ok(())
}

/// A WebVTT text file or caption segment: 5 MiB is far above any real one.
pub const MAX_TEXT_BYTES: u64 = 5 << 20;
/// A storyboard sprite sheet: ~100–200 small tiles; 4 MiB is plenty.
pub const MAX_IMAGE_BYTES: u64 = 4 << 20;

/// A WebVTT file (a caption segment, a whole caption track, a chapters or thumbnail track) must parse
/// with the core's WebVTT reader (`upcast_core::captions`, the code that made it in the browser): the
/// signature, every block a cue, NOTE, STYLE or REGION, every timestamp well-formed, within the cue limit.
/// The refusal names the line and what was expected there.
fn check_webvtt(path: &str, bytes: &[u8]) -> Result<(), ApiError> {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if !body.starts_with(b"WEBVTT") {
        return Err(ApiError::NotWebvtt(format!(
            "{path}: line 1: expected the WebVTT signature \"WEBVTT\""
        )));
    }
    let limits = upcast_core::captions::TextLimits {
        max_bytes: usize::try_from(MAX_TEXT_BYTES).unwrap_or(usize::MAX),
        ..Default::default()
    };
    upcast_core::captions::parse(bytes, &limits)
        .map(|_| ())
        .map_err(|e| ApiError::NotWebvtt(format!("{path}: {e}")))
}

/// A WebP file is a RIFF container of form type `WEBP` whose RIFF size matches the file and whose first
/// chunk is an image (Google's WebP container specification); a JPEG as [`check_jpeg`].
fn check_image(path: &str, picture: Picture, bytes: &[u8]) -> Result<(), ApiError> {
    match picture {
        Picture::Jpeg => check_jpeg(path, bytes)
            .map_err(|_| ApiError::NotImage(format!("{path}: not a JPEG image (SOI … EOI)"))),
        Picture::Webp => {
            // The first chunk is the image: VP8 (lossy), VP8L (lossless) or VP8X (extended).
            let riff = bytes.len() >= 20
                && &bytes[..4] == b"RIFF"
                && &bytes[8..12] == b"WEBP"
                && matches!(&bytes[12..16], b"VP8 " | b"VP8L" | b"VP8X");
            let declared = bytes
                .get(4..8)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) + 8);
            if !riff || declared != u64::try_from(bytes.len()).ok() {
                return Err(ApiError::NotImage(format!(
                    "{path}: not a WebP image (RIFF … WEBP with the file's size)"
                )));
            }
            Ok(())
        }
    }
}

pub fn check_bytes(
    path: &str,
    kind: FileKind,
    bytes: &[u8],
    init: Option<&[u8]>,
) -> Result<Vec<String>, ApiError> {
    match kind {
        FileKind::Playlist => playlist::references(path, bytes),
        FileKind::Manifest => playlist::mpd_references(path, bytes),
        FileKind::Poster => {
            check_jpeg(path, bytes)?;
            Ok(Vec::new())
        }
        FileKind::Text => {
            check_webvtt(path, bytes)?;
            Ok(Vec::new())
        }
        FileKind::Image(picture) => {
            check_image(path, picture, bytes)?;
            Ok(Vec::new())
        }
        FileKind::Init => {
            read_init(bytes).map_err(|e| ApiError::NotCmaf(format!("{path}: {e}")))?;
            Ok(Vec::new())
        }
        FileKind::Segment => {
            let init = init.ok_or_else(|| ApiError::InitMissing(init_path_for(path)))?;
            let info = read_init(init)
                .map_err(|e| ApiError::NotCmaf(format!("{}: {e}", init_path_for(path))))?;
            let frags = read_segment(bytes, &info)
                .map_err(|e| ApiError::NotCmaf(format!("{path}: {e}")))?;
            if frags.is_empty() {
                return Err(ApiError::NotCmaf(format!("{path}: no moof+mdat fragment")));
            }
            Ok(Vec::new())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_signature() {
        let ok = |b: &[u8]| check_bytes("s/a.vtt", FileKind::Text, b, None).is_ok();
        assert!(ok(b"WEBVTT"));
        assert!(ok(b"WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n"));
        assert!(ok("\u{feff}WEBVTT - title\r\n".as_bytes()));
        assert!(!ok(b"WEBVTTX\n"));
        assert!(!ok(b"<html>WEBVTT"));
        assert!(!ok(b"WEBVTT\n\xff\xfe"));
        let e = check_bytes(
            "s/a.vtt",
            FileKind::Text,
            b"WEBVTT\n\n00:00.000 --> 00:01.00\nhi\n",
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("line 3: expected a timestamp"),
            "{e}"
        );
        // A thumbnail track (the storyboard's) is WebVTT too.
        assert!(ok(
            b"WEBVTT\n\n00:00.000 --> 00:05.000\nsheet_001.jpg#xywh=0,0,160,90\n"
        ));
    }

    #[test]
    fn images_by_signature() {
        let webp =
            |b: &[u8]| check_bytes("s/a.webp", FileKind::Image(Picture::Webp), b, None).is_ok();
        let mut good = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0".to_vec();
        let n = u32::try_from(good.len() - 8).unwrap();
        good[4..8].copy_from_slice(&n.to_le_bytes());
        assert!(webp(&good));
        assert!(!webp(b"RIFF\x04\0\0\0WEBP"));
        assert!(!webp(b"GIF89a......"));
        let jpeg =
            |b: &[u8]| check_bytes("s/a.jpg", FileKind::Image(Picture::Jpeg), b, None).is_ok();
        assert!(jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9]));
        assert!(!jpeg(b"<svg></svg>"));
    }

    #[test]
    fn init_path_is_in_the_rendition_directory() {
        assert_eq!(init_path_for("video/seg_00001.m4s"), "video/init.mp4");
        assert_eq!(init_path_for("seg_00001.m4s"), "init.mp4");
    }
}
