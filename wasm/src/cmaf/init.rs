//! The init segment of one rendition: ftyp + moov (mvhd, trak, mvex) with no samples (CMAF 7.3.1,
//! ISO/IEC 14496-12 § 8.8.1). The `mp4` crate's box types write mvhd, tkhd, mdhd, hdlr, vmhd/smhd, dinf,
//! the empty sample tables and mvex; the containers and stsd are written here because the crate's stsd
//! cannot carry a sample entry verbatim (it re-serializes a parsed avcC and knows no av01, Opus or hvc1),
//! and the entry must reach the player byte for byte (colr, pasp, btrt and all).

use super::TRACK_ID;
use crate::boxes::writer::BoxWriter;
use crate::demux::{TrackHeader, TrackKind};
use crate::error::Result;

/// Everything an init segment says about its one track.
pub struct InitTrack<'a> {
    pub kind: TrackKind,
    pub timescale: u32,
    pub language: &'a str,
    pub header: TrackHeader,
    /// The sample entry (child of stsd), header included.
    pub entry: &'a [u8],
}

pub fn init_segment(t: &InitTrack) -> Result<Vec<u8>> {
    let mut w = BoxWriter::new();
    write_ftyp(&mut w)?;
    let m = init_moov(t);
    write_moov(&mut w, &m, t.entry)?;
    Ok(w.into_bytes())
}

/// ftyp: iso6, compatible with iso6, cmfc and mp41.
fn write_ftyp(w: &mut BoxWriter) -> Result<()> {
    let mut ftyp = mp4::FtypBox {
        major_brand: (*b"iso6").into(),
        minor_version: 0,
        compatible_brands: Vec::new(),
    };
    for b in [b"iso6", b"cmfc", b"mp41"] {
        ftyp.compatible_brands.push((*b).into());
    }
    w.mp4_box(&ftyp)
}

/// The moov's boxes as the crate's types. The crate names its inner box types only as fields of MoovBox:
/// build one as a factory.
fn init_moov(t: &InitTrack) -> mp4::MoovBox {
    let mut m = mp4::MoovBox::default();
    m.mvhd.timescale = t.timescale;
    m.mvhd.duration = 0;
    m.mvhd.next_track_id = TRACK_ID + 1;
    m.traks.push(Default::default());
    fill_tkhd(&mut m, t);
    fill_mdia(&mut m, t);
    let mvex = m.mvex.get_or_insert_with(Default::default);
    mvex.trex.track_id = TRACK_ID;
    mvex.trex.default_sample_description_index = 1;
    m
}

/// tkhd: the track's layer, matrix and (video) size from the source header.
fn fill_tkhd(m: &mut mp4::MoovBox, t: &InitTrack) {
    let trak = &mut m.traks[0];
    let h = &t.header;
    // Enabled, in movie, in preview (§ 8.3.2.3).
    trak.tkhd.flags = 0x7;
    trak.tkhd.track_id = TRACK_ID;
    trak.tkhd.duration = 0;
    trak.tkhd.layer = h.layer;
    trak.tkhd.alternate_group = 0;
    let [a, b, u, c, d, v, x, y, wm] = h.matrix;
    trak.tkhd.matrix.a = a;
    trak.tkhd.matrix.b = b;
    trak.tkhd.matrix.u = u;
    trak.tkhd.matrix.c = c;
    trak.tkhd.matrix.d = d;
    trak.tkhd.matrix.v = v;
    trak.tkhd.matrix.x = x;
    trak.tkhd.matrix.y = y;
    trak.tkhd.matrix.w = wm;
    let video = t.kind == TrackKind::Video;
    trak.tkhd.volume = mp4::FixedPointU8::new_raw(if video { 0 } else { 0x0100 });
    trak.tkhd.width = mp4::FixedPointU16::new_raw(if video { h.width } else { 0 });
    trak.tkhd.height = mp4::FixedPointU16::new_raw(if video { h.height } else { 0 });
}

/// mdia: mdhd, hdlr and a minf with the media header of the kind and empty sample tables.
fn fill_mdia(m: &mut mp4::MoovBox, t: &InitTrack) {
    let video = t.kind == TrackKind::Video;
    let mdia = &mut m.traks[0].mdia;
    mdia.mdhd.timescale = t.timescale;
    mdia.mdhd.duration = 0;
    mdia.mdhd.language = t.language.to_string();
    mdia.hdlr.handler_type = (*if video { b"vide" } else { b"soun" }).into();
    mdia.hdlr.name = if video {
        "VideoHandler"
    } else {
        "SoundHandler"
    }
    .into();
    let minf = &mut mdia.minf;
    if video {
        // vmhd flags are 1 (§ 12.1.2.2).
        minf.vmhd.get_or_insert_with(Default::default).flags = 1;
    } else {
        minf.smhd.get_or_insert_with(Default::default);
    }
    minf.stbl.stco.get_or_insert_with(Default::default);
}

/// Write the moov: the containers by hand around the crate's boxes, `entry` verbatim in stsd.
fn write_moov(w: &mut BoxWriter, m: &mp4::MoovBox, entry: &[u8]) -> Result<()> {
    let trak = &m.traks[0];
    let minf = &trak.mdia.minf;
    w.boxed(b"moov", |w| {
        w.mp4_box(&m.mvhd)?;
        w.boxed(b"trak", |w| {
            w.mp4_box(&trak.tkhd)?;
            w.boxed(b"mdia", |w| {
                w.mp4_box(&trak.mdia.mdhd)?;
                w.mp4_box(&trak.mdia.hdlr)?;
                w.boxed(b"minf", |w| {
                    if let Some(vmhd) = &minf.vmhd {
                        w.mp4_box(vmhd)?;
                    }
                    if let Some(smhd) = &minf.smhd {
                        w.mp4_box(smhd)?;
                    }
                    w.mp4_box(&minf.dinf)?;
                    write_stbl(w, m, entry)
                })
            })
        })?;
        write_mvex(w, m)
    })
}

/// stbl: stsd holding `entry`, then the crate's empty stts, stsc, stsz and stco.
fn write_stbl(w: &mut BoxWriter, m: &mp4::MoovBox, entry: &[u8]) -> Result<()> {
    let stbl = &m.traks[0].mdia.minf.stbl;
    w.boxed(b"stbl", |w| {
        w.full(b"stsd", 0, 0, |w| {
            w.u32(1);
            w.bytes(entry);
            Ok(())
        })?;
        w.mp4_box(&stbl.stts)?;
        w.mp4_box(&stbl.stsc)?;
        w.mp4_box(&stbl.stsz)?;
        if let Some(stco) = &stbl.stco {
            w.mp4_box(stco)?;
        }
        Ok(())
    })
}

/// mvex, written by hand: the mp4 crate's MvexBox names itself 'mdia' (mp4 0.14, mvex.rs `get_type`), which
/// players and the origin's check do not recognise as the movie extends box.
fn write_mvex(w: &mut BoxWriter, m: &mp4::MoovBox) -> Result<()> {
    let Some(mvex) = &m.mvex else {
        return Ok(());
    };
    w.boxed(b"mvex", |w| {
        if let Some(mehd) = &mvex.mehd {
            w.mp4_box(mehd)?;
        }
        w.mp4_box(&mvex.trex)
    })
}
