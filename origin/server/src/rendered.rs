//! A playlist as served while its package uploads: the growing EVENT view ([`playlist::event_view`]) of the
//! stored playlist, its gzip encoding and its content hash (the ETag). Built once per state of the video,
//! off the async workers, and memoised in that state's [`VideoView`] (see [`super::catalog`]).
use std::io::Write;
use std::sync::{Arc, Weak};

use actix_web::web::{self, Bytes};
use flate2::write::GzEncoder;
use futures_util::future::{BoxFuture, FutureExt};
use sha2::{Digest, Sha256};

use super::catalog::VideoView;
use super::error::{is_out_of_resources, ApiError};
use super::playlist;
use super::store::{ObjectKey, Store};

pub struct Rendered {
    pub identity: Bytes,
    pub gzip: Bytes,
    /// SHA-256 (hex) of `identity`.
    pub sha256: String,
}

/// Why a build failed; shared by every request that waited on it, so it is cheap to clone.
#[derive(Clone, Debug)]
pub enum RenderError {
    NotFound,
    Busy,
    /// The bucket did not answer within its retries (503, not 500: it comes back on its own).
    StoreUnavailable,
    Internal(Arc<str>),
}

impl From<RenderError> for ApiError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::NotFound => ApiError::NotFound,
            RenderError::Busy => ApiError::Busy,
            RenderError::StoreUnavailable => ApiError::StoreUnavailable,
            RenderError::Internal(d) => ApiError::Internal(d.to_string()),
        }
    }
}

impl From<std::io::Error> for RenderError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            RenderError::NotFound
        } else if is_out_of_resources(&e) {
            RenderError::Busy
        } else if crate::store_s3::retry::gave_up(&e) {
            RenderError::StoreUnavailable
        } else {
            RenderError::Internal(e.to_string().into())
        }
    }
}

/// gzip at the fast level: playlists are text that compresses ~5:1 even so.
pub fn gzip(b: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(b.len() / 3 + 64),
        flate2::Compression::fast(),
    );
    e.write_all(b)?;
    e.finish()
}

/// Build the EVENT view of the stored playlist `key` at `path`, against the files of `view` (held weakly:
/// the view memoises this future, and the requests awaiting it keep the view alive). A master playlist, or
/// one that does not parse as a media playlist, is served as stored.
pub fn event_playlist(
    store: Arc<dyn Store>,
    key: ObjectKey,
    path: String,
    view: Weak<VideoView>,
) -> BoxFuture<'static, Result<Arc<Rendered>, RenderError>> {
    async move {
        web::block(move || {
            let raw = store.read(&key)?;
            let view = view
                .upgrade()
                .ok_or_else(|| RenderError::Internal("video view dropped during a build".into()))?;
            let present = |p: &str| view.files.contains_key(p);
            let (identity, sha256) = match playlist::event_view(&path, &raw, &present) {
                Some(v) => {
                    let h = hex::encode(Sha256::digest(&v));
                    (v, h)
                }
                None => (raw, key.sha256.clone()),
            };
            let gzip = gzip(&identity)?;
            Ok(Arc::new(Rendered {
                identity: Bytes::from(identity),
                gzip: Bytes::from(gzip),
                sha256,
            }))
        })
        .await
        .map_err(|e| RenderError::Internal(e.to_string().into()))?
    }
    .boxed()
}
