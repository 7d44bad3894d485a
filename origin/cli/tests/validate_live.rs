//! `upcast validate --live` end to end against a scripted LL-HLS server on 127.0.0.1: a good stream passes,
//! a part marked INDEPENDENT that starts mid-GOP is caught, a reload that withdraws a segment is caught.
//! The parts are real CMAF chunks cut from a fixture by the core's segmenter and fragment writer.

#[path = "../../testkit/common/mod.rs"]
mod common;

use common::{fixture, run};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use upcast_core::cmaf::fragment::{fragment_header, OutSample};
use upcast_core::cmaf::read::{read_init, read_segment};

fn upcast() -> Command {
    Command::new(env!("CARGO_BIN_EXE_upcast"))
}

/// The video of a fixture as an init segment and six media segments, each a real CMAF chunk starting with
/// an IDR, with its duration in seconds.
fn chunks() -> (Vec<u8>, Vec<(Vec<u8>, f64)>) {
    let src = std::fs::read(fixture("video_only.mp4")).unwrap();
    let mut opts = upcast_core::SegmentOptions::default();
    opts.plan.target_duration_s = 1.0;
    let pkg = upcast_core::segment(&src, &opts).unwrap();
    let files: BTreeMap<String, Vec<u8>> = pkg
        .files()
        .into_iter()
        .map(|(p, b)| (p, b.to_vec(&src).unwrap()))
        .collect();
    let (init_path, init) = files.iter().find(|(p, _)| p.ends_with("init.mp4")).unwrap();
    let dir = init_path.rsplit_once('/').unwrap().0;
    let info = read_init(init).unwrap();
    let segs: Vec<(Vec<u8>, f64)> = files
        .iter()
        .filter(|(p, _)| p.starts_with(dir) && p.ends_with(".m4s"))
        .map(|(_, b)| {
            let ticks: u64 = read_segment(b, &info)
                .unwrap()
                .iter()
                .map(|f| f.duration())
                .sum();
            (b.clone(), ticks as f64 / f64::from(info.timescale))
        })
        .collect();
    // The live rules do not follow tfdt from part to part, so the fixture's few segments are repeated to
    // make a longer stream.
    let six = segs.iter().cycle().take(6).cloned().collect();
    (init.clone(), six)
}

/// A chunk of `seg`'s samples after its first: starts mid-GOP, its first sample flagged non-sync.
fn mid_gop(init: &[u8], seg: &[u8]) -> Vec<u8> {
    let info = read_init(init).unwrap();
    let frags = read_segment(seg, &info).unwrap();
    let (mut outs, mut payload) = (Vec::new(), Vec::new());
    for f in &frags {
        let mut at = usize::try_from(f.data_offset).unwrap();
        for s in &f.samples {
            let size = usize::try_from(s.size).unwrap();
            outs.push(OutSample {
                size: s.size,
                duration: s.duration,
                cts_offset: i32::try_from(s.cts_offset).unwrap(),
                sync: s.is_sync(),
            });
            payload.extend_from_slice(&seg[at..at + size]);
            at += size;
        }
    }
    let first = outs.remove(0);
    assert!(!outs[0].sync, "the second sample is a key frame");
    let base = frags[0].base_decode_time + u64::from(first.duration);
    let mut out = fragment_header(1, base, &outs).unwrap();
    out.extend_from_slice(&payload[usize::try_from(first.size).unwrap()..]);
    out
}

/// Snapshot `k`: segments 0..k complete (one part each), segment k open with its one part, a hint for the
/// next; every segment is its own single part.
fn snapshot(k: usize, durations: &[f64]) -> String {
    let pt = durations.iter().copied().fold(0.0, f64::max);
    let td = pt.ceil();
    let mut t = format!(
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:{td}\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK={},PART-HOLD-BACK={:.3}\n\
         #EXT-X-PART-INF:PART-TARGET={pt:.3}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI=\"init.mp4\"\n",
        3.0 * td,
        3.0 * pt + 0.001
    );
    for (i, d) in durations.iter().enumerate().take(k + 1) {
        let _ = writeln!(
            t,
            "#EXT-X-PART:DURATION={d:.6},URI=\"p{i}.m4s\",INDEPENDENT=YES"
        );
        if i < k {
            let _ = writeln!(t, "#EXTINF:{d:.6},\ns{i}.m4s");
        }
    }
    let _ = writeln!(t, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p{}.m4s\"", k + 1);
    t
}

/// Serve `files` on 127.0.0.1; `live.m3u8` answers the n-th blocking request (`_HLS_msn`) with
/// `playlists[n]` (the last one once they run out) and a plain request with `playlists[0]`.
fn serve(playlists: Vec<String>, files: BTreeMap<String, Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let blocking = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // Read the headers to the blank line so closing does not reset the connection.
            let mut h = String::new();
            while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let body = if path == "/live.m3u8" {
                let n = if query.contains("_HLS_msn") {
                    blocking.fetch_add(1, Ordering::SeqCst) + 1
                } else {
                    0
                };
                Some(playlists[n.min(playlists.len() - 1)].clone().into_bytes())
            } else {
                files.get(path.trim_start_matches('/')).cloned()
            };
            let (status, body) = body.map_or(("404 Not Found", Vec::new()), |b| ("200 OK", b));
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

/// The stream's files: init and, per segment, its segment and its part.
fn files(init: &[u8], segs: &[(Vec<u8>, f64)]) -> BTreeMap<String, Vec<u8>> {
    let mut f = BTreeMap::from([("init.mp4".to_string(), init.to_vec())]);
    for (i, (b, _)) in segs.iter().enumerate() {
        f.insert(format!("s{i}.m4s"), b.clone());
        f.insert(format!("p{i}.m4s"), b.clone());
    }
    f
}

fn validate(port: u16, reloads: &str) -> (Option<i32>, serde_json::Value, String) {
    let url = format!("http://127.0.0.1:{port}/live.m3u8");
    let out = run(upcast().args(["validate", "--json", "--reloads", reloads, "--live", &url]));
    let json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (out.status.code(), json, out.stderr)
}

fn rules(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_good_stream_passes() {
    let (init, segs) = chunks();
    let d: Vec<f64> = segs.iter().map(|s| s.1).collect();
    let port = serve(
        (0..4).map(|k| snapshot(k, &d)).collect(),
        files(&init, &segs),
    );
    let (code, json, err) = validate(port, "3");
    assert_eq!(code, Some(0), "{json:#}\n{err}");
    assert!(rules(&json).is_empty(), "{json:#}");
    // Four snapshots and four INDEPENDENT parts read.
    assert_eq!(json["files_read"], 8, "{json:#}");
    // The text report says PASS.
    let url = format!("http://127.0.0.1:{port}/live.m3u8");
    let out = run(upcast().args(["validate", "--reloads", "1", "--live", &url]));
    assert!(
        out.stdout.starts_with(&format!("{url}: PASS")),
        "{}",
        out.stdout
    );
}

#[test]
fn an_independent_part_that_starts_mid_gop_is_caught() {
    let (init, segs) = chunks();
    let d: Vec<f64> = segs.iter().map(|s| s.1).collect();
    let mut f = files(&init, &segs);
    let bad = mid_gop(&init, &segs[2].0);
    f.insert("p2.m4s".into(), bad);
    let port = serve((0..4).map(|k| snapshot(k, &d)).collect(), f);
    let (code, json, err) = validate(port, "3");
    assert_eq!(code, Some(1), "{json:#}\n{err}");
    let found = &json["findings"][0];
    assert_eq!(rules(&json), ["live-independent-key-frame"], "{json:#}");
    assert_eq!(found["file"], "/p2.m4s");
    assert_eq!(found["severity"], "MUST");
    assert_eq!(found["location"]["kind"], "byte");
}

#[test]
fn a_reload_that_withdraws_a_segment_is_caught() {
    let (init, segs) = chunks();
    let d: Vec<f64> = segs.iter().map(|s| s.1).collect();
    // The third answer goes back to snapshot 1: segment 1 was complete and is gone again.
    let script = vec![
        snapshot(0, &d),
        snapshot(1, &d),
        snapshot(2, &d),
        snapshot(1, &d),
    ];
    let port = serve(script, files(&init, &segs));
    let (code, json, err) = validate(port, "3");
    assert_eq!(code, Some(1), "{json:#}\n{err}");
    let r = rules(&json);
    assert!(
        r.contains(&"live-segment-withdrawn".to_string()),
        "{json:#}"
    );
    assert!(r.contains(&"live-part-withdrawn".to_string()), "{json:#}");
}

#[test]
fn a_server_that_does_not_answer_is_a_finding_and_bad_urls_exit_two() {
    let out = run(upcast().args(["validate", "--live", "http://example.com/live.m3u8"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.contains("only loopback hosts"), "{}", out.stderr);
    let (init, segs) = chunks();
    let d: Vec<f64> = segs.iter().map(|s| s.1).collect();
    let mut f = files(&init, &segs);
    f.remove("p1.m4s");
    let port = serve((0..3).map(|k| snapshot(k, &d)).collect(), f);
    let (code, json, _) = validate(port, "2");
    assert_eq!(code, Some(1));
    assert_eq!(rules(&json), ["live-fetch"], "{json:#}");
    assert_eq!(json["findings"][0]["file"], "/p1.m4s");
}
