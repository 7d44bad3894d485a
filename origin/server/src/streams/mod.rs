//! Live streams: their rows and keys (the API in [`api`], the tables in [`rows`]), and their status in
//! memory ([`status`]) with change events ([`events`]). The ingest (RTMP) and the live window call the
//! methods of [`Streams`]: [`Streams::authorize_publish`] when a publisher names a key, then
//! [`Streams::set_state`], [`Streams::ingest_stats`], [`Streams::set_viewers`] and [`Streams::set_error`]
//! as things change. Only the last end survives a restart (in the `streams` table).
pub mod api;
pub mod events;
pub mod rows;
pub mod status;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::broadcast;

use self::rows::{KeyLookup, StreamRow};
use self::status::{now_ms, IngestStats, LastError, State, Status, StatusEvent};
use super::auth::hash_token;
use super::db::Db;
use super::error::{ApiError, ApiResult};

/// Changes buffered for event subscribers; one further behind than this is dropped.
pub const EVENT_BUFFER: usize = 256;
/// Event subscribers at once (`GET /api/streams/events` and `…/{id}/events` together).
pub const MAX_SUBSCRIBERS: usize = 256;

/// Why a publisher is refused (each has a stable kebab-case [`Refusal::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no stream has this key")]
    UnknownKey,
    #[error("this stream key was revoked or rotated")]
    Revoked,
    #[error("another publisher is live on this stream")]
    AlreadyLive,
    /// The detail is for the log only.
    #[error("internal error")]
    Internal(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownKey => "unknown-key",
            Refusal::Revoked => "revoked",
            Refusal::AlreadyLive => "already-live",
            Refusal::Internal(_) => "internal",
        }
    }
}

/// Why the registry stops a connected publisher ([`Publisher::stopped`]): its key was revoked or rotated.
pub const KEY_REVOKED: &str = "key-revoked";
/// Why the registry stops a connected publisher: its stream was deleted.
pub const STREAM_DELETED: &str = "stream-deleted";

/// The flag the registry sets to stop a connected publisher, with the reason (a kebab-case code).
type StopFlag = Arc<OnceLock<&'static str>>;

/// The right to publish on one stream, from [`Streams::authorize_publish`]; a second publisher on the same
/// stream is refused (`already-live`) until this is dropped. The ingest asks [`Publisher::stopped`] before
/// it takes each message: revoking or rotating the key, or deleting the stream, stops the publisher.
pub struct Publisher {
    streams: Streams,
    pub stream: StreamRow,
    stop: StopFlag,
}

impl Publisher {
    /// Why the registry wants this publisher gone ([`KEY_REVOKED`], [`STREAM_DELETED`]), if it does.
    pub fn stopped(&self) -> Option<&'static str> {
        self.stop.get().copied()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        if let Some(e) = self.streams.lock().get_mut(&self.stream.id) {
            e.publishing = None;
        }
    }
}

#[derive(Default)]
struct Entry {
    status: Status,
    /// The stop flag of the publisher holding the stream, if one does.
    publishing: Option<StopFlag>,
}

struct Inner {
    db: Db,
    /// Streams whose status changed since the start (others are read from their row).
    entries: Mutex<HashMap<String, Entry>>,
    events: broadcast::Sender<Arc<StatusEvent>>,
    subscribers: AtomicUsize,
}

/// Streams' status and the publishing rights: cheap to clone, shared by the API, the ingest and the window.
#[derive(Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

/// A status event subscription (see [`events`]); holds one of [`MAX_SUBSCRIBERS`] slots until dropped.
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<StatusEvent>>,
    inner: Arc<Inner>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.inner.subscribers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Streams {
    /// Streams that were live when the origin stopped are `ended` (`origin-restarted`) from now on.
    pub fn open(db: Db) -> Result<Self, String> {
        db.run_now(|c| {
            c.execute(
                "UPDATE streams SET ended_at = ?1, end_reason = 'origin-restarted', live_since = NULL
                 WHERE live_since IS NOT NULL",
                [now_ms()],
            )?;
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Streams {
            inner: Arc::new(Inner {
                db,
                entries: Mutex::new(HashMap::new()),
                events,
                subscribers: AtomicUsize::new(0),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Look a publisher's stream key up by its hash and claim the stream: `unknown-key`, `revoked` (rotated
    /// or revoked), `already-live` (a publisher holds it). Call it before accepting any media.
    pub async fn authorize_publish(&self, key: &str) -> Result<Publisher, Refusal> {
        if key.is_empty() || key.len() > 200 {
            return Err(Refusal::UnknownKey);
        }
        let h = hash_token(key);
        let found = self
            .inner
            .db
            .run(move |c| rows::by_key(c, &h))
            .await
            .map_err(|e| Refusal::Internal(e.to_string()))?;
        let stream = match found {
            KeyLookup::Current(row) => row,
            KeyLookup::Revoked => return Err(Refusal::Revoked),
            KeyLookup::Unknown => return Err(Refusal::UnknownKey),
        };
        let mut all = self.lock();
        let e = all.entry(stream.id.clone()).or_insert_with(|| Entry {
            status: from_row(&stream),
            publishing: None,
        });
        if e.publishing.is_some() {
            return Err(Refusal::AlreadyLive);
        }
        let stop = StopFlag::default();
        e.publishing = Some(stop.clone());
        drop(all);
        Ok(Publisher {
            streams: self.clone(),
            stream,
            stop,
        })
    }

    /// Stop the publisher holding stream `id`, if one does, for `reason` (its next message is refused and
    /// its connection closed). The first reason given stays.
    pub fn stop_publisher(&self, id: &str, reason: &'static str) {
        if let Some(stop) = self.lock().get(id).and_then(|e| e.publishing.as_ref()) {
            let _ = stop.set(reason);
        }
    }

    /// Move stream `id` (authorized by [`Self::authorize_publish`] since the start) to `state` for `reason`
    /// (a kebab-case code). Going `live` and ending (`ended`,
    /// `failed`) are recorded in the database; the ingest measurements are dropped at an end.
    pub async fn set_state(&self, id: &str, state: State, reason: Option<&str>) -> ApiResult<()> {
        let now = now_ms();
        // A stream no publisher was authorized for has nothing to change (`not-found`).
        let was = self.status(id).ok_or(ApiError::NotFound)?.state;
        let (sid, why) = (id.to_string(), reason.map(str::to_string));
        if state.is_end() {
            self.inner
                .db
                .run(move |c| rows::record_end(c, &sid, now, why.as_deref()))
                .await?;
        } else if state == State::Live && was != State::Live {
            self.inner
                .db
                .run(move |c| rows::record_live(c, &sid, now))
                .await?;
        }
        self.change(id, |s| {
            if s.state != state {
                s.since = now;
            }
            s.state = state;
            s.reason = reason.map(str::to_string);
            if state.is_end() || state == State::Idle {
                s.ingest = None;
                s.viewers = 0;
            }
            true
        });
        Ok(())
    }

    /// Replace what the ingest measures (sent as an event when it changed).
    pub fn ingest_stats(&self, id: &str, stats: IngestStats) {
        self.change(id, |s| {
            let changed = s.ingest.as_ref() != Some(&stats);
            s.ingest = Some(stats);
            changed
        });
    }

    /// The approximate number of viewers now (sent as an event when it changed).
    pub fn set_viewers(&self, id: &str, n: u64) {
        self.change(id, |s| std::mem::replace(&mut s.viewers, n) != n);
    }

    /// Note an error the ingest met (`code` kebab-case), whether or not the stream goes on.
    pub fn set_error(&self, id: &str, code: &str, msg: &str) {
        let err = LastError {
            code: code.to_string(),
            msg: msg.to_string(),
            at: now_ms(),
        };
        self.change(id, |s| {
            s.last_error = Some(err);
            true
        });
    }

    /// The status of a stream that changed since the start; `None`: read it from its row ([`Self::view`]).
    pub fn status(&self, id: &str) -> Option<Status> {
        self.lock().get(id).map(|e| e.status.clone())
    }

    /// A stream's status: the one in memory, else the one its row records.
    pub fn view(&self, row: &StreamRow) -> Status {
        self.status(&row.id).unwrap_or_else(|| from_row(row))
    }

    /// Does a publisher hold stream `id`?
    pub fn is_publishing(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(|e| e.publishing.is_some())
    }

    /// Drop a deleted stream's status.
    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Subscribe to every status change; `None` when [`MAX_SUBSCRIBERS`] are subscribed already.
    pub fn subscribe(&self) -> Option<Subscription> {
        let n = &self.inner.subscribers;
        n.fetch_update(Ordering::AcqRel, Ordering::Acquire, |k| {
            (k < MAX_SUBSCRIBERS).then_some(k + 1)
        })
        .ok()?;
        Some(Subscription {
            rx: self.inner.events.subscribe(),
            inner: self.inner.clone(),
        })
    }

    /// Apply `f` to stream `id`'s status and send an event when `f` says it changed. Only streams a
    /// publisher was authorized for since the start are held here; calls for others are ignored (the map
    /// stays as small as the streams that published).
    fn change(&self, id: &str, f: impl FnOnce(&mut Status) -> bool) {
        let mut all = self.lock();
        let Some(e) = all.get_mut(id) else {
            return;
        };
        if f(&mut e.status) {
            let ev = Arc::new(StatusEvent {
                stream_id: id.to_string(),
                status: e.status.clone(),
            });
            // No subscriber is not an error.
            let _ = self.inner.events.send(ev);
        }
    }
}

/// The status a row records: `ended` with its reason after a recorded end, else `idle` since creation.
fn from_row(row: &StreamRow) -> Status {
    match row.ended_at {
        Some(at) => Status {
            state: State::Ended,
            reason: row.end_reason.clone(),
            since: at,
            ..Status::default()
        },
        None => Status {
            since: row.created_at.saturating_mul(1000),
            ..Status::default()
        },
    }
}
