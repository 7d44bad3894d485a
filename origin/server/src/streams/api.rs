//! `/api/streams`: create (the stream key shown once), list, get (with status), update, delete, rotate and
//! revoke the key, and a signed playback link. Keys are stored as SHA-256 hashes, like tickets.
use actix_web::{web, HttpRequest, HttpResponse};

use super::rows::{self, StreamRow};
use crate::api_types::{
    CreateStream, CreatedStream, PatchStream, PlaybackLink, Stream, StreamList, Visibility,
};
use crate::auth::{hash_token, random_token, Action};
use crate::db::now_secs;
use crate::error::{ApiError, ApiResult};
use crate::paths::check_video_id;
use crate::upload::small_body;
use crate::videos::{check_title, new_id};
use crate::AppState;

/// The DVR window (seconds a viewer may seek back; the live window keeps that much in memory).
pub const DVR_DEFAULT: u32 = 60;
pub const DVR_MIN: u32 = 10;
pub const DVR_MAX: u32 = 1800;
/// Streams the origin holds at most.
pub const MAX_STREAMS: u64 = 10_000;

/// A stream's LL-HLS playlist on this origin: stable for the stream's life.
pub fn playback_path(id: &str) -> String {
    format!("/live/{id}/index.m3u8")
}

/// What a private stream's playback links sign (links for `/s/{exp}/{sig}/live/{id}/…`); distinct from a
/// video's subject (its id) so a stream's link never verifies for a video.
pub fn signing_subject(id: &str) -> String {
    format!("live/{id}")
}

/// Where encoders connect: `rtmp_public_url` + `/live`, else `rtmp://` the RTMP listen address (an
/// unspecified address takes the host this request named) + `/live`; `None` without an RTMP listener.
pub fn rtmp_url(state: &AppState, req: &HttpRequest) -> Option<String> {
    if let Some(u) = &state.cfg.rtmp_public_url {
        return Some(format!("{}/live", u.trim_end_matches('/')));
    }
    let addr = state.rtmp_bound.get().copied().or(state.cfg.rtmp_listen)?;
    let host = if addr.ip().is_unspecified() {
        let info = req.connection_info();
        let h = info.host();
        match h.rfind(':') {
            // `host:port` or `[v6]:port`: the port is the HTTP one, not the RTMP one.
            Some(i) if !h[i + 1..].is_empty() && h[i + 1..].bytes().all(|b| b.is_ascii_digit()) => {
                h[..i].to_string()
            }
            _ => h.to_string(),
        }
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    Some(format!("rtmp://{host}:{}/live", addr.port()))
}

/// A stream as the API shows it.
pub fn view(state: &AppState, row: &StreamRow, rtmp: Option<&str>) -> Stream {
    Stream {
        id: row.id.clone(),
        title: row.title.clone(),
        visibility: row.visibility,
        record: row.record,
        dvr_window_secs: row.dvr_window_secs,
        created_at: row.created_at,
        has_key: row.has_key,
        rtmp_url: rtmp.map(str::to_string),
        playback_url: (row.visibility == Visibility::Public).then(|| playback_path(&row.id)),
        status: state.streams.view(row),
        recordings: None,
    }
}

fn check_dvr(secs: u32) -> ApiResult<()> {
    if (DVR_MIN..=DVR_MAX).contains(&secs) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "dvr_window_secs: {DVR_MIN} to {DVR_MAX}"
        )))
    }
}

fn created(state: &AppState, req: &HttpRequest, row: &StreamRow, key: String) -> CreatedStream {
    let rtmp = rtmp_url(state, req);
    CreatedStream {
        publish_url: rtmp.as_ref().map(|u| format!("{u}/{key}")),
        stream: view(state, row, rtmp.as_deref()),
        stream_key: key,
    }
}

pub(crate) async fn load(state: &AppState, id: &str) -> ApiResult<StreamRow> {
    check_video_id(id)?;
    let id = id.to_string();
    state
        .db
        .run(move |c| rows::get(c, &id))
        .await?
        .ok_or(ApiError::NotFound)
}

/// `POST /api/streams` (`streams:write`): 201 with the stream and its key.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::WriteStreams).await?;
    let body = small_body(&state, payload, 16 << 10).await?;
    let body: CreateStream = if body.iter().all(u8::is_ascii_whitespace) {
        CreateStream::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    check_title(&body.title)?;
    let dvr = body.dvr_window_secs.unwrap_or(DVR_DEFAULT);
    check_dvr(dvr)?;
    let key = random_token("sk_")?;
    let row = StreamRow {
        id: new_id()?,
        title: body.title,
        visibility: body.visibility,
        record: body.record,
        dvr_window_secs: dvr,
        created_at: now_secs(),
        has_key: true,
        live_since: None,
        ended_at: None,
        end_reason: None,
    };
    let (r, h) = (row.clone(), hash_token(&key));
    state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            if rows::count(&tx)? >= MAX_STREAMS {
                return Err(ApiError::QuotaExceeded(format!(
                    "the origin holds at most {MAX_STREAMS} streams"
                )));
            }
            rows::insert(&tx, &r, &h)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(created(&state, &req, &row, key)))
}

/// `GET /api/streams` (`read`).
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadStreams).await?;
    let all = state.db.run(|c| rows::list(c)).await?;
    let rtmp = rtmp_url(&state, &req);
    Ok(HttpResponse::Ok().json(StreamList {
        streams: all
            .iter()
            .map(|r| view(&state, r, rtmp.as_deref()))
            .collect(),
    }))
}

/// `GET /api/streams/{id}` (`read`): the stream with its status and its published recordings' ids.
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadStreams).await?;
    let row = load(&state, &id).await?;
    let sid = row.id.clone();
    let recordings = state
        .db
        .run(move |c| crate::db::recordings(c, &sid))
        .await?;
    let mut stream = view(&state, &row, rtmp_url(&state, &req).as_deref());
    stream.recordings = Some(recordings);
    Ok(HttpResponse::Ok().json(stream))
}

/// `PATCH /api/streams/{id}` (`streams:write`).
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::WriteStreams).await?;
    check_video_id(&id)?;
    let body = small_body(&state, payload, 16 << 10).await?;
    let p: PatchStream =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Some(t) = &p.title {
        check_title(t)?;
    }
    if let Some(d) = p.dvr_window_secs {
        check_dvr(d)?;
    }
    let sid = id.into_inner();
    let row = state
        .db
        .run(move |c| {
            if !rows::update(c, &sid, &p)? {
                return Err(ApiError::NotFound);
            }
            rows::get(c, &sid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&state, &row, rtmp_url(&state, &req).as_deref())))
}

/// `DELETE /api/streams/{id}` (`streams:write`): 204. A connected publisher is stopped (`stream-deleted`)
/// and the live window goes with the stream.
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::WriteStreams).await?;
    check_video_id(&id)?;
    let sid = id.into_inner();
    let q = sid.clone();
    if !state.db.run(move |c| rows::delete(c, &q)).await? {
        return Err(ApiError::NotFound);
    }
    state.streams.stop_publisher(&sid, super::STREAM_DELETED);
    state.live.remove(&sid);
    state.streams.forget(&sid);
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/streams/{id}/key` (`streams:write`): a new key, shown once; the old one is refused at once.
pub async fn rotate_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::WriteStreams).await?;
    check_video_id(&id)?;
    let key = random_token("sk_")?;
    let (sid, h) = (id.into_inner(), hash_token(&key));
    let row = state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            rows::get(&tx, &sid)?.ok_or(ApiError::NotFound)?;
            rows::set_key(&tx, &sid, Some(&h))?;
            tx.commit()?;
            rows::get(c, &sid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    // The old key is refused from now on, by a publisher already connected with it too.
    state.streams.stop_publisher(&row.id, super::KEY_REVOKED);
    Ok(HttpResponse::Ok().json(created(&state, &req, &row, key)))
}

/// `DELETE /api/streams/{id}/key` (`streams:write`): 204; no key until the next rotation.
pub async fn revoke_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::WriteStreams).await?;
    check_video_id(&id)?;
    let sid = id.into_inner();
    state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            rows::get(&tx, &sid)?.ok_or(ApiError::NotFound)?;
            rows::set_key(&tx, &sid, None)?;
            tx.commit()?;
            Ok(sid)
        })
        .await
        .map(|sid| state.streams.stop_publisher(&sid, super::KEY_REVOKED))?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/streams/{id}/playback` (`read`): a signed link to the playlist, valid `ttl` seconds (default
/// one hour, at most 7 days), for private streams (public ones may use it too).
pub async fn playback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<crate::signing::LinkQuery>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadStreams).await?;
    let row = load(&state, &id).await?;
    let exp = q.expires();
    let sig = state.keys.sign(&signing_subject(&row.id), exp);
    Ok(HttpResponse::Ok().json(PlaybackLink {
        url: format!("/s/{exp}/{sig}{}", playback_path(&row.id)),
        expires_at: exp,
    }))
}
