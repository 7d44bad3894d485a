//! Parse each trak with the `mp4` crate, from a rebuilt trak holding only boxes the guard pass checked.
//!
//! The crate reads tkhd, elst, mdhd and the sample tables well once their counts are known to fit. It also
//! insists on boxes we do not need from it (stsd, hdlr, dinf), so those are handed over as minimal,
//! synthetic boxes: sample descriptions are parsed by [`crate::codec`] from the original bytes instead,
//! because the crate reads only the first entry and knows no av01, Opus or hvc1.

use super::guard::{Span, TrakIndex};
use crate::boxes::writer::BoxWriter;
use crate::error::{Error, Result};
use mp4::ReadBox;

/// The crate's view of one track: a movie holding just that trak (the crate names its trak type only as a
/// field of `MoovBox`), and the handler type read from the original hdlr.
pub struct Parsed {
    pub moov: mp4::MoovBox,
    pub handler: [u8; 4],
}

pub fn parse_trak(moov: &[u8], mvhd: &Span, t: &TrakIndex, i: usize) -> Result<Parsed> {
    let path = format!("moov/trak[{i}]");
    let at = t.trak.as_ref().map_or(0, |s| s.header.start);
    let need = |s: &Option<Span>, name: &str| {
        s.clone()
            .ok_or_else(|| Error::malformed(&path, at, format!("has no {name} box")))
    };
    let tkhd = need(&t.tkhd, "tkhd")?;
    let mdhd = need(&t.mdhd, "mdia/mdhd")?;
    let hdlr = need(&t.hdlr, "mdia/hdlr")?;
    need(&t.stsd, "stbl/stsd")?;
    let stts = need(&t.stts, "stbl/stts")?;
    let stsc = need(&t.stsc, "stbl/stsc")?;
    let stsz = need(&t.stsz, "stbl/stsz")?;
    if t.stco.is_none() && t.co64.is_none() {
        return Err(Error::malformed(
            &path,
            at,
            "has no stco or co64 box (chunk offsets)",
        ));
    }
    if t.stco.is_some() && t.co64.is_some() {
        return Err(Error::malformed(&path, at, "has both stco and co64"));
    }
    let handler = handler_type(moov, &hdlr)?;
    let copy = |w: &mut BoxWriter, s: &Option<Span>| {
        if let Some(s) = s {
            w.bytes(&moov[s.range.clone()]);
        }
    };
    let mut w = BoxWriter::new();
    w.boxed(b"moov", |w| {
        w.bytes(&moov[mvhd.range.clone()]);
        w.boxed(b"trak", |w| {
            w.bytes(&moov[tkhd.range.clone()]);
            if t.elst.is_some() {
                w.boxed(b"edts", |w| {
                    copy(w, &t.elst);
                    Ok(())
                })?;
            }
            w.boxed(b"mdia", |w| {
                w.bytes(&moov[mdhd.range.clone()]);
                // Minimal hdlr (§ 8.4.3): the crate insists on a non-empty name.
                w.full(b"hdlr", 0, 0, |w| {
                    w.u32(0);
                    w.bytes(&handler);
                    w.zeros(12);
                    w.u8(0);
                    Ok(())
                })?;
                w.boxed(b"minf", |w| {
                    // dinf/dref with one self-contained 'url ' (§ 8.7.2); the crate requires it.
                    w.boxed(b"dinf", |w| {
                        w.full(b"dref", 0, 0, |w| {
                            w.u32(1);
                            w.full(b"url ", 0, 1, |_| Ok(()))
                        })
                    })?;
                    w.boxed(b"stbl", |w| {
                        // One 8-byte free box stands in for the sample descriptions.
                        w.full(b"stsd", 0, 0, |w| {
                            w.u32(1);
                            w.boxed(b"free", |_| Ok(()))
                        })?;
                        w.bytes(&moov[stts.range.clone()]);
                        copy(w, &t.ctts);
                        copy(w, &t.stss);
                        w.bytes(&moov[stsc.range.clone()]);
                        w.bytes(&moov[stsz.range.clone()]);
                        copy(w, &t.stco);
                        copy(w, &t.co64);
                        Ok(())
                    })
                })
            })
        })
    })?;
    let bytes = w.into_bytes();
    // The crate's readers locate a box's start as "position - 8", so start the cursor past the header.
    let mut reader = std::io::Cursor::new(bytes.as_slice());
    reader.set_position(8);
    let parsed = mp4::MoovBox::read_box(&mut reader, bytes.len() as u64)
        .map_err(|e| Error::malformed(&path, at, format!("{e}")))?;
    if parsed.traks.len() != 1 {
        return Err(Error::malformed(&path, at, "could not be read"));
    }
    Ok(Parsed {
        moov: parsed,
        handler,
    })
}

pub(crate) fn handler_type(moov: &[u8], hdlr: &Span) -> Result<[u8; 4]> {
    let body = &moov[hdlr.range.clone()][hdlr.header.header_len as usize..];
    // FullBox header (4), pre_defined (4), then handler_type (§ 8.4.3.2).
    body.get(8..12)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or_else(|| Error::malformed("hdlr", hdlr.header.start, "too short for a handler type"))
}
