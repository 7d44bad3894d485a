//! A stream's status as the API and its events show it: the state, why, since when, and what the ingest
//! measures. Held in memory ([`super::Streams`]); only the last end survives a restart (in the database).
use serde::{Deserialize, Serialize};

/// Where a stream is: `idle` (never published, or not since the origin started without a recorded end),
/// `live` (media arriving), `reconnecting` (the publisher left; the same key may continue within the grace
/// period), `ended` (the publisher left for good), `failed` (the origin stopped the ingest: see `reason`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    #[default]
    Idle,
    Live,
    Reconnecting,
    Ended,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Live => "live",
            State::Reconnecting => "reconnecting",
            State::Ended => "ended",
            State::Failed => "failed",
        }
    }

    /// `ended` and `failed`: the end is recorded in the database.
    pub fn is_end(self) -> bool {
        matches!(self, State::Ended | State::Failed)
    }
}

/// One rendition the encoder sends (one for plain RTMP, several for Enhanced RTMP multitrack).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    /// The track's id in the ingest (0 for plain RTMP).
    pub track: u32,
    /// RFC 6381 codec string (`avc1.64001f`, `mp4a.40.2`, …).
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub bitrate_bps: u64,
    pub frame_rate: Option<f64>,
}

/// What the ingest measures, replaced as a whole by [`super::Streams::ingest_stats`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestStats {
    /// All tracks together, averaged over the last few seconds.
    pub bitrate_bps: u64,
    /// The first video rendition's.
    pub frame_rate: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// RFC 6381 codec strings of every track.
    pub codecs: Vec<String>,
    /// Time between the last two key frames of the first video track.
    pub keyframe_interval_ms: Option<u64>,
    /// Composition times differ from decode times (the encoder sends B-frames).
    pub b_frames: bool,
    pub renditions: Vec<Rendition>,
}

/// The last error the ingest met (the stream may have gone on), with a stable kebab-case code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub code: String,
    pub msg: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A stream's status (`status` in `GET /api/streams/{id}`, the `data` of its events).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    /// Why it is in this state: a kebab-case code (`publisher-disconnected`, `unsupported-codec`, …).
    pub reason: Option<String>,
    /// Unix milliseconds of the last change of `state`.
    pub since: i64,
    /// While live or reconnecting: the ingest's measurements.
    pub ingest: Option<IngestStats>,
    /// Viewers that fetched a playlist or part in the last few seconds (approximate).
    pub viewers: u64,
    pub last_error: Option<LastError>,
}

/// One change, as sent on `GET /api/streams/events` and `GET /api/streams/{id}/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub stream_id: String,
    pub status: Status,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
