//! Live end to end against a real `upcast serve` with its RTMP listener on loopback and real ffmpeg as
//! the publisher (x264 `-tune zerolatency` + AAC, in real time with `-re`): the stream plays as LL-HLS,
//! passes `upcast validate --live`, a wrong key and a second publisher are refused before any media, a
//! publisher that comes back within the grace period continues the same stream, and the recording
//! becomes a published video that passes `upcast validate`.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::*;
use serde_json::Value;

/// Grace period of these servers: long enough for a publisher restarted by the test to come back under
/// load, short enough that the end of a stream comes quickly.
const GRACE: &str = "6";

fn server(data: &Path) -> Server {
    let s = Server::start(
        data,
        &[
            "--rtmp-listen",
            "127.0.0.1:0",
            "--live-grace-secs",
            GRACE,
            "--api-rate-per-ip",
            "0",
        ],
    );
    assert!(s.rtmp.is_some(), "the RTMP listener is on");
    s
}

fn api(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
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
fn create_stream(s: &Server, record: bool) -> (String, String) {
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
fn publish(addr: SocketAddr, key: &str, seconds: u32) -> Child {
    Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-re"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=320x180:rate=30:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:sample_rate=44100:duration={seconds}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "30",
        ])
        .args([
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "flv",
        ])
        .arg(format!("rtmp://{addr}/live/{key}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg (tests/setup.sh installs it)")
}

/// Poll `f` until it answers Some, for at most `secs` (a deadline, not a wait: it returns as soon as
/// the condition holds).
fn until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn get(s: &Server, path: &str) -> (u16, String) {
    status(agent().get(&s.url(path)).call())
}

fn stream_state(s: &Server, id: &str) -> Value {
    api(s, "GET", &format!("/api/streams/{id}"), None).1["status"].clone()
}

/// `upcast validate` on `args`; its exit status and report.
fn validate(args: &[&str]) -> (bool, String) {
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
fn msns(text: &str) -> (u64, usize, usize) {
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

#[test]
fn an_ffmpeg_stream_plays_as_ll_hls_and_its_recording_becomes_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, true);
    let mut ff = publish(s.rtmp.unwrap(), &key, 12);

    let master = until(30, "the multivariant playlist", || {
        let (code, body) = get(&s, &format!("/live/{id}/index.m3u8"));
        (code == 200).then_some(body)
    });
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    assert!(master.contains("TYPE=AUDIO"), "{master}");
    let media = until(30, "two segments in the video playlist", || {
        let (code, body) = get(&s, &format!("/live/{id}/video/index.m3u8"));
        (code == 200 && msns(&body).1 >= 2).then_some(body)
    });
    for tag in [
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES",
        "PART-HOLD-BACK=",
        "#EXT-X-PART-INF:PART-TARGET=",
        "#EXT-X-PART:",
        "INDEPENDENT=YES",
        "#EXT-X-PRELOAD-HINT:TYPE=PART",
        "#EXT-X-PROGRAM-DATE-TIME:",
        "#EXT-X-RENDITION-REPORT:",
        "#EXT-X-MAP:",
    ] {
        assert!(media.contains(tag), "{tag} in\n{media}");
    }

    // A blocking reload for a segment two ahead of the playlist's last one comes back once it exists.
    let (first, count, _) = msns(&media);
    let next = first + count as u64 + 1;
    let (code, later) = get(&s, &format!("/live/{id}/video/index.m3u8?_HLS_msn={next}"));
    assert_eq!(code, 200);
    let (f2, c2, _) = msns(&later);
    assert!(
        f2 + c2 as u64 >= next,
        "the reload waited for segment {next}:\n{later}"
    );

    let url = s.url(&format!("/live/{id}/index.m3u8"));
    let (ok, report) = validate(&["--live", &url, "--reloads", "4"]);
    assert!(ok, "upcast validate --live:\n{report}");

    let st = stream_state(&s, &id);
    assert_eq!(st["state"], "live", "{st}");
    let status_json = st.to_string();
    assert!(
        status_json.contains("avc1.") && status_json.contains("mp4a.40"),
        "{st}"
    );

    assert!(ff.wait().unwrap().success(), "ffmpeg published to the end");
    // The publisher stopped: reconnecting, then ended once the grace period has passed.
    until(40, "the end of the stream", || {
        (stream_state(&s, &id)["state"] == "ended").then_some(())
    });
    let ended = get(&s, &format!("/live/{id}/video/index.m3u8")).1;
    assert!(ended.contains("#EXT-X-ENDLIST"), "{ended}");

    let video = until(60, "the recording, published", || {
        let (_, v) = api(&s, "GET", "/api/videos", None);
        v["videos"]
            .as_array()?
            .iter()
            .find(|v| v["state"] == "ready")
            .cloned()
    });
    let vid = video["id"].as_str().unwrap();
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
    check_invariants(&s.data);
}

#[test]
fn a_wrong_key_and_a_second_publisher_are_refused_before_any_media() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, false);

    let wrong = publish(s.rtmp.unwrap(), "not-a-key", 2)
        .wait_with_output()
        .unwrap();
    assert!(!wrong.status.success(), "a wrong key is refused");
    assert_eq!(get(&s, &format!("/live/{id}/index.m3u8")).0, 404);

    let mut first = publish(s.rtmp.unwrap(), &key, 20);
    until(30, "the stream live", || {
        (get(&s, &format!("/live/{id}/index.m3u8")).0 == 200).then_some(())
    });
    let second = publish(s.rtmp.unwrap(), &key, 2)
        .wait_with_output()
        .unwrap();
    assert!(
        !second.status.success(),
        "a second publisher on a live key is refused"
    );
    assert_eq!(stream_state(&s, &id)["state"], "live");
    let (_, metrics) = status(
        agent()
            .get(&s.url("/metrics"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert!(metrics.contains("reason=\"unknown-key\""), "{metrics}");
    assert!(metrics.contains("reason=\"already-live\""), "{metrics}");
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn a_publisher_back_within_the_grace_period_continues_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (id, key) = create_stream(&s, true);
    let playlist = format!("/live/{id}/video/index.m3u8");

    let mut a = publish(s.rtmp.unwrap(), &key, 30);
    let before = until(40, "three segments from the first publisher", || {
        let (code, body) = get(&s, &playlist);
        (code == 200 && msns(&body).1 >= 3).then_some(body)
    });
    let (first, count, _) = msns(&before);
    a.kill().unwrap(); // SIGKILL: the connection drops mid-part.
    a.wait().unwrap();
    until(20, "reconnecting", || {
        (stream_state(&s, &id)["state"] == "reconnecting").then_some(())
    });

    let mut b = publish(s.rtmp.unwrap(), &key, 4);
    until(
        40,
        "the second publisher's segments after a discontinuity",
        || {
            let (_, body) = get(&s, &playlist);
            let (f, c, d) = msns(&body);
            (d >= 1 && f + c as u64 > first + count as u64 + 1).then_some(())
        },
    );
    let st = stream_state(&s, &id);
    assert_eq!(st["state"], "live", "{st}");
    assert_eq!(st["reason"], "publisher-reconnected", "{st}");
    // The same stream: the media sequence went on from the first publisher's.
    let (f, _, _) = msns(&get(&s, &playlist).1);
    assert!(f <= first + count as u64, "MSNs continue");
    assert!(b.wait().unwrap().success());

    // One recording of both publishers, published once the grace period has passed.
    let video = until(60, "the recording", || {
        let (_, v) = api(&s, "GET", "/api/videos", None);
        v["videos"]
            .as_array()?
            .iter()
            .find(|v| v["state"] == "ready")
            .cloned()
    });
    let (_, all) = api(&s, "GET", "/api/videos", None);
    assert_eq!(
        all["videos"].as_array().unwrap().len(),
        1,
        "one recording: {all}"
    );
    let vid = video["id"].as_str().unwrap();
    let (ok, report) = validate(&[&s.url(&format!("/v/{vid}/master.m3u8"))]);
    assert!(ok, "upcast validate on the recording:\n{report}");
}
