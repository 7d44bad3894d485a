//! Issue 13: a real `upcast serve --rtmp-listen 127.0.0.1:0` says where RTMP listens, and until the streams
//! registry is wired in it refuses every publish (ffmpeg fails, the refusal is logged) while HTTP serves.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::*;

const PATIENCE: Duration = Duration::from_secs(90);

/// The next stderr line with `prefix`, waiting at most [`PATIENCE`].
fn line_with(lines: &mpsc::Receiver<String>, prefix: &str) -> String {
    let end = Instant::now() + PATIENCE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.starts_with(prefix) => return l,
            Ok(_) => {}
            Err(e) => panic!("no stderr line starting {prefix:?}: {e}"),
        }
    }
}

#[test]
fn serve_listens_for_rtmp_and_refuses_until_streams_exist() {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Server::command(data.path(), &["--rtmp-listen", "127.0.0.1:0"]);
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let rtmp = line_with(&lines, "upcast: rtmp on rtmp://");
    let rtmp: std::net::SocketAddr = rtmp["upcast: rtmp on rtmp://".len()..].parse().unwrap();
    assert_ne!(rtmp.port(), 0);
    let http = line_with(&lines, "upcast: serving on http://");
    assert!(http.contains("127.0.0.1:"), "{http}");

    let st = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30",
            "-t",
            "1",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-f", "flv"])
        .arg(format!("rtmp://{rtmp}/live/some-key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !st.success(),
        "a publish with no streams registry was accepted"
    );
    let refused = line_with(&lines, "upcast: rtmp: ");
    assert!(
        refused.ends_with("publish refused: unknown-key"),
        "{refused}"
    );
    assert!(
        !refused.contains("some-key"),
        "the stream key is never logged: {refused}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn rtmp_listen_off_and_bad_values() {
    let data = tempfile::tempdir().unwrap();
    // The harness's default (off): HTTP starts and no RTMP line comes before it.
    let mut cmd = Server::command(data.path(), &[]);
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let l = lines.next().expect("serve exited").unwrap();
        assert!(!l.starts_with("upcast: rtmp on"), "{l}");
        if l.starts_with("upcast: serving on http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let out = Command::new(upcast_bin())
        .args(["serve", "--rtmp-listen", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--rtmp-listen") && err.contains("or off"),
        "{err}"
    );
}
