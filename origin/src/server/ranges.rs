//! Answering GET/HEAD for an in-memory object: ETag (content hash) and If-None-Match → 304, Range → 206
//! or 416, multi-range → the first range only (never a response larger than the file), If-Range.
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

/// Does an If-None-Match header list this ETag (weak comparison, RFC 9110 § 13.1.2)?
pub fn none_match_hits(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

/// Should a Range be honoured, given If-Range (RFC 9110 § 13.1.5)? Only a strong match of our ETag counts;
/// a date or a weak tag means "send the whole representation".
fn if_range_allows(req: &HttpRequest, etag: &str) -> bool {
    match req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(v) => v.trim() == etag,
    }
}

/// The response for `body`, with `etag` (quoted) and the caller's headers added by the caller.
pub fn respond(req: &HttpRequest, body: Bytes, mime: &'static str, etag: &str) -> HttpResponse {
    let len = body.len() as u64;
    let mut b = HttpResponse::Ok();
    b.insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    if none_match_hits(req, etag) {
        b.status(StatusCode::NOT_MODIFIED);
        return b.finish();
    }
    let range = req
        .headers()
        .get(header::RANGE)
        .filter(|_| if_range_allows(req, etag));
    if let Some(r) = range {
        let first = r
            .to_str()
            .ok()
            .and_then(|s| actix_files::HttpRange::parse(s, len).ok())
            .and_then(|v| v.first().copied());
        match first {
            Some(r) if r.length > 0 => {
                let (start, end) = (r.start as usize, (r.start + r.length) as usize);
                b.status(StatusCode::PARTIAL_CONTENT).insert_header((
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{len}", start, end - 1),
                ));
                return b.body(body.slice(start..end));
            }
            _ => {
                b.status(StatusCode::RANGE_NOT_SATISFIABLE).insert_header((
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{len}"))
                        .unwrap_or(HeaderValue::from_static("bytes */0")),
                ));
                return b.finish();
            }
        }
    }
    b.body(body)
}
