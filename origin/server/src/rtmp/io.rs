//! Socket reads and writes with deadlines, the RTMP handshake, calls into rml_rtmp isolated from its
//! panics (see mod.rs for the inputs that reach one), and its metadata in our terms.
use std::panic::{catch_unwind, AssertUnwindSafe};

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use rml_rtmp::sessions::StreamMetadata;

use super::publish::{CloseReason, Metadata};

/// Read buffer per connection.
pub(crate) const READ_BYTES: usize = 64 << 10;

/// Read what is there, by `deadline`: `Timeout` after it, `Disconnected` on end of stream or error.
pub(crate) async fn read(
    tcp: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<usize, CloseReason> {
    match timeout_at(deadline, tcp.read(buf)).await {
        Err(_) => Err(CloseReason::Timeout),
        Ok(Ok(0)) | Ok(Err(_)) => Err(CloseReason::Disconnected),
        Ok(Ok(n)) => Ok(n),
    }
}

/// Write all of `bytes` by `deadline` (a publisher that stops reading is cut off).
pub(crate) async fn write(
    tcp: &mut TcpStream,
    bytes: &[u8],
    deadline: Instant,
) -> Result<(), CloseReason> {
    match timeout_at(deadline, tcp.write_all(bytes)).await {
        Err(_) => Err(CloseReason::Timeout),
        Ok(Err(_)) => Err(CloseReason::Disconnected),
        Ok(Ok(())) => Ok(()),
    }
}

/// Run `f` (a call into rml_rtmp); its error or panic becomes a protocol error saying `what`.
pub(crate) fn isolate<T, E: std::fmt::Display>(
    what: &str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, CloseReason> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CloseReason::ProtocolError(format!("{what}: {e}"))),
        Err(_) => Err(CloseReason::ProtocolError(format!(
            "{what}: input the RTMP library could not handle"
        ))),
    }
}

/// The server side of the RTMP handshake, done by `deadline`. Returns the bytes read past its end (the
/// first chunks).
pub(crate) async fn handshake(
    tcp: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<Vec<u8>, CloseReason> {
    let mut hs = Handshake::new(PeerType::Server);
    loop {
        let n = read(tcp, buf, deadline).await?;
        let data = buf.get(..n).unwrap_or_default();
        match isolate("handshake", || hs.process_bytes(data))? {
            HandshakeProcessResult::InProgress { response_bytes } => {
                write(tcp, &response_bytes, deadline).await?;
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                write(tcp, &response_bytes, deadline).await?;
                return Ok(remaining_bytes);
            }
        }
    }
}

/// `onMetaData` as rml_rtmp read it.
pub(crate) fn metadata(m: StreamMetadata) -> Metadata {
    Metadata {
        width: m.video_width,
        height: m.video_height,
        video_codec_id: m.video_codec_id,
        frame_rate: m.video_frame_rate,
        video_kbps: m.video_bitrate_kbps,
        audio_codec_id: m.audio_codec_id,
        audio_kbps: m.audio_bitrate_kbps,
        audio_sample_rate: m.audio_sample_rate,
        audio_channels: m.audio_channels,
        encoder: m.encoder,
    }
}
