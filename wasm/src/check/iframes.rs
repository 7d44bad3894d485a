//! HLS Authoring Spec 6.1, the I-frame playlists themselves: each entry's byte range (RFC 8216 § 4.3.3.6) is
//! a complete moof + mdat whose one sample is a sync sample and a key frame in its bitstream, so a player
//! can fetch the range alone and decode it.

use super::bitstream::is_key_frame;
use super::load::{read_file, Pkg};
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
        let mut init: Option<InitInfo> = None;
        let mut prev_end: Option<(String, u64)> = None;
        for (k, s) in m.pl.segments.iter().enumerate() {
            let loc = m.line(k);
            if let Some(map) = &s.map {
                init = resolve(&m.path, &map.uri).ok().and_then(|p| match &m.init {
                    Some((q, i)) if *q == p => Some(i.clone()),
                    _ => {
                        let bytes =
                            read_file(reader, &p, limits.max_init_bytes, report, "init segment")?;
                        read_init(&bytes).ok() // a broken init is reported while loading
                    }
                });
            }
            let Some(init) = &init else { return };
            let Ok(path) = resolve(&m.path, &s.uri) else {
                continue; // reported while loading
            };
            if budget == 0 {
                report.push(Severity::Must, RULE, TITLE, &m.path, loc, format!(
                    "more than {} I-frame entries in the package; this one and the rest are not checked",
                    limits.max_iframe_entries));
                return;
            }
            budget -= 1;
            if cache.as_ref().is_none_or(|(p, _)| *p != path) {
                cache = read_file(
                    reader,
                    &path,
                    limits.max_segment_bytes,
                    report,
                    "media segment",
                )
                .map(|b| (path.clone(), b));
            }
            let Some((_, bytes)) = &cache else { continue };
            let (lo, hi) = match &s.byte_range {
                None => (0, bytes.len() as u64),
                Some(r) => {
                    let lo = r.offset.unwrap_or(match &prev_end {
                        Some((p, end)) if *p == path => *end,
                        _ => 0,
                    });
                    (lo, lo.saturating_add(r.length))
                }
            };
            prev_end = Some((path.clone(), hi));
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
            let frags = match read_segment(range, init) {
                Ok(f) => f,
                Err(e) => {
                    fail(lo, format!("not a complete moof + mdat: {e}"));
                    continue;
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
                continue;
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
    }
}
