//! Control of live streams against a real `upcast serve` with real ffmpeg publishers: revoking or
//! rotating a key stops the publisher connected with it; a recorded stream sends `stream.live`, then
//! `stream.ended`, then the recording's `video.ready` (signed as API.md documents); a publisher whose
//! media the muxer refuses (an unsupported codec) ends in `stream.failed` with the reason in the status.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/live_client.rs"]
mod live_client;

use std::process::Child;

use harness::receiver::{Hit, Receiver};
use harness::*;
use live_client::*;
use serde_json::{json, Value};

/// Flags for a server that delivers webhooks to the loopback receiver.
const HOOKS: &[&str] = &["--webhook-allow-private", "--webhook-retry-ms", "50"];

/// Register a webhook for every event type; its secret.
fn register(s: &Server, url: &str) -> String {
    let (code, v) = api(s, "POST", "/api/webhooks", Some(json!({ "url": url })));
    assert_eq!(code, 201, "{v}");
    v["secret"].as_str().unwrap().to_string()
}

/// The next event the receiver gets, its signature checked as a receiver would (API.md).
fn next_event(r: &Receiver, secret: &str) -> Value {
    let hit: Hit = r.next();
    let header = hit
        .header("upcast-signature")
        .expect("Upcast-Signature header");
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    upcast_origin::webhooks::sign::verify(secret, header, &hit.body, now, 300)
        .expect("the signature verifies");
    hit.json()
}

fn live_now(s: &Server, id: &str) {
    until(40, "the stream live", || {
        (get(s, &format!("/live/{id}/index.m3u8")).0 == 200).then_some(())
    });
}

/// Wait for ffmpeg to exit (the server closed its connection); its exit status.
fn exited(ff: &mut Child) -> std::process::ExitStatus {
    until(60, "the publisher's exit", || ff.try_wait().unwrap())
}

#[test]
fn revoking_or_rotating_a_key_stops_its_publisher() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("data"));
    let (a, key_a) = create_stream(&s, false);
    let (b, key_b) = create_stream(&s, false);
    let mut ff_a = publish(s.rtmp.unwrap(), &key_a, 120);
    let mut ff_b = publish(s.rtmp.unwrap(), &key_b, 120);
    live_now(&s, &a);
    live_now(&s, &b);

    let (code, _) = api(&s, "DELETE", &format!("/api/streams/{a}/key"), None);
    assert_eq!(code, 204);
    let (code, rotated) = api(&s, "POST", &format!("/api/streams/{b}/key"), None);
    assert_eq!(code, 200, "{rotated}");
    assert!(!exited(&mut ff_a).success(), "ffmpeg was cut off");
    assert!(!exited(&mut ff_b).success(), "ffmpeg was cut off");
    for id in [&a, &b] {
        let st = until(40, "the end of the stopped stream", || {
            let st = stream_state(&s, id);
            (st["state"] == "ended").then_some(st)
        });
        assert_eq!(st["reason"], "key-revoked", "{st}");
        assert_eq!(st["last_error"]["code"], "key-revoked", "{st}");
        let media = get(&s, &format!("/live/{id}/video/index.m3u8")).1;
        assert!(media.contains("#EXT-X-ENDLIST"), "{media}");
    }

    // The rotated key publishes; deleting the stream then stops that publisher too.
    let new_key = rotated["stream_key"].as_str().unwrap();
    let mut ff = publish(s.rtmp.unwrap(), new_key, 120);
    until(40, "the stream live again", || {
        (stream_state(&s, &b)["state"] == "live").then_some(())
    });
    let (code, _) = api(&s, "DELETE", &format!("/api/streams/{b}"), None);
    assert_eq!(code, 204);
    assert!(!exited(&mut ff).success(), "ffmpeg was cut off");
    assert_eq!(get(&s, &format!("/live/{b}/index.m3u8")).0, 404);
    assert_eq!(api(&s, "GET", &format!("/api/streams/{b}"), None).0, 404);
}

#[test]
fn a_recorded_stream_sends_live_then_ended_then_the_recordings_video_ready() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(Vec::new());
    let s = server_with(&dir.path().join("data"), HOOKS);
    let secret = register(&s, &receiver.url);
    let (id, key) = create_stream(&s, true);
    let mut ff = publish(s.rtmp.unwrap(), &key, 4);
    assert!(exited(&mut ff).success(), "ffmpeg published to the end");

    let mut events = Vec::new();
    while events
        .last()
        .is_none_or(|e: &Value| e["type"] != "video.ready")
    {
        events.push(next_event(&receiver, &secret));
    }
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["stream.live", "stream.ended", "video.ready"]);
    assert_eq!(events[0]["data"]["stream_id"], id.as_str());
    assert_eq!(events[1]["data"]["stream_id"], id.as_str());
    assert_eq!(events[1]["data"]["status"]["state"], "ended");
    let ready = &events[2]["data"];
    assert_eq!(ready["stream_id"], id.as_str(), "{ready}");
    let vid = ready["id"].as_str().unwrap();
    let (code, video) = api(&s, "GET", &format!("/api/videos/{vid}"), None);
    assert_eq!((code, &video["state"]), (200, &json!("ready")), "{video}");
}

#[test]
fn a_publisher_the_muxer_refuses_ends_in_stream_failed_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(Vec::new());
    let s = server_with(&dir.path().join("data"), HOOKS);
    let secret = register(&s, &receiver.url);
    let (id, key) = create_stream(&s, true);
    // FLV's own video codec (Sorenson H.263): no CMAF mapping, the muxer refuses the first frame.
    let mut ff = publish_with(s.rtmp.unwrap(), &key, 30, &["-c:v", "flv"]);
    assert!(!exited(&mut ff).success(), "ffmpeg was cut off");

    let live = next_event(&receiver, &secret);
    assert_eq!(live["type"], "stream.live", "{live}");
    let failed = next_event(&receiver, &secret);
    assert_eq!(failed["type"], "stream.failed", "{failed}");
    let st = &failed["data"]["status"];
    assert_eq!(st["state"], "failed", "{failed}");
    let code = st["last_error"]["code"].as_str().unwrap();
    assert_eq!(st["reason"], code, "the reason is the muxer's error: {st}");
    assert!(
        code.starts_with("unsupported"),
        "an unsupported codec: {st}"
    );
    assert_eq!(stream_state(&s, &id)["state"], "failed");
}
