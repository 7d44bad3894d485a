//! In-process tests of the captions API on a published video: add, replace, delete; media files never
//! touched; replaced renditions still served until the next change; refusals leave no file and no row;
//! the package the origin ends with passes the core's checker, subtitle rules included.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::http::StatusCode;
use actix_web::{test, App};
use harness::service::*;
use harness::*;
use serde_json::Value;

async fn call(app: &impl TestApp, req: test::TestRequest) -> (StatusCode, Value, Vec<u8>) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let body = test::read_body(resp).await.to_vec();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        body,
    )
}

fn admin(req: test::TestRequest) -> test::TestRequest {
    req.insert_header(("Authorization", format!("Bearer {ADMIN}")))
}

/// A published public video of the fixture package; its id.
async fn published(app: &impl TestApp, publish: bool) -> String {
    let (st, v, _) = call(
        app,
        admin(test::TestRequest::post().uri("/api/videos")).set_payload(r#"{"title":"c"}"#),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    for f in pkg() {
        let req =
            admin(test::TestRequest::put().uri(&format!("/api/videos/{id}/files/{}", f.path)))
                .insert_header(("X-Upcast-Sha256", f.sha256.clone()))
                .set_payload(f.bytes.clone());
        let (st, v, _) = call(app, req).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", f.path);
    }
    if publish {
        let (st, v, _) = call(
            app,
            admin(test::TestRequest::post().uri(&format!("/api/videos/{id}/publish"))),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    id
}

fn put_captions(id: &str, lang: &str, query: &str, body: &str) -> test::TestRequest {
    admin(test::TestRequest::put().uri(&format!("/api/videos/{id}/captions/{lang}?{query}")))
        .set_payload(body.to_string())
}

/// Rows of the video's files other than the manifests and caption renditions: the media.
fn media_rows(data: &std::path::Path) -> Vec<(String, String, String, i64)> {
    file_rows(data)
        .into_iter()
        .filter(|(_, p, _, _)| p.ends_with(".m4s") || p.ends_with(".mp4") || p.contains("iframes"))
        .collect()
}

async fn get(app: &impl TestApp, path: &str) -> (StatusCode, String) {
    let (st, _, body) = call(app, test::TestRequest::get().uri(path)).await;
    (st, String::from_utf8_lossy(&body).into_owned())
}

const EN_SRT: &str = "1\r\n00:00:00,500 --> 00:00:02,500\r\nHello <i>there</i>\r\n\r\n\
                      2\r\n00:00:07,000 --> 00:00:20,000\r\nruns past the end\r\n";

#[actix_web::test]
async fn add_replace_delete_captions() {
    let dir = tempfile::tempdir().unwrap();
    let app =
        test::init_service(App::new().configure(upcast_origin::routes(state(config(dir.path())))))
            .await;
    let id = published(&app, true).await;
    let media_before = media_rows(dir.path());
    let (_, master_before) = get(&app, &format!("/v/{id}/master.m3u8")).await;

    // Add English (SRT), trimmed at the video's end with a note.
    let (st, v, _) = call(
        &app,
        put_captions(&id, "en", "name=English&default=true", EN_SRT),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("cut at the end"), "{warnings}");
    let caps = v["video"]["captions"].as_array().unwrap();
    assert_eq!(caps.len(), 1);
    assert_eq!(
        (caps[0]["lang"].as_str(), caps[0]["default"].as_bool()),
        (Some("en"), Some(true))
    );
    let url1 = caps[0]["url"].as_str().unwrap().to_string();
    let (st, whole) = get(&app, &url1).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        whole.contains("00:00:07.000 --> 00:00:08.000\nruns past the end"),
        "{whole}"
    );
    let (_, master) = get(&app, &format!("/v/{id}/master.m3u8")).await;
    assert!(
        master.contains("TYPE=SUBTITLES") && master.contains("SUBTITLES=\"subs\""),
        "{master}"
    );
    let seg1 = url1.replace("all.vtt", "seg_00002.vtt");
    let (st, body) = get(&app, &seg1).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        body.contains("X-TIMESTAMP-MAP=MPEGTS:") && body.contains("Hello <i>there</i>"),
        "{body}"
    );
    // GET /api/videos/{id} lists them too.
    let (_, v, _) = call(
        &app,
        admin(test::TestRequest::get().uri(&format!("/api/videos/{id}"))),
    )
    .await;
    assert_eq!(v["captions"][0]["url"].as_str(), Some(url1.as_str()));
    assert_eq!(media_rows(dir.path()), media_before, "a media file changed");

    // Add Portuguese, then replace English: new paths; the old English files are still served.
    let (st, v, _) = call(
        &app,
        put_captions(
            &id,
            "pt-BR",
            "name=Portugu%C3%AAs&forced=true",
            "WEBVTT\n\n00:01.000 --> 00:02.000\nOlá\n",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v, _) = call(
        &app,
        put_captions(
            &id,
            "en",
            "name=English",
            "WEBVTT\n\n00:03.000 --> 00:04.000\nReplaced\n",
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let caps = v["video"]["captions"].as_array().unwrap().clone();
    let langs: Vec<&str> = caps.iter().map(|c| c["lang"].as_str().unwrap()).collect();
    assert_eq!(langs, ["pt-BR", "en"]);
    assert_eq!(caps[0]["forced"].as_bool(), Some(true));
    let url2 = caps[1]["url"].as_str().unwrap().to_string();
    assert_ne!(url1, url2);
    assert_eq!(
        get(&app, &url1).await.0,
        StatusCode::OK,
        "the replaced rendition is served until the next change"
    );
    assert!(get(&app, &url2).await.1.contains("Replaced"));

    // A bad file: 422 with the line, nothing stored, nothing changed.
    let before = (stored_files(dir.path()), file_rows(dir.path()));
    let (st, v, _) = call(
        &app,
        put_captions(
            &id,
            "de",
            "",
            "WEBVTT\n\n00:01.000 --> 00:02.000\nok\n\n00:03.000 --> 00:0x.000\nbad\n",
        ),
    )
    .await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad-captions")),
        "{v}"
    );
    assert!(v["msg"].as_str().unwrap().contains("line 6"), "{v}");
    let (st, v, _) = call(&app, put_captions(&id, "en_US", "", "WEBVTT\n")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(before, (stored_files(dir.path()), file_rows(dir.path())));

    // Delete English: the rendition replaced before this change is removed now.
    let (st, v, _) = call(
        &app,
        admin(test::TestRequest::delete().uri(&format!("/api/videos/{id}/captions/en"))),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["video"]["captions"].as_array().unwrap().len(), 1);
    assert_eq!(get(&app, &url1).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &url2).await.0, StatusCode::OK);
    let (_, master) = get(&app, &format!("/v/{id}/master.m3u8")).await;
    assert!(
        !master.contains("LANGUAGE=\"en\",NAME=\"English\"")
            && master.contains("LANGUAGE=\"pt-BR\""),
        "{master}"
    );
    let (st, _, _) = call(
        &app,
        admin(test::TestRequest::delete().uri(&format!("/api/videos/{id}/captions/en"))),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(media_rows(dir.path()), media_before, "a media file changed");
    check_invariants(dir.path());

    // What the origin serves now passes the core's checker, the subtitle rules included.
    let mut reader = upcast_core::check::MemReader::default();
    for (vid, path, _, _) in file_rows(dir.path()) {
        if vid == id {
            let (_, _, body) = call(
                &app,
                test::TestRequest::get().uri(&format!("/v/{id}/{path}")),
            )
            .await;
            reader.files.insert(path, body);
        }
    }
    let report = upcast_core::check::check_package(&reader, "master.m3u8");
    assert!(
        report.passed(),
        "{}",
        upcast_core::check::render_text(&report)
    );
    assert!(
        report.findings.is_empty(),
        "{}",
        upcast_core::check::render_text(&report)
    );

    // Deleting the last one leaves the master as it was before any caption.
    let (st, _, _) = call(
        &app,
        admin(test::TestRequest::delete().uri(&format!("/api/videos/{id}/captions/pt-br"))),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, master) = get(&app, &format!("/v/{id}/master.m3u8")).await;
    assert_eq!(master, master_before);
}

#[actix_web::test]
async fn refusals_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits.max_caption_bytes = 64;
    let app = test::init_service(App::new().configure(upcast_origin::routes(state(cfg)))).await;
    let unpublished = published(&app, false).await;
    let (st, v, _) = call(&app, put_captions(&unpublished, "en", "", "WEBVTT\n")).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{v}"
    );
    let id = published(&app, true).await;
    let before = (stored_files(dir.path()), file_rows(dir.path()));
    let big = format!("WEBVTT\n\n00:01.000 --> 00:02.000\n{}\n", "x".repeat(100));
    let (st, v, _) = call(&app, put_captions(&id, "en", "", &big)).await;
    assert_eq!(
        (st, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too-large")),
        "{v}"
    );
    let (st, _, _) = call(
        &app,
        test::TestRequest::put()
            .uri(&format!("/api/videos/{id}/captions/en"))
            .set_payload("WEBVTT\n"),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _, _) = call(&app, put_captions("nosuchvideo", "en", "", "WEBVTT\n")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(before, (stored_files(dir.path()), file_rows(dir.path())));
}
