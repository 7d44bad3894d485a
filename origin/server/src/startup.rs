//! Start-up: open the store and database, remove what a crash left half-done, load keys.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use actix_web::web;

use super::auth::Keys;
use super::cache::ObjectCache;
use super::config::StoreConfig;
use super::db::{self, Db};
use super::ingest::{rows as ingest_rows, Ctx as IngestCtx, Jobs};
use super::publish_gate::PublishGate;
use super::store::{LocalStore, Store};
use super::store_s3::S3Store;
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
    let shown = |e: std::io::Error| format!("{}: {e}", cfg.data_dir.display());
    std::fs::create_dir_all(&cfg.data_dir).map_err(shown)?;
    // Only the origin's own user reads the data directory: the database holds the admin token's hash and
    // the tickets' hashes, objects/ holds private videos.
    private_dir(&cfg.data_dir).map_err(shown)?;
    let store = open_store(&cfg)?;
    let db_path = cfg.data_dir.join("upcast.db");
    private_file(&db_path).map_err(|e| format!("database: {e}"))?;
    let db = Db::open(&db_path).map_err(|e| format!("database: {e}"))?;
    let lease = shared_catalog(&cfg, &db, &store)?;
    if cfg.read_only {
        // A read-only origin never deletes: the objects belong to the writer's catalog, not its own.
        store.clear_spool().map_err(|e| format!("store: {e}"))?;
    } else {
        let got = collect(&db, store.as_ref())?;
        if got != Collected::default() {
            eprintln!("upcast: start-up clean-up: {got:?}");
        }
        let n = super::manifest::reconcile(store.as_ref(), &db).map_err(|e| e.to_string())?;
        if n > 0 {
            eprintln!("upcast: wrote {n} missing manifest(s) to the store");
        }
    }
    let key_file = cfg
        .signing_keys_file
        .clone()
        .unwrap_or_else(|| cfg.data_dir.join(SIGNING_KEYS_FILE));
    let (keys, generated) = Keys::init(&db, cfg.admin_token.as_deref(), &key_file)?;
    let (cache_bytes, cache_max_object) = (cfg.cache_bytes, cfg.cache_max_object);
    let publishing = PublishGate::new(
        cfg.limits.max_publish_checks,
        cfg.limits.publish_backoff,
        cfg.limits.publish_backoff_max,
    );
    let limits = super::limits::State::new(&cfg.limits);
    let live_limits = cfg.live.clone();
    let metrics = super::metrics::Metrics::new();
    let webhooks =
        super::webhooks::Webhooks::new(db.clone(), cfg.webhooks.clone(), metrics.clone());
    let ingest = Jobs::new(IngestCtx {
        db: db.clone(),
        store: store.clone(),
        limits: cfg.limits.clone(),
        reservations: limits.reservations.clone(),
        webhooks: webhooks.clone(),
    });
    let streams = super::streams::Streams::open(db.clone())?;
    let access_log = match &cfg.access_log {
        Some(p) => Some(Arc::new(super::access_log::AccessLog::open(p)?)),
        None => None,
    };
    let state = AppState {
        cfg,
        db,
        store,
        keys,
        catalog: Default::default(),
        objects: ObjectCache::new(cache_bytes, cache_max_object),
        publishing,
        limits,
        ingest,
        webhooks,
        metrics,
        streams,
        live: super::live::Hub::new(live_limits),
        rtmp_bound: std::sync::OnceLock::new(),
        live_publish: Default::default(),
        read_only_misses: Default::default(),
        lease,
        access_log,
    };
    Ok((web::Data::new(state), generated))
}

/// With a shared store (a bucket): a writer takes the writer lease (or refuses to start), then every origin
/// imports the published videos its database lacks from the bucket's manifests — before orphan collection,
/// so a writer with a new, empty database does not take the bucket's objects for orphans.
/// The writer's lease, when it holds one.
fn shared_catalog(
    cfg: &Config,
    db: &Db,
    store: &Arc<dyn Store>,
) -> Result<Option<Arc<super::lease::Held>>, String> {
    if !store.shared() {
        if cfg.read_only {
            return Err("--read-only serves from a shared store: add --store s3://…".into());
        }
        return Ok(None);
    }
    let lease = if cfg.read_only {
        None
    } else {
        Some(super::lease::acquire(store, &cfg.data_dir)?)
    };
    let got = super::manifest::recover(store.as_ref(), db).map_err(|e| format!("catalog: {e}"))?;
    if got.imported > 0 || got.refused > 0 {
        eprintln!("upcast: catalog from the store: {got:?}");
    }
    Ok(lease)
}

/// The signing keys' file in the data directory unless configured elsewhere.
pub const SIGNING_KEYS_FILE: &str = "signing-keys.json";

/// Owner-only directory (0700), whatever it was before.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Create `path` empty with 0600 if it does not exist, or make it 0600 if it does; the same for SQLite's
/// `-wal` and `-shm` beside it when they exist (SQLite creates them with the database file's mode).
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The configured store: local disk, or the bucket (which must answer now).
pub fn open_store(cfg: &Config) -> Result<Arc<dyn Store>, String> {
    Ok(match &cfg.store {
        StoreConfig::Local => {
            Arc::new(LocalStore::open(&cfg.data_dir).map_err(|e| format!("store: {e}"))?)
        }
        StoreConfig::S3(loc, retry) => {
            Arc::new(S3Store::open(loc, &cfg.data_dir, *retry).map_err(|e| format!("store: {e}"))?)
        }
    })
}

/// Mark ingest jobs that were queued or running failed (`interrupted`) and drop their file rows; delete
/// spool files, objects no `files` row references (an interrupted job's, among them), and rows whose object
/// is missing or has the wrong size (cannot happen when the write order holds; checked so that a damaged
/// disk does not serve broken files).
/// In a shared store (a bucket) a row's object is checked by presence in the listing, not by a request
/// per row.
pub fn collect(db: &Db, store: &dyn Store) -> Result<Collected, String> {
    let mut got = Collected {
        interrupted_jobs: db
            .run_now(ingest_rows::interrupt_all)
            .map_err(|e| e.to_string())?,
        spool_files: store.clear_spool().map_err(|e| e.to_string())?,
        ..Default::default()
    };
    let objects = store.list().map_err(|e| e.to_string())?;
    let listed: std::collections::HashSet<&super::store::ObjectKey> = objects.iter().collect();
    db.run_now(|c| {
        for key in &objects {
            if !db::object_referenced(c, &key.video_id, &key.sha256)? {
                store.delete(key).map_err(super::error::ApiError::from_io)?;
                got.orphan_objects += 1;
            }
        }
        let mut st = c.prepare("SELECT video_id, path, sha256, size FROM files")?;
        let rows: Vec<(String, String, String, u64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        for (vid, path, sha, size) in rows {
            let key = super::store::ObjectKey {
                video_id: vid.clone(),
                sha256: sha,
            };
            let ok = if store.shared() {
                listed.contains(&key)
            } else {
                store.size(&key).map_err(super::error::ApiError::from_io)? == Some(size)
            };
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
