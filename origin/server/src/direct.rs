//! Direct uploads: the client sends a file's bytes straight to the bucket with a URL the origin presigns,
//! and the origin never proxies media.
//!
//! `POST /api/videos/{id}/direct-uploads` `{path, sha256, size}`: the same checks as `PUT …/files/{path}`
//! before a body (authentication, path, size limit, published, quotas), then a presigned `PUT` that pins
//! the key (content-addressed: `objects/{id}/{sha256}`), the length and the SHA-256
//! (`x-amz-checksum-sha256`, signed into the URL). `POST …/direct-uploads/complete` `{path, sha256, size}`
//! once the bucket took it: the origin reads the object back from the bucket, checks its size, its
//! SHA-256 and its content (as an upload through the origin is checked), and records the row. A wrong,
//! short or missing object is refused and leaves no row; a refused object the bucket holds is deleted.
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use super::api_types::{DirectFile, DirectUpload, PutFileAnswer, StoredFile};
use super::auth::Action;
use super::check;
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::store::ObjectKey;
use super::upload::{before_body, init_bytes, record, size_limit, small_body};
use super::AppState;

/// How long a presigned PUT stays valid.
pub const PUT_URL_TTL_SECS: u32 = 900;

/// Authenticates and checks what the request names; the file's kind.
async fn file_of(
    state: &AppState,
    req: &HttpRequest,
    video_id: &str,
    payload: web::Payload,
) -> ApiResult<(DirectFile, FileKind)> {
    let caller = state.keys.caller(&state.db, req).await?;
    paths::check_video_id(video_id)?;
    caller.may(Action::UploadVideo(video_id))?;
    let body = small_body(state, payload, 4 << 10).await?;
    let f: DirectFile =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let kind = paths::check(&f.path)?;
    if f.sha256.len() != 64
        || !f
            .sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::MissingDigest);
    }
    let limit = size_limit(state, kind);
    if f.size > limit {
        return Err(ApiError::TooLarge(format!(
            "{} is {} bytes; the limit is {limit}",
            f.path, f.size
        )));
    }
    Ok((f, kind))
}

pub async fn presign(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let video_id = route.into_inner();
    let (f, _) = file_of(&state, &req, &video_id, payload).await?;
    // The quotas are checked now (the reservation is dropped at once): a URL is not handed out for bytes
    // that could not be recorded. `complete` checks them again when it records the row.
    let (existing, _reservation) =
        before_body(&state, &video_id, &f.path, &f.sha256, Some(f.size)).await?;
    if let Some(stored) = existing {
        return Ok(HttpResponse::Ok().json(DirectUpload {
            stored: Some(stored),
            url: None,
            headers: Vec::new(),
            expires_in: None,
        }));
    }
    let key = ObjectKey {
        video_id,
        sha256: f.sha256,
    };
    let store = state.store.clone();
    let put = web::block(move || store.direct_put(&key, f.size, PUT_URL_TTL_SECS))
        .await?
        .map_err(ApiError::from_io)?
        .ok_or(ApiError::DirectUploadsOff)?;
    Ok(HttpResponse::Ok().json(DirectUpload {
        stored: None,
        url: Some(put.url),
        headers: put.headers,
        expires_in: Some(u64::from(PUT_URL_TTL_SECS)),
    }))
}

pub async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let video_id = route.into_inner();
    let (f, kind) = file_of(&state, &req, &video_id, payload).await?;
    let (existing, reservation) =
        before_body(&state, &video_id, &f.path, &f.sha256, Some(f.size)).await?;
    if let Some(file) = existing {
        return Ok(HttpResponse::Ok().json(PutFileAnswer {
            file,
            created: false,
        }));
    }
    let key = ObjectKey {
        video_id: video_id.clone(),
        sha256: f.sha256.clone(),
    };
    let init = match kind {
        FileKind::Segment => Some(init_bytes(&state, &video_id, &f.path).await?),
        _ => None,
    };
    let checked = verify(&state, &key, &f, kind, init).await;
    if let Err(e) = checked {
        // Bytes under a key they do not hash to, or that fail the content check: gone, unless a recorded
        // row uses the key (then they are that row's bytes, and the refusal was for this path only).
        if e.status_code() == actix_web::http::StatusCode::UNPROCESSABLE_ENTITY {
            forget_unrecorded(&state, &key).await;
        }
        return Err(e);
    }
    let row = StoredFile {
        path: f.path,
        sha256: f.sha256,
        size: f.size,
    };
    let created = record(&state, &video_id, &row, None, reservation).await?;
    state.catalog.invalidate(&video_id);
    let body = PutFileAnswer { file: row, created };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// Reads the object back from the store: present, of the declared size, hashing to its key, and passing
/// the content check. The whole object is read: s3s-fs 0.14 keeps the bytes of a PUT it refuses with
/// BadDigest, so the bucket's checksum alone is not proof; the content check reads every byte anyway.
async fn verify(
    state: &AppState,
    key: &ObjectKey,
    f: &DirectFile,
    kind: FileKind,
    init: Option<web::Bytes>,
) -> ApiResult<()> {
    let (store, k) = (state.store.clone(), key.clone());
    let (path, size) = (f.path.clone(), f.size);
    web::block(move || -> ApiResult<()> {
        let bytes = match store.read(&k) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::NotInStore(path));
            }
            Err(e) => return Err(ApiError::from_io(e)),
        };
        let actual = hex::encode(Sha256::digest(&bytes));
        if u64::try_from(bytes.len()).ok() != Some(size) || actual != k.sha256 {
            return Err(ApiError::DigestMismatch {
                declared: k.sha256.clone(),
                actual,
            });
        }
        check::check_bytes(&path, kind, &bytes, init.as_deref())?;
        Ok(())
    })
    .await?
}

async fn forget_unrecorded(state: &AppState, key: &ObjectKey) {
    let (store, k) = (state.store.clone(), key.clone());
    let _ = state
        .db
        .run(move |c| {
            if !super::db::object_referenced(c, &k.video_id, &k.sha256).unwrap_or(true) {
                if let Err(e) = store.delete(&k) {
                    log::warn!("could not delete refused object {k:?}: {e}");
                }
            }
            Ok(())
        })
        .await;
}
