//! Who may do what: an admin token (stored hashed), per-video upload tickets that expire (stored hashed), and
//! HMAC-signed playback links for private videos (HMAC-SHA256 over the path prefix `/v/{id}/` and the expiry,
//! like nginx secure_link: every relative URI a player resolves under the signed prefix is covered).
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::db::{self, Db};
use super::error::{ApiError, ApiResult};

/// The authenticated caller of an API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Admin,
    /// Holder of an upload ticket for this video.
    Ticket(String),
}

impl Caller {
    /// May this caller act on `video_id`?
    pub fn may_write(&self, video_id: &str) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Ticket(v) if v == video_id => Ok(()),
            Caller::Ticket(_) => Err(ApiError::Forbidden),
        }
    }

    pub fn must_be_admin(&self) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Ticket(_) => Err(ApiError::Forbidden),
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

/// Keys loaded at start.
pub struct Keys {
    admin_hash: String,
    signing_key: Vec<u8>,
}

impl Keys {
    /// Load (or create on first start) the admin token hash and the playback signing key. Returns the
    /// generated admin token when one was made, for the operator to see once.
    pub fn init(db: &Db, given_admin: Option<&str>) -> ApiResult<(Keys, Option<String>)> {
        db.run_now(|c| {
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
            let signing_key = match db::setting(c, "signing_key")? {
                Some(k) => hex::decode(k).map_err(|e| ApiError::Internal(e.to_string()))?,
                None => {
                    let k = random_token("")?;
                    db::set_setting(c, "signing_key", &k)?;
                    hex::decode(k).map_err(|e| ApiError::Internal(e.to_string()))?
                }
            };
            Ok((
                Keys {
                    admin_hash,
                    signing_key,
                },
                generated,
            ))
        })
    }

    fn mac(&self, video_id: &str, expires: i64) -> Hmac<Sha256> {
        // new_from_slice accepts keys of any length for HMAC.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(format!("/v/{video_id}/\n{expires}").as_bytes());
        m
    }

    /// The signature for a playback link to `video_id` valid until `expires` (unix seconds).
    pub fn sign(&self, video_id: &str, expires: i64) -> String {
        hex::encode(self.mac(video_id, expires).finalize().into_bytes())
    }

    pub fn verify(&self, video_id: &str, expires: i64, sig: &str) -> ApiResult<()> {
        let sig = hex::decode(sig).map_err(|_| ApiError::BadSignature)?;
        self.mac(video_id, expires)
            .verify_slice(&sig)
            .map_err(|_| ApiError::BadSignature)?;
        if expires < db::now_secs() {
            return Err(ApiError::LinkExpired);
        }
        Ok(())
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
        let found = db.run(move |c| db::ticket(c, &h)).await?;
        match found {
            Some((video_id, expires)) if expires >= db::now_secs() => Ok(Caller::Ticket(video_id)),
            Some(_) => Err(ApiError::TicketExpired),
            None => Err(ApiError::Unauthorized),
        }
    }
}
