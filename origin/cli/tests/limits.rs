//! The origin's limits against a real `upcast serve` on loopback, over raw sockets where the wire matters:
//! chunked spool counted against the quota, the per-upload pace, closing instead of draining a body that
//! was refused early, and the per-address limits (connections, API rate, uploads in flight). Loopback is
//! one address, so each test makes its limit small through flags.
#[path = "../../testkit/harness/mod.rs"]
mod harness;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::*;

/// A response read off a raw socket.
#[derive(Debug)]
struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c
}

/// Read one response (head and `Content-Length` body). `None` when the socket ends or fails first.
fn read_response(c: &mut TcpStream) -> Option<Resp> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match c.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head.get(9..12)?.parse().ok()?;
    let mut r = Resp {
        status,
        head,
        body: String::new(),
    };
    let len: usize = r.header("content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).ok()?;
    r.body = String::from_utf8(body).unwrap();
    Some(r)
}

/// Does the server end the connection (EOF or reset) within `within`, without us sending anything more?
fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    c.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1024];
    loop {
        match c.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn chunked_put_head(id: &str, token: &str, path: &str, sha256: &str) -> String {
    format!(
        "PUT /api/videos/{id}/files/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         X-Upcast-Sha256: {sha256}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

fn put_ok(s: &Server, id: &str, ticket: &str, f: &PkgFile) {
    let (st, body) = put_file(s, id, ticket, &f.path, &f.bytes);
    assert!(st == 201 || st == 200, "{}: {st} {body}", f.path);
}

fn spool_bytes(data: &Path) -> u64 {
    std::fs::read_dir(data.join("tmp"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn spool_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Poll `cond` until it holds or `deadline` passes.
fn eventually(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

const ANY_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn chunked_spool_is_counted_against_the_quota() {
    const QUOTA: u64 = 60_000_000;
    const UPLOADS: usize = 20;
    const CHUNK: usize = 256 << 10;
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(
        data.path(),
        &[
            "--max-total-bytes",
            &QUOTA.to_string(),
            "--max-uploads-per-ip",
            "64",
        ],
    );
    let (id, ticket) = create_video(&s, "public");
    let init = pkg_file("video/init.mp4");
    put_ok(&s, &id, &ticket, &init);

    let running = Arc::new(AtomicBool::new(true));
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|i| {
            let (addr, id, ticket) = (s.addr, id.clone(), ticket.clone());
            std::thread::spawn(move || {
                let mut c = connect(addr);
                let path = format!("video/seg_{:05}.m4s", 100 + i);
                c.write_all(chunked_put_head(&id, &ticket, &path, ANY_SHA).as_bytes())
                    .unwrap();
                // Read the answer on its own thread: the server answers while the body is still coming.
                let mut r = c.try_clone().unwrap();
                let answered = Arc::new(AtomicBool::new(false));
                let a = answered.clone();
                let reader = std::thread::spawn(move || {
                    let resp = read_response(&mut r);
                    a.store(true, Ordering::SeqCst);
                    resp
                });
                let block = chunk(&vec![b'x'; CHUNK]);
                let mut sent = 0usize;
                // Toward 64 MiB, the segment size limit, which no upload can reach under a 60 MB quota.
                while sent + CHUNK <= 64 << 20 && !answered.load(Ordering::SeqCst) {
                    if c.write_all(&block).is_err() {
                        break;
                    }
                    sent += CHUNK;
                }
                if !answered.load(Ordering::SeqCst) {
                    let _ = c.write_all(b"0\r\n\r\n");
                }
                (reader.join().unwrap(), sent)
            })
        })
        .collect();

    // Watch the spool directory while the uploads run.
    let watcher = {
        let (tmp, running) = (data.path().to_path_buf(), running.clone());
        std::thread::spawn(move || {
            let mut max = 0u64;
            while running.load(Ordering::SeqCst) {
                max = max.max(spool_bytes(&tmp));
                std::thread::yield_now();
            }
            max
        })
    };
    let results: Vec<_> = uploads.into_iter().map(|t| t.join().unwrap()).collect();
    running.store(false, Ordering::SeqCst);
    let max_spool = watcher.join().unwrap();

    let sent: usize = results.iter().map(|(_, n)| n).sum();
    eprintln!(
        "{UPLOADS} chunked uploads sent {} MB in total; the spool directory peaked at {} bytes (quota {QUOTA})",
        sent / 1_000_000,
        max_spool
    );
    for (resp, _) in &results {
        let resp = resp.as_ref().expect("every upload gets an answer");
        assert_eq!(resp.status, 413, "{resp:?}");
        assert_eq!(resp.json()["code"], "quota-exceeded", "{resp:?}");
        assert!(resp.closes(), "{resp:?}");
    }
    assert!(
        max_spool <= QUOTA + (UPLOADS as u64) * (1 << 20),
        "spool peaked at {max_spool} bytes"
    );
    assert!(
        sent as u64 > QUOTA,
        "the clients offered more than the quota"
    );
    assert!(
        eventually(Duration::from_secs(30), || spool_files(data.path()) == 0),
        "spool files left: {}",
        spool_files(data.path())
    );
    let rows = file_rows(data.path());
    assert_eq!(rows.len(), 1, "only the init segment is stored: {rows:?}");
    check_invariants(data.path());
    // With the refused uploads gone, their reservations are released: a small file fits again.
    put_ok(&s, &id, &ticket, &pkg_file("video/seg_00001.m4s"));
}

#[test]
fn a_trickle_is_cut_by_the_upload_pace_and_a_steady_upload_is_not() {
    let data = tempfile::tempdir().unwrap();
    // Idle timeout 30 s (the default): one byte every 100 ms never trips it. The pace (1 KiB/s averaged
    // over 2 s, after 1 s) does.
    let s = Server::start(
        data.path(),
        &[
            "--body-min-kib-per-sec",
            "1",
            "--body-rate-window-secs",
            "2",
            "--body-rate-grace-secs",
            "1",
        ],
    );
    let (id, ticket) = create_video(&s, "public");
    let init = pkg_file("video/init.mp4");
    put_ok(&s, &id, &ticket, &init);

    let mut c = connect(s.addr);
    let seg = pkg_file("video/seg_00001.m4s");
    c.write_all(chunked_put_head(&id, &ticket, &seg.path, &seg.sha256).as_bytes())
        .unwrap();
    c.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut sent = 0;
    // Send a byte, then wait up to 100 ms for the server's answer; stop at its first byte.
    while got.is_empty() && t0.elapsed() < Duration::from_secs(60) {
        if sent < seg.bytes.len() && c.write_all(&chunk(&seg.bytes[sent..sent + 1])).is_ok() {
            sent += 1;
        }
        let mut b = [0u8; 1];
        if let Ok(1) = c.read(&mut b) {
            got.push(b[0]);
        }
    }
    let waited = t0.elapsed();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = connect_rest(&mut c);
    got.append(&mut rest);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("body-timeout"), "{text}");
    assert!(
        waited < Duration::from_secs(30),
        "cut by the pace, not by the idle timeout: {waited:?}"
    );
    assert!(
        eventually(Duration::from_secs(10), || spool_files(data.path()) == 0),
        "the trickle's spool is deleted"
    );
    assert_eq!(file_rows(data.path()).len(), 1);

    // A steady upload at loopback speed, under the same pace, is stored.
    put_ok(&s, &id, &ticket, &seg);
}

/// The rest of a response already started, up to EOF.
fn connect_rest(c: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    rest
}

#[test]
fn an_early_refusal_closes_instead_of_draining_the_body() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &[]);
    let (id, ticket) = create_video(&s, "public");
    let refusals = [
        // 401: no valid token.
        (
            chunked_put_head(&id, "upt_wrong", "video/seg_00001.m4s", ANY_SHA),
            401,
        ),
        // 404: no such video.
        (
            chunked_put_head("zzzzzzzzzzzz", &ticket, "video/seg_00001.m4s", ANY_SHA),
            404,
        ),
        // 409: a segment before its rendition's init segment.
        (
            chunked_put_head(&id, &ticket, "video/seg_00001.m4s", ANY_SHA),
            409,
        ),
        // 400: a bad path.
        (chunked_put_head(&id, &ticket, "../x.m4s", ANY_SHA), 400),
    ];
    for (head, want) in refusals {
        let mut c = connect(s.addr);
        c.write_all(head.as_bytes()).unwrap();
        c.write_all(&chunk(&[b'x'; 4096])).unwrap();
        let resp = read_response(&mut c).expect("an answer before the body ends");
        assert_eq!(resp.status, want, "{resp:?}");
        assert!(resp.closes(), "Connection: close: {resp:?}");
        // The body never ends; the server must not wait for it.
        assert!(
            closed_within(&mut c, Duration::from_secs(10)),
            "the server kept the connection open to drain the body ({want})"
        );
    }
    // A declared body over the size limit is refused from its Content-Length and closed the same way.
    let mut c = connect(s.addr);
    c.write_all(
        format!(
            "PUT /api/videos/{id}/files/video/init.mp4 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ticket}\r\n\
             X-Upcast-Sha256: {ANY_SHA}\r\nContent-Length: {}\r\n\r\n",
            1u64 << 30
        )
        .as_bytes(),
    )
    .unwrap();
    let resp = read_response(&mut c).unwrap();
    assert_eq!((resp.status, resp.closes()), (413, true), "{resp:?}");
    assert!(closed_within(&mut c, Duration::from_secs(10)));
    // A body that is read to its end keeps the connection: the same bytes again answer 200 and a second
    // request on the same socket is served.
    let init = pkg_file("video/init.mp4");
    put_ok(&s, &id, &ticket, &init);
    let mut c = connect(s.addr);
    for _ in 0..2 {
        c.write_all(chunked_put_head(&id, &ticket, &init.path, &init.sha256).as_bytes())
            .unwrap();
        c.write_all(&chunk(&init.bytes)).unwrap();
        c.write_all(b"0\r\n\r\n").unwrap();
        let resp = read_response(&mut c).unwrap();
        assert_eq!((resp.status, resp.closes()), (200, false), "{resp:?}");
    }
    assert_eq!(spool_files(data.path()), 0);
}

/// A keep-alive request on `c`, answered.
fn get(c: &mut TcpStream, path: &str, token: Option<&str>) -> Resp {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").as_bytes())
        .unwrap();
    read_response(c).expect("a response")
}

#[test]
fn connections_over_the_per_address_limit_get_429_and_are_closed() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &["--max-conns-per-ip", "3"]);
    // Three connections, each known to the server (each has been answered).
    let mut held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut c = connect(s.addr);
            assert_eq!(get(&mut c, "/v/nope/master.m3u8", None).status, 404);
            c
        })
        .collect();
    // The fourth is refused, even with the admin token, and closed.
    let mut c = connect(s.addr);
    let resp = get(&mut c, "/api/videos", Some(ADMIN));
    assert_eq!(resp.status, 429, "{resp:?}");
    let j = resp.json();
    assert_eq!(
        (&j["code"], &j["limit"]),
        (&"rate-limited".into(), &"max-conns-per-ip".into())
    );
    assert!(
        resp.header("retry-after").is_some() && resp.closes(),
        "{resp:?}"
    );
    assert!(closed_within(&mut c, Duration::from_secs(10)));
    // Playback on a fourth connection is refused the same way.
    let mut c = connect(s.addr);
    assert_eq!(get(&mut c, "/v/nope/master.m3u8", None).status, 429);
    // Once one of the three closes, a new connection is served.
    drop(held.pop());
    assert!(eventually(Duration::from_secs(30), || {
        let mut c = connect(s.addr);
        get(&mut c, "/api/videos", Some(ADMIN)).status == 200
    }));
    // The held ones still work.
    assert_eq!(get(&mut held[0], "/api/videos", Some(ADMIN)).status, 200);
}

#[test]
fn api_requests_over_the_per_address_rate_get_429_then_are_served_again() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(
        data.path(),
        &["--api-rate-per-ip", "2", "--api-burst-per-ip", "5"],
    );
    let mut c = connect(s.addr);
    let mut statuses = Vec::new();
    let refused = loop {
        let r = get(&mut c, "/api/videos", Some(ADMIN));
        statuses.push(r.status);
        if r.status != 200 || statuses.len() > 200 {
            break r;
        }
    };
    assert!(statuses.len() > 5, "the burst is served: {statuses:?}");
    assert_eq!(refused.status, 429, "{statuses:?}");
    let j = refused.json();
    assert_eq!(
        (&j["code"], &j["limit"]),
        (&"rate-limited".into(), &"api-rate-per-ip".into())
    );
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{refused:?}");
    // Playback is not rate-limited.
    for _ in 0..20 {
        assert_eq!(get(&mut c, "/v/nope/master.m3u8", None).status, 404);
    }
    // After Retry-After, the API serves this address again. The connection did not need to close.
    std::thread::sleep(Duration::from_secs(retry));
    assert_eq!(get(&mut c, "/api/videos", Some(ADMIN)).status, 200);
}

#[test]
fn uploads_over_the_per_address_limit_get_429() {
    let data = tempfile::tempdir().unwrap();
    let s = Server::start(data.path(), &["--max-uploads-per-ip", "2"]);
    let (id, ticket) = create_video(&s, "public");
    let init = pkg_file("video/init.mp4");
    put_ok(&s, &id, &ticket, &init);
    // Two uploads in flight: each has its spool file, so each is inside the handler.
    let mut open: Vec<TcpStream> = (0..2)
        .map(|i| {
            let mut c = connect(s.addr);
            let path = format!("video/seg_{:05}.m4s", 200 + i);
            c.write_all(chunked_put_head(&id, &ticket, &path, ANY_SHA).as_bytes())
                .unwrap();
            c.write_all(&chunk(&[b'x'; 1000])).unwrap();
            c
        })
        .collect();
    assert!(eventually(Duration::from_secs(30), || spool_files(
        data.path()
    ) == 2));
    let seg = pkg_file("video/seg_00001.m4s");
    let third = || {
        status(
            agent()
                .put(&s.url(&format!("/api/videos/{id}/files/{}", seg.path)))
                .set("Authorization", &format!("Bearer {ticket}"))
                .set("X-Upcast-Sha256", &seg.sha256)
                .send_bytes(&seg.bytes),
        )
    };
    let (st, body) = third();
    assert_eq!(st, 429, "{body}");
    let j: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["limit"], "max-uploads-per-ip", "{body}");
    // Reads are not uploads.
    let (st, _) = status(
        agent()
            .get(&s.url(&format!("/api/videos/{id}/files")))
            .set("Authorization", &format!("Bearer {ticket}"))
            .call(),
    );
    assert_eq!(st, 200);
    // One upload ends (its digest does not match: 422); the third then goes through.
    let mut c = open.pop().unwrap();
    c.write_all(b"0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).unwrap().status, 422);
    assert!(eventually(Duration::from_secs(30), || third().0 == 201));
    drop(open);
}
