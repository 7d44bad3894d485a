//! Conditional and range requests, answered in one place for every playback response (objects in memory or
//! streamed from a file, playlists in either encoding, GET and HEAD): the ETag is the representation's
//! content hash; `If-None-Match` → 304 (weak comparison, RFC 9110 § 13.1.2); `Range` → 206 or 416 on GET,
//! multi-range → the first range only (never a response larger than the object); `If-Range` (§ 13.1.5)
//! honours the Range only on a strong match of the ETag. The origin sends no Last-Modified, so an
//! `If-Range` date never matches and gets the whole representation.
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

/// What a request gets, decided from its headers before any byte is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 304: the client's copy is current.
    NotModified,
    /// 416: the Range does not overlap the representation.
    Unsatisfiable,
    /// 200 (`partial` false) or 206: `len` bytes from `start`.
    Bytes { start: u64, len: u64, partial: bool },
}

/// The list items of the `If-None-Match` headers.
fn none_match_items(req: &HttpRequest) -> impl Iterator<Item = &str> {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// Does `If-None-Match` list `etag` (quoted), weakly compared, or `*`?
fn none_match_hits(req: &HttpRequest, etag: &str) -> bool {
    none_match_items(req).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// May the Range be honoured? Without If-Range, yes; with one, only when it is our strong ETag exactly
/// (a weak tag, another tag, or a date fails).
fn if_range_holds(req: &HttpRequest, etag: &str) -> bool {
    match req.headers().get(header::IF_RANGE) {
        None => true,
        Some(v) => v.to_str().is_ok_and(|v| v.trim() == etag),
    }
}

/// Decide the answer for a GET or HEAD of a representation of `len` bytes whose ETag is `etag` (quoted).
pub fn answer(req: &HttpRequest, etag: &str, len: u64) -> Answer {
    let whole = Answer::Bytes {
        start: 0,
        len,
        partial: false,
    };
    if none_match_hits(req, etag) {
        return Answer::NotModified;
    }
    // RFC 9110 § 14.2: Range is defined for GET only; HEAD describes the whole representation.
    if req.method() != Method::GET || !if_range_holds(req, etag) {
        return whole;
    }
    let Some(range) = req.headers().get(header::RANGE) else {
        return whole;
    };
    let Some(spec) = range.to_str().ok().filter(|s| s.starts_with("bytes=")) else {
        // Another range unit, or not text: ignored (§ 14.2).
        return whole;
    };
    match actix_files::HttpRange::parse(spec, len)
        .ok()
        .and_then(|v| v.first().copied())
    {
        Some(r) if r.length > 0 => Answer::Bytes {
            start: r.start,
            len: r.length,
            partial: r.start != 0 || r.length != len,
        },
        _ => Answer::Unsatisfiable,
    }
}

/// Status and headers for `answer` on a representation of `total` bytes; the caller adds Cache-Control
/// (and Vary) and, for [`Answer::Bytes`], the body.
pub fn builder(answer: Answer, etag: &str, total: u64, mime: &'static str) -> HttpResponseBuilder {
    let mut b = HttpResponse::Ok();
    b.insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    match answer {
        Answer::NotModified => {
            b.status(StatusCode::NOT_MODIFIED);
        }
        Answer::Unsatisfiable => {
            b.status(StatusCode::RANGE_NOT_SATISFIABLE)
                .insert_header((header::CONTENT_RANGE, content_range(None, total)));
        }
        Answer::Bytes {
            start,
            len,
            partial,
        } => {
            b.insert_header((header::CONTENT_TYPE, mime));
            if partial {
                b.status(StatusCode::PARTIAL_CONTENT).insert_header((
                    header::CONTENT_RANGE,
                    content_range(Some((start, start + len - 1)), total),
                ));
            }
        }
    }
    b
}

fn content_range(span: Option<(u64, u64)>, total: u64) -> HeaderValue {
    let s = match span {
        Some((first, last)) => format!("bytes {first}-{last}/{total}"),
        None => format!("bytes */{total}"),
    };
    HeaderValue::from_str(&s).unwrap_or_else(|_| unreachable!("digits, spaces, '-', '/' and '*'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const TAG: &str = "\"abc\"";

    fn ans(req: TestRequest) -> Answer {
        answer(&req.to_http_request(), TAG, 100)
    }

    fn part(start: u64, len: u64) -> Answer {
        Answer::Bytes {
            start,
            len,
            partial: true,
        }
    }

    const WHOLE: Answer = Answer::Bytes {
        start: 0,
        len: 100,
        partial: false,
    };

    #[test]
    fn if_none_match_is_weak_and_comes_first() {
        for inm in ["\"abc\"", "W/\"abc\"", "\"x\", W/\"abc\"", "*"] {
            let r = TestRequest::get()
                .insert_header(("If-None-Match", inm))
                .insert_header(("Range", "bytes=0-9"));
            assert_eq!(ans(r), Answer::NotModified, "{inm}");
        }
        let r = TestRequest::get().insert_header(("If-None-Match", "\"abcd\""));
        assert_eq!(ans(r), WHOLE);
    }

    #[test]
    fn if_range_needs_the_strong_etag() {
        let r = |ir: &str| {
            TestRequest::get()
                .insert_header(("Range", "bytes=10-19"))
                .insert_header(("If-Range", ir))
        };
        assert_eq!(ans(r("\"abc\"")), part(10, 10));
        for stale in ["W/\"abc\"", "\"abd\"", "Tue, 01 Jan 2030 00:00:00 GMT", ""] {
            assert_eq!(ans(r(stale)), WHOLE, "{stale}");
        }
    }

    #[test]
    fn ranges() {
        let r = |v: &str| TestRequest::get().insert_header(("Range", v));
        assert_eq!(ans(r("bytes=-10")), part(90, 10));
        assert_eq!(ans(r("bytes=0-")), WHOLE);
        assert_eq!(ans(r("bytes=0-9,20-29")), part(0, 10));
        assert_eq!(ans(r("bytes=100-")), Answer::Unsatisfiable);
        assert_eq!(ans(r("items=0-9")), WHOLE);
        let head = TestRequest::default()
            .method(Method::HEAD)
            .insert_header(("Range", "bytes=0-9"));
        assert_eq!(ans(head), WHOLE);
    }
}
