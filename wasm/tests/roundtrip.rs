//! Everything the writer makes reads back to what went in: init segments, fragments (sizes, durations,
//! flags, composition offsets, payload bytes), and every box's declared size equals its length.
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;
use common::*;
use upcast_core::cmaf::fragment::{fragment_header, mdat_header, styp, OutSample};
use upcast_core::cmaf::read::{read_init, read_segment};
use upcast_core::demux::demux;
use upcast_core::plan::TrackPlan;
use upcast_core::{Limits, Source};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Top-level boxes of `bytes` tile it exactly (each declared size is its true length).
fn assert_tiles(bytes: &[u8]) {
    let mut pos = 0;
    while pos < bytes.len() {
        let size = get_u32(bytes, pos) as usize;
        assert!(
            size >= 8 && pos + size <= bytes.len(),
            "box at {pos} declares {size}"
        );
        pos += size;
    }
    assert_eq!(pos, bytes.len());
}

fn plan_of<'a>(p: &'a upcast_core::Package, id: &str) -> &'a TrackPlan {
    let v = p.plan.video.iter().chain(p.plan.audio.iter());
    let idx = p.renditions.iter().position(|r| r.id == id).unwrap();
    v.clone().nth(idx).unwrap()
}

#[test]
fn init_and_media_segments_read_back_exactly() {
    for fixture in [
        FASTSTART,
        MOOV_AT_END,
        CO64,
        AUDIO_ONLY,
        VIDEO_ONLY,
        LONG_GOP,
    ] {
        let src = fixture.to_vec();
        let movie = demux(&src, &Limits::default()).unwrap();
        let p = segment(fixture).unwrap();
        for r in &p.renditions {
            assert_tiles(&r.init);
            // The movie extends box makes it a fragmented MP4 (ISO 14496-12 § 8.8.1); `find` panics if absent.
            find(&r.init, "moov/mvex/trex");
            assert!(
                !all_boxes(&r.init)
                    .iter()
                    .any(|(p, _)| p == "moov[0]/mdia[0]"),
                "no stray 'mdia' in the moov"
            );
            let init = read_init(&r.init).unwrap();
            assert_eq!(init.track_id, 1);
            assert_eq!(init.timescale, r.timescale);
            assert_eq!(init.kind, r.kind);
            assert_eq!(
                init.entry.bytes, r.entry.bytes,
                "sample entry copied verbatim"
            );
            assert_eq!(init.entry.codec_string, r.entry.codec_string);

            let tp = plan_of(&p, &r.id);
            let track = &movie.tracks[tp.track];
            let mut next_dts = None;
            let mut seq = 0;
            let mut n = 0usize;
            for (k, seg) in r.segments.iter().enumerate() {
                let bytes = r.data[k].assemble(&src).unwrap();
                assert_eq!(bytes.len() as u64, seg.len);
                assert_tiles(&bytes);
                let frags = read_segment(&bytes, &init).unwrap();
                assert_eq!(frags[0].base_decode_time, seg.start, "segment {k} tfdt");
                if r.kind == upcast_core::demux::TrackKind::Video {
                    assert!(
                        frags[0].samples[0].is_sync(),
                        "segment {k} starts with a key frame (7.4)"
                    );
                }
                // Every I-frame range is a complete moof + mdat holding exactly one key frame.
                for iframe in &seg.iframes {
                    let range =
                        &bytes[iframe.offset as usize..(iframe.offset + iframe.len) as usize];
                    let alone = read_segment(range, &init).unwrap();
                    assert_eq!(alone.len(), 1);
                    assert_eq!(alone[0].samples.len(), 1);
                    assert!(alone[0].samples[0].is_sync());
                }
                for f in &frags {
                    seq += 1;
                    assert_eq!(f.sequence, seq);
                    if let Some(d) = next_dts {
                        assert_eq!(f.base_decode_time, d, "tfdt continuous (7.3)");
                    }
                    next_dts = Some(f.base_decode_time + f.duration());
                    let mut at = f.data_offset as usize;
                    for s in &f.samples {
                        let i = tp.segments[k].samples.start + n
                            - tp.segments[..k]
                                .iter()
                                .map(|s| s.samples.len())
                                .sum::<usize>();
                        let src_s = &track.samples[i];
                        assert_eq!(s.size, src_s.size);
                        assert_eq!(s.duration, src_s.duration);
                        assert_eq!(s.cts_offset, tp.out_cts_offset(track, i));
                        assert_eq!(
                            s.is_sync(),
                            src_s.sync || r.kind != upcast_core::demux::TrackKind::Video
                        );
                        let payload = src.read_vec(src_s.offset, u64::from(src_s.size)).unwrap();
                        assert_eq!(&bytes[at..at + s.size as usize], &payload[..]);
                        at += s.size as usize;
                        n += 1;
                    }
                }
            }
            assert_eq!(
                n,
                tp.segments.iter().map(|s| s.samples.len()).sum::<usize>()
            );
        }
    }
}

#[test]
fn fragment_header_declares_its_sizes_and_offsets() {
    let samples = [
        OutSample {
            size: 10,
            duration: 512,
            cts_offset: 0,
            sync: true,
        },
        OutSample {
            size: 7,
            duration: 512,
            cts_offset: -512,
            sync: false,
        },
    ];
    let h = fragment_header(3, 1 << 40, &samples).unwrap();
    let moof_size = get_u32(&h, 0) as usize;
    assert_eq!(&h[4..8], b"moof");
    assert_eq!(h.len(), moof_size + 8, "moof then an 8-byte mdat header");
    assert_eq!(get_u32(&h, moof_size) as usize, 8 + 17);
    let mut seg = h.clone();
    seg.extend(std::iter::repeat_n(0xAB, 17));
    let init = read_init(&segment(FASTSTART).unwrap().renditions[0].init).unwrap();
    let f = &read_segment(&seg, &init).unwrap()[0];
    assert_eq!(f.sequence, 3);
    assert_eq!(f.base_decode_time, 1 << 40);
    assert_eq!(f.data_offset as usize, moof_size + 8);
    assert_eq!(
        f.samples[1].cts_offset, -512,
        "trun version 1 carries negative offsets"
    );
    assert!(f.samples[0].is_sync() && !f.samples[1].is_sync());
}

#[test]
fn mdat_header_switches_to_64_bit_sizes() {
    assert_eq!(mdat_header(100), [0, 0, 0, 108, b'm', b'd', b'a', b't']);
    let big = mdat_header(u64::from(u32::MAX));
    assert_eq!(big.len(), 16);
    assert_eq!(get_u32(&big, 0), 1);
    assert_eq!(
        u64::from_be_bytes(big[8..16].try_into().unwrap()),
        u64::from(u32::MAX) + 16
    );
}

#[test]
fn styp_declares_its_size() {
    let s = styp();
    assert_tiles(&s);
    assert_eq!(&s[4..8], b"styp");
}

#[test]
fn packages_pass_the_conformance_checker_before_they_are_written() {
    for fixture in [FASTSTART, MOOV_AT_END, CO64, AUDIO_ONLY, VIDEO_ONLY] {
        let src = fixture.to_vec();
        let p = segment(fixture).unwrap();
        let report = p.check(&src);
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert!(report.files_read >= p.files().len(), "every file is read");
    }
    // And it does see a broken one: an init segment that is not one.
    let src = LONG_GOP.to_vec();
    let mut p = segment(LONG_GOP).unwrap();
    p.renditions[0].init = b"not an init segment".to_vec();
    assert!(!p.check(&src).passed());
}
