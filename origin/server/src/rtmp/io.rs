//! Socket reads and writes with deadlines, the RTMP handshake, and calls into rml_rtmp isolated from its
//! panics (see mod.rs for the inputs that reach one).
use std::panic::{catch_unwind, AssertUnwindSafe};

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use super::publish::CloseReason;

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
