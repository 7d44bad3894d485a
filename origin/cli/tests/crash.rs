//! Kill -9 the server at random moments while `upcast upload` runs (uploads and publishes), restart it
//! each time, and check: the database passes `PRAGMA integrity_check`, every row has its object with the
//! right size and SHA-256, no response ever carried bytes other than the package's, and the uploader
//! resumes to published videos byte-identical to the package.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use harness::*;

const ITERATIONS: usize = 60;
const TIME_BUDGET: Duration = Duration::from_secs(60);
const PACKAGES: usize = 4;
/// Kill within this many ms of starting an upload (a whole upload of the fixture takes ~100-200 ms).
const KILL_WINDOW_MS: u64 = 300;

fn copy_pkg(to: &Path) {
    for f in pkg() {
        let p = to.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.bytes).unwrap();
    }
}

fn video_id(pkg_dir: &Path) -> Option<String> {
    let b = std::fs::read(pkg_dir.join(".upcast-upload.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&b).ok()?;
    Some(v["video_id"].as_str()?.to_string())
}

/// Fetch every file of every known video, over and over, and record any body that is not the package's.
fn reader(
    base: Arc<Mutex<String>>,
    dirs: Vec<PathBuf>,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    wrong: Arc<Mutex<Vec<String>>>,
) {
    let files: HashMap<String, Vec<u8>> = pkg().into_iter().map(|f| (f.path, f.bytes)).collect();
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    while !stop.load(Ordering::Relaxed) {
        let b = base.lock().unwrap().clone();
        for d in &dirs {
            let Some(id) = video_id(d) else { continue };
            for (path, want) in &files {
                if path.ends_with(".m3u8") {
                    continue; // Playlists are rewritten (EVENT view) before publish.
                }
                if let Ok(r) = agent.get(&format!("{b}/v/{id}/{path}")).call() {
                    let mut body = Vec::new();
                    if r.into_reader().read_to_end(&mut body).is_ok() {
                        served.fetch_add(1, Ordering::Relaxed);
                        if &body != want {
                            wrong
                                .lock()
                                .unwrap()
                                .push(format!("{id}/{path}: {} bytes", body.len()));
                        }
                    }
                }
            }
        }
    }
}

fn random_below(n: u64) -> u64 {
    getrandom::u64().unwrap() % n
}

#[test]
fn kill_9_during_uploads_and_publishes() {
    let data = tempfile::tempdir().unwrap();
    let pkgs = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..PACKAGES)
        .map(|i| pkgs.path().join(format!("p{i}")))
        .collect();
    for d in &dirs {
        copy_pkg(d);
    }
    let base = Arc::new(Mutex::new(String::from("http://127.0.0.1:9")));
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::new()));
    let r = {
        let (b, d, s, sv, w) = (
            base.clone(),
            dirs.clone(),
            stop.clone(),
            served.clone(),
            wrong.clone(),
        );
        std::thread::spawn(move || reader(b, d, s, sv, w))
    };

    let started = Instant::now();
    let killed_during_upload = AtomicU64::new(0);
    let mut iterations = 0;
    let mut completed = 0;
    while iterations < ITERATIONS && started.elapsed() < TIME_BUDGET {
        iterations += 1;
        let mut s = Server::start(data.path(), &[]);
        *base.lock().unwrap() = s.url("");
        let dir = &dirs[iterations % PACKAGES];
        let mut up = Command::new(env!("CARGO_BIN_EXE_upcast"))
            .arg("upload")
            .arg(dir)
            .args(["--to", &s.url(""), "--token", ADMIN, "--retries", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(random_below(KILL_WINDOW_MS)));
        s.kill9();
        let mut err = String::new();
        let _ = up.stderr.take().unwrap().read_to_string(&mut err);
        if !up.wait().unwrap().success() {
            // The uploader lost its server: mid-run (a kill during an upload or publish), or before it
            // connected at all. Any other failure is a bug.
            // A kill mid-exchange surfaces as an I/O error or, when it cuts a response short, as a
            // status line or header that never completed.
            if ["Network Error", "Bad Status", "Bad Header"]
                .iter()
                .any(|m| err.contains(m))
            {
                killed_during_upload.fetch_add(1, Ordering::Relaxed);
            } else {
                assert!(
                    err.contains("Connection Failed"),
                    "uploader failed for another reason: {err}"
                );
            }
        } else {
            // Published: start a new video from this package next time it comes round.
            completed += 1;
            std::fs::remove_file(dir.join(".upcast-upload.json")).unwrap();
        }
        check_invariants(data.path());
    }

    // Restart once more and let every upload finish.
    let s = Server::start(data.path(), &[]);
    *base.lock().unwrap() = s.url("");
    for d in &dirs {
        let out = Command::new(env!("CARGO_BIN_EXE_upcast"))
            .arg("upload")
            .arg(d)
            .args(["--to", &s.url(""), "--token", ADMIN])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let id = video_id(d).unwrap();
        for f in pkg() {
            let mut body = Vec::new();
            agent()
                .get(&s.url(&format!("/v/{id}/{}", f.path)))
                .call()
                .unwrap()
                .into_reader()
                .read_to_end(&mut body)
                .unwrap();
            assert_eq!(body, f.bytes, "{id}/{}", f.path);
        }
        let v = agent()
            .get(&s.url(&format!("/api/videos/{id}")))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call()
            .unwrap()
            .into_string()
            .unwrap();
        assert!(v.contains("\"state\":\"ready\""), "{v}");
    }
    stop.store(true, Ordering::Relaxed);
    r.join().unwrap();
    drop(s);
    check_invariants(data.path());
    let wrong = wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "served bytes that are not the package's: {wrong:?}"
    );
    eprintln!(
        "kill -9 loop: {iterations} iterations in {:?}, {} killed mid-upload, {completed} uploads completed \
         before the kill, {} bodies served and checked",
        started.elapsed(),
        killed_during_upload.load(Ordering::Relaxed),
        served.load(Ordering::Relaxed)
    );
    assert!(
        killed_during_upload.load(Ordering::Relaxed) > 0,
        "no kill landed during an upload"
    );
}
