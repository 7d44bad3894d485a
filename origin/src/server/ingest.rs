//! `POST /api/ingest`: "POST an MP4, get an m3u8 back". The origin segments the file itself with the core
//! (copy rendition only: no re-encoding), stores the package through the same checks as an uploaded one,
//! publishes it, and answers with the playback URL. All or nothing: a failure leaves no video, no row and
//! no file.
use std::collections::HashMap;
use std::io::Write;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use upcast_core::package::FileBody;
use upcast_core::source::FileSource;

use super::check;
use super::db::{self, FileRow};
use super::error::{ApiError, ApiResult};
use super::paths::{self, FileKind};
use super::publish::check_complete;
use super::store::{ObjectKey, Spool};
use super::upload::{quota, receive, Received};
use super::videos::{new_id, video_json};
use super::AppState;

#[derive(Deserialize)]
pub struct IngestQuery {
    #[serde(default)]
    title: String,
    #[serde(default)]
    private: bool,
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

pub async fn ingest(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<IngestQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    state.keys.caller(&state.db, &req).await?.must_be_admin()?;
    let q = q.into_inner();
    if q.title.len() > 500 || q.title.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "title: at most 500 bytes, no control characters".into(),
        ));
    }
    let limit = state.cfg.limits.max_ingest_bytes;
    // The source file belongs to no video yet: its spool counts against the total quota. Kept whole until
    // the spool moves on (a `Received` deletes its file before it releases its reservation).
    let held = state.limits.reservations.start(None);
    let got = receive(&state, payload, limit, "the upload", held).await?;
    if let Ok(declared) = super::upload::declared_sha256(&req) {
        if declared != got.sha256 {
            return Err(ApiError::DigestMismatch {
                declared,
                actual: got.sha256.clone(),
            });
        }
    }
    let Received {
        spool: source,
        reservation: _source_reserved,
        ..
    } = got;

    // Segment and write every file to its own spool, checked like an upload, off the async workers.
    let st = state.clone();
    let files = web::block(move || -> ApiResult<Vec<(FileRow, Spool)>> {
        let src = FileSource::open(source.path()).map_err(ApiError::from_io)?;
        let package = upcast_core::segment(&src, &upcast_core::SegmentOptions::default())
            .map_err(|e| ApiError::UnsupportedMedia(e.to_string()))?;
        let mut out = Vec::new();
        let mut inits: HashMap<String, Vec<u8>> = HashMap::new();
        for (path, body) in package.files() {
            let kind = paths::check(&path)?;
            let mut spool = st.store.spool().map_err(ApiError::from_io)?;
            let mut w = HashingWriter {
                inner: &mut spool.file,
                hash: Sha256::new(),
                len: 0,
            };
            match body {
                FileBody::Bytes(b) => w.write_all(b),
                FileBody::Segment(s) => s.write_to(&src, &mut w),
            }
            .map_err(ApiError::from_io)?;
            let (sha256, len) = (hex::encode(w.hash.finalize()), w.len);
            let init = inits.get(&check::init_path_for(&path)).map(Vec::as_slice);
            check::check_file(&path, kind, &mut spool.file, len, init)?;
            if kind == FileKind::Init {
                inits.insert(
                    path.clone(),
                    std::fs::read(spool.path()).map_err(ApiError::from_io)?,
                );
            }
            spool.file.sync_all().map_err(ApiError::from_io)?;
            out.push((
                FileRow {
                    path,
                    sha256,
                    size: len as i64,
                },
                spool,
            ));
        }
        drop(source);
        Ok(out)
    })
    .await??;

    let id = new_id()?;
    let (vid, store, quota) = (id.clone(), state.store.clone(), quota(&state));
    let visibility = if q.private { "private" } else { "public" };
    let title = q.title;
    let video = state
        .db
        .run(move |c| {
            db::create_video(c, &vid, &title, visibility)?;
            let result = (|| {
                for (row, spool) in files {
                    let key = ObjectKey {
                        video_id: vid.clone(),
                        sha256: row.sha256.clone(),
                    };
                    store.commit(spool, &key).map_err(ApiError::from_io)?;
                    db::put_file(c, &vid, &row, &quota)?;
                }
                let stored = db::files(c, &vid)?
                    .into_iter()
                    .map(|f| (f.path.clone(), f))
                    .collect();
                check_complete(store.as_ref(), &vid, &stored)?;
                db::mark_ready(c, &vid)
            })();
            if let Err(e) = result {
                // Rows first, then objects (the same order as a delete; a crash here leaves orphans only).
                let stored = db::files(c, &vid).unwrap_or_default();
                let _ = db::delete_video(c, &vid);
                for f in stored {
                    let _ = store.delete(&ObjectKey {
                        video_id: vid.clone(),
                        sha256: f.sha256,
                    });
                }
                for o in store
                    .list()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|k| k.video_id == vid)
                {
                    let _ = store.delete(&o);
                }
                return Err(e);
            }
            db::video(c, &vid)?.ok_or(ApiError::NotFound)
        })
        .await?;
    state.catalog.invalidate(&id);
    let mut j = video_json(&state, &video);
    if !video.is_public() {
        let exp = db::now_secs() + 3600;
        j["playback_url"] = format!(
            "/s/{exp}/{}/v/{id}/{}",
            state.keys.sign(&id, exp),
            super::publish::MASTER
        )
        .into();
    }
    Ok(HttpResponse::Created().json(j))
}
