//! The steps of reading a moof back ([`super::read::read_segment`]): a guard pass over its boxes before the
//! crate reads it, the crate's read, and the expansion of the trun against its defaults.

use super::read::{InitInfo, SampleInfo, MAX_TRUN_SAMPLES};
use crate::boxes::{children, BoxHeader, Cursor};
use crate::error::{Error, Result};
use mp4::ReadBox;

/// Guard: one traf with at most one trun, whose count fits its box, before the crate reads it.
pub(super) fn guard_moof(h: &BoxHeader, body: &[u8]) -> Result<()> {
    let mut trafs = 0;
    for child in children(body, h.payload_start(), "segment/moof") {
        let (ch, cb) = child?;
        refuse_large_size(&ch, "segment/moof")?;
        if &ch.kind != b"traf" {
            continue;
        }
        trafs += 1;
        guard_traf(&ch, cb)?;
    }
    if trafs != 1 {
        return Err(Error::malformed(
            "segment/moof",
            h.start,
            format!("holds {trafs} traf boxes; CMAF has exactly one"),
        ));
    }
    Ok(())
}

/// A traf holds exactly one trun, and it passes [`guard_trun`].
fn guard_traf(ch: &BoxHeader, cb: &[u8]) -> Result<()> {
    let mut truns = 0;
    for g in children(cb, ch.payload_start(), "segment/moof/traf") {
        let (gh, gb) = g?;
        refuse_large_size(&gh, "segment/moof/traf")?;
        if &gh.kind == b"trun" {
            truns += 1;
            guard_trun(&gh, gb)?;
        }
    }
    if truns != 1 {
        return Err(Error::unsupported(
            "segment/moof/traf",
            ch.start,
            format!("{truns} trun boxes (exactly one is supported)"),
        ));
    }
    Ok(())
}

/// A trun's sample count is bounded, and its per-sample fields fit in the box.
fn guard_trun(gh: &BoxHeader, gb: &[u8]) -> Result<()> {
    let mut c = Cursor::new(gb, gh.payload_start(), "segment/moof/traf/trun");
    let (_, flags) = c.version_flags()?;
    let count = u64::from(c.u32("sample_count")?);
    let per = [0x100u32, 0x200, 0x400, 0x800]
        .iter()
        .filter(|&&f| flags & f != 0)
        .count() as u64
        * 4;
    let fixed = 4 * u64::from(flags & 1 != 0) + 4 * u64::from(flags & 4 != 0);
    if count > MAX_TRUN_SAMPLES {
        return Err(Error::limit(
            "segment/moof/traf/trun",
            gh.start,
            format!("declares {count} samples; at most {MAX_TRUN_SAMPLES} per fragment are read"),
        ));
    }
    if count * per + fixed > c.remaining() as u64 {
        return Err(Error::malformed(
            "segment/moof/traf/trun",
            gh.start,
            format!("declares {count} samples; they do not fit in the box"),
        ));
    }
    Ok(())
}

/// The crate locates a box's start as "position - 8": hand it the moof behind an 8-byte header whatever
/// header the segment used (past a 16-byte one its child loop re-read one box forever).
pub(super) fn parse_moof(h: &BoxHeader, body: &[u8]) -> Result<mp4::MoofBox> {
    let path = "segment/moof";
    let size = u32::try_from(body.len() + 8)
        .map_err(|_| Error::limit(path, h.start, format!("moof of {} bytes", h.size)))?;
    let mut moof_bytes = Vec::with_capacity(body.len() + 8);
    moof_bytes.extend_from_slice(&size.to_be_bytes());
    moof_bytes.extend_from_slice(b"moof");
    moof_bytes.extend_from_slice(body);
    let mut reader = std::io::Cursor::new(moof_bytes.as_slice());
    reader.set_position(8);
    mp4::MoofBox::read_box(&mut reader, u64::from(size))
        .map_err(|e| Error::malformed(path, h.start, e.to_string()))
}

/// The per-sample fields of a trun (the crate does not name its trun type).
pub(super) struct TrunFields<'a> {
    pub version: u8,
    pub sample_count: u32,
    pub durations: &'a [u32],
    pub sizes: &'a [u32],
    pub first_flags: Option<u32>,
    pub flags: &'a [u32],
    pub cts: &'a [u32],
}

/// The sample defaults in force: tfhd's, else trex's.
pub(super) struct Defaults {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

/// One [`SampleInfo`] per sample the trun declares, fields it leaves out taken from the defaults.
pub(super) fn trun_samples(trun: &TrunFields<'_>, d: &Defaults) -> Vec<SampleInfo> {
    (0..trun.sample_count as usize)
        .map(|i| SampleInfo {
            duration: trun.durations.get(i).copied().unwrap_or(d.duration),
            size: trun.sizes.get(i).copied().unwrap_or(d.size),
            flags: match (i, trun.first_flags) {
                (0, Some(f)) => f,
                _ => trun.flags.get(i).copied().unwrap_or(d.flags),
            },
            cts_offset: trun.cts.get(i).map_or(0, |&c| {
                if trun.version == 1 {
                    // Version 1 stores the same 32 bits as a signed offset.
                    i64::from(i32::from_be_bytes(c.to_be_bytes()))
                } else {
                    i64::from(c)
                }
            }),
        })
        .collect()
}

impl Defaults {
    pub(super) fn of(moof: &mp4::MoofBox, init: &InitInfo) -> Defaults {
        let tfhd = &moof.trafs[0].tfhd;
        Defaults {
            duration: tfhd
                .default_sample_duration
                .unwrap_or(init.default_duration),
            size: tfhd.default_sample_size.unwrap_or(init.default_size),
            flags: tfhd.default_sample_flags.unwrap_or(init.default_flags),
        }
    }
}

/// The trun's data offset, relative to the moof (default-base-is-moof), as a byte offset in the segment.
pub(super) fn data_offset(data_offset: Option<i32>, h: &BoxHeader) -> Result<u64> {
    let path = "segment/moof";
    let data_offset =
        data_offset.ok_or_else(|| Error::malformed(path, h.start, "trun has no data_offset"))?;
    u64::try_from(data_offset)
        .ok()
        .and_then(|d| h.start.checked_add(d))
        .ok_or_else(|| {
            Error::malformed(
                path,
                h.start,
                format!("trun data_offset {data_offset} points before the moof"),
            )
        })
}

/// The crate's readers assume 8-byte box headers, so a 64-bit size (§ 4.2) inside a moof would be read 8
/// bytes off; no writer needs one there.
fn refuse_large_size(h: &BoxHeader, parent: &str) -> Result<()> {
    let usertype = if &h.kind == b"uuid" { 16 } else { 0 };
    if h.header_len > 8 + usertype {
        return Err(Error::unsupported(
            format!("{parent}/{}", h.name()),
            h.start,
            "a 64-bit box size inside a moof",
        ));
    }
    Ok(())
}
