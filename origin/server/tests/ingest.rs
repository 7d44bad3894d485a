//! Raw MP4 in, playable package out: `POST /api/ingest` queues a job (202), the job segments with the core
//! and publishes; `GET /api/ingest/{job}` tells how it went. In-process (the app and its job threads).
#[path = "../../testkit/common/mod.rs"]
mod common;
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/sources/mod.rs"]
mod sources;

use std::path::Path;
use std::time::{Duration, Instant};

use actix_web::test;
use harness::service::*;
use harness::*;
use serde_json::Value;
use upcast_origin::{Config, Limits};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::fixture(name)).unwrap()
}

async fn app(cfg: Config) -> impl TestApp {
    app_on(&state(cfg)).await
}

async fn call(app: &impl TestApp, req: test::TestRequest) -> (u16, Value, Option<String>) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let body = test::read_body(resp).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        location,
    )
}

fn post(uri: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {ADMIN}")))
        .insert_header(("X-Upcast-Sha256", sha(&body)))
        .set_payload(body)
}

/// Poll the job until it is done or failed (the job runs on its own thread; a generous deadline).
async fn finished(app: &impl TestApp, status_url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let req = test::TestRequest::get()
            .uri(status_url)
            .insert_header(("Authorization", format!("Bearer {ADMIN}")));
        let (s, j, _) = call(app, req).await;
        assert_eq!(s, 200, "{j}");
        if j["state"] == "done" || j["state"] == "failed" {
            return j;
        }
        assert!(Instant::now() < deadline, "job still {j}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn videos_in_db(data: &Path) -> i64 {
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    c.query_row("SELECT COUNT(*) FROM videos", [], |r| r.get(0))
        .unwrap()
}

/// Nothing of a refused job: no object, no spool file, no row, no video.
fn assert_left_nothing(data: &Path) {
    assert!(stored_files(data).is_empty(), "{:?}", stored_files(data));
    assert!(file_rows(data).is_empty());
    assert_eq!(videos_in_db(data), 0);
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM ingest_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[actix_web::test]
async fn ingest_mp4_is_a_job_that_ends_with_a_playable_url() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(config(dir.path())).await;
    let (s, job, location) = call(
        &app,
        post("/api/ingest?title=seed", fixture("h264_aac_faststart.mp4")),
    )
    .await;
    assert_eq!(s, 202, "{job}");
    let status_url = job["status_url"].as_str().unwrap().to_string();
    assert_eq!(location.as_deref(), Some(status_url.as_str()));
    assert!(
        ["queued", "running", "done"].contains(&job["state"].as_str().unwrap()),
        "{job}"
    );
    let job = finished(&app, &status_url).await;
    assert_eq!(job["state"], "done", "{job}");
    let planned = job["progress"]["files_planned"].as_i64().unwrap();
    assert_eq!(
        job["progress"]["files_written"].as_i64(),
        Some(planned),
        "{job}"
    );
    let v = &job["video"];
    assert_eq!(v["state"], "ready", "{job}");
    assert_eq!(v["title"], "seed");
    assert_eq!(v["files"].as_i64(), Some(planned), "{job}");
    let url = v["playback_url"].as_str().unwrap().to_string();
    let resp = test::call_service(&app, test::TestRequest::get().uri(&url).to_request()).await;
    assert_eq!(resp.status(), 200);
    let master = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(master.contains("#EXT-X-STREAM-INF"), "{master}");
    // Every stored file is served, and the stored state is consistent.
    let rows = file_rows(dir.path());
    assert!(rows.iter().any(|r| r.1.ends_with(".m4s")), "{rows:?}");
    assert_eq!(i64::try_from(rows.len()).unwrap(), planned);
    let base = url.trim_end_matches("master.m3u8");
    for (_, path, sha256, _) in &rows {
        let req = test::TestRequest::get().uri(&format!("{base}{path}"));
        let resp = test::call_service(&app, req.to_request()).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(&sha(&test::read_body(resp).await), sha256, "{path}");
    }
    assert!(!stored_files(dir.path())
        .iter()
        .any(|p| p.starts_with(dir.path().join("tmp"))));
    check_invariants(dir.path());
}

#[actix_web::test]
async fn a_private_ingest_answers_with_a_signed_url() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(config(dir.path())).await;
    let (s, job, _) = call(
        &app,
        post("/api/ingest?private=true", fixture("video_only.mp4")),
    )
    .await;
    assert_eq!(s, 202, "{job}");
    let job = finished(&app, job["status_url"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    let id = job["video"]["id"].as_str().unwrap();
    let url = job["video"]["playback_url"].as_str().unwrap();
    assert!(url.starts_with("/s/"), "{job}");
    let get = |u: String| test::TestRequest::get().uri(&u).to_request();
    let resp = test::call_service(&app, get(url.to_string())).await;
    assert_eq!(resp.status(), 200);
    let resp = test::call_service(&app, get(format!("/v/{id}/master.m3u8"))).await;
    assert_eq!(resp.status(), 404);
}

#[actix_web::test]
async fn ingest_refuses_what_is_not_a_movie_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(config(dir.path())).await;
    for body in [
        b"<html>not a movie</html>".to_vec(),
        fixture("h264_aac_faststart.mp4")[..5000].to_vec(),
    ] {
        let (s, job, _) = call(&app, post("/api/ingest", body)).await;
        assert_eq!(s, 202, "{job}");
        let job = finished(&app, job["status_url"].as_str().unwrap()).await;
        assert_eq!(job["state"], "failed", "{job}");
        assert_eq!(job["error"]["code"], "unsupported-media", "{job}");
        assert!(job.get("video").is_none(), "{job}");
        assert_left_nothing(dir.path());
    }
    // Refused before a job exists: a bad token, a digest that does not match, a bad target.
    let mp4 = fixture("h264_aac_faststart.mp4");
    let bad_token =
        post("/api/ingest", mp4.clone()).insert_header(("Authorization", "Bearer upt_nope"));
    let bad_digest = post("/api/ingest", mp4.clone()).insert_header(("X-Upcast-Sha256", sha(b"x")));
    let bad_target = post("/api/ingest?target=0.1", mp4);
    for (req, want, code) in [
        (bad_token, 401, "unauthorized"),
        (bad_digest, 422, "digest-mismatch"),
        (bad_target, 400, "bad-request"),
    ] {
        let (s, j, _) = call(&app, req).await;
        assert_eq!((s, j["code"].as_str()), (want, Some(code)), "{j}");
        assert_left_nothing(dir.path());
    }
    let c = rusqlite::Connection::open(dir.path().join("upcast.db")).unwrap();
    let jobs: i64 = c
        .query_row("SELECT COUNT(*) FROM ingest_jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        jobs, 2,
        "only the two movies that were not movies made jobs"
    );
}

#[actix_web::test]
async fn job_status_needs_the_admin_token_and_a_known_job() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(config(dir.path())).await;
    let (s, job, _) = call(&app, post("/api/ingest", fixture("video_only.mp4"))).await;
    assert_eq!(s, 202);
    let url = job["status_url"].as_str().unwrap();
    let anon = test::TestRequest::get().uri(url);
    assert_eq!(call(&app, anon).await.0, 401);
    let unknown = test::TestRequest::get()
        .uri("/api/ingest/aaaaaaaaaaaaaaaa")
        .insert_header(("Authorization", format!("Bearer {ADMIN}")));
    assert_eq!(call(&app, unknown).await.0, 404);
    assert_eq!(finished(&app, url).await["state"], "done");
}

/// `seconds` of 320x240 video at 25 fps and 2 Mb/s with a key frame every `gop` frames, no audio.
fn make_mp4(out: &Path, seconds: u32, gop: u32) -> Vec<u8> {
    sources::Movie {
        seconds,
        size: "320x240",
        fps: 25,
        gop,
        video_bitrate: "2M",
        audio: false,
    }
    .make(out)
}

#[actix_web::test]
async fn a_single_keyframe_mp4_is_refused_with_segment_too_large() {
    const LIMIT: u64 = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits = Limits {
        max_segment_bytes: LIMIT,
        ..cfg.limits
    };
    let app = app(cfg).await;
    // 12 s with one key frame: the core can only cut at key frames, so it is one 12 s segment of ~3 MB.
    let one_gop = make_mp4(&src.path().join("one_gop.mp4"), 12, 100_000);
    assert!(one_gop.len() as u64 > 2 * LIMIT, "{} bytes", one_gop.len());
    let (s, job, _) = call(&app, post("/api/ingest", one_gop)).await;
    assert_eq!(s, 202, "{job}");
    let job = finished(&app, job["status_url"].as_str().unwrap()).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "segment-too-large", "{job}");
    let msg = job["error"]["msg"].as_str().unwrap();
    for want in [
        "video/seg_00001.m4s",
        &format!("the limit is {LIMIT} bytes"),
        "one key frame every 12.0 s",
        "re-encode with shorter GOPs",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
    assert_eq!(
        job["progress"]["files_written"], 0,
        "refused before writing: {job}"
    );
    assert_left_nothing(dir.path());

    // The same picture with a key frame every second passes under the same limit.
    let short_gops = make_mp4(&src.path().join("gop25.mp4"), 12, 25);
    let (s, job, _) = call(&app, post("/api/ingest?target=2", short_gops)).await;
    assert_eq!(s, 202, "{job}");
    let job = finished(&app, job["status_url"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    check_invariants(dir.path());
}

/// The quotas of an upload: the source itself (its spool counts against the total while it is received and
/// until its job ends: refused before a job exists), a file count (refused from the plan, before a write)
/// and the total bytes (refused mid-way, when the file that crosses it is recorded: what was written is
/// removed).
#[actix_web::test]
async fn the_quotas_apply_to_an_ingest_and_a_refusal_mid_way_leaves_nothing() {
    let mp4 = fixture("h264_aac_faststart.mp4");
    let source = mp4.len() as u64;
    for (limits, written) in [
        (
            Limits {
                max_total_bytes: source / 2,
                ..config(Path::new("/")).limits
            },
            None,
        ),
        (
            Limits {
                max_files_per_video: 5,
                ..config(Path::new("/")).limits
            },
            Some(false),
        ),
        (
            Limits {
                max_total_bytes: source + 30_000,
                ..config(Path::new("/")).limits
            },
            Some(true),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        cfg.limits = limits;
        let app = app(cfg).await;
        let (s, job, _) = call(&app, post("/api/ingest", mp4.clone())).await;
        let Some(written) = written else {
            assert_eq!(s, 413, "{job}");
            assert_eq!(job["code"], "quota-exceeded", "{job}");
            assert_left_nothing(dir.path());
            continue;
        };
        assert_eq!(s, 202, "{job}");
        let job = finished(&app, job["status_url"].as_str().unwrap()).await;
        assert_eq!(job["error"]["code"], "quota-exceeded", "{job}");
        assert_eq!(
            job["progress"]["files_written"].as_i64().unwrap() > 0,
            written,
            "{job}"
        );
        assert_left_nothing(dir.path());
    }
}
