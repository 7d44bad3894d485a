//! RTMP ingest: `rtmp://HOST:PORT/APP/KEY` from OBS, ffmpeg, Streamlabs. This module owns the listener,
//! the connection limits and the publish sessions; what a publish is allowed to do is the
//! [`PublishGate`]'s answer (the streams registry), and where its media goes is a [`Sink`] (the live muxer).
//!
//! The crate: `rml_rtmp` (0.8). Read beside it: `scuffle-rtmp` (0.2) and, in rust-media-libs' own
//! lineage, nothing newer. rml_rtmp is sans-IO: we feed it the bytes we read and write what it returns, so
//! the origin keeps the socket, every deadline and every limit; a publish arrives as an event with a request
//! id that we accept or reject (`reject_request` sends the publisher an `_error` status), and it passes
//! media up only for a stream whose publish was accepted, so nothing reaches a sink before the gate said yes;
//! video and audio come as the raw message bodies (`Bytes`), which is what the core's Enhanced RTMP parser
//! wants; its AMF0 reader knows strict arrays, so OBS's `fourCcList` in `connect` parses. scuffle-rtmp owns
//! the socket itself with fixed read timeouts (2.5 s), refuses a publish by dropping the connection with no
//! status, and pulls a larger dependency tree (its workspace-hack, tracing, tokio-owned I/O).
//! Gaps in rml_rtmp this module covers (see session.rs): no deadlines (it has no I/O); it buffers a
//! message up to RTMP's 16 MiB and applies a peer's chunk size (up to 2^31) without telling us, so we
//! count the bytes fed with no message completed and close above `Limits::max_message_bytes` (the chunk
//! size then bounds nothing more: a chunk is never longer than its message); a few malformed inputs panic
//! inside it
//! (an `@setDataFrame` with no arguments indexes an empty list, an ack counter can overflow): each call
//! into it is isolated with `catch_unwind` and a panic closes that connection as a protocol error.
//! rml_rtmp reassembles one message at a time (chunks of different chunk streams interleaved mid-message
//! are a protocol error for it); ffmpeg and OBS (librtmp) send whole messages.
mod conns;
mod io;
mod publish;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use publish::{
    CloseReason, Grant, Metadata, PublishGate, PublishRequest, Refusal, Sink, SinkError,
    SinkFactory,
};

/// The RTMP listener's limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The only application name accepted (`rtmp://HOST/live/KEY`).
    pub app: String,
    /// From accept to the end of the handshake, and for the gate's answer.
    pub handshake_timeout: Duration,
    /// No publish yet, or no media, for this long: the connection is closed (`timeout`).
    pub idle_timeout: Duration,
    /// Open RTMP connections in the whole origin.
    pub max_connections: usize,
    /// Open RTMP connections from one client address.
    pub max_connections_per_ip: u32,
    /// Largest video, audio or metadata message body; also what a connection may send with no message
    /// completed (plus one read), which bounds what the library buffers for a message in progress.
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            app: "live".into(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            max_connections: 64,
            max_connections_per_ip: 8,
            max_message_bytes: 8 << 20,
        }
    }
}

/// Bind `listen` and serve RTMP publishers on the current actix/tokio runtime until it stops. Prints
/// `upcast: rtmp on rtmp://ADDR` on stderr once bound and returns the bound address (port 0 works).
pub async fn start(
    listen: SocketAddr,
    gate: Arc<dyn PublishGate>,
    sinks: Arc<dyn SinkFactory>,
    limits: Limits,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    eprintln!("upcast: rtmp on rtmp://{addr}");
    let conns = conns::Conns::new(limits.max_connections, limits.max_connections_per_ip);
    let ctx = Arc::new(session::Ctx {
        gate,
        sinks,
        limits,
    });
    actix_web::rt::spawn(async move {
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors and the like: the listener stays, the next accept may succeed.
                    eprintln!("upcast: rtmp: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let slot = match conns.admit(peer.ip()) {
                Ok(s) => s,
                Err(limit) => {
                    eprintln!("upcast: rtmp: {peer}: refused: {limit}");
                    continue;
                }
            };
            let ctx = ctx.clone();
            actix_web::rt::spawn(async move {
                session::serve(&ctx, tcp, peer).await;
                drop(slot);
            });
        }
    });
    Ok(addr)
}
