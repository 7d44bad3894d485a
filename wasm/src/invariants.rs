//! What a package must hold once its output is read back by an independent path: init segments parse and
//! agree with the rendition, every media segment parses, fragments are continuous, sample counts match the
//! plan, every I-frame byte range stands alone, and every playlist re-parses. The fuzz targets (wasm/fuzz)
//! and their regression test (wasm/tests/fuzz_regressions.rs) run these checks; each returns the first
//! violation as text rather than panicking, so a caller decides what a violation means.

use crate::cmaf::read::{read_init, read_segment, FragmentInfo, InitInfo};
use crate::cmaf::{MediaSegment, Rendition};
use crate::codec::parse_sample_entry;
use crate::demux::TrackKind;
use crate::package::{segment, Package, SegmentOptions};
use crate::plan::{PlanOptions, SegmentPlan, TrackPlan};
use crate::source::Source;

/// The `check_playlist` target's check lives beside the URI extractor it holds to account.
pub use crate::hls::hlsjs_model::check_playlist_bytes;

/// A broken invariant: which rendition or file, and what was expected.
pub type Violation = String;

/// The fuzzers' segment length: short, so the small fixtures they start from make several segments.
pub const FUZZ_TARGET_DURATION_S: f64 = 1.0;

/// The `segment_roundtrip` fuzz target: any input may be refused with an error; one that is packaged must
/// hold every invariant of [`check_package`].
pub fn check_file(file: &[u8]) -> Result<(), Violation> {
    let opts = SegmentOptions {
        plan: PlanOptions {
            target_duration_s: FUZZ_TARGET_DURATION_S,
        },
        ..SegmentOptions::default()
    };
    let src = file.to_vec();
    match segment(&src, &opts) {
        Ok(pkg) => check_package(&src, &pkg),
        Err(_) => Ok(()),
    }
}

/// The `read_fmp4` fuzz target: `fragments` (moof + mdat pairs) after the ftyp and moov of the fragmented
/// file `head_of`, so mutations land on tfhd, tfdt and trun instead of on the movie header; then as
/// [`check_file`].
pub fn check_fmp4_fragments(head_of: &[u8], fragments: &[u8]) -> Result<(), Violation> {
    let mut file = head_of
        .get(..movie_end(head_of))
        .unwrap_or_default()
        .to_vec();
    file.extend_from_slice(fragments);
    check_file(&file)
}

/// Where the first top-level moov of `file` ends (0 when there is none).
pub fn movie_end(file: &[u8]) -> usize {
    let mut at = 0u64;
    while let Ok(h) = crate::boxes::read_header(
        file.get(crate::boxes::index(at)..).unwrap_or_default(),
        at,
        file.len() as u64,
        crate::boxes::Level::Top,
        "file",
    ) {
        if &h.kind == b"moov" {
            return crate::boxes::index(h.end());
        }
        at = h.end();
    }
    0
}

/// Bytes before the moov in the `moov_roundtrip` fuzz target: an ftyp and an mdat of zeros, long enough
/// that the chunk offsets of every committed fixture's moov land inside it.
pub const MOOV_PREFIX_BYTES: usize = 96 << 10;

/// A file made of an ftyp, an mdat of zeros ([`MOOV_PREFIX_BYTES`] in all) and then `moov`: fuzzing only
/// the moov spends every mutation on the tables instead of on sample payload the core never reads.
pub fn file_with_moov(moov: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(MOOV_PREFIX_BYTES + moov.len());
    f.extend_from_slice(&[0, 0, 0, 28]);
    f.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2mp41");
    let mdat = MOOV_PREFIX_BYTES - f.len();
    let mdat = u32::try_from(mdat).expect("MOOV_PREFIX_BYTES is far below 4 GiB");
    f.extend_from_slice(&mdat.to_be_bytes());
    f.extend_from_slice(b"mdat");
    f.resize(MOOV_PREFIX_BYTES, 0);
    f.extend_from_slice(moov);
    f
}

/// The `read_cmaf` fuzz target: any bytes read as an init segment and as a media segment of `init`'s track
/// return Ok or Err; fragments that read back lie inside the bytes.
pub fn check_cmaf_bytes(bytes: &[u8], init: &InitInfo) -> Result<(), Violation> {
    let _ = read_init(bytes);
    match read_segment(bytes, init) {
        Ok(frags) => check_fragments(bytes, &frags),
        Err(_) => Ok(()),
    }
}

/// The `sample_entry` fuzz target: any bytes parse or are refused; a parsed entry keeps its bytes verbatim.
pub fn check_sample_entry(bytes: &[u8]) -> Result<(), Violation> {
    match parse_sample_entry(bytes, 0) {
        Ok(e) if e.bytes != bytes => {
            Err("the parsed entry does not keep its bytes verbatim".into())
        }
        Ok(e) if e.codec.is_video() != e.video.is_some() => {
            Err(format!("{:?} entry with video info {:?}", e.codec, e.video))
        }
        _ => Ok(()),
    }
}

/// Check every invariant of `pkg`, whose media segments name byte ranges of `src`.
pub fn check_package(src: &dyn Source, pkg: &Package) -> Result<(), Violation> {
    let plans: Vec<_> = pkg.plan.video.iter().chain(pkg.plan.audio.iter()).collect();
    if plans.len() != pkg.renditions.len() {
        return Err(format!(
            "{} track plans but {} renditions",
            plans.len(),
            pkg.renditions.len()
        ));
    }
    for (r, tp) in pkg.renditions.iter().zip(plans) {
        check_rendition(src, r, tp)?;
    }
    check_playlists(pkg)
}

/// One rendition: its init segment reads back as the rendition, and its segments as the plan says.
fn check_rendition(src: &dyn Source, r: &Rendition, tp: &TrackPlan) -> Result<(), Violation> {
    let id = &r.id;
    let init = check_init(r)?;
    if r.segments.len() != tp.segments.len() {
        return Err(format!(
            "{id}: {} segments written for {} planned",
            r.segments.len(),
            tp.segments.len()
        ));
    }
    let mut next_dts: Option<u64> = None;
    let mut samples = 0usize;
    if r.data.len() != r.segments.len() {
        return Err(format!(
            "{id}: {} segment recipes for {} segments",
            r.data.len(),
            r.segments.len()
        ));
    }
    for (k, ((seg, data), sp)) in r.segments.iter().zip(&r.data).zip(&tp.segments).enumerate() {
        let at = format!("{id}/segment {k}");
        let bytes = data
            .assemble(src)
            .map_err(|e| format!("{at} does not assemble: {e}"))?;
        if bytes.len() as u64 != seg.len || data.len() != seg.len {
            return Err(format!(
                "{at} assembles to {} bytes but declares {}",
                bytes.len(),
                seg.len
            ));
        }
        samples += check_segment(&at, &bytes, &init, r.kind, seg, sp, &mut next_dts)?;
    }
    let planned: usize = tp.segments.iter().map(|s| s.samples.len()).sum();
    if samples != planned {
        return Err(format!(
            "{id} holds {samples} samples but the plan has {planned}"
        ));
    }
    Ok(())
}

/// The rendition's init segment re-parses with the rendition's timescale, codec and kind.
fn check_init(r: &Rendition) -> Result<InitInfo, Violation> {
    let id = &r.id;
    let init = read_init(&r.init).map_err(|e| format!("{id}/init.mp4 does not re-parse: {e}"))?;
    if init.timescale != r.timescale {
        return Err(format!(
            "{id}/init.mp4 timescale {} but the rendition's is {}",
            init.timescale, r.timescale
        ));
    }
    if init.entry.codec_string != r.entry.codec_string || init.kind != r.kind {
        return Err(format!(
            "{id}/init.mp4 reads back as {:?} {} but the rendition is {:?} {}",
            init.kind, init.entry.codec_string, r.kind, r.entry.codec_string
        ));
    }
    Ok(init)
}

/// One assembled media segment (`at` names it): it re-parses, starts where the plan says and where the
/// previous fragment ended, holds the planned samples, and its I-frame ranges stand alone. The number of
/// samples it holds.
fn check_segment(
    at: &str,
    bytes: &[u8],
    init: &InitInfo,
    kind: TrackKind,
    seg: &MediaSegment,
    sp: &SegmentPlan,
    next_dts: &mut Option<u64>,
) -> Result<usize, Violation> {
    let frags = read_segment(bytes, init).map_err(|e| format!("{at} does not re-parse: {e}"))?;
    check_fragments(bytes, &frags).map_err(|e| format!("{at}: {e}"))?;
    if let Some(f) = frags.iter().find(|f| f.samples.is_empty()) {
        return Err(format!("{at}: fragment at byte {} is empty", f.moof_offset));
    }
    let first = frags
        .first()
        .ok_or_else(|| format!("{at} holds no fragment"))?;
    if first.base_decode_time != seg.start {
        return Err(format!(
            "{at} starts at tfdt {} but the plan says {}",
            first.base_decode_time, seg.start
        ));
    }
    let (n, ticks) = check_continuity(at, &frags, next_dts)?;
    if n != sp.samples.len() {
        return Err(format!(
            "{at} holds {n} samples but the plan has {}",
            sp.samples.len()
        ));
    }
    if ticks != seg.duration {
        return Err(format!(
            "{at} lasts {ticks} ticks but declares {}",
            seg.duration
        ));
    }
    if kind == TrackKind::Video && !first.samples[0].is_sync() {
        return Err(format!("{at} does not start with a key frame"));
    }
    check_iframe_ranges(at, bytes, init, seg)?;
    Ok(n)
}

/// Each fragment starts where the previous one (in this segment or the one before) ended. The samples and
/// ticks the fragments hold.
fn check_continuity(
    at: &str,
    frags: &[FragmentInfo],
    next_dts: &mut Option<u64>,
) -> Result<(usize, u64), Violation> {
    let mut n = 0usize;
    let mut ticks = 0u64;
    for f in frags {
        if let Some(d) = *next_dts {
            if f.base_decode_time != d {
                return Err(format!(
                    "{at}: fragment at byte {} has tfdt {} but the previous one ended at {d}",
                    f.moof_offset, f.base_decode_time
                ));
            }
        }
        let d = f.duration();
        *next_dts = f.base_decode_time.checked_add(d);
        ticks += d;
        n += f.samples.len();
    }
    Ok((n, ticks))
}

/// Every I-frame byte range the segment declares lies inside it and stands alone ([`check_iframe`]).
fn check_iframe_ranges(
    at: &str,
    bytes: &[u8],
    init: &InitInfo,
    seg: &MediaSegment,
) -> Result<(), Violation> {
    for f in &seg.iframes {
        let range = f
            .offset
            .checked_add(f.len)
            .and_then(|end| bytes.get(crate::boxes::index(f.offset)..crate::boxes::index(end)))
            .ok_or_else(|| {
                format!(
                    "{at}: I-frame range [{}, +{}) is outside the segment",
                    f.offset, f.len
                )
            })?;
        check_iframe(range, init)
            .map_err(|e| format!("{at}: I-frame range [{}, +{}) {e}", f.offset, f.len))?;
    }
    Ok(())
}

/// Every fragment's samples lie inside `bytes`, as [`read_segment`] promises its callers.
pub fn check_fragments(bytes: &[u8], frags: &[FragmentInfo]) -> Result<(), Violation> {
    for f in frags {
        let need: u64 = f.samples.iter().map(|s| u64::from(s.size)).sum();
        if f.data_offset
            .checked_add(need)
            .is_none_or(|e| e > bytes.len() as u64)
        {
            return Err(format!(
                "fragment at byte {} places {need} bytes at {}, past the end ({} bytes)",
                f.moof_offset,
                f.data_offset,
                bytes.len()
            ));
        }
    }
    Ok(())
}

/// An I-frame byte range is one moof + mdat holding exactly one sync sample.
fn check_iframe(range: &[u8], init: &InitInfo) -> Result<(), Violation> {
    let alone = read_segment(range, init).map_err(|e| format!("does not parse alone: {e}"))?;
    match alone.as_slice() {
        [f] if f.samples.len() == 1 && f.samples[0].is_sync() => Ok(()),
        [f] => Err(format!(
            "holds {} samples (first sync: {})",
            f.samples.len(),
            f.samples.first().is_some_and(|s| s.is_sync())
        )),
        fs => Err(format!("holds {} fragments", fs.len())),
    }
}

/// Every playlist re-parses as the kind it should be, and lists what was written.
fn check_playlists(pkg: &Package) -> Result<(), Violation> {
    use m3u8_rs::Playlist;
    for (path, text) in &pkg.playlists {
        if path == crate::layout::MANIFEST {
            check_mpd(pkg, text)?;
            continue;
        }
        let parsed = m3u8_rs::parse_playlist_res(text.as_bytes())
            .map_err(|e| format!("{path} does not re-parse: {e:?}"))?;
        match parsed {
            Playlist::MasterPlaylist(m) => {
                if path != crate::layout::MASTER {
                    return Err(format!("{path} parses as a multivariant playlist"));
                }
                if m.variants.is_empty() {
                    return Err(format!("{path} lists no variants"));
                }
            }
            Playlist::MediaPlaylist(m) => {
                let r = pkg
                    .renditions
                    .iter()
                    .find(|r| path.starts_with(&format!("{}/", r.id)))
                    .ok_or_else(|| format!("{path} belongs to no rendition"))?;
                let want = if m.i_frames_only {
                    r.segments.iter().map(|s| s.iframes.len()).sum()
                } else {
                    r.segments.len()
                };
                if m.segments.len() != want {
                    return Err(format!(
                        "{path} lists {} entries; {want} were written",
                        m.segments.len()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The MPD re-parses, and each rendition is one Representation whose expanded SegmentTemplate names its
/// init segment and exactly its segments, with their tfdt and durations to the tick.
fn check_mpd(pkg: &Package, text: &str) -> Result<(), Violation> {
    use crate::hls::resolve::Strictness;
    let mpd = crate::dash::Mpd::parse(text).map_err(|e| format!("manifest.mpd: {e}"))?;
    let reps = crate::dash::refs::representations(
        crate::layout::MANIFEST,
        &mpd,
        usize::MAX,
        Strictness::Package,
    )
    .map_err(|e| format!("manifest.mpd: {e}"))?;
    if reps.len() != pkg.renditions.len() {
        return Err(format!(
            "manifest.mpd has {} Representations; {} renditions were written",
            reps.len(),
            pkg.renditions.len()
        ));
    }
    for r in &pkg.renditions {
        let rep = reps
            .iter()
            .find(|x| x.id == r.id)
            .ok_or_else(|| format!("manifest.mpd has no Representation {}", r.id))?;
        let want: Vec<(String, u64, u64)> = r
            .segments
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let name = crate::layout::segment_name(k);
                (crate::layout::in_dir(&r.id, &name), s.start, s.duration)
            })
            .collect();
        let got: Vec<(String, u64, u64)> = rep
            .segments
            .iter()
            .map(|s| (s.path.clone(), s.start, s.duration))
            .collect();
        if rep.timescale != r.timescale
            || rep.init != crate::layout::in_dir(&r.id, crate::layout::INIT)
            || got != want
        {
            return Err(format!(
                "manifest.mpd: Representation {} does not describe the written segments",
                r.id
            ));
        }
    }
    Ok(())
}
