//! Webhooks, as Mux and Cloudflare Stream do them: an app registers a URL (`/api/webhooks`, [`api`]) and
//! the origin POSTs it a signed JSON event (`{id, type, created_at, data}`, header [`sign::HEADER`]) when
//! something happens. The live side and publishing call [`Webhooks::emit`]; the event is queued in SQLite
//! ([`rows`]) in the same call, and the dispatcher ([`deliver`]) delivers it in the background on the actix
//! runtime: bounded concurrency, a timeout per attempt, no redirects, retries with exponential backoff,
//! then `failed`. The queue survives a restart; delivery is at least once (receivers dedupe by event id).
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::api_types::WebhookEvent;
use crate::config::WebhookConfig;
use crate::db::{now_secs, Db};
use crate::error::ApiResult;
use crate::metrics::Metrics;

pub mod api;
pub mod deliver;
pub mod rows;
pub mod sign;
pub mod target;

/// The event types an app can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A stream started receiving media (data: the stream's status).
    StreamLive,
    /// A stream ended: the publisher left and the grace period passed (data: the stream's status).
    StreamEnded,
    /// A stream stopped on an error (data: the stream's status with its reason).
    StreamFailed,
    /// A video was published (data: the video, as `GET /api/videos/{id}` shows it).
    VideoReady,
    /// A video's publish check refused it (data: `{id, code, msg}`).
    VideoFailed,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::StreamLive,
        EventKind::StreamEnded,
        EventKind::StreamFailed,
        EventKind::VideoReady,
        EventKind::VideoFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::StreamLive => "stream.live",
            EventKind::StreamEnded => "stream.ended",
            EventKind::StreamFailed => "stream.failed",
            EventKind::VideoReady => "video.ready",
            EventKind::VideoFailed => "video.failed",
        }
    }

    pub fn from_text(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

pub(crate) struct Inner {
    db: Db,
    cfg: WebhookConfig,
    metrics: Arc<Metrics>,
    agent: ureq::Agent,
    /// Deliveries with an attempt running (never claimed twice).
    in_flight: Mutex<HashSet<i64>>,
    /// Wakes the dispatcher: an event was queued or an attempt finished.
    wake: tokio::sync::Notify,
    started: AtomicBool,
}

/// The webhook side of the origin (`AppState::webhooks`). Cheap to clone.
#[derive(Clone)]
pub struct Webhooks(Arc<Inner>);

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn random_id(prefix: &str) -> ApiResult<String> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b)
        .map_err(|e| crate::error::ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

impl Webhooks {
    pub fn new(db: Db, cfg: WebhookConfig, metrics: Arc<Metrics>) -> Webhooks {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            // Explicit: a feature another crate turns on must not route webhooks through $HTTP_PROXY.
            .try_proxy_from_env(false)
            .timeout(cfg.timeout)
            .user_agent("upcast-webhooks")
            .resolver(target::Resolver {
                allow_private: cfg.allow_private,
            })
            .build();
        Webhooks(Arc::new(Inner {
            db,
            cfg,
            metrics,
            agent,
            in_flight: Mutex::new(HashSet::new()),
            wake: tokio::sync::Notify::new(),
            started: AtomicBool::new(false),
        }))
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.0.cfg
    }

    /// Start delivering in the background on the current actix runtime (once; later calls do nothing).
    /// `upcast_origin::run` calls it; an in-process test calls it inside its runtime.
    pub fn start(&self) {
        if !self.0.started.swap(true, Ordering::SeqCst) {
            actix_web::rt::spawn(deliver::run(self.0.clone()));
        }
    }

    /// Queue event `kind` with `data` for every webhook that wants it, durably, and wake the dispatcher.
    /// Returns the event's id, or None when no webhook wants it (nothing is stored then). Runs the write
    /// on the blocking pool; call it from any async code (the live side, publishing).
    pub async fn emit(&self, kind: EventKind, data: Value) -> ApiResult<Option<String>> {
        let (event, body) = event(kind, data)?;
        let id = event.id.clone();
        let queued = self
            .0
            .db
            .run(move |c| rows::enqueue(c, &event, &body, now_ms()))
            .await?;
        Ok(self.queued(queued, id))
    }

    /// [`Webhooks::emit`] from a thread that may block (an ingest job's): the write runs on this thread.
    pub fn emit_now(&self, kind: EventKind, data: Value) -> ApiResult<Option<String>> {
        let (event, body) = event(kind, data)?;
        let id = event.id.clone();
        let queued = self
            .0
            .db
            .run_now(|c| rows::enqueue(c, &event, &body, now_ms()))?;
        Ok(self.queued(queued, id))
    }

    /// [`Webhooks::emit_now`], logging a failure instead of returning it.
    pub fn emit_now_logged(&self, kind: EventKind, data: Value) {
        if let Err(e) = self.emit_now(kind, data) {
            eprintln!("upcast: webhook event {} not queued: {e:?}", kind.as_str());
        }
    }

    fn queued(&self, rows: usize, id: String) -> Option<String> {
        if rows == 0 {
            return None;
        }
        self.0.wake.notify_one();
        Some(id)
    }

    /// [`Webhooks::emit`] and log a failure instead of returning it: for callers whose own work succeeded
    /// whatever becomes of the notification.
    pub async fn emit_logged(&self, kind: EventKind, data: Value) {
        if let Err(e) = self.emit(kind, data).await {
            eprintln!("upcast: webhook event {} not queued: {e:?}", kind.as_str());
        }
    }
}

/// A new event and its body, as delivered.
fn event(kind: EventKind, data: Value) -> ApiResult<(WebhookEvent, String)> {
    let event = WebhookEvent {
        id: random_id("evt_")?,
        kind: kind.as_str().to_string(),
        created_at: now_secs(),
        data,
    };
    let body = serde_json::to_string(&event)
        .map_err(|e| crate::error::ApiError::Internal(format!("event body: {e}")))?;
    Ok((event, body))
}
