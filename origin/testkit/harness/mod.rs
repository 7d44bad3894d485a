//! Shared helpers for the origin tests (origin/server's and origin/cli's; each includes this module with
//! `#[path]`): the fixture package, an in-process origin, a real `upcast serve` process, and checks that a
//! refusal left no file and no row.
#![allow(dead_code)] // Each test binary uses a different subset.

pub mod receiver;
pub mod service;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
use upcast_origin::{self as server, Config, Limits};

pub const ADMIN: &str = "upa_test_admin_token";

/// Flags for a server that a test polls in a tight loop (a job's status): the per-address API rate limit
/// (100 requests/s by default, `tests/limits.rs` tests it) would answer the poll with 429.
pub const POLLING: &[&str] = &["--api-rate-per-ip", "0"];

pub struct PkgFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

pub fn pkg_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/fixtures/pkg")
}

pub fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Every file of the fixture package, playlists first.
pub fn pkg() -> Vec<PkgFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PkgFile>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                let path = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push(PkgFile {
                    path,
                    sha256: sha(&bytes),
                    bytes,
                });
            }
        }
    }
    let mut out = Vec::new();
    let root = pkg_dir();
    walk(&root, &root, &mut out);
    out.sort_by_key(|f| (!f.path.ends_with(".m3u8"), f.path.clone()));
    out
}

pub fn pkg_file(path: &str) -> PkgFile {
    pkg().into_iter().find(|f| f.path == path).unwrap()
}

/// A valid CMAF segment of about `size` bytes: the fixture's first video segment with its last mdat padded
/// (the samples stay where the trun says, inside the mdat payload, so the origin's CMAF reader accepts it).
pub fn big_segment(size: usize) -> Vec<u8> {
    let mut seg = pkg_file("video/seg_00001.m4s").bytes;
    let mut at = 0;
    let mut last = 0;
    while at < seg.len() {
        last = at;
        at += u32::from_be_bytes(seg[at..at + 4].try_into().unwrap()) as usize;
    }
    assert_eq!((at, &seg[last + 4..last + 8]), (seg.len(), &b"mdat"[..]));
    let pad = size.saturating_sub(seg.len());
    let len = u32::from_be_bytes(seg[last..last + 4].try_into().unwrap()) as usize;
    let new_len = u32::try_from(len + pad).unwrap();
    seg[last..last + 4].copy_from_slice(&new_len.to_be_bytes());
    seg.resize(seg.len() + pad, 0x5a);
    seg
}

pub fn config(data: &Path) -> Config {
    let mut c = Config::new("127.0.0.1:0".parse().unwrap(), data.to_path_buf());
    c.admin_token = Some(ADMIN.into());
    c.limits = Limits {
        body_idle_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    c
}

pub fn state(cfg: Config) -> actix_web::web::Data<server::AppState> {
    server::prepare(cfg).unwrap().0
}

/// Files in the store's objects and spool directories (what a refusal must not add to).
pub fn stored_files(data: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["objects", "tmp"] {
        let mut stack = vec![data.join(sub)];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p)
                } else {
                    out.push(p)
                }
            }
        }
    }
    out.sort();
    out
}

/// Rows in the files table, read through a separate connection.
pub fn file_rows(data: &Path) -> Vec<(String, String, String, i64)> {
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut st = c
        .prepare("SELECT video_id, path, sha256, size FROM files ORDER BY 1, 2")
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows
}

/// The durability invariant: the database is intact and every row has its object with the right size and
/// SHA-256.
pub fn check_invariants(data: &Path) {
    let c = rusqlite::Connection::open(data.join("upcast.db")).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    for (vid, path, sha256, size) in file_rows(data) {
        let obj = data.join("objects").join(&vid).join(&sha256);
        let bytes =
            std::fs::read(&obj).unwrap_or_else(|e| panic!("row {vid}/{path}: object {obj:?}: {e}"));
        assert_eq!(i64::try_from(bytes.len()).unwrap(), size, "{vid}/{path}");
        assert_eq!(sha(&bytes), sha256, "{vid}/{path}");
    }
}

/// The `upcast` binary. Cargo tells only the tests of its own package (origin/cli) where it is: the
/// in-process tests of origin/server include this module too but never start a process.
pub fn upcast_bin() -> &'static str {
    match option_env!("CARGO_BIN_EXE_upcast") {
        Some(bin) => bin,
        None => panic!(
            "a real `upcast serve` runs only from the tests of the upcast package (origin/cli)"
        ),
    }
}

/// A real `upcast serve` process on an ephemeral loopback port.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// The RTMP listener's address, when the server was started with one (`--rtmp-listen 127.0.0.1:0`).
    pub rtmp: Option<SocketAddr>,
    pub data: PathBuf,
}

impl Server {
    pub fn start(data: &Path, extra: &[&str]) -> Server {
        Self::spawn(Self::command(data, extra), data)
    }

    /// The `upcast serve` command `start` runs, for a test that needs to change it (resource limits).
    pub fn command(data: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(upcast_bin());
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--www", "/nonexistent", "--workers", "2"])
            // Tests run side by side: no RTMP on the fixed default port unless a test asks (the last
            // --rtmp-listen counts).
            .args(["--rtmp-listen", "off"])
            .args(extra)
            .env("UPCAST_ADMIN_TOKEN", ADMIN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    /// Run `cmd` (from [`Server::command`]) and wait until it listens.
    pub fn spawn(mut cmd: Command, data: &Path) -> Server {
        let mut child = cmd.spawn().expect("spawn upcast serve");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut rtmp = None;
        let addr = loop {
            let line = lines
                .next()
                .expect("upcast serve exited before listening")
                .unwrap();
            // The RTMP listener binds before the HTTP server.
            if let Some(a) = line.strip_prefix("upcast: rtmp on rtmp://") {
                rtmp = Some(a.trim().parse().unwrap());
            }
            if let Some(a) = line.strip_prefix("upcast: serving on http://") {
                break a.trim().parse().unwrap();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            addr,
            rtmp,
            data: data.to_path_buf(),
        }
    }

    pub fn url(&self, p: &str) -> String {
        format!("http://{}{p}", self.addr)
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill(); // SIGKILL on Unix.
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// Status and body of a request, whatever the status.
pub fn status(r: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// Create a video through a running server; returns (id, ticket).
pub fn create_video(s: &Server, visibility: &str) -> (String, String) {
    let r = agent()
        .post(&s.url("/api/videos"))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .send_string(&format!(r#"{{"title":"t","visibility":"{visibility}"}}"#))
        .unwrap();
    let v: upcast_origin::api_types::CreatedVideo =
        serde_json::from_str(&r.into_string().unwrap()).unwrap();
    (v.video.id, v.upload.ticket)
}

/// `GET path` with the admin token: the status and the JSON body (null when it is not JSON).
pub fn get_json(s: &Server, path: &str) -> (u16, serde_json::Value) {
    let (code, body) = status(
        agent()
            .get(&s.url(path))
            .set("Authorization", &format!("Bearer {ADMIN}"))
            .call(),
    );
    (
        code,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// `POST /api/ingest` of `mp4` (1 s segments) with the admin token; the job it answers `202` with.
pub fn post_ingest(s: &Server, mp4: &[u8]) -> serde_json::Value {
    let r = agent()
        .post(&s.url("/api/ingest?target=1"))
        .set("Authorization", &format!("Bearer {ADMIN}"))
        .set("X-Upcast-Sha256", &sha(mp4))
        .send_bytes(mp4)
        .unwrap();
    assert_eq!(r.status(), 202);
    serde_json::from_str(&r.into_string().unwrap()).unwrap()
}

/// `PUT` one file of a video's package with its SHA-256; the status and body, whatever the status.
pub fn put_file(s: &Server, id: &str, ticket: &str, path: &str, bytes: &[u8]) -> (u16, String) {
    status(
        agent()
            .put(&s.url(&format!("/api/videos/{id}/files/{path}")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .set("X-Upcast-Sha256", &sha(bytes))
            .send_bytes(bytes),
    )
}

/// Upload every file of the fixture package to a video (stored now, or already).
pub fn upload_pkg(s: &Server, id: &str, ticket: &str) {
    for f in pkg() {
        let (code, body) = put_file(s, id, ticket, &f.path, &f.bytes);
        assert!(code == 200 || code == 201, "{}: {code} {body}", f.path);
    }
}
