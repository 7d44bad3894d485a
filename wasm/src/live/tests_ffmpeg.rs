//! The live muxer on real encoder output: ffmpeg writes an FLV file (H.264 with B-frames + AAC) at test
//! time, its tags are fed to [`LiveMuxer`] as RTMP would deliver them, and the parts are read back.

use super::{LiveEvent, LiveMuxer, LiveOptions, Part, TrackInfo};
use crate::check::is_key_frame;
use crate::cmaf::read::{read_init, read_segment, InitInfo};
use crate::demux::TrackKind;

/// The tags of an FLV file as (TagType, timestamp ms, body). The format is trivial: a 9-byte header and a
/// 4-byte PreviousTagSize, then per tag an 11-byte header (type, u24 size, u24 timestamp + u8 extension,
/// u24 stream id), the body, and a 4-byte PreviousTagSize.
fn flv_tags(file: &[u8]) -> Vec<(u8, u32, &[u8])> {
    assert_eq!(&file[..3], b"FLV");
    let mut at = 13;
    let mut out = Vec::new();
    while at + 11 <= file.len() {
        let h = &file[at..at + 11];
        let size = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
        let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        out.push((h[0], ts, &file[at + 11..at + 11 + size]));
        at += 11 + size + 4;
    }
    out
}

fn ffmpeg_flv() -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("upcast-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.flv");
    let run = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30",
        ])
        .args([
            "-f", "lavfi", "-i", "sine", "-t", "4", "-c:v", "libx264", "-g", "30", "-bf", "2",
        ])
        .args(["-c:a", "aac", "-f", "flv"])
        .arg(&out)
        .output()
        .expect("ffmpeg runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

struct Track {
    info: TrackInfo,
    init: InitInfo,
    parts: Vec<Part>,
}

/// The segments of a track: its parts grouped from each `starts_segment`.
fn segments(parts: &[Part]) -> Vec<Vec<&Part>> {
    let mut segs: Vec<Vec<&Part>> = Vec::new();
    for p in parts {
        if p.starts_segment || segs.is_empty() {
            segs.push(Vec::new());
        }
        segs.last_mut().unwrap().push(p);
    }
    segs
}

#[test]
fn ffmpeg_flv_becomes_aligned_ll_hls_parts() {
    let file = ffmpeg_flv();
    let mut m = LiveMuxer::new(LiveOptions::default());
    let mut events = Vec::new();
    for (kind, ts, body) in flv_tags(&file) {
        match kind {
            8 => events.extend(m.push_audio(ts, body).unwrap()),
            9 => events.extend(m.push_video(ts, body).unwrap()),
            _ => {} // script data (onMetaData)
        }
    }
    events.extend(m.finish().unwrap());
    let mut tracks: Vec<Track> = Vec::new();
    for e in events {
        match e {
            LiveEvent::Track { track, info } => {
                assert_eq!(track, tracks.len());
                let init = read_init(&info.init).unwrap();
                tracks.push(Track {
                    info,
                    init,
                    parts: Vec::new(),
                });
            }
            LiveEvent::Part { track, part } => tracks[track].parts.push(part),
        }
    }
    assert_eq!(tracks.len(), 2);
    let (v, a) = (&tracks[0], &tracks[1]);
    assert_eq!(v.info.kind, TrackKind::Video);
    assert!(v.info.codec.starts_with("avc1.64"), "{}", v.info.codec);
    assert_eq!((v.info.width, v.info.height), (320, 180));
    assert_eq!(
        (a.info.codec.as_str(), a.info.sample_rate),
        ("mp4a.40.2", 44100)
    );
    assert_eq!((v.init.timescale, a.init.timescale), (90_000, 44100));

    for t in &tracks {
        // The part target (0.5 s) with the 2 % the muxer allows for millisecond timestamps.
        let target = u64::from(t.init.timescale) / 2;
        let target = target + target / 50;
        for w in t.parts.windows(2) {
            assert_eq!(w[1].start, w[0].start + w[0].duration, "{}", t.info.codec);
        }
        for p in &t.parts {
            assert!(
                p.duration <= target,
                "{}: a part of {} ticks",
                t.info.codec,
                p.duration
            );
        }
        // Each segment, concatenated, reads back: continuous, starting with a sync sample that the
        // bitstream agrees is a key frame.
        for seg in segments(&t.parts) {
            let bytes: Vec<u8> = seg.iter().flat_map(|p| p.bytes.iter().copied()).collect();
            let frags = read_segment(&bytes, &t.init).unwrap();
            let mut next = frags[0].base_decode_time;
            for f in &frags {
                assert_eq!(f.base_decode_time, next);
                next += f.duration();
            }
            let first = &frags[0];
            assert!(first.samples[0].is_sync());
            let at = usize::try_from(first.data_offset).unwrap();
            let data = &bytes[at..at + usize::try_from(first.samples[0].size).unwrap()];
            if t.info.kind == TrackKind::Video {
                assert_eq!(is_key_frame(&t.init.entry, data), Some(true));
                assert!(seg[0].key_chunk.is_some());
            }
        }
    }
    // -g 30 at 30 fps: a key frame every second, so four 1 s segments, aligned: audio starts each at its
    // first frame at or after the video's (an AAC frame is 1024 / 44100 s, timestamps are whole ms). Its
    // first frame comes 44 ms after the first video frame (the encoder's priming), which starts segment 0.
    let (vs, as_) = (segments(&v.parts), segments(&a.parts));
    assert_eq!((vs.len(), as_.len()), (4, 4));
    assert_eq!(as_[0][0].start, a.parts[0].start);
    for (n, (sv, sa)) in vs.iter().zip(&as_).enumerate() {
        let tv = sv[0].start as f64 / 90_000.0;
        let ta = sa[0].start as f64 / 44_100.0;
        assert!(ta >= tv - 0.001, "segment {n}: video {tv} audio {ta}");
        if n > 0 {
            assert!(
                ta < tv + 1024.0 / 44_100.0 + 0.001,
                "segment {n}: video {tv} audio {ta}"
            );
        }
    }
    for s in &vs[..3] {
        let d: u64 = s.iter().map(|p| p.duration).sum();
        assert_eq!(d, 90_000);
    }
    let stats = m.stats(0).unwrap();
    assert!(stats.b_frames);
    assert_eq!(stats.key_interval_us, Some(1_000_000));
    assert!((stats.frame_rate.unwrap() - 30.0).abs() < 0.5, "{stats:?}");
    assert!(stats.bitrate.unwrap() > 10_000.0);
    assert_eq!(stats.frames, 120);
}
