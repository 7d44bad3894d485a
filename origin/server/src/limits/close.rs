//! Close the connection when the server answers before it has read the request body.
//!
//! What actix-http 3's h1 dispatcher does with a body the handler did not read (`h1/dispatcher.rs`,
//! `should_close_for_unread_payload`): when the response is sent and the handler has *dropped* the payload,
//! a `Content-Length` body makes it close the connection, but a **chunked** body is drained: it keeps
//! reading and discarding chunks until the client ends the body, however long that takes, and only then
//! decides on keep-alive. A `Connection: close` header set by the handler changes nothing (the h1 encoder
//! drops user `Connection` headers; it writes the head's connection type). When the payload is still
//! *alive* (its consumer not dropped) as the response goes out, the dispatcher marks the response
//! `Connection: close`, stops feeding the payload, lingers at most `client_disconnect_timeout` (1 s) so the
//! client can read the response, and shuts the socket down.
//!
//! So every request body is read through a [`Tracked`] stream that shares the payload with this module;
//! when the response is ready and the body was not read to its end, the payload is moved into the response
//! body ([`Holding`]) and lives until the response is written, and the response is marked close.
use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;

/// The request's payload, shared by the handler's stream and the middleware.
pub struct Shared {
    payload: RefCell<Payload>,
    ended: Cell<bool>,
}

/// What the handler reads instead of the raw payload: the same bytes, noting when the body ended.
struct Tracked(Rc<Shared>);

impl Stream for Tracked {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut p = self.0.payload.borrow_mut();
        let r = Pin::new(&mut *p).poll_next(cx);
        if matches!(r, Poll::Ready(None)) {
            self.0.ended.set(true);
        }
        r
    }
}

/// Route the request's body (when it has one) through a [`Tracked`] stream.
pub fn track(req: &mut ServiceRequest) -> Option<Rc<Shared>> {
    let payload = req.take_payload();
    if matches!(payload, Payload::None) {
        return None;
    }
    let shared = Rc::new(Shared {
        payload: RefCell::new(payload),
        ended: Cell::new(false),
    });
    req.set_payload(Payload::from(
        Box::pin(Tracked(shared.clone())) as Pin<Box<dyn Stream<Item = _>>>
    ));
    Some(shared)
}

/// A response body that keeps the unread request payload alive until the response has been written.
struct Holding {
    body: BoxBody,
    _payload: Rc<Shared>,
}

impl MessageBody for Holding {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// Finish a response: when the request body was not read to its end (or `force`), mark it close and keep
/// the payload alive while it is written, so the dispatcher closes instead of draining.
pub fn finish(
    mut res: ServiceResponse<BoxBody>,
    body: Option<Rc<Shared>>,
    force: bool,
) -> ServiceResponse<BoxBody> {
    let unread = body.filter(|b| !b.ended.get());
    if force || unread.is_some() {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    match unread {
        None => res,
        Some(payload) => res.map_body(|_, body| {
            BoxBody::new(Holding {
                body,
                _payload: payload,
            })
        }),
    }
}
