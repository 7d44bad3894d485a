//! hls.js-relevant playback headers, checked in-process: MIME types, Range (206/416, multi-range), ETag and
//! 304, If-Range, CORS preflight, gzip, nosniff, Cache-Control, signed links, and the EVENT view.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::io::Read;

use actix_web::{test, App};
use harness::service::*;
use harness::*;

/// Upload the fixture package; publish when asked. Returns the video id.
async fn uploaded(app: &impl TestApp, visibility: &str, publish: bool, skip: &[&str]) -> String {
    let (st, _, b) = send(
        app,
        test::TestRequest::post()
            .uri("/api/videos")
            .insert_header(bearer(ADMIN))
            .set_payload(format!(r#"{{"visibility":"{visibility}"}}"#)),
    )
    .await;
    assert_eq!(st, 201);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    for f in pkg().iter().filter(|f| !skip.contains(&f.path.as_str())) {
        let req = test::TestRequest::put()
            .uri(&format!("/api/videos/{id}/files/{}", f.path))
            .insert_header(bearer(ADMIN))
            .insert_header(("X-Upcast-Sha256", f.sha256.clone()))
            .set_payload(f.bytes.clone());
        assert_eq!(send(app, req).await.0, 201);
    }
    if publish {
        let req = test::TestRequest::post()
            .uri(&format!("/api/videos/{id}/publish"))
            .insert_header(bearer(ADMIN));
        assert_eq!(send(app, req).await.0, 200);
    }
    id
}

#[actix_web::test]
async fn mime_cache_cors_and_nosniff() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = uploaded(&app, "public", true, &[]).await;
    for (path, mime, cache) in [
        (
            "master.m3u8",
            "application/vnd.apple.mpegurl",
            "public, max-age=10",
        ),
        (
            "video/playlist.m3u8",
            "application/vnd.apple.mpegurl",
            "public, max-age=10",
        ),
        (
            "video/init.mp4",
            "video/mp4",
            "public, max-age=31536000, immutable",
        ),
        (
            "video/seg_00002.m4s",
            "video/iso.segment",
            "public, max-age=31536000, immutable",
        ),
    ] {
        let (st, hm, body) = send(
            &app,
            test::TestRequest::get().uri(&format!("/v/{id}/{path}")),
        )
        .await;
        assert_eq!(st, 200, "{path}");
        assert_eq!(header(&hm, "content-type"), mime, "{path}");
        assert_eq!(header(&hm, "cache-control"), cache, "{path}");
        assert_eq!(header(&hm, "access-control-allow-origin"), "*");
        assert!(header(&hm, "access-control-expose-headers").contains("Content-Range"));
        assert!(header(&hm, "access-control-expose-headers").contains("ETag"));
        assert_eq!(header(&hm, "x-content-type-options"), "nosniff");
        assert!(!header(&hm, "etag").is_empty(), "{path}");
        assert_eq!(body, pkg_file(path).bytes, "{path}");
    }
    // Errors carry CORS and nosniff too, and never reveal more than not-found.
    let (st, hm, _) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/video/seg_09999.m4s")),
    )
    .await;
    assert_eq!(
        (st, header(&hm, "x-content-type-options")),
        (404, "nosniff")
    );
    let (st, _, _) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/../upcast.db")),
    )
    .await;
    assert_eq!(st, 404);
    // Preflight from a player on another origin.
    let (st, hm, _) = send(
        &app,
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(&format!("/v/{id}/video/seg_00002.m4s"))
            .insert_header(("Origin", "https://player.example"))
            .insert_header(("Access-Control-Request-Method", "GET"))
            .insert_header(("Access-Control-Request-Headers", "range")),
    )
    .await;
    assert_eq!(st, 204);
    assert!(header(&hm, "access-control-allow-headers").contains("Range"));
    assert!(header(&hm, "access-control-allow-methods").contains("GET"));
    assert_eq!(header(&hm, "access-control-allow-origin"), "*");
}

#[actix_web::test]
async fn ranges_and_conditionals_from_memory() {
    ranges_and_conditionals(8 << 20).await;
}

/// Objects above the cache's size limit go through actix-files instead: same answers.
#[actix_web::test]
async fn ranges_and_conditionals_from_file() {
    ranges_and_conditionals(1000).await;
}

async fn ranges_and_conditionals(cache_max_object: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.cache_max_object = cache_max_object;
    let app = test::init_service(App::new().configure(upcast_origin::routes(state(cfg)))).await;
    let id = uploaded(&app, "public", true, &[]).await;
    let seg = pkg_file("video/seg_00002.m4s").bytes;
    let uri = format!("/v/{id}/video/seg_00002.m4s");
    let len = seg.len();

    let (st, hm, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", "bytes=100-199")),
    )
    .await;
    assert_eq!(st, 206);
    assert_eq!(header(&hm, "content-range"), format!("bytes 100-199/{len}"));
    assert_eq!(body, &seg[100..200]);
    assert_eq!(header(&hm, "content-type"), "video/iso.segment");

    let (st, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", "bytes=-10")),
    )
    .await;
    assert_eq!((st, body.as_slice()), (206, &seg[len - 10..]));

    let (st, hm, _) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", format!("bytes={}-", len + 5))),
    )
    .await;
    assert_eq!(st, 416);
    assert_eq!(header(&hm, "content-range"), format!("bytes */{len}"));

    // Multi-range: answered with one range (never a response larger than the file).
    let (st, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", "bytes=0-9,20-29,0-4000,0-4000,0-4000")),
    )
    .await;
    assert!(st == 206 || st == 200, "{st}");
    assert!(body.len() <= len);
    if st == 206 {
        assert_eq!(body, &seg[..10]);
    }

    // ETag → 304; If-Range with a stale validator → whole file.
    let (_, hm, _) = send(&app, test::TestRequest::get().uri(&uri)).await;
    let etag = header(&hm, "etag").to_string();
    let (st, hm2, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("If-None-Match", etag.clone())),
    )
    .await;
    assert_eq!((st, body.len()), (304, 0));
    assert_eq!(header(&hm2, "etag"), etag);
    let (st, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", "bytes=0-9"))
            .insert_header(("If-Range", etag.clone())),
    )
    .await;
    assert_eq!((st, body.len()), (206, 10));
    let (st, _, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Range", "bytes=0-9"))
            .insert_header(("If-Range", "\"stale\"")),
    )
    .await;
    assert_eq!((st, body.len()), (200, len));

    // Playlist ETag → 304.
    let purl = format!("/v/{id}/video/playlist.m3u8");
    let (_, hm, _) = send(&app, test::TestRequest::get().uri(&purl)).await;
    let (st, _, _) = send(
        &app,
        test::TestRequest::get()
            .uri(&purl)
            .insert_header(("If-None-Match", header(&hm, "etag").to_string())),
    )
    .await;
    assert_eq!(st, 304);
}

#[actix_web::test]
async fn playlists_are_gzipped_when_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = uploaded(&app, "public", true, &[]).await;
    let uri = format!("/v/{id}/video/playlist.m3u8");
    let (st, hm, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Accept-Encoding", "gzip, deflate, br")),
    )
    .await;
    assert_eq!((st, header(&hm, "content-encoding")), (200, "gzip"));
    assert_eq!(header(&hm, "vary"), "Accept-Encoding");
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, pkg_file("video/playlist.m3u8").bytes);
    let (_, hm, body) = send(
        &app,
        test::TestRequest::get()
            .uri(&uri)
            .insert_header(("Accept-Encoding", "gzip;q=0")),
    )
    .await;
    assert_eq!(
        (header(&hm, "content-encoding"), body),
        ("", pkg_file("video/playlist.m3u8").bytes)
    );
    // Segments are never compressed.
    let (_, hm, _) = send(
        &app,
        test::TestRequest::get()
            .uri(&format!("/v/{id}/video/seg_00001.m4s"))
            .insert_header(("Accept-Encoding", "gzip")),
    )
    .await;
    assert_eq!(header(&hm, "content-encoding"), "");
}

#[actix_web::test]
async fn private_videos_need_a_signed_link() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = uploaded(&app, "private", true, &[]).await;
    let (st, _, _) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/master.m3u8")),
    )
    .await;
    assert_eq!(st, 404);
    let (st, _, b) = send(
        &app,
        test::TestRequest::get()
            .uri(&format!("/api/videos/{id}/playback?ttl=60"))
            .insert_header(bearer(ADMIN)),
    )
    .await;
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let url = v["url"].as_str().unwrap().to_string();
    let (st, _, _) = send(&app, test::TestRequest::get().uri(&url)).await;
    assert_eq!(st, 200);
    // The signature covers the whole video prefix: relative URIs work.
    let seg = url.replace("master.m3u8", "video/seg_00001.m4s");
    let (st, _, _) = send(&app, test::TestRequest::get().uri(&seg)).await;
    assert_eq!(st, 200);
    // Tampered signature, another video under the same signature, and an expired link.
    let parts: Vec<&str> = url.split('/').collect(); // ["", "s", exp, sig, "v", id, "master.m3u8"]
    let bad_sig = url.replace(parts[3], &"0".repeat(64));
    assert_eq!(
        send(&app, test::TestRequest::get().uri(&bad_sig)).await.0,
        403
    );
    let other = url.replace(&id, "aaaaaaaaaaaaaaaa");
    assert_eq!(
        send(&app, test::TestRequest::get().uri(&other)).await.0,
        403
    );
    let later = url.replacen(
        parts[2],
        &(parts[2].parse::<i64>().unwrap() + 1).to_string(),
        1,
    );
    assert_eq!(
        send(&app, test::TestRequest::get().uri(&later)).await.0,
        403
    );
}

#[actix_web::test]
async fn unpublished_media_playlists_grow_as_event() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let id = uploaded(
        &app,
        "public",
        false,
        &["video/seg_00002.m4s", "video/seg_00003.m4s"],
    )
    .await;
    let (st, hm, body) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/video/playlist.m3u8")),
    )
    .await;
    assert_eq!((st, header(&hm, "cache-control")), (200, "no-cache"));
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{text}");
    assert!(
        text.contains("seg_00001.m4s") && !text.contains("seg_00002.m4s"),
        "{text}"
    );
    assert!(!text.contains("#EXT-X-ENDLIST"), "{text}");
    let (_, hm, _) = send(
        &app,
        test::TestRequest::get().uri(&format!("/v/{id}/video/seg_00001.m4s")),
    )
    .await;
    assert_eq!(header(&hm, "cache-control"), "no-cache");
}

/// PUT `bytes` at `path` of video `id`: the status and the JSON answer.
async fn put(app: &impl TestApp, id: &str, path: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    let req = test::TestRequest::put()
        .uri(&format!("/api/videos/{id}/files/{path}"))
        .insert_header(bearer(ADMIN))
        .insert_header(("X-Upcast-Sha256", sha(bytes)))
        .set_payload(bytes.to_vec());
    let (st, answer) = call(app, req).await;
    (st.as_u16(), answer)
}

/// A ladder uploads its planned playlists before any segment (watch while encoding: BANDWIDTH from the
/// configured bit rates, every segment listed, EVENT), and the measured ones at the end. The origin serves
/// the planned media playlists as their growing EVENT view, refuses to publish while the planned
/// multivariant playlist's BANDWIDTH is off the measured one (a MUST), lets the measured playlists replace
/// the planned ones before publish, and no playlist after.
#[actix_web::test]
async fn planned_playlists_first_grow_then_are_replaced_before_publish() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let files = pkg();
    let all: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let id = uploaded(&app, "public", false, &all).await;
    let text = |path: &str| String::from_utf8(pkg_file(path).bytes).unwrap();
    let master = text("master.m3u8");
    let planned_master = master
        .lines()
        .filter(|l| !l.starts_with("#EXT-X-I-FRAME-STREAM-INF"))
        .map(|l| {
            l.replace("BANDWIDTH=60900", "BANDWIDTH=200000")
                .replace("AVERAGE-BANDWIDTH=60142", "AVERAGE-BANDWIDTH=200000")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert!(
        planned_master.contains("BANDWIDTH=200000"),
        "{planned_master}"
    );
    let planned_media = |path: &str| {
        text(path)
            .replace("#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-PLAYLIST-TYPE:EVENT")
            .replace("#EXT-X-ENDLIST\n", "")
    };
    let lists = ["video/playlist.m3u8", "audio/playlist.m3u8"];
    assert_eq!(
        put(&app, &id, "master.m3u8", planned_master.as_bytes())
            .await
            .0,
        201
    );
    for p in lists {
        assert_eq!(put(&app, &id, p, planned_media(p).as_bytes()).await.0, 201);
    }
    let get = |path: String| {
        let app = &app;
        async move {
            let (st, _, b) = send(app, test::TestRequest::get().uri(&path)).await;
            (st, String::from_utf8(b).unwrap())
        }
    };
    // Nothing stored yet: an EVENT playlist without segments; the master as stored.
    let (st, body) = get(format!("/v/{id}/video/playlist.m3u8")).await;
    assert_eq!(st, 200);
    assert!(
        body.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !body.contains("seg_"),
        "{body}"
    );
    assert_eq!(get(format!("/v/{id}/master.m3u8")).await.1, planned_master);
    // The media files, in the order a ladder sends them.
    for f in files.iter().filter(|f| !f.path.ends_with(".m3u8")) {
        assert_eq!(put(&app, &id, &f.path, &f.bytes).await.0, 201, "{}", f.path);
    }
    let (_, body) = get(format!("/v/{id}/video/playlist.m3u8")).await;
    assert!(
        body.contains("seg_00004.m4s") && !body.contains("ENDLIST"),
        "{body}"
    );
    // The planned BANDWIDTH is three times the measured peak: publishing now is refused with that rule.
    let publish = || {
        let app = &app;
        let id = id.clone();
        async move {
            let req = test::TestRequest::post()
                .uri(&format!("/api/videos/{id}/publish"))
                .insert_header(bearer(ADMIN));
            let (st, _, b) = send(app, req).await;
            (st, String::from_utf8(b).unwrap())
        }
    };
    let (st, body) = publish().await;
    assert_eq!(st, 422, "{body}");
    assert!(
        body.contains("not-conformant") && body.contains("BANDWIDTH"),
        "{body}"
    );
    // The measured playlists replace the planned ones (a different body at the same path, before publish).
    for p in ["master.m3u8", "video/iframes.m3u8"]
        .into_iter()
        .chain(lists)
    {
        let (st, answer) = put(&app, &id, p, &pkg_file(p).bytes).await;
        assert_eq!(st, 201, "{p}: {answer}");
        assert_eq!(answer["created"], true, "{p}");
        assert_eq!(answer["file"]["sha256"], pkg_file(p).sha256, "{p}");
    }
    let (st, body) = publish().await;
    assert_eq!(st, 200, "{body}");
    let (_, body) = get(format!("/v/{id}/video/playlist.m3u8")).await;
    assert!(
        body.contains("#EXT-X-PLAYLIST-TYPE:VOD") && body.contains("#EXT-X-ENDLIST"),
        "{body}"
    );
    assert_eq!(get(format!("/v/{id}/master.m3u8")).await.1, master);
    // Published: a playlist no longer changes.
    let (st, answer) = put(&app, &id, "master.m3u8", planned_master.as_bytes()).await;
    assert_eq!(
        (st, answer["code"].as_str()),
        (409, Some("published")),
        "{answer}"
    );
}
