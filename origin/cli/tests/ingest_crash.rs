//! kill -9 a real `upcast serve` at several points of a running ingest job (found by polling the job's
//! progress, never by a clock), restart it on the same data directory, and check that nothing of the job is
//! left: no video listed, nothing served under its id, no object, no spool file, the job `failed` with
//! `interrupted`, and the durability invariants hold. A new ingest on the restarted server then completes.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/sources/mod.rs"]
mod sources;

use std::path::Path;
use std::time::{Duration, Instant};

use harness::*;
use serde_json::Value;

/// The video id a job reserved (not shown by the API until the job is done).
fn reserved_video_id(data: &Path, job: &str) -> String {
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    c.query_row(
        "SELECT video_id FROM ingest_jobs WHERE id = ?1",
        [job],
        |r| r.get(0),
    )
    .unwrap()
}

/// Nothing of the job is visible: not listed, nothing served under its id on any route.
fn assert_invisible(s: &Server, video_id: &str) {
    let (code, list) = get_json(s, "/api/videos");
    assert_eq!(code, 200);
    assert_eq!(list["videos"], Value::Array(vec![]), "{list}");
    for path in [
        format!("/api/videos/{video_id}"),
        format!("/api/videos/{video_id}/files"),
        format!("/v/{video_id}/master.m3u8"),
        format!("/v/{video_id}/video/playlist.m3u8"),
        format!("/v/{video_id}/video/init.mp4"),
        format!("/v/{video_id}/video/seg_00001.m4s"),
        format!("/v/{video_id}/audio/seg_00001.m4s"),
    ] {
        assert_eq!(get_json(s, &path).0, 404, "{path}");
    }
}

/// Poll the job until `until` holds for its status (or it has finished); returns the last status seen.
fn poll(s: &Server, url: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (code, j) = get_json(s, url);
        assert_eq!(code, 200, "{j}");
        if until(&j) || j["state"] == "done" || j["state"] == "failed" {
            return j;
        }
        assert!(Instant::now() < deadline, "job never got there: {j}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn written(j: &Value) -> (i64, i64) {
    (
        j["progress"]["files_written"].as_i64().unwrap_or(0),
        j["progress"]["files_planned"].as_i64().unwrap_or(i64::MAX),
    )
}

#[test]
fn kill_9_during_ingest_leaves_no_video() {
    let src = tempfile::tempdir().unwrap();
    let mp4 = sources::ten_minutes_1s_gops(&src.path().join("long.mp4"));
    // Where to kill: as soon as the job is accepted, after a few files, half-way, and with every file written
    // (the publish checks are running).
    let points: [(&str, f64); 4] = [
        ("accepted", -1.0),
        ("first files", 0.01),
        ("half-way", 0.5),
        ("all files written", 1.0),
    ];
    let mut landed = 0;
    for (name, fraction) in points {
        let data = tempfile::tempdir().unwrap();
        let mut s = Server::start(data.path(), POLLING);
        let job = post_ingest(&s, &mp4);
        let url = job["status_url"].as_str().unwrap().to_string();
        let id = job["id"].as_str().unwrap().to_string();
        let video_id = reserved_video_id(data.path(), &id);
        let seen = if fraction < 0.0 {
            job
        } else {
            poll(&s, &url, |j| {
                let (w, p) = written(j);
                p != i64::MAX && w > 0 && w as f64 >= fraction * p as f64
            })
        };
        if seen["state"] == "running" && fraction > 0.0 && fraction < 1.0 {
            // A running job shows nothing to anyone.
            assert_invisible(&s, &video_id);
        }
        s.kill9();
        let s = Server::start(data.path(), POLLING);
        let (code, after) = get_json(&s, &url);
        assert_eq!(code, 200, "{after}");
        match after["state"].as_str() {
            Some("failed") => {
                landed += 1;
                assert_eq!(after["error"]["code"], "interrupted", "{name}: {after}");
                assert_invisible(&s, &video_id);
                assert!(
                    stored_files(data.path()).is_empty(),
                    "{name}: left {:?}",
                    stored_files(data.path())
                );
                assert!(file_rows(data.path()).is_empty(), "{name}");
            }
            // Only the last point can race the publish transaction; then the video is whole.
            Some("done") if fraction >= 1.0 => {
                let v = &after["video"];
                assert_eq!(v["state"], "ready", "{after}");
                assert_eq!(v["files"], after["progress"]["files_planned"], "{after}");
            }
            _ => panic!("{name}: after the restart the job is {after} (was {seen})"),
        }
        check_invariants(data.path());
        eprintln!(
            "kill -9 at {name}: job was {} with {:?} files written/planned; after restart {}",
            seen["state"],
            written(&seen),
            after["state"]
        );
        if fraction >= 1.0 {
            // The restarted origin still ingests: the same movie, to the end.
            let job = post_ingest(&s, &mp4);
            let done = poll(&s, job["status_url"].as_str().unwrap(), |_| false);
            assert_eq!(done["state"], "done", "{done}");
            let master = done["video"]["playback_url"].as_str().unwrap();
            assert_eq!(get_json(&s, master).0, 200);
            check_invariants(data.path());
        }
    }
    assert!(landed >= 3, "only {landed} kills landed while the job ran");
}
