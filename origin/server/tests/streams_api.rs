//! In-process tests of `/api/streams`: create/list/get/patch/delete, the stream key shown once, rotation and
//! revocation as the ingest sees them (`Streams::authorize_publish`), status across a restart, and status
//! events (SSE) for changes made through `Streams::set_state`.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::pin::Pin;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::test;
use harness::service::*;
use harness::*;
use serde_json::Value;
use upcast_origin::streams::status::{IngestStats, State};
use upcast_origin::streams::{Refusal, EVENT_BUFFER, MAX_SUBSCRIBERS};

fn live_config(data: &std::path::Path) -> upcast_origin::Config {
    let mut c = config(data);
    c.rtmp_listen = Some("127.0.0.1:1935".parse().unwrap());
    c
}

fn admin() -> (&'static str, String) {
    ("Authorization", format!("Bearer {ADMIN}"))
}

async fn call(app: &impl TestApp, req: test::TestRequest) -> (StatusCode, String) {
    let resp = test::call_service(app, req.insert_header(admin()).to_request()).await;
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn json(app: &impl TestApp, req: test::TestRequest) -> (StatusCode, Value) {
    let (st, body) = call(app, req).await;
    (st, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn create(app: &impl TestApp, body: &str) -> Value {
    let (st, v) = json(
        app,
        test::TestRequest::post()
            .uri("/api/streams")
            .set_payload(body.to_string()),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

#[actix_web::test]
async fn create_list_get_patch_delete() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(live_config(dir.path()));
    let app = app_on(&st).await;
    let v = create(&app, r#"{"title":"Launch","record":true}"#).await;
    let id = v["id"].as_str().unwrap().to_string();
    let key = v["stream_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk_") && key.len() == 67, "{key}");
    assert_eq!(v["rtmp_url"], "rtmp://127.0.0.1:1935/live");
    assert_eq!(
        v["publish_url"],
        format!("rtmp://127.0.0.1:1935/live/{key}")
    );
    assert_eq!(v["playback_url"], format!("/live/{id}/index.m3u8"));
    assert_eq!(
        (
            &v["title"],
            &v["record"],
            &v["dvr_window_secs"],
            &v["visibility"]
        ),
        (
            &Value::from("Launch"),
            &Value::from(true),
            &Value::from(60),
            &Value::from("public")
        )
    );
    assert_eq!(
        (&v["status"]["state"], &v["has_key"]),
        (&Value::from("idle"), &Value::from(true))
    );

    // The key is shown once: never in a get or a list.
    let (s, body) = call(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{id}")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !body.contains(&key) && !body.contains("stream_key"),
        "{body}"
    );
    let (s, body) = call(&app, test::TestRequest::get().uri("/api/streams")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!body.contains(&key), "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["streams"][0]["id"], id.as_str());

    // Patch: private drops the public playback URL; a signed one comes from /playback.
    let (s, v) = json(
        &app,
        test::TestRequest::patch()
            .uri(&format!("/api/streams/{id}"))
            .set_payload(r#"{"title":"Renamed","visibility":"private","dvr_window_secs":120}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["title"], &v["dvr_window_secs"]),
        (&Value::from("Renamed"), &Value::from(120))
    );
    assert_eq!(
        (&v["record"], v.get("playback_url")),
        (&Value::from(true), None)
    );
    let (s, v) = json(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{id}/playback")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with("/s/") && url.ends_with(&format!("/live/{id}/index.m3u8")),
        "{url}"
    );

    // Bad input: stable codes, nothing changed.
    for (body, what) in [
        (r#"{"dvr_window_secs":5}"#, "dvr below the bound"),
        (r#"{"dvr_window_secs":100000}"#, "dvr above the bound"),
        (r#"{"visibility":"secret"}"#, "bad visibility"),
        (r#"{"colour":"red"}"#, "unknown field"),
        ("{", "not JSON"),
    ] {
        let (s, v) = json(
            &app,
            test::TestRequest::patch()
                .uri(&format!("/api/streams/{id}"))
                .set_payload(body),
        )
        .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad-request")),
            "{what}"
        );
    }
    let (s, v) = json(
        &app,
        test::TestRequest::post()
            .uri("/api/streams")
            .set_payload(r#"{"dvr_window_secs":1}"#),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad-request"))
    );
    let (_, v) = json(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{id}")),
    )
    .await;
    assert_eq!(v["dvr_window_secs"], 120);

    // Delete: 204, then 404 everywhere.
    let (s, _) = call(
        &app,
        test::TestRequest::delete().uri(&format!("/api/streams/{id}")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for req in [
        test::TestRequest::get().uri(&format!("/api/streams/{id}")),
        test::TestRequest::delete().uri(&format!("/api/streams/{id}")),
        test::TestRequest::post().uri(&format!("/api/streams/{id}/key")),
        test::TestRequest::get().uri("/api/streams/nosuchstream0000"),
        test::TestRequest::get().uri("/api/streams/..%2f"),
    ] {
        let (s, v) = json(&app, req).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not-found"))
        );
    }
    assert!(matches!(
        st.streams.authorize_publish(&key).await,
        Err(Refusal::UnknownKey)
    ));
}

/// Listening on every address: the RTMP URL takes the host the API request named, with the RTMP port.
#[actix_web::test]
async fn rtmp_url_from_an_unspecified_listen_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.rtmp_listen = Some("0.0.0.0:1936".parse().unwrap());
    let st = state(cfg);
    let app = app_on(&st).await;
    for (host, want) in [
        ("origin.test:8080", "rtmp://origin.test:1936/live"),
        ("[::1]:8080", "rtmp://[::1]:1936/live"),
        ("origin.test", "rtmp://origin.test:1936/live"),
    ] {
        let (s, v) = json(
            &app,
            test::TestRequest::post()
                .uri("/api/streams")
                .insert_header(("Host", host)),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(v["rtmp_url"], want, "{host}");
    }
}

#[actix_web::test]
async fn rotate_kills_the_old_key_and_revoke_leaves_none() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let v = create(&app, "").await;
    let id = v["id"].as_str().unwrap().to_string();
    let old = v["stream_key"].as_str().unwrap().to_string();
    // No RTMP listener configured: no RTMP URL to show.
    assert_eq!(
        (&v["rtmp_url"], &v["publish_url"]),
        (&Value::Null, &Value::Null)
    );

    let p = st.streams.authorize_publish(&old).await.unwrap();
    assert_eq!(p.stream.id, id);
    // Two publishers on one key: the second is refused until the first leaves.
    let second = st.streams.authorize_publish(&old).await.err().unwrap();
    assert_eq!(second.code(), "already-live");
    assert_eq!(p.stopped(), None);

    let (s, v) = json(
        &app,
        test::TestRequest::post().uri(&format!("/api/streams/{id}/key")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let new = v["stream_key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(
        st.streams.authorize_publish(&old).await.err(),
        Some(Refusal::Revoked)
    );
    // The rotation stopped the publisher connected with the old key.
    assert_eq!(p.stopped(), Some("key-revoked"));
    drop(p);
    let p = st.streams.authorize_publish(&new).await.unwrap();
    assert_eq!(p.stream.id, id);

    let (s, _) = call(
        &app,
        test::TestRequest::delete().uri(&format!("/api/streams/{id}/key")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        p.stopped(),
        Some("key-revoked"),
        "a revocation stops it too"
    );
    drop(p);
    assert_eq!(
        st.streams.authorize_publish(&new).await.err(),
        Some(Refusal::Revoked)
    );
    let (_, v) = json(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{id}")),
    )
    .await;
    assert_eq!(v["has_key"], false);
    for bad in ["", "sk_nope", &"x".repeat(10_000)] {
        assert_eq!(
            st.streams.authorize_publish(bad).await.err(),
            Some(Refusal::UnknownKey)
        );
    }
    // A rotation after a revocation gives the stream a working key again.
    let (_, v) = json(
        &app,
        test::TestRequest::post().uri(&format!("/api/streams/{id}/key")),
    )
    .await;
    let again = v["stream_key"].as_str().unwrap();
    let p = st.streams.authorize_publish(again).await.unwrap();
    // Deleting the stream stops its publisher too.
    let (s, _) = call(
        &app,
        test::TestRequest::delete().uri(&format!("/api/streams/{id}")),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(p.stopped(), Some("stream-deleted"));
}

#[actix_web::test]
async fn status_in_get_and_the_end_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (ended, crashed) = {
        let st = state(config(dir.path()));
        let app = app_on(&st).await;
        let a = create(&app, "").await;
        let b = create(&app, "").await;
        let pa = st
            .streams
            .authorize_publish(a["stream_key"].as_str().unwrap())
            .await
            .unwrap();
        let pb = st
            .streams
            .authorize_publish(b["stream_key"].as_str().unwrap())
            .await
            .unwrap();
        let (ida, idb) = (pa.stream.id.clone(), pb.stream.id.clone());
        st.streams.set_state(&ida, State::Live, None).await.unwrap();
        let stats = IngestStats {
            bitrate_bps: 2_500_000,
            frame_rate: Some(30.0),
            width: Some(1280),
            height: Some(720),
            codecs: vec!["avc1.64001f".into(), "mp4a.40.2".into()],
            keyframe_interval_ms: Some(2000),
            b_frames: true,
            renditions: vec![],
        };
        st.streams.ingest_stats(&ida, stats);
        st.streams.set_viewers(&ida, 7);
        st.streams
            .set_error(&ida, "timestamp-jump", "video DTS jumped 40 s");
        let (_, v) = json(
            &app,
            test::TestRequest::get().uri(&format!("/api/streams/{ida}")),
        )
        .await;
        let s = &v["status"];
        assert_eq!(
            (&s["state"], &s["viewers"]),
            (&Value::from("live"), &Value::from(7)),
            "{v}"
        );
        assert_eq!(
            (
                &s["ingest"]["bitrate_bps"],
                &s["ingest"]["b_frames"],
                &s["ingest"]["width"]
            ),
            (
                &Value::from(2_500_000),
                &Value::from(true),
                &Value::from(1280)
            )
        );
        assert_eq!(s["last_error"]["code"], "timestamp-jump");
        st.streams
            .set_state(&ida, State::Ended, Some("publisher-disconnected"))
            .await
            .unwrap();
        let (_, v) = json(
            &app,
            test::TestRequest::get().uri(&format!("/api/streams/{ida}")),
        )
        .await;
        assert_eq!(v["status"]["state"], "ended");
        assert_eq!(v["status"]["ingest"], Value::Null);
        // `b` is live when the origin stops.
        st.streams.set_state(&idb, State::Live, None).await.unwrap();
        (ida, idb)
    };
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let (_, v) = json(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{ended}")),
    )
    .await;
    assert_eq!(
        (&v["status"]["state"], &v["status"]["reason"]),
        (
            &Value::from("ended"),
            &Value::from("publisher-disconnected")
        )
    );
    let (_, v) = json(
        &app,
        test::TestRequest::get().uri(&format!("/api/streams/{crashed}")),
    )
    .await;
    assert_eq!(
        (&v["status"]["state"], &v["status"]["reason"]),
        (&Value::from("ended"), &Value::from("origin-restarted"))
    );
    // A stream no publisher was authorized for since the start has no state to set.
    assert_eq!(
        st.streams
            .set_state(&crashed, State::Live, None)
            .await
            .err()
            .map(|e| e.to_string()),
        Some("not found".into())
    );
}

/// The next chunk of a streaming body, waiting for it as long as the deadline allows.
async fn next_chunk(body: &mut actix_web::body::BoxBody) -> Option<String> {
    let chunk = actix_web::rt::time::timeout(
        Duration::from_secs(60),
        futures_util::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)),
    )
    .await
    .expect("no event within 60 s");
    chunk.map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
}

/// Read events until one's data satisfies `want`.
async fn until(body: &mut actix_web::body::BoxBody, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let chunk = next_chunk(body).await.expect("the event stream ended");
        for ev in chunk
            .split("\n\n")
            .filter(|e| e.starts_with("event: status"))
        {
            let data = ev.split_once("\ndata: ").unwrap().1;
            let v: Value = serde_json::from_str(data).unwrap();
            if want(&v) {
                return v;
            }
        }
    }
}

#[actix_web::test]
async fn events_deliver_changes_and_drop_a_slow_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let v = create(&app, "").await;
    let other = create(&app, "").await;
    let p = st
        .streams
        .authorize_publish(v["stream_key"].as_str().unwrap())
        .await
        .unwrap();
    let po = st
        .streams
        .authorize_publish(other["stream_key"].as_str().unwrap())
        .await
        .unwrap();
    let id = p.stream.id.clone();

    let req = test::TestRequest::get()
        .uri(&format!("/api/streams/{id}/events"))
        .insert_header(admin());
    let resp = test::call_service(&app, req.to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut one = resp.into_body();
    let req = test::TestRequest::get()
        .uri("/api/streams/events")
        .insert_header(admin());
    let mut all = test::call_service(&app, req.to_request()).await.into_body();

    // The current status first.
    let first = until(&mut one, |_| true).await;
    assert_eq!(
        (&first["stream_id"], &first["status"]["state"]),
        (&Value::from(id.as_str()), &Value::from("idle"))
    );
    // A change on another stream is not sent on this one's feed; its own change is.
    st.streams
        .set_state(&po.stream.id, State::Live, None)
        .await
        .unwrap();
    st.streams
        .set_state(&id, State::Reconnecting, Some("publisher-disconnected"))
        .await
        .unwrap();
    let got = until(&mut one, |v| v["status"]["state"] != "idle").await;
    assert_eq!(got["stream_id"], id.as_str());
    assert_eq!(
        (&got["status"]["state"], &got["status"]["reason"]),
        (
            &Value::from("reconnecting"),
            &Value::from("publisher-disconnected")
        )
    );
    // The feed of all streams has both.
    until(&mut all, |v| {
        v["stream_id"] == po.stream.id.as_str() && v["status"]["state"] == "live"
    })
    .await;
    until(&mut all, |v| {
        v["stream_id"] == id.as_str() && v["status"]["state"] == "reconnecting"
    })
    .await;

    // `all` stops reading: after more changes than the buffer holds it is told it was dropped, and ends.
    for n in 0..u64::try_from(EVENT_BUFFER).unwrap() + 10 {
        st.streams.set_viewers(&id, n + 1);
    }
    let mut rest = String::new();
    while let Some(c) = next_chunk(&mut all).await {
        rest.push_str(&c);
    }
    assert!(
        rest.ends_with("event: dropped\ndata: {\"reason\":\"slow-subscriber\"}\n\n"),
        "{rest}"
    );
    drop(all);
    drop(one);

    // Subscribers are bounded: one more than the limit is refused (429), and a slot comes back when one
    // leaves.
    let held: Vec<_> = (0..MAX_SUBSCRIBERS)
        .map(|_| st.streams.subscribe().unwrap())
        .collect();
    let (s, v) = json(&app, test::TestRequest::get().uri("/api/streams/events")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate-limited"))
    );
    drop(held);
    assert!(st.streams.subscribe().is_some());
    drop((p, po));
}
