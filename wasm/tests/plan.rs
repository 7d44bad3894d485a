//! Segment boundaries: at key frames, near the target, audio cut at the same instants, long GOPs reported.
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
use common::*;
use upcast_core::demux::demux;
use upcast_core::plan::{plan, PlanOptions};
use upcast_core::Limits;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn planned(fixture: &[u8], target: f64) -> (upcast_core::demux::Movie, upcast_core::plan::Plan) {
    let movie = demux(&fixture.to_vec(), &Limits::default()).unwrap();
    let p = plan(
        &movie,
        &PlanOptions {
            target_duration_s: target,
        },
    )
    .unwrap();
    (movie, p)
}

#[test]
fn video_segments_start_at_key_frames_within_target_plus_half_a_second() {
    for target in [2.0, 3.0, 6.0] {
        let (movie, p) = planned(MOOV_AT_END, target);
        let v = p.video.as_ref().unwrap();
        let t = &movie.tracks[v.track];
        assert!(p.long_gop.is_none());
        let total: usize = v.segments.iter().map(|s| s.samples.len()).sum();
        assert_eq!(
            total,
            t.samples.len(),
            "every sample in exactly one segment"
        );
        for (k, s) in v.segments.iter().enumerate() {
            assert!(t.samples[s.samples.start].sync);
            let secs = s.duration as f64 / f64::from(v.timescale);
            assert!(
                secs <= target + 0.5,
                "segment {k} is {secs} s at target {target}"
            );
            if k + 1 < v.segments.len() {
                assert!(
                    secs >= target - 2.0,
                    "segment {k} is {secs} s: cut too early"
                );
            }
            for f in &s.fragments {
                assert!(
                    t.samples[f.start].sync,
                    "each fragment starts at a key frame"
                );
            }
        }
    }
}

#[test]
fn audio_is_cut_at_the_video_instants() {
    let (movie, p) = planned(MOOV_AT_END, 2.0);
    let v = p.video.as_ref().unwrap();
    let a = &p.audio[0];
    assert_eq!(a.segments.len(), v.segments.len());
    let vt = &movie.tracks[v.track];
    let at = &movie.tracks[a.track];
    let frame = at.samples[0].duration as f64 / f64::from(a.timescale);
    for (vs, as_) in v.segments.iter().zip(&a.segments) {
        let vstart = (v.out_dts(vt, vs.samples.start) as f64
            + v.out_cts_offset(vt, vs.samples.start) as f64)
            / f64::from(v.timescale);
        let astart = as_.start as f64 / f64::from(a.timescale);
        assert!(
            (vstart - astart).abs() <= frame,
            "video {vstart} vs audio {astart}"
        );
    }
}

#[test]
fn the_first_frame_is_presented_at_time_zero_without_an_edit_list() {
    let (movie, p) = planned(MOOV_AT_END, 6.0);
    let v = p.video.as_ref().unwrap();
    let t = &movie.tracks[v.track];
    assert!(
        t.edit.media_start > 0,
        "the fixture has B-frames and an edit list"
    );
    let first = v.segments[0].samples.clone();
    let earliest = first
        .map(|i| v.out_dts(t, i) as i64 + v.out_cts_offset(t, i))
        .min()
        .unwrap();
    assert_eq!(earliest, 0);
    assert_eq!(p.audio[0].segments[0].start, 0);
}

#[test]
fn long_gops_are_reported_for_the_caller() {
    let (_, p) = planned(LONG_GOP, 6.0);
    let lg = p.long_gop.expect("10 s GOPs at a 6 s target");
    assert!(
        lg.longest_segment_s > 6.5 && lg.longest_segment_s <= 10.5,
        "{lg:?}"
    );
    assert!(lg.message.contains("re-encode"));
}

#[test]
fn audio_only_segments_stay_within_the_target() {
    let (movie, p) = planned(AUDIO_ONLY, 2.0);
    assert!(p.video.is_none());
    let a = &p.audio[0];
    assert!(a.segments.len() >= 2);
    let total: usize = a.segments.iter().map(|s| s.samples.len()).sum();
    assert_eq!(total, movie.tracks[a.track].samples.len());
    for s in &a.segments {
        assert!(s.duration as f64 / f64::from(a.timescale) <= 2.0 + 1e-9);
    }
}

#[test]
fn a_nonsense_target_is_refused() {
    let movie = demux(&MOOV_AT_END.to_vec(), &Limits::default()).unwrap();
    for t in [0.0, -1.0, f64::NAN, 1000.0] {
        assert!(plan(
            &movie,
            &PlanOptions {
                target_duration_s: t
            }
        )
        .is_err());
    }
}
