//! One ingest job, on an ingest thread: segment the spooled source with the core (copy, no re-encoding),
//! then for each package file in turn: spool → check (as an upload is checked) → commit to the store →
//! record in `ingest_files`. Then check the package as publish does (complete, conformant) and make it a
//! published video in one short transaction ([`rows::publish`]).
//!
//! Bounded whatever the length of the video: one package file is open at a time (plus the source), one
//! segment at most is held in memory for its check, and no segment over `max_segment_bytes` is written at
//! all. A failure deletes the job's objects, then marks it failed and drops its rows; a crash leaves
//! objects with no `files` row, which start-up deletes.
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use upcast_core::package::FileBody;
use upcast_core::source::FileSource;

use crate::limits::reserve::{Reservation, Reservations};
use upcast_core::Package;

use super::rows::{self, JobError};
use crate::check;
use crate::db::{Db, Quota, StoredFile};
use crate::error::{ApiError, ApiResult};
use crate::paths::{self, FileKind};
use crate::publish::{check_complete, check_conformant};
use crate::store::{ObjectKey, Spool, Store};
use crate::webhooks::{EventKind, Webhooks};
use crate::Limits;

/// What a job needs from the origin.
pub struct Ctx {
    pub db: Db,
    pub store: Arc<dyn Store>,
    pub limits: Limits,
    /// Bytes being uploaded right now (this job's source among them): the total quota counts them too.
    pub reservations: Arc<Reservations>,
    /// A job's end is an event: `video.ready` when it published the video, `video.failed` when it failed.
    pub webhooks: Webhooks,
}

impl Ctx {
    fn quota(&self) -> Quota {
        Quota {
            max_video_bytes: self.limits.max_video_bytes,
            max_total_bytes: self.limits.max_total_bytes,
            max_files_per_video: self.limits.max_files_per_video,
        }
    }
}

/// An accepted job: its row is `queued`, its source spooled.
pub struct Queued {
    pub id: String,
    pub video_id: String,
    pub source: Spool,
    /// The source's bytes, counted against the total quota until the job ends. Declared after `source`:
    /// the file is deleted before its bytes are released.
    pub source_reserved: Reservation,
    pub target_duration_s: f64,
}

/// Run a job to `done` or `failed`. Never panics out: a panic fails the job like any error.
pub fn run(ctx: &Ctx, job: Queued) {
    let mut committed: Vec<ObjectKey> = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx.db.run_now(|c| rows::set_running(c, &job.id))?;
        ingest(ctx, &job, &mut committed)
    }))
    .unwrap_or_else(|_| {
        Err(ApiError::Internal(format!(
            "ingest job {} panicked",
            job.id
        )))
    });
    let (id, video_id) = (job.id.clone(), job.video_id.clone());
    drop(job); // Deletes the spooled source.
    let e = match outcome {
        Ok(()) => {
            if let Err(e) = crate::manifest::write(ctx.store.as_ref(), &ctx.db, &video_id) {
                // Written at the next start (manifest::reconcile).
                eprintln!("upcast: manifest of {video_id}: {e}");
            }
            return ready(ctx, &id, &video_id);
        }
        Err(e) => e,
    };
    // Objects first, then the `failed` state: a client that sees `failed` sees the clean-up done. Safe in
    // this order (unlike a video's delete) because no served row names these objects: only `ingest_files`
    // rows do, and a crash before `rows::fail` leaves the job to start-up, which drops them.
    for key in committed {
        if let Err(e) = ctx.store.delete(&key) {
            eprintln!("upcast: ingest: could not delete {key:?}: {e}");
        }
    }
    let je = JobError::from(&e);
    if let Err(f) = ctx.db.run_now(|c| rows::fail(c, &id, &je)) {
        // The row stays `running` and is marked interrupted at the next start.
        eprintln!("upcast: ingest: could not record the failure of job {id}: {f}");
    }
    let data =
        serde_json::json!({"id": video_id, "job_id": id, "code": e.code(), "msg": e.to_string()});
    ctx.webhooks.emit_now_logged(EventKind::VideoFailed, data);
}

/// The job published its video: `video.ready` with the video as `GET /api/videos/{id}` shows it.
fn ready(ctx: &Ctx, job_id: &str, video_id: &str) {
    let row = ctx.db.run_now(|c| crate::db::video(c, video_id));
    let mut data = match row {
        Ok(Some(v)) => serde_json::to_value(crate::videos::video_view(&v)).unwrap_or_default(),
        _ => serde_json::json!({ "id": video_id }),
    };
    data["job_id"] = serde_json::json!(job_id);
    ctx.webhooks.emit_now_logged(EventKind::VideoReady, data);
}

/// The core's refusal of a source, as the client sees it. A read error's text may be OS text: only where.
fn segment_error(e: upcast_core::Error) -> ApiError {
    match e {
        upcast_core::Error::Read { offset, msg } => {
            eprintln!("upcast: ingest: reading the source at byte {offset}: {msg}");
            ApiError::UnsupportedMedia(format!("the source could not be read at byte {offset}"))
        }
        e => ApiError::UnsupportedMedia(e.to_string()),
    }
}

fn ingest(ctx: &Ctx, job: &Queued, committed: &mut Vec<ObjectKey>) -> ApiResult<()> {
    let src = FileSource::open(job.source.path()).map_err(ApiError::from_io)?;
    let mut opts = upcast_core::SegmentOptions::default();
    opts.plan.target_duration_s = job.target_duration_s;
    let package = upcast_core::segment(&src, &opts).map_err(segment_error)?;
    let files = package.files();
    preflight(&package, &files, &ctx.limits)?;
    let n = files.len();
    ctx.db.run_now(|c| rows::set_planned(c, &job.id, n))?;

    let quota = ctx.quota();
    // Init segments are small (a moov without samples); media segments are checked against them.
    let mut inits: HashMap<String, Vec<u8>> = HashMap::new();
    let mut stored: HashMap<String, StoredFile> = HashMap::new();
    for (path, body) in files {
        let kind = paths::check(&path)?;
        let mut spool = ctx.store.spool().map_err(ApiError::from_io)?;
        let (sha256, len) = write(&mut spool, &src, &body)?;
        let init = inits.get(&check::init_path_for(&path)).map(Vec::as_slice);
        check::check_file(&path, kind, &mut spool.file, len, init)?;
        if let (FileKind::Init, FileBody::Bytes(b)) = (kind, &body) {
            inits.insert(path.clone(), b.to_vec());
        }
        let key = ObjectKey {
            video_id: job.video_id.clone(),
            sha256: sha256.clone(),
        };
        // Counted before the commit: a commit that fails half-way may still leave the object.
        if !committed.contains(&key) {
            committed.push(key.clone());
        }
        ctx.store.commit(spool, &key).map_err(ApiError::from_io)?;
        let row = StoredFile {
            path: path.clone(),
            sha256,
            size: len,
        };
        ctx.db.run_now(|c| {
            let reserved = ctx.reservations.reserved(None).0;
            rows::record_file(c, &job.id, &row, &quota, reserved)
        })?;
        stored.insert(path, row);
    }
    drop(src);

    // The checks publish runs, off the metadata lock: the job's files are its own until it publishes.
    check_complete(ctx.store.as_ref(), &job.video_id, &stored)?;
    check_conformant(ctx.store.as_ref(), &job.video_id, &stored)?;
    ctx.db.run_now(|c| rows::publish(c, &job.id, &quota))
}

/// Refuse, before a byte is written, a package that cannot pass: a segment over the size limit (the core
/// cuts only at key frames, so a long GOP makes a large segment that no cut can shrink), or more files or
/// bytes than a video may hold.
fn preflight(
    package: &Package,
    files: &[(String, FileBody<'_>)],
    limits: &Limits,
) -> ApiResult<()> {
    let max = limits.max_segment_bytes;
    for r in &package.renditions {
        for (k, (seg, data)) in r.segments.iter().zip(&r.data).enumerate() {
            if data.len() > max {
                let path =
                    upcast_core::layout::in_dir(&r.id, &upcast_core::layout::segment_name(k));
                let gop = seg.duration_s(r.timescale);
                return Err(ApiError::SegmentTooLarge(format!(
                    "{path} would be {} bytes; the limit is {max} bytes: the source has one key frame every {gop:.1} s; re-encode with shorter GOPs \
                     (a key frame every 2 s, e.g. ffmpeg -g 60 at 30 fps)",
                    data.len()
                )));
            }
        }
    }
    for (path, body) in files {
        if !path.ends_with(".m4s") && !path.ends_with(".m3u8") && body.len() > max {
            return Err(ApiError::TooLarge(format!(
                "{path} would be {} bytes; the limit is {max}",
                body.len()
            )));
        }
        if path.ends_with(".m3u8") && body.len() > limits.max_playlist_bytes {
            return Err(ApiError::TooLarge(format!(
                "{path} would be {} bytes; the limit for a playlist is {}",
                body.len(),
                limits.max_playlist_bytes
            )));
        }
    }
    if files.len() as u64 > limits.max_files_per_video {
        return Err(ApiError::QuotaExceeded(format!(
            "the package has {} files; a video holds at most {}",
            files.len(),
            limits.max_files_per_video
        )));
    }
    let bytes: u64 = files.iter().map(|(_, b)| b.len()).sum();
    if bytes > limits.max_video_bytes {
        return Err(ApiError::QuotaExceeded(format!(
            "the package is {bytes} bytes; a video holds at most {}",
            limits.max_video_bytes
        )));
    }
    Ok(())
}

/// Hashes and counts what is written through it.
struct HashingWriter<'a> {
    inner: &'a mut std::fs::File,
    hash: Sha256,
    len: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Write one package file into its spool; returns its SHA-256 and length.
fn write(spool: &mut Spool, src: &FileSource, body: &FileBody<'_>) -> ApiResult<(String, u64)> {
    let mut w = HashingWriter {
        inner: &mut spool.file,
        hash: Sha256::new(),
        len: 0,
    };
    match body {
        FileBody::Bytes(b) => w.write_all(b),
        FileBody::Segment(s) => s.write_to(src, &mut w),
    }
    .map_err(ApiError::from_io)?;
    Ok((hex::encode(w.hash.finalize()), w.len))
}
