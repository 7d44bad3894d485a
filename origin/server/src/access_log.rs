//! `upcast serve --access-log FILE`: one JSON line per finished request, appended to FILE:
//! `{"method":"PUT","path":"/api/videos/ID/files/video/seg_00001.m4s","status":201,"req_bytes":81234,"resp_bytes":97}`.
//!
//! `path` is the request's path without its query (a query may carry a token). `req_bytes` counts the body
//! bytes the origin actually read from the client (a body refused before it was read counts what was read
//! by then); `resp_bytes` the body bytes it wrote. A line is written when the response body has been sent
//! (or dropped, when the client went away first), so every request the origin answered is there, with
//! what really crossed the wire in each direction; it is how a test proves that media bytes went straight
//! to the bucket and never through the origin.
use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;
use serde::Serialize;

use crate::AppState;

/// The open log file. Each line goes out in one `write` on a file opened for appending, so lines from
/// several workers never interleave.
pub struct AccessLog(Mutex<File>);

impl AccessLog {
    pub fn open(path: &Path) -> Result<AccessLog, String> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| AccessLog(Mutex::new(f)))
            .map_err(|e| format!("--access-log {}: {e}", path.display()))
    }

    fn write(&self, line: &Line) {
        let Ok(mut text) = serde_json::to_vec(line) else {
            return;
        };
        text.push(b'\n');
        let mut f = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = f.write_all(&text) {
            log::warn!("access log: {e}");
        }
    }
}

/// One request, as logged.
#[derive(Serialize)]
struct Line {
    method: String,
    path: String,
    status: u16,
    req_bytes: u64,
    resp_bytes: u64,
}

/// The request body as the handler reads it, counting its bytes.
struct Counted {
    inner: Payload,
    read: Rc<Cell<u64>>,
}

impl Stream for Counted {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let r = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(b))) = &r {
            self.read.set(self.read.get() + b.len() as u64);
        }
        r
    }
}

/// The response body as it is written, counting its bytes; writes the log line when dropped (sent, or
/// abandoned by a client that went away).
struct Logged {
    body: BoxBody,
    sent: u64,
    read: Rc<Cell<u64>>,
    line: Option<Line>,
    log: std::sync::Arc<AccessLog>,
}

impl MessageBody for Logged {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(b))) = &r {
            this.sent += b.len() as u64;
        }
        r
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(mut line) = self.line.take() {
            line.req_bytes = self.read.get();
            line.resp_bytes = self.sent;
            self.log.write(&line);
        }
    }
}

/// App-wide middleware (outermost, so it sees every answer, refusals by the limits included).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(log) = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.access_log.clone())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let read = Rc::new(Cell::new(0u64));
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        // No body: left as it is (the connection limits tell a bodiless request by this).
        req.set_payload(payload);
    } else {
        req.set_payload(Payload::from(Box::pin(Counted {
            inner: payload,
            read: read.clone(),
        })
            as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>));
    }
    let (method, path) = (req.method().to_string(), req.path().to_string());
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status().as_u16();
    Ok(res.map_body(|_, body| {
        BoxBody::new(Logged {
            body,
            sent: 0,
            read,
            line: Some(Line {
                method,
                path,
                status,
                req_bytes: 0,
                resp_bytes: 0,
            }),
            log,
        })
    }))
}
