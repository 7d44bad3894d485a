//! For the live process tests (origin/cli's include this file with `#[path]`, beside the harness): a
//! `upcast serve` with its RTMP listener, the streams API, an ffmpeg publisher, polling with a deadline,
//! `upcast validate`, and reading media playlists.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;
use serde_json::Value;

/// Grace period of these servers: long enough for a publisher restarted by the test to come back under
/// load, short enough that the end of a stream comes quickly.
pub const GRACE: &str = "6";

pub fn server(data: &Path) -> Server {
    server_with(data, &[])
}

/// [`server`] with more flags.
pub fn server_with(data: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--rtmp-listen", "127.0.0.1:0", "--api-rate-per-ip", "0"];
    if !extra.contains(&"--live-grace-secs") {
        args.extend(["--live-grace-secs", GRACE]);
    }
    args.extend(extra);
    let s = Server::start(data, &args);
    assert!(s.rtmp.is_some(), "the RTMP listener is on");
    s
}

pub fn api(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req = agent()
        .request(method, &s.url(path))
        .set("Authorization", &format!("Bearer {ADMIN}"));
    let (code, text) = status(match body {
        Some(b) => req
            .set("Content-Type", "application/json")
            .send_string(&b.to_string()),
        None => req.call(),
    });
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A stream (public, recorded) and its key.
pub fn create_stream(s: &Server, record: bool) -> (String, String) {
    let (code, v) = api(
        s,
        "POST",
        "/api/streams",
        Some(serde_json::json!({"title": "test", "visibility": "public", "record": record})),
    );
    assert_eq!(code, 201, "{v}");
    (
        v["id"].as_str().unwrap().into(),
        v["stream_key"].as_str().unwrap().into(),
    )
}

/// ffmpeg publishing `seconds` of a test picture and tone, in real time, to `rtmp://addr/live/key`.
pub fn publish(addr: SocketAddr, key: &str, seconds: u32) -> Child {
    let x264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "30",
        "-pix_fmt",
        "yuv420p",
    ];
    publish_with(addr, key, seconds, &x264)
}

/// [`publish`] with the video encoded by `video` (ffmpeg's output options for the video stream).
pub fn publish_with(addr: SocketAddr, key: &str, seconds: u32, video: &[&str]) -> Child {
    Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-re"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=320x180:rate=30:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=44100:duration={seconds}"
        ))
        .args(video)
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "flv"])
        .arg(format!("rtmp://{addr}/live/{key}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg (tests/setup.sh installs it)")
}

/// Poll `f` until it answers Some, for at most `secs` (a deadline, not a wait: it returns as soon as
/// the condition holds).
pub fn until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn get(s: &Server, path: &str) -> (u16, String) {
    status(agent().get(&s.url(path)).call())
}

pub fn stream_state(s: &Server, id: &str) -> Value {
    api(s, "GET", &format!("/api/streams/{id}"), None).1["status"].clone()
}

/// The id of stream `stream`'s recording, once the stream has ended and the recording is published
/// (within 60 s): the ready video `GET /api/videos?stream=` lists. It names the stream in the list and
/// in its own JSON, and the stream's JSON lists it among its recordings.
pub fn published_recording(s: &Server, stream: &str) -> String {
    let video = until(60, "the recording, published", || {
        let (_, v) = api(s, "GET", &format!("/api/videos?stream={stream}"), None);
        v["videos"]
            .as_array()?
            .iter()
            .find(|v| v["state"] == "ready")
            .cloned()
    });
    assert_eq!(video["stream_id"], stream, "{video}");
    let id = video["id"].as_str().unwrap().to_string();
    let (_, one) = api(s, "GET", &format!("/api/videos/{id}"), None);
    assert_eq!(one["stream_id"], stream, "{one}");
    let (_, st) = api(s, "GET", &format!("/api/streams/{stream}"), None);
    let listed = st["recordings"]
        .as_array()
        .expect("the stream lists its recordings");
    assert!(listed.contains(&Value::from(id.as_str())), "{st}");
    id
}

/// `upcast validate` on `args`; its exit status and report.
pub fn validate(args: &[&str]) -> (bool, String) {
    let out = Command::new(upcast_bin())
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The media sequence numbers and discontinuities of a media playlist.
pub fn msns(text: &str) -> (u64, usize, usize) {
    let first = text
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let segments = text.lines().filter(|l| l.starts_with("#EXTINF")).count();
    let discontinuities = text
        .lines()
        .filter(|l| *l == "#EXT-X-DISCONTINUITY")
        .count();
    (first, segments, discontinuities)
}
