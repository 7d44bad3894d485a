//! Who may do what: an admin token (stored hashed), per-video upload tickets that expire (stored hashed),
//! scoped API tokens ([`super::tokens`], stored hashed), and HMAC-signed playback links for private videos
//! and streams ([`super::signing`]). [`Action::needs`] maps every endpoint to the scope it needs.
use std::path::Path;

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

pub use super::api_types::Scope;
use super::db::{self, Db};
use super::error::{ApiError, ApiResult};
use super::signing::SigningKeys;
use super::tokens;

/// The authenticated caller of an API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Admin,
    /// Holder of an upload ticket for this video.
    Ticket(String),
    /// Holder of an API token ([`super::tokens`]) with these scopes.
    Token {
        id: String,
        scopes: Vec<Scope>,
    },
}

/// What an API request does. [`Action::needs`] is the one place that says which scope each needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
    /// Video lists, a video, its files, its playback link, ingest jobs. A ticket may for its own video.
    ReadVideo(Option<&'a str>),
    /// Upload a video's files, publish it. A ticket may for its own video.
    UploadVideo(&'a str),
    /// Create and delete videos, issue upload tickets, ingest.
    ManageVideos,
    /// Stream lists, a stream with its status, status events, a private stream's playback link.
    ReadStreams,
    /// Create, update, delete streams; rotate and revoke their keys.
    WriteStreams,
    /// Register and remove webhooks, read deliveries.
    Webhooks,
    /// `/metrics`.
    Metrics,
    /// Signing keys and API tokens: the admin token only.
    Admin,
}

impl Action<'_> {
    /// The scope a token needs for this; `None`: only the admin token may.
    pub fn needs(self) -> Option<Scope> {
        match self {
            Action::ReadVideo(_) | Action::ReadStreams => Some(Scope::Read),
            Action::UploadVideo(_) | Action::ManageVideos => Some(Scope::VideosWrite),
            Action::WriteStreams => Some(Scope::StreamsWrite),
            Action::Webhooks => Some(Scope::WebhooksWrite),
            Action::Metrics => Some(Scope::MetricsRead),
            Action::Admin => None,
        }
    }
}

impl Caller {
    /// May this caller do `action`? A token lacking the scope gets `403 missing-scope` naming it; an
    /// admin-only action is `403 admin-only` for a token; a ticket outside its video is `403 forbidden`.
    pub fn may(&self, action: Action<'_>) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Ticket(v) => match action {
                Action::ReadVideo(Some(id)) | Action::UploadVideo(id) if id == v => Ok(()),
                _ => Err(ApiError::Forbidden),
            },
            Caller::Token { scopes, .. } => match action.needs() {
                None => Err(ApiError::AdminOnly),
                Some(s) if scopes.contains(&s) => Ok(()),
                Some(s) => Err(ApiError::MissingScope(s.as_str())),
            },
        }
    }
}

pub fn random_token(prefix: &str) -> ApiResult<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("getrandom: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compare in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Keys loaded at start: the admin token's hash (in the database) and the playback signing keys (in their
/// own 0600 file, see [`super::signing`]).
pub struct Keys {
    admin_hash: String,
    pub signing: SigningKeys,
}

impl Keys {
    /// Load (or create on first start) the admin token hash and the playback signing keys. Returns the
    /// generated admin token when one was made, for the operator to see once. A signing key that an older
    /// version kept in the database moves to the key file and is erased from the database.
    pub fn init(
        db: &Db,
        given_admin: Option<&str>,
        signing_keys: &Path,
    ) -> Result<(Keys, Option<String>), String> {
        let (admin_hash, generated, legacy) = db
            .run_now(|c| {
                let mut generated = None;
                let admin_hash = match (given_admin, db::setting(c, "admin_token_sha256")?) {
                    (Some(t), _) => {
                        let h = hash_token(t);
                        db::set_setting(c, "admin_token_sha256", &h)?;
                        h
                    }
                    (None, Some(h)) => h,
                    (None, None) => {
                        let t = random_token("upa_")?;
                        let h = hash_token(&t);
                        db::set_setting(c, "admin_token_sha256", &h)?;
                        generated = Some(t);
                        h
                    }
                };
                Ok((admin_hash, generated, db::setting(c, "signing_key")?))
            })
            .map_err(|e| e.to_string())?;
        let signing = SigningKeys::open(signing_keys, legacy.as_deref())?;
        if legacy.is_some() {
            db.run_now(|c| db::erase_setting(c, "signing_key"))
                .map_err(|e| e.to_string())?;
        }
        Ok((
            Keys {
                admin_hash,
                signing,
            },
            generated,
        ))
    }

    /// The signature for a playback link to `video_id` valid until `expires` (unix seconds).
    pub fn sign(&self, video_id: &str, expires: i64) -> String {
        self.signing.sign(video_id, expires)
    }

    pub fn verify(&self, video_id: &str, expires: i64, sig: &str) -> ApiResult<()> {
        self.signing.verify(video_id, expires, sig)
    }

    /// Authenticate an API request from its `Authorization: Bearer` header.
    pub async fn caller(&self, db: &Db, req: &HttpRequest) -> ApiResult<Caller> {
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(ApiError::Unauthorized)?;
        let h = hash_token(token);
        if same(h.as_bytes(), self.admin_hash.as_bytes()) {
            return Ok(Caller::Admin);
        }
        // Lookup by the hash of a 256-bit random token: timing reveals nothing about a valid token.
        let (ticket, token) = db
            .run(move |c| {
                Ok(match db::ticket(c, &h)? {
                    Some(t) => (Some(t), None),
                    None => (None, tokens::authenticate(c, &h)?),
                })
            })
            .await?;
        match (ticket, token) {
            (Some((video_id, expires)), _) if expires >= db::now_secs() => {
                Ok(Caller::Ticket(video_id))
            }
            (Some(_), _) => Err(ApiError::TicketExpired),
            (None, Some((id, scopes))) => Ok(Caller::Token { id, scopes }),
            (None, None) => Err(ApiError::Unauthorized),
        }
    }
}
