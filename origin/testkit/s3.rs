//! A real S3-compatible server for the tests: `s3s-fs` (installed by tests/setup.sh from crates.io) on a
//! free loopback port, serving a temporary directory. Included with `#[path]` by the tests that need it.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use upcast_origin::store_s3::{Retry, S3Location};

pub const ACCESS_KEY: &str = "upcast-test-access";
pub const SECRET_KEY: &str = "upcast-test-secret-key-0123456789";

/// The `s3s-fs` binary: `$S3S_FS`, else cargo's bin directory, else PATH.
pub fn s3s_fs_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("S3S_FS") {
        return p.into();
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    match home.map(|h| h.join("bin/s3s-fs")) {
        Some(p) if p.is_file() => p,
        _ => "s3s-fs".into(),
    }
}

/// One running s3s-fs with one bucket. Killed on drop.
pub struct S3Server {
    child: Option<Child>,
    pub port: u16,
    pub root: tempfile::TempDir,
    pub bucket: String,
}

impl S3Server {
    /// Starts s3s-fs on a free loopback port with an empty `bucket`, and returns once it listens.
    pub fn start(bucket: &str) -> S3Server {
        let root = tempfile::tempdir().unwrap();
        // s3s-fs maps a bucket to a directory of its root.
        std::fs::create_dir(root.path().join(bucket)).unwrap();
        let mut s = S3Server {
            child: None,
            port: 0,
            root,
            bucket: bucket.into(),
        };
        s.spawn();
        s
    }

    /// The server's own log (stdout + stderr) is drained by a thread, which reports the line saying it
    /// listens; a port taken between our probe and its bind is tried again with another.
    fn spawn(&mut self) {
        for _ in 0..5 {
            let port = if self.port != 0 {
                self.port
            } else {
                free_port()
            };
            let mut child = Command::new(s3s_fs_bin())
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(self.root.path())
                .env("RUST_LOG", "s3s_fs=info")
                .env("NO_COLOR", "1")
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("start {:?} (tests/setup.sh installs it): {e}", s3s_fs_bin())
                });
            let (tx, rx) = mpsc::channel();
            let out = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if line.contains("server is running at") {
                        let _ = tx.send(());
                    }
                }
            });
            // Ready, or the process ended (sender dropped with no line): a lost port race.
            if rx.recv().is_ok() {
                self.child = Some(child);
                self.port = port;
                return;
            }
            let _ = child.wait();
            if self.port != 0 {
                panic!("s3s-fs could not listen again on {}", self.port);
            }
        }
        panic!("s3s-fs did not start");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `s3://BUCKET?endpoint=…` as `upcast serve --store` takes it.
    pub fn store_spec(&self) -> String {
        format!(
            "s3://{}?endpoint={}&region=us-east-1",
            self.bucket,
            self.endpoint()
        )
    }

    pub fn location(&self) -> S3Location {
        S3Location::parse(&self.store_spec(), ACCESS_KEY, SECRET_KEY).unwrap()
    }

    /// A retry policy for tests: few, short waits.
    pub fn quick_retry() -> Retry {
        Retry {
            attempts: 3,
            base: std::time::Duration::from_millis(10),
            max: std::time::Duration::from_millis(50),
        }
    }

    /// The environment `upcast serve --store` reads its credentials from.
    pub fn env(&self) -> [(&'static str, &'static str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ]
    }

    /// Where s3s-fs keeps the bytes of `key`.
    pub fn object_file(&self, key: &str) -> PathBuf {
        self.root.path().join(&self.bucket).join(key)
    }

    /// Kills the server (a crash: no goodbye to clients).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
