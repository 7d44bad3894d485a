//! Captions of a published video: `PUT /api/videos/{id}/captions/{lang}` (an SRT or WebVTT body) and
//! `DELETE /api/videos/{id}/captions/{lang}`. The core's caption code (`upcast_core::captions`, the same
//! the browser and the CLI run) reads the file, cuts it on the video's segment boundaries and rewrites
//! `master.m3u8` and `manifest.mpd`; the new files go under a new directory (`subs_<lang>_<hash>`: media
//! paths are served immutable and never change bytes), then one transaction records them and swaps the
//! two manifests. No media file is touched. The renditions the manifests stop announcing stay served
//! until the next caption change of that video (a player that loaded the old playlist can finish), then
//! their files are removed.

mod rows;
mod view;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::Action;
use super::error::{ApiError, ApiResult};
use super::{db, paths, AppState};
use upcast_core::captions::CaptionInput;

pub use view::{text_view, CaptionView};

/// `PUT …/captions/{lang}?name=…&default=true&forced=false`.
#[derive(Debug, Deserialize)]
pub struct CaptionQuery {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub forced: bool,
}

/// The answer to a caption change: the video as `GET /api/videos/{id}` shows it now, and what was
/// noticed (cues out of order or overlapping, cues past the video's end trimmed).
#[derive(Debug, Serialize, Deserialize)]
pub struct CaptionAnswer {
    pub video: crate::api_types::Video,
    pub warnings: Vec<String>,
}

async fn published(state: &AppState, req: &HttpRequest, id: &str) -> ApiResult<db::VideoRow> {
    paths::check_video_id(id)?;
    state.require(req, Action::UploadVideo(id)).await?;
    let vid = id.to_string();
    let v = state
        .db
        .run(move |c| db::video(c, &vid))
        .await?
        .ok_or(ApiError::NotFound)?;
    if !v.is_ready() {
        return Err(ApiError::Conflict(
            "captions are added to a published video; upload them with the package before it is published"
                .into(),
        ));
    }
    Ok(v)
}

pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<CaptionQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let (id, lang) = path.into_inner();
    let lang = upcast_core::captions::language_tag(&lang).map_err(ApiError::BadCaptions)?;
    let v = published(&state, &req, &id).await?;
    let limit = usize::try_from(state.cfg.limits.max_caption_bytes).unwrap_or(usize::MAX);
    let bytes = super::upload::small_body(&state, payload, limit).await?;
    let q = query.into_inner();
    let input = CaptionInput {
        lang,
        name: q.name,
        default: q.default,
        forced: q.forced,
        bytes,
    };
    let warnings = rows::change(&state, &v.id, rows::Change::Put(Box::new(input)), limit).await?;
    answer(&state, &v, warnings).await
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, lang) = path.into_inner();
    let lang = upcast_core::captions::language_tag(&lang).map_err(ApiError::BadCaptions)?;
    let v = published(&state, &req, &id).await?;
    let limit = usize::try_from(state.cfg.limits.max_caption_bytes).unwrap_or(usize::MAX);
    let warnings = rows::change(&state, &v.id, rows::Change::Delete(lang), limit).await?;
    answer(&state, &v, warnings).await
}

async fn answer(
    state: &AppState,
    v: &db::VideoRow,
    warnings: Vec<String>,
) -> ApiResult<HttpResponse> {
    let mut video = super::videos::video_view(v);
    text_view(state, &mut video).await?;
    Ok(HttpResponse::Ok().json(CaptionAnswer { video, warnings }))
}
