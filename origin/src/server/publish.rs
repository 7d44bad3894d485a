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

/// Reads a stored package for the conformance checker: paths map to their stored objects.
struct StoredPackage<'a> {
    store: &'a dyn Store,
    video_id: &'a str,
    files: &'a HashMap<String, db::FileRow>,
}

impl upcast_core::check::PackageReader for StoredPackage<'_> {
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String> {
        let f = self
            .files
            .get(path)
            .ok_or_else(|| format!("{path} is not uploaded"))?;
        if u64::try_from(f.size).unwrap_or(u64::MAX) > max_len {
            return Err(format!(
                "{path} is {} bytes; at most {max_len} are read",
                f.size
            ));
        }
        let key = ObjectKey {
            video_id: self.video_id.to_string(),
            sha256: f.sha256.clone(),
        };
        // The reason is a finding sent to the client: the OS text (EMFILE, EIO, ...) is logged instead.
        self.store.read(&key).map_err(|e| {
            eprintln!("upcast: reading {}/{path}: {e}", self.video_id);
            format!("{path} could not be read from the store")
        })
    }
}

/// Run the same checker the CLI and the browser run; refuse a package that fails a MUST rule.
pub fn check_conformant(
    store: &dyn Store,
    video_id: &str,
    files: &HashMap<String, db::FileRow>,
) -> ApiResult<()> {
    let reader = StoredPackage {
        store,
        video_id,
        files,
    };
    let report = upcast_core::check::check_package(&reader, MASTER);
    if report.passed() {
        Ok(())
    } else {
        Err(ApiError::NotConformant(Box::new(report)))
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
                check_conformant(store.as_ref(), &vid, &files)?;
                db::mark_ready(c, &vid)?;
            }
            db::video(c, &vid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    state.catalog.invalidate(&video_id);
    Ok(HttpResponse::Ok().json(video_json(&state, &video)))
}
