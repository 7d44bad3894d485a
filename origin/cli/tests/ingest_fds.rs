//! Ingest with few file descriptors: a real `upcast serve` under `RLIMIT_NOFILE` 64 ingests a ten-minute
//! movie of ~1,200 package files (each file is committed as soon as it is written, so the job holds about
//! two descriptors whatever the length), and when the process does run out of descriptors the job fails with
//! `busy` and no OS error text.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/sources/mod.rs"]
mod sources;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use harness::*;
use serde_json::Value;

const NOFILE: u64 = 64;

fn start_with_nofile(data: &Path) -> Server {
    let mut cmd = Server::command(data, POLLING);
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: NOFILE as libc::rlim_t,
                rlim_max: NOFILE as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Server::spawn(cmd, data)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The job's state and files written, read from the database (works while the server cannot accept).
fn job_row(data: &Path, job: &str) -> (String, i64) {
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c.query_row(
        "SELECT state, files_written FROM ingest_jobs WHERE id = ?1",
        [job],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

#[test]
fn a_ten_minute_ingest_runs_within_64_file_descriptors() {
    let src = tempfile::tempdir().unwrap();
    let mp4 = sources::ten_minutes_1s_gops(&src.path().join("long.mp4"));
    let data = tempfile::tempdir().unwrap();
    let s = start_with_nofile(data.path());
    let started = Instant::now();
    let job = post_ingest(&s, &mp4);
    let url = job["status_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut most_fds = 0;
    let done = loop {
        most_fds = most_fds.max(open_fds(s.child.id()));
        let (code, j) = get_json(&s, &url);
        assert_eq!(code, 200, "{j}");
        if j["state"] == "done" || j["state"] == "failed" {
            break j;
        }
        assert!(Instant::now() < deadline, "{j}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(done["state"], "done", "{done}");
    let planned = done["progress"]["files_planned"].as_i64().unwrap();
    assert!(planned >= 1_000, "{done}");
    assert_eq!(done["video"]["files"].as_i64(), Some(planned));
    let id = done["video"]["id"].as_str().unwrap();
    for p in ["master.m3u8", "video/seg_00600.m4s", "audio/seg_00600.m4s"] {
        assert_eq!(get_json(&s, &format!("/v/{id}/{p}")).0, 200, "{p}");
    }
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.child.id())).unwrap();
    let peak_rss = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or_default()
        .to_string();
    eprintln!(
        "ingest of {} bytes into {planned} files under RLIMIT_NOFILE {NOFILE}: {:?}, at most {most_fds} fds \
         open in the server (sampled), server {peak_rss}",
        mp4.len(),
        started.elapsed()
    );
    check_invariants(data.path());
}

#[test]
fn running_out_of_descriptors_fails_the_job_with_busy_and_no_os_text() {
    let src = tempfile::tempdir().unwrap();
    let mp4 = sources::ten_minutes_1s_gops(&src.path().join("long.mp4"));
    let data = tempfile::tempdir().unwrap();
    let s = start_with_nofile(data.path());
    let job = post_ingest(&s, &mp4);
    let id = job["id"].as_str().unwrap().to_string();
    // Once the job is writing, take every descriptor the server has left with idle connections.
    let deadline = Instant::now() + Duration::from_secs(300);
    while job_row(data.path(), &id).1 < 5 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    let hogs: Vec<TcpStream> = (0..NOFILE)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    let state = loop {
        let (state, _) = job_row(data.path(), &id);
        if state == "failed" || state == "done" {
            break state;
        }
        assert!(Instant::now() < deadline, "job still {state}");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(hogs);
    assert_eq!(state, "failed");
    let (code, j) = get_json(&s, &format!("/api/ingest/{id}"));
    assert_eq!(code, 200, "{j}");
    assert_eq!(j["error"]["code"], "busy", "{j}");
    let text = j.to_string().to_lowercase();
    for os in ["os error", "too many open files", "errno"] {
        assert!(!text.contains(os), "{os:?} in {j}");
    }
    // Nothing of it is left, and the origin is fine once descriptors are back.
    assert!(
        stored_files(data.path()).is_empty(),
        "{:?}",
        stored_files(data.path())
    );
    assert!(file_rows(data.path()).is_empty());
    let (code, list) = get_json(&s, "/api/videos");
    assert_eq!((code, list["videos"].clone()), (200, Value::Array(vec![])));
    check_invariants(data.path());
}
