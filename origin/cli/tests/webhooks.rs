//! Webhooks against a real `upcast serve` and a receiver on 127.0.0.1: `video.failed` and `video.ready`
//! from real publishes, signatures a receiver can verify, retries with backoff, the delivery log, a
//! delivery pending at a stop made after the restart, the URL rules, and the events of ingest jobs.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/sources/mod.rs"]
mod sources;

use std::time::{Duration, Instant};

use harness::receiver::{Hit, Receiver, Reply};
use harness::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// Flags for a server that delivers to the loopback receiver, retrying after 50 ms.
const HOOKS: &[&str] = &["--webhook-allow-private", "--webhook-retry-ms", "50"];

fn admin(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req = agent()
        .request(method, &s.url(path))
        .set("Authorization", &format!("Bearer {ADMIN}"));
    let (code, body) = status(match body {
        Some(b) => req.send_string(&b.to_string()),
        None => req.call(),
    });
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Register a webhook; its id and secret.
fn register(s: &Server, url: &str, events: &[&str]) -> (String, String) {
    let (code, v) = admin(
        s,
        "POST",
        "/api/webhooks",
        Some(json!({"url": url, "events": events})),
    );
    assert_eq!(code, 201, "{v}");
    (
        v["id"].as_str().unwrap().into(),
        v["secret"].as_str().unwrap().into(),
    )
}

/// What a receiver does (API.md): HMAC-SHA256 over "<t>.<raw body>" with the secret, compared to `v1`,
/// and `t` within five minutes of its clock.
fn assert_signed(hit: &Hit, secret: &str) {
    let h = hit
        .header("upcast-signature")
        .expect("Upcast-Signature header");
    let t: i64 = h
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap()
        .parse()
        .unwrap();
    let v1 = h.split(',').find_map(|p| p.strip_prefix("v1=")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&hit.body);
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("signature verifies");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(u64::try_from(t).unwrap()) < 300,
        "t={t} now={now}"
    );
    assert_eq!(hit.method, "POST");
    assert_eq!(hit.header("content-type"), Some("application/json"));
}

/// Poll the delivery log until `done` holds of it (the log is written after the receiver answered).
fn log_until(s: &Server, hook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, v) = admin(s, "GET", &format!("/api/webhooks/{hook}/deliveries"), None);
        assert_eq!(code, 200, "{v}");
        let log = v.as_array().unwrap().clone();
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "delivery log never got there: {log:?}"
        );
        std::thread::yield_now();
    }
}

fn publish(s: &Server, id: &str) -> (u16, Value) {
    admin(s, "POST", &format!("/api/videos/{id}/publish"), None)
}

#[test]
fn publish_events_are_signed_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), HOOKS);
    let rx = Receiver::start(vec![]);
    let (hook, secret) = register(&s, &rx.url, &["video.ready", "video.failed"]);
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Listed without the secret.
    let (_, list) = admin(&s, "GET", "/api/webhooks", None);
    assert_eq!(list[0]["id"], hook.as_str());
    assert_eq!(list[0]["events"], json!(["video.ready", "video.failed"]));
    assert!(list[0].get("secret").is_none(), "{list}");

    let (id, ticket) = create_video(&s, "public");
    // Nothing uploaded: the check refuses it, and that is a video.failed.
    let (code, v) = publish(&s, &id);
    assert_eq!(
        (code, v["code"].as_str()),
        (409, Some("missing-files")),
        "{v}"
    );
    let failed = rx.next();
    assert_signed(&failed, &secret);
    let e = failed.json();
    assert_eq!(e["type"], "video.failed");
    assert_eq!(e["data"]["id"], id.as_str());
    assert_eq!(e["data"]["code"], "missing-files");
    assert!(e["id"].as_str().unwrap().starts_with("evt_"), "{e}");

    upload_pkg(&s, &id, &ticket);
    let (code, v) = publish(&s, &id);
    assert_eq!(code, 200, "{v}");
    let ready = rx.next();
    assert_signed(&ready, &secret);
    let e = ready.json();
    assert_eq!(e["type"], "video.ready");
    assert_eq!(e["data"]["id"], id.as_str());
    assert_eq!(e["data"]["state"], "ready");
    // Publishing again changes nothing and says nothing.
    assert_eq!(publish(&s, &id).0, 200);

    let log = log_until(&s, &hook, |l| l.len() == 2);
    for (line, kind) in log.iter().zip(["video.ready", "video.failed"]) {
        assert_eq!(line["type"], kind, "{log:?}");
        assert_eq!(line["attempt"], 1);
        assert_eq!(line["status_code"], 200);
        assert_eq!(line["delivery"], "delivered");
    }
    assert_eq!(log[0]["event_id"], e["id"]);
    assert!(rx.pending().is_none());

    assert_eq!(
        admin(&s, "DELETE", &format!("/api/webhooks/{hook}"), None).0,
        204
    );
    assert_eq!(
        admin(&s, "GET", &format!("/api/webhooks/{hook}/deliveries"), None).0,
        404
    );
}

#[test]
fn failed_attempts_are_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), HOOKS);
    let rx = Receiver::start(vec![Reply::Status(500), Reply::Status(500)]);
    let (hook, secret) = register(&s, &rx.url, &[]);
    let (id, ticket) = create_video(&s, "public");
    upload_pkg(&s, &id, &ticket);
    assert_eq!(publish(&s, &id).0, 200);
    let hits = [rx.next(), rx.next(), rx.next()];
    let event = hits[0].json()["id"].clone();
    for h in &hits {
        assert_signed(h, &secret);
        assert_eq!(h.json()["id"], event, "the same event each time");
    }
    let log = log_until(&s, &hook, |l| {
        l.len() == 3 && l[0]["delivery"] == "delivered"
    });
    let seen: Vec<(u64, u64)> = log
        .iter()
        .map(|l| {
            (
                l["attempt"].as_u64().unwrap(),
                l["status_code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, [(3, 200), (2, 500), (1, 500)], "{log:?}");
    assert_eq!(log[2]["error"], "the receiver answered HTTP 500");
    let (code, text) = status(
        agent()
            .get(&s.url("/metrics"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert_eq!(code, 200);
    assert!(
        text.contains("upcast_webhook_deliveries_total{outcome=\"retrying\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains("upcast_webhook_deliveries_total{outcome=\"delivered\"} 1\n"),
        "{text}"
    );
}

#[test]
fn a_delivery_pending_at_a_stop_is_made_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), HOOKS);
    // The first attempt is held unanswered while the origin is killed.
    let rx = Receiver::start(vec![Reply::Hold(500)]);
    let (hook, secret) = register(&s, &rx.url, &["video.ready"]);
    let (id, ticket) = create_video(&s, "public");
    upload_pkg(&s, &id, &ticket);
    assert_eq!(publish(&s, &id).0, 200);
    let first = rx.next();
    s.kill9();
    rx.release();
    let s = Server::start(dir.path(), HOOKS);
    let again = rx.next();
    assert_signed(&again, &secret);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.json()["type"], "video.ready");
    log_until(&s, &hook, |l| {
        l.first().is_some_and(|x| x["delivery"] == "delivered")
    });
}

#[test]
fn webhook_urls_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    // Without --webhook-allow-private: loopback, private and link-local targets are refused.
    let s = Server::start(dir.path(), &[]);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "ftp://example.com/",
        "not a url",
    ] {
        let (code, v) = admin(&s, "POST", "/api/webhooks", Some(json!({ "url": url })));
        assert_eq!(
            (code, v["code"].as_str()),
            (422, Some("bad-webhook-url")),
            "{url}: {v}"
        );
    }
    let (code, v) = admin(
        &s,
        "POST",
        "/api/webhooks",
        Some(json!({"url": "https://hooks.example.com/x", "events": ["video.eaten"]})),
    );
    assert_eq!(
        (code, v["code"].as_str()),
        (400, Some("bad-request")),
        "{v}"
    );
    let (code, _) = status(agent().get(&s.url("/api/webhooks")).call());
    assert_eq!(code, 401);
    let (_, list) = admin(&s, "GET", "/api/webhooks", None);
    assert_eq!(list, json!([]));
}

#[test]
fn ingest_jobs_send_video_ready_and_video_failed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), HOOKS);
    let rx = Receiver::start(vec![]);
    let (_, secret) = register(&s, &rx.url, &["video.ready", "video.failed"]);
    let movie = sources::Movie {
        seconds: 3,
        size: "160x90",
        fps: 10,
        gop: 10,
        video_bitrate: "100k",
        audio: true,
    };
    let mp4 = movie.make(&dir.path().join("src.mp4"));

    let job = post_ingest(&s, &mp4);
    let ready = rx.next();
    assert_signed(&ready, &secret);
    let e = ready.json();
    assert_eq!(e["type"], "video.ready", "{e}");
    assert_eq!(e["data"]["job_id"], job["id"], "{e}");
    let vid = e["data"]["id"].as_str().unwrap();
    assert_eq!(e["data"]["state"], "ready", "{e}");
    let (code, v) = admin(&s, "GET", &format!("/api/videos/{vid}"), None);
    assert_eq!((code, &v["state"]), (200, &json!("ready")), "{v}");

    // Not a movie: the job fails, and that is a video.failed with the job's error.
    let job = post_ingest(&s, b"this is not an mp4 file at all");
    let failed = rx.next();
    assert_signed(&failed, &secret);
    let e = failed.json();
    assert_eq!(e["type"], "video.failed", "{e}");
    assert_eq!(e["data"]["job_id"], job["id"], "{e}");
    let (_, j) = admin(
        &s,
        "GET",
        &format!("/api/ingest/{}", job["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(j["state"], "failed", "{j}");
    assert_eq!(e["data"]["code"], j["error"]["code"], "{e} {j}");
}
