//! Parse each trak with the `mp4` crate's box readers, one leaf box at a time, from boxes the guard pass
//! checked.
//!
//! The crate reads tkhd, elst, mdhd and the sample tables well once their counts are known to fit. Its
//! container readers (`MoovBox`, `TrakBox`, ... `StsdBox`) are not used: the guard pass has already walked
//! the containers, and going through them would pull every box type the crate knows (tx3g, meta, udta, each
//! sample entry) into the browser's wasm, about 30 kB of code for boxes we never read from it. Sample
//! descriptions are parsed by [`crate::codec`] from the original bytes, because the crate reads only the
//! first entry and knows no av01, Opus or hvc1; the handler type is read here.

use super::guard::{Span, TrakIndex};
use crate::error::{Error, Result};
use mp4::ReadBox;

/// The crate's view of one track: a movie holding just that trak (the crate names its trak type only as a
/// field of `MoovBox`), and the handler type read from the original hdlr.
pub struct Parsed {
    pub moov: mp4::MoovBox,
    pub handler: [u8; 4],
}

/// Read one leaf box with the crate. Its readers find a box's start as "position - 8", so a box with a
/// 64-bit size is handed over with an equivalent 32-bit header (the guard keeps leaves far below 4 GiB).
fn leaf<B>(moov: &[u8], s: &Span, path: &str) -> Result<B>
where
    B: for<'a> ReadBox<&'a mut std::io::Cursor<Vec<u8>>>,
{
    let bytes = &moov[s.range.clone()];
    let header_len = s.header.header_bytes();
    let body = &bytes[header_len..];
    let size = u32::try_from(body.len() + 8)
        .map_err(|_| Error::malformed(path, s.header.start, "box too large"))?;
    let mut buf = Vec::with_capacity(body.len() + 8);
    buf.extend_from_slice(&size.to_be_bytes());
    buf.extend_from_slice(&bytes[4..8]);
    buf.extend_from_slice(body);
    let mut reader = std::io::Cursor::new(buf);
    reader.set_position(8);
    B::read_box(&mut reader, u64::from(size))
        .map_err(|e| Error::malformed(path, s.header.start, format!("{e}")))
}

/// [`leaf`] for a box a trak may leave out.
fn optional<B>(moov: &[u8], s: &Option<Span>, path: &str) -> Result<Option<B>>
where
    B: for<'a> ReadBox<&'a mut std::io::Cursor<Vec<u8>>>,
{
    s.as_ref().map(|s| leaf(moov, s, path)).transpose()
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
    let p = |name: &str| format!("{path}/{name}");
    // The crate exports its trak and edts types only as fields of `MoovBox`: fill a default one in place.
    let mut parsed = mp4::MoovBox {
        mvhd: leaf(moov, mvhd, "moov/mvhd")?,
        ..Default::default()
    };
    parsed.traks.push(Default::default());
    let trak = &mut parsed.traks[0];
    trak.tkhd = leaf(moov, &tkhd, &p("tkhd"))?;
    if let Some(elst) = optional(moov, &t.elst, &p("edts/elst"))? {
        let edts = trak.edts.get_or_insert_with(Default::default);
        edts.elst = Some(elst);
    }
    trak.mdia.mdhd = leaf(moov, &mdhd, &p("mdia/mdhd"))?;
    trak.mdia.hdlr.handler_type = handler.into();
    let stbl = &mut trak.mdia.minf.stbl;
    stbl.stts = leaf(moov, &stts, &p("stbl/stts"))?;
    stbl.ctts = optional(moov, &t.ctts, &p("stbl/ctts"))?;
    stbl.stss = optional(moov, &t.stss, &p("stbl/stss"))?;
    stbl.stsc = leaf(moov, &stsc, &p("stbl/stsc"))?;
    stbl.stsz = leaf(moov, &stsz, &p("stbl/stsz"))?;
    stbl.stco = optional(moov, &t.stco, &p("stbl/stco"))?;
    stbl.co64 = optional(moov, &t.co64, &p("stbl/co64"))?;
    Ok(Parsed {
        moov: parsed,
        handler,
    })
}

pub(crate) fn handler_type(moov: &[u8], hdlr: &Span) -> Result<[u8; 4]> {
    let body = &moov[hdlr.range.clone()][hdlr.header.header_bytes()..];
    // FullBox header (4), pre_defined (4), then handler_type (§ 8.4.3.2).
    body.get(8..12)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .ok_or_else(|| Error::malformed("hdlr", hdlr.header.start, "too short for a handler type"))
}
