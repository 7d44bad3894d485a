//! A storyboard (seek-bar thumbnails) uploaded with a package: checked at publish with the core's
//! thumbnail-track check (a sheet the track names must be there, every rectangle inside its sheet), then
//! listed on the video as `storyboard_url` and served as `text/vtt` and `image/webp`.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::http::StatusCode;
use actix_web::test;
use harness::service::*;
use harness::*;
use serde_json::Value;
use upcast_core::layout::Picture;
use upcast_core::storyboard::{plan, vtt};

fn put(id: &str, path: &str, token: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("/api/videos/{id}/files/{path}"))
        .insert_header(bearer(token))
        .insert_header(("X-Upcast-Sha256", sha(&body)))
        .set_payload(body)
}

/// A WebP header of the given canvas size (VP8X chunk; enough for the origin's signature check and the
/// core's size reader).
fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
    b.extend(&(w - 1).to_le_bytes()[..3]);
    b.extend(&(h - 1).to_le_bytes()[..3]);
    let riff = u32::try_from(b.len() - 8).unwrap();
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    b
}

async fn video(app: &impl TestApp, id: &str) -> Value {
    let req = test::TestRequest::get()
        .uri(&format!("/api/videos/{id}"))
        .insert_header(bearer(ADMIN));
    call(app, req).await.1
}

#[actix_web::test]
async fn a_storyboard_is_checked_at_publish_listed_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (st, v) = call(
        &app,
        test::TestRequest::post()
            .uri("/api/videos")
            .insert_header(bearer(ADMIN))
            .set_payload(r#"{"title":"s"}"#),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let ticket = v["upload"]["ticket"].as_str().unwrap().to_string();
    for f in pkg() {
        let (st, v) = call(&app, put(&id, &f.path, &ticket, f.bytes)).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", f.path);
    }
    // The fixture package lasts 8 s: 8 tiles of 160 × 90 on one 1280 × 90 sheet.
    let p = plan(8_000, 320, 180).unwrap();
    assert_eq!(p.sheet_size(0), (1280, 90));
    let track = vtt::write(&p, Picture::Webp).into_bytes();
    let (st, v) = call(
        &app,
        put(&id, "storyboard/storyboard.vtt", &ticket, track.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(video(&app, &id).await["storyboard"], Value::Bool(true));
    // The sheet is missing: publish refuses, naming the track, its line and the sheet.
    let publish = || {
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(&ticket))
    };
    let (st, v) = call(&app, publish()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("storyboard/storyboard.vtt")
            && text.contains("sheet_001.webp is not in the package"),
        "{v}"
    );
    // A sheet too small for the track's rectangles: refused again.
    let (st, _) = call(
        &app,
        put(&id, "storyboard/sheet_001.webp", &ticket, webp(640, 90)),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = call(&app, publish()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v.to_string()
            .contains("reaches outside sheet_001.webp (640 x 90 px)"),
        "{v}"
    );
    // The right sheet: published, and listed.
    let (st, _) = call(
        &app,
        put(&id, "storyboard/sheet_001.webp", &ticket, webp(1280, 90)),
    )
    .await;
    assert!(st.is_success(), "{st}");
    let (st, v) = call(&app, publish()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let url = v["storyboard_url"]
        .as_str()
        .expect("storyboard_url")
        .to_string();
    assert_eq!(url, format!("/v/{id}/storyboard/storyboard.vtt"));
    let resp = test::call_service(&app, test::TestRequest::get().uri(&url).to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("content-type").unwrap(), "text/vtt");
    assert_eq!(test::read_body(resp).await.to_vec(), track);
    let sheet = format!("/v/{id}/storyboard/sheet_001.webp");
    let resp = test::call_service(&app, test::TestRequest::get().uri(&sheet).to_request()).await;
    assert_eq!(resp.headers().get("content-type").unwrap(), "image/webp");
}
