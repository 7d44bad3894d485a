//! A CDN in front of the origins: Debian's nginx with `proxy_cache` (installed by tests/setup.sh) before a
//! `--read-only` origin serving from a real S3-compatible bucket (s3s-fs). Public playlists and segments are
//! cached as their Cache-Control says (hits and misses counted from nginx's own access log,
//! `$upstream_cache_status`); a private video's answers are never cached, and never served without a valid
//! signature, whatever was fetched before.
#[path = "../../testkit/harness/mod.rs"]
mod harness;
#[path = "../../testkit/s3.rs"]
mod s3;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use harness::*;
use s3::S3Server;

fn nginx_bin() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("nginx (tests/setup.sh installs Debian's nginx-light)")
}

/// nginx on a free loopback port, caching `upstream`, logging `cache-status status uri` per request.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(upstream: std::net::SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let conf = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format cdn '$upstream_cache_status $status $request_uri';
    access_log {d}/access.log cdn;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    proxy_cache_path {d}/cache levels=1 keys_zone=cdn:1m max_size=64m;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_cache cdn;
            proxy_cache_key $request_uri;
        }}
    }}
}}
"
        );
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_bin())
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut n = Nginx { child, port, dir };
        n.wait_listening();
        n
    }

    /// Until a connection is accepted, or nginx exited (a config error: its log says why).
    fn wait_listening(&mut self) {
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx exited ({st}): {log}");
            }
            std::thread::yield_now();
        }
    }

    fn url(&self, p: &str) -> String {
        format!("http://127.0.0.1:{}{p}", self.port)
    }

    /// The cache status nginx logged for each request, in order, as (status-of-cache, http status, uri).
    fn log(&self) -> Vec<(String, u16, String)> {
        read_log(&self.dir.path().join("access.log"))
    }
}

fn read_log(p: &Path) -> Vec<(String, u16, String)> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let mut f = l.splitn(3, ' ');
            (
                f.next().unwrap_or("").to_string(),
                f.next().unwrap_or("0").parse().unwrap_or(0),
                f.next().unwrap_or("").to_string(),
            )
        })
        .collect()
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    match agent.get(url).call() {
        Ok(r) => {
            let st = r.status();
            let mut out = Vec::new();
            std::io::copy(&mut r.into_reader(), &mut out).unwrap();
            (st, out)
        }
        Err(ureq::Error::Status(c, _)) => (c, Vec::new()),
        Err(e) => panic!("{url}: {e}"),
    }
}

/// (hits, misses and other statuses) of the log lines for `uri`.
fn counts(log: &[(String, u16, String)], uri: &str) -> (usize, usize) {
    let mine: Vec<_> = log.iter().filter(|l| l.2 == uri).collect();
    let hits = mine.iter().filter(|l| l.0 == "HIT").count();
    (hits, mine.len() - hits)
}

/// The log has one line per finished request: wait until it has `n`.
fn log_with(n: &Nginx, lines: usize) -> Vec<(String, u16, String)> {
    loop {
        let l = n.log();
        if l.len() >= lines {
            return l;
        }
        std::thread::yield_now();
    }
}

#[test]
fn nginx_caches_public_answers_and_never_serves_private_ones_unsigned() {
    let bucket = S3Server::start("media");
    let (wdata, rdata) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let spec = bucket.store_spec();
    let mut cmd = Server::command(wdata.path(), &["--store", &spec]);
    cmd.envs(bucket.env());
    let writer = Server::spawn(cmd, wdata.path());
    let keys = wdata.path().join("signing-keys.json");
    let mut cmd = Server::command(rdata.path(), &["--store", &spec, "--read-only"]);
    cmd.arg("--signing-keys-file").arg(&keys).envs(bucket.env());
    let edge = Server::spawn(cmd, rdata.path());
    let cdn = Nginx::start(edge.addr);

    let (id, ticket) = create_video(&writer, "public");
    upload_pkg(&writer, &id, &ticket);
    let (pid, pticket) = create_video(&writer, "private");
    upload_pkg(&writer, &pid, &pticket);
    for (v, t) in [(&id, &ticket), (&pid, &pticket)] {
        let r = agent()
            .post(&writer.url(&format!("/api/videos/{v}/publish")))
            .set("Authorization", &format!("Bearer {t}"))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // Public: the first request of each misses, the next ones hit, with the same bytes.
    let master = format!("/v/{id}/master.m3u8");
    let seg = format!("/v/{id}/video/seg_00001.m4s");
    let first = [get(&cdn.url(&master)), get(&cdn.url(&seg))];
    for _ in 0..3 {
        assert_eq!(get(&cdn.url(&master)), first[0]);
        assert_eq!(get(&cdn.url(&seg)), first[1]);
    }
    assert_eq!(first[0].0, 200);
    assert!(matches!(first[1].0, 200 | 307), "{}", first[1].0);
    let log = log_with(&cdn, 8);
    assert_eq!(counts(&log, &master), (3, 1), "{log:?}");
    assert_eq!(counts(&log, &seg), (3, 1), "{log:?}");

    // Private: on /v/ not found (and not cached as found); on a signed link served, never from the cache;
    // a link with a wrong signature is refused even right after a valid one was served.
    let (_, link) = get_json(&writer, &format!("/api/videos/{pid}/playback"));
    let signed = link["url"]
        .as_str()
        .unwrap()
        .replace("master.m3u8", "video/seg_00001.m4s");
    let forged = {
        let parts: Vec<&str> = signed.splitn(4, '/').collect(); // "", "s", exp, "sig/v/…"
        let (sig, rest) = parts[3].split_once('/').unwrap();
        // The signature is hex, and hex decoding takes either case: the last digit must change value, not
        // case (the old flip to "A" left a signature ending in 'a' valid: one run in 16 failed).
        let mut bad = sig.to_string();
        let flip = if bad.ends_with('0') { "1" } else { "0" };
        bad.replace_range(bad.len() - 1.., flip);
        assert_ne!(
            hex::decode(&bad).unwrap(),
            hex::decode(sig).unwrap(),
            "a forgery"
        );
        format!("/s/{}/{bad}/{rest}", parts[2])
    };
    let unsigned = format!("/v/{pid}/video/seg_00001.m4s");
    for _ in 0..3 {
        assert_eq!(get(&cdn.url(&unsigned)).0, 404);
        let (code, _) = get(&cdn.url(&signed));
        assert!(matches!(code, 200 | 307), "{code}");
        assert_eq!(get(&cdn.url(&forged)).0, 403);
    }
    let log = log_with(&cdn, 17);
    for uri in [&unsigned, &signed, &forged] {
        assert_eq!(
            counts(&log, uri).0,
            0,
            "{uri} was served from the cache: {log:?}"
        );
    }
}
