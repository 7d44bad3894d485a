//! Response bodies that hold a bounded amount of memory whatever the object's size: a byte range of a file
//! streamed in chunks, and HEAD's body (a length, no bytes).
//!
//! actix-files streams the same way (64 KiB reads on the blocking pool, pulled only as fast as the socket
//! drains), but its `ChunkedReadFile` has no public constructor and `NamedFile` decides Range and the
//! conditional headers itself with an inode/mtime ETag; the origin answers those from the content hash in
//! one place ([`super::ranges`]), so it streams the range it chose here.
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody, SizedStream};
use actix_web::web::{self, Bytes};
use futures_util::stream::{self, Stream};

/// Bytes read per chunk: what one response holds of its file at a time (plus the socket's write buffer).
pub const CHUNK: u64 = 64 << 10;

/// `len` bytes of `file` from `start`, read a chunk at a time as the client takes them.
pub fn file_range(
    file: File,
    start: u64,
    len: u64,
) -> SizedStream<impl Stream<Item = io::Result<Bytes>>> {
    let chunks = stream::try_unfold((file, start, len), |(file, at, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let n = left.min(CHUNK) as usize;
        let (file, buf) = web::block(move || {
            let mut buf = vec![0; n];
            // An object shorter than its row says fails here: the response is cut, never padded.
            file.read_exact_at(&mut buf, at).map(|()| (file, buf))
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Some((
            Bytes::from(buf),
            (file, at + n as u64, left - n as u64),
        )))
    });
    SizedStream::new(len, chunks)
}

/// The body of a HEAD response: announces `Content-Length` and sends nothing (actix-http writes no body
/// bytes for HEAD but would poll a real one, reading what it then discards).
pub struct HeadOnly(pub u64);

impl MessageBody for HeadOnly {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}
