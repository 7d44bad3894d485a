//! In-process tests of a live stream's recordings in the API: a recording's video names its stream
//! (`stream_id` in the list and in `GET /api/videos/{id}`), `GET /api/videos?stream={id}` lists one
//! stream's recordings under the list's own auth rules (a private recording stays without a playback
//! URL), and `GET /api/streams/{id}` lists its published recordings' ids. The rows are made the way
//! the recording makes them ([`db::create_recording`], [`db::mark_ready`]); the live tests in
//! origin/cli make them from a real publish.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::http::StatusCode;
use actix_web::test;
use harness::service::*;
use harness::*;
use serde_json::Value;
use upcast_origin::api_types::Visibility;
use upcast_origin::db;

fn as_admin(req: test::TestRequest) -> test::TestRequest {
    req.insert_header(bearer(ADMIN))
}

fn ids(list: &Value) -> Vec<&str> {
    list["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_recording_names_its_stream_and_the_list_filters_by_stream() {
    let dir = tempfile::tempdir().unwrap();
    let st = state(config(dir.path()));
    let app = app_on(&st).await;
    let mut streams = Vec::new();
    for title in ["one", "two"] {
        let body = serde_json::json!({ "title": title, "visibility": "private", "record": true });
        let req = as_admin(test::TestRequest::post().uri("/api/streams")).set_json(body);
        let (s, v) = call(&app, req).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        streams.push(v["id"].as_str().unwrap().to_string());
    }
    let (one, two) = (streams[0].clone(), streams[1].clone());
    // Stream one: a published private recording and one still recording; stream two: one published
    // public recording; and an upload that is no recording.
    let (a, b, c, plain) = (
        "recordingaaaaaaa",
        "recordingbbbbbbb",
        "recordingccccccc",
        "uploadedvideo000",
    );
    let (o, t) = (one.clone(), two.clone());
    st.db
        .run_now(move |c_| {
            db::create_recording(c_, a, "one · 1", Visibility::Private, Some(&o))?;
            db::mark_ready(c_, a)?;
            db::create_recording(c_, b, "one · 2", Visibility::Private, Some(&o))?;
            db::create_recording(c_, c, "two · 1", Visibility::Public, Some(&t))?;
            db::mark_ready(c_, c)?;
            db::create_video(c_, plain, "an upload", Visibility::Public)
        })
        .unwrap();

    let list = |q: String| as_admin(test::TestRequest::get().uri(&format!("/api/videos{q}")));
    let (s, all) = call(&app, list(String::new())).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(ids(&all).len(), 4, "{all}");
    for v in all["videos"].as_array().unwrap() {
        let want = match v["id"].as_str().unwrap() {
            id if id == a || id == b => Value::from(one.as_str()),
            id if id == c => Value::from(two.as_str()),
            _ => Value::Null,
        };
        assert_eq!(v["stream_id"], want, "{v}");
    }

    let (s, of_one) = call(&app, list(format!("?stream={one}"))).await;
    assert_eq!(s, StatusCode::OK, "{of_one}");
    assert_eq!(ids(&of_one), [a, b], "{of_one}");
    // Private recordings stay private: listed for a reader of the list, with no playback URL.
    for v in of_one["videos"].as_array().unwrap() {
        assert_eq!(v["visibility"], "private", "{v}");
        assert!(v.get("playback_url").is_none(), "{v}");
    }
    let (_, of_two) = call(&app, list(format!("?stream={two}"))).await;
    assert_eq!(ids(&of_two), [c], "{of_two}");
    assert_eq!(
        of_two["videos"][0]["playback_url"],
        format!("/v/{c}/master.m3u8")
    );
    let (_, none) = call(&app, list("?stream=nosuchstream0000".into())).await;
    assert_eq!(ids(&none), Vec::<&str>::new(), "{none}");
    let (s, bad) = call(&app, list("?stream=../etc".into())).await;
    assert_eq!(
        (s, bad["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad-request")),
        "{bad}"
    );

    let get = |id: &str| as_admin(test::TestRequest::get().uri(&format!("/api/videos/{id}")));
    let (_, va) = call(&app, get(a)).await;
    assert_eq!(va["stream_id"], one.as_str(), "{va}");
    let (_, vp) = call(&app, get(plain)).await;
    assert_eq!(vp["stream_id"], Value::Null, "{vp}");

    // The stream lists its published recordings only (b is still being recorded).
    let stream = |id: &str| as_admin(test::TestRequest::get().uri(&format!("/api/streams/{id}")));
    let (_, s1) = call(&app, stream(&one)).await;
    assert_eq!(s1["recordings"], serde_json::json!([a]), "{s1}");
    let (_, s2) = call(&app, stream(&two)).await;
    assert_eq!(s2["recordings"], serde_json::json!([c]), "{s2}");
    let (_, listed) = call(&app, as_admin(test::TestRequest::get().uri("/api/streams"))).await;
    assert!(
        listed["streams"][0].get("recordings").is_none(),
        "the stream list leaves recordings out: {listed}"
    );

    // The filtered list has the list's auth rules: no caller, 401; a token without `read`, 403
    // missing-scope; an upload ticket (for one video), 403; a `read` token sees the private ones.
    let filtered = format!("/api/videos?stream={one}");
    let (s, _) = call(&app, test::TestRequest::get().uri(&filtered)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let token = |scopes: &'static [&'static str]| {
        let body = serde_json::json!({ "name": "t", "scopes": scopes });
        as_admin(test::TestRequest::post().uri("/api/tokens")).set_json(body)
    };
    let (_, w) = call(&app, token(&["videos:write"])).await;
    let writer = w["token"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        test::TestRequest::get()
            .uri(&filtered)
            .insert_header(bearer(&writer)),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str(), v["scope"].as_str()),
        (StatusCode::FORBIDDEN, Some("missing-scope"), Some("read")),
        "{v}"
    );
    let (_, up) = call(
        &app,
        as_admin(test::TestRequest::post().uri(&format!("/api/videos/{b}/tickets"))),
    )
    .await;
    let ticket = up["ticket"].as_str().unwrap().to_string();
    let (s, _) = call(
        &app,
        test::TestRequest::get()
            .uri(&filtered)
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, r) = call(&app, token(&["read"])).await;
    let reader = r["token"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        test::TestRequest::get()
            .uri(&filtered)
            .insert_header(bearer(&reader)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), [a, b], "{v}");
}
