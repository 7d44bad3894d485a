//! Metadata in SQLite: videos, upload tickets, the files of each package, live streams and their keys
//! (rows in [`super::streams::rows`]), API tokens ([`super::tokens`]). WAL, `synchronous=FULL`,
//! foreign keys on. One connection behind a mutex; every call runs on actix's blocking pool, never on an
//! async worker.
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub use super::api_types::StoredFile;
use super::api_types::{FromText, JobState, VideoState, Visibility};
use super::error::{ApiError, ApiResult};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS videos (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    visibility   TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    state        TEXT NOT NULL CHECK (state IN ('uploading', 'ready')),
    created_at   INTEGER NOT NULL,
    published_at INTEGER
);
CREATE TABLE IF NOT EXISTS tickets (
    hash       TEXT PRIMARY KEY,
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    video_id   TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL CHECK (size >= 0),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (video_id, path)
);
CREATE INDEX IF NOT EXISTS files_by_object ON files (video_id, sha256);
CREATE TABLE IF NOT EXISTS ingest_jobs (
    id            TEXT PRIMARY KEY,
    video_id      TEXT NOT NULL,
    title         TEXT NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'failed', 'done')),
    files_planned INTEGER,
    files_written INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_msg     TEXT,
    error_detail  TEXT,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER
);
CREATE TABLE IF NOT EXISTS ingest_files (
    job_id  TEXT NOT NULL REFERENCES ingest_jobs(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    size    INTEGER NOT NULL CHECK (size >= 0),
    PRIMARY KEY (job_id, path)
);
CREATE TABLE IF NOT EXISTS webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    events     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id         INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (state, next_at_ms);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_hook ON webhook_deliveries (webhook_id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    at          INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE TABLE IF NOT EXISTS streams (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    visibility      TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    record          INTEGER NOT NULL CHECK (record IN (0, 1)),
    dvr_window_secs INTEGER NOT NULL CHECK (dvr_window_secs > 0),
    created_at      INTEGER NOT NULL,
    live_since      INTEGER,
    ended_at        INTEGER,
    end_reason      TEXT
);
CREATE TABLE IF NOT EXISTS stream_keys (
    hash       TEXT PRIMARY KEY,
    stream_id  TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS stream_keys_current ON stream_keys (stream_id) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS api_tokens (
    id           TEXT PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
";

/// The enums stored as text columns: the text is the API's (`as_str`), in both directions here and nowhere
/// else. The schema's CHECK constraints list the same words (`schema_accepts_every_value` holds them
/// together).
macro_rules! text_column {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = v.as_str()?;
                <$t>::from_text(s).ok_or_else(|| {
                    FromSqlError::Other(format!("{s:?} is not a {}", stringify!($t)).into())
                })
            }
        }
    )*};
}
text_column!(Visibility, VideoState, JobState);

#[derive(Clone, Debug)]
pub struct VideoRow {
    pub id: String,
    pub title: String,
    pub visibility: Visibility,
    pub state: VideoState,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub files: i64,
    pub bytes: i64,
    /// The video has a `poster.jpg`.
    pub poster: bool,
    /// The video has a storyboard (`storyboard/storyboard.vtt`).
    pub storyboard: bool,
    /// A live stream's recording: the stream it was recorded from.
    pub stream_id: Option<String>,
}

impl VideoRow {
    pub fn is_public(&self) -> bool {
        self.visibility == Visibility::Public
    }
    pub fn is_ready(&self) -> bool {
        self.state == VideoState::Ready
    }
}

/// What recording a file did.
#[derive(Debug, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    /// Same bytes were already recorded at this path: nothing changed.
    Unchanged,
    /// Different bytes replaced an unpublished file; `orphan` is the old object when nothing else uses it.
    Replaced {
        orphan: Option<String>,
    },
}

/// Quotas checked inside the transaction that records a file (authoritative; the pre-write check is a hint).
pub struct Quota {
    pub max_video_bytes: u64,
    pub max_total_bytes: u64,
    pub max_files_per_video: u64,
}

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        super::migrations::refuse_newer(&conn)?;
        conn.execute_batch(SCHEMA)?;
        super::migrations::run(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Run `f` with the connection on the blocking pool.
    pub async fn run<F, R>(&self, f: F) -> ApiResult<R>
    where
        F: FnOnce(&mut Connection) -> ApiResult<R> + Send + 'static,
        R: Send + 'static,
    {
        let conn = self.conn.clone();
        actix_web::web::block(move || {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c)
        })
        .await?
    }

    /// Run `f` on the calling thread (startup, before serving).
    pub fn run_now<R>(&self, f: impl FnOnce(&mut Connection) -> ApiResult<R>) -> ApiResult<R> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn setting(c: &Connection, key: &str) -> ApiResult<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

pub fn set_setting(c: &Connection, key: &str, value: &str) -> ApiResult<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// Remove a setting and overwrite the pages that held it (`secure_delete`), for secrets that move elsewhere.
pub fn erase_setting(c: &Connection, key: &str) -> ApiResult<()> {
    c.pragma_update(None, "secure_delete", "ON")?;
    c.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    c.pragma_update(None, "secure_delete", "OFF")?;
    // The WAL still holds the old page: fold it into the database file and truncate it.
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

pub fn create_video(
    c: &Connection,
    id: &str,
    title: &str,
    visibility: Visibility,
) -> ApiResult<()> {
    create_recording(c, id, title, visibility, None)
}

/// A video in state `uploading`, naming the live stream it is recorded from (`None`: not a recording).
pub fn create_recording(
    c: &Connection,
    id: &str,
    title: &str,
    visibility: Visibility,
    stream_id: Option<&str>,
) -> ApiResult<()> {
    c.execute(
        "INSERT INTO videos (id, title, visibility, state, created_at, stream_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            title,
            visibility,
            VideoState::Uploading,
            now_secs(),
            stream_id
        ],
    )?;
    Ok(())
}

pub fn insert_ticket(c: &Connection, hash: &str, video_id: &str, expires_at: i64) -> ApiResult<()> {
    c.execute(
        "INSERT INTO tickets (hash, video_id, expires_at) VALUES (?1, ?2, ?3)",
        params![hash, video_id, expires_at],
    )?;
    Ok(())
}

/// The video a ticket belongs to and when it expires.
pub fn ticket(c: &Connection, hash: &str) -> ApiResult<Option<(String, i64)>> {
    Ok(c.query_row(
        "SELECT video_id, expires_at FROM tickets WHERE hash = ?1",
        [hash],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

const VIDEO_COLS: &str = "v.id, v.title, v.visibility, v.state, v.created_at, v.published_at,
    (SELECT COUNT(*) FROM files f WHERE f.video_id = v.id),
    (SELECT COALESCE(SUM(size), 0) FROM files f WHERE f.video_id = v.id),
    EXISTS (SELECT 1 FROM files f WHERE f.video_id = v.id AND f.path = 'poster.jpg'),
    EXISTS (SELECT 1 FROM files f WHERE f.video_id = v.id AND f.path = 'storyboard/storyboard.vtt'),
    v.stream_id";

fn video_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VideoRow> {
    Ok(VideoRow {
        id: r.get(0)?,
        title: r.get(1)?,
        visibility: r.get(2)?,
        state: r.get(3)?,
        created_at: r.get(4)?,
        published_at: r.get(5)?,
        files: r.get(6)?,
        bytes: r.get(7)?,
        poster: r.get(8)?,
        storyboard: r.get(9)?,
        stream_id: r.get(10)?,
    })
}

pub fn video(c: &Connection, id: &str) -> ApiResult<Option<VideoRow>> {
    let sql = format!("SELECT {VIDEO_COLS} FROM videos v WHERE v.id = ?1");
    Ok(c.query_row(&sql, [id], video_from_row).optional()?)
}

/// Every video, or (`stream`) the recordings of one live stream; oldest first.
pub fn videos(c: &Connection, stream: Option<&str>) -> ApiResult<Vec<VideoRow>> {
    let sql = format!(
        "SELECT {VIDEO_COLS} FROM videos v WHERE ?1 IS NULL OR v.stream_id = ?1
         ORDER BY v.created_at, v.id"
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map([stream], video_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ids of a live stream's published recordings, oldest first.
pub fn recordings(c: &Connection, stream_id: &str) -> ApiResult<Vec<String>> {
    let mut st = c.prepare(
        "SELECT id FROM videos WHERE stream_id = ?1 AND state = ?2 ORDER BY created_at, id",
    )?;
    let rows = st.query_map(params![stream_id, VideoState::Ready], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn files(c: &Connection, video_id: &str) -> ApiResult<Vec<StoredFile>> {
    let mut st =
        c.prepare("SELECT path, sha256, size FROM files WHERE video_id = ?1 ORDER BY path")?;
    let rows = st.query_map([video_id], |r| {
        Ok(StoredFile {
            path: r.get(0)?,
            sha256: r.get(1)?,
            size: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn file(c: &Connection, video_id: &str, path: &str) -> ApiResult<Option<StoredFile>> {
    Ok(c.query_row(
        "SELECT path, sha256, size FROM files WHERE video_id = ?1 AND path = ?2",
        [video_id, path],
        |r| {
            Ok(StoredFile {
                path: r.get(0)?,
                sha256: r.get(1)?,
                size: r.get(2)?,
            })
        },
    )
    .optional()?)
}

/// Bytes held by every video, and by ingest jobs still writing theirs (their objects are on disk too).
pub fn total_bytes(c: &Connection) -> ApiResult<u64> {
    // Sums of sizes the schema keeps `>= 0`: read as u64 (a negative would be an error, not a wrap).
    let n: u64 = c.query_row(
        "SELECT (SELECT COALESCE(SUM(size), 0) FROM files)
              + (SELECT COALESCE(SUM(size), 0) FROM ingest_files)",
        [],
        |r| r.get(0),
    )?;
    Ok(n)
}

pub fn video_bytes(c: &Connection, video_id: &str) -> ApiResult<(u64, u64)> {
    let (n, b): (u64, u64) = c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files WHERE video_id = ?1",
        [video_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((n, b))
}

fn referenced(c: &Connection, video_id: &str, sha256: &str) -> ApiResult<bool> {
    Ok(c.query_row(
        "SELECT EXISTS (SELECT 1 FROM files WHERE video_id = ?1 AND sha256 = ?2)",
        [video_id, sha256],
        |r| r.get(0),
    )?)
}

/// Is this object recorded for some path? Used by orphan collection.
pub fn object_referenced(c: &Connection, video_id: &str, sha256: &str) -> ApiResult<bool> {
    referenced(c, video_id, sha256)
}

/// Record `path` → object `sha256` (already durable in the store) in one transaction that also enforces the
/// published rule and the quotas.
pub fn put_file(
    c: &mut Connection,
    video_id: &str,
    row: &StoredFile,
    quota: &Quota,
) -> ApiResult<PutOutcome> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v = video(&tx, video_id)?.ok_or(ApiError::NotFound)?;
    let old = file(&tx, video_id, &row.path)?;
    if let Some(old) = &old {
        if old.sha256 == row.sha256 {
            return Ok(PutOutcome::Unchanged);
        }
    }
    if v.is_ready() {
        return Err(ApiError::Published(match old {
            Some(_) => format!("{} already holds different bytes", row.path),
            None => format!("{} cannot be added to a published package", row.path),
        }));
    }
    let old_size = old.as_ref().map_or(0, |o| o.size);
    let size = row.size;
    let (count, bytes) = video_bytes(&tx, video_id)?;
    if old.is_none() && count >= quota.max_files_per_video {
        return Err(ApiError::QuotaExceeded(format!(
            "a video holds at most {} files",
            quota.max_files_per_video
        )));
    }
    if bytes - old_size.min(bytes) + size > quota.max_video_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "this video would hold more than {} bytes",
            quota.max_video_bytes
        )));
    }
    let total = total_bytes(&tx)?;
    if total - old_size.min(total) + size > quota.max_total_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "the origin would hold more than {} bytes",
            quota.max_total_bytes
        )));
    }
    tx.execute(
        "INSERT INTO files (video_id, path, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (video_id, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size",
        params![video_id, row.path, row.sha256, row.size, now_secs()],
    )?;
    let orphan = match &old {
        Some(o) if !referenced(&tx, video_id, &o.sha256)? => Some(o.sha256.clone()),
        _ => None,
    };
    tx.commit()?;
    Ok(match old {
        None => PutOutcome::Created,
        Some(_) => PutOutcome::Replaced { orphan },
    })
}

/// Forget the files under directory `dir` of an unpublished video (a rendition left out of a
/// recording), in one transaction. Returns the objects no remaining row of the video uses, for the
/// caller to delete afterwards (a crash in between leaves orphans, collected at the next start).
pub fn delete_dir(c: &mut Connection, video_id: &str, dir: &str) -> ApiResult<Vec<String>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v = video(&tx, video_id)?.ok_or(ApiError::NotFound)?;
    if v.is_ready() {
        return Err(ApiError::Published(format!(
            "{dir}/ cannot be removed from a published package"
        )));
    }
    let prefix = format!("{dir}/");
    let gone: Vec<String> = {
        // substr, not LIKE: a rendition id may hold `_`, a LIKE wildcard.
        let mut st = tx.prepare(
            "DELETE FROM files WHERE video_id = ?1 AND substr(path, 1, length(?2)) = ?2
             RETURNING sha256",
        )?;
        let rows = st.query_map([video_id, prefix.as_str()], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut orphans = Vec::new();
    for sha in gone {
        if !orphans.contains(&sha) && !referenced(&tx, video_id, &sha)? {
            orphans.push(sha);
        }
    }
    tx.commit()?;
    Ok(orphans)
}

/// Flip a video to `ready`. The caller has checked the package inside the same lock hold.
pub fn mark_ready(c: &Connection, video_id: &str) -> ApiResult<()> {
    c.execute(
        "UPDATE videos SET state = ?3, published_at = ?2 WHERE id = ?1 AND state = ?4",
        params![
            video_id,
            now_secs(),
            VideoState::Ready,
            VideoState::Uploading
        ],
    )?;
    Ok(())
}

/// Record a published video with its files as a manifest in the shared store describes it (a catalog
/// rebuilt from the bucket, or a read-only origin learning of a video).
pub fn insert_published(c: &Connection, m: &crate::manifest::Manifest) -> ApiResult<()> {
    c.execute(
        "INSERT INTO videos (id, title, visibility, state, created_at, published_at, stream_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            m.id,
            m.title,
            m.visibility,
            VideoState::Ready,
            m.created_at,
            m.published_at,
            m.stream_id
        ],
    )?;
    let mut st = c.prepare(
        "INSERT INTO files (video_id, path, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for f in &m.files {
        let size = i64::try_from(f.size)
            .map_err(|_| ApiError::Internal(format!("{}: size {}", f.path, f.size)))?;
        st.execute(params![m.id, f.path, f.sha256, size, now_secs()])?;
    }
    Ok(())
}

/// Delete a video's rows (files and tickets cascade). Objects are deleted afterwards by the caller; a crash
/// in between leaves orphans that the next start collects.
pub fn delete_video(c: &Connection, video_id: &str) -> ApiResult<bool> {
    Ok(c.execute("DELETE FROM videos WHERE id = ?1", [video_id])? > 0)
}

pub fn delete_expired_tickets(c: &Connection) -> ApiResult<usize> {
    Ok(c.execute(
        "DELETE FROM tickets WHERE expires_at < ?1",
        [now_secs() - 86_400],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's CHECK constraints and the enums list the same words.
    #[test]
    fn schema_accepts_every_value() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.run_now(|c| {
            for (i, (&vis, &state)) in Visibility::VARIANTS
                .iter()
                .cycle()
                .zip(VideoState::VARIANTS)
                .enumerate()
            {
                let id = format!("v{i}");
                c.execute(
                    "INSERT INTO videos (id, title, visibility, state, created_at) VALUES (?1, '', ?2, ?3, 0)",
                    params![id, vis, state],
                )?;
                let v = video(c, &id)?.unwrap();
                assert_eq!((v.visibility, v.state), (vis, state));
            }
            for (i, (&vis, &state)) in Visibility::VARIANTS
                .iter()
                .cycle()
                .zip(JobState::VARIANTS)
                .enumerate()
            {
                c.execute(
                    "INSERT INTO ingest_jobs (id, video_id, title, visibility, state, created_at)
                     VALUES (?1, 'v', '', ?2, ?3, 0)",
                    params![format!("j{i}"), vis, state],
                )?;
            }
            let bad = c.execute(
                "INSERT INTO videos (id, title, visibility, state, created_at) VALUES ('x', '', 'public', 'gone', 0)",
                [],
            );
            assert!(bad.is_err());
            Ok(())
        })
        .unwrap();
    }
}
