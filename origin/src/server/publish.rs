//! `POST /api/videos/{id}/publish`: check the package is complete and flip it to VOD in one step.
//!
//! Runs under the metadata lock, so no file can change between the check and the flip.
use std::collections::{HashMap, HashSet, VecDeque};

use actix_web::{web, HttpRequest, HttpResponse};

use super::db;
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::playlist;
use super::store::{ObjectKey, Store};
use super::videos::video_json;
use super::AppState;

pub const MASTER: &str = "master.m3u8";

/// Walk from `master.m3u8` through every playlist it references; every referenced file must be stored.
pub fn check_complete(
    store: &dyn Store,
    video_id: &str,
    files: &HashMap<String, db::FileRow>,
) -> ApiResult<()> {
    let mut missing = Vec::new();
    let mut seen = HashSet::from([MASTER.to_string()]);
    let mut queue = VecDeque::from([MASTER.to_string()]);
    while let Some(p) = queue.pop_front() {
        let Some(f) = files.get(&p) else {
            missing.push(p);
            continue;
        };
        let key = ObjectKey {
            video_id: video_id.to_string(),
            sha256: f.sha256.clone(),
        };
        let bytes = store.read(&key).map_err(ApiError::from_io)?;
        for r in playlist::references(&p, &bytes)? {
            if !seen.insert(r.clone()) {
                continue;
            }
            if paths::check(&r)? == FileKind::Playlist {
                queue.push_back(r);
            } else if !files.contains_key(&r) {
                missing.push(r);
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        let n = missing.len();
        missing.truncate(10);
        Err(ApiError::MissingFiles(format!(
            "{n} referenced files are not uploaded: {}",
            missing.join(", ")
        )))
    }
}

pub async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let video_id = route.into_inner();
    let caller = state.keys.caller(&state.db, &req).await?;
    paths::check_video_id(&video_id)?;
    caller.may_write(&video_id)?;
    let store = state.store.clone();
    let vid = video_id.clone();
    let video = state
        .db
        .run(move |c| {
            let v = db::video(c, &vid)?.ok_or(ApiError::NotFound)?;
            if !v.is_ready() {
                let files = db::files(c, &vid)?
                    .into_iter()
                    .map(|f| (f.path.clone(), f))
                    .collect();
                check_complete(store.as_ref(), &vid, &files)?;
                db::mark_ready(c, &vid)?;
            }
            db::video(c, &vid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    state.catalog.invalidate(&video_id);
    Ok(HttpResponse::Ok().json(video_json(&state, &video)))
}
