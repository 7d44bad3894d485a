//! `upcast serve --read-only --store s3://…`: an origin that serves every video the shared store's
//! manifests publish and refuses every write. Its database holds only what it imported: at start-up all
//! manifests ([`crate::manifest::recover`]), then a video it has not seen yet on the first playback request
//! that names it ([`learn`]), so a video published by the writer plays everywhere at once; and, with
//! `--read-only-poll-secs N`, every N seconds the manifests of videos published since ([`follow`]), so its
//! video list (what the viewer page shows) follows the writer without a restart.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use crate::error::{ApiError, ApiResult};
use crate::{manifest, AppState};

/// An id the store had no manifest for is not asked for again for this long…
const MISS_TTL: Duration = Duration::from_secs(5);
/// … and at most this many such ids are remembered (the oldest go first): unknown ids cannot make the
/// origin send one bucket request each, nor grow memory without bound.
const MAX_MISSES: usize = 4096;

/// Refuses every request under `/api` that could change something (any method but GET, HEAD, OPTIONS)
/// with `405 read-only`, before authentication and before a byte of its body is read.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let read_only = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.cfg.read_only);
    if read_only && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let mut resp = ApiError::ReadOnly.error_response();
        resp.headers_mut().insert(
            actix_web::http::header::CONNECTION,
            actix_web::http::header::HeaderValue::from_static("close"),
        );
        return Ok(req.into_response(resp));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Recently missed ids, with when they were missed.
#[derive(Default)]
pub struct Misses(Mutex<HashMap<String, Instant>>);

impl Misses {
    fn recent(&self, id: &str) -> bool {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(id).is_some_and(|t| t.elapsed() < MISS_TTL)
    }

    fn note(&self, id: &str) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.retain(|_, t| t.elapsed() < MISS_TTL);
        if m.len() >= MAX_MISSES {
            if let Some(oldest) = m.iter().min_by_key(|(_, t)| **t).map(|(k, _)| k.clone()) {
                m.remove(&oldest);
            }
        }
        m.insert(id.to_string(), Instant::now());
    }
}

/// On a read-only origin, imports `id`'s manifest when the store has one the database lacks. Returns
/// whether it imported one (the caller looks the video up again).
pub async fn learn(state: &AppState, id: &str) -> ApiResult<bool> {
    if !state.cfg.read_only || state.read_only_misses.recent(id) {
        return Ok(false);
    }
    let (store, db, vid) = (state.store.clone(), state.db.clone(), id.to_string());
    let imported = web::block(move || -> ApiResult<bool> {
        match manifest::read(store.as_ref(), &vid)? {
            Some(m) => db.run_now(|c| manifest::import(c, &m)),
            None => Ok(false),
        }
    })
    .await??;
    if imported {
        state.catalog.invalidate(id);
    } else {
        state.read_only_misses.note(id);
    }
    Ok(imported)
}

/// Every `every`, imports the manifests of videos the database lacks (runs for the life of the server).
pub fn follow(state: web::Data<AppState>, every: Duration) {
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(every).await;
            let (store, db) = (state.store.clone(), state.db.clone());
            match web::block(move || manifest::import_new(store.as_ref(), &db)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    eprintln!("upcast: imported {n} newly published video(s) from the store")
                }
                Ok(Err(e)) => eprintln!("upcast: catalog poll: {e}"),
                Err(e) => eprintln!("upcast: catalog poll: {e}"),
            }
        }
    });
}
