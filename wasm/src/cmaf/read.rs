//! Reading CMAF back: init segments and media segments (ISO/IEC 14496-12 § 8.8). Used to check what the
//! writer made (tests, fuzzing), by the conformance checker, and by the origin on uploads from strangers, so
//! every size and count is checked before it is trusted, as in the demuxer's guard pass.

use crate::boxes::{children, index, Cursor};
use crate::codec::{parse_sample_entry, SampleEntry};
use crate::demux::guard::{index_moov, Span};
use crate::demux::tracks::handler_type;
use crate::demux::TrackKind;
use crate::error::{Error, Result};
use crate::limits::Limits;
use mp4::ReadBox;

/// Samples one trun may declare: defaults-only truns cost no bytes per sample, so their count is bounded here.
pub const MAX_TRUN_SAMPLES: u64 = 1 << 20;

/// What an init segment declares about its (single) track.
#[derive(Debug, Clone)]
pub struct InitInfo {
    pub track_id: u32,
    pub kind: TrackKind,
    pub timescale: u32,
    pub language: String,
    pub entry: SampleEntry,
    /// trex defaults (§ 8.8.3): duration, size, flags.
    pub default_duration: u32,
    pub default_size: u32,
    pub default_flags: u32,
}

/// One sample of a fragment as the trun (or its defaults) describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleInfo {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
    /// Composition offset; signed in trun version 1.
    pub cts_offset: i64,
}

impl SampleInfo {
    /// sample_is_non_sync_sample clear (§ 8.8.3.1).
    pub fn is_sync(&self) -> bool {
        self.flags & 0x0001_0000 == 0
    }
}

#[derive(Debug, Clone)]
pub struct FragmentInfo {
    /// Byte offset of the moof in the segment.
    pub moof_offset: u64,
    pub sequence: u32,
    pub track_id: u32,
    pub base_decode_time: u64,
    /// Byte offset of the first sample's data in the segment.
    pub data_offset: u64,
    pub samples: Vec<SampleInfo>,
}

impl FragmentInfo {
    pub fn duration(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }
}

/// Parse an init segment: ftyp, then a moov with exactly one track and an mvex.
pub fn read_init(bytes: &[u8]) -> Result<InitInfo> {
    let mut moov = None;
    for child in children(bytes, 0, "init") {
        let (h, _) = child?;
        match &h.kind {
            b"ftyp" | b"free" | b"skip" => {}
            b"moov" if moov.is_none() => moov = Some(h),
            b"moov" => return Err(Error::malformed("init/moov", h.start, "duplicate moov")),
            _ => {
                return Err(Error::malformed(
                    format!("init/{}", h.name()),
                    h.start,
                    "unexpected box in an init segment (expected ftyp and moov only)",
                ))
            }
        }
    }
    let mh = moov.ok_or_else(|| Error::malformed("init", 0, "no moov box"))?;
    let moov_bytes = &bytes[index(mh.start)..index(mh.end())];
    let index = index_moov(moov_bytes, &mh, &Limits::default())?;
    let [t] = index.traks.as_slice() else {
        return Err(Error::malformed(
            "init/moov",
            mh.start,
            format!(
                "holds {} tracks; a CMAF init segment holds exactly one",
                index.traks.len()
            ),
        ));
    };
    let need = |s: &Option<Span>, name: &str| {
        s.clone()
            .ok_or_else(|| Error::malformed("init/moov/trak", mh.start, format!("has no {name}")))
    };
    let tkhd = need(&t.tkhd, "tkhd")?;
    let mdhd = need(&t.mdhd, "mdhd")?;
    let hdlr = need(&t.hdlr, "hdlr")?;
    let entry_span = t
        .entries
        .first()
        .ok_or_else(|| Error::malformed("init/moov/trak", mh.start, "has no sample entry"))?;
    let local = |s: &Span| &moov_bytes[s.range.clone()][s.header.header_bytes()..];
    let mut c = Cursor::new(local(&tkhd), tkhd.header.payload_start(), "init/tkhd");
    let (v, _) = c.version_flags()?;
    c.skip(
        if v == 1 { 16 } else { 8 },
        "creation and modification times",
    )?;
    let track_id = c.u32("track_ID")?;
    let mut c = Cursor::new(local(&mdhd), mdhd.header.payload_start(), "init/mdhd");
    let (v, _) = c.version_flags()?;
    c.skip(
        if v == 1 { 16 } else { 8 },
        "creation and modification times",
    )?;
    let timescale = c.u32("timescale")?;
    c.skip(if v == 1 { 8 } else { 4 }, "duration")?;
    let lang = c.u16("language")?;
    let language: String = [10u16, 5, 0]
        .iter()
        .map(|shift| char::from(((lang >> shift) & 0x1f) as u8 + 0x60))
        .collect();
    let kind = match &handler_type(moov_bytes, &hdlr)? {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };
    let entry = parse_sample_entry(
        &moov_bytes[entry_span.range.clone()],
        entry_span.header.start,
    )?;
    let trex = index.trex.first().ok_or_else(|| {
        Error::malformed(
            "init/moov",
            mh.start,
            "has no mvex/trex: not a fragmented init segment",
        )
    })?;
    let mut c = Cursor::new(local(trex), trex.header.payload_start(), "init/mvex/trex");
    c.version_flags()?;
    let trex_track = c.u32("track_ID")?;
    if trex_track != track_id {
        return Err(Error::malformed(
            "init/mvex/trex",
            trex.header.start,
            format!("describes track {trex_track} but the track is {track_id}"),
        ));
    }
    c.u32("default_sample_description_index")?;
    Ok(InitInfo {
        track_id,
        kind,
        timescale,
        language,
        entry,
        default_duration: c.u32("default_sample_duration")?,
        default_size: c.u32("default_sample_size")?,
        default_flags: c.u32("default_sample_flags")?,
    })
}

/// Parse a media segment: optional styp/sidx/prft/emsg, then moof + mdat pairs.
pub fn read_segment(bytes: &[u8], init: &InitInfo) -> Result<Vec<FragmentInfo>> {
    let mut frags: Vec<FragmentInfo> = Vec::new();
    let mut pending: Option<FragmentInfo> = None;
    for child in children(bytes, 0, "segment") {
        let (h, body) = child?;
        match &h.kind {
            b"styp" | b"sidx" | b"prft" | b"emsg" | b"free" | b"skip"
                if frags.is_empty() && pending.is_none() => {}
            b"moof" if pending.is_none() => pending = Some(read_moof(&h, body, init)?),
            b"mdat" => {
                let f = pending.take().ok_or_else(|| {
                    Error::malformed("segment/mdat", h.start, "mdat without a moof before it")
                })?;
                let need: u64 = f.samples.iter().map(|s| u64::from(s.size)).sum();
                let end = f.data_offset.checked_add(need);
                if f.data_offset < h.payload_start() || end.is_none_or(|e| e > h.end()) {
                    return Err(Error::malformed(
                        "segment/moof/traf/trun",
                        f.moof_offset,
                        format!(
                            "sample data [{}, +{need}) lies outside the mdat payload [{}, {})",
                            f.data_offset,
                            h.payload_start(),
                            h.end()
                        ),
                    ));
                }
                frags.push(f);
            }
            _ => {
                return Err(Error::malformed(
                    format!("segment/{}", h.name()),
                    h.start,
                    "unexpected box in a CMAF media segment (expected styp, moof, mdat)",
                ))
            }
        }
    }
    if let Some(f) = pending {
        return Err(Error::malformed(
            "segment/moof",
            f.moof_offset,
            "moof without an mdat after it",
        ));
    }
    if frags.is_empty() {
        return Err(Error::malformed(
            "segment",
            0,
            "no moof/mdat: not a CMAF media segment",
        ));
    }
    Ok(frags)
}

fn read_moof(h: &crate::boxes::BoxHeader, body: &[u8], init: &InitInfo) -> Result<FragmentInfo> {
    let path = "segment/moof";
    // Guard: one traf with at most one trun, whose count fits its box, before the crate reads it.
    let mut trafs = 0;
    for child in children(body, h.payload_start(), path) {
        let (ch, cb) = child?;
        refuse_large_size(&ch, "segment/moof")?;
        if &ch.kind != b"traf" {
            continue;
        }
        trafs += 1;
        let mut truns = 0;
        for g in children(cb, ch.payload_start(), "segment/moof/traf") {
            let (gh, gb) = g?;
            refuse_large_size(&gh, "segment/moof/traf")?;
            if &gh.kind == b"trun" {
                truns += 1;
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
            }
        }
        if truns != 1 {
            return Err(Error::unsupported(
                "segment/moof/traf",
                ch.start,
                format!("{truns} trun boxes (exactly one is supported)"),
            ));
        }
    }
    if trafs != 1 {
        return Err(Error::malformed(
            path,
            h.start,
            format!("holds {trafs} traf boxes; CMAF has exactly one"),
        ));
    }
    // The crate locates a box's start as "position - 8": hand it the moof behind an 8-byte header whatever
    // header the segment used (past a 16-byte one its child loop re-read one box forever).
    let size = u32::try_from(body.len() + 8)
        .map_err(|_| Error::limit(path, h.start, format!("moof of {} bytes", h.size)))?;
    let mut moof_bytes = Vec::with_capacity(body.len() + 8);
    moof_bytes.extend_from_slice(&size.to_be_bytes());
    moof_bytes.extend_from_slice(b"moof");
    moof_bytes.extend_from_slice(body);
    let mut reader = std::io::Cursor::new(moof_bytes.as_slice());
    reader.set_position(8);
    let moof = mp4::MoofBox::read_box(&mut reader, u64::from(size))
        .map_err(|e| Error::malformed(path, h.start, e.to_string()))?;
    let traf = &moof.trafs[0];
    let trun = traf
        .trun
        .as_ref()
        .ok_or_else(|| Error::malformed(path, h.start, "traf has no trun"))?;
    let tfdt = traf
        .tfdt
        .as_ref()
        .ok_or_else(|| Error::malformed(path, h.start, "traf has no tfdt (CMAF 7.5.16)"))?;
    if traf.tfhd.flags & 0x02_0000 == 0 || traf.tfhd.base_data_offset.is_some() {
        return Err(Error::malformed(
            path,
            h.start,
            "tfhd must set default-base-is-moof and no base-data-offset (CMAF 7.5.16)",
        ));
    }
    let d_dur = traf
        .tfhd
        .default_sample_duration
        .unwrap_or(init.default_duration);
    let d_size = traf.tfhd.default_sample_size.unwrap_or(init.default_size);
    let d_flags = traf.tfhd.default_sample_flags.unwrap_or(init.default_flags);
    let n = trun.sample_count as usize;
    let samples = (0..n)
        .map(|i| SampleInfo {
            duration: trun.sample_durations.get(i).copied().unwrap_or(d_dur),
            size: trun.sample_sizes.get(i).copied().unwrap_or(d_size),
            flags: match (i, trun.first_sample_flags) {
                (0, Some(f)) => f,
                _ => trun.sample_flags.get(i).copied().unwrap_or(d_flags),
            },
            cts_offset: trun.sample_cts.get(i).map_or(0, |&c| {
                if trun.version == 1 {
                    // Version 1 stores the same 32 bits as a signed offset.
                    i64::from(i32::from_be_bytes(c.to_be_bytes()))
                } else {
                    i64::from(c)
                }
            }),
        })
        .collect();
    let data_offset = trun
        .data_offset
        .ok_or_else(|| Error::malformed(path, h.start, "trun has no data_offset"))?;
    let data_offset = u64::try_from(data_offset)
        .ok()
        .and_then(|d| h.start.checked_add(d))
        .ok_or_else(|| {
            Error::malformed(
                path,
                h.start,
                format!("trun data_offset {data_offset} points before the moof"),
            )
        })?;
    Ok(FragmentInfo {
        moof_offset: h.start,
        sequence: moof.mfhd.sequence_number,
        track_id: traf.tfhd.track_id,
        base_decode_time: tfdt.base_media_decode_time,
        data_offset,
        samples,
    })
}

/// The crate's readers assume 8-byte box headers, so a 64-bit size (§ 4.2) inside a moof would be read 8
/// bytes off; no writer needs one there.
fn refuse_large_size(h: &crate::boxes::BoxHeader, parent: &str) -> Result<()> {
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
