//! Live playback: the in-memory window of every live stream (segments and parts per rendition), LL-HLS
//! playlists with blocking reload, and the `/live/...` routes. The ingest side (RTMP → core's live muxer)
//! opens a stream on the [`Hub`] and pushes whole parts; viewers only ever see parts pushed whole.
//! Memory is bounded: a stream keeps its DVR window and at most [`HubLimits::max_stream_bytes`], the hub
//! at most [`HubLimits::max_streams`] streams, and blocked requests hold a bounded number of slots.
pub mod dash;
pub mod lookup;
pub mod playlists;
mod reload;
pub mod routes;
pub mod slots;
pub mod stream;
mod viewers;
pub mod window;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use stream::LiveStream;
pub use window::{ClosedSegment, RenditionWindow};

/// The origin-wide bounds of live playback.
#[derive(Debug, Clone)]
pub struct HubLimits {
    /// Streams held in memory at once (live or ended and not yet dropped).
    pub max_streams: usize,
    /// Bytes of segments and parts one stream keeps; the oldest segments go first.
    pub max_stream_bytes: usize,
    /// Blocked playlist reloads and preload-hint requests waiting at once, origin-wide (beyond: 503 busy).
    pub max_blocked: usize,
    /// Blocked requests one client address may hold at once (beyond: 429).
    pub max_blocked_per_ip: usize,
    /// Renditions (tracks) one stream may have.
    pub max_renditions: usize,
}

impl Default for HubLimits {
    fn default() -> Self {
        HubLimits {
            max_streams: 64,
            max_stream_bytes: 256 << 20,
            max_blocked: 4096,
            max_blocked_per_ip: 32,
            max_renditions: 8,
        }
    }
}

/// How one stream is played.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Served on `/live/`; otherwise only on signed `/s/{exp}/{sig}/live/` links.
    pub public: bool,
    /// The sliding window viewers can seek in.
    pub dvr_window: Duration,
    /// PART-TARGET (the muxer's part duration); the longest part seen raises it.
    pub part_target: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            public: true,
            dvr_window: Duration::from_secs(60),
            part_target: Duration::from_millis(500),
        }
    }
}

/// Why the ingest side's call was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    #[error("the origin holds {0} live streams, its limit")]
    TooManyStreams(usize),
    #[error("a stream may have {0} renditions")]
    TooManyRenditions(usize),
    #[error("a stream id is 1 to 64 of A-Z, a-z, 0-9, '-', '_', a rendition name 1 to 32 of a-z, 0-9, '-', '_': {0:?}")]
    BadName(String),
    #[error("no track named {0:?}")]
    NoTrack(String),
    #[error("bad part: {0}")]
    BadPart(String),
    #[error("one segment is {0} bytes, over the stream's byte bound (key frames too far apart)")]
    SegmentTooLarge(usize),
    #[error("no key frame for longer than the DVR window ({0} s)")]
    NoKeyFrame(f64),
    #[error("the stream has ended")]
    Ended,
}

impl LiveError {
    /// Stable kebab-case code, for status reasons.
    pub fn code(&self) -> &'static str {
        match self {
            LiveError::TooManyStreams(_) => "too-many-streams",
            LiveError::TooManyRenditions(_) => "too-many-renditions",
            LiveError::BadName(_) => "bad-rendition-name",
            LiveError::NoTrack(_) => "no-such-track",
            LiveError::BadPart(_) => "bad-part",
            LiveError::SegmentTooLarge(_) => "segment-too-large",
            LiveError::NoKeyFrame(_) => "no-key-frame",
            LiveError::Ended => "ended",
        }
    }
}

/// Counters for metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests that waited for a part or segment (blocking reload, preload hint).
    pub blocked_waits: AtomicU64,
    /// Of those, the ones that gave up (503).
    pub blocked_timeouts: AtomicU64,
    /// Requests refused because all blocking slots were taken (503 busy / 429).
    pub blocked_refused: AtomicU64,
}

/// The hub at one moment, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubStats {
    /// Streams held (live, or ended and not yet dropped).
    pub streams: usize,
    /// Requests blocked right now.
    pub blocked_now: usize,
    pub blocked_waits: u64,
    pub blocked_timeouts: u64,
    pub blocked_refused: u64,
}

/// Every live stream by id.
pub struct Hub {
    pub limits: HubLimits,
    streams: Mutex<HashMap<String, Arc<LiveStream>>>,
    pub slots: slots::Slots,
    pub counters: Counters,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(HubLimits::default())
    }
}

impl Hub {
    pub fn new(limits: HubLimits) -> Self {
        Hub {
            slots: slots::Slots::new(limits.max_blocked, limits.max_blocked_per_ip),
            limits,
            streams: Mutex::default(),
            counters: Counters::default(),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveStream>>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start a stream, or resume it (a publisher reconnected): the same window continues with the same
    /// MSNs, a discontinuity before the next segment of each track, and `options` from now on.
    pub fn open(
        &self,
        stream_id: &str,
        options: LiveOptions,
    ) -> Result<Arc<LiveStream>, LiveError> {
        let ok = (1..=64).contains(&stream_id.len())
            && stream_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(LiveError::BadName(stream_id.chars().take(70).collect()));
        }
        let mut map = self.map();
        if let Some(s) = map.get(stream_id) {
            s.resume(options);
            return Ok(s.clone());
        }
        if map.len() >= self.limits.max_streams {
            // Full: the stream that ended longest ago makes room; live ones are never evicted.
            let oldest = map
                .iter()
                .filter_map(|(id, s)| s.ended_for().map(|d| (d, id.clone())))
                .max();
            let Some((_, id)) = oldest else {
                return Err(LiveError::TooManyStreams(self.limits.max_streams));
            };
            if let Some(s) = map.remove(&id) {
                s.close_for_viewers();
            }
        }
        let s = Arc::new(LiveStream::new(stream_id, options, self.limits.clone()));
        map.insert(stream_id.to_string(), s.clone());
        Ok(s)
    }

    pub fn get(&self, stream_id: &str) -> Option<Arc<LiveStream>> {
        self.map().get(stream_id).cloned()
    }

    /// Forget a stream (its window's memory goes with the last response holding it); blocked viewers
    /// are released and answered 404.
    pub fn remove(&self, stream_id: &str) -> Option<Arc<LiveStream>> {
        let s = self.map().remove(stream_id);
        if let Some(s) = &s {
            s.close_for_viewers();
        }
        s
    }

    pub fn stats(&self) -> HubStats {
        let c = &self.counters;
        HubStats {
            streams: self.map().len(),
            blocked_now: self.slots.in_use(),
            blocked_waits: c.blocked_waits.load(Ordering::Relaxed),
            blocked_timeouts: c.blocked_timeouts.load(Ordering::Relaxed),
            blocked_refused: c.blocked_refused.load(Ordering::Relaxed),
        }
    }

    /// Drop the streams that ended at least `after` ago (their recording is the VOD now); their ids.
    pub fn sweep(&self, after: Duration) -> Vec<String> {
        let mut map = self.map();
        let old: Vec<String> = map
            .iter()
            .filter(|(_, s)| s.ended_for().is_some_and(|d| d >= after))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &old {
            if let Some(s) = map.remove(id) {
                s.close_for_viewers();
            }
        }
        old
    }

    /// Ids of the streams held.
    pub fn ids(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }
}
