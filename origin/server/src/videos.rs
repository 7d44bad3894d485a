//! Video management: create (with an upload ticket), list, get, delete, list stored files, new tickets,
//! and signed playback links for private videos.
use actix_web::{web, HttpRequest, HttpResponse};

use super::api_types::{
    CreateVideo, CreatedVideo, FileList, PlaybackLink, Ticket, Video, VideoList,
};
use super::auth::{hash_token, random_token, Action};
use super::db::{self, VideoRow};
use super::error::{ApiError, ApiResult};
use super::paths;
use super::publish::MASTER;
use super::store::ObjectKey;
use super::AppState;

/// A video as the API shows it: its row, and for a public video where to play it.
pub fn video_view(v: &VideoRow) -> Video {
    let public = v.is_public();
    Video {
        id: v.id.clone(),
        title: v.title.clone(),
        visibility: v.visibility,
        state: v.state,
        created_at: v.created_at,
        published_at: v.published_at,
        files: v.files,
        bytes: v.bytes,
        poster: v.poster,
        playback_url: public.then(|| format!("/v/{}/{MASTER}", v.id)),
        poster_url: (public && v.poster).then(|| format!("/v/{}/{}", v.id, paths::POSTER)),
        storyboard: v.storyboard,
        storyboard_url: (public && v.storyboard)
            .then(|| format!("/v/{}/{}", v.id, upcast_core::layout::STORYBOARD_VTT)),
        captions: Vec::new(),
        chapters_url: None,
        stream_id: v.stream_id.clone(),
    }
}

pub fn new_id() -> ApiResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect())
}

/// A video's title, from the API or an ingest: at most 500 bytes, no control characters.
pub fn check_title(title: &str) -> ApiResult<()> {
    if title.len() > 500 || title.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "title: at most 500 bytes, no control characters".into(),
        ));
    }
    Ok(())
}

/// When a ticket issued now expires (Unix seconds).
fn ticket_expiry(state: &AppState) -> i64 {
    let ttl = i64::try_from(state.cfg.limits.ticket_ttl.as_secs()).unwrap_or(i64::MAX);
    db::now_secs().saturating_add(ttl)
}

async fn issue_ticket(state: &AppState, video_id: &str) -> ApiResult<Ticket> {
    let token = random_token("upt_")?;
    let expires = ticket_expiry(state);
    let (h, vid) = (hash_token(&token), video_id.to_string());
    state
        .db
        .run(move |c| db::insert_ticket(c, &h, &vid, expires))
        .await?;
    Ok(Ticket {
        ticket: token,
        expires_at: expires,
    })
}

pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ManageVideos).await?;
    let body = super::upload::small_body(&state, payload, 64 << 10).await?;
    let body: CreateVideo = if body.is_empty() {
        CreateVideo::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    check_title(&body.title)?;
    let id = new_id()?;
    let (vid, title, vis) = (id.clone(), body.title, body.visibility);
    let token = random_token("upt_")?;
    let expires = ticket_expiry(&state);
    let h = hash_token(&token);
    // The video and its first ticket in one transaction: a refusal (a full disk, say) leaves neither.
    let video = state
        .db
        .run(move |c| {
            let tx = c.transaction()?;
            db::create_video(&tx, &vid, &title, vis)?;
            db::insert_ticket(&tx, &h, &vid, expires)?;
            tx.commit()?;
            db::video(c, &vid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedVideo {
        video: video_view(&video),
        upload: Ticket {
            ticket: token,
            expires_at: expires,
        },
    }))
}

/// `GET /api/videos[?stream={id}]`: every video, or one live stream's recordings.
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadVideo(None)).await?;
    let stream = q.into_inner().stream;
    if let Some(s) = &stream {
        paths::check_video_id(s)
            .map_err(|_| ApiError::BadRequest(format!("stream: {s:?} is not a stream id")))?;
    }
    let all = state
        .db
        .run(move |c| db::videos(c, stream.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(VideoList {
        videos: all.iter().map(video_view).collect(),
    }))
}

/// What `GET /api/videos` takes: `stream`, a live stream's id, keeps its recordings only.
#[derive(serde::Deserialize)]
pub struct ListQuery {
    stream: Option<String>,
}

/// The video `id` after checking the caller may do `action` (default: read it).
async fn load(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    action: Option<Action<'_>>,
) -> ApiResult<VideoRow> {
    let caller = state.keys.caller(&state.db, req).await?;
    paths::check_video_id(id)?;
    caller.may(action.unwrap_or(Action::ReadVideo(Some(id))))?;
    let vid = id.to_string();
    state
        .db
        .run(move |c| db::video(c, &vid))
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id, None).await?;
    let mut view = video_view(&v);
    super::captions::text_view(&state, &mut view).await?;
    Ok(HttpResponse::Ok().json(view))
}

pub async fn files(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id, None).await?;
    let vid = v.id.clone();
    let files = state.db.run(move |c| db::files(c, &vid)).await?;
    Ok(HttpResponse::Ok().json(FileList {
        state: v.state,
        files,
    }))
}

pub async fn ticket(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id, Some(Action::ManageVideos)).await?;
    Ok(HttpResponse::Created().json(issue_ticket(&state, &v.id).await?))
}

/// A playback URL valid for `ttl` seconds (default one hour, at most 7 days).
pub async fn playback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<crate::signing::LinkQuery>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id, None).await?;
    let exp = q.expires();
    let sig = state.keys.sign(&v.id, exp);
    Ok(HttpResponse::Ok().json(PlaybackLink {
        url: format!("/s/{exp}/{sig}/v/{}/{MASTER}", v.id),
        expires_at: exp,
    }))
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let v = load(&state, &req, &id, Some(Action::ManageVideos)).await?;
    let store = state.store.clone();
    let vid = v.id.clone();
    state
        .db
        .run(move |c| {
            let files = db::files(c, &vid)?;
            // Read-only origins stop learning of the video before any of its objects goes.
            if store.shared() {
                store
                    .delete_blob(&crate::manifest::name(&vid))
                    .map_err(ApiError::from_io)?;
            }
            db::delete_video(c, &vid)?;
            // Rows first, objects after: a crash in between leaves orphans, collected at the next start.
            for f in files {
                let key = ObjectKey {
                    video_id: vid.clone(),
                    sha256: f.sha256,
                };
                if let Err(e) = store.delete(&key) {
                    log::warn!("delete {key:?}: {e}");
                }
            }
            Ok(())
        })
        .await?;
    state.catalog.invalidate(&v.id);
    Ok(HttpResponse::NoContent().finish())
}
