//! HLS Authoring Spec 6.1, the I-frame playlists themselves: each entry's byte range (RFC 8216 § 4.3.3.6) is
//! a complete moof + mdat whose one sample is a sync sample and a key frame in its bitstream, so a player
//! can fetch the range alone and decode it.

use super::bitstream::is_key_frame;
use super::load::{read_file, Media, Pkg};
use super::paths::resolve;
use super::{CheckLimits, PackageReader, Report, Severity};
use crate::cmaf::read::{read_init, read_segment, InitInfo};

const RULE: &str = "6.1";
const TITLE: &str = "I-frame byte ranges are one key frame as moof + mdat";

pub(crate) fn check_iframes(
    reader: &dyn PackageReader,
    pkg: &Pkg,
    limits: &CheckLimits,
    report: &mut Report,
) {
    let mut budget = limits.max_iframe_entries;
    // The last file read: consecutive entries usually address the same segment.
    let mut cache: Option<(String, Vec<u8>)> = None;
    for m in pkg.medias.iter().filter(|m| m.pl.i_frames_only) {
        let go_on = check_playlist(reader, m, limits, &mut budget, &mut cache, report);
        if !go_on {
            return;
        }
    }
}

/// Check the entries of one I-frame playlist; `false` when the check stops there (an entry without an
/// init segment, or the package's entry budget spent).
fn check_playlist(
    reader: &dyn PackageReader,
    m: &Media,
    limits: &CheckLimits,
    budget: &mut usize,
    cache: &mut Option<(String, Vec<u8>)>,
    report: &mut Report,
) -> bool {
    let mut init: Option<InitInfo> = None;
    let mut prev_end: Option<(String, u64)> = None;
    for (k, s) in m.pl.segments.iter().enumerate() {
        let loc = m.line(k);
        if let Some(map) = &s.map {
            init = mapped_init(reader, m, &map.uri, limits, report);
        }
        let Some(init) = &init else { return false };
        let Ok(path) = resolve(&m.path, &s.uri) else {
            continue; // reported while loading
        };
        if *budget == 0 {
            report.push(Severity::Must, RULE, TITLE, &m.path, loc, format!(
                "more than {} I-frame entries in the package; this one and the rest are not checked",
                limits.max_iframe_entries));
            return false;
        }
        *budget -= 1;
        if cache.as_ref().is_none_or(|(p, _)| *p != path) {
            *cache = read_file(
                reader,
                &path,
                limits.max_segment_bytes,
                report,
                "media segment",
            )
            .map(|b| (path.clone(), b));
        }
        let Some((_, bytes)) = &cache else { continue };
        let (lo, hi) = entry_range(bytes, s.byte_range.as_ref(), &path, &mut prev_end);
        let mut fail = |byte: u64, msg: String| {
            report.push(
                Severity::Must,
                RULE,
                TITLE,
                &m.path,
                loc,
                format!("{} bytes {lo}..{hi} (byte {byte}): {msg}", s.uri),
            );
        };
        let Some(range) = usize::try_from(lo)
            .ok()
            .zip(usize::try_from(hi).ok())
            .and_then(|(a, b)| bytes.get(a..b))
        else {
            fail(
                lo,
                format!("the range lies outside the file ({} bytes)", bytes.len()),
            );
            continue;
        };
        check_entry(range, lo, init, &mut fail);
    }
    true
}

/// The init segment an EXT-X-MAP names: the playlist's own when it is the same file, else read here.
fn mapped_init(
    reader: &dyn PackageReader,
    m: &Media,
    uri: &str,
    limits: &CheckLimits,
    report: &mut Report,
) -> Option<InitInfo> {
    resolve(&m.path, uri).ok().and_then(|p| match &m.init {
        Some((q, i)) if *q == p => Some(i.clone()),
        _ => {
            let bytes = read_file(reader, &p, limits.max_init_bytes, report, "init segment")?;
            read_init(&bytes).ok() // a broken init is reported while loading
        }
    })
}

/// The byte range an entry addresses (all of the file without EXT-X-BYTERANGE); a range without an offset
/// follows the previous range of the same file.
fn entry_range(
    bytes: &[u8],
    range: Option<&m3u8_rs::ByteRange>,
    path: &str,
    prev_end: &mut Option<(String, u64)>,
) -> (u64, u64) {
    let (lo, hi) = match range {
        None => (0, bytes.len() as u64),
        Some(r) => {
            let lo = r.offset.unwrap_or(match &*prev_end {
                Some((p, end)) if *p == path => *end,
                _ => 0,
            });
            (lo, lo.saturating_add(r.length))
        }
    };
    *prev_end = Some((path.to_string(), hi));
    (lo, hi)
}

/// The bytes of one entry (starting at byte `lo` of its file) are a moof + mdat holding one sample, flagged
/// sync and a key frame in its bitstream; `fail` reports at a byte of the file.
fn check_entry(range: &[u8], lo: u64, init: &InitInfo, fail: &mut dyn FnMut(u64, String)) {
    let frags = match read_segment(range, init) {
        Ok(f) => f,
        Err(e) => {
            fail(lo, format!("not a complete moof + mdat: {e}"));
            return;
        }
    };
    let samples: Vec<_> = frags
        .iter()
        .flat_map(|f| f.samples.iter().map(move |s| (f, s)))
        .collect();
    let [(f, first)] = samples.as_slice() else {
        fail(
            lo,
            format!(
                "holds {} samples; an I-frame entry holds exactly one frame",
                samples.len()
            ),
        );
        return;
    };
    if !first.is_sync() {
        fail(lo + f.data_offset, "the sample is flagged non-sync".into());
    }
    let data = usize::try_from(f.data_offset)
        .ok()
        .and_then(|a| range.get(a..a.checked_add(first.size as usize)?));
    if data.and_then(|d| is_key_frame(&init.entry, d)) == Some(false) {
        fail(
            lo + f.data_offset,
            "the sample's bitstream is not a key frame".into(),
        );
    }
}
