//! Hostile WebM / Matroska input: sizes past their parent, unknown sizes where none is allowed, lacing
//! that overflows its block, truncation anywhere: each an error naming the element and its byte offset,
//! never a panic. Runs natively and on wasm32.
// Test files of a few kB: sizes far inside every type they are cast to.
#![allow(clippy::cast_possible_truncation)]

mod common;
use common::*;
use upcast_core::{Error, Limits, SegmentOptions};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const LIVE: &[u8] = include_bytes!("../../tests/fixtures/vp9_opus_live.webm");
const MKV: &[u8] = include_bytes!("../../tests/fixtures/h264_aac.mkv");
const VP8_VORBIS: &[u8] = include_bytes!("../../tests/fixtures/vp8_vorbis.webm");

/// An element with an 8-byte size.
fn el(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.push(0x01);
    v.extend_from_slice(&(payload.len() as u64).to_be_bytes()[1..]);
    v.extend_from_slice(payload);
    v
}

/// An element of unknown size (all ones).
fn unknown(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    v.extend_from_slice(payload);
    v
}

/// A WebM with one Opus track and `blocks` in one unknown-size Cluster (MediaRecorder's layout).
fn opus_webm(blocks: &[Vec<u8>]) -> Vec<u8> {
    let head = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00";
    let mut entry = el(&[0xD7], &[1]);
    entry.extend(el(&[0x83], &[2]));
    entry.extend(el(&[0x86], b"A_OPUS"));
    entry.extend(el(&[0x63, 0xA2], head));
    entry.extend(el(&[0xE1], &el(&[0x9F], &[2])));
    let mut segment = el(
        &[0x15, 0x49, 0xA9, 0x66],
        &el(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]),
    );
    segment.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &el(&[0xAE], &entry)));
    let mut cluster = el(&[0xE7], &[0]);
    for b in blocks {
        cluster.extend_from_slice(b);
    }
    segment.extend(unknown(&[0x1F, 0x43, 0xB6, 0x75], &cluster));
    let mut f = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"webm"));
    f.extend(unknown(&[0x18, 0x53, 0x80, 0x67], &segment));
    f
}

/// A SimpleBlock of track 1 at `time` ms with `flags` and `body` (lace header and frames).
fn block(time: i16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut b = vec![0x81];
    b.extend_from_slice(&time.to_be_bytes());
    b.push(flags);
    b.extend_from_slice(body);
    el(&[0xA3], &b)
}

#[test]
fn webm_fixtures_package_every_frame() {
    let p = segment(LIVE).expect("MediaRecorder-style WebM segments");
    let frames: usize = p
        .plan
        .video
        .as_ref()
        .unwrap()
        .segments
        .iter()
        .map(|s| s.samples.len())
        .sum();
    assert_eq!(frames, 100);
    let p = segment(MKV).expect("Matroska H.264 segments");
    assert!(p.plan.video.is_some() && p.plan.audio.len() == 1);
}

#[test]
fn built_webm_with_laced_opus_is_read() {
    // Xiph lacing: 3 frames of 3, 4 and 5 bytes; then a plain block 20 ms later.
    let laced = block(
        0,
        0x80 | 0x02,
        &[2, 3, 4, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3],
    );
    let next = block(80, 0x80, &[9; 6]);
    let p = segment(&opus_webm(&[laced, next])).expect("laced Opus packages");
    let a = &p.plan.audio[0];
    assert_eq!(a.segments.iter().map(|s| s.samples.len()).sum::<usize>(), 4);
}

#[test]
fn lacing_that_overflows_its_block_is_refused() {
    // Xiph sizes 200 + 200 in a block of 8 bytes.
    let bad = block(0, 0x80 | 0x02, &[2, 200, 200, 1]);
    let e = err(&opus_webm(&[bad]));
    assert!(matches!(e, Error::Malformed { .. }), "{e}");
    assert!(
        e.to_string().contains("SimpleBlock") && e.to_string().contains("overflow"),
        "{e}"
    );
    // EBML lacing, 3 frames: the first of 1 byte, the second 63 bytes smaller (a negative size).
    let bad = block(0, 0x80 | 0x06, &[2, 0x81, 0x80, 1, 2, 3]);
    let e = err(&opus_webm(&[bad]));
    assert!(
        e.to_string().contains("SimpleBlock") && e.to_string().contains("negative size"),
        "{e}"
    );
    // Fixed lacing of 3 frames over 4 bytes.
    let bad = block(0, 0x80 | 0x04, &[2, 1, 2, 3, 4]);
    assert!(err(&opus_webm(&[bad])).to_string().contains("equal size"));
}

#[test]
fn a_child_larger_than_its_parent_is_refused_with_its_offset() {
    let mut f = opus_webm(&[block(0, 0x80, &[1, 2, 3])]);
    // The TrackEntry's size byte run: make the CodecID claim 1000 bytes.
    let at = f
        .windows(7)
        .position(|w| w == b"\x86\x01\x00\x00\x00\x00\x00")
        .unwrap();
    f[at + 7] = 0x03;
    f[at + 8] = 0xE8;
    let e = err(&f);
    assert!(e.to_string().contains("runs past its parent"), "{e}");
    assert_at(&e, at as u64, "TrackEntry");
}

#[test]
fn unknown_size_is_refused_outside_segment_and_cluster() {
    let mut f = opus_webm(&[]);
    let tracks = f
        .windows(4)
        .position(|w| w == [0x16, 0x54, 0xAE, 0x6B])
        .unwrap();
    f[tracks + 5..tracks + 12].fill(0xff);
    let e = err(&f);
    assert_at(
        &e,
        tracks as u64,
        "unknown size is only accepted for Segment and Cluster",
    );
}

#[test]
fn vp8_and_vorbis_are_refused_saying_why() {
    let e = err(VP8_VORBIS).to_string();
    assert!(e.contains("VP8 video has no CMAF packaging"), "{e}");
    assert!(e.contains("Vorbis audio has no CMAF packaging"), "{e}");
}

#[test]
fn frame_and_element_limits_hold() {
    let opts = SegmentOptions {
        limits: Limits {
            max_fragment_samples: 40,
            ..Limits::default()
        },
        ..SegmentOptions::default()
    };
    let e = segment_with(LIVE, &opts).err().expect("refused");
    assert!(matches!(e, Error::Limit { .. }), "{e}");
}

#[test]
fn truncation_and_corruption_never_panic() {
    for f in [LIVE, MKV] {
        for cut in (0..f.len()).step_by(61) {
            let _ = segment(&f[..cut]);
        }
        for at in (0..f.len().min(4000)).step_by(3) {
            let mut g = f.to_vec();
            g[at] ^= 0xff;
            let _ = segment(&g);
        }
    }
}
