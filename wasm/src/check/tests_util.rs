//! Test helpers: good packages in memory and the mutations that break them.
// Test fixtures: offsets, sizes and counts of packages of a few kB, far inside every type they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use super::*;
use crate::cmaf::read::{read_init, read_segment};
use crate::codec::CodecKind;

pub const FIXTURES: [&str; 17] = [
    "h264_aac_bframes.mp4",
    "h264_aac_faststart.mp4",
    "h264_aac.mov",
    "hevc_hvc1_aac.mp4",
    "hevc_hev1.mp4",
    "av1_opus.mp4",
    "vp9_opus.mp4",
    "h264_mp3.mp4",
    "audio_only.m4a",
    "video_only.mp4",
    "long_gop.mp4",
    "rotated_90.mp4",
    "anamorphic_par.mp4",
    "ntsc_2997.mp4",
    "two_audio_langs.mp4",
    "co64.mp4",
    "chapters.mp4",
];

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The package `upcast segment` makes from a fixture, every file in memory.
pub fn good(name: &str, target_s: f64) -> MemReader {
    let src = fixture(name);
    let mut opts = crate::SegmentOptions::default();
    opts.plan.target_duration_s = target_s;
    let pkg = crate::segment(&src, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut r = MemReader::default();
    for (path, body) in pkg.files() {
        r.files.insert(path, body.to_vec(&src).unwrap());
    }
    r
}

pub fn check(pkg: &MemReader) -> Report {
    check_package(pkg, "master.m3u8")
}

/// Replace the first `from` in a playlist; the test is wrong if it is not there.
pub fn edit(pkg: &mut MemReader, path: &str, from: &str, to: &str) {
    let text = String::from_utf8(pkg.files[path].clone()).unwrap();
    assert!(text.contains(from), "{path} has no {from:?}:\n{text}");
    pkg.files
        .insert(path.to_string(), text.replacen(from, to, 1).into_bytes());
}

/// (start, header length, end) of the first child box of `kind` in `bytes[start..end]`.
fn find(bytes: &[u8], start: usize, end: usize, kind: &[u8; 4]) -> Option<(usize, usize, usize)> {
    let mut at = start;
    while at + 8 <= end {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if &bytes[at + 4..at + 8] == kind {
            return Some((at, 8, at + size));
        }
        at += size.max(8);
    }
    None
}

/// (start, end) of the first moof's traf child `kind`.
fn traf_child(seg: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    let (m, mh, me) = find(seg, 0, seg.len(), b"moof").unwrap();
    let (t, th, te) = find(seg, m + mh, me, b"traf").unwrap();
    let (c, _, ce) = find(seg, t + th, te, kind).unwrap();
    (c, ce)
}

/// Add `ticks` to the first fragment's tfdt.
pub fn add_to_tfdt(seg: &mut [u8], ticks: u64) {
    let (at, _) = traf_child(seg, b"tfdt");
    if seg[at + 8] == 1 {
        let v = u64::from_be_bytes(seg[at + 12..at + 20].try_into().unwrap()) + ticks;
        seg[at + 12..at + 20].copy_from_slice(&v.to_be_bytes());
    } else {
        let v = u32::from_be_bytes(seg[at + 12..at + 16].try_into().unwrap()) + ticks as u32;
        seg[at + 12..at + 16].copy_from_slice(&v.to_be_bytes());
    }
}

/// Set sample_is_non_sync_sample on the first sample of the first fragment, wherever its flags live
/// (trun first_sample_flags, per-sample flags, or tfhd default_sample_flags).
pub fn set_first_sample_non_sync(seg: &mut [u8]) {
    let (at, _) = traf_child(seg, b"trun");
    let flags = u32::from_be_bytes([0, seg[at + 9], seg[at + 10], seg[at + 11]]);
    let mut field = at + 16; // after header, version/flags, sample_count
    if flags & 0x001 != 0 {
        field += 4; // data_offset
    }
    let pos = if flags & 0x004 != 0 {
        field
    } else if flags & 0x400 != 0 {
        field
            + 4 * [0x100u32, 0x200]
                .iter()
                .filter(|&&f| flags & f != 0)
                .count()
    } else {
        let (t, _) = traf_child(seg, b"tfhd");
        let tf = u32::from_be_bytes([0, seg[t + 9], seg[t + 10], seg[t + 11]]);
        assert!(tf & 0x20 != 0, "no flags to change");
        let skip = [0x01u32, 0x02, 0x08, 0x10]
            .iter()
            .map(|&f| {
                if tf & f == 0 {
                    0
                } else if f == 0x01 {
                    8
                } else {
                    4
                }
            })
            .sum::<usize>();
        t + 16 + skip
    };
    seg[pos + 1] |= 0x01; // sample_is_non_sync_sample is bit 16 of the 32-bit flags
}

/// Make the first sample of a video segment a non-key frame in its bitstream, leaving its flags alone.
pub fn break_key_frame(pkg: &mut MemReader, seg_path: &str) {
    let dir = seg_path.rsplit_once('/').unwrap().0;
    let init = read_init(&pkg.files[&format!("{dir}/init.mp4")]).unwrap();
    let seg = pkg.files.get_mut(seg_path).unwrap();
    let f = &read_segment(seg, &init).unwrap()[0];
    let start = f.data_offset as usize;
    let sample = &mut seg[start..start + f.samples[0].size as usize];
    match init.entry.codec {
        CodecKind::H264 | CodecKind::Hevc => {
            let mut at = 0;
            while at + 4 < sample.len() {
                let len = u32::from_be_bytes(sample[at..at + 4].try_into().unwrap()) as usize;
                let h = &mut sample[at + 4];
                if init.entry.codec == CodecKind::H264 && *h & 0x1f == 5 {
                    *h = (*h & 0xe0) | 1; // non-IDR slice
                    return;
                }
                if init.entry.codec == CodecKind::Hevc && (16..=21).contains(&((*h >> 1) & 0x3f)) {
                    *h = (*h & 0x81) | (1 << 1); // TRAIL_R
                    return;
                }
                at += 4 + len;
            }
            panic!("no IDR NAL in {seg_path}");
        }
        CodecKind::Av1 => {
            // Walk OBUs (all with obu_has_size_field, 1-byte sizes in these tiny files) to the frame.
            let mut at = 0;
            loop {
                let t = (sample[at] >> 3) & 0x0f;
                let ext = usize::from(sample[at] & 0x04 != 0);
                let (size, n) = (usize::from(sample[at + 1 + ext] & 0x7f), 1);
                assert!(
                    sample[at + 1 + ext] & 0x80 == 0 || t == 6 || t == 3,
                    "long OBU before the frame"
                );
                if t == 6 || t == 3 {
                    let mut p = at + 1 + ext;
                    while sample[p] & 0x80 != 0 {
                        p += 1;
                    }
                    sample[p + 1] |= 0x20; // frame_type = INTER_FRAME
                    return;
                }
                at += 1 + ext + n + size;
            }
        }
        CodecKind::Vp9 => sample[0] |= 0x04, // frame_type = NON_KEY_FRAME (profile 0)
        other => panic!("{other:?} is not video"),
    }
}
