//! Tests against a real `upcast serve` process on a loopback port: the CLI uploader end to end, a stalled
//! body, a client reset mid-PUT, and HEAD over the wire.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

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
        .head(&format!("{base}video/seg_00001.m4s"))
        .call()
        .unwrap();
    assert_eq!(
        r.header("content-length"),
        Some(
            pkg_file("video/seg_00001.m4s")
                .bytes
                .len()
                .to_string()
                .as_str()
        )
    );
    assert_eq!(r.header("content-type"), Some("video/iso.segment"));
    check_invariants(data.path());
}

#[test]
fn stalled_body_is_dropped_after_the_idle_timeout() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &["--body-idle-timeout-secs", "1"]);
    let (id, ticket) = create_video(&s, "public");
    let seg = pkg_file("video/seg_00000.m4s");
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
    assert!(
        stored_files(data.path()).is_empty(),
        "{:?}",
        stored_files(data.path())
    );
    assert!(file_rows(data.path()).is_empty());
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
    let seg = pkg_file("video/seg_00000.m4s");
    for _ in 0..5 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(raw_put_head(&id, &ticket, &seg.path, &seg.sha256, seg.bytes.len()).as_bytes())
            .unwrap();
        c.write_all(&seg.bytes[..2000]).unwrap();
        std::thread::sleep(Duration::from_millis(150));
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
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0);
        drop(c);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !stored_files(data.path()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        stored_files(data.path()).is_empty(),
        "{:?}",
        stored_files(data.path())
    );
    assert!(file_rows(data.path()).is_empty());
    let (st, _) = status(
        agent()
            .get(&s.url("/api/videos"))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    assert_eq!(st, 200, "server still answers");
}
