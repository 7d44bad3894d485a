//! The origin's Prometheus metrics: counters and gauges kept in memory, written at `/metrics` in the text
//! exposition format 0.0.4 by [`text`] (a few dozen lines by hand: the format is small and stable, and the
//! families here are fixed, so a metrics crate would add a registry and nothing we need). The HTTP side
//! (the counting middleware and the `/metrics` handler) is in [`http`].
//!
//! Cardinality stays bounded: HTTP series are by route class and status code; per-stream series exist
//! only while the stream is live ([`Metrics::stream_ended`] removes them) and at most
//! [`MAX_STREAM_SERIES`] streams are tracked; refusal reasons and delivery outcomes are `&'static str`.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub mod http;
pub mod text;

/// Streams whose per-stream series are kept at once; a stream beyond this is counted in
/// `upcast_live_streams` but gets no series of its own.
pub const MAX_STREAM_SERIES: usize = 10_000;

/// Which part of the origin answered a request (the `class` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Api,
    Playback,
    Live,
    Metrics,
    Static,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Api,
        Class::Playback,
        Class::Live,
        Class::Metrics,
        Class::Static,
    ];

    /// The class of a request path: `/api/…`, `/v/…` and `/s/…` (playback), `/live/…`, `/metrics`, and
    /// everything else (the `www/` pages).
    pub fn of(path: &str) -> Class {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "api" => Class::Api,
            "v" | "s" => Class::Playback,
            "live" => Class::Live,
            "metrics" => Class::Metrics,
            _ => Class::Static,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Api => "api",
            Class::Playback => "playback",
            Class::Live => "live",
            Class::Metrics => "metrics",
            Class::Static => "static",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What became of one webhook delivery attempt (the `outcome` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// The attempt failed and another is scheduled.
    Retrying,
    /// The attempt failed and it was the last one.
    Failed,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Failed => "failed",
        }
    }
}

/// The live numbers of one stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamSeries {
    pub ingest_bits_per_sec: u64,
    pub viewers: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// (class, status) → requests answered.
    requests: Mutex<BTreeMap<(Class, u16), u64>>,
    /// Response body bytes sent, per class.
    bytes: [AtomicU64; 5],
    /// Live streams by id, with their series while there is room (see [`MAX_STREAM_SERIES`]).
    streams: Mutex<BTreeMap<String, Option<StreamSeries>>>,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    blocked_total: AtomicU64,
    blocked_in_flight: AtomicU64,
    deliveries: Mutex<BTreeMap<&'static str, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A blocked playlist reload in progress: counted in `upcast_blocked_reload_waits_in_flight` until dropped.
#[must_use = "the wait counts as in flight until this is dropped"]
pub struct BlockedWait(Arc<Metrics>);

impl Drop for BlockedWait {
    fn drop(&mut self) {
        self.0.blocked_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// One HTTP response (called by the middleware in [`http`]).
    pub fn request(&self, class: Class, status: u16) {
        *lock(&self.requests).entry((class, status)).or_default() += 1;
    }

    /// Response body bytes sent for `class` (called as the body streams out).
    pub fn response_bytes(&self, class: Class, n: u64) {
        self.bytes[class.index()].fetch_add(n, Ordering::Relaxed);
    }

    /// A stream went live: it counts in `upcast_live_streams` and gets its per-stream series.
    pub fn stream_live(&self, stream: &str) {
        let mut s = lock(&self.streams);
        let room = s.values().filter(|v| v.is_some()).count() < MAX_STREAM_SERIES;
        s.entry(stream.to_string())
            .or_insert_with(|| room.then(StreamSeries::default));
    }

    /// The stream's ingest bitrate, bits per second, as last measured (ignored for a stream not live).
    pub fn ingest_bitrate(&self, stream: &str, bits_per_sec: u64) {
        if let Some(Some(s)) = lock(&self.streams).get_mut(stream) {
            s.ingest_bits_per_sec = bits_per_sec;
        }
    }

    /// The stream's approximate current viewers (ignored for a stream not live).
    pub fn viewers(&self, stream: &str, n: u64) {
        if let Some(Some(s)) = lock(&self.streams).get_mut(stream) {
            s.viewers = n;
        }
    }

    /// The stream ended (or failed): its series are removed.
    pub fn stream_ended(&self, stream: &str) {
        lock(&self.streams).remove(stream);
    }

    /// A publish was refused: `reason` is the refusal's stable code (`ApiError::code`, or the RTMP side's
    /// own codes such as `bad-stream-key`).
    pub fn publish_refused(&self, reason: &'static str) {
        *lock(&self.refused).entry(reason).or_default() += 1;
    }

    /// A blocking playlist reload starts waiting; it counts as in flight until the guard is dropped.
    pub fn blocked_wait_started(self: &Arc<Self>) -> BlockedWait {
        self.blocked_total.fetch_add(1, Ordering::Relaxed);
        self.blocked_in_flight.fetch_add(1, Ordering::Relaxed);
        BlockedWait(self.clone())
    }

    pub fn webhook_delivery(&self, outcome: DeliveryOutcome) {
        *lock(&self.deliveries).entry(outcome.as_str()).or_default() += 1;
    }

    /// The current per-stream numbers of a live stream (None: not live, or beyond the series limit).
    pub fn stream(&self, stream: &str) -> Option<StreamSeries> {
        lock(&self.streams).get(stream).copied().flatten()
    }
}
