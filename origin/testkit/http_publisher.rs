//! For the HTTP publish tests: a ladder encoded by ffmpeg at test time (two renditions with the same key
//! frames, plus AAC), muxed into CMAF parts by the core's live muxer as a browser tab's wasm core would
//! (Enhanced RTMP multitrack bodies: the muxer aligns the rungs' segments), and the publish API's calls.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::flv_tags::{ladder, ladder_flvs};
use crate::harness::*;
use serde_json::Value;
use upcast_core::demux::TrackKind;
use upcast_core::live::{LiveEvent, LiveMuxer, LiveOptions, Part};

/// One part to upload: when it is ready (ms after the start, on the source's clock), its rendition and
/// the part itself.
pub struct Upload {
    pub due_ms: u32,
    pub rendition: String,
    pub part: Part,
}

/// What the muxer made of a ladder: each rendition's init segment, then the parts in the order made.
pub struct Muxed {
    pub inits: Vec<(String, Vec<u8>)>,
    pub parts: Vec<Upload>,
}

/// Two renditions (640x360, 320x180) of one picture with the same key frames, and AAC, muxed.
pub fn encode_ladder(dir: &Path, seconds: u32) -> Muxed {
    let (hi, lo) = ladder_flvs(dir, seconds);
    mux(&ladder(&hi, &[lo]))
}

fn mux(tags: &[crate::flv_tags::Tag]) -> Muxed {
    let mut m = LiveMuxer::new(LiveOptions::default());
    let mut names: Vec<String> = Vec::new();
    let mut out = Muxed {
        inits: Vec::new(),
        parts: Vec::new(),
    };
    let mut take = |events: Vec<LiveEvent>, due_ms: u32, out: &mut Muxed| {
        for ev in events {
            match ev {
                LiveEvent::Track { track, info } => {
                    assert_eq!(track, names.len(), "tracks come in order");
                    let kind = if info.kind == TrackKind::Audio {
                        "audio"
                    } else {
                        "video"
                    };
                    let same = out
                        .inits
                        .iter()
                        .filter(|(n, _)| n.starts_with(kind))
                        .count();
                    let name = match same {
                        0 => kind.to_string(),
                        n => format!("{kind}_{}", n + 1),
                    };
                    names.push(name.clone());
                    out.inits.push((name, info.init));
                }
                LiveEvent::Part { track, part } => out.parts.push(Upload {
                    due_ms,
                    rendition: names[track].clone(),
                    part,
                }),
            }
        }
    };
    for t in tags {
        let ev = match t.kind {
            9 => m.push_video(t.ts_ms, &t.body).unwrap(),
            8 => m.push_audio(t.ts_ms, &t.body).unwrap(),
            _ => continue,
        };
        take(ev, t.ts_ms, &mut out);
    }
    let last = tags.last().map_or(0, |t| t.ts_ms);
    take(m.finish().unwrap(), last, &mut out);
    out
}

/// `X-Upcast-Part` for a part.
pub fn claim(p: &Part) -> String {
    format!(
        "independent={}; segment={}",
        u8::from(p.independent),
        u8::from(p.starts_segment)
    )
}

/// `POST /api/live/publish` with `key` (`base`: the server's URL).
pub fn publish_http(base: &str, key: &str) -> (u16, Value) {
    let r = agent()
        .post(&format!("{base}/api/live/publish"))
        .set("Content-Type", "application/json")
        .send_string(&serde_json::json!({ "stream_key": key }).to_string());
    let (code, text) = status(r);
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A call with the ticket as bearer: `PUT` with a body (and an `X-Upcast-Part` header), or `POST`.
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    ticket: &str,
    part: Option<&str>,
    body: &[u8],
) -> (u16, Value) {
    let mut req = agent()
        .request(method, &format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {ticket}"));
    if let Some(p) = part {
        req = req.set("X-Upcast-Part", p);
    }
    let (code, text) = status(req.send_bytes(body));
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A media playlist's segments: MSN → (EXTINF, PROGRAM-DATE-TIME).
pub fn segments(text: &str) -> std::collections::BTreeMap<u64, (String, Option<String>)> {
    let mut msn = crate::live_client::msns(text).0;
    let (mut inf, mut pdt) = (None, None);
    let mut out = std::collections::BTreeMap::new();
    for l in text.lines() {
        if let Some(v) = l.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
            pdt = Some(v.to_string());
        } else if let Some(v) = l.strip_prefix("#EXTINF:") {
            inf = Some(v.trim_end_matches(',').to_string());
        } else if !l.starts_with('#') && !l.is_empty() {
            if let Some(d) = inf.take() {
                out.insert(msn, (d, pdt.take()));
                msn += 1;
            }
        }
    }
    out
}

/// Upload `parts` at the pace they were made; on the way, check a retry, a conflict, a gap and a false
/// INDEPENDENT claim. Returns the lags the origin reported.
pub fn upload_checked(base: &str, id: &str, ticket: &str, parts: &[Upload]) -> Vec<i64> {
    let t0 = Instant::now();
    let mut next: HashMap<String, u64> = HashMap::new();
    let (mut retried, mut lied) = (false, false);
    let mut lags = Vec::new();
    for u in parts {
        let due = t0 + Duration::from_millis(u64::from(u.due_ms));
        // The pace of a real-time encoder (the source's clock, not a wait for the server).
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let n = next.entry(u.rendition.clone()).or_insert(0);
        let path = format!("/api/live/{id}/{}/parts/{n}", u.rendition);
        let bytes = &u.part.bytes;
        if u.rendition == "video" && !u.part.independent && !lied {
            let lie = Some("independent=1; segment=0");
            let (c, v) = call(base, "PUT", &path, ticket, lie, bytes);
            assert_eq!(
                (c, v["code"].as_str()),
                (422, Some("not-independent")),
                "{v}"
            );
            lied = true;
        }
        let (c, v) = call(base, "PUT", &path, ticket, Some(&claim(&u.part)), bytes);
        assert_eq!(c, 201, "{path}: {v}");
        assert!(v["msn"].is_u64() && v["part"].is_u64(), "{v}");
        lags.push(v["lag_ms"].as_i64().expect("lag_ms"));
        if u.rendition == "video_2" && *n == 3 && !retried {
            let (c2, v2) = call(base, "PUT", &path, ticket, Some(&claim(&u.part)), bytes);
            assert_eq!((c2, &v2), (200, &v), "a retry is a no-op");
            let mut other = bytes.clone();
            other.push(0);
            let (c3, v3) = call(base, "PUT", &path, ticket, Some(&claim(&u.part)), &other);
            assert_eq!(
                (c3, v3["code"].as_str()),
                (409, Some("part-conflict")),
                "{v3}"
            );
            let gap = format!("/api/live/{id}/video_2/parts/{}", *n + 2);
            let (c4, v4) = call(base, "PUT", &gap, ticket, Some("independent=0"), bytes);
            assert_eq!((c4, v4["code"].as_str()), (409, Some("part-gap")), "{v4}");
            assert_eq!(v4["expected"], *n + 1, "{v4}");
            retried = true;
        }
        *n += 1;
    }
    assert!(
        retried && lied,
        "the ladder had the parts these checks need"
    );
    lags
}
