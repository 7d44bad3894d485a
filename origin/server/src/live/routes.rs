//! `GET|HEAD /live/{stream}/...` (public streams) and `/s/{exp}/{sig}/live/{stream}/...` (any stream, the
//! link signed for the stream id): the multivariant playlist, each rendition's LL-HLS playlist with
//! blocking reload (`_HLS_msn`, `_HLS_part`, `_HLS_skip`), init segments, segments and parts (the
//! preload-hinted part blocks until it is complete). Blocking waits on the stream's change channel (no
//! polling), holds one of a bounded number of slots, and gives up after three target durations (503).
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::lookup::Lookup;
use super::playlists;
use super::reload::{check_msn, reload_ready, wait, Reload};
use super::stream::{LiveStream, State};
use crate::error::{ApiError, ApiResult};
use crate::serve::playback_headers;
use crate::AppState;

const PLAYLIST_MIME: &str = "application/vnd.apple.mpegurl";
const MPD_MIME: &str = "application/dash+xml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    Signed { expires: i64 },
}

/// What the path names, below `/live/{stream}/`.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Multivariant,
    Mpd,
    Playlist(String),
    Init(String, u32),
    Segment(String, u64),
    /// A part by its rendition-wide number (`part{n}.m4s`).
    Part(String, u64),
}

fn parse(path: &str) -> Option<Target> {
    if path == "index.m3u8" {
        return Some(Target::Multivariant);
    }
    if path == "manifest.mpd" {
        return Some(Target::Mpd);
    }
    let (r, file) = path.split_once('/')?;
    let r = r.to_string();
    if file == "index.m3u8" {
        return Some(Target::Playlist(r));
    }
    if file == "init.mp4" {
        return Some(Target::Init(r, 0));
    }
    if let Some(g) = file
        .strip_prefix("init-")
        .and_then(|f| f.strip_suffix(".mp4"))
    {
        return number(g).map(|g| Target::Init(r, g));
    }
    let stem = file.strip_suffix(".m4s")?;
    match stem.strip_prefix("part") {
        None => number(stem).map(|m| Target::Segment(r, m)),
        Some(n) => number(n).map(|n| Target::Part(r, n)),
    }
}

/// A decimal number without sign or leading zeros (one spelling per URI).
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

pub async fn public(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(String, String)>,
) -> HttpResponse {
    let (id, path) = route.into_inner();
    finish(
        serve(&state, &req, &id, &path, Access::Public).await,
        Access::Public,
    )
}

pub async fn signed(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<(i64, String, String, String)>,
) -> HttpResponse {
    let (exp, sig, id, path) = route.into_inner();
    let access = Access::Signed { expires: exp };
    let r = match state
        .keys
        .verify(&crate::streams::api::signing_subject(&id), exp, &sig)
    {
        Ok(()) => serve(&state, &req, &id, &path, access).await,
        Err(e) => Err(Refusal::Api(e)),
    };
    finish(r, access)
}

pub(super) enum Refusal {
    Api(ApiError),
    /// The blocking request waited three target durations (RFC 8216bis § 6.2.5.2: 503).
    Timeout,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

fn finish(r: Result<HttpResponse, Refusal>, access: Access) -> HttpResponse {
    let mut resp = r.unwrap_or_else(|e| {
        let mut resp = match e {
            Refusal::Api(e) => actix_web::ResponseError::error_response(&e),
            Refusal::Timeout => HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
                .insert_header((header::RETRY_AFTER, "1"))
                .json(crate::api_types::ErrorBody {
                    code: "blocking-timeout".into(),
                    msg: "the part or segment asked for did not arrive in time".into(),
                    findings: None,
                    limit: None,
                    scope: None,
                }),
        };
        let no_store = match access {
            Access::Public => "no-store",
            Access::Signed { .. } => "private, no-store",
        };
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(no_store));
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
) -> Result<HttpResponse, Refusal> {
    let target = parse(path).ok_or(ApiError::NotFound)?;
    let stream = state.live.get(id).ok_or(ApiError::NotFound)?;
    if access == Access::Public && !stream.is_public() {
        // Do not confirm that a private stream exists.
        return Err(ApiError::NotFound.into());
    }
    let ip = crate::limits::client_ip(req, &state.cfg.limits.trusted_proxies);
    let mut encoding = None;
    let (body, mime, max_age) = match target {
        Target::Multivariant => {
            let st = stream.lock();
            // Not before every rendition it would list has media (a player given a playlist without
            // its audio group, or without variants, would never learn of them): 404 until then, or
            // once one rendition has two whole segments (a track that never starts is left out).
            let ready = st.renditions.iter().all(|r| r.has_media())
                || st.renditions.iter().any(|r| r.segments.len() >= 2);
            if !ready || st.renditions.is_empty() {
                return Err(ApiError::NotFound.into());
            }
            (Bytes::from(playlists::multivariant(&st)), PLAYLIST_MIME, 1)
        }
        Target::Mpd => {
            if let Some(ip) = ip {
                stream.saw_viewer(ip);
            }
            let info = req.connection_info();
            let utc = format!("{}://{}/live/time", info.scheme(), info.host());
            let gzip = crate::serve::accepts_gzip(req);
            let (body, gzipped) =
                super::dash::cached_mpd(&stream, &utc, gzip).ok_or(ApiError::NotFound)?;
            encoding = gzipped.then_some("gzip");
            (body, MPD_MIME, 1)
        }
        Target::Playlist(r) => {
            if let Some(ip) = ip {
                stream.saw_viewer(ip);
            }
            let q = Reload::from_query(req.query_string())?;
            let i = rendition(&stream, &r)?;
            if let Some(msn) = q.msn {
                check_msn(&stream.lock(), i, msn)?;
                let want = |st: &State| reload_ready(st, i, msn, q.part);
                wait(state, &stream, ip, want).await?;
            }
            let gzip = crate::serve::accepts_gzip(req);
            let (body, gzipped) = stream
                .media_playlist(i, q.skip, gzip)
                .ok_or(ApiError::NotFound)?;
            encoding = gzipped.then_some("gzip");
            // A blocking answer names one state of the window and may be cached for the six target
            // durations a client can ask for it (Apple's LL-HLS CDN guidance); the plain reload ~ a part.
            let age = if q.msn.is_some() {
                6 * playlists::target_duration(&stream.lock())
            } else {
                1
            };
            (body, PLAYLIST_MIME, age)
        }
        Target::Init(r, gen) => {
            let i = rendition(&stream, &r)?;
            let st = stream.lock();
            let b = st.renditions[i].init(gen).ok_or(ApiError::NotFound)?;
            (b, "video/mp4", media_age(&st))
        }
        Target::Segment(r, msn) => {
            let i = rendition(&stream, &r)?;
            let st = stream.lock();
            match st.renditions[i].segment(msn) {
                Lookup::Ready(b) => (b, "video/iso.segment", media_age(&st)),
                Lookup::Pending | Lookup::Gone => return Err(ApiError::NotFound.into()),
            }
        }
        Target::Part(r, n) => {
            let i = rendition(&stream, &r)?;
            // The hinted part of a stream that ended or was dropped will not come.
            let pending = |st: &State| {
                !st.ended && !st.removed && matches!(st.renditions[i].part(n), Lookup::Pending)
            };
            if pending(&stream.lock()) {
                wait(state, &stream, ip, |st: &State| !pending(st)).await?;
            }
            let st = stream.lock();
            match st.renditions[i].part(n) {
                Lookup::Ready(b) => (b, "video/iso.segment", media_age(&st)),
                Lookup::Pending | Lookup::Gone => return Err(ApiError::NotFound.into()),
            }
        }
    };
    let cache = match access {
        Access::Public => format!("public, max-age={max_age}"),
        Access::Signed { expires } => {
            let left = u64::try_from(expires.saturating_sub(crate::db::now_secs())).unwrap_or(0);
            format!("private, max-age={}", left.min(max_age))
        }
    };
    let mut b = HttpResponse::Ok();
    b.content_type(mime)
        .insert_header((header::CACHE_CONTROL, cache));
    if mime == PLAYLIST_MIME || mime == MPD_MIME {
        b.insert_header((header::VARY, "Accept-Encoding"));
    }
    if let Some(e) = encoding {
        b.insert_header((header::CONTENT_ENCODING, e));
    }
    Ok(if req.method() == actix_web::http::Method::HEAD {
        b.body(crate::body::HeadOnly(body.len() as u64))
    } else {
        b.body(body)
    })
}

/// Parts and segments stay valid while in the window: cached for the DVR window, no longer (a stream
/// dropped and started again reuses its URIs from MSN 0).
fn media_age(st: &State) -> u64 {
    st.opts.dvr_window.as_secs().max(1)
}

fn rendition(stream: &LiveStream, name: &str) -> ApiResult<usize> {
    stream
        .lock()
        .renditions
        .iter()
        .position(|r| r.name == name)
        .ok_or(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse("index.m3u8"), Some(Target::Multivariant));
        assert_eq!(parse("manifest.mpd"), Some(Target::Mpd));
        assert_eq!(parse("v0/index.m3u8"), Some(Target::Playlist("v0".into())));
        assert_eq!(parse("v0/init.mp4"), Some(Target::Init("v0".into(), 0)));
        assert_eq!(parse("v0/init-2.mp4"), Some(Target::Init("v0".into(), 2)));
        assert_eq!(parse("v0/12.m4s"), Some(Target::Segment("v0".into(), 12)));
        assert_eq!(parse("v0/part12.m4s"), Some(Target::Part("v0".into(), 12)));
        for bad in [
            "v0/012.m4s",
            "v0/1.2.m4s",
            "v0/part012.m4s",
            "v0/part.m4s",
            "v0/-1.m4s",
            "v0/x.m4s",
            "a/b/c",
            "v0/",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
