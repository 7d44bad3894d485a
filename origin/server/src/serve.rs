//! Playback: `GET|HEAD /v/{id}/{path}` for public videos and `/s/{expires}/{sig}/v/{id}/{path}` for private
//! ones (the signature covers the `/v/{id}/` prefix, so relative URIs in playlists stay signed).
//!
//! Every answer holds a bounded amount of memory: small objects and playlists come from the bounded object
//! cache, larger objects stream from the store's file a chunk at a time ([`body::file_range`]), HEAD is
//! answered from the file's row. The ETag is the content hash on every path, and the conditional and range
//! headers are answered in one place ([`ranges`]). Playlists are gzipped when the client accepts it.
//!
//! Cache-Control says who may keep an answer: public videos' objects are immutable for a year and their
//! playlists for 10 s; anything on a signed link is `private` and expires with the link; errors are never
//! stored.
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};

use super::body;
use super::catalog::VideoView;
use super::db;
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::ranges::{self, Answer};
use super::rendered;
use super::store::{Object, ObjectKey};
use super::AppState;

pub const SEGMENT_CACHE: &str = "public, max-age=31536000, immutable";
pub const PLAYLIST_CACHE: &str = "public, max-age=10";
pub const UPLOADING_CACHE: &str = "no-cache";
/// A redirect to a presigned bucket URL (valid an hour, see `store_s3::GET_URL_TTL_SECS`).
pub const PRESIGNED_REDIRECT_CACHE: &str = "public, max-age=300";
const SEGMENT_MAX_AGE: i64 = 31_536_000;
const PLAYLIST_MAX_AGE: i64 = 10;

/// Headers every playback response carries, errors included.
pub fn playback_headers(resp: &mut HttpResponse) {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Range, Content-Length, ETag, Accept-Ranges"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// CORS preflight for players on other origins: GET/HEAD with Range and conditional headers.
pub async fn preflight() -> HttpResponse {
    let mut r = HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "Range, If-None-Match, If-Modified-Since, If-Range, Accept-Encoding",
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish();
    playback_headers(&mut r);
    r
}

/// Who asked: anyone (a public video) or the holder of a link signed until `expires` (unix seconds).
#[derive(Clone, Copy, Debug)]
enum Access {
    Public,
    Signed { expires: i64 },
}

impl Access {
    /// Cache-Control for a successful answer (200, 206, 304, 416) about a `kind` file of a video that is
    /// published (`ready`) or still uploading.
    fn cache_control(self, kind: FileKind, ready: bool) -> HeaderValue {
        // An MPD is cached as a playlist is: it names the segments, and a re-upload may change it.
        let playlist = matches!(kind, FileKind::Playlist | FileKind::Manifest);
        match self {
            Access::Public if !ready => HeaderValue::from_static(UPLOADING_CACHE),
            Access::Public if playlist => HeaderValue::from_static(PLAYLIST_CACHE),
            Access::Public => HeaderValue::from_static(SEGMENT_CACHE),
            Access::Signed { expires } => {
                // Never longer than the link lives: a browser must not replay what the link no longer
                // grants, and `private` keeps CDNs and company proxies from storing it at all.
                let left = expires.saturating_sub(db::now_secs());
                let cap = if playlist {
                    PLAYLIST_MAX_AGE
                } else {
                    SEGMENT_MAX_AGE
                };
                let v = if !ready {
                    "private, no-cache".to_string()
                } else if left <= 0 {
                    "private, no-store".to_string()
                } else if playlist {
                    format!("private, max-age={}", left.min(cap))
                } else {
                    format!("private, max-age={}, immutable", left.min(cap))
                };
                HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("private, no-store"))
            }
        }
    }

    /// Cache-Control for an error: never stored (a 404 for a file still uploading must not outlive it).
    fn error_cache_control(self) -> HeaderValue {
        match self {
            Access::Public => HeaderValue::from_static("no-store"),
            Access::Signed { .. } => HeaderValue::from_static("private, no-store"),
        }
    }
}

pub async fn public(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, path) = route.into_inner();
    let access = Access::Public;
    finish(serve(&state, &req, &id, &path, access).await, access)
}

pub async fn signed(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(i64, String, String, String)>,
) -> HttpResponse {
    let (exp, sig, id, path) = route.into_inner();
    let access = Access::Signed { expires: exp };
    let r = match paths::check_video_id(&id).and_then(|()| state.keys.verify(&id, exp, &sig)) {
        Ok(()) => serve(&state, &req, &id, &path, access).await,
        Err(e) => Err(e),
    };
    finish(r, access)
}

fn finish(r: ApiResult<HttpResponse>, access: Access) -> HttpResponse {
    let mut resp = r.unwrap_or_else(|e| {
        let mut resp = actix_web::ResponseError::error_response(&e);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, access.error_cache_control());
        resp
    });
    playback_headers(&mut resp);
    resp
}

async fn serve(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    path: &str,
    access: Access,
) -> ApiResult<HttpResponse> {
    paths::check_video_id(id)?;
    let kind = paths::check(path).map_err(|_| ApiError::NotFound)?;
    let mut view = state.catalog.get(&state.db, id).await?;
    // A read-only origin may not have seen the writer's newest video yet.
    if view.is_none() && super::read_only::learn(state, id).await? {
        view = state.catalog.get(&state.db, id).await?;
    }
    let view = view.ok_or(ApiError::NotFound)?;
    if !view.video.is_public() && matches!(access, Access::Public) {
        // Do not confirm that a private video exists.
        return Err(ApiError::NotFound);
    }
    let file = view.files.get(path).ok_or(ApiError::NotFound)?;
    let key = ObjectKey {
        video_id: id.to_string(),
        sha256: file.sha256.clone(),
    };
    let cache = access.cache_control(kind, view.video.is_ready());
    let mut resp = if matches!(kind, FileKind::Playlist | FileKind::Manifest) {
        serve_playlist(state, req, &view, kind, path, key).await?
    } else {
        let public = view.video.is_public() && matches!(access, Access::Public);
        serve_object(state, req, kind, key, file.size, public).await?
    };
    let cache = match resp.headers().get(header::LOCATION) {
        // A presigned bucket URL expires: the redirect to it may be kept a little while, not a year.
        Some(l) if l.to_str().is_ok_and(|l| l.contains("X-Amz-Signature=")) => match access {
            Access::Public => HeaderValue::from_static(PRESIGNED_REDIRECT_CACHE),
            Access::Signed { .. } => HeaderValue::from_static("private, max-age=300"),
        },
        _ => cache,
    };
    resp.headers_mut().insert(header::CACHE_CONTROL, cache);
    Ok(resp)
}

/// A media object (init, segment, poster) of `size` bytes (its row's): small ones from the object cache,
/// larger ones streamed from the store's file; nothing is read for HEAD, 304 or 416.
async fn serve_object(
    state: &AppState,
    req: &HttpRequest,
    kind: FileKind,
    key: ObjectKey,
    size: u64,
    public: bool,
) -> ApiResult<HttpResponse> {
    let etag = format!("\"{}\"", key.sha256);
    let answer = ranges::answer(req, &etag, size);
    let mut b = ranges::builder(answer, &etag, size, kind.mime());
    let Some((start, len)) = wanted(req, answer) else {
        return Ok(b.body(head_body(answer)));
    };
    if state.objects.serves(size) {
        let bytes = state.objects.get_or_load(&state.store, &key).await?;
        let end = start + len;
        if end > bytes.len() as u64 {
            return Err(ApiError::Internal(format!(
                "object {}/{} is {} bytes, its row says {size}",
                key.video_id,
                key.sha256,
                bytes.len()
            )));
        }
        return Ok(b.body(slice(&bytes, start, end)?));
    }
    // A public video's object at the bucket's public URL (or a CDN's): immutable, content-addressed.
    if let Some(url) = state.store.public_url(&key).filter(|_| public) {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .finish());
    }
    let store = state.store.clone();
    let object = web::block(move || store.open(&key).and_then(open_local))
        .await?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::NotFound,
            _ => ApiError::from_io(e),
        })?;
    match object {
        Opened::File(f) => Ok(b.body(body::file_range(f, start, len))),
        Opened::Remote(url) => Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .finish()),
    }
}

enum Opened {
    File(std::fs::File),
    Remote(String),
}

fn open_local(o: Object) -> std::io::Result<Opened> {
    match o {
        Object::Local(p) => std::fs::File::open(p).map(Opened::File),
        Object::Remote(url) => Ok(Opened::Remote(url)),
    }
}

/// The span of the representation a GET is answered with; None when no body is sent (HEAD, 304, 416).
fn wanted(req: &HttpRequest, answer: Answer) -> Option<(u64, u64)> {
    match answer {
        Answer::Bytes { start, len, .. } if req.method() == Method::GET => Some((start, len)),
        _ => None,
    }
}

/// `bytes[start..end]`; a range outside them (an answer computed for another length) is our error.
fn slice(bytes: &Bytes, start: u64, end: u64) -> ApiResult<Bytes> {
    match (usize::try_from(start), usize::try_from(end)) {
        (Ok(s), Ok(e)) if s <= e && e <= bytes.len() => Ok(bytes.slice(s..e)),
        _ => Err(ApiError::Internal(format!(
            "range {start}..{end} of a {}-byte body",
            bytes.len()
        ))),
    }
}

/// The body of an answer that sends no bytes: HEAD announces the length it would send.
fn head_body(answer: Answer) -> BoxBody {
    match answer {
        Answer::Bytes { len, .. } => BoxBody::new(body::HeadOnly(len)),
        Answer::NotModified | Answer::Unsatisfiable => BoxBody::new(()),
    }
}

/// The client takes `Content-Encoding: gzip` (and not with q=0).
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let mut parts = t.trim().split(';');
            let name = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q_zero
        })
}

/// A playlist or MPD (`kind`), in the encoding the client accepts. Published, and an MPD always: the stored
/// bytes (and their gzip form) from the object cache. A playlist while uploading: the EVENT view, built once
/// per state of the video (see [`super::catalog`]); a static MPD has no such view, and players take it as
/// it is (Cache-Control `no-cache` until publish). Either way the ETag is the hash of the bytes, `-gz` for
/// the gzip form.
async fn serve_playlist(
    state: &AppState,
    req: &HttpRequest,
    view: &Arc<VideoView>,
    kind: FileKind,
    path: &str,
    key: ObjectKey,
) -> ApiResult<HttpResponse> {
    let gzip = accepts_gzip(req);
    let (bytes, hash) = if view.video.is_ready() || kind == FileKind::Manifest {
        let bytes = if gzip {
            published_gzip(state, &key).await?
        } else {
            state.objects.get_or_load(&state.store, &key).await?
        };
        (bytes, key.sha256)
    } else {
        let store = state.store.clone();
        let r = state
            .catalog
            .rendered(view, path, |v| {
                rendered::event_playlist(store, key, path.to_string(), v)
            })
            .await?;
        let bytes = if gzip {
            r.gzip.clone()
        } else {
            r.identity.clone()
        };
        (bytes, r.sha256.clone())
    };
    let etag = format!("\"{hash}{}\"", if gzip { "-gz" } else { "" });
    let len = bytes.len() as u64;
    let answer = ranges::answer(req, &etag, len);
    let mut b = ranges::builder(answer, &etag, len, kind.mime());
    b.insert_header((header::VARY, "Accept-Encoding"));
    if gzip && matches!(answer, Answer::Bytes { .. }) {
        b.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(match wanted(req, answer) {
        Some((start, len)) => b.body(slice(&bytes, start, start + len)?),
        None => b.body(head_body(answer)),
    })
}

/// The gzip form of a published playlist, compressed once (off the async workers) and kept beside it.
async fn published_gzip(state: &AppState, key: &ObjectKey) -> ApiResult<Bytes> {
    if let Some(z) = state.objects.get_gzip(key) {
        return Ok(z);
    }
    let raw = state.objects.get_or_load(&state.store, key).await?;
    let z = web::block(move || rendered::gzip(&raw))
        .await?
        .map_err(ApiError::from_io)?;
    let z = Bytes::from(z);
    state.objects.insert_gzip(key.clone(), z.clone());
    Ok(z)
}
