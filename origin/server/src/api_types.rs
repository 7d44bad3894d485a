//! The upload API's bodies, written once: the origin answers with these types and `upcast upload` reads
//! them back (API.md and openapi.yaml describe the same shapes for other clients). The states and the
//! visibility are enums here; their text (the JSON's, and the SQLite columns' through [`crate::db`]) is
//! each enum's `as_str`.
use serde::{Deserialize, Serialize};

mod live;
pub use live::*;

/// Who may play a video: anyone (`/v/…`), or only holders of a signed link (`/s/…`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

/// Where a video is in its life: files arrive while `uploading`; `ready` once published (immutable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoState {
    Uploading,
    Ready,
}

/// Where an ingest job is: `queued` → `running` → `done` or `failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Failed,
    Done,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }
}

impl VideoState {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoState::Uploading => "uploading",
            VideoState::Ready => "ready",
        }
    }
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Failed => "failed",
            JobState::Done => "done",
        }
    }
}

/// The enums whose values travel as text (JSON, SQLite): every value, its text, and back.
pub trait FromText: Sized + Copy + 'static {
    const VARIANTS: &'static [Self];
    fn text(self) -> &'static str;
    fn from_text(s: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|v| v.text() == s)
    }
}

impl FromText for Visibility {
    const VARIANTS: &'static [Self] = &[Visibility::Public, Visibility::Private];
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl FromText for VideoState {
    const VARIANTS: &'static [Self] = &[VideoState::Uploading, VideoState::Ready];
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl FromText for JobState {
    const VARIANTS: &'static [Self] = &[
        JobState::Queued,
        JobState::Running,
        JobState::Failed,
        JobState::Done,
    ];
    fn text(self) -> &'static str {
        self.as_str()
    }
}

/// A visibility that is neither `public` nor `private` says so in those words (the API's message for it).
impl<'de> Deserialize<'de> for Visibility {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Visibility::from_text(&s)
            .ok_or_else(|| serde::de::Error::custom("visibility is \"public\" or \"private\""))
    }
}

/// `POST /api/videos` (admin): the new video's title and visibility; an empty body is all defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVideo {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub visibility: Visibility,
}

/// A video as the API shows it (`GET /api/videos/{id}`, the list, the publish answer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Video {
    pub id: String,
    pub title: String,
    pub visibility: Visibility,
    pub state: VideoState,
    pub created_at: i64,
    pub published_at: Option<i64>,
    /// Files stored, and their bytes.
    pub files: i64,
    pub bytes: i64,
    /// The video has a `poster.jpg`.
    pub poster: bool,
    /// Public videos: the master playlist's path on this origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback_url: Option<String>,
    /// Public videos with a poster: its path on this origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    /// The video has a storyboard: seek-bar thumbnails, a WebVTT thumbnail track
    /// (`storyboard/storyboard.vtt`) naming tiles of sprite sheets beside it.
    #[serde(default)]
    pub storyboard: bool,
    /// Public videos with a storyboard: its thumbnail track's path on this origin (a private video's is
    /// `storyboard/storyboard.vtt` under its signed playback link's prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storyboard_url: Option<String>,
    /// The subtitle renditions `master.m3u8` announces (`GET /api/videos/{id}` and the captions API
    /// fill it; the video list leaves it empty).
    #[serde(default)]
    pub captions: Vec<crate::captions::CaptionView>,
    /// Public videos with chapters: the WebVTT chapters track's path on this origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapters_url: Option<String>,
    /// A live stream's recording: the stream it was recorded from (`null` for other videos).
    #[serde(default)]
    pub stream_id: Option<String>,
}

/// An upload ticket: the bearer token that may write one video's files until `expires_at` (Unix seconds).
/// `POST /api/videos/{id}/tickets` answers with one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ticket {
    pub ticket: String,
    pub expires_at: i64,
}

/// `POST /api/videos` answers with the video and its first upload ticket.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedVideo {
    #[serde(flatten)]
    pub video: Video,
    pub upload: Ticket,
}

/// `GET /api/videos` (admin).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VideoList {
    pub videos: Vec<Video>,
}

/// One stored file of a package (a row of the `files` table).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// `GET /api/videos/{id}/files`: what the origin already holds, for a client to skip.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileList {
    pub state: VideoState,
    pub files: Vec<StoredFile>,
}

/// `PUT /api/videos/{id}/files/{path}`: the file as stored, and whether this request stored it (201) or
/// the same bytes were there already (200).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PutFileAnswer {
    pub file: StoredFile,
    pub created: bool,
}

/// `GET /api/videos/{id}/playback`: a signed link to the master playlist.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlaybackLink {
    pub url: String,
    pub expires_at: i64,
}

/// Every refusal's body, and a failed ingest job's `error`: a stable `code` (clients match on it, see
/// [`crate::error::ApiError::code`]), a human `msg`, and for `not-conformant` the checker's findings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<serde_json::Value>,
    /// `rate-limited` by a per-address limit: which one (its flag's name without `--`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// `missing-scope`: the scope the token lacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// An ingest job's progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobProgress {
    pub files_written: i64,
    pub files_planned: Option<i64>,
}

/// `POST /api/ingest` (202) and `GET /api/ingest/{job}`: the job, its error when it failed, its video when
/// it is done.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IngestJob {
    pub id: String,
    pub state: JobState,
    pub status_url: String,
    pub title: String,
    pub visibility: Visibility,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub progress: JobProgress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<Video>,
}

/// `POST /api/webhooks`: where to deliver, and which event types (absent or empty: all of them).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
}

/// A registered webhook as listed (the secret is never listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// The event types delivered; empty: all.
    pub events: Vec<String>,
    pub created_at: i64,
}

/// The answer to `POST /api/webhooks`: the webhook and its signing secret, shown this once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// The body POSTed to a webhook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: i64,
    pub data: serde_json::Value,
}

/// One line of `GET /api/webhooks/{id}/deliveries`: an attempt to deliver an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why the attempt failed without an answer (connect, timeout, refused address), or the non-2xx status.
    pub error: Option<String>,
    /// Unix seconds.
    pub at: i64,
    /// The delivery's state now: `pending` (another attempt is due), `delivered` or `failed`.
    pub delivery: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_text<
        T: FromText + Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    >() {
        for v in T::VARIANTS {
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json, serde_json::Value::from(v.text()));
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), *v);
            assert_eq!(T::from_text(v.text()), Some(*v));
        }
        assert_eq!(T::from_text("nope"), None);
    }

    #[test]
    fn json_text_is_as_str() {
        same_text::<Visibility>();
        same_text::<VideoState>();
        same_text::<JobState>();
        same_text::<Scope>();
    }

    #[test]
    fn a_bad_visibility_says_which_are_good() {
        let e = serde_json::from_str::<CreateVideo>(r#"{"visibility":"secret"}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("visibility is \"public\" or \"private\""),
            "{e}"
        );
    }
}

/// `POST /api/videos/{id}/direct-uploads` and `…/direct-uploads/complete`: one file of the package, named
/// by its path, its SHA-256 (lowercase hex) and its size in bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DirectFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// `POST /api/videos/{id}/direct-uploads`: where to send the bytes. `stored` when the same bytes are already
/// recorded at that path (nothing to send); otherwise a presigned `PUT` that the bucket accepts only with
/// exactly these headers (the SHA-256 the bucket checks, the length), until `expires_in` seconds pass.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DirectUpload {
    pub stored: Option<StoredFile>,
    pub url: Option<String>,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub expires_in: Option<u64>,
}
