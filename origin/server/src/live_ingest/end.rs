//! The end of a stream: its publisher left and the grace period passed with none back.
use std::time::Duration;

use actix_web::web;

use super::session::event_data;
use super::sink::{lock, Sessions};
use crate::streams::status::State;
use crate::webhooks::EventKind;
use crate::AppState;

/// The grace period passed: if no publisher took the session meanwhile, the stream ends (or fails):
/// ENDLIST, the status, `stream.ended` / `stream.failed`, then the recording is published.
pub(super) async fn end_if_idle(
    state: &web::Data<AppState>,
    sessions: &Sessions,
    id: &str,
    generation: u64,
    why: &str,
    failed: bool,
) {
    let session = {
        let mut all = sessions.lock().unwrap_or_else(|e| e.into_inner());
        match all.get(id) {
            Some(s) if lock(s).generation == generation => all.remove(id),
            _ => None,
        }
    };
    let Some(session) = session else { return };
    let (live, dvr, recordings) = {
        let mut s = lock(&session);
        let recordings = s.end();
        (s.live.clone(), u64::from(s.row.dvr_window_secs), recordings)
    };
    let (to, kind) = if failed {
        (State::Failed, EventKind::StreamFailed)
    } else {
        (State::Ended, EventKind::StreamEnded)
    };
    match state.streams.set_state(id, to, Some(why)).await {
        // A stream deleted while live has no status left: the event still says it ended, and why.
        Ok(()) | Err(crate::error::ApiError::NotFound) => {}
        Err(e) => eprintln!("upcast: live {id}: status {}: {e}", to.as_str()),
    }
    state.metrics.stream_ended(id);
    let mut data = event_data(state, id);
    data["reason"] = serde_json::json!(why);
    state.webhooks.emit_logged(kind, data).await;
    for r in recordings {
        r.finish();
    }
    // Viewers keep the ended window (ENDLIST) for its DVR length, unless a new publish resumed it.
    actix_web::rt::time::sleep(Duration::from_secs(dvr)).await;
    let idle = !sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(id);
    if idle && live.is_ended() {
        state.live.remove(id);
    }
}
