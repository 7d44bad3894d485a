//! The origin's one error type: each variant maps to an HTTP status and a stable kebab-case code,
//! sent as `{"code": "...", "msg": "..."}`.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::api_types::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or malformed Authorization header")]
    Unauthorized,
    #[error("this token may not do that")]
    Forbidden,
    /// An API token without the scope this needs (the scope's name).
    #[error("this token lacks the {0} scope")]
    MissingScope(&'static str),
    #[error("only the admin token may do that")]
    AdminOnly,
    #[error("the upload ticket has expired")]
    TicketExpired,
    #[error("the playback link has expired")]
    LinkExpired,
    #[error("the playback link's signature does not match")]
    BadSignature,
    #[error("the playback link lives longer than links may (7 days)")]
    LinkTooLong,
    #[error("not found")]
    NotFound,
    #[error("bad path: {0}")]
    BadPath(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("missing or malformed X-Upcast-Sha256 header (64 lowercase hex digits)")]
    MissingDigest,
    #[error("body SHA-256 is {actual}, the request declared {declared}")]
    DigestMismatch { declared: String, actual: String },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    QuotaExceeded(String),
    /// Ingest: a segment would be over the segment limit (key frames too far apart to cut it smaller).
    #[error("segment too large: {0}")]
    SegmentTooLarge(String),
    #[error("not CMAF: {0}")]
    NotCmaf(String),
    #[error("{0}")]
    NotJpeg(String),
    #[error("{0}")]
    NotImage(String),
    #[error("{0}")]
    NotWebvtt(String),
    /// A caption file that does not parse (the message names the line) or a bad caption option.
    #[error("{0}")]
    BadCaptions(String),
    /// Another change to the same video's manifests won the race; the request can be repeated.
    #[error("{0}")]
    Conflict(String),
    #[error("webhook URL refused: {0}")]
    BadWebhookUrl(String),
    #[error("bad playlist: {0}")]
    BadPlaylist(String),
    #[error("video is published; {0}")]
    Published(String),
    #[error("cannot segment this file: {0}")]
    UnsupportedMedia(String),
    #[error("upload the rendition's init segment {0} before its media segments")]
    InitMissing(String),
    #[error("package incomplete: {0}")]
    MissingFiles(String),
    #[error("files of the package changed while it was checked for publishing; publish again")]
    ChangedDuringPublish,
    #[error("the package fails {} MUST rule(s) of the HLS Authoring Spec", .0.count(upcast_core::check::Severity::Must))]
    NotConformant(Box<upcast_core::check::Report>),
    #[error("request body stalled past the idle timeout, or arrived under the minimum rate or past its deadline")]
    BodyTimeout,
    #[error("request body ended early: {0}")]
    BodyAborted(String),
    #[error("the origin's storage is full")]
    InsufficientStorage,
    /// Too many requests from one client, or too many at once of one kind: try again after `retry_after`.
    #[error("{what}; try again in {retry_after} s")]
    /// `limit`: the flag of the per-address limit that refused it (sent as `limit`), when one did.
    RateLimited {
        what: String,
        retry_after: u64,
        limit: Option<&'static str>,
    },
    /// The server is short of a resource it needs for this request (file descriptors, memory); transient.
    #[error("the origin is busy; try again shortly")]
    Busy,
    /// `direct-uploads` on an origin whose store is its local disk: send the file with `PUT …/files/…`.
    #[error("this origin stores objects on its own disk: upload with PUT /api/videos/{{id}}/files/{{path}}")]
    DirectUploadsOff,
    /// `direct-uploads/complete` for an object the bucket does not hold (not sent yet, or cut off).
    #[error("{0} is not in the bucket: send it to the presigned URL first")]
    NotInStore(String),
    /// A write to a read-only origin (`upcast serve --read-only`).
    #[error("this origin is read-only: send uploads, publishes and deletes to the writer origin")]
    ReadOnly,
    /// The object store (the S3 bucket) did not answer after the bounded retries; transient.
    #[error("the object store is unavailable; try again shortly")]
    StoreUnavailable,
    /// The detail is logged on the server and never sent: it may hold paths or OS error text.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The stable machine-readable code; clients match on this, never on `msg`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::MissingScope(_) => "missing-scope",
            ApiError::AdminOnly => "admin-only",
            ApiError::TicketExpired => "ticket-expired",
            ApiError::LinkExpired => "link-expired",
            ApiError::BadSignature => "bad-signature",
            ApiError::LinkTooLong => "link-too-long",
            ApiError::NotFound => "not-found",
            ApiError::BadPath(_) => "bad-path",
            ApiError::BadRequest(_) => "bad-request",
            ApiError::MissingDigest => "missing-digest",
            ApiError::DigestMismatch { .. } => "digest-mismatch",
            ApiError::TooLarge(_) => "too-large",
            ApiError::QuotaExceeded(_) => "quota-exceeded",
            ApiError::SegmentTooLarge(_) => "segment-too-large",
            ApiError::NotCmaf(_) => "not-cmaf",
            ApiError::NotJpeg(_) => "not-jpeg",
            ApiError::NotImage(_) => "not-image",
            ApiError::NotWebvtt(_) => "not-webvtt",
            ApiError::BadCaptions(_) => "bad-captions",
            ApiError::Conflict(_) => "conflict",
            ApiError::BadWebhookUrl(_) => "bad-webhook-url",
            ApiError::BadPlaylist(_) => "bad-playlist",
            ApiError::Published(_) => "published",
            ApiError::InitMissing(_) => "init-missing",
            ApiError::UnsupportedMedia(_) => "unsupported-media",
            ApiError::MissingFiles(_) => "missing-files",
            ApiError::ChangedDuringPublish => "changed-during-publish",
            ApiError::NotConformant(_) => "not-conformant",
            ApiError::BodyTimeout => "body-timeout",
            ApiError::BodyAborted(_) => "body-aborted",
            ApiError::InsufficientStorage => "insufficient-storage",
            ApiError::RateLimited { .. } => "rate-limited",
            ApiError::Busy => "busy",
            ApiError::StoreUnavailable => "store-unavailable",
            ApiError::DirectUploadsOff => "direct-uploads-off",
            ApiError::ReadOnly => "read-only",
            ApiError::NotInStore(_) => "not-in-store",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The body every refusal carries: the stable code, the message, and for `not-conformant` the
    /// findings themselves, so the uploader can show what to fix.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_string(),
            msg: self.to_string(),
            findings: match self {
                ApiError::NotConformant(report) => serde_json::to_value(&report.findings).ok(),
                _ => None,
            },
            limit: match self {
                ApiError::RateLimited { limit, .. } => limit.map(str::to_string),
                _ => None,
            },
            scope: match self {
                ApiError::MissingScope(scope) => Some((*scope).to_string()),
                _ => None,
            },
        }
    }

    /// Map an I/O error from the store: a full disk is the client's 507, running out of file descriptors or
    /// memory is a transient 503, anything else is ours (500, detail logged, not sent).
    pub fn from_io(e: std::io::Error) -> Self {
        if is_disk_full(&e) {
            ApiError::InsufficientStorage
        } else if is_out_of_resources(&e) {
            ApiError::Busy
        } else if crate::store_s3::retry::gave_up(&e) {
            eprintln!("upcast: object store: {e}");
            ApiError::StoreUnavailable
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// ENOSPC and EDQUOT both mean "no room": answer 507, not 500.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
        || e.kind() == std::io::ErrorKind::StorageFull
}

/// EMFILE, ENFILE, ENOMEM: the process or the system ran out of something that comes back on its own.
pub fn is_out_of_resources(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOMEM)
    ) || e.kind() == std::io::ErrorKind::OutOfMemory
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => ApiError::InsufficientStorage,
            _ => ApiError::Internal(format!("database: {e}")),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::TicketExpired => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden
            | ApiError::MissingScope(_)
            | ApiError::AdminOnly
            | ApiError::LinkExpired
            | ApiError::BadSignature
            | ApiError::LinkTooLong => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadPath(_)
            | ApiError::BadRequest(_)
            | ApiError::MissingDigest
            | ApiError::BodyAborted(_) => StatusCode::BAD_REQUEST,
            ApiError::DigestMismatch { .. }
            | ApiError::NotCmaf(_)
            | ApiError::NotJpeg(_)
            | ApiError::NotImage(_)
            | ApiError::NotWebvtt(_)
            | ApiError::BadCaptions(_)
            | ApiError::BadWebhookUrl(_)
            | ApiError::BadPlaylist(_)
            | ApiError::UnsupportedMedia(_)
            | ApiError::NotConformant(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge(_) | ApiError::QuotaExceeded(_) | ApiError::SegmentTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Published(_)
            | ApiError::DirectUploadsOff
            | ApiError::NotInStore(_)
            | ApiError::MissingFiles(_)
            | ApiError::InitMissing(_)
            | ApiError::Conflict(_)
            | ApiError::ChangedDuringPublish => StatusCode::CONFLICT,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy | ApiError::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = self.body();
        if let ApiError::Internal(detail) = self {
            // The client gets the stable code; the operator gets the detail.
            eprintln!("upcast: internal error: {detail}");
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header(("X-Content-Type-Options", "nosniff"));
        match self {
            ApiError::RateLimited { retry_after, .. } => {
                resp.insert_header(("Retry-After", retry_after.to_string()));
            }
            ApiError::Busy | ApiError::StoreUnavailable => {
                resp.insert_header(("Retry-After", "5"));
            }
            ApiError::ReadOnly => {
                resp.insert_header(("Allow", "GET, HEAD, OPTIONS"));
            }
            _ => {}
        }
        if matches!(self, ApiError::BodyTimeout | ApiError::BodyAborted(_)) {
            // What arrived of the body is discarded; the connection cannot be reused.
            resp.insert_header(("Connection", "close"));
        }
        resp.json(body)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
