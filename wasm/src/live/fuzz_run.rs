//! The `flv_tag` fuzz target's check (and its regression inputs'): arbitrary bytes as a run of RTMP tag
//! bodies through the tag parsers and the live muxer. Layout: per body, one byte (low bit: audio or
//! video; the rest scales the timestamp step), a u16 length, the body. Every body is muxed or refused
//! with an error, never a panic; a refused body leaves the muxer usable; every part that comes out covers
//! time after the previous one of its track.

use super::{flv, LiveEvent, LiveMuxer, LiveOptions};

pub fn check_tag_run(data: &[u8]) -> Result<(), String> {
    let _ = flv::parse_video(data);
    let _ = flv::parse_audio(data);
    let mut m = LiveMuxer::new(LiveOptions::default());
    let mut ends: Vec<u64> = Vec::new();
    let mut ts: u32 = 0;
    let mut rest = data;
    let mut check = |events: Vec<LiveEvent>| -> Result<(), String> {
        for ev in events {
            if let LiveEvent::Part { track, part } = ev {
                if ends.len() <= track {
                    ends.resize(track + 1, 0);
                }
                if part.start < ends[track] {
                    return Err(format!(
                        "track {track}: a part starts at {} before the previous one ended at {}",
                        part.start, ends[track]
                    ));
                }
                ends[track] = part.start + part.duration;
            }
        }
        Ok(())
    };
    while let [kind, a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (body, next) = tail.split_at(len);
        ts = ts.wrapping_add(u32::from(kind >> 1) * 8);
        let out = if kind & 1 == 0 {
            m.push_video(ts, body)
        } else {
            m.push_audio(ts, body)
        };
        if let Ok(events) = out {
            check(events)?;
        }
        rest = next;
    }
    if let Ok(events) = m.finish() {
        check(events)?;
    }
    Ok(())
}
