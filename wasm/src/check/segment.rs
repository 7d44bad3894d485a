//! One media segment parsed and reduced to the figures the rules need (timing, sizes, key frames); its
//! bytes are dropped as soon as they are measured.

use super::bitstream::is_key_frame;
use super::load::fail;
use super::{Location, Report};
use crate::cmaf::read::{read_segment, InitInfo};
use crate::demux::TrackKind;

/// What one media segment measured.
#[derive(Clone)]
pub(crate) struct Seg {
    pub path: String,
    pub extinf: f64,
    pub bytes: u64,
    /// tfdt of the first fragment and the sum of all sample durations, in the init's timescale.
    pub start: u64,
    pub ticks: u64,
    /// Earliest presentation time (decode time + composition offset) of any sample, and that of the first
    /// sample (the cut instant; open-GOP leading pictures can present before it).
    pub pts_min: i64,
    pub first_pts: i64,
    pub samples: usize,
    pub max_sample_ticks: u32,
    /// Byte offset of the first moof (whose tfdt starts the segment).
    pub first_moof: u64,
    /// Byte offset of the first sample's data, its sync flag and what its bitstream says.
    pub first_data: u64,
    pub first_sync: bool,
    pub first_key: Option<bool>,
    /// First sample whose sync flag disagrees with its bitstream: (index, byte, flagged sync), and how many.
    pub flag_mismatch: Option<(usize, u64, bool)>,
    pub mismatches: usize,
    /// A fragment whose tfdt does not follow the previous fragment's samples: (moof byte, expected, found).
    pub inner_gap: Option<(u64, u64, u64)>,
}

/// Parse one media segment (`bytes` starts at byte `base` of its file) and keep its figures.
pub(crate) fn measure(
    bytes: &[u8],
    base: u64,
    init: &InitInfo,
    path: &str,
    extinf: f64,
    report: &mut Report,
) -> Option<Seg> {
    let frags = read_segment(bytes, init)
        .map_err(|e| {
            fail(
                report,
                path,
                Location::File,
                format!("not a CMAF media segment: {e}"),
            )
        })
        .ok()?;
    let first = frags.first()?;
    let mut seg = Seg {
        path: path.to_string(),
        extinf,
        bytes: bytes.len() as u64,
        start: first.base_decode_time,
        ticks: 0,
        pts_min: i64::MAX,
        first_pts: i64::try_from(first.base_decode_time)
            .unwrap_or(i64::MAX)
            .saturating_add(first.samples.first().map_or(0, |s| s.cts_offset)),
        samples: 0,
        max_sample_ticks: 0,
        first_moof: base + first.moof_offset,
        first_data: base + first.data_offset,
        first_sync: first.samples.first().is_some_and(|s| s.is_sync()),
        first_key: None,
        flag_mismatch: None,
        mismatches: 0,
        inner_gap: None,
    };
    let video = init.kind == TrackKind::Video;
    let mut expected = first.base_decode_time;
    for f in &frags {
        if f.base_decode_time != expected && seg.inner_gap.is_none() {
            seg.inner_gap = Some((base + f.moof_offset, expected, f.base_decode_time));
        }
        let mut dts = f.base_decode_time;
        let mut at = f.data_offset;
        for s in &f.samples {
            let pts = i64::try_from(dts)
                .unwrap_or(i64::MAX)
                .saturating_add(s.cts_offset);
            seg.pts_min = seg.pts_min.min(pts);
            seg.max_sample_ticks = seg.max_sample_ticks.max(s.duration);
            if video {
                let data = usize::try_from(at)
                    .ok()
                    .and_then(|a| bytes.get(a..a.checked_add(s.size as usize)?));
                let key = data.and_then(|d| is_key_frame(&init.entry, d));
                if seg.samples == 0 {
                    seg.first_key = key;
                }
                if key.is_some_and(|k| k != s.is_sync()) {
                    seg.mismatches += 1;
                    seg.flag_mismatch
                        .get_or_insert((seg.samples, base + at, s.is_sync()));
                }
            }
            seg.samples += 1;
            dts = dts.saturating_add(u64::from(s.duration));
            at = at.saturating_add(u64::from(s.size));
        }
        seg.ticks = seg.ticks.saturating_add(f.duration());
        expected = f.base_decode_time.saturating_add(f.duration());
    }
    Some(seg)
}
