//! Server-sent events of stream status: `GET /api/streams/events` (every stream) and
//! `GET /api/streams/{id}/events` (one). The current status of each stream comes first, then an
//! `event: status` per change and a `: heartbeat` comment when nothing happened for [`HEARTBEAT`]. A
//! subscriber that falls [`super::EVENT_BUFFER`] events behind gets `event: dropped` and the response ends
//! (it reconnects and starts from the current status): the buffer is one ring shared by all subscribers,
//! so a slow one never grows memory.
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use actix_web::rt::time::timeout;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use tokio::sync::broadcast::error::RecvError;

use super::rows;
use super::status::StatusEvent;
use super::Subscription;
use crate::auth::Action;
use crate::error::{ApiError, ApiResult};
use crate::paths::check_video_id;
use crate::AppState;

/// A comment is sent after this long without an event (keeps proxies from closing the connection, and
/// finds a client that left).
pub const HEARTBEAT: Duration = Duration::from_secs(15);

const DROPPED: &[u8] = b"event: dropped\ndata: {\"reason\":\"slow-subscriber\"}\n\n";

/// One event's bytes: `event: status`, the JSON (one line) as `data`.
pub fn frame(ev: &StatusEvent) -> Bytes {
    let json = serde_json::to_string(ev).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!("event: status\ndata: {json}\n\n"))
}

struct Feed {
    first: VecDeque<Bytes>,
    sub: Subscription,
    only: Option<String>,
    done: bool,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if self.done {
            return None;
        }
        if let Some(b) = self.first.pop_front() {
            return Some((Ok(b), self));
        }
        loop {
            let out = match timeout(HEARTBEAT, self.sub.rx.recv()).await {
                Err(_) => Bytes::from_static(b": heartbeat\n\n"),
                Ok(Ok(ev)) if self.only.as_ref().is_none_or(|id| *id == ev.stream_id) => frame(&ev),
                Ok(Ok(_)) => continue,
                Ok(Err(RecvError::Lagged(_))) => {
                    self.done = true;
                    Bytes::from_static(DROPPED)
                }
                Ok(Err(RecvError::Closed)) => return None,
            };
            return Some((Ok(out), self));
        }
    }
}

fn respond(first: VecDeque<Bytes>, sub: Subscription, only: Option<String>) -> HttpResponse {
    let feed = Feed {
        first,
        sub,
        only,
        done: false,
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        // nginx would otherwise buffer the response and hold events back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(feed, Feed::next))
}

fn subscribe(state: &AppState) -> ApiResult<Subscription> {
    state.streams.subscribe().ok_or(ApiError::RateLimited {
        what: format!(
            "{} status subscribers are connected already",
            super::MAX_SUBSCRIBERS
        ),
        retry_after: 5,
        limit: None,
    })
}

/// `GET /api/streams/events` (`read`).
pub async fn all(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadStreams).await?;
    // Subscribe before reading the current statuses: a change in between is sent twice, never lost.
    let sub = subscribe(&state)?;
    let all = state.db.run(|c| rows::list(c)).await?;
    let first = all
        .iter()
        .map(|r| {
            frame(&StatusEvent {
                stream_id: r.id.clone(),
                status: state.streams.view(r),
            })
        })
        .collect();
    Ok(respond(first, sub, None))
}

/// `GET /api/streams/{id}/events` (`read`).
pub async fn one(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadStreams).await?;
    check_video_id(&id)?;
    let sub = subscribe(&state)?;
    let sid = id.into_inner();
    let q = sid.clone();
    let row = state
        .db
        .run(move |c| rows::get(c, &q))
        .await?
        .ok_or(ApiError::NotFound)?;
    let first = VecDeque::from([frame(&StatusEvent {
        stream_id: sid.clone(),
        status: state.streams.view(&row),
    })]);
    Ok(respond(first, sub, Some(sid)))
}
