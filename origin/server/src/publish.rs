//! `POST /api/videos/{id}/publish`: check the package is complete and conformant, then flip it to VOD.
//!
//! The check reads the whole package and runs off the metadata lock (other API calls go on meanwhile); the
//! flip is one short transaction that first confirms the rows are still the ones checked. Checks are gated
//! by [`super::publish_gate`]: one per video, a few at once, and a video that keeps failing waits longer.
use std::collections::{HashMap, HashSet, VecDeque};

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Action;
use super::db;
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::playlist;
use super::store::{ObjectKey, Store};
use super::videos::video_view;
use super::webhooks::EventKind;
use super::AppState;

pub use upcast_core::layout::{MANIFEST, MASTER};

/// Walk from `master.m3u8` through every playlist it references, and through `manifest.mpd` when there is
/// one; every referenced file must be stored.
pub fn check_complete(
    store: &dyn Store,
    video_id: &str,
    files: &HashMap<String, db::StoredFile>,
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
    // The MPD, when uploaded, names its segments too: each must be stored (the same files, for a package
    // upcast made; a hand-made MPD naming others is caught here or by the DASH rules).
    if let Some(f) = files.get(MANIFEST) {
        let key = ObjectKey {
            video_id: video_id.to_string(),
            sha256: f.sha256.clone(),
        };
        let bytes = store.read(&key).map_err(ApiError::from_io)?;
        for r in playlist::mpd_references(MANIFEST, &bytes)? {
            if seen.insert(r.clone()) && !files.contains_key(&r) {
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
    files: &'a HashMap<String, db::StoredFile>,
}

impl upcast_core::check::PackageReader for StoredPackage<'_> {
    fn read(&self, path: &str, max_len: u64) -> Result<Vec<u8>, String> {
        let f = self
            .files
            .get(path)
            .ok_or_else(|| format!("{path} is not uploaded"))?;
        if f.size > max_len {
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
    files: &HashMap<String, db::StoredFile>,
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

/// A digest of a package's files (paths and their contents' digests), to tell whether it changed.
fn package_digest(files: &HashMap<String, db::StoredFile>) -> [u8; 32] {
    use sha2::Digest;
    let mut rows: Vec<_> = files.values().collect();
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = sha2::Sha256::new();
    for f in rows {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.sha256.as_bytes());
        h.update([0]);
    }
    h.finalize().into()
}

/// `POST /api/videos/{id}/publish`. A refusal counts in `upcast_publish_refused_total`; a package the check
/// refuses emits `video.failed`, a video newly published `video.ready`.
pub async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    route: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let video_id = route.into_inner();
    let caller = state.keys.caller(&state.db, &req).await?;
    paths::check_video_id(&video_id)?;
    caller.may(Action::UploadVideo(&video_id))?;
    match publish_checked(&state, &video_id).await {
        Ok((video, newly)) => {
            // The shared catalog (a bucket's manifests) learns of the video; publishing again after a
            // failure here writes it then (and the writer's next start writes any that are missing).
            let (store, db, vid) = (state.store.clone(), state.db.clone(), video_id.clone());
            web::block(move || crate::manifest::write(store.as_ref(), &db, &vid)).await??;
            if newly {
                let data = serde_json::to_value(&video).unwrap_or_default();
                state
                    .webhooks
                    .emit_logged(EventKind::VideoReady, data)
                    .await;
            }
            Ok(HttpResponse::Ok().json(video))
        }
        Err((e, verdict)) => {
            state.metrics.publish_refused(e.code());
            if verdict {
                let data =
                    serde_json::json!({"id": video_id, "code": e.code(), "msg": e.to_string()});
                state
                    .webhooks
                    .emit_logged(EventKind::VideoFailed, data)
                    .await;
            }
            Err(e)
        }
    }
}

/// Check and publish; the video view and whether this call published it, or the refusal and whether it
/// is the check's verdict on the package (not a transient refusal: busy, backoff, a change meanwhile).
async fn publish_checked(
    state: &AppState,
    video_id: &str,
) -> Result<(crate::api_types::Video, bool), (ApiError, bool)> {
    let video_id = video_id.to_string();
    let transient = |e: ApiError| (e, false);

    // 1. A snapshot of the rows, under the lock for one short read.
    let vid = video_id.clone();
    let (video, files) = state
        .db
        .run(move |c| {
            let v = db::video(c, &vid)?.ok_or(ApiError::NotFound)?;
            let files: HashMap<String, db::StoredFile> = db::files(c, &vid)?
                .into_iter()
                .map(|f| (f.path.clone(), f))
                .collect();
            Ok((v, files))
        })
        .await
        .map_err(transient)?;
    if video.is_ready() {
        return Ok((video_view(&video), false));
    }

    // 2. The check, off the lock: it reads every playlist and segment of the package.
    let ticket = state
        .publishing
        .begin(&video_id, package_digest(&files))
        .map_err(transient)?;
    let (store, vid) = (state.store.clone(), video_id.clone());
    let checked = web::block(move || {
        check_complete(store.as_ref(), &vid, &files)?;
        check_conformant(store.as_ref(), &vid, &files)?;
        Ok::<_, ApiError>(files)
    })
    .await
    .map_err(|e| transient(e.into()))?;
    let files = match checked {
        Ok(f) => f,
        Err(e) => {
            ticket.failed();
            let verdict = !matches!(
                e,
                ApiError::Internal(_) | ApiError::Busy | ApiError::StoreUnavailable
            );
            return Err((e, verdict));
        }
    };

    // 3. The flip, in one short transaction that re-reads what was checked: a file that changed or
    //    appeared meanwhile means the check no longer speaks for the package.
    let vid = video_id.clone();
    let video = state
        .db
        .run(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let v = db::video(&tx, &vid)?.ok_or(ApiError::NotFound)?;
            let newly = !v.is_ready();
            if newly {
                let now = db::files(&tx, &vid)?;
                let same =
                    now.len() == files.len() && now.iter().all(|f| files.get(&f.path) == Some(f));
                if !same {
                    return Err(ApiError::ChangedDuringPublish);
                }
                db::mark_ready(&tx, &vid)?;
            }
            tx.commit()?;
            Ok((db::video(c, &vid)?.ok_or(ApiError::NotFound)?, newly))
        })
        .await;
    match &video {
        Ok(_) => ticket.succeeded(),
        Err(_) => drop(ticket),
    }
    let (video, newly) = video.map_err(transient)?;
    state.catalog.invalidate(&video_id);
    Ok((video_view(&video), newly))
}
