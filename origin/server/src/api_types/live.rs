//! The bodies of API tokens (`/api/tokens`) and live streams (`/api/streams`), re-exported by
//! [`crate::api_types`].
use serde::{Deserialize, Serialize};

use super::{FromText, Visibility};

/// What an API token may do (`POST /api/tokens`). Signing keys and tokens themselves are admin only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Scope {
    /// Lists, gets, files and playback links of videos and streams, ingest jobs, stream status and events.
    #[serde(rename = "read")]
    Read,
    /// Create, upload, publish and delete videos, issue upload tickets, ingest.
    #[serde(rename = "videos:write")]
    VideosWrite,
    /// Create, update and delete streams, rotate and revoke stream keys.
    #[serde(rename = "streams:write")]
    StreamsWrite,
    /// Register and remove webhooks, read their delivery log.
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
    /// Read `/metrics`.
    #[serde(rename = "metrics:read")]
    MetricsRead,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::VideosWrite => "videos:write",
            Scope::StreamsWrite => "streams:write",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::MetricsRead => "metrics:read",
        }
    }
}

impl FromText for Scope {
    const VARIANTS: &'static [Self] = &[
        Scope::Read,
        Scope::VideosWrite,
        Scope::StreamsWrite,
        Scope::WebhooksWrite,
        Scope::MetricsRead,
    ];
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::from_text(&s).ok_or_else(|| {
            serde::de::Error::custom(
                "a scope is one of read, videos:write, streams:write, webhooks:write, metrics:read",
            )
        })
    }
}

/// `POST /api/tokens` (admin): a name for people and at least one scope.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// An API token as listed (`GET /api/tokens`): never the token itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// `POST /api/tokens` answers with the token, shown this once (only its SHA-256 is stored).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: ApiToken,
    pub token: String,
}

/// `GET /api/tokens`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
}

/// `POST /api/streams`: every field optional (an empty body is all defaults).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateStream {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub visibility: Visibility,
    /// Keep the stream as an ordinary video when it ends.
    #[serde(default)]
    pub record: bool,
    /// Seconds of the stream a viewer may seek back (the live window); default 60, 10 to 1800.
    #[serde(default)]
    pub dvr_window_secs: Option<u32>,
}

/// `PATCH /api/streams/{id}`: the fields to change. Record and DVR window apply from the next publish.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchStream {
    pub title: Option<String>,
    pub visibility: Option<Visibility>,
    pub record: Option<bool>,
    pub dvr_window_secs: Option<u32>,
}

/// A stream as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stream {
    pub id: String,
    pub title: String,
    pub visibility: Visibility,
    pub record: bool,
    pub dvr_window_secs: u32,
    pub created_at: i64,
    /// A stream key is set (false after `DELETE /api/streams/{id}/key` until the next rotation).
    pub has_key: bool,
    /// Where the encoder connects (`rtmp://HOST:PORT/live`; the stream key is the last path part), when the
    /// origin listens for RTMP.
    pub rtmp_url: Option<String>,
    /// Public streams: the LL-HLS playlist's path on this origin (stable for the stream's life). Private
    /// streams: `GET /api/streams/{id}/playback` signs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_url: Option<String>,
    pub status: crate::streams::status::Status,
    /// `GET /api/streams/{id}` only: the ids of the stream's published recordings, oldest first
    /// (`GET /api/videos?stream={id}` lists them as videos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recordings: Option<Vec<String>>,
}

/// `POST /api/streams` (201) and `POST /api/streams/{id}/key` (200): the stream and its key, shown this once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedStream {
    #[serde(flatten)]
    pub stream: Stream,
    pub stream_key: String,
    /// `rtmp_url` with the key: what ffmpeg takes as its output.
    pub publish_url: Option<String>,
}

/// `GET /api/streams`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StreamList {
    pub streams: Vec<Stream>,
}
