//! Ingest jobs in SQLite (`ingest_jobs`, `ingest_files`; schema in [`crate::db`]).
//!
//! A job's package files are recorded in `ingest_files` as they are committed to the store, never in
//! `files`: the playback routes and `GET /api/videos` read only `videos` and `files`, so nothing of a job
//! in progress is visible. [`publish`] moves the rows into `files` and creates the video, published, in one
//! short transaction. Objects of a job that never got there have no `files` row, so start-up collection
//! deletes them.
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::api_types::{JobState, VideoState, Visibility};
use crate::db::{self, Quota, StoredFile};
use crate::error::{ApiError, ApiResult};

#[derive(Clone, Debug)]
pub struct JobRow {
    pub id: String,
    pub video_id: String,
    pub title: String,
    pub visibility: Visibility,
    pub state: JobState,
    pub files_planned: Option<i64>,
    pub files_written: i64,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    /// JSON: the conformance findings when the package failed the checker.
    pub error_detail: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Why a job failed, as the API shows it.
pub struct JobError {
    pub code: String,
    pub msg: String,
    pub detail: Option<String>,
}

impl From<&ApiError> for JobError {
    fn from(e: &ApiError) -> Self {
        if let ApiError::Internal(d) = e {
            // The detail may hold paths or OS error text: the operator gets it, the client the code.
            eprintln!("upcast: ingest: internal error: {d}");
        }
        JobError {
            code: e.code().to_string(),
            msg: e.to_string(),
            detail: match e {
                ApiError::NotConformant(r) => serde_json::to_string(&r.findings).ok(),
                _ => None,
            },
        }
    }
}

pub fn insert(
    c: &Connection,
    id: &str,
    video_id: &str,
    title: &str,
    visibility: Visibility,
) -> ApiResult<()> {
    c.execute(
        "INSERT INTO ingest_jobs (id, video_id, title, visibility, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            video_id,
            title,
            visibility,
            JobState::Queued,
            db::now_secs()
        ],
    )?;
    Ok(())
}

pub fn get(c: &Connection, id: &str) -> ApiResult<Option<JobRow>> {
    Ok(c.query_row(
        "SELECT id, video_id, title, visibility, state, files_planned, files_written, error_code,
                error_msg, error_detail, created_at, finished_at
         FROM ingest_jobs WHERE id = ?1",
        [id],
        |r| {
            Ok(JobRow {
                id: r.get(0)?,
                video_id: r.get(1)?,
                title: r.get(2)?,
                visibility: r.get(3)?,
                state: r.get(4)?,
                files_planned: r.get(5)?,
                files_written: r.get(6)?,
                error_code: r.get(7)?,
                error_msg: r.get(8)?,
                error_detail: r.get(9)?,
                created_at: r.get(10)?,
                finished_at: r.get(11)?,
            })
        },
    )
    .optional()?)
}

pub fn set_running(c: &Connection, id: &str) -> ApiResult<()> {
    c.execute(
        "UPDATE ingest_jobs SET state = ?2 WHERE id = ?1 AND state = ?3",
        params![id, JobState::Running, JobState::Queued],
    )?;
    Ok(())
}

pub fn set_planned(c: &Connection, id: &str, files: usize) -> ApiResult<()> {
    c.execute(
        "UPDATE ingest_jobs SET files_planned = ?2 WHERE id = ?1",
        params![id, files],
    )?;
    Ok(())
}

/// Record one committed file of a running job, under the same quotas as an uploaded file (this job's files
/// count as its video's; the total counts every video, every job and the `reserved` bytes of uploads in
/// flight, this job's source among them).
pub fn record_file(
    c: &mut Connection,
    job: &str,
    row: &StoredFile,
    quota: &Quota,
    reserved: u64,
) -> ApiResult<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (count, bytes): (u64, u64) = tx.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ingest_files WHERE job_id = ?1",
        [job],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let size = row.size;
    if count >= quota.max_files_per_video {
        return Err(ApiError::QuotaExceeded(format!(
            "a video holds at most {} files",
            quota.max_files_per_video
        )));
    }
    if bytes + size > quota.max_video_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "this video would hold more than {} bytes",
            quota.max_video_bytes
        )));
    }
    if db::total_bytes(&tx)?
        .saturating_add(reserved)
        .saturating_add(size)
        > quota.max_total_bytes
    {
        return Err(ApiError::QuotaExceeded(format!(
            "the origin would hold more than {} bytes (stored and being uploaded)",
            quota.max_total_bytes
        )));
    }
    tx.execute(
        "INSERT INTO ingest_files (job_id, path, sha256, size) VALUES (?1, ?2, ?3, ?4)",
        params![job, row.path, row.sha256, row.size],
    )?;
    tx.execute(
        "UPDATE ingest_jobs SET files_written = files_written + 1 WHERE id = ?1",
        [job],
    )?;
    tx.commit()?;
    Ok(())
}

/// The one step that makes an ingested video visible: create it published, move the job's files into
/// `files`, mark the job done. Re-checks, inside the transaction, that the job is still running and the
/// total quota holds.
pub fn publish(c: &mut Connection, job: &str, quota: &Quota) -> ApiResult<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let j = get(&tx, job)?.ok_or(ApiError::NotFound)?;
    if j.state != JobState::Running {
        return Err(ApiError::Internal(format!(
            "ingest job {job} is {} at publish",
            j.state.as_str()
        )));
    }
    if db::total_bytes(&tx)? > quota.max_total_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "the origin would hold more than {} bytes",
            quota.max_total_bytes
        )));
    }
    let now = db::now_secs();
    tx.execute(
        "INSERT INTO videos (id, title, visibility, state, created_at, published_at)
         VALUES (?1, ?2, ?3, ?5, ?4, ?4)",
        params![j.video_id, j.title, j.visibility, now, VideoState::Ready],
    )?;
    tx.execute(
        "INSERT INTO files (video_id, path, sha256, size, created_at)
         SELECT ?1, path, sha256, size, ?2 FROM ingest_files WHERE job_id = ?3",
        params![j.video_id, now, job],
    )?;
    tx.execute("DELETE FROM ingest_files WHERE job_id = ?1", [job])?;
    tx.execute(
        "UPDATE ingest_jobs SET state = ?3, finished_at = ?2 WHERE id = ?1",
        params![job, now, JobState::Done],
    )?;
    tx.commit()?;
    Ok(())
}

/// Mark a job failed and drop its file rows, in one transaction.
pub fn fail(c: &mut Connection, job: &str, e: &JobError) -> ApiResult<()> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM ingest_files WHERE job_id = ?1", [job])?;
    tx.execute(
        "UPDATE ingest_jobs SET state = ?6, error_code = ?2, error_msg = ?3, error_detail = ?4,
                finished_at = ?5
         WHERE id = ?1",
        params![
            job,
            e.code,
            e.msg,
            e.detail,
            db::now_secs(),
            JobState::Failed
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// How long the status of a finished job stays readable.
pub const KEEP_FINISHED_SECS: i64 = 30 * 86_400;

/// At start-up (nothing runs yet): every job still queued or running was cut off by a stop or a crash.
/// Marks them failed (`interrupted`) and drops every job file row; the objects those rows named have no
/// `files` row, so orphan collection deletes them. Forgets jobs finished more than
/// [`KEEP_FINISHED_SECS`] ago. Returns how many jobs were interrupted.
pub fn interrupt_all(c: &mut Connection) -> ApiResult<usize> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "DELETE FROM ingest_jobs WHERE finished_at < ?1",
        [db::now_secs() - KEEP_FINISHED_SECS],
    )?;
    let n = tx.execute(
        "UPDATE ingest_jobs SET state = ?2, error_code = 'interrupted',
                error_msg = 'the origin stopped while this job ran; nothing of it was published',
                finished_at = ?1
         WHERE state IN (?3, ?4)",
        params![
            db::now_secs(),
            JobState::Failed,
            JobState::Queued,
            JobState::Running
        ],
    )?;
    tx.execute("DELETE FROM ingest_files", [])?;
    tx.commit()?;
    Ok(n)
}
