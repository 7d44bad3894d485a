//! One caption change: read the published manifests and the video's timeline, make the new files with
//! the core, store them, then in one transaction record them, swap `master.m3u8` and `manifest.mpd`, and
//! drop the renditions superseded by the change before this one.

use std::collections::HashSet;
use std::io::Write;

use actix_web::web;
use rusqlite::{params, Connection, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::db::{self, StoredFile};
use crate::error::{ApiError, ApiResult};
use crate::store::{ObjectKey, Store};
use crate::AppState;
use upcast_core::captions::{
    add_text, attach, captions_in_master, first_variant, CaptionInfo, CaptionInput, Manifests,
    TextLimits, Timeline,
};
use upcast_core::check::resolve;
use upcast_core::layout::{MANIFEST, MASTER};

pub enum Change {
    Put(Box<CaptionInput>),
    Delete(String),
}

/// The new manifests and files, and what the change was made against.
struct Made {
    /// Path → text of every file to record (the two manifests among them).
    files: Vec<(String, String)>,
    /// The master's object the change was computed from (a concurrent change makes it stale).
    based_on: String,
    /// Renditions announced before and after: their directories stay.
    keep_dirs: HashSet<String>,
    warnings: Vec<String>,
}

fn read_path(store: &dyn Store, vid: &str, files: &[StoredFile], path: &str) -> ApiResult<Vec<u8>> {
    let f = files
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| ApiError::Internal(format!("{vid}: {path} is not stored")))?;
    store
        .read(&ObjectKey {
            video_id: vid.to_string(),
            sha256: f.sha256.clone(),
        })
        .map_err(ApiError::from_io)
}

/// The video's segment boundaries (its first variant's media playlist) and first presentation time (the
/// tfdt of its first segment, for X-TIMESTAMP-MAP).
fn timeline(
    store: &dyn Store,
    vid: &str,
    files: &[StoredFile],
    master: &str,
) -> ApiResult<Timeline> {
    let internal = |e: String| ApiError::Internal(format!("{vid}: {e}"));
    let uri = first_variant(master).map_err(internal)?;
    let pl_path = resolve(MASTER, &uri).map_err(internal)?;
    let pl_text = String::from_utf8_lossy(&read_path(store, vid, files, &pl_path)?).into_owned();
    let mut t = Timeline::from_media_playlist(&pl_text).map_err(internal)?;
    let pl = m3u8_rs::parse_media_playlist_res(pl_text.as_bytes())
        .map_err(|e| internal(e.to_string()))?;
    let (Some(first), Some(map)) = (
        pl.segments.first(),
        pl.segments.iter().find_map(|s| s.map.as_ref()),
    ) else {
        return Ok(t);
    };
    let init = read_path(
        store,
        vid,
        files,
        &resolve(&pl_path, &map.uri).map_err(internal)?,
    )?;
    let seg = read_path(
        store,
        vid,
        files,
        &resolve(&pl_path, &first.uri).map_err(internal)?,
    )?;
    let info = upcast_core::cmaf::read::read_init(&init).map_err(|e| internal(e.to_string()))?;
    let frags =
        upcast_core::cmaf::read::read_segment(&seg, &info).map_err(|e| internal(e.to_string()))?;
    if let (Some(f), ts) = (frags.first(), u128::from(info.timescale.max(1))) {
        t.start_90k =
            u64::try_from(u128::from(f.base_decode_time) * 90_000 / ts).unwrap_or(u64::MAX);
    }
    Ok(t)
}

fn make(
    store: &dyn Store,
    vid: &str,
    files: &[StoredFile],
    change: Change,
    max_bytes: usize,
) -> ApiResult<Made> {
    let master_row = files
        .iter()
        .find(|f| f.path == MASTER)
        .ok_or_else(|| ApiError::Internal(format!("{vid}: no master.m3u8")))?;
    let master = String::from_utf8_lossy(&read_path(store, vid, files, MASTER)?).into_owned();
    let mpd = files
        .iter()
        .any(|f| f.path == MANIFEST)
        .then(|| read_path(store, vid, files, MANIFEST))
        .transpose()?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let before =
        captions_in_master(&master).map_err(|e| ApiError::Internal(format!("{vid}: {e}")))?;
    let (files_out, after, warnings): (Vec<(String, String)>, Vec<CaptionInfo>, Vec<String>) =
        match change {
            Change::Delete(lang) => {
                if !before.iter().any(|c| c.lang.eq_ignore_ascii_case(&lang)) {
                    return Err(ApiError::NotFound);
                }
                let after: Vec<CaptionInfo> = before
                    .iter()
                    .filter(|c| !c.lang.eq_ignore_ascii_case(&lang))
                    .cloned()
                    .collect();
                let (m, d) = attach(&master, mpd.as_deref(), &after).map_err(ApiError::Internal)?;
                let mut out = vec![(MASTER.to_string(), m)];
                out.extend(d.map(|d| (MANIFEST.to_string(), d)));
                (out, after, Vec::new())
            }
            Change::Put(input) => {
                let timeline = timeline(store, vid, files, &master)?;
                let limits = TextLimits {
                    max_bytes,
                    ..TextLimits::default()
                };
                let manifests = Manifests {
                    master_path: MASTER,
                    master: &master,
                    mpd_path: MANIFEST,
                    mpd: mpd.as_deref(),
                    timeline: &timeline,
                };
                let out = add_text(&manifests, &before, &[*input], None, &limits)
                    .map_err(|e| ApiError::BadCaptions(e.to_string()))?;
                (out.files, out.captions, out.warnings)
            }
        };
    Ok(Made {
        files: files_out,
        based_on: master_row.sha256.clone(),
        keep_dirs: before.iter().chain(&after).map(|c| c.dir.clone()).collect(),
        warnings,
    })
}

/// Store each new object (content-addressed: one already stored is not written again).
fn store_objects(store: &dyn Store, vid: &str, rows: &[(StoredFile, String)]) -> ApiResult<()> {
    for (row, text) in rows {
        let key = ObjectKey {
            video_id: vid.to_string(),
            sha256: row.sha256.clone(),
        };
        if store.size(&key).map_err(ApiError::from_io)?.is_some() {
            continue;
        }
        let mut spool = store.spool().map_err(ApiError::from_io)?;
        spool
            .file
            .write_all(text.as_bytes())
            .map_err(ApiError::from_io)?;
        spool.file.sync_all().map_err(ApiError::from_io)?;
        store.commit(spool, &key).map_err(ApiError::from_io)?;
    }
    Ok(())
}

/// A caption rendition's directory (`subs_…`) of a stored path.
fn caption_dir(path: &str) -> Option<&str> {
    path.split_once('/')
        .map(|(d, _)| d)
        .filter(|d| d.starts_with("subs_"))
}

/// Record the rows and swap the manifests in one transaction, if the master is still the one the change
/// was made from; returns the objects nothing refers to any more.
fn record(
    c: &mut Connection,
    vid: &str,
    made: &Made,
    rows: &[StoredFile],
    quota: &db::Quota,
) -> ApiResult<Vec<String>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = db::files(&tx, vid)?;
    if now.iter().find(|f| f.path == MASTER).map(|f| &f.sha256) != Some(&made.based_on) {
        return Err(ApiError::Conflict(
            "another change to this video's captions was made at the same time; send this one again".into(),
        ));
    }
    let stale: Vec<&StoredFile> = now
        .iter()
        .filter(|f| caption_dir(&f.path).is_some_and(|d| !made.keep_dirs.contains(d)))
        .collect();
    let (count, bytes) = db::video_bytes(&tx, vid)?;
    let replaced = |p: &str| now.iter().find(|f| f.path == p);
    let added: u64 = rows.iter().map(|r| r.size).sum();
    let freed: u64 = rows
        .iter()
        .filter_map(|r| replaced(&r.path))
        .chain(stale.iter().copied())
        .map(|f| f.size)
        .sum();
    let new_files = rows.iter().filter(|r| replaced(&r.path).is_none()).count();
    if count + u64::try_from(new_files).unwrap_or(u64::MAX)
        > quota.max_files_per_video + stale.len() as u64
    {
        return Err(ApiError::QuotaExceeded(format!(
            "a video holds at most {} files",
            quota.max_files_per_video
        )));
    }
    if (bytes + added).saturating_sub(freed) > quota.max_video_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "this video would hold more than {} bytes",
            quota.max_video_bytes
        )));
    }
    let mut dropped: Vec<String> = stale.iter().map(|f| f.sha256.clone()).collect();
    for f in &stale {
        tx.execute(
            "DELETE FROM files WHERE video_id = ?1 AND path = ?2",
            params![vid, f.path],
        )?;
    }
    for r in rows {
        if let Some(old) = replaced(&r.path) {
            dropped.push(old.sha256.clone());
        }
        tx.execute(
            "INSERT INTO files (video_id, path, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (video_id, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
            params![vid, r.path, r.sha256, r.size, db::now_secs()],
        )?;
    }
    let mut orphans = Vec::new();
    for sha in dropped {
        if !db::object_referenced(&tx, vid, &sha)? && !orphans.contains(&sha) {
            orphans.push(sha);
        }
    }
    tx.commit()?;
    Ok(orphans)
}

/// Apply `change` to video `vid` (published); returns the warnings for the answer.
pub async fn change(
    state: &AppState,
    vid: &str,
    change: Change,
    max_bytes: usize,
) -> ApiResult<Vec<String>> {
    let id = vid.to_string();
    let files = state.db.run(move |c| db::files(c, &id)).await?;
    let store = state.store.clone();
    let id = vid.to_string();
    let (made, rows) = web::block(move || -> ApiResult<_> {
        let made = make(&*store, &id, &files, change, max_bytes)?;
        let rows: Vec<(StoredFile, String)> = made
            .files
            .iter()
            .map(|(path, text)| {
                let row = StoredFile {
                    path: path.clone(),
                    sha256: hex::encode(Sha256::digest(text.as_bytes())),
                    size: text.len() as u64,
                };
                (row, text.clone())
            })
            .collect();
        store_objects(&*store, &id, &rows)?;
        Ok((made, rows.into_iter().map(|(r, _)| r).collect::<Vec<_>>()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let quota = crate::upload::quota(state);
    let (id, store) = (vid.to_string(), state.store.clone());
    let warnings = made.warnings.clone();
    let new_objects: Vec<String> = rows.iter().map(|r| r.sha256.clone()).collect();
    let recorded = state
        .db
        .run(move |c| record(c, &id, &made, &rows, &quota))
        .await;
    state.catalog.invalidate(vid);
    let orphans = match recorded {
        Ok(o) => o,
        Err(e) => {
            // Refused after the objects were stored: remove the ones no row refers to.
            let id = vid.to_string();
            let unused = state
                .db
                .run(move |c| {
                    let mut out = Vec::new();
                    for sha in new_objects {
                        if !db::object_referenced(c, &id, &sha)? {
                            out.push(sha);
                        }
                    }
                    Ok(out)
                })
                .await
                .unwrap_or_default();
            for sha in unused {
                let _ = store.delete(&ObjectKey {
                    video_id: vid.to_string(),
                    sha256: sha,
                });
            }
            return Err(e);
        }
    };
    for sha in orphans {
        let key = ObjectKey {
            video_id: vid.to_string(),
            sha256: sha,
        };
        if let Err(e) = store.delete(&key) {
            log::warn!("could not delete superseded caption object {key:?}: {e}");
        }
    }
    Ok(warnings)
}
