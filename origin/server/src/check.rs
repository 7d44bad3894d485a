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
    fn init_path_is_in_the_rendition_directory() {
        assert_eq!(init_path_for("video/seg_00001.m4s"), "video/init.mp4");
        assert_eq!(init_path_for("seg_00001.m4s"), "init.mp4");
    }
}
