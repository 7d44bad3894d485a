//! Reading CMAF back: init segments and media segments (ISO/IEC 14496-12 § 8.8). Used to check what the
//! writer made (tests, fuzzing), by the conformance checker, and by the origin on uploads from strangers, so
//! every size and count is checked before it is trusted, as in the demuxer's guard pass.

use crate::boxes::{children, index, Cursor};
use crate::codec::{parse_sample_entry, SampleEntry};
use crate::demux::guard::{index_moov, Span, TrakIndex};
use crate::demux::tracks::handler_type;
use crate::demux::TrackKind;
use crate::error::{Error, Result};
use crate::limits::Limits;

use super::moof;

/// Samples one trun may declare: defaults-only truns cost no bytes per sample, so their count is bounded here.
pub const MAX_TRUN_SAMPLES: u64 = 1 << 20;
/// Samples one whole media segment may declare, over all its fragments: a 104-byte fragment whose trun
/// takes every field from the defaults declares [`MAX_TRUN_SAMPLES`], so a bound per trun alone lets a
/// small segment ask for millions of sample records. A real segment holds hundreds.
pub const MAX_SEGMENT_SAMPLES: u64 = 1 << 20;

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
    let mh = find_moov(bytes)?;
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
    let spans = InitSpans::of(t, &mh)?;
    let track_id = read_track_id(moov_bytes, &spans.tkhd)?;
    let (timescale, language) = read_mdhd(moov_bytes, &spans.mdhd)?;
    let kind = match &handler_type(moov_bytes, &spans.hdlr)? {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };
    let entry = parse_sample_entry(
        &moov_bytes[spans.entry.range.clone()],
        spans.entry.header.start,
    )?;
    // The demuxer reads a vp08 entry (a VP8 source goes through the ladder); a package never carries one.
    if let Some(why) = entry.codec.no_cmaf_packaging() {
        return Err(Error::unsupported(
            "init/moov/trak/mdia/minf/stbl/stsd",
            spans.entry.header.start,
            why,
        ));
    }
    let trex = index.trex.first().ok_or_else(|| {
        Error::malformed(
            "init/moov",
            mh.start,
            "has no mvex/trex: not a fragmented init segment",
        )
    })?;
    let [default_duration, default_size, default_flags] =
        read_trex_defaults(moov_bytes, trex, track_id)?;
    Ok(InitInfo {
        track_id,
        kind,
        timescale,
        language,
        entry,
        default_duration,
        default_size,
        default_flags,
    })
}

/// The init segment's one moov: only ftyp, free and skip may stand beside it.
fn find_moov(bytes: &[u8]) -> Result<crate::boxes::BoxHeader> {
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
    moov.ok_or_else(|| Error::malformed("init", 0, "no moov box"))
}

/// The boxes of the init segment's trak that must be there.
struct InitSpans<'a> {
    tkhd: Span,
    mdhd: Span,
    hdlr: Span,
    entry: &'a Span,
}

impl<'a> InitSpans<'a> {
    fn of(t: &'a TrakIndex, mh: &crate::boxes::BoxHeader) -> Result<InitSpans<'a>> {
        let need = |s: &Option<Span>, name: &str| {
            s.clone().ok_or_else(|| {
                Error::malformed("init/moov/trak", mh.start, format!("has no {name}"))
            })
        };
        Ok(InitSpans {
            tkhd: need(&t.tkhd, "tkhd")?,
            mdhd: need(&t.mdhd, "mdhd")?,
            hdlr: need(&t.hdlr, "hdlr")?,
            entry: t.entries.first().ok_or_else(|| {
                Error::malformed("init/moov/trak", mh.start, "has no sample entry")
            })?,
        })
    }
}

/// A box's payload inside the moov's bytes.
fn payload<'a>(moov_bytes: &'a [u8], s: &Span) -> &'a [u8] {
    &moov_bytes[s.range.clone()][s.header.header_bytes()..]
}

/// tkhd's track_ID.
fn read_track_id(moov_bytes: &[u8], tkhd: &Span) -> Result<u32> {
    let mut c = Cursor::new(
        payload(moov_bytes, tkhd),
        tkhd.header.payload_start(),
        "init/tkhd",
    );
    let (v, _) = c.version_flags()?;
    c.skip(
        if v == 1 { 16 } else { 8 },
        "creation and modification times",
    )?;
    c.u32("track_ID")
}

/// mdhd's timescale and language (three 5-bit letters).
fn read_mdhd(moov_bytes: &[u8], mdhd: &Span) -> Result<(u32, String)> {
    let mut c = Cursor::new(
        payload(moov_bytes, mdhd),
        mdhd.header.payload_start(),
        "init/mdhd",
    );
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
    Ok((timescale, language))
}

/// trex's default sample duration, size and flags; the trex must describe the init segment's track.
fn read_trex_defaults(moov_bytes: &[u8], trex: &Span, track_id: u32) -> Result<[u32; 3]> {
    let mut c = Cursor::new(
        payload(moov_bytes, trex),
        trex.header.payload_start(),
        "init/mvex/trex",
    );
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
    Ok([
        c.u32("default_sample_duration")?,
        c.u32("default_sample_size")?,
        c.u32("default_sample_flags")?,
    ])
}

/// Parse a media segment: optional styp/sidx/prft/emsg, then moof + mdat pairs.
pub fn read_segment(bytes: &[u8], init: &InitInfo) -> Result<Vec<FragmentInfo>> {
    let mut frags: Vec<FragmentInfo> = Vec::new();
    let mut pending: Option<FragmentInfo> = None;
    let mut samples = 0u64;
    for child in children(bytes, 0, "segment") {
        let (h, body) = child?;
        match &h.kind {
            b"styp" | b"sidx" | b"prft" | b"emsg" | b"free" | b"skip"
                if frags.is_empty() && pending.is_none() => {}
            b"moof" if pending.is_none() => {
                let f = read_moof(&h, body, init)?;
                samples += u64::try_from(f.samples.len()).unwrap_or(u64::MAX);
                if samples > MAX_SEGMENT_SAMPLES {
                    return Err(Error::limit(
                        "segment/moof/traf/trun",
                        h.start,
                        format!(
                            "the segment declares over {MAX_SEGMENT_SAMPLES} samples by this fragment"
                        ),
                    ));
                }
                pending = Some(f);
            }
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
    moof::guard_moof(h, body)?;
    let moof = moof::parse_moof(h, body)?;
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
    let fields = moof::TrunFields {
        version: trun.version,
        sample_count: trun.sample_count,
        durations: &trun.sample_durations,
        sizes: &trun.sample_sizes,
        first_flags: trun.first_sample_flags,
        flags: &trun.sample_flags,
        cts: &trun.sample_cts,
    };
    let samples = moof::trun_samples(&fields, &moof::Defaults::of(&moof, init));
    Ok(FragmentInfo {
        moof_offset: h.start,
        sequence: moof.mfhd.sequence_number,
        track_id: traf.tfhd.track_id,
        base_decode_time: tfdt.base_media_decode_time,
        data_offset: moof::data_offset(trun.data_offset, h)?,
        samples,
    })
}
