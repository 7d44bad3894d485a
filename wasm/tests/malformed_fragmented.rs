//! Hostile fragmented MP4 input: every trun, tfhd and tfdt fault is an error naming the box and its byte
//! offset; nothing panics or allocates from a declared count. Runs natively and on wasm32.
// Test fixtures: offsets, sizes and counts of files of a few kB, far inside every type they are cast to.
#![allow(clippy::cast_possible_truncation)]

mod common;
use common::*;
use upcast_core::{Error, Limits, SegmentOptions};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const FRAGMENTED: &[u8] = include_bytes!("../../tests/fixtures/h264_aac_fragmented.mp4");
const CMAF: &[u8] = include_bytes!("../../tests/fixtures/h264_aac_cmaf.mp4");

/// The first box of `kind` anywhere in the file, as (start of its header, start of its payload).
fn first(file: &[u8], kind: &[u8; 4]) -> (usize, usize) {
    let at = file
        .windows(4)
        .position(|w| w == kind)
        .expect("box present")
        - 4;
    (at, at + 8)
}

#[test]
fn fragmented_fixtures_package_every_sample() {
    for f in [FRAGMENTED, CMAF] {
        let p = segment(f).expect("fragmented input segments");
        let video = p.plan.video.as_ref().expect("video");
        let frames: usize = video.segments.iter().map(|s| s.samples.len()).sum();
        assert_eq!(frames, 100, "4 s at 25 fps");
        assert_eq!(p.plan.audio.len(), 1);
    }
}

#[test]
fn trun_count_larger_than_its_box_is_refused() {
    let (_, body) = first(FRAGMENTED, b"trun");
    let mut f = FRAGMENTED.to_vec();
    put_u32(&mut f, body + 4, u32::MAX);
    let e = err(&f);
    assert_at(&e, (body + 4) as u64, "fit in the box");
    assert!(e.to_string().contains("moof[0]/traf[0]/trun"), "{e}");
}

#[test]
fn trun_data_offset_past_the_end_is_refused() {
    let (_, body) = first(FRAGMENTED, b"trun");
    let mut f = FRAGMENTED.to_vec();
    // flags include data-offset-present: it follows sample_count.
    put_u32(&mut f, body + 8, 0x7fff_0000);
    let e = err(&f);
    assert!(e.to_string().contains("past the end of the file"), "{e}");
}

#[test]
fn tfhd_naming_a_track_without_trex_is_refused() {
    let (tfhd, body) = first(FRAGMENTED, b"tfhd");
    let mut f = FRAGMENTED.to_vec();
    put_u32(&mut f, body + 4, 77);
    assert_at(&err(&f), tfhd as u64, "names track 77, which has no trex");
}

#[test]
fn tfdt_going_back_is_refused() {
    let mut f = FRAGMENTED.to_vec();
    let second_moof = f.windows(4).rposition(|w| w == b"moof").expect("moofs");
    let tfdt = second_moof
        + f[second_moof..]
            .windows(4)
            .position(|w| w == b"tfdt")
            .unwrap();
    // Version 1: a 64-bit time after version/flags. Zero it: earlier than the fragments before.
    f[tfdt + 8..tfdt + 16].fill(0);
    let e = err(&f);
    assert!(e.to_string().contains("goes back"), "{e}");
}

#[test]
fn limits_bound_moofs_and_fragment_samples() {
    let tight = |limits: Limits| SegmentOptions {
        limits,
        ..SegmentOptions::default()
    };
    let e = segment_with(
        FRAGMENTED,
        &tight(Limits {
            max_moof_bytes: 64,
            ..Limits::default()
        }),
    )
    .err()
    .expect("refused");
    assert!(
        matches!(e, Error::Limit { .. }) && e.to_string().contains("moof is"),
        "{e}"
    );
    let e = segment_with(
        FRAGMENTED,
        &tight(Limits {
            max_fragment_samples: 50,
            ..Limits::default()
        }),
    )
    .err()
    .expect("refused");
    assert!(
        matches!(e, Error::Limit { .. }) && e.to_string().contains("more than 50"),
        "{e}"
    );
}

#[test]
fn truncation_and_corruption_never_panic() {
    for f in [FRAGMENTED, CMAF] {
        for cut in (0..f.len()).step_by(97) {
            let _ = segment(&f[..cut]);
        }
        // Overwrite every 4-byte word of the first moof with 0xffffffff in turn.
        let (moof, _) = first(f, b"moof");
        let end = moof + get_u32(f, moof) as usize;
        for at in (moof + 8..end).step_by(4) {
            let mut g = f.to_vec();
            put_u32(&mut g, at, u32::MAX);
            let _ = segment(&g);
        }
    }
}
