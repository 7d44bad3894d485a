//! For the RTMP tests: a listener on its own actix runtime with a gate and a sink that record what they
//! were given, an ffmpeg publisher, and (from origin/testkit) a raw RTMP client for what ffmpeg never sends.
#![allow(dead_code)] // Each test binary uses a different subset.

#[path = "../../../testkit/rtmp_client.rs"]
mod rtmp_client;
#[allow(unused_imports)] // Each test binary uses a different subset.
pub use rtmp_client::{handshaken, RawPublisher};

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use upcast_origin::rtmp::{
    self, CloseReason, Grant, Limits, Metadata, PublishGate, PublishRequest, Refusal, Sink,
    SinkError, SinkFactory,
};

/// Everything waits for an event at most this long (the machine is shared and loaded).
pub const PATIENCE: Duration = Duration::from_secs(90);

#[derive(Clone, Debug)]
pub enum Rec {
    Video(u32, Bytes),
    Audio(u32, Bytes),
    Meta(Metadata),
    Closed(CloseReason),
}

/// The test gate (keys `good`, `busy` → already-live, `revoked`; anything else is unknown) and the sink
/// factory, recording every question and every message.
#[derive(Default)]
pub struct Shared {
    pub events: Mutex<Vec<Rec>>,
    changed: Condvar,
    pub asked: Mutex<Vec<PublishRequest>>,
    pub opens: AtomicUsize,
}

impl Shared {
    fn push(&self, r: Rec) {
        self.events.lock().unwrap().push(r);
        self.changed.notify_all();
    }

    /// Wait until `done` holds for the recorded events; panics after [`PATIENCE`].
    pub fn wait_for(&self, what: &str, done: impl Fn(&[Rec]) -> bool) -> Vec<Rec> {
        let end = Instant::now() + PATIENCE;
        let mut ev = self.events.lock().unwrap();
        while !done(&ev) {
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waited {PATIENCE:?} for {what}; got {:?}",
                summary(&ev)
            );
            ev = self.changed.wait_timeout(ev, left).unwrap().0;
        }
        ev.clone()
    }

    pub fn snapshot(&self) -> Vec<Rec> {
        self.events.lock().unwrap().clone()
    }
}

/// Event kinds and counts, for failure messages.
pub fn summary(ev: &[Rec]) -> String {
    let count = |f: fn(&Rec) -> bool| ev.iter().filter(|r| f(r)).count();
    let closed: Vec<_> = ev
        .iter()
        .filter_map(|r| match r {
            Rec::Closed(c) => Some(c.to_string()),
            _ => None,
        })
        .collect();
    format!(
        "{} video, {} audio, {} metadata, closed {closed:?}",
        count(|r| matches!(r, Rec::Video(..))),
        count(|r| matches!(r, Rec::Audio(..))),
        count(|r| matches!(r, Rec::Meta(..))),
    )
}

pub fn closes(ev: &[Rec]) -> Vec<CloseReason> {
    ev.iter()
        .filter_map(|r| match r {
            Rec::Closed(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

pub fn videos(ev: &[Rec]) -> Vec<(u32, Bytes)> {
    ev.iter()
        .filter_map(|r| match r {
            Rec::Video(t, b) => Some((*t, b.clone())),
            _ => None,
        })
        .collect()
}

pub fn audios(ev: &[Rec]) -> Vec<(u32, Bytes)> {
    ev.iter()
        .filter_map(|r| match r {
            Rec::Audio(t, b) => Some((*t, b.clone())),
            _ => None,
        })
        .collect()
}

pub struct Gate(pub Arc<Shared>);

impl PublishGate for Gate {
    fn authorize<'a>(&'a self, req: &'a PublishRequest) -> BoxFuture<'a, Result<Grant, Refusal>> {
        self.0.asked.lock().unwrap().push(req.clone());
        let answer = match req.key.as_str() {
            "good" => Ok(Grant {
                stream_id: "s1".into(),
            }),
            "busy" => Err(Refusal::AlreadyLive),
            "revoked" => Err(Refusal::Revoked),
            _ => Err(Refusal::UnknownKey),
        };
        Box::pin(async move { answer })
    }
}

impl SinkFactory for Gate {
    fn open(&self, _grant: &Grant, _req: &PublishRequest) -> Result<Box<dyn Sink>, Refusal> {
        self.0.opens.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(Recorder(self.0.clone())))
    }
}

struct Recorder(Arc<Shared>);

impl Sink for Recorder {
    fn video(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError> {
        self.0.push(Rec::Video(ts_ms, body));
        Ok(())
    }
    fn audio(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError> {
        self.0.push(Rec::Audio(ts_ms, body));
        Ok(())
    }
    fn metadata(&mut self, meta: Metadata) -> Result<(), SinkError> {
        self.0.push(Rec::Meta(meta));
        Ok(())
    }
    fn closed(&mut self, reason: CloseReason) {
        self.0.push(Rec::Closed(reason));
    }
}

/// `rtmp::start` on 127.0.0.1:0 on its own actix runtime thread, with the recording gate and sink.
pub fn listen(limits: Limits) -> (SocketAddr, Arc<Shared>) {
    let shared = Arc::new(Shared::default());
    let gate = Arc::new(Gate(shared.clone()));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let any = "127.0.0.1:0".parse().unwrap();
            let got = rtmp::start(any, gate.clone(), gate, limits).await;
            let ok = got.is_ok();
            tx.send(got).unwrap();
            if ok {
                std::future::pending::<()>().await;
            }
        });
    });
    let addr = rx.recv().unwrap().expect("rtmp listener binds");
    (addr, shared)
}

/// ffmpeg publishing `secs` seconds of test picture and tone, H.264 + AAC, in real time, to `url`.
pub fn ffmpeg(url: &str, secs: u32) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"])
        .args(["-f", "lavfi", "-i", "sine"])
        .args(["-t", &secs.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
        ])
        .args(["-g", "30", "-c:a", "aac", "-f", "flv", url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Read until the server closes; panics if it is still open after [`PATIENCE`].
pub fn until_closed(tcp: &mut TcpStream) {
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut sink = Vec::new();
    match tcp.read_to_end(&mut sink) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server did not close the connection: {e}"),
    }
}
