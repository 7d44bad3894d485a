//! Helpers for the live window tests: real CMAF init segments and parts written with the core's writers
//! (`cmaf::init`, `cmaf::fragment`), an in-process origin, and requests against it.
#![allow(dead_code)] // Each test binary uses a different subset.

pub mod dash;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{call_service, read_body, TestRequest};
use actix_web::web::Data;
use upcast_core::cmaf::fragment::{fragment_header, OutSample};
use upcast_core::cmaf::init::{init_segment, InitTrack};
use upcast_core::demux::{TrackHeader, TrackKind};
use upcast_core::live::{Part, TrackInfo};
use upcast_origin::live::{HubLimits, LiveOptions};
use upcast_origin::AppState;

pub const TIMESCALE: u32 = 1000;

fn sized_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = u32::try_from(body.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// An avc1 sample entry (VisualSampleEntry + avcC with one SPS and one PPS) of `w`×`h`.
fn avc1(w: u16, h: u16) -> Vec<u8> {
    let mut e = vec![0; 6];
    e.extend_from_slice(&1u16.to_be_bytes()); // data_reference_index
    e.extend_from_slice(&[0; 16]);
    e.extend_from_slice(&w.to_be_bytes());
    e.extend_from_slice(&h.to_be_bytes());
    e.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    e.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    e.extend_from_slice(&[0; 4]);
    e.extend_from_slice(&1u16.to_be_bytes()); // frame_count
    e.extend_from_slice(&[0; 32]);
    e.extend_from_slice(&0x0018u16.to_be_bytes());
    e.extend_from_slice(&(-1i16).to_be_bytes());
    let sps = [0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x01, 0x40, 0x16, 0xe8, 0x40];
    let pps = [0x68, 0xce, 0x3c, 0x80];
    let mut c = vec![1, 0x42, 0xc0, 0x1e, 0xff, 0xe1];
    c.extend_from_slice(&u16::try_from(sps.len()).unwrap().to_be_bytes());
    c.extend_from_slice(&sps);
    c.push(1);
    c.extend_from_slice(&u16::try_from(pps.len()).unwrap().to_be_bytes());
    c.extend_from_slice(&pps);
    e.extend_from_slice(&sized_box(b"avcC", &c));
    sized_box(b"avc1", &e)
}

/// An mp4a sample entry (AudioSampleEntry, stereo 48 kHz) with an esds for AAC-LC.
fn mp4a() -> Vec<u8> {
    let mut e = vec![0; 6];
    e.extend_from_slice(&1u16.to_be_bytes());
    e.extend_from_slice(&[0; 8]);
    e.extend_from_slice(&2u16.to_be_bytes());
    e.extend_from_slice(&16u16.to_be_bytes());
    e.extend_from_slice(&[0; 4]);
    e.extend_from_slice(&(48_000u32 << 16).to_be_bytes());
    // ES_Descriptor { DecoderConfigDescriptor { AudioSpecificConfig 0x1190 }, SLConfig }.
    let esds = [
        0, 0, 0, 0, 0x03, 0x19, 0, 1, 0, 0x04, 0x11, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x05, 0x02, 0x11, 0x90, 0x06, 0x01, 0x02,
    ];
    e.extend_from_slice(&sized_box(b"esds", &esds));
    sized_box(b"mp4a", &e)
}

pub fn video_track(w: u16, h: u16) -> TrackInfo {
    let entry = avc1(w, h);
    let init = init_segment(&InitTrack {
        kind: TrackKind::Video,
        timescale: TIMESCALE,
        language: "und",
        header: TrackHeader {
            flags: 3,
            matrix: [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000],
            width: u32::from(w) << 16,
            height: u32::from(h) << 16,
            volume: 0,
            layer: 0,
            alternate_group: 0,
        },
        entry: &entry,
    })
    .unwrap();
    TrackInfo {
        kind: TrackKind::Video,
        codec: "avc1.42c01e".into(),
        width: w.into(),
        height: h.into(),
        sample_rate: 0,
        channels: 0,
        init,
    }
}

pub fn audio_track() -> TrackInfo {
    let entry = mp4a();
    let init = init_segment(&InitTrack {
        kind: TrackKind::Audio,
        timescale: TIMESCALE,
        language: "und",
        header: TrackHeader {
            flags: 7,
            matrix: [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000],
            width: 0,
            height: 0,
            volume: 0x0100,
            layer: 0,
            alternate_group: 1,
        },
        entry: &entry,
    })
    .unwrap();
    TrackInfo {
        kind: TrackKind::Audio,
        codec: "mp4a.40.2".into(),
        width: 0,
        height: 0,
        sample_rate: 48_000,
        channels: 2,
        init,
    }
}

/// One part: a single moof + mdat chunk of `frames` samples of `frame_ms` from `start_ms`, the first a
/// key frame when `key` (then it starts a segment when `starts_segment`). Sample bytes are `fill`.
pub fn part(
    seq: u32,
    start_ms: u64,
    frames: u32,
    frame_ms: u32,
    key: bool,
    starts_segment: bool,
    fill: u8,
) -> Part {
    let samples: Vec<OutSample> = (0..frames)
        .map(|k| OutSample {
            size: 200,
            duration: frame_ms,
            cts_offset: 0,
            sync: key && k == 0,
        })
        .collect();
    let mut bytes = fragment_header(seq, start_ms, &samples).unwrap();
    bytes.resize(bytes.len() + 200 * frames as usize, fill);
    let len = bytes.len() as u64;
    Part {
        bytes,
        start: start_ms,
        duration: u64::from(frames * frame_ms),
        timescale: TIMESCALE,
        independent: key,
        starts_segment,
        key_chunk: key.then_some((0, len)),
    }
}

/// Pushes segments of `parts_per_segment` parts of `part_ms` (5 frames each, key frame first) into one
/// track, numbering fragments and timing them; keeps every part it pushed.
pub struct Feed {
    pub track: String,
    pub parts_per_segment: u32,
    pub part_ms: u32,
    pub seq: u32,
    pub t_ms: u64,
    pub pushed: Vec<Part>,
}

impl Feed {
    pub fn new(track: &str, parts_per_segment: u32, part_ms: u32) -> Self {
        Feed {
            track: track.into(),
            parts_per_segment,
            part_ms,
            seq: 0,
            t_ms: 0,
            pushed: Vec::new(),
        }
    }

    /// The next part (a segment starts every `parts_per_segment`).
    pub fn next(&mut self) -> Part {
        let first = self.seq % self.parts_per_segment == 0;
        let fill = u8::try_from(self.seq % 251).unwrap();
        let p = part(
            self.seq + 1,
            self.t_ms,
            5,
            self.part_ms / 5,
            first,
            first,
            fill,
        );
        self.seq += 1;
        self.t_ms += u64::from(self.part_ms);
        self.pushed.push(p.clone());
        p
    }

    pub fn push(
        &mut self,
        s: &upcast_origin::live::LiveStream,
        n: u32,
    ) -> Vec<upcast_origin::live::ClosedSegment> {
        let mut closed = Vec::new();
        for _ in 0..n {
            let p = self.next();
            let pdt =
                UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(p.start);
            closed.extend(s.push(&self.track, p, pdt).unwrap());
        }
        closed
    }
}

pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Response headers by lower-case name.
pub type Headers = std::collections::HashMap<String, String>;

/// GET `uri` from `peer`; status, headers and body.
pub async fn get_from<S>(app: &S, uri: &str, peer: &str) -> (u16, Headers, Vec<u8>)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let r = call_service(
        app,
        TestRequest::get()
            .uri(uri)
            .peer_addr(peer.parse().unwrap())
            .to_request(),
    )
    .await;
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    (status, headers, read_body(r).await.to_vec())
}

pub async fn get<S>(app: &S, uri: &str) -> (u16, Headers, Vec<u8>)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    get_from(app, uri, "127.0.0.1:40000").await
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

pub fn media(b: &[u8]) -> m3u8_rs::MediaPlaylist {
    match m3u8_rs::parse_playlist_res(b) {
        Ok(m3u8_rs::Playlist::MediaPlaylist(p)) => p,
        other => panic!("not a media playlist: {other:?}"),
    }
}

pub fn concat(parts: &[Part]) -> Vec<u8> {
    parts.iter().flat_map(|p| p.bytes.iter().copied()).collect()
}

/// An in-process origin with these live limits; its state; the data directory to keep alive.
pub async fn app_with(
    limits: HubLimits,
) -> (
    impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    Data<AppState>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = crate::harness::config(dir.path());
    cfg.live = limits;
    let st = crate::harness::state(cfg);
    let app = actix_web::test::init_service(
        actix_web::App::new().configure(upcast_origin::routes(st.clone())),
    )
    .await;
    (app, st, dir)
}

/// A stream's options: 0.5 s parts, a DVR window of `dvr_s` seconds.
pub fn opts(dvr_s: u64, public: bool) -> LiveOptions {
    LiveOptions {
        public,
        dvr_window: Duration::from_secs(dvr_s),
        part_target: Duration::from_millis(500),
    }
}
