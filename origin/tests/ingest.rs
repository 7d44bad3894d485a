//! Raw MP4 in, playable package out: `POST /api/ingest` segments with the core and publishes.
mod harness;

use actix_web::{test, App};
use harness::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[actix_web::test]
async fn ingest_mp4_answers_with_a_playable_url() {
    let dir = tempfile::tempdir().unwrap();
    let app =
        test::init_service(App::new().configure(upcast::server::routes(state(config(dir.path())))))
            .await;
    let mp4 = fixture("h264_aac_faststart.mp4");
    let req = test::TestRequest::post()
        .uri("/api/ingest?title=seed")
        .insert_header(("Authorization", format!("Bearer {ADMIN}")))
        .insert_header(("X-Upcast-Sha256", sha(&mp4)))
        .set_payload(mp4);
    let resp = test::call_service(&app, req.to_request()).await;
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = serde_json::from_slice(&test::read_body(resp).await).unwrap();
    assert_eq!(v["state"], "ready", "{v}");
    let url = v["playback_url"].as_str().unwrap().to_string();
    let resp = test::call_service(&app, test::TestRequest::get().uri(&url).to_request()).await;
    assert_eq!(resp.status(), 200);
    let master = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    // Every stored file is served, and the stored state is consistent.
    let rows = file_rows(dir.path());
    assert!(rows.iter().any(|r| r.1.ends_with(".m4s")), "{rows:?}");
    let base = url.trim_end_matches("master.m3u8");
    for (_, path, sha256, _) in &rows {
        let resp = test::call_service(
            &app,
            test::TestRequest::get()
                .uri(&format!("{base}{path}"))
                .to_request(),
        )
        .await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(&sha(&test::read_body(resp).await), sha256, "{path}");
    }
    assert!(!stored_files(dir.path())
        .iter()
        .any(|p| p.starts_with(dir.path().join("tmp"))));
    check_invariants(dir.path());
}

#[actix_web::test]
async fn ingest_refuses_what_is_not_a_movie_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app =
        test::init_service(App::new().configure(upcast::server::routes(state(config(dir.path())))))
            .await;
    for (body, token, want) in [
        (b"<html>not a movie</html>".to_vec(), ADMIN, 422),
        (
            fixture("h264_aac_faststart.mp4")[..5000].to_vec(),
            ADMIN,
            422,
        ),
        (fixture("h264_aac_faststart.mp4"), "upt_nope", 401),
    ] {
        let req = test::TestRequest::post()
            .uri("/api/ingest")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_payload(body);
        let resp = test::call_service(&app, req.to_request()).await;
        assert_eq!(resp.status(), want);
        assert!(stored_files(dir.path()).is_empty() && file_rows(dir.path()).is_empty());
    }
    let c = rusqlite::Connection::open(dir.path().join("upcast.db")).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM videos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}
