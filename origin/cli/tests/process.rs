//! Tests against a real `upcast serve` process on a loopback port: the CLI uploader end to end, a stalled
//! body, a client reset mid-PUT, and HEAD over the wire.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::*;

pub fn copy_pkg(to: &Path) {
    for f in pkg() {
        let p = to.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.bytes).unwrap();
    }
}

fn upload_cli(s: &Server, dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_upcast"))
        .args(["upload"])
        .arg(dir)
        .args(["--to", &s.url(""), "--token", ADMIN])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn raw_put_head(id: &str, ticket: &str, path: &str, sha256: &str, len: usize) -> String {
    format!(
        "PUT /api/videos/{id}/files/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ticket}\r\n\
         X-Upcast-Sha256: {sha256}\r\nContent-Length: {len}\r\n\r\n"
    )
}

#[test]
fn cli_upload_is_resumable_and_byte_identical() {
    let data = tempfile::tempdir().unwrap();
    let outdir = tempfile::tempdir().unwrap();
    copy_pkg(outdir.path());
    let s = Server::start(data.path(), &[]);
    let (ok, log) = upload_cli(&s, outdir.path());
    assert!(ok, "{log}");
    let n = pkg().len();
    assert!(
        log.contains(&format!("{n} files sent, 0 already there")),
        "{log}"
    );
    let url = log.lines().last().unwrap().trim().to_string();
    assert!(url.ends_with("/master.m3u8"), "{log}");
    // Again: nothing to send.
    let (ok, log) = upload_cli(&s, outdir.path());
    assert!(
        ok && log.contains(&format!("0 files sent, {n} already there")),
        "{log}"
    );
    let base = url.trim_end_matches("master.m3u8");
    for f in pkg() {
        let r = agent().get(&format!("{base}{}", f.path)).call().unwrap();
        let mut body = Vec::new();
        r.into_reader().read_to_end(&mut body).unwrap();
        assert_eq!(body, f.bytes, "{}", f.path);
    }
    // HEAD over the wire: headers and length, no body.
    let r = agent()
        .head(&format!("{base}video/seg_00002.m4s"))
        .call()
        .unwrap();
    assert_eq!(
        r.header("content-length"),
        Some(
            pkg_file("video/seg_00002.m4s")
                .bytes
                .len()
                .to_string()
                .as_str()
        )
    );
    assert_eq!(r.header("content-type"), Some("video/iso.segment"));
    check_invariants(data.path());
}

fn put_ok(s: &Server, id: &str, ticket: &str, f: &PkgFile) {
    let (st, body) = put_file(s, id, ticket, &f.path, &f.bytes);
    assert_eq!(st, 201, "{body}");
}

/// Poll for an event the server causes (a file appearing or going), with a deadline generous enough for a
/// loaded 2-core machine: the test waits for the event, not for a time.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spool_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn stalled_body_is_dropped_after_the_idle_timeout() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &["--body-idle-timeout-secs", "1"]);
    let (id, ticket) = create_video(&s, "public");
    put_ok(&s, &id, &ticket, &pkg_file("video/init.mp4"));
    let baseline = (stored_files(data.path()), file_rows(data.path()));
    let seg = pkg_file("video/seg_00001.m4s");
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.write_all(raw_put_head(&id, &ticket, &seg.path, &seg.sha256, seg.bytes.len()).as_bytes())
        .unwrap();
    c.write_all(&seg.bytes[..1000]).unwrap();
    let t0 = Instant::now();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut resp = String::new();
    let _ = c.read_to_string(&mut resp);
    let waited = t0.elapsed();
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp:?}");
    assert!(resp.contains("body-timeout"), "{resp}");
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert_eq!(
        (stored_files(data.path()), file_rows(data.path())),
        baseline
    );
    // A stalled JSON body on the management API is dropped the same way.
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.write_all(
        format!(
            "POST /api/videos HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN}\r\n\
             Content-Length: 100\r\n\r\n{{\"title\":"
        )
        .as_bytes(),
    )
    .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut resp = String::new();
    let _ = c.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp:?}");
    // The same upload then succeeds.
    let (st, _) = status(
        agent()
            .put(&s.url(&format!("/api/videos/{id}/files/{}", seg.path)))
            .set("Authorization", &format!("Bearer {ticket}"))
            .set("X-Upcast-Sha256", &seg.sha256)
            .send_bytes(&seg.bytes),
    );
    assert_eq!(st, 201);
}

#[test]
fn client_reset_mid_put_leaves_nothing() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let (id, ticket) = create_video(&s, "public");
    put_ok(&s, &id, &ticket, &pkg_file("video/init.mp4"));
    let baseline = (stored_files(data.path()), file_rows(data.path()));
    let seg = pkg_file("video/seg_00001.m4s");
    for _ in 0..5 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(raw_put_head(&id, &ticket, &seg.path, &seg.sha256, seg.bytes.len()).as_bytes())
            .unwrap();
        c.write_all(&seg.bytes[..2000]).unwrap();
        // Wait until the server is holding a spool file for this body: the reset must hit mid-write.
        // (The previous iteration's spool is gone already: see the end of the loop.)
        wait_until("the server to start spooling the body", || {
            spool_files(data.path()) == 1
        });
        // SO_LINGER 0: close sends RST instead of FIN.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: setsockopt on a socket we own, with a correctly sized struct.
        let rc = unsafe {
            libc::setsockopt(
                c.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                libc::socklen_t::try_from(std::mem::size_of::<libc::linger>()).unwrap(),
            )
        };
        assert_eq!(rc, 0);
        drop(c);
        // The server sees the reset and deletes the spool.
        wait_until("the server to delete the spool after the reset", || {
            spool_files(data.path()) == 0
        });
    }
    assert_eq!(
        (stored_files(data.path()), file_rows(data.path())),
        baseline
    );
    let (st, _) = status(
        agent()
            .get(&s.url("/api/videos"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert_eq!(st, 200, "server still answers");
}

/// A package made by `upcast segment` (I-frame playlists, byte ranges, the core's layout) goes through
/// `upcast upload` and is served back byte for byte.
#[test]
fn segment_then_upload_round_trip() {
    let data = tempfile::tempdir().unwrap();
    let outdir = tempfile::tempdir().unwrap();
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/h264_aac_faststart.mp4");
    let out = Command::new(env!("CARGO_BIN_EXE_upcast"))
        .arg("segment")
        .arg(&src)
        .arg(outdir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = Server::start(data.path(), &[]);
    let (ok, log) = upload_cli(&s, outdir.path());
    assert!(ok, "{log}");
    let url = log.lines().last().unwrap().trim().to_string();
    let base = url.trim_end_matches("master.m3u8");
    let mut n = 0;
    let mut stack = vec![outdir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(outdir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.starts_with('.') {
                continue;
            }
            let mut body = Vec::new();
            agent()
                .get(&format!("{base}{rel}"))
                .call()
                .unwrap()
                .into_reader()
                .read_to_end(&mut body)
                .unwrap();
            assert_eq!(body, std::fs::read(&p).unwrap(), "{rel}");
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} files");
    // The served package passes the conformance checker, read over HTTP from the origin.
    let v = Command::new(env!("CARGO_BIN_EXE_upcast"))
        .args(["validate", &url])
        .output()
        .unwrap();
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    check_invariants(data.path());
}

/// Many clients uploading the same package to the same video at once (the browser retrying in parallel
/// tabs): every file ends up stored once, with one row, and the package publishes.
#[test]
fn concurrent_uploads_of_the_same_files() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let (id, ticket) = create_video(&s, "public");
    let files = pkg();
    // Inits first (segments are checked against them), then everything from 8 threads at once.
    for f in files.iter().filter(|f| f.path.ends_with("init.mp4")) {
        put_ok(&s, &id, &ticket, f);
    }
    std::thread::scope(|sc| {
        for t in 0..8 {
            let (s, id, ticket, files) = (&s, &id, &ticket, &files);
            sc.spawn(move || {
                for k in 0..files.len() {
                    let f = &files[(k + t) % files.len()];
                    let (st, body) = status(
                        agent()
                            .put(&s.url(&format!("/api/videos/{id}/files/{}", f.path)))
                            .set("Authorization", &format!("Bearer {ticket}"))
                            .set("X-Upcast-Sha256", &f.sha256)
                            .send_bytes(&f.bytes),
                    );
                    assert!(st == 200 || st == 201, "{}: {st} {body}", f.path);
                }
            });
        }
    });
    let (st, body) = status(
        agent()
            .post(&s.url(&format!("/api/videos/{id}/publish")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    );
    assert_eq!(st, 200, "{body}");
    let rows = file_rows(data.path());
    assert_eq!(rows.len(), files.len());
    let distinct: std::collections::HashSet<_> = files.iter().map(|f| f.sha256.clone()).collect();
    assert_eq!(stored_files(data.path()).len(), distinct.len());
    check_invariants(data.path());
}

/// A resumed upload whose ticket expired gets a new ticket with the admin token and finishes.
#[test]
fn cli_upload_renews_an_expired_ticket() {
    let data = tempfile::tempdir().unwrap();
    let outdir = tempfile::tempdir().unwrap();
    copy_pkg(outdir.path());
    let s = Server::start(data.path(), &["--ticket-ttl-secs", "1"]);
    let (id, ticket) = create_video(&s, "public");
    put_ok(&s, &id, &ticket, &pkg_file("video/init.mp4"));
    let resume = serde_json::json!({"to": s.url(""), "video_id": id, "ticket": ticket});
    std::fs::write(
        outdir.path().join(".upcast-upload.json"),
        resume.to_string(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let (ok, log) = upload_cli(&s, outdir.path());
    assert!(ok, "{log}");
    assert!(log.contains("ticket renewed"), "{log}");
    let n = pkg().len();
    assert!(
        log.contains(&format!("{} files sent, 1 already there", n - 1)),
        "{log}"
    );
    check_invariants(data.path());
}
