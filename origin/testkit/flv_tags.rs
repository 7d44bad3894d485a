//! FLV files for RTMP tests: read the tags ffmpeg wrote, and turn legacy AVC video tags of several
//! renditions into one Enhanced RTMP v2 multitrack body (ManyTracks, avc1), as OBS 31 sends its ladder.
#![allow(dead_code)] // Each test binary uses a different subset.

/// One FLV tag: its type (8 audio, 9 video, 18 script data), timestamp (ms) and body.
#[derive(Clone, Debug)]
pub struct Tag {
    pub kind: u8,
    pub ts_ms: u32,
    pub body: Vec<u8>,
}

fn u24(b: &[u8]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

/// Every tag of an FLV file, in file order.
pub fn read_flv(path: &std::path::Path) -> Vec<Tag> {
    let d = std::fs::read(path).unwrap();
    assert_eq!(&d[..3], b"FLV", "{} is an FLV file", path.display());
    let header = u32::from_be_bytes(d[5..9].try_into().unwrap()) as usize;
    let mut at = header + 4;
    let mut out = Vec::new();
    while at + 11 <= d.len() {
        let kind = d[at] & 0x1f;
        let size = u24(&d[at + 1..]) as usize;
        let ts_ms = u24(&d[at + 4..]) | (u32::from(d[at + 7]) << 24);
        let body = d[at + 11..at + 11 + size].to_vec();
        out.push(Tag { kind, ts_ms, body });
        at += 11 + size + 4;
    }
    out
}

/// Enhanced RTMP: IsExHeader, and the video PacketType / AvMultitrackType values used here.
const EX_HEADER: u8 = 0x80;
const MULTITRACK: u8 = 6;
const MANY_TRACKS: u8 = 1;

/// One multitrack video body carrying legacy AVC tag body `tracks[i]` as trackId `i`: the tracks must be
/// the same kind of packet (sequence header, frames or end of sequence) with the same frame type.
pub fn avc_multitrack(tracks: &[&[u8]]) -> Vec<u8> {
    let (b0, avc_packet) = (tracks[0][0], tracks[0][1]);
    for t in tracks {
        assert_eq!(t[0] & 0x0f, 7, "a legacy AVC body");
        assert_eq!(
            (t[0], t[1]),
            (b0, avc_packet),
            "the renditions' tags line up"
        );
    }
    let frame_type = (b0 >> 4) & 0x07;
    // AVCPacketType 0/1/2 → SequenceStart / CodedFrames / SequenceEnd (the same numbers).
    let mut out = vec![
        EX_HEADER | (frame_type << 4) | MULTITRACK,
        (MANY_TRACKS << 4) | avc_packet,
    ];
    out.extend(b"avc1");
    for (id, t) in tracks.iter().enumerate() {
        let data: &[u8] = match avc_packet {
            0 => &t[5..],
            // CodedFrames keep their CompositionTime.
            1 => &t[2..],
            _ => &[],
        };
        out.push(u8::try_from(id).unwrap());
        out.extend(&u32::try_from(data.len()).unwrap().to_be_bytes()[1..]);
        out.extend(data);
    }
    out
}

/// The tags of a multitrack publish: `main`'s tags in order (audio and video), each of its video tags
/// joined with the video tag at the same place in every file of `others` into one multitrack body.
pub fn ladder(main: &[Tag], others: &[Vec<Tag>]) -> Vec<Tag> {
    let videos: Vec<Vec<&Tag>> = others
        .iter()
        .map(|o| o.iter().filter(|t| t.kind == 9).collect())
        .collect();
    let mut k = 0;
    let mut out = Vec::new();
    for t in main {
        match t.kind {
            9 => {
                let mut bodies = vec![t.body.as_slice()];
                for v in &videos {
                    assert_eq!(v[k].ts_ms, t.ts_ms, "video tag {k} at the same time");
                    bodies.push(&v[k].body);
                }
                k += 1;
                out.push(Tag {
                    kind: 9,
                    ts_ms: t.ts_ms,
                    body: avc_multitrack(&bodies),
                });
            }
            8 => out.push(t.clone()),
            _ => {}
        }
    }
    out
}

/// Two renditions (640x360, 320x180) of one picture with the same key frames (every 30 frames), each
/// with the same AAC, made by ffmpeg as FLV at test time: their tags.
pub fn ladder_flvs(dir: &std::path::Path, seconds: u32) -> (Vec<Tag>, Vec<Tag>) {
    let x264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "30",
        "-keyint_min",
        "30",
        "-sc_threshold",
        "0",
        "-pix_fmt",
        "yuv420p",
    ];
    let (hi, lo) = (dir.join("hi.flv"), dir.join("lo.flv"));
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=640x360:rate=30:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=44100:duration={seconds}"
        ))
        .args(["-map", "0:v", "-map", "1:a"])
        .args(x264)
        .args(["-c:a", "aac", "-b:a", "64k"])
        .arg(&hi)
        // The same audio in both files, so that both get the same timestamp offset (its priming).
        .args(["-map", "0:v", "-map", "1:a", "-vf", "scale=320:180"])
        .args(x264)
        .args(["-c:a", "aac", "-b:a", "64k"])
        .arg(&lo)
        .output()
        .expect("ffmpeg (tests/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (read_flv(&hi), read_flv(&lo))
}
