//! The seams between an RTMP publish session and the rest of the origin: the gate that authorizes a publish
//! (the streams registry implements it) and the sink that receives the media (the live muxer implements it).
use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::future::BoxFuture;

/// What a publisher asked for: `rtmp://HOST/APP/KEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishRequest {
    pub app: String,
    pub key: String,
    pub peer: SocketAddr,
}

/// A publish the gate allowed: the stream it publishes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub stream_id: String,
}

/// Why a publish was refused. The publisher gets `NetStream.Publish.BadName` (or
/// `NetConnection.Connect.Rejected` for an app other than the configured one) and is disconnected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownKey,
    Revoked,
    AlreadyLive,
    BadApp,
    /// The sink could not be opened (say why, kebab-case first: `no-capacity: …`).
    Unavailable(String),
}

impl Refusal {
    /// The stable reason, as the API and metrics spell it.
    pub fn code(&self) -> &str {
        match self {
            Refusal::UnknownKey => "unknown-key",
            Refusal::Revoked => "revoked",
            Refusal::AlreadyLive => "already-live",
            Refusal::BadApp => "bad-app",
            Refusal::Unavailable(why) => why,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Authorizes publishes. Called once per publish request, before any media of it is accepted; its answer
/// is awaited with the handshake deadline.
pub trait PublishGate: Send + Sync + 'static {
    fn authorize<'a>(&'a self, req: &'a PublishRequest) -> BoxFuture<'a, Result<Grant, Refusal>>;
}

/// `onMetaData` as the publisher sent it (each field only when present and well-typed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec_id: Option<u32>,
    pub frame_rate: Option<f32>,
    pub video_kbps: Option<u32>,
    pub audio_codec_id: Option<u32>,
    pub audio_kbps: Option<u32>,
    pub audio_sample_rate: Option<u32>,
    pub audio_channels: Option<u32>,
    pub encoder: Option<String>,
}

/// Why a publish session ended; given to [`Sink::closed`] exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The publisher ended the stream (`deleteStream`/`closeStream`/`FCUnpublish`).
    PublisherStopped,
    /// The connection closed or failed without the publisher ending the stream.
    Disconnected,
    /// No media for the idle deadline.
    Timeout,
    /// The publisher broke the protocol or a limit (the text says how).
    ProtocolError(String),
    /// The sink refused a message ([`SinkError`]); its text.
    SinkStopped(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::PublisherStopped => f.write_str("publisher-stopped"),
            CloseReason::Disconnected => f.write_str("disconnected"),
            CloseReason::Timeout => f.write_str("timeout"),
            CloseReason::ProtocolError(m) => write!(f, "protocol-error: {m}"),
            CloseReason::SinkStopped(m) => write!(f, "sink-stopped: {m}"),
        }
    }
}

/// A sink's refusal of a message: the session is closed with [`CloseReason::SinkStopped`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError(pub String);

/// Receives one publish session's messages, in the order the publisher sent them. Bodies are the raw RTMP
/// message bodies (FLV tag bodies, Enhanced RTMP included); timestamps are RTMP's 32-bit milliseconds.
pub trait Sink: Send {
    fn video(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError>;
    fn audio(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError>;
    fn metadata(&mut self, meta: Metadata) -> Result<(), SinkError>;
    /// The session ended; called exactly once, and nothing is called after it.
    fn closed(&mut self, reason: CloseReason);
}

/// Opens a sink for a granted publish.
pub trait SinkFactory: Send + Sync + 'static {
    fn open(&self, grant: &Grant, req: &PublishRequest) -> Result<Box<dyn Sink>, Refusal>;
}

/// Calls [`Sink::closed`] exactly once: with the given reason, or with `disconnected` when the session is
/// dropped without one (its task cancelled at shutdown).
pub(crate) struct SinkGuard(Option<Box<dyn Sink>>);

impl SinkGuard {
    pub(crate) fn new(sink: Box<dyn Sink>) -> Self {
        SinkGuard(Some(sink))
    }

    pub(crate) fn sink(&mut self) -> Option<&mut (dyn Sink + 'static)> {
        self.0.as_deref_mut()
    }

    pub(crate) fn close(&mut self, reason: CloseReason) {
        if let Some(mut s) = self.0.take() {
            s.closed(reason);
        }
    }
}

impl Drop for SinkGuard {
    fn drop(&mut self) {
        self.close(CloseReason::Disconnected);
    }
}
