//! In-process handler tests of the upload API: the happy path, idempotence, publish, and every refusal
//! leaving no file and no row.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::http::StatusCode;
use actix_web::{test, App};
use harness::service::*;
use harness::*;
use serde_json::Value;

async fn create(app: &impl TestApp) -> (String, String) {
    let (st, v) = call(
        app,
        test::TestRequest::post()
            .uri("/api/videos")
            .insert_header(bearer(ADMIN))
            .set_payload(r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (
        v["id"].as_str().unwrap().into(),
        v["upload"]["ticket"].as_str().unwrap().into(),
    )
}

fn put(id: &str, path: &str, token: &str, sha: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::put()
        .uri(&format!("/api/videos/{id}/files/{path}"))
        .insert_header(bearer(token))
        .insert_header(("X-Upcast-Sha256", sha.to_string()))
        .set_payload(body)
}

#[actix_web::test]
async fn upload_publish_and_idempotence() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    let files = pkg();
    for f in &files {
        let (st, v) = call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes.clone())).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", f.path);
    }
    // Same bytes again: a no-op.
    let f = &files[3];
    let (st, v) = call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes.clone())).await;
    assert_eq!((st, &v["created"]), (StatusCode::OK, &Value::Bool(false)));
    // A stored digest with other bytes is still a digest mismatch, not a free pass.
    let (st, v) = call(
        &app,
        put(&id, &f.path, &ticket, &f.sha256, b"other".to_vec()),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (422, Some("digest-mismatch"))
    );
    // The origin says what it has.
    let (st, v) = call(
        &app,
        test::TestRequest::get()
            .uri(&format!("/api/videos/{id}/files"))
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["files"].as_array().unwrap().len(), files.len());
    // Publish flips to ready.
    let (st, v) = call(
        &app,
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "ready");
    // Published: same bytes OK, different bytes refused, new paths refused; nothing changes on disk.
    let before = (stored_files(dir.path()), file_rows(dir.path()));
    let (st, _) = call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes.clone())).await;
    assert_eq!(st, StatusCode::OK);
    let other = pkg_file("video/seg_00002.m4s");
    let (st, v) = call(
        &app,
        put(&id, &f.path, &ticket, &other.sha256, other.bytes.clone()),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("published")),
        "{v}"
    );
    let (st, _) = call(
        &app,
        put(
            &id,
            "video/seg_00099.m4s",
            &ticket,
            &other.sha256,
            other.bytes,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(before, (stored_files(dir.path()), file_rows(dir.path())));
    check_invariants(dir.path());
}

#[actix_web::test]
async fn replace_before_publish_leaves_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    let init = pkg_file("video/init.mp4");
    assert_eq!(
        call(
            &app,
            put(&id, &init.path, &ticket, &init.sha256, init.bytes)
        )
        .await
        .0,
        201
    );
    let a = pkg_file("video/seg_00001.m4s");
    let b = pkg_file("video/seg_00002.m4s");
    assert_eq!(
        call(
            &app,
            put(&id, "video/seg_00001.m4s", &ticket, &a.sha256, a.bytes)
        )
        .await
        .0,
        201
    );
    assert_eq!(
        call(
            &app,
            put(&id, "video/seg_00001.m4s", &ticket, &b.sha256, b.bytes)
        )
        .await
        .0,
        201
    );
    assert_eq!(stored_files(dir.path()).len(), 2);
    assert_eq!(file_rows(dir.path())[1].2, b.sha256);
    check_invariants(dir.path());
}

#[actix_web::test]
async fn publish_refuses_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    for f in pkg().iter().filter(|f| f.path != "audio/seg_00003.m4s") {
        assert_eq!(
            call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes.clone()))
                .await
                .0,
            201
        );
    }
    let (st, v) = call(
        &app,
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("missing-files")),
        "{v}"
    );
    assert!(v["msg"].as_str().unwrap().contains("audio/seg_00003.m4s"));
}

/// Publish runs the conformance checker: a package failing a MUST rule stays unpublished and the answer
/// carries the findings.
#[actix_web::test]
async fn publish_refuses_a_package_that_fails_a_must_rule() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    for f in pkg() {
        let bytes = if f.path == "video/playlist.m3u8" {
            // A VOD playlist without ENDLIST (HLS Authoring Spec 8.6).
            String::from_utf8(f.bytes)
                .unwrap()
                .replace("#EXT-X-ENDLIST\n", "")
                .into_bytes()
        } else {
            f.bytes
        };
        let (st, v) = call(&app, put(&id, &f.path, &ticket, &sha(&bytes), bytes)).await;
        assert_eq!(st, 201, "{}: {v}", f.path);
    }
    let publish = || {
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(&ticket))
    };
    let (st, v) = call(&app, publish()).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not-conformant")),
        "{v}"
    );
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "8.6" && f["file"] == "video/playlist.m3u8"),
        "{v}"
    );
    // Still not published: the fixed playlist replaces the broken one and publish goes through.
    let good = pkg_file("video/playlist.m3u8");
    let (st, _) = call(
        &app,
        put(&id, &good.path, &ticket, &good.sha256, good.bytes),
    )
    .await;
    assert!(st.is_success());
    let (st, v) = call(&app, publish()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    check_invariants(dir.path());
}

/// Every refusal: status, code, and nothing stored.
#[actix_web::test]
async fn refusals_leave_no_file_and_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    let (other_id, other_ticket) = create(&app).await;
    let seg = pkg_file("video/seg_00001.m4s");
    let init = pkg_file("video/init.mp4");
    let html = b"<!doctype html><html><script>alert(1)</script></html>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest-of-a-zip-file".to_vec();
    let mut truncated = seg.bytes.clone();
    truncated.truncate(seg.bytes.len() - 10);
    let playlist = |body: &str| (body.as_bytes().to_vec(), sha(body.as_bytes()));
    let media = String::from_utf8(pkg_file("video/playlist.m3u8").bytes).unwrap();
    let (abs_pl, abs_sha) =
        playlist(&media.replace("seg_00002.m4s", "https://evil.example/seg.m4s"));
    let (other_pl, other_sha) = playlist(&media.replace(
        "seg_00002.m4s",
        &format!("../../{other_id}/video/seg_00002.m4s"),
    ));
    let (key_pl, key_sha) = playlist(&media.replace(
        "#EXT-X-MAP",
        "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n#EXT-X-MAP",
    ));
    let bad_utf8 = b"#EXTM3U\n\xff\xfe\n".to_vec();
    // A segment without its rendition's init segment is refused before the body is read.
    let (st, v) = call(
        &app,
        put(&id, &seg.path, &ticket, &seg.sha256, seg.bytes.clone()),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (409, Some("init-missing")),
        "{v}"
    );
    assert!(stored_files(dir.path()).is_empty() && file_rows(dir.path()).is_empty());
    // Segments are read against the stored init segment.
    assert_eq!(
        call(
            &app,
            put(&id, &init.path, &ticket, &init.sha256, init.bytes.clone())
        )
        .await
        .0,
        201
    );
    let audio_init = pkg_file("audio/init.mp4");
    assert_eq!(
        call(
            &app,
            put(
                &id,
                "audio/init.mp4",
                &ticket,
                &audio_init.sha256,
                audio_init.bytes.clone()
            )
        )
        .await
        .0,
        201
    );
    let baseline = (stored_files(dir.path()), file_rows(dir.path()));

    let cases: Vec<(&str, test::TestRequest, u16, &str)> = vec![
        (
            "no token",
            test::TestRequest::put()
                .uri(&format!("/api/videos/{id}/files/video/seg_00001.m4s"))
                .insert_header(("X-Upcast-Sha256", seg.sha256.clone()))
                .set_payload(seg.bytes.clone()),
            401,
            "unauthorized",
        ),
        (
            "wrong token",
            put(
                &id,
                "video/seg_00001.m4s",
                "upt_nope",
                &seg.sha256,
                seg.bytes.clone(),
            ),
            401,
            "unauthorized",
        ),
        (
            "other video's ticket",
            put(
                &id,
                "video/seg_00001.m4s",
                &other_ticket,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            403,
            "forbidden",
        ),
        (
            "traversal",
            put(
                &id,
                "video/../../x.m4s",
                &ticket,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            400,
            "bad-path",
        ),
        (
            "encoded traversal",
            put(
                &id,
                "video/%2e%2e/x.m4s",
                &ticket,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            400,
            "bad-path",
        ),
        (
            "html extension",
            put(&id, "index.html", &ticket, &sha(&html), html.clone()),
            400,
            "bad-path",
        ),
        (
            "odd characters",
            put(
                &id,
                "video/Seg%20A.m4s",
                &ticket,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            400,
            "bad-path",
        ),
        (
            "no digest",
            test::TestRequest::put()
                .uri(&format!("/api/videos/{id}/files/video/seg_00001.m4s"))
                .insert_header(bearer(&ticket))
                .set_payload(seg.bytes.clone()),
            400,
            "missing-digest",
        ),
        (
            "wrong digest",
            put(
                &id,
                "video/seg_00001.m4s",
                &ticket,
                &init.sha256,
                seg.bytes.clone(),
            ),
            422,
            "digest-mismatch",
        ),
        (
            "oversize playlist",
            put(
                &id,
                "video/playlist.m3u8",
                &ticket,
                &sha(&vec![b'#'; 1 << 21]),
                vec![b'#'; (1 << 20) + 1],
            ),
            413,
            "too-large",
        ),
        (
            "html as segment",
            put(
                &id,
                "video/seg_00001.m4s",
                &ticket,
                &sha(&html),
                html.clone(),
            ),
            422,
            "not-cmaf",
        ),
        (
            "svg as segment",
            put(&id, "video/seg_00001.m4s", &ticket, &sha(&svg), svg.clone()),
            422,
            "not-cmaf",
        ),
        (
            "zip as init",
            put(&id, "video/init.mp4", &ticket, &sha(&zip), zip.clone()),
            422,
            "not-cmaf",
        ),
        (
            "truncated segment",
            put(
                &id,
                "video/seg_00001.m4s",
                &ticket,
                &sha(&truncated),
                truncated.clone(),
            ),
            422,
            "not-cmaf",
        ),
        (
            "segment as init",
            put(
                &id,
                "video/init.mp4",
                &ticket,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            422,
            "not-cmaf",
        ),
        (
            "init as segment",
            put(
                &id,
                "video/seg_00001.m4s",
                &ticket,
                &init.sha256,
                init.bytes.clone(),
            ),
            422,
            "not-cmaf",
        ),
        (
            "absolute URL in playlist",
            put(&id, "video/playlist.m3u8", &ticket, &abs_sha, abs_pl),
            422,
            "bad-playlist",
        ),
        (
            "playlist naming another video",
            put(&id, "video/playlist.m3u8", &ticket, &other_sha, other_pl),
            422,
            "bad-playlist",
        ),
        (
            "third-party key URI",
            put(&id, "video/playlist.m3u8", &ticket, &key_sha, key_pl),
            422,
            "bad-playlist",
        ),
        (
            "playlist not UTF-8",
            put(
                &id,
                "video/playlist.m3u8",
                &ticket,
                &sha(&bad_utf8),
                bad_utf8.clone(),
            ),
            422,
            "bad-playlist",
        ),
        (
            "html as playlist",
            put(
                &id,
                "video/playlist.m3u8",
                &ticket,
                &sha(&html),
                html.clone(),
            ),
            422,
            "bad-playlist",
        ),
        (
            "unknown video",
            put(
                "zzzzzzzzzzzzzzzz",
                "video/seg_00001.m4s",
                ADMIN,
                &seg.sha256,
                seg.bytes.clone(),
            ),
            404,
            "not-found",
        ),
    ];
    for (name, req, want, code) in cases {
        let (st, v) = call(&app, req).await;
        assert_eq!(
            (st.as_u16(), v["code"].as_str()),
            (want, Some(code)),
            "{name}: {v}"
        );
        assert_eq!(stored_files(dir.path()), baseline.0, "{name} left a file");
        assert_eq!(file_rows(dir.path()), baseline.1, "{name} left a row");
    }

    // An expired ticket.
    let c = rusqlite::Connection::open(dir.path().join("upcast.db")).unwrap();
    c.execute(
        "INSERT INTO tickets (hash, video_id, expires_at) VALUES (?1, ?2, 1)",
        [sha(b"upt_expired"), id.clone()],
    )
    .unwrap();
    let (st, v) = call(
        &app,
        put(
            &id,
            "video/seg_00001.m4s",
            "upt_expired",
            &seg.sha256,
            seg.bytes.clone(),
        ),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (401, Some("ticket-expired"))
    );
    // Tickets may not manage videos.
    let (st, _) = call(
        &app,
        test::TestRequest::get()
            .uri("/api/videos")
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("/api/videos/{id}"))
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!((stored_files(dir.path()), file_rows(dir.path())), baseline);
}

#[actix_web::test]
async fn quota_is_checked_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let init = pkg_file("video/init.mp4");
    let a = pkg_file("video/seg_00001.m4s");
    let b = pkg_file("video/seg_00002.m4s");
    let mut cfg = config(dir.path());
    // Room for the init and the first segment, one byte short of the second.
    cfg.limits.max_video_bytes = (init.bytes.len() + a.bytes.len() + b.bytes.len() - 1) as u64;
    let app = test::init_service(App::new().configure(upcast_origin::routes(state(cfg)))).await;
    let (id, ticket) = create(&app).await;
    assert_eq!(
        call(
            &app,
            put(&id, &init.path, &ticket, &init.sha256, init.bytes)
        )
        .await
        .0,
        201
    );
    assert_eq!(
        call(&app, put(&id, &a.path, &ticket, &a.sha256, a.bytes))
            .await
            .0,
        201
    );
    let (st, v) = call(&app, put(&id, &b.path, &ticket, &b.sha256, b.bytes)).await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (413, Some("quota-exceeded"))
    );
    assert_eq!(stored_files(dir.path()).len(), 2);
    assert_eq!(file_rows(dir.path()).len(), 2);
}

#[actix_web::test]
async fn delete_removes_rows_and_objects() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    for f in pkg() {
        assert_eq!(
            call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes))
                .await
                .0,
            201
        );
    }
    let (st, v) = call(
        &app,
        test::TestRequest::get()
            .uri("/api/videos")
            .insert_header(bearer(ADMIN)),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["videos"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (st, _) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("/api/videos/{id}"))
            .insert_header(bearer(ADMIN)),
    )
    .await;
    assert_eq!(st, 204);
    assert!(stored_files(dir.path()).is_empty() && file_rows(dir.path()).is_empty());
    let (st, _) = call(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/master.m3u8")),
    )
    .await;
    assert_eq!(st, 404);
}

/// What a crash can leave (a spool file, an object without a row) is removed at the next start; rows and
/// their objects stay.
#[actix_web::test]
async fn orphans_are_collected_at_start() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = app(dir.path()).await;
        let (id, ticket) = create(&app).await;
        let init = pkg_file("video/init.mp4");
        assert_eq!(
            call(
                &app,
                put(&id, &init.path, &ticket, &init.sha256, init.bytes)
            )
            .await
            .0,
            201
        );
        std::fs::write(dir.path().join("tmp/abc.part"), b"half a segment").unwrap();
        std::fs::write(
            dir.path().join("objects").join(&id).join("0".repeat(64)),
            b"no row",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("objects/zzzzzzzzzzzzzzzz")).unwrap();
        std::fs::write(
            dir.path()
                .join("objects/zzzzzzzzzzzzzzzz")
                .join("1".repeat(64)),
            b"no video",
        )
        .unwrap();
    }
    assert_eq!(stored_files(dir.path()).len(), 4);
    let _restarted = state(config(dir.path()));
    assert_eq!(stored_files(dir.path()).len(), 1);
    assert_eq!(file_rows(dir.path()).len(), 1);
    check_invariants(dir.path());
}

#[actix_web::test]
async fn api_responses_are_not_sniffed_or_cached() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for token in [ADMIN, "wrong"] {
        let req = test::TestRequest::get()
            .uri("/api/videos")
            .insert_header(bearer(token));
        let resp = test::call_service(&app, req.to_request()).await;
        assert_eq!(
            resp.headers().get("x-content-type-options").unwrap(),
            "nosniff"
        );
        assert_eq!(
            resp.headers().get("content-type").unwrap(),
            "application/json"
        );
    }
    let req = test::TestRequest::get()
        .uri("/api/videos")
        .insert_header(bearer(ADMIN));
    let resp = test::call_service(&app, req.to_request()).await;
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
}

#[actix_web::test]
async fn a_poster_is_checked_stored_listed_and_served_as_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (id, ticket) = create(&app).await;
    // Not a JPEG, a JPEG cut short, a JPEG named as a WebP sheet, and a JPEG at the root that is not the
    // poster: refused, nothing left behind.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let mut cut = jpeg();
    cut.truncate(cut.len() - 2);
    for (path, body, code) in [
        ("poster.jpg", png, "not-jpeg"),
        ("poster.jpg", cut, "not-jpeg"),
        ("storyboard/sheet_001.webp", jpeg(), "not-image"),
        ("thumb.jpg", jpeg(), "bad-path"),
    ] {
        let (st, v) = call(&app, put(&id, path, &ticket, &sha(&body), body)).await;
        assert_eq!(v["code"].as_str(), Some(code), "{path}: {st} {v}");
        assert!(stored_files(dir.path()).is_empty() && file_rows(dir.path()).is_empty());
    }
    for f in pkg() {
        let (st, v) = call(&app, put(&id, &f.path, &ticket, &f.sha256, f.bytes)).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", f.path);
    }
    let (_, v) = call(
        &app,
        test::TestRequest::get()
            .uri(&format!("/api/videos/{id}"))
            .insert_header(bearer(ADMIN)),
    )
    .await;
    assert!(v.get("poster_url").is_none(), "no poster yet: {v}");
    let body = jpeg();
    let (st, v) = call(
        &app,
        put(&id, "poster.jpg", &ticket, &sha(&body), body.clone()),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = call(
        &app,
        test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(&ticket)),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::OK,
        "an unreferenced poster does not stop publish: {v}"
    );
    let url = v["poster_url"].as_str().expect("poster_url").to_string();
    assert_eq!(url, format!("/v/{id}/poster.jpg"));
    let resp = test::call_service(&app, test::TestRequest::get().uri(&url).to_request()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers().get("content-type").unwrap(), "image/jpeg");
    assert_eq!(test::read_body(resp).await.to_vec(), body);
    check_invariants(dir.path());
}

/// The smallest JPEG the check accepts as one: SOI, an APP0 (JFIF) segment, EOI.
fn jpeg() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}
