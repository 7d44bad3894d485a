//! Every configurable limit refuses a file just over it, with the default and with a lowered value.
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
use common::*;
use upcast_core::{Error, Limits, SegmentOptions};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn with(limits: Limits) -> SegmentOptions {
    SegmentOptions {
        limits,
        ..SegmentOptions::default()
    }
}

#[track_caller]
fn assert_limit(r: Result<upcast_core::Package, Error>, needle: &str) {
    match r {
        Err(e @ Error::Limit { .. }) => assert!(e.to_string().contains(needle), "{e}"),
        Err(e) => panic!("expected a limit error, got {e}"),
        Ok(_) => panic!("expected a limit error, the file was accepted"),
    }
}

#[test]
fn defaults_are_the_documented_ones() {
    let l = Limits::default();
    assert_eq!(l.max_moov_bytes, 256 << 20);
    assert_eq!(l.max_ftyp_bytes, 1024);
    assert_eq!(l.max_depth, 16);
    assert_eq!(l.max_stsd_entries, 1024);
    assert_eq!(l.max_tracks, 32);
    assert_eq!(l.max_samples(4000), 1000);
}

#[test]
fn moov_size() {
    let moov = find(FASTSTART, "moov").size as u64;
    let at = |n| {
        with(Limits {
            max_moov_bytes: n,
            ..Limits::default()
        })
    };
    assert!(segment_with(FASTSTART, &at(moov)).is_ok());
    assert_limit(segment_with(FASTSTART, &at(moov - 1)), "moov is");
}

#[test]
fn ftyp_size() {
    let ftyp = find(FASTSTART, "ftyp").size as u64;
    let at = |n| {
        with(Limits {
            max_ftyp_bytes: n,
            ..Limits::default()
        })
    };
    assert!(segment_with(FASTSTART, &at(ftyp)).is_ok());
    assert_limit(segment_with(FASTSTART, &at(ftyp - 1)), "ftyp is");
    // A 1025-byte ftyp against the default 1 KiB (no samples are needed to reach it).
    let brands = vec![b'i'; 1025 - 16];
    let mut big = bx(
        b"ftyp",
        &[b"isom".as_slice(), &[0, 0, 0, 0], &brands].concat(),
    );
    big.extend_from_slice(&FASTSTART[32..]);
    assert_limit(segment(&big), "ftyp is 1025 bytes");
}

#[test]
fn nesting_depth() {
    // moov/trak/mdia/minf/stbl is five levels.
    let at = |n| {
        with(Limits {
            max_depth: n,
            ..Limits::default()
        })
    };
    assert!(segment_with(FASTSTART, &at(5)).is_ok());
    assert_limit(segment_with(FASTSTART, &at(4)), "nested deeper than 4");
}

#[test]
fn sample_descriptions_per_stsd() {
    let stsd = find(FASTSTART, "moov/trak[0]/mdia/minf/stbl/stsd");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, stsd.payload() + 4, 1025);
    assert_limit(segment(&f), "1025 sample descriptions; the limit is 1024");
    let at = |n| {
        with(Limits {
            max_stsd_entries: n,
            ..Limits::default()
        })
    };
    assert!(segment_with(FASTSTART, &at(1)).is_ok());
    assert_limit(segment_with(FASTSTART, &at(0)), "the limit is 0");
}

#[test]
fn tracks_per_movie() {
    let moov = find(FASTSTART, "moov");
    let trak = find(FASTSTART, "moov/trak[1]");
    let mut body = FASTSTART[moov.payload()..moov.end()].to_vec();
    for _ in 0..31 {
        body.extend_from_slice(&FASTSTART[trak.start..trak.end()]);
    }
    // 33 tracks; moov grows, so keep it after the mdat (offsets stay valid).
    let mdat_end = find(FASTSTART, "mdat").end();
    let mut f = FASTSTART[..moov.start].to_vec();
    f.extend_from_slice(&FASTSTART[moov.end()..mdat_end]);
    let shift = moov.size as u32;
    let mut new_moov = bx(b"moov", &body);
    // Chunk offsets moved back by the moov's size: fix them in every stco of the copy.
    for (_, b) in all_boxes(&new_moov.clone()) {
        if &new_moov[b.start + 4..b.start + 8] == b"stco" {
            let n = get_u32(&new_moov, b.payload() + 4) as usize;
            for i in 0..n {
                let at = b.payload() + 8 + 4 * i;
                let v = get_u32(&new_moov, at);
                put_u32(&mut new_moov, at, v - shift);
            }
        }
    }
    f.extend_from_slice(&new_moov);
    assert_limit(segment(&f), "more than 32 tracks");
    let at = |n| {
        with(Limits {
            max_tracks: n,
            ..Limits::default()
        })
    };
    assert!(segment_with(FASTSTART, &at(2)).is_ok());
    assert_limit(segment_with(FASTSTART, &at(1)), "more than 1 tracks");
}

#[test]
fn samples_per_track_against_moov_size() {
    // A constant-size stsz costs no bytes per sample: the count alone must be bounded.
    let moov = find(FASTSTART, "moov").size as u32;
    let stsz = find(FASTSTART, "moov/trak[0]/mdia/minf/stbl/stsz");
    let mut f = FASTSTART.to_vec();
    put_u32(&mut f, stsz.payload() + 4, 1);
    put_u32(&mut f, stsz.payload() + 8, moov / 4 + 1);
    assert_limit(segment(&f), "may hold at most");
}
