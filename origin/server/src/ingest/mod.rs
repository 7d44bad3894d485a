//! `POST /api/ingest`: "POST an MP4, get an m3u8 back", as a background job. The body is spooled (after
//! authentication, digest-checked when declared), a job is queued, and the answer is `202 Accepted` with the
//! job; `GET /api/ingest/{job}` tells its state and progress, the error when it failed, and the video when
//! it is done. The job itself ([`job`]) segments with the core (copy, no re-encoding) and writes the package
//! through the same spool → check → commit path and the same limits as an uploaded package; the video
//! exists, published, only once every file is stored and the package passed the publish checks.
mod job;
mod queue;
pub mod rows;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::api_types::{ErrorBody, IngestJob, JobProgress, JobState, Visibility};
use super::auth::Action;
use super::db;
use super::error::{ApiError, ApiResult};
use super::paths;
use super::upload::{declared_sha256, receive, Received};
use super::videos::{check_title, new_id, video_view};
use super::AppState;
pub use job::Ctx;
pub use queue::Jobs;
use rows::{JobError, JobRow};

#[derive(Deserialize)]
pub struct IngestQuery {
    #[serde(default)]
    title: String,
    #[serde(default)]
    private: bool,
    /// Target segment duration, seconds (0.5 to 60; default 6). Segments start at key frames, so they are
    /// as long as the source's GOPs allow.
    target: Option<f64>,
}

pub async fn ingest(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<IngestQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ManageVideos).await?;
    let q = q.into_inner();
    check_title(&q.title)?;
    let target = q
        .target
        .unwrap_or(upcast_core::plan::PlanOptions::default().target_duration_s);
    if !(target.is_finite() && (0.5..=60.0).contains(&target)) {
        return Err(ApiError::BadRequest(
            "target: a segment duration between 0.5 and 60 seconds".into(),
        ));
    }
    // Refuse before reading a body that could not be queued (the line is checked again at submit).
    if !state.ingest.has_room() {
        return Err(queue::full());
    }
    let limit = state.cfg.limits.max_ingest_bytes;
    // The source belongs to no video yet: its spool counts against the total quota, while it is received
    // and until its job ends.
    let held = state.limits.reservations.start(None);
    let got = receive(&state, payload, limit, "the upload", held).await?;
    if let Ok(declared) = declared_sha256(&req) {
        if declared != got.sha256 {
            return Err(ApiError::DigestMismatch {
                declared,
                actual: got.sha256.clone(),
            });
        }
    }
    let Received {
        spool: source,
        reservation: source_reserved,
        ..
    } = got;

    let (id, video_id) = (new_id()?, new_id()?);
    let visibility = if q.private {
        Visibility::Private
    } else {
        Visibility::Public
    };
    let (jid, vid, title) = (id.clone(), video_id.clone(), q.title);
    state
        .db
        .run(move |c| rows::insert(c, &jid, &vid, &title, visibility))
        .await?;
    let queued = job::Queued {
        id: id.clone(),
        video_id,
        source,
        source_reserved,
        target_duration_s: target,
    };
    if let Err(e) = state.ingest.submit(queued) {
        let (jid, je) = (id.clone(), JobError::from(&e));
        state.db.run(move |c| rows::fail(c, &jid, &je)).await?;
        return Err(e);
    }
    let (j, _) = load(&state, &id).await?;
    let url = status_url(&id);
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", url))
        .json(job_json(&state, &j, None)))
}

/// `GET /api/ingest/{job}` (admin).
pub async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.require(&req, Action::ReadVideo(None)).await?;
    paths::check_video_id(&id)?;
    let (j, video) = load(&state, &id).await?;
    Ok(HttpResponse::Ok().json(job_json(&state, &j, video.as_ref())))
}

fn status_url(id: &str) -> String {
    format!("/api/ingest/{id}")
}

/// The job and, when it is done, its video (gone if it was deleted since).
async fn load(state: &AppState, id: &str) -> ApiResult<(JobRow, Option<db::VideoRow>)> {
    let id = id.to_string();
    state
        .db
        .run(move |c| {
            let j = rows::get(c, &id)?.ok_or(ApiError::NotFound)?;
            let v = match j.state {
                JobState::Done => db::video(c, &j.video_id)?,
                _ => None,
            };
            Ok((j, v))
        })
        .await
}

fn job_json(state: &AppState, j: &JobRow, video: Option<&db::VideoRow>) -> IngestJob {
    let error = match (&j.error_code, &j.error_msg) {
        (Some(code), Some(msg)) => Some(ErrorBody {
            code: code.clone(),
            msg: msg.clone(),
            findings: j
                .error_detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            limit: None,
            scope: None,
        }),
        _ => None,
    };
    let video = video.map(|v| {
        let mut view = video_view(v);
        if !v.is_public() {
            let exp = db::now_secs() + 3600;
            view.playback_url = Some(format!(
                "/s/{exp}/{}/v/{}/{}",
                state.keys.sign(&v.id, exp),
                v.id,
                super::publish::MASTER
            ));
        }
        view
    });
    IngestJob {
        id: j.id.clone(),
        state: j.state,
        status_url: status_url(&j.id),
        title: j.title.clone(),
        visibility: j.visibility,
        created_at: j.created_at,
        finished_at: j.finished_at,
        progress: JobProgress {
            files_written: j.files_written,
            files_planned: j.files_planned,
        },
        error,
        video,
    }
}
