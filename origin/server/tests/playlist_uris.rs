//! Issue 11, finding 4: playlists may not point viewers outside the video in any attribute form. The app
//! in-process refuses at upload, with `422 bad-playlist` naming the line, tag and attribute, a playlist whose
//! URI attributes are unquoted (`SERVER-URI=http://…`, `URI=https://…`), and the refusal leaves no file and
//! no row; the same playlists with their URIs inside the video are stored.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::{test, App};
use harness::service::*;
use harness::*;
use serde_json::Value;

async fn call(app: &impl TestApp, req: test::TestRequest) -> (u16, Value) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let body = test::read_body(resp).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn put(id: &str, path: &str, ticket: &str, body: &str) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("/api/videos/{id}/files/{path}"))
        .insert_header(("Authorization", format!("Bearer {ticket}")))
        .insert_header(("X-Upcast-Sha256", sha(body.as_bytes())))
        .set_payload(body.to_string())
}

fn fixture(path: &str) -> String {
    String::from_utf8(pkg_file(path).bytes).unwrap()
}

/// `text` with `line` inserted after its `#EXT-X-VERSION` line (line 3 of the result).
fn with_tag(text: &str, line: &str) -> String {
    let (head, rest) = text.split_once("#EXT-X-VERSION:7\n").unwrap();
    format!("{head}#EXT-X-VERSION:7\n{line}\n{rest}")
}

#[actix_web::test]
async fn unquoted_external_uris_are_refused_at_upload_naming_line_tag_and_attribute() {
    let dir = tempfile::tempdir().unwrap();
    let app =
        test::init_service(App::new().configure(upcast_origin::routes(state(config(dir.path())))))
            .await;
    let (st, v) = call(
        &app,
        test::TestRequest::post()
            .uri("/api/videos")
            .insert_header(("Authorization", format!("Bearer {ADMIN}")))
            .set_payload(r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let ticket = v["upload"]["ticket"].as_str().unwrap().to_string();

    let master = fixture("master.m3u8");
    let media = fixture("video/playlist.m3u8");
    let steering = "#EXT-X-CONTENT-STEERING:SERVER-URI=http://127.0.0.2/steer.json,PATHWAY-ID=a";
    let session_key = "#EXT-X-SESSION-KEY:METHOD=AES-128,URI=https://keys.example/k";
    let key = "#EXT-X-KEY:METHOD=AES-128,URI=https://keys.example/k,IV=0x1";
    let cases = [
        (
            "master.m3u8",
            with_tag(&master, steering),
            "master.m3u8:3: EXT-X-CONTENT-STEERING SERVER-URI: ",
        ),
        (
            "master.m3u8",
            with_tag(&master, session_key),
            "master.m3u8:3: EXT-X-SESSION-KEY URI: ",
        ),
        (
            "master.m3u8",
            with_tag(&master, &format!("{steering}\n{session_key}")),
            "master.m3u8:3: EXT-X-CONTENT-STEERING SERVER-URI: ",
        ),
        (
            "video/playlist.m3u8",
            with_tag(&media, key),
            "video/playlist.m3u8:3: EXT-X-KEY URI: ",
        ),
        (
            "video/playlist.m3u8",
            with_tag(
                &media,
                "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=//127.0.0.2/p.m4s",
            ),
            "video/playlist.m3u8:3: EXT-X-PRELOAD-HINT URI: ",
        ),
        (
            "video/playlist.m3u8",
            with_tag(
                &media,
                "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k",
            ),
            "video/playlist.m3u8:3: #EXT-X-KEY: attribute list does not parse",
        ),
    ];
    for (path, body, want) in cases {
        let (st, v) = call(&app, put(&id, path, &ticket, &body)).await;
        assert_eq!(
            (st, v["code"].as_str()),
            (422, Some("bad-playlist")),
            "{body}\n{v}"
        );
        let message = v["msg"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("bad playlist: {want}")),
            "{want:?} not in {v}"
        );
        assert!(stored_files(dir.path()).is_empty(), "{path} left a file");
        assert!(file_rows(dir.path()).is_empty(), "{path} left a row");
    }

    // The same tags naming files inside the video are URIs like any other: the playlists are stored.
    let inside = with_tag(
        &master,
        "#EXT-X-SESSION-DATA:DATA-ID=\"x\",URI=video/playlist.m3u8",
    );
    assert_eq!(
        call(&app, put(&id, "master.m3u8", &ticket, &inside))
            .await
            .0,
        201
    );
    assert_eq!(
        call(&app, put(&id, "video/playlist.m3u8", &ticket, &media))
            .await
            .0,
        201
    );
    assert_eq!(file_rows(dir.path()).len(), 2);
}
