//! Shared helpers for the core's integration tests: committed fixtures (embedded, so the same tests run on
//! wasm32 where there is no file system), a deliberately naive box finder that is independent of the code
//! under test, and one-line box builders for malformed inputs.
#![allow(dead_code)]
// Test fixtures: offsets, sizes, counts and timestamps of files of a few MB at most, far inside every type
// they are cast to.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use upcast_core::ladder::LadderJob;
use upcast_core::plan::PlanOptions;
use upcast_core::{Error, Package, SegmentOptions};

/// moov before mdat (tests patch the moov without moving sample data).
pub const FASTSTART: &[u8] = include_bytes!("../../../tests/fixtures/h264_aac_faststart.mp4");
/// ffmpeg's default layout: mdat first, moov at the end.
pub const MOOV_AT_END: &[u8] = include_bytes!("../../../tests/fixtures/h264_aac_bframes.mp4");
/// The same movie with 64-bit chunk offsets.
pub const CO64: &[u8] = include_bytes!("../../../tests/fixtures/co64.mp4");
pub const LONG_GOP: &[u8] = include_bytes!("../../../tests/fixtures/long_gop.mp4");
pub const AUDIO_ONLY: &[u8] = include_bytes!("../../../tests/fixtures/audio_only.m4a");
pub const VIDEO_ONLY: &[u8] = include_bytes!("../../../tests/fixtures/video_only.mp4");

/// A box located in a file: where it starts and how long it is (header included).
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub start: usize,
    pub size: usize,
}

impl Found {
    /// Offset of the payload (after the 8-byte header; these fixtures use no 64-bit sizes).
    pub fn payload(&self) -> usize {
        self.start + 8
    }

    pub fn end(&self) -> usize {
        self.start + self.size
    }
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Bytes to skip in a payload before its child boxes, for the boxes this walker descends into.
fn child_skip(kind: &[u8]) -> Option<usize> {
    match kind {
        b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"edts" | b"dinf" | b"udta" | b"mvex" => {
            Some(0)
        }
        b"stsd" | b"dref" => Some(8),
        b"avc1" | b"hvc1" | b"hev1" | b"av01" | b"vp09" => Some(78),
        b"mp4a" | b"Opus" => Some(28),
        _ => None,
    }
}

/// Every box at every level this walker knows, in file order.
pub fn all_boxes(file: &[u8]) -> Vec<(String, Found)> {
    let mut out = Vec::new();
    walk(file, 0, file.len(), "", &mut out);
    out
}

fn walk(file: &[u8], mut pos: usize, end: usize, path: &str, out: &mut Vec<(String, Found)>) {
    let mut counts = std::collections::HashMap::new();
    while pos + 8 <= end {
        let size = be32(file, pos);
        let kind = &file[pos + 4..pos + 8];
        let name = String::from_utf8_lossy(kind).into_owned();
        let n = counts.entry(name.clone()).or_insert(0);
        let p = format!(
            "{path}{}{name}[{n}]",
            if path.is_empty() { "" } else { "/" }
        );
        *n += 1;
        if size < 8 || pos + size > end {
            return;
        }
        out.push((p.clone(), Found { start: pos, size }));
        if let Some(skip) = child_skip(kind) {
            walk(file, pos + 8 + skip, pos + size, &p, out);
        }
        pos += size;
    }
}

/// Find a box by path: "moov/trak[1]/mdia/minf/stbl/stsz" (an index may be left out for the first).
pub fn find(file: &[u8], path: &str) -> Found {
    let want: Vec<String> = path
        .split('/')
        .map(|p| {
            if p.contains('[') {
                p.to_string()
            } else {
                format!("{p}[0]")
            }
        })
        .collect();
    let want = want.join("/");
    all_boxes(file)
        .into_iter()
        .find(|(p, _)| *p == want)
        .unwrap_or_else(|| panic!("no box {path} in the fixture"))
        .1
}

pub fn put_u32(file: &mut [u8], at: usize, v: u32) {
    file[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

pub fn get_u32(file: &[u8], at: usize) -> u32 {
    be32(file, at) as u32
}

/// A box: 32-bit size, type, payload.
pub fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

/// A FullBox: version, flags, payload.
pub fn fullbx(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = ((u32::from(version) << 24) | flags).to_be_bytes().to_vec();
    p.extend_from_slice(payload);
    bx(kind, &p)
}

/// Replace the box at `f` with `new` bytes and fix the sizes of the boxes on `parents` (paths).
pub fn replace_box(file: &[u8], f: Found, new: &[u8], parents: &[&str]) -> Vec<u8> {
    let delta = new.len() as i64 - f.size as i64;
    let mut out = file.to_vec();
    for p in parents {
        let pf = find(file, p);
        put_u32(&mut out, pf.start, (pf.size as i64 + delta) as u32);
    }
    out.splice(f.start..f.end(), new.iter().copied());
    out
}

pub fn segment(bytes: &[u8]) -> Result<Package, Error> {
    upcast_core::segment(&bytes.to_vec(), &SegmentOptions::default())
}

pub fn segment_with(bytes: &[u8], opts: &SegmentOptions) -> Result<Package, Error> {
    upcast_core::segment(&bytes.to_vec(), opts)
}

/// Segment `bytes` expecting an error; returns it.
pub fn err(bytes: &[u8]) -> Error {
    match segment(bytes) {
        Ok(_) => panic!("expected an error, the file was accepted"),
        Err(e) => e,
    }
}

/// Assert `e` is Malformed/Unsupported/Limit at byte `offset` and its text contains `needle`.
#[track_caller]
pub fn assert_at(e: &Error, offset: u64, needle: &str) {
    let (Error::Malformed { offset: o, .. }
    | Error::Unsupported { offset: o, .. }
    | Error::Limit { offset: o, .. }) = e
    else {
        panic!("expected an error with an offset, got: {e}");
    };
    assert_eq!(*o, offset, "wrong offset in: {e}");
    assert!(
        e.to_string().contains(needle),
        "{e:?} does not mention {needle:?}"
    );
}

/// Options that plan segments of `target` seconds.
pub fn with_target(target: f64) -> SegmentOptions {
    SegmentOptions {
        plan: PlanOptions {
            target_duration_s: target,
        },
        ..SegmentOptions::default()
    }
}

/// The ladder tests' stand-in for a WebCodecs H.264 encoder: source video sample `i` of `job` (its bytes
/// read from `src`, the file the job was made from) pushed as rung `r`'s chunk with the source's avcC, at
/// its time in whole microseconds as WebCodecs stamps chunks. The files that completed.
pub fn push_source_sample(
    job: &mut LadderJob,
    src: &[u8],
    r: usize,
    i: usize,
) -> Vec<(String, Vec<u8>)> {
    let desc = job.source().video.description.clone();
    let v = job.video_samples();
    let at = v.offset[i] as usize;
    let bytes = src[at..at + v.size[i] as usize].to_vec();
    let (ts, key) = (v.timestamp_us[i].round(), v.key[i] == 1);
    job.push_video(r, bytes, ts, key, desc.as_deref()).unwrap()
}
