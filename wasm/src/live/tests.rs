//! The live muxer on hand-built tag bodies: Enhanced RTMP multitrack, ModEx, and hostile input. The
//! muxer on ffmpeg's real output is in `tests_ffmpeg.rs`.

use super::flv::{parse_audio, parse_video, Item};
use super::{LiveEvent, LiveMuxer, LiveOptions, Part};
use crate::cmaf::read::{read_init, read_segment};
use crate::codec::CodecKind;
use crate::error::Error;

/// A bit writer for hand-made SPSs.
#[derive(Default)]
struct BitW {
    bytes: Vec<u8>,
    n: usize,
}

impl BitW {
    fn bit(&mut self, b: u32) {
        if self.n % 8 == 0 {
            self.bytes.push(0);
        }
        if b != 0 {
            *self.bytes.last_mut().unwrap() |= 0x80 >> (self.n % 8);
        }
        self.n += 1;
    }
    fn bits(&mut self, v: u32, n: u32) {
        for i in (0..n).rev() {
            self.bit((v >> i) & 1);
        }
    }
    fn ue(&mut self, v: u32) {
        let x = v + 1;
        let len = 32 - x.leading_zeros();
        self.bits(0, len - 1);
        self.bits(x, len);
    }
}

/// A baseline-profile SPS for `w` x `h` (multiples of 2), cropping to the size.
fn sps(w: u32, h: u32) -> Vec<u8> {
    let mut b = BitW::default();
    b.bits(0x67, 8);
    b.bits(66, 8);
    b.bits(0, 8);
    b.bits(30, 8);
    b.ue(0); // sps id
    b.ue(0); // log2_max_frame_num_minus4
    b.ue(0); // poc type 0
    b.ue(0); // log2_max_poc_lsb_minus4
    b.ue(1); // max_num_ref_frames
    b.bit(0);
    let (mw, mh) = (w.div_ceil(16), h.div_ceil(16));
    b.ue(mw - 1);
    b.ue(mh - 1);
    b.bit(1); // frame_mbs_only
    b.bit(1); // direct_8x8
    let (cr, cb) = ((mw * 16 - w) / 2, (mh * 16 - h) / 2);
    b.bit(u32::from(cr + cb > 0));
    if cr + cb > 0 {
        b.ue(0);
        b.ue(cr);
        b.ue(0);
        b.ue(cb);
    }
    b.bit(0); // vui
    b.bit(1); // stop bit
    b.bytes
}

pub(super) fn avcc(w: u32, h: u32) -> Vec<u8> {
    let s = sps(w, h);
    let mut v = vec![1, 66, 0, 30, 0xff, 0xe1];
    v.extend_from_slice(&u16::try_from(s.len()).unwrap().to_be_bytes());
    v.extend_from_slice(&s);
    v.extend_from_slice(&[1, 0, 4, 0x68, 0xce, 0x3c, 0x80]);
    v
}

/// A length-prefixed H.264 frame: an IDR slice or a non-IDR slice.
pub(super) fn nal_frame(key: bool, len: usize) -> Vec<u8> {
    let mut v = u32::try_from(len + 1).unwrap().to_be_bytes().to_vec();
    v.push(if key { 0x65 } else { 0x41 });
    v.extend(std::iter::repeat_n(0xab, len));
    v
}

/// An Enhanced RTMP ManyTracks video body: packet type `pt`, one (trackId, track body) per track.
fn many_tracks(key: bool, pt: u8, tracks: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0x80 | (if key { 1 } else { 2 } << 4) | 6, (1 << 4) | pt];
    v.extend_from_slice(b"avc1");
    for (id, body) in tracks {
        v.push(*id);
        v.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
        v.extend_from_slice(body);
    }
    v
}

fn parts_of(events: &[LiveEvent], track: usize) -> Vec<&Part> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Part { track: t, part } if *t == track => Some(part),
            _ => None,
        })
        .collect()
}

#[test]
fn sps_sizes_read_back() {
    assert_eq!(super::sps::avcc_size(&avcc(1280, 720)), Some((1280, 720)));
    assert_eq!(super::sps::avcc_size(&avcc(640, 360)), Some((640, 360)));
    assert_eq!(super::sps::avcc_size(&avcc(320, 180)), Some((320, 180)));
}

#[test]
fn multitrack_avc_becomes_two_aligned_renditions() {
    let mut m = LiveMuxer::new(LiveOptions::default());
    let mut ev = m
        .push_video(
            0,
            &many_tracks(true, 0, &[(0, avcc(1280, 720)), (1, avcc(640, 360))]),
        )
        .unwrap();
    for i in 0..120u32 {
        let key = i % 30 == 0;
        // CodedFrames: SI24 composition time (0) then the frame.
        let body = |len| {
            let mut b = vec![0, 0, 0];
            b.extend(nal_frame(key, len));
            b
        };
        let ts = i * 1000 / 30;
        ev.extend(
            m.push_video(ts, &many_tracks(key, 1, &[(0, body(900)), (1, body(300))]))
                .unwrap(),
        );
    }
    ev.extend(m.finish().unwrap());
    let infos: Vec<_> = m
        .tracks()
        .map(|(_, i)| (i.codec.clone(), i.width, i.height))
        .collect();
    assert_eq!(
        infos,
        [
            ("avc1.42001e".to_string(), 1280, 720),
            ("avc1.42001e".to_string(), 640, 360)
        ]
    );
    let seg_starts = |t| {
        parts_of(&ev, t)
            .iter()
            .filter(|p| p.starts_segment)
            .map(|p| p.start)
            .collect::<Vec<_>>()
    };
    // Key frames every second, minimum segment 1 s: four segments, at the same times in both.
    assert_eq!(seg_starts(0), [0, 90_000, 180_000, 270_000]);
    assert_eq!(seg_starts(0), seg_starts(1));
    for t in 0..2 {
        let init = read_init(&m.tracks().nth(t).unwrap().1.init).unwrap();
        let parts = parts_of(&ev, t);
        for w in parts.windows(2) {
            assert_eq!(w[1].start, w[0].start + w[0].duration, "track {t}");
        }
        for p in &parts {
            assert!(p.duration <= 45_000, "part of {} ticks", p.duration);
            let frags = read_segment(&p.bytes, &init).unwrap();
            assert_eq!(p.independent, frags[0].samples[0].is_sync());
            if p.starts_segment {
                let (at, len) = p.key_chunk.unwrap();
                let key = &p.bytes[usize::try_from(at).unwrap()..][..usize::try_from(len).unwrap()];
                let f = read_segment(key, &init).unwrap();
                assert_eq!((f.len(), f[0].samples.len()), (1, 1));
            }
        }
    }
    assert_eq!(m.stats(0).unwrap().frames, 120);
    assert_eq!(m.stats(0).unwrap().key_interval_us, Some(1_000_000));
    assert!(!m.stats(1).unwrap().b_frames);
}

#[test]
fn one_track_many_codecs_and_mod_ex_parse() {
    // OneTrack, CodedFramesX (no composition time), track 3.
    let body = [0x80 | 0x10 | 6, 3, b'a', b'v', b'0', b'1', 3, 0xde, 0xad];
    assert_eq!(
        parse_video(&body).unwrap(),
        [Item::Frame {
            track: 3,
            codec: CodecKind::Av1,
            key: true,
            cts_ms: 0,
            data: &[0xde, 0xad]
        }]
    );
    // ManyTracksManyCodecs audio: an Opus and an AAC track, coded frames.
    let mut a = vec![0x90 | 5, (2 << 4) | 1];
    a.extend_from_slice(b"Opus\x00\x00\x00\x01\x11mp4a\x01\x00\x00\x02\x22\x33");
    assert_eq!(
        parse_audio(&a).unwrap(),
        [
            Item::Frame {
                track: 0,
                codec: CodecKind::Opus,
                key: true,
                cts_ms: 0,
                data: &[0x11]
            },
            Item::Frame {
                track: 1,
                codec: CodecKind::Aac,
                key: true,
                cts_ms: 0,
                data: &[0x22, 0x33]
            },
        ]
    );
    // ModEx (2 bytes of nanosecond offset), then CodedFrames of hvc1 with a negative SI24 CTS.
    let body = [
        0x80 | 0x20 | 7,
        1,
        0,
        9,
        1,
        b'h',
        b'v',
        b'c',
        b'1',
        0xff,
        0xff,
        0xfe,
        7,
    ];
    assert_eq!(
        parse_video(&body).unwrap(),
        [Item::Frame {
            track: 0,
            codec: CodecKind::Hevc,
            key: false,
            cts_ms: -2,
            data: &[7]
        }]
    );
    // Metadata and command frames give nothing.
    assert!(
        parse_video(&[0x80 | 0x10 | 4, b'a', b'v', b'c', b'1', 2, 0])
            .unwrap()
            .is_empty()
    );
    assert!(parse_video(&[0x57, 0]).unwrap().is_empty());
}

fn err_of<T: std::fmt::Debug>(r: crate::Result<T>) -> Error {
    r.expect_err("refused")
}

#[test]
fn hostile_bodies_are_refused_with_field_and_offset() {
    let e = err_of(parse_video(&[]));
    assert_eq!((e.code(), e.offset()), ("malformed-mp4", Some(0)));
    let e = err_of(parse_video(&[0x17, 1, 0]));
    assert!(e.to_string().contains("CompositionTime"), "{e}");
    assert_eq!(e.offset(), Some(2));
    let mut huge = many_tracks(true, 1, &[(0, vec![0, 0, 0, 1])]);
    huge[7..10].copy_from_slice(&[0xff, 0xff, 0xff]);
    let e = err_of(parse_video(&huge));
    assert!(e.to_string().contains("declared size"), "{e}");
    assert_eq!(e.offset(), Some(10));
    let e = err_of(parse_video(&[0x12, 0]));
    assert_eq!(e.code(), "unsupported-mp4");
    assert!(e.to_string().contains("CodecID 2"), "{e}");
    let e = err_of(parse_video(&[0x80 | 0x10 | 5, b'a', b'v', b'0', b'1']));
    assert!(e.to_string().contains("MPEG2TSSequenceStart"), "{e}");
    let e = err_of(parse_video(&[0x80 | 0x10 | 1, b'x', b'x', b'x', b'x']));
    assert!(e.to_string().contains("FourCC 'xxxx'"), "{e}");
    let e = err_of(parse_audio(&[0x2f, 0]));
    assert!(e.to_string().contains("MP3"), "{e}");
    let e = err_of(parse_video(&[
        0x80 | 0x10 | 6,
        0x16,
        b'a',
        b'v',
        b'c',
        b'1',
        0,
    ]));
    assert!(e.to_string().contains("nested"), "{e}");
}

/// A legacy AVC body: AVCPacketType, CTS 0, payload.
pub(super) fn legacy(key: bool, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![if key { 0x17 } else { 0x27 }, pt, 0, 0, 0];
    v.extend_from_slice(payload);
    v
}

fn started(opts: LiveOptions) -> LiveMuxer {
    let mut m = LiveMuxer::new(opts);
    m.push_video(0, &legacy(true, 0, &avcc(320, 180))).unwrap();
    m.push_video(1000, &legacy(true, 1, &nal_frame(true, 10)))
        .unwrap();
    m
}

#[test]
fn bad_timestamps_and_limits_are_clear_errors() {
    let mut m = started(LiveOptions::default());
    let e = err_of(m.push_video(500, &legacy(false, 1, &nal_frame(false, 10))));
    assert_eq!(e.code(), "bad-timestamps");
    assert!(e.to_string().contains("goes back 500 ms"), "{e}");

    let mut m = started(LiveOptions::default());
    let e = err_of(m.push_video(21_000, &legacy(false, 1, &nal_frame(false, 10))));
    assert!(e.to_string().contains("jumps forward 20000 ms"), "{e}");

    let mut m = started(LiveOptions::default());
    let mut e = None;
    for i in 1..=1000u32 {
        if let Err(x) = m.push_video(1000 + i * 40, &legacy(false, 1, &nal_frame(false, 10))) {
            e = Some((i, x));
            break;
        }
    }
    let (i, e) = e.expect("no key frame refused");
    assert_eq!((e.code(), i), ("no-key-frame", 751));
    assert!(e.to_string().contains("no key frame for 30040 ms"), "{e}");

    let opts = LiveOptions {
        max_frame_bytes: 100,
        ..LiveOptions::default()
    };
    let mut m = started(opts);
    let e = err_of(m.push_video(1040, &legacy(false, 1, &nal_frame(false, 200))));
    assert_eq!(e.code(), "live-over-limit");

    let mut m = LiveMuxer::new(LiveOptions::default());
    let e = err_of(m.push_video(0, &legacy(true, 1, &nal_frame(true, 10))));
    assert!(
        e.to_string().contains("before the decoder configuration"),
        "{e}"
    );
    m.push_video(0, &legacy(true, 0, &avcc(320, 180))).unwrap();
    let e = err_of(m.push_video(0, &legacy(true, 0, &avcc(640, 360))));
    assert!(e.to_string().contains("changed mid-stream"), "{e}");
}

#[test]
fn rtmp_timestamps_wrap() {
    let mut m = LiveMuxer::new(LiveOptions::default());
    let start = u32::MAX - 1000;
    m.push_video(start, &legacy(true, 0, &avcc(320, 180)))
        .unwrap();
    let mut ev = Vec::new();
    for i in 0..60u32 {
        let ts = start.wrapping_add(i * 40);
        ev.extend(
            m.push_video(ts, &legacy(i % 25 == 0, 1, &nal_frame(i % 25 == 0, 10)))
                .unwrap(),
        );
    }
    ev.extend(m.finish().unwrap());
    let parts = parts_of(&ev, 0);
    let ticks: u64 = parts.iter().map(|p| p.duration).sum();
    assert_eq!(ticks, 60 * 3600);
    assert_eq!(parts[0].start, u64::from(start) * 90);
}

/// Every short body and a stream of pseudo-random ones: refused or parsed, never a panic.
#[test]
fn arbitrary_bodies_never_panic() {
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let _ = parse_video(&[a, b]);
            let _ = parse_audio(&[a, b]);
        }
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut m = started(LiveOptions::default());
    for n in 0..20_000u32 {
        let len = usize::try_from(n % 40).unwrap();
        let body: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_be_bytes()[0]
            })
            .collect();
        let _ = m.push_video(1000 + n, &body);
        let _ = m.push_audio(1000 + n, &body);
    }
    let _ = m.finish();
}
