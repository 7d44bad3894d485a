//! Content checks on uploaded bytes. Segments and init segments must be CMAF-shaped ISO BMFF: HTML, SVG or a
//! zip renamed `.m4s` is refused. This first version walks the top-level boxes itself and parses `moov` and
//! `moof` with the `mp4` crate; it moves to the core's CMAF reader once that lands, behind this same function.
use std::io::{Cursor, Read, Seek, SeekFrom};

use mp4::{MoofBox, MoovBox, ReadBox};

use super::error::ApiError;
use super::paths::FileKind;
use super::playlist;

/// Biggest `moov` or `moof` read into memory for parsing (a real one is a few kB to a few MB).
const MAX_HEADER_BOX: u64 = 16 << 20;

/// Check a spooled upload of `kind` at package path `path`. `file` is positioned anywhere; `len` is its size.
/// Returns the package paths a playlist references (empty for media files).
pub fn check_file<R: Read + Seek>(
    path: &str,
    kind: FileKind,
    file: &mut R,
    len: u64,
) -> Result<Vec<String>, ApiError> {
    match kind {
        FileKind::Playlist => {
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            file.take(len).read_to_end(&mut bytes).map_err(io)?;
            playlist::references(path, &bytes)
        }
        FileKind::Init => check_init(file, len).map(|()| Vec::new()),
        FileKind::Segment => check_segment(file, len).map(|()| Vec::new()),
    }
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::from_io(e)
}

fn not_cmaf(msg: String) -> ApiError {
    ApiError::NotCmaf(msg)
}

/// A top-level box: type, offset of its first byte, total size, header size.
#[derive(Debug)]
struct TopBox {
    kind: [u8; 4],
    offset: u64,
    size: u64,
    header: u64,
}

/// Walk the top-level boxes reading only their headers; sizes must tile the file exactly.
fn top_boxes<R: Read + Seek>(r: &mut R, len: u64) -> Result<Vec<TopBox>, ApiError> {
    let mut out = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        if len - pos < 8 {
            return Err(not_cmaf(format!("{} stray bytes at byte {pos}", len - pos)));
        }
        r.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut h = [0u8; 16];
        r.read_exact(&mut h[..8]).map_err(io)?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let kind = [h[4], h[5], h[6], h[7]];
        if !kind.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' ') {
            return Err(not_cmaf(format!(
                "no ISO BMFF box at byte {pos} (type bytes {kind:02x?})"
            )));
        }
        let (size, header) = match size32 {
            // ISO/IEC 14496-12 § 4.2: size 1 means a 64-bit largesize follows the type.
            1 => {
                if len - pos < 16 {
                    return Err(not_cmaf(format!("truncated largesize at byte {pos}")));
                }
                r.read_exact(&mut h[8..16]).map_err(io)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[8..16]);
                (u64::from_be_bytes(b), 16)
            }
            // Size 0 ("to end of file") is legal only for the last box.
            0 => (len - pos, 8),
            s => (u64::from(s), 8),
        };
        if size < header || size > len - pos {
            return Err(not_cmaf(format!(
                "box '{}' at byte {pos} declares {size} bytes; {} remain",
                String::from_utf8_lossy(&kind),
                len - pos
            )));
        }
        out.push(TopBox {
            kind,
            offset: pos,
            size,
            header,
        });
        pos += size;
    }
    Ok(out)
}

/// Read a `moov`/`moof` into memory and hand it to a parser, which must not panic on any input; a panic
/// inside the third-party parser is still caught and reported as a refusal, never a crash.
fn parse_box<R: Read + Seek, T>(
    r: &mut R,
    b: &TopBox,
    parse: fn(&mut Cursor<Vec<u8>>, u64) -> mp4::Result<T>,
) -> Result<T, ApiError> {
    let name = String::from_utf8_lossy(&b.kind).into_owned();
    if b.size > MAX_HEADER_BOX || b.header != 8 {
        return Err(not_cmaf(format!(
            "'{name}' at byte {} is {} bytes",
            b.offset, b.size
        )));
    }
    let mut buf = vec![0u8; b.size as usize];
    r.seek(SeekFrom::Start(b.offset)).map_err(io)?;
    r.read_exact(&mut buf).map_err(io)?;
    let mut cur = Cursor::new(buf);
    cur.set_position(8);
    let size = b.size;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&mut cur, size))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(not_cmaf(format!("'{name}' at byte {}: {e}", b.offset))),
        Err(_) => Err(not_cmaf(format!(
            "'{name}' at byte {} could not be parsed",
            b.offset
        ))),
    }
}

/// Boxes that may sit at top level beside the ones that matter, and carry no playable content.
fn ignorable(kind: &[u8; 4]) -> bool {
    matches!(kind, b"free" | b"skip")
}

/// An init segment: `ftyp`, then a `moov` holding at least one track and an `mvex` (fragmented), no media.
fn check_init<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), ApiError> {
    let boxes = top_boxes(r, len)?;
    match boxes.first() {
        Some(b) if &b.kind == b"ftyp" => {}
        _ => return Err(not_cmaf("an init segment starts with 'ftyp'".into())),
    }
    let mut moov = None;
    for b in &boxes[1..] {
        match &b.kind {
            b"moov" if moov.is_none() => moov = Some(b),
            k if ignorable(k) => {}
            k => {
                return Err(not_cmaf(format!(
                    "init segment holds '{}' at byte {}",
                    String::from_utf8_lossy(k),
                    b.offset
                )))
            }
        }
    }
    let moov = moov.ok_or_else(|| not_cmaf("init segment has no 'moov'".into()))?;
    let parsed = parse_box(r, moov, |c, s| MoovBox::read_box(c, s))?;
    if parsed.traks.is_empty() {
        return Err(not_cmaf("'moov' has no track".into()));
    }
    if parsed.mvex.is_none() {
        return Err(not_cmaf(
            "'moov' has no 'mvex': not a fragmented MP4 init segment".into(),
        ));
    }
    Ok(())
}

/// A media segment: optional `styp`/`sidx`/`prft`/`emsg`, then one or more `moof`+`mdat` pairs whose sample
/// data lies inside the `mdat` that follows each `moof`.
fn check_segment<R: Read + Seek>(r: &mut R, len: u64) -> Result<(), ApiError> {
    let boxes = top_boxes(r, len)?;
    let mut fragments = 0usize;
    let mut i = 0;
    while i < boxes.len() {
        let b = &boxes[i];
        match &b.kind {
            b"styp" | b"sidx" | b"prft" | b"emsg" if fragments == 0 => {}
            b"moof" => {
                let mdat = match boxes.get(i + 1) {
                    Some(m) if &m.kind == b"mdat" => m,
                    _ => {
                        return Err(not_cmaf(format!(
                            "'moof' at byte {} is not followed by 'mdat'",
                            b.offset
                        )))
                    }
                };
                let moof = parse_box(r, b, |c, s| MoofBox::read_box(c, s))?;
                check_sample_data(&moof, b, mdat)?;
                fragments += 1;
                i += 1;
            }
            k if ignorable(k) => {}
            k => {
                return Err(not_cmaf(format!(
                    "media segment holds '{}' at byte {}",
                    String::from_utf8_lossy(k),
                    b.offset
                )))
            }
        }
        i += 1;
    }
    if fragments == 0 {
        return Err(not_cmaf(
            "media segment has no 'moof'+'mdat' fragment".into(),
        ));
    }
    Ok(())
}

/// Every `trun`'s samples (moof-relative `data_offset`, ISO/IEC 14496-12 § 8.8.7.1 default-base-is-moof)
/// must lie within the `mdat` payload that follows the `moof`.
fn check_sample_data(moof: &MoofBox, mb: &TopBox, mdat: &TopBox) -> Result<(), ApiError> {
    if moof.trafs.is_empty() {
        return Err(not_cmaf(format!(
            "'moof' at byte {} has no 'traf'",
            mb.offset
        )));
    }
    let payload_start = mb.size + mdat.header;
    let payload_end = mb.size + mdat.size;
    for (t, traf) in moof.trafs.iter().enumerate() {
        let Some(trun) = &traf.trun else { continue };
        if traf.tfhd.base_data_offset.is_some() {
            continue; // Absolute offsets: not CMAF, but not ours to judge beyond the structure.
        }
        let Some(off) = trun.data_offset else {
            continue;
        };
        let start = u64::try_from(off).map_err(|_| {
            not_cmaf(format!(
                "traf[{t}].trun data_offset {off} points before the 'moof'"
            ))
        })?;
        let total: u64 = if trun.sample_sizes.is_empty() {
            u64::from(trun.sample_count) * u64::from(traf.tfhd.default_sample_size.unwrap_or(0))
        } else {
            trun.sample_sizes.iter().map(|&s| u64::from(s)).sum()
        };
        if start < payload_start || start.saturating_add(total) > payload_end {
            return Err(not_cmaf(format!(
                "traf[{t}].trun at byte {} puts {total} bytes of samples at moof+{start}, outside \
                 the 'mdat' payload (moof+{payload_start} to moof+{payload_end})",
                mb.offset
            )));
        }
    }
    Ok(())
}
