//! The top-level scan: read box headers only, find ftyp and moov wherever they are, and never touch mdat.

use crate::boxes::{fourcc_str, read_header, BoxHeader, Level};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::source::Source;

/// Box types that may stand at the top level of an ISO BMFF or QuickTime file.
const TOP_LEVEL: [&[u8; 4]; 17] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pnot", b"meta", b"moof",
    b"mfra", b"sidx", b"styp", b"pdin", b"emsg", b"prft", b"junk",
];

pub struct TopLevel {
    pub ftyp: Option<(BoxHeader, Vec<u8>)>,
    pub moov: BoxHeader,
    /// The movie fragments of a fragmented file, in file order (found by their headers, not read).
    pub moofs: Vec<BoxHeader>,
}

pub fn scan(src: &dyn Source, limits: &Limits) -> Result<TopLevel> {
    let len = src.len();
    if len == 0 {
        return Err(Error::NotMp4("the file is empty".into()));
    }
    let mut ftyp = None;
    let mut moov: Option<BoxHeader> = None;
    let mut moofs = Vec::new();
    let mut pos = 0u64;
    let mut count = 0usize;
    while pos < len {
        count += 1;
        if count > limits.max_top_level_boxes {
            return Err(Error::limit(
                "file",
                pos,
                format!("more than {} top-level boxes", limits.max_top_level_boxes),
            ));
        }
        let mut head = [0u8; 32];
        let n = (len - pos).min(32) as usize;
        src.read_exact_at(pos, &mut head[..n])?;
        if pos == 0 {
            check_magic(&head[..n])?;
        }
        let h = read_header(&head[..n], pos, len, Level::Top, "file")?;
        match &h.kind {
            b"ftyp" => {
                if ftyp.is_some() {
                    return Err(Error::malformed("file/ftyp", h.start, "duplicate ftyp box"));
                }
                if h.size > limits.max_ftyp_bytes {
                    return Err(Error::limit(
                        "file/ftyp",
                        h.start,
                        format!(
                            "ftyp is {} bytes; the limit is {}",
                            h.size, limits.max_ftyp_bytes
                        ),
                    ));
                }
                ftyp = Some((h, src.read_vec(h.start, h.size)?));
            }
            b"moov" => {
                if moov.is_some() {
                    return Err(Error::malformed("file/moov", h.start, "duplicate moov box"));
                }
                if h.size > limits.max_moov_bytes {
                    return Err(Error::limit(
                        "file/moov",
                        h.start,
                        format!(
                            "moov is {} bytes; the limit is {}",
                            h.size, limits.max_moov_bytes
                        ),
                    ));
                }
                moov = Some(h);
            }
            b"moof" => moofs.push(h),
            _ => {}
        }
        pos = h.end();
    }
    let moov = moov.ok_or_else(|| {
        Error::malformed(
            "file",
            len,
            "no moov box: the file has no index (was the recording interrupted?)",
        )
    })?;
    Ok(TopLevel { ftyp, moov, moofs })
}

/// Say "not an MP4" for files that are something else, rather than a confusing box error.
fn check_magic(head: &[u8]) -> Result<()> {
    let kind = head.get(4..8).and_then(|k| <[u8; 4]>::try_from(k).ok());
    if kind.is_some_and(|k| TOP_LEVEL.contains(&&k)) {
        return Ok(());
    }
    let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let text: String = head
        .iter()
        .take(8)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    Err(Error::NotMp4(format!(
        "it starts with bytes {} (\"{text}\"){}",
        shown.join(" "),
        kind.map(|k| format!(", and \"{}\" is not an MP4 box type", fourcc_str(k)))
            .unwrap_or_default()
    )))
}
