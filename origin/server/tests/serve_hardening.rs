//! Issue 11, the serving path, in-process (the halves against real `upcast serve` processes are
//! origin/cli/tests/serve_hardening.rs): the EVENT view is built once per change, through the catalog's
//! build counter; HEAD reads no bytes.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use harness::service::*;
use harness::*;

/// In-process: the app and its state, to read the catalog's build counter.
async fn app_with_state(
    data: &std::path::Path,
) -> (impl TestApp, actix_web::web::Data<upcast_origin::AppState>) {
    let st = state(config(data));
    (app_on(&st).await, st)
}

/// Create a public video through the in-process app; its id.
async fn create_public(app: &impl TestApp) -> String {
    use actix_web::test::{call_service, read_body, TestRequest};
    let r = call_service(
        app,
        TestRequest::post()
            .uri("/api/videos")
            .insert_header(("Authorization", format!("Bearer {ADMIN}")))
            .set_payload(r#"{"visibility":"public"}"#)
            .to_request(),
    )
    .await;
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = serde_json::from_slice(&read_body(r).await).unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn event_view_is_built_once_per_change_and_shared() {
    use actix_web::test::{call_service, read_body, TestRequest};
    let dir = tempfile::tempdir().unwrap();
    let (app, st) = app_with_state(dir.path()).await;
    let auth = ("Authorization", format!("Bearer {ADMIN}"));
    let id = create_public(&app).await;
    let put = |f: PkgFile| {
        TestRequest::put()
            .uri(&format!("/api/videos/{id}/files/{}", f.path))
            .insert_header(auth.clone())
            .insert_header(("X-Upcast-Sha256", f.sha256))
            .set_payload(f.bytes)
            .to_request()
    };
    let later = [
        "video/seg_00002.m4s",
        "video/seg_00003.m4s",
        "video/seg_00004.m4s",
    ];
    for f in pkg()
        .into_iter()
        .filter(|f| !later.contains(&f.path.as_str()))
    {
        assert_eq!(call_service(&app, put(f)).await.status(), 201);
    }
    let url = format!("/v/{id}/video/playlist.m3u8");
    let get = |gzip: bool| {
        let r = TestRequest::get().uri(&url);
        if gzip {
            r.insert_header(("Accept-Encoding", "gzip")).to_request()
        } else {
            r.to_request()
        }
    };
    let b0 = st.catalog.playlist_builds();
    // Concurrent first requests after a change share one build.
    let first =
        futures_util::future::join_all((0..8).map(|_| call_service(&app, get(false)))).await;
    let mut etags = std::collections::HashSet::new();
    for r in first {
        assert_eq!(r.status(), 200);
        etags.insert(
            r.headers()
                .get("etag")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string(),
        );
        let text = String::from_utf8(read_body(r).await.to_vec()).unwrap();
        assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{text}");
        assert!(text.contains("seg_00001.m4s") && !text.contains("seg_00002.m4s"));
    }
    assert_eq!(etags.len(), 1);
    assert_eq!(st.catalog.playlist_builds() - b0, 1);
    // Later requests, in either encoding, reuse it.
    for i in 0..20 {
        let r = call_service(&app, get(i % 2 == 0)).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(st.catalog.playlist_builds() - b0, 1);
    // A file lands: the next request builds the view once more, and it has grown.
    let seg2 = pkg_file("video/seg_00002.m4s");
    assert_eq!(call_service(&app, put(seg2)).await.status(), 201);
    let r = call_service(&app, get(false)).await;
    let etag2 = r
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let text = String::from_utf8(read_body(r).await.to_vec()).unwrap();
    assert!(
        text.contains("seg_00002.m4s") && !text.contains("seg_00003.m4s"),
        "{text}"
    );
    assert!(!etags.contains(&etag2));
    for _ in 0..5 {
        assert_eq!(call_service(&app, get(true)).await.status(), 200);
    }
    assert_eq!(st.catalog.playlist_builds() - b0, 2);
}

/// HEAD is answered from the file's row: with the stored object gone from disk it still describes it, while
/// a GET (which reads it) cannot be answered. Small (cached) and large (streamed) objects alike.
#[actix_web::test]
async fn head_reads_no_bytes() {
    use actix_web::test::{call_service, TestRequest};
    let dir = tempfile::tempdir().unwrap();
    let (app, _st) = app_with_state(dir.path()).await;
    let auth = ("Authorization", format!("Bearer {ADMIN}"));
    let id = create_public(&app).await;
    let big = big_segment(1 << 20);
    for f in pkg() {
        let bytes = if f.path == "video/seg_00001.m4s" {
            big.clone()
        } else {
            f.bytes
        };
        let req = TestRequest::put()
            .uri(&format!("/api/videos/{id}/files/{}", f.path))
            .insert_header(auth.clone())
            .insert_header(("X-Upcast-Sha256", sha(&bytes)))
            .set_payload(bytes)
            .to_request();
        assert_eq!(call_service(&app, req).await.status(), 201);
    }
    for (path, bytes) in [
        ("video/seg_00001.m4s", big),
        ("video/seg_00003.m4s", pkg_file("video/seg_00003.m4s").bytes),
    ] {
        std::fs::remove_file(dir.path().join("objects").join(&id).join(sha(&bytes))).unwrap();
        let uri = format!("/v/{id}/{path}");
        let r = call_service(
            &app,
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(&uri)
                .to_request(),
        )
        .await;
        assert_eq!(r.status(), 200, "{path}");
        let h = |n: &str| r.headers().get(n).unwrap().to_str().unwrap().to_string();
        // In-process the length is the body's (actix-http writes it as Content-Length).
        let size = actix_web::body::MessageBody::size(r.response().body());
        assert_eq!(
            size,
            actix_web::body::BodySize::Sized(bytes.len() as u64),
            "{path}"
        );
        assert_eq!(h("etag"), format!("\"{}\"", sha(&bytes)), "{path}");
        let r = call_service(&app, TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(r.status(), 404, "{path}: GET reads the object");
    }
}
