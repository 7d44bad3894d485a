//! Live ingest: what joins an RTMP publish to the rest of the origin. The gate authorizes a publish with
//! the stream registry ([`crate::streams`]) before any media is accepted; the sink remuxes the publisher's
//! tags with the core's live muxer (copy, never transcode) into CMAF parts, pushes them into the stream's
//! live window ([`crate::live`]), hands closed segments to the recording, and keeps the stream's status,
//! webhooks and metrics up to date.
//!
//! A publisher that goes away leaves its stream `reconnecting` for the grace period: publishing again with
//! the same key within it continues the same stream (the window goes on with a discontinuity, timestamps
//! continue, the recording goes on). When the grace period passes, the stream ends: the window gets
//! ENDLIST, the recording is published as a video, and `stream.ended` is sent.
mod check;
mod end;
mod feed;
mod http;
mod http_part;
mod http_stats;
mod record;
mod session;
mod sink;
mod tickets;
mod timing;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::web;
use futures_util::future::BoxFuture;

use crate::rtmp::{Grant, PublishGate, PublishRequest, Refusal, Sink, SinkFactory};
use crate::streams::{self, Publisher};
use crate::AppState;

pub use feed::{Feed, FeedError};
pub use http::{end, pause, publish, put_init, put_part, renew, status};
pub use session::Session;
pub use sink::Sessions;

/// What the origin keeps of its publishers: the streams' sessions (RTMP and HTTP publishers share
/// them) and the HTTP publish tickets.
#[derive(Default)]
pub struct Registry {
    pub sessions: Sessions,
    pub tickets: tickets::Tickets,
}

/// How live ingest behaves (`upcast serve --live-*`).
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// How long a stream waits for its publisher to come back before it ends.
    pub grace: Duration,
    /// The muxer's part target (PART-TARGET).
    pub part_target: Duration,
    /// A key frame starts a new segment once the open one is at least this long.
    pub min_segment: Duration,
    /// An HTTP publisher silent this long has gone (the stream is `reconnecting`).
    pub idle: Duration,
    /// How long an HTTP publish ticket lives (renewable).
    pub ticket_ttl: Duration,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            grace: Duration::from_secs(10),
            part_target: Duration::from_millis(500),
            min_segment: Duration::from_secs(1),
            idle: Duration::from_secs(5),
            ticket_ttl: Duration::from_secs(3600),
        }
    }
}

/// A publish the gate allowed, waiting for its sink (the RTMP session opens it right after).
struct Pending {
    publisher: Publisher,
    at: Instant,
}

/// The gate and the sink factory of the RTMP listener.
pub struct LiveIngest {
    state: web::Data<AppState>,
    opts: IngestOptions,
    pending: Mutex<HashMap<(String, SocketAddr), Pending>>,
    /// Streams being published or waiting for their publisher, by stream id.
    sessions: Sessions,
}

/// A pending grant not taken within this long was abandoned (its connection died in between).
const PENDING_TTL: Duration = Duration::from_secs(30);

impl LiveIngest {
    pub fn new(state: web::Data<AppState>, opts: IngestOptions) -> Arc<LiveIngest> {
        Arc::new(LiveIngest {
            opts,
            pending: Mutex::default(),
            sessions: state.live_publish.sessions.clone(),
            state,
        })
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<(String, SocketAddr), Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn refusal(r: &streams::Refusal) -> Refusal {
    match r {
        streams::Refusal::UnknownKey => Refusal::UnknownKey,
        streams::Refusal::Revoked => Refusal::Revoked,
        streams::Refusal::AlreadyLive => Refusal::AlreadyLive,
        streams::Refusal::Internal(msg) => {
            eprintln!("upcast: live: authorizing a publish: {msg}");
            Refusal::Unavailable("internal".into())
        }
    }
}

impl PublishGate for LiveIngest {
    fn authorize<'a>(&'a self, req: &'a PublishRequest) -> BoxFuture<'a, Result<Grant, Refusal>> {
        Box::pin(async move {
            match self.state.streams.authorize_publish(&req.key).await {
                Ok(publisher) => {
                    let id = publisher.stream.id.clone();
                    let mut p = self.pending();
                    // Dropping an abandoned grant releases its stream for the next publisher.
                    p.retain(|_, v| v.at.elapsed() < PENDING_TTL);
                    p.insert(
                        (id.clone(), req.peer),
                        Pending {
                            publisher,
                            at: Instant::now(),
                        },
                    );
                    Ok(Grant { stream_id: id })
                }
                Err(r) => {
                    self.state.metrics.publish_refused(r.code());
                    Err(refusal(&r))
                }
            }
        })
    }
}

impl SinkFactory for LiveIngest {
    fn open(&self, grant: &Grant, req: &PublishRequest) -> Result<Box<dyn Sink>, Refusal> {
        let pending = self
            .pending()
            .remove(&(grant.stream_id.clone(), req.peer))
            .ok_or_else(|| Refusal::Unavailable("grant-expired".into()))?;
        let row = pending.publisher.stream.clone();
        let session =
            session::begin(&self.state, &self.sessions, &self.opts, row).map_err(|e| {
                self.state.metrics.publish_refused("live-unavailable");
                Refusal::Unavailable(e)
            })?;
        let feed = Feed::new(
            self.state.clone(),
            self.opts.clone(),
            session,
            pending.publisher,
            self.sessions.clone(),
        );
        Ok(Box::new(sink::IngestSink::new(feed, &self.opts)))
    }
}
