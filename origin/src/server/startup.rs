//! Start-up: open the store and database, remove what a crash left half-done, load keys.
use std::sync::Arc;

use actix_web::web;

use super::auth::Keys;
use super::cache::ObjectCache;
use super::db::{self, Db};
use super::ingest::{rows as ingest_rows, Ctx as IngestCtx, Jobs};
use super::store::{LocalStore, Store};
use super::{AppState, Config};

/// What orphan collection found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub spool_files: usize,
    pub orphan_objects: usize,
    pub rows_without_file: usize,
    /// Ingest jobs cut off by the stop: now failed (`interrupted`), their objects deleted as orphans.
    pub interrupted_jobs: usize,
}

pub fn prepare(cfg: Config) -> Result<(web::Data<AppState>, Option<String>), String> {
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| format!("{}: {e}", cfg.data_dir.display()))?;
    let store: Arc<dyn Store> =
        Arc::new(LocalStore::open(&cfg.data_dir).map_err(|e| format!("store: {e}"))?);
    let db = Db::open(&cfg.data_dir.join("upcast.db")).map_err(|e| format!("database: {e}"))?;
    let got = collect(&db, store.as_ref())?;
    if got != Collected::default() {
        eprintln!("upcast: start-up clean-up: {got:?}");
    }
    let (keys, generated) =
        Keys::init(&db, cfg.admin_token.as_deref()).map_err(|e| e.to_string())?;
    let (cache_bytes, cache_max_object) = (cfg.cache_bytes, cfg.cache_max_object);
    let ingest = Jobs::new(IngestCtx {
        db: db.clone(),
        store: store.clone(),
        limits: cfg.limits.clone(),
    });
    let state = AppState {
        cfg,
        db,
        store,
        keys,
        catalog: Default::default(),
        objects: ObjectCache::new(cache_bytes, cache_max_object),
        ingest,
    };
    Ok((web::Data::new(state), generated))
}

/// Mark ingest jobs that were queued or running failed (`interrupted`) and drop their file rows; delete
/// spool files, objects no `files` row references (an interrupted job's, among them), and rows whose object
/// is missing or has the wrong size (cannot happen when the write order holds; checked so that a damaged
/// disk does not serve broken files).
pub fn collect(db: &Db, store: &dyn Store) -> Result<Collected, String> {
    let mut got = Collected {
        interrupted_jobs: db
            .run_now(ingest_rows::interrupt_all)
            .map_err(|e| e.to_string())?,
        spool_files: store.clear_spool().map_err(|e| e.to_string())?,
        ..Default::default()
    };
    let objects = store.list().map_err(|e| e.to_string())?;
    db.run_now(|c| {
        for key in &objects {
            if !db::object_referenced(c, &key.video_id, &key.sha256)? {
                store.delete(key).map_err(super::error::ApiError::from_io)?;
                got.orphan_objects += 1;
            }
        }
        let mut st = c.prepare("SELECT video_id, path, sha256, size FROM files")?;
        let rows: Vec<(String, String, String, i64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (vid, path, sha, size) in rows {
            let key = super::store::ObjectKey {
                video_id: vid.clone(),
                sha256: sha,
            };
            let ok =
                store.size(&key).map_err(super::error::ApiError::from_io)? == Some(size as u64);
            if !ok {
                c.execute(
                    "DELETE FROM files WHERE video_id = ?1 AND path = ?2",
                    [&vid, &path],
                )?;
                got.rows_without_file += 1;
            }
        }
        db::delete_expired_tickets(c)?;
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(got)
}
