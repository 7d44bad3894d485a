//! The DASH MPD at the origin, in-process: a package the core makes from a fixture (with its
//! `manifest.mpd`) is uploaded and published; the MPD is served as `application/dash+xml` with the
//! playlists' caching, CORS and gzip; a private video's MPD and every URL it names work through one signed
//! link; an MPD that names anything outside its video, or does not describe the segments, is refused.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use actix_web::test;
use harness::service::*;
use harness::*;
use upcast_core::layout::MANIFEST;

/// The package `upcast segment` makes of a fixture (2 s segments), every file in memory, MPD included.
fn package() -> Vec<(String, Vec<u8>)> {
    let path = format!(
        "{}/../../tests/fixtures/h264_aac_bframes.mp4",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read(&path).unwrap();
    let mut opts = upcast_core::SegmentOptions::default();
    opts.plan.target_duration_s = 2.0;
    let pkg = upcast_core::segment(&src, &opts).unwrap();
    let files: Vec<(String, Vec<u8>)> = pkg
        .files()
        .into_iter()
        .map(|(p, b)| (p, b.to_vec(&src).unwrap()))
        .collect();
    assert!(files.iter().any(|(p, _)| p == MANIFEST));
    files
}

async fn create(app: &impl TestApp, visibility: &str) -> String {
    let req = test::TestRequest::post()
        .uri("/api/videos")
        .insert_header(bearer(ADMIN))
        .set_payload(format!(r#"{{"visibility":"{visibility}"}}"#));
    let (st, _, b) = send(app, req).await;
    assert_eq!(st, 201);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn put(app: &impl TestApp, id: &str, path: &str, bytes: &[u8]) -> (u16, String) {
    let req = test::TestRequest::put()
        .uri(&format!("/api/videos/{id}/files/{path}"))
        .insert_header(bearer(ADMIN))
        .insert_header(("X-Upcast-Sha256", sha(bytes)))
        .set_payload(bytes.to_vec());
    let (st, _, b) = send(app, req).await;
    (st, String::from_utf8_lossy(&b).into_owned())
}

async fn publish(app: &impl TestApp, id: &str) -> (u16, String) {
    let req = test::TestRequest::post()
        .uri(&format!("/api/videos/{id}/publish"))
        .insert_header(bearer(ADMIN));
    let (st, _, b) = send(app, req).await;
    (st, String::from_utf8_lossy(&b).into_owned())
}

/// Upload `files` (the MPD replaced by `mpd` when given) to a new video.
async fn upload(app: &impl TestApp, visibility: &str, mpd: Option<&str>) -> String {
    let id = create(app, visibility).await;
    for (path, bytes) in package() {
        let bytes = match (path.as_str(), mpd) {
            (MANIFEST, Some(m)) => m.as_bytes().to_vec(),
            _ => bytes,
        };
        assert_eq!(put(app, &id, &path, &bytes).await.0, 201, "{path}");
    }
    id
}

fn good_mpd() -> String {
    let files = package();
    let (_, b) = files.iter().find(|(p, _)| p == MANIFEST).unwrap();
    String::from_utf8(b.clone()).unwrap()
}

#[actix_web::test]
async fn mpd_is_served_as_dash_xml_with_the_playlist_rules() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = upload(&app, "public", None).await;
    let url = format!("/v/{id}/{MANIFEST}");
    // Uploading: never cached.
    let (st, hm, body) = send(&app, test::TestRequest::get().uri(&url)).await;
    assert_eq!(st, 200);
    assert_eq!(header(&hm, "content-type"), "application/dash+xml");
    assert_eq!(header(&hm, "cache-control"), "no-cache");
    assert_eq!(String::from_utf8(body).unwrap(), good_mpd());
    assert_eq!(publish(&app, &id).await.0, 200);
    // Published: the playlists' short max-age (not the segments' immutable year), CORS, nosniff, gzip.
    let (st, hm, _) = send(&app, test::TestRequest::get().uri(&url)).await;
    assert_eq!(st, 200);
    assert_eq!(header(&hm, "content-type"), "application/dash+xml");
    assert_eq!(header(&hm, "cache-control"), "public, max-age=10");
    assert_eq!(header(&hm, "access-control-allow-origin"), "*");
    assert_eq!(header(&hm, "x-content-type-options"), "nosniff");
    let req = test::TestRequest::get()
        .uri(&url)
        .insert_header(("Accept-Encoding", "gzip"));
    let (st, hm, _) = send(&app, req).await;
    assert_eq!(st, 200);
    assert_eq!(header(&hm, "content-encoding"), "gzip");
    assert_eq!(header(&hm, "vary"), "Accept-Encoding");
    assert!(header(&hm, "etag").ends_with("-gz\""));
}

#[actix_web::test]
async fn private_mpd_and_every_url_it_names_work_through_one_signed_link() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = upload(&app, "private", None).await;
    assert_eq!(publish(&app, &id).await.0, 200);
    let public = format!("/v/{id}/{MANIFEST}");
    assert_eq!(
        send(&app, test::TestRequest::get().uri(&public)).await.0,
        404
    );
    let req = test::TestRequest::get()
        .uri(&format!("/api/videos/{id}/playback?ttl=60"))
        .insert_header(bearer(ADMIN));
    let (st, _, b) = send(&app, req).await;
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let master = v["url"].as_str().unwrap().to_string();
    let prefix = master.strip_suffix("master.m3u8").unwrap().to_string();
    let (st, hm, body) = send(
        &app,
        test::TestRequest::get().uri(&format!("{prefix}{MANIFEST}")),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(header(&hm, "content-type"), "application/dash+xml");
    assert!(
        header(&hm, "cache-control").starts_with("private, max-age="),
        "{hm:?}"
    );
    // Every URL the MPD names, resolved against the signed MPD URL, stays under the signed prefix.
    let refs = upcast_core::dash::package_references(MANIFEST, &body).unwrap();
    let media = package()
        .iter()
        .filter(|(p, _)| p.ends_with(".mp4") || p.ends_with(".m4s"))
        .count();
    assert_eq!(refs.len(), media, "every init and media segment");
    for r in refs {
        let (st, hm, _) = send(&app, test::TestRequest::get().uri(&format!("{prefix}{r}"))).await;
        assert_eq!(st, 200, "{r}");
        assert!(header(&hm, "cache-control").starts_with("private"), "{r}");
    }
}

#[actix_web::test]
async fn mpds_naming_the_outside_are_refused_at_upload() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = create(&app, "public").await;
    let good = good_mpd();
    for (from, to) in [
        ("<Period", "<BaseURL>https://cdn.example/</BaseURL><Period"),
        ("media=\"video/", "media=\"https://cdn.example/video/"),
        ("media=\"video/", "media=\"../aaaaaaaaaaaaaaaa/video/"),
        (
            "initialization=\"video/init.mp4\"",
            "initialization=\"/v/x/init.mp4\"",
        ),
        (
            "<AdaptationSet",
            "<AdaptationSet xlink:href=\"https://x.example/a\"",
        ),
        ("<MPD ", "<!DOCTYPE MPD [<!ENTITY e \"x\">]>\n<MPD "),
        ("</MPD>", ""),
    ] {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let (st, body) = put(&app, &id, MANIFEST, bad.as_bytes()).await;
        assert_eq!(st, 422, "{to}: {body}");
        assert!(body.contains("bad-playlist"), "{body}");
    }
    let (st, _) = put(&app, &id, MANIFEST, b"#EXTM3U\n").await;
    assert_eq!(st, 422);
    assert_eq!(put(&app, &id, MANIFEST, good.as_bytes()).await.0, 201);
}

#[actix_web::test]
async fn publish_checks_the_mpd() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let good = good_mpd();
    // Completeness from the MPD: it names a fifth video segment that was never uploaded.
    let more = good.replacen("d=\"25600\" r=\"3\"", "d=\"25600\" r=\"4\"", 1);
    assert_ne!(more, good);
    let id = upload(&app, "public", Some(&more)).await;
    let (st, body) = publish(&app, &id).await;
    assert_eq!(st, 409, "{body}");
    assert!(
        body.contains("missing-files") && body.contains("video/seg_00005.m4s"),
        "{body}"
    );
    // Conformance: a timeline one tick off is a DASH finding, and the video stays unpublished.
    let text = good.replacen("d=\"25600\" r=\"3\"", "d=\"25601\" r=\"3\"", 1);
    let id = upload(&app, "public", Some(&text)).await;
    let (st, body) = publish(&app, &id).await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body.contains("not-conformant") && body.contains("DASH timeline"),
        "{body}"
    );
    let (st, _, _) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/{MANIFEST}")),
    )
    .await;
    assert_eq!(st, 200, "still served while unpublished");
}
