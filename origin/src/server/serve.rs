//! Playback: `GET|HEAD /v/{id}/{path}` for public videos and `/s/{expires}/{sig}/v/{id}/{path}` for private
//! ones (the signature covers the `/v/{id}/` prefix, so relative URIs in playlists stay signed).
//!
//! Media files go through actix-files (`sendfile`, Range → 206/416, first range only for multi-range
//! requests, ETag/Last-Modified → 304, If-Range). Playlists are small and served from memory, gzipped when
//! the client accepts it.
use std::io::Write;
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use flate2::write::GzEncoder;

use super::catalog::VideoView;
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::playlist;
use super::ranges;
use super::store::{Object, ObjectKey};
use super::AppState;

pub const SEGMENT_CACHE: &str = "public, max-age=31536000, immutable";
pub const PLAYLIST_CACHE: &str = "public, max-age=10";
pub const UPLOADING_CACHE: &str = "no-cache";
/// Whole objects up to this size are answered from memory.
const WHOLE_FROM_MEMORY_MAX: u64 = 256 << 10;

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

pub async fn public(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, path) = route.into_inner();
    finish(serve(&state, &req, &id, &path, false).await)
}

pub async fn signed(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(i64, String, String, String)>,
) -> HttpResponse {
    let (exp, sig, id, path) = route.into_inner();
    let r = match paths::check_video_id(&id).and_then(|()| state.keys.verify(&id, exp, &sig)) {
        Ok(()) => serve(&state, &req, &id, &path, true).await,
        Err(e) => Err(e),
    };
    finish(r)
}

fn finish(r: ApiResult<HttpResponse>) -> HttpResponse {
    let mut resp = r.unwrap_or_else(|e| actix_web::ResponseError::error_response(&e));
    playback_headers(&mut resp);
    resp
}

async fn serve(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    path: &str,
    signed: bool,
) -> ApiResult<HttpResponse> {
    paths::check_video_id(id)?;
    let kind = paths::check(path).map_err(|_| ApiError::NotFound)?;
    let view = state
        .catalog
        .get(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !view.video.is_public() && !signed {
        // Do not confirm that a private video exists.
        return Err(ApiError::NotFound);
    }
    let file = view.files.get(path).ok_or(ApiError::NotFound)?;
    let key = ObjectKey {
        video_id: id.to_string(),
        sha256: file.sha256.clone(),
    };
    if kind == FileKind::Playlist {
        return serve_playlist(state, req, &view, path, key).await;
    }
    let etag = format!("\"{}\"", &file.sha256[..32]);
    let cache = if view.video.is_ready() {
        SEGMENT_CACHE
    } else {
        UPLOADING_CACHE
    };
    // From memory: small objects, and ranged reads of objects up to the cache's limit (a slice of the cached
    // buffer). Whole large objects stream from the store through actix-files: measured on loopback, a 1 MB
    // segment sent as one in-memory buffer ran at ~0.6x nginx's req/s, streamed from the file at ~0.9-1x.
    let size = file.size.max(0) as u64;
    let ranged = req.headers().contains_key(header::RANGE);
    if size <= state.objects.max_object && (size <= WHOLE_FROM_MEMORY_MAX || ranged) {
        let body = state.objects.get_or_load(&state.store, &key).await?;
        let mut resp = ranges::respond(req, body, kind.mime(), &etag);
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        return Ok(resp);
    }
    // Large objects: straight from the store, never held in memory.
    match state.store.open(&key).map_err(|_| ApiError::NotFound)? {
        Object::Local(p) => {
            let f = NamedFile::open_async(&p)
                .await
                .map_err(|_| ApiError::NotFound)?
                .set_content_type(
                    kind.mime()
                        .parse()
                        .unwrap_or(mime::APPLICATION_OCTET_STREAM),
                )
                .disable_content_disposition();
            let mut resp = f.into_response(req);
            if resp.status() == actix_web::http::StatusCode::PARTIAL_CONTENT
                && if_range_fails(req, &resp)
            {
                resp = whole_file(resp, p).await?;
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            Ok(resp)
        }
        Object::Remote(url) => Ok(HttpResponse::TemporaryRedirect()
            .insert_header((header::LOCATION, url))
            .finish()),
    }
}

/// RFC 9110 § 13.1.5: a Range with an If-Range that does not match (strong ETag compare, or exact date)
/// is answered with the whole file. actix-files does not look at If-Range, so the origin does, using the
/// validators actix-files put on its response.
fn if_range_fails(req: &HttpRequest, resp: &HttpResponse) -> bool {
    let Some(v) = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let v = v.trim();
    if v.starts_with('"') || v.starts_with("W/") {
        let etag = ours(header::ETAG).and_then(|e| e.parse::<header::EntityTag>().ok());
        match (v.parse::<header::EntityTag>(), etag) {
            (Ok(given), Some(ours)) => !given.strong_eq(&ours),
            _ => true,
        }
    } else {
        let modified = ours(header::LAST_MODIFIED).and_then(|m| m.parse::<header::HttpDate>().ok());
        match (v.parse::<header::HttpDate>(), modified) {
            (Ok(given), Some(ours)) => {
                std::time::SystemTime::from(given) != std::time::SystemTime::from(ours)
            }
            _ => true,
        }
    }
}

/// The whole file, with the validators of the ranged response it replaces (rare: objects never change).
async fn whole_file(ranged: HttpResponse, p: std::path::PathBuf) -> ApiResult<HttpResponse> {
    let mut b = HttpResponse::Ok();
    for (k, v) in ranged.headers() {
        if k != header::CONTENT_RANGE
            && k != header::CONTENT_LENGTH
            && k != header::CONTENT_ENCODING
        {
            b.append_header((k.clone(), v.clone()));
        }
    }
    drop(ranged);
    let bytes = web::block(move || std::fs::read(p))
        .await?
        .map_err(ApiError::from_io)?;
    Ok(b.body(bytes))
}

fn accepts_gzip(req: &HttpRequest) -> bool {
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

async fn serve_playlist(
    state: &AppState,
    req: &HttpRequest,
    view: &Arc<VideoView>,
    path: &str,
    key: ObjectKey,
) -> ApiResult<HttpResponse> {
    let raw = state.objects.get_or_load(&state.store, &key).await?;
    let ready = view.video.is_ready();
    let (body, tag): (Bytes, String) = if ready {
        (raw, key.sha256.clone())
    } else {
        let present = |p: &str| view.files.contains_key(p);
        match playlist::event_view(path, &raw, &present) {
            Some(b) => {
                let tag = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b));
                (Bytes::from(b), tag)
            }
            None => (raw, key.sha256.clone()),
        }
    };
    let gzip = accepts_gzip(req);
    let etag = format!("\"{}{}\"", &tag[..32], if gzip { "-gz" } else { "" });
    let cache = if ready {
        PLAYLIST_CACHE
    } else {
        UPLOADING_CACHE
    };
    let mut b = HttpResponse::Ok();
    b.insert_header((header::CONTENT_TYPE, FileKind::Playlist.mime()))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::VARY, "Accept-Encoding"));
    if ranges::none_match_hits(req, &etag) {
        b.status(actix_web::http::StatusCode::NOT_MODIFIED);
        return Ok(b.finish());
    }
    let body = if gzip {
        b.insert_header((header::CONTENT_ENCODING, "gzip"));
        // Published playlists never change: keep their compressed form beside them in the cache.
        let gz_key = ObjectKey {
            video_id: key.video_id.clone(),
            sha256: format!("{}.gz", key.sha256),
        };
        match state.objects.get(&gz_key).filter(|_| ready) {
            Some(z) => z,
            None => {
                let z = Bytes::from(gzip_bytes(&body)?);
                if ready {
                    state.objects.insert(gz_key, z.clone());
                }
                z
            }
        }
    } else {
        body
    };
    Ok(b.body(body))
}

fn gzip_bytes(b: &[u8]) -> ApiResult<Vec<u8>> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(b.len() / 3 + 64),
        flate2::Compression::fast(),
    );
    e.write_all(b).map_err(ApiError::from_io)?;
    e.finish().map_err(ApiError::from_io)
}
