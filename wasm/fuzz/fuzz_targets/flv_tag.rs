//! Arbitrary bytes as a run of RTMP audio / video tag bodies through the live muxer: each body is parsed
//! and muxed or refused, never a panic. Layout: per body, one byte (low bit: audio or video; the rest
//! scales the timestamp step), a u16 length, the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upcast_core::live::{flv, LiveMuxer, LiveOptions};

fuzz_target!(|data: &[u8]| {
    let _ = flv::parse_video(data);
    let _ = flv::parse_audio(data);
    let mut m = LiveMuxer::new(LiveOptions::default());
    let mut ts: u32 = 0;
    let mut rest = data;
    while let [kind, a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (body, next) = tail.split_at(len);
        ts = ts.wrapping_add(u32::from(kind >> 1) * 8);
        // A refused body leaves the muxer usable: keep pushing.
        let _ = if kind & 1 == 0 {
            m.push_video(ts, body)
        } else {
            m.push_audio(ts, body)
        };
        rest = next;
    }
    let _ = m.finish();
});
