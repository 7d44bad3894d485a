//! `PUT /api/videos/{id}/files/{path}`: one file of a package, with its SHA-256 in `X-Upcast-Sha256`.
//!
//! Order of work: authenticate → path → declared size, reserved against the quotas → spool the body (idle
//! timeout, pace, size cap, a reservation that grows before each write, hashing as it arrives) → digest →
//! content check → fsync → under the metadata lock: rename into the store, fsync the directory, commit the
//! row and release the reservation. Any refusal drops the spool, which deletes it (and its reservation):
//! no file, no row.
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::api_types::PutFileAnswer;
use super::auth::Action;
use super::check;
use super::db::{self, PutOutcome, Quota, StoredFile};
use super::error::{ApiError, ApiResult};
use super::limits::body::BodyReader;
use super::limits::reserve::Reservation;
use super::paths::{self, FileKind};
use super::store::{ObjectKey, Spool};
use super::AppState;

/// Write the body to disk in batches of this size, each on the blocking pool.
const WRITE_BATCH: usize = 1 << 20;

pub fn declared_sha256(req: &HttpRequest) -> ApiResult<String> {
    let v = req
        .headers()
        .get("x-upcast-sha256")
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::MissingDigest)?;
    if v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(v.to_string())
    } else {
        Err(ApiError::MissingDigest)
    }
}

fn content_length(req: &HttpRequest) -> ApiResult<Option<u64>> {
    match req.headers().get("content-length") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest("bad Content-Length".into())),
    }
}

pub fn size_limit(state: &AppState, kind: FileKind) -> u64 {
    match kind {
        FileKind::Playlist | FileKind::Manifest => state.cfg.limits.max_playlist_bytes,
        FileKind::Init | FileKind::Segment => state.cfg.limits.max_segment_bytes,
        FileKind::Poster => check::MAX_POSTER_BYTES,
        FileKind::Text => check::MAX_TEXT_BYTES,
        FileKind::Image(_) => check::MAX_IMAGE_BYTES,
    }
}

pub async fn put_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (video_id, path) = route.into_inner();
    let caller = state.keys.caller(&state.db, &req).await?;
    paths::check_video_id(&video_id)?;
    caller.may(Action::UploadVideo(&video_id))?;
    let kind = paths::check(&path)?;
    let sha256 = declared_sha256(&req)?;
    let limit = size_limit(&state, kind);
    let declared = content_length(&req)?;
    if let Some(n) = declared {
        if n > limit {
            return Err(ApiError::TooLarge(format!(
                "{path} is {n} bytes; the limit is {limit}"
            )));
        }
    }

    let (existing, reservation) = before_body(&state, &video_id, &path, &sha256, declared).await?;
    if let Some(f) = existing {
        // Read the body anyway (without storing it): a client still sending a large body to a server that
        // answered early and closed would see a reset instead of this 200. The digest is still checked.
        let (size, actual) = drain(&state, payload, limit, &path).await?;
        if actual != sha256 || size != f.size {
            return Err(ApiError::DigestMismatch {
                declared: sha256,
                actual,
            });
        }
        return Ok(HttpResponse::Ok().json(PutFileAnswer {
            file: f,
            created: false,
        }));
    }

    // A media segment is checked against its rendition's init segment, which must already be stored.
    let init = match kind {
        FileKind::Segment => Some(init_bytes(&state, &video_id, &path).await?),
        _ => None,
    };
    let body_limit = declared.unwrap_or(limit);
    // Kept whole until the spool moves on: a `Received` drops its spool (deleting the file) before its
    // reservation, so the disk never holds more than is reserved.
    let got = receive(&state, payload, body_limit, &path, reservation).await?;
    let size = got.size;
    if let Some(n) = declared.filter(|&n| n != size) {
        return Err(ApiError::BodyAborted(format!(
            "received {size} of the {n} bytes declared"
        )));
    }
    if got.sha256 != sha256 {
        return Err(ApiError::DigestMismatch {
            declared: sha256,
            actual: got.sha256,
        });
    }
    let got = check_and_sync(got, &path, kind, init).await?;

    let row = StoredFile { path, sha256, size };
    let created = commit(&state, &video_id, &row, got).await?;
    state.catalog.invalidate(&video_id);
    let body = PutFileAnswer { file: row, created };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// Cheap answers before reading the body: the same bytes already stored at `path` (returned), or a
/// published package (refused). A declared size is reserved against the quotas in full now; a chunked
/// body's reservation grows as it arrives.
pub async fn before_body(
    state: &AppState,
    video_id: &str,
    path: &str,
    sha256: &str,
    declared: Option<u64>,
) -> ApiResult<(Option<StoredFile>, Reservation)> {
    let (vid, p, s) = (video_id.to_string(), path.to_string(), sha256.to_string());
    let quota = quota(state);
    let mut reservation = state.limits.reservations.start(Some(video_id));
    state
        .db
        .run(move |c| {
            let v = db::video(c, &vid)?.ok_or(ApiError::NotFound)?;
            let f = db::file(c, &vid, &p)?;
            if let Some(f) = &f {
                if f.sha256 == s {
                    return Ok((Some(f.clone()), reservation));
                }
            }
            if v.is_ready() {
                return Err(ApiError::Published(format!("{p} cannot change")));
            }
            if let Some(n) = declared {
                reservation.grow(c, n, &quota)?;
            }
            Ok((None, reservation))
        })
        .await
}

/// The content check (CMAF, playlist, JPEG; a segment against its `init`) and an fsync, on the blocking
/// pool. The spool comes back with its reservation, or both are dropped with the refusal.
async fn check_and_sync(
    got: Received,
    path: &str,
    kind: FileKind,
    init: Option<web::Bytes>,
) -> ApiResult<Received> {
    let p = path.to_string();
    web::block(move || -> ApiResult<Received> {
        let mut got = got;
        check::check_file(&p, kind, &mut got.spool.file, got.size, init.as_deref())?;
        got.spool.file.sync_all().map_err(ApiError::from_io)?;
        Ok(got)
    })
    .await?
}

/// Under the metadata lock: move the spool into the store, record the row (quotas and the published rule
/// checked in the same transaction), release the reservation. Returns whether the row is new or changed.
/// A refused row deletes the object unless another path uses it; a replaced object nothing uses any more
/// is deleted.
async fn commit(
    state: &AppState,
    video_id: &str,
    row: &StoredFile,
    got: Received,
) -> ApiResult<bool> {
    let Received {
        spool, reservation, ..
    } = got;
    record(state, video_id, row, Some(spool), reservation).await
}

/// [`commit`]'s work, also for an object a client sent straight to the bucket (`spool` None: the object is
/// already under its key, and a refused row deletes it the same way).
pub async fn record(
    state: &AppState,
    video_id: &str,
    row: &StoredFile,
    spool: Option<Spool>,
    reservation: Reservation,
) -> ApiResult<bool> {
    let store = state.store.clone();
    let (vid, r) = (video_id.to_string(), row.clone());
    let quota = quota(state);
    state
        .db
        .run(move |c| {
            // Released when this closure returns, inside the lock hold that recorded the row (or failed to).
            let _reserved = reservation;
            let key = ObjectKey {
                video_id: vid.clone(),
                sha256: r.sha256.clone(),
            };
            if let Some(spool) = spool {
                store.commit(spool, &key).map_err(ApiError::from_io)?;
            }
            match db::put_file(c, &vid, &r, &quota) {
                Ok(PutOutcome::Replaced { orphan: Some(old) }) => {
                    let old = ObjectKey {
                        video_id: vid.clone(),
                        sha256: old,
                    };
                    if let Err(e) = store.delete(&old) {
                        log::warn!("could not delete replaced object {old:?}: {e}");
                    }
                    Ok(true)
                }
                Ok(PutOutcome::Unchanged) => Ok(false),
                Ok(_) => Ok(true),
                Err(e) => {
                    // The object is durable but unrecorded: remove it unless another path uses it.
                    if !db::object_referenced(c, &vid, &key.sha256).unwrap_or(true) {
                        let _ = store.delete(&key);
                    }
                    Err(e)
                }
            }
        })
        .await
}

pub async fn init_bytes(state: &AppState, video_id: &str, path: &str) -> ApiResult<web::Bytes> {
    let init_path = check::init_path_for(path);
    let (vid, ip) = (video_id.to_string(), init_path.clone());
    let row = state.db.run(move |c| db::file(c, &vid, &ip)).await?;
    let row = row.ok_or(ApiError::InitMissing(init_path))?;
    let key = ObjectKey {
        video_id: video_id.to_string(),
        sha256: row.sha256,
    };
    state.objects.get_or_load(&state.store, &key).await
}

pub fn quota(state: &AppState) -> Quota {
    let l = &state.cfg.limits;
    Quota {
        max_video_bytes: l.max_video_bytes,
        max_total_bytes: l.max_total_bytes,
        max_files_per_video: l.max_files_per_video,
    }
}

/// Read a small request body (JSON) under the idle timeout, the pace and a size limit, after
/// authentication (actix's own extractors would read it first, with no idle timeout).
pub async fn small_body(
    state: &AppState,
    payload: web::Payload,
    limit: usize,
) -> ApiResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut body = BodyReader::new(&state.cfg.limits, payload, limit as u64);
    while let Some(c) = body.next().await? {
        if out.len() + c.len() > limit {
            return Err(ApiError::TooLarge(format!(
                "request body over {limit} bytes"
            )));
        }
        out.extend_from_slice(&c);
    }
    Ok(out)
}

/// Read a body to its end without keeping it, under the same idle timeout, pace and size limit.
async fn drain(
    state: &AppState,
    payload: web::Payload,
    limit: u64,
    what: &str,
) -> ApiResult<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut body = BodyReader::new(&state.cfg.limits, payload, limit);
    while let Some(c) = body.next().await? {
        size += c.len() as u64;
        if size > limit {
            return Err(ApiError::TooLarge(format!(
                "{what} is over the {limit}-byte limit"
            )));
        }
        hasher.update(&c);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// A body stored in a spool file. The reservation holds its bytes against the quotas until it is dropped:
/// after the commit transaction recorded the row, or with the spool.
pub struct Received {
    /// Declared first: dropped (deleting the file) before the reservation.
    pub spool: Spool,
    pub size: u64,
    pub sha256: String,
    pub reservation: Reservation,
}

/// Stream the body into a spool file, hashing as it arrives, for any body (a package file, an ingest's
/// source). Bytes reach the disk only inside `reservation`, which grows before each write and fails with
/// `quota-exceeded` when the quotas leave no room. A chunk that takes longer than the idle timeout, a body
/// under the minimum rate or past its deadline, a body beyond `limit`, a transport error, a full disk or
/// the quota all drop the spool (deleting it) and the reservation, and fail.
pub async fn receive(
    state: &AppState,
    payload: web::Payload,
    limit: u64,
    what: &str,
    // A parameter: dropped after the spool (a local), so a failed upload's file is gone before its bytes are
    // released.
    mut reservation: Reservation,
) -> ApiResult<Received> {
    let store = state.store.clone();
    let mut spool = web::block(move || store.spool())
        .await?
        .map_err(ApiError::from_io)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut written = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    let mut body = BodyReader::new(&state.cfg.limits, payload, limit);
    loop {
        let chunk = body.next().await?;
        let done = chunk.is_none();
        if let Some(c) = chunk {
            size += c.len() as u64;
            if size > limit {
                return Err(ApiError::TooLarge(format!(
                    "{what} is over the {limit}-byte limit"
                )));
            }
            hasher.update(&c);
            buf.extend_from_slice(&c);
        }
        if buf.len() >= WRITE_BATCH || (done && !buf.is_empty()) {
            let to = written + buf.len() as u64;
            if to > reservation.bytes() {
                let quota = quota(state);
                let mut r = reservation;
                // The reservation comes back even when it cannot grow: it must outlive the spool file.
                let grown;
                (reservation, grown) = state
                    .db
                    .run(move |c| {
                        let g = r.grow(c, to, &quota);
                        Ok((r, g))
                    })
                    .await?;
                grown?;
            }
            let data = std::mem::replace(&mut buf, Vec::with_capacity(WRITE_BATCH));
            let (s, r) = web::block(move || {
                use std::io::Write;
                let r = spool.file.write_all(&data);
                (spool, r)
            })
            .await?;
            spool = s;
            r.map_err(ApiError::from_io)?;
            written = to;
        }
        if done {
            break;
        }
    }
    Ok(Received {
        spool,
        size,
        sha256: hex::encode(hasher.finalize()),
        reservation,
    })
}
