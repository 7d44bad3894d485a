//! One CMAF fragment: moof (mfhd, traf: tfhd, tfdt, trun) then the mdat header (ISO/IEC 14496-12 § 8.8).
//! mfhd, tfhd, tfdt and trun are the `mp4` crate's box types; their flags are derived here from the data and
//! each box's declared size is checked against what the crate wrote (see [`BoxWriter::mp4_box`]). The moof
//! and traf containers are written here: in mp4 0.14 `TrafBox::write_box` writes only the tfhd (tfdt and
//! trun are dropped, and its size leaves out the tfdt) and `MoofBox::write_box` returns 0.

use super::TRACK_ID;
use crate::boxes::writer::BoxWriter;
use crate::error::{Error, Result};
use mp4::Mp4Box;

/// A sample as the fragment writer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSample {
    pub size: u32,
    pub duration: u32,
    pub cts_offset: i32,
    pub sync: bool,
}

/// § 8.8.3.1 sample_flags: sample_depends_on = 2 (an I-frame / independent audio frame).
pub const FLAGS_SYNC: u32 = 0x0200_0000;
/// sample_depends_on = 1 and sample_is_non_sync_sample = 1.
pub const FLAGS_NON_SYNC: u32 = 0x0101_0000;

/// trun flags (§ 8.8.8.1).
const TRUN_DATA_OFFSET: u32 = 0x001;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_CTS: u32 = 0x800;

/// tfhd flag (§ 8.8.7.1): data offsets are relative to the start of the moof.
const DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

/// The mdat header for a payload of `payload_len` bytes (64-bit size when needed).
pub fn mdat_header(payload_len: u64) -> Vec<u8> {
    let mut w = BoxWriter::new();
    match u32::try_from(payload_len + 8) {
        Ok(size) => {
            w.u32(size);
            w.bytes(b"mdat");
        }
        Err(_) => {
            w.u32(1);
            w.bytes(b"mdat");
            w.u64(payload_len + 16);
        }
    }
    w.into_bytes()
}

/// moof + mdat header for `samples`, decoded from `base_dts` (track ticks). The payload (the samples' bytes,
/// in order) follows the returned bytes directly.
pub fn fragment_header(seq: u32, base_dts: u64, samples: &[OutSample]) -> Result<Vec<u8>> {
    let payload: u64 = samples.iter().map(|s| u64::from(s.size)).sum();
    let mdat = mdat_header(payload);
    let count = u32::try_from(samples.len())
        .map_err(|_| Error::TooLarge("too many samples in one fragment".into()))?;

    let mut moof = mp4::MoofBox::default();
    moof.mfhd.sequence_number = seq;
    moof.trafs.push(Default::default());
    let traf = &mut moof.trafs[0];
    traf.tfhd.track_id = TRACK_ID;
    traf.tfhd.flags = DEFAULT_BASE_IS_MOOF;
    let tfdt = traf.tfdt.get_or_insert_with(Default::default);
    tfdt.version = 1;
    tfdt.base_media_decode_time = base_dts;

    let trun = traf.trun.get_or_insert_with(Default::default);
    let any_cts = samples.iter().any(|s| s.cts_offset != 0);
    // Version 1 makes composition offsets signed (§ 8.8.8.2), needed once B-frames are presented at their
    // decode time without an edit list.
    trun.version = u8::from(samples.iter().any(|s| s.cts_offset < 0));
    trun.flags = TRUN_DATA_OFFSET
        | TRUN_DURATION
        | TRUN_SIZE
        | TRUN_FLAGS
        | if any_cts { TRUN_CTS } else { 0 };
    trun.sample_count = count;
    trun.data_offset = Some(0);
    trun.sample_durations = samples.iter().map(|s| s.duration).collect();
    trun.sample_sizes = samples.iter().map(|s| s.size).collect();
    trun.sample_flags = samples
        .iter()
        .map(|s| if s.sync { FLAGS_SYNC } else { FLAGS_NON_SYNC })
        .collect();
    if any_cts {
        // The crate stores offsets as u32; version 1 reads the same bits as i32.
        trun.sample_cts = samples
            .iter()
            .map(|s| u32::from_be_bytes(s.cts_offset.to_be_bytes()))
            .collect();
    }
    // data_offset points at the first payload byte: after the moof and the mdat header. It can only be
    // known once the moof is laid out; no box's size depends on the offset's value.
    let traf = &moof.trafs[0];
    let traf_size = 8
        + traf.tfhd.box_size()
        + traf.tfdt.as_ref().map_or(0, |b| b.box_size())
        + traf.trun.as_ref().map_or(0, |b| b.box_size());
    let moof_size = 8 + moof.mfhd.box_size() + traf_size;
    let data_offset = moof_size + mdat.len() as u64;
    let trun = moof.trafs[0].trun.get_or_insert_with(Default::default);
    trun.data_offset = Some(
        i32::try_from(data_offset).map_err(|_| Error::TooLarge("moof larger than 2 GiB".into()))?,
    );

    let traf = &moof.trafs[0];
    let mut w = BoxWriter::new();
    w.boxed(b"moof", |w| {
        w.mp4_box(&moof.mfhd)?;
        w.boxed(b"traf", |w| {
            w.mp4_box(&traf.tfhd)?;
            if let Some(tfdt) = &traf.tfdt {
                w.mp4_box(tfdt)?;
            }
            if let Some(trun) = &traf.trun {
                w.mp4_box(trun)?;
            }
            Ok(())
        })
    })?;
    if w.len() as u64 != moof_size {
        return Err(Error::Internal(format!(
            "moof laid out as {moof_size} bytes but written as {}",
            w.len()
        )));
    }
    w.bytes(&mdat);
    Ok(w.into_bytes())
}

/// The styp that opens every media segment (§ 8.16.2; CMAF 7.3.2.2 brand 'cmfs').
pub fn styp() -> Vec<u8> {
    let mut w = BoxWriter::new();
    // A box of fixed layout; cannot fail.
    let _ = w.boxed(b"styp", |w| {
        w.bytes(b"msdh");
        w.u32(0);
        for b in [b"msdh", b"msix", b"cmfs"] {
            w.bytes(b);
        }
        Ok(())
    });
    w.into_bytes()
}
