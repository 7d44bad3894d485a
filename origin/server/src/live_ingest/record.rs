//! A stream's recording, from the live side: started when a recorded stream goes live (or when a
//! returning publisher's new track settings need a new one), and what happens when it is published.
use std::sync::Arc;

use actix_web::web;
use serde_json::json;

use crate::recording::writer::{Outcome, RecordingWriter};
use crate::recording::RecCtx;
use crate::streams::rows::StreamRow;
use crate::webhooks::EventKind;
use crate::AppState;

/// A recording of the stream into a new video, or None (logged) when it cannot start.
pub(super) fn start_recording(
    state: &web::Data<AppState>,
    row: &StreamRow,
) -> Option<RecordingWriter> {
    let ctx = RecCtx {
        db: state.db.clone(),
        store: state.store.clone(),
        quota: Arc::new(crate::upload::quota(state)),
    };
    let title = format!(
        "{} · recorded {}",
        if row.title.is_empty() {
            "Live stream"
        } else {
            &row.title
        },
        crate::db::now_secs()
    );
    let handle = tokio::runtime::Handle::current();
    let (st, sid) = (state.clone(), row.id.clone());
    let done = move |outcome: Outcome| {
        handle.spawn(async move { recording_done(&st, &sid, outcome).await });
    };
    match RecordingWriter::spawn(ctx, &row.id, &title, row.visibility, done) {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!(
                "upcast: live {}: the recording could not start: {e}",
                row.id
            );
            state
                .streams
                .set_error(&row.id, e.code(), "the recording could not start");
            None
        }
    }
}

/// A recording ended: `video.ready` with the video, or `video.failed` with why.
async fn recording_done(state: &web::Data<AppState>, stream_id: &str, outcome: Outcome) {
    match outcome {
        Ok(video_id) => {
            let vid = video_id.clone();
            let row = state.db.run(move |c| crate::db::video(c, &vid)).await;
            state.catalog.invalidate(&video_id);
            let mut data = match row {
                Ok(Some(v)) => {
                    serde_json::to_value(crate::videos::video_view(&v)).unwrap_or_default()
                }
                _ => json!({ "id": video_id }),
            };
            data["stream_id"] = json!(stream_id);
            state
                .webhooks
                .emit_logged(EventKind::VideoReady, data)
                .await;
        }
        Err(e) => {
            eprintln!("upcast: live {stream_id}: the recording was not published: {e}");
            // The status and the webhook say why: the first MUST rule broken, where the publisher sees it.
            let mut msg = e.to_string();
            if let crate::error::ApiError::NotConformant(report) = &e {
                let must = report
                    .findings
                    .iter()
                    .filter(|f| f.severity == upcast_core::check::Severity::Must);
                for (i, f) in must.enumerate() {
                    eprintln!(
                        "upcast: live {stream_id}:   {} {}: {}",
                        f.rule, f.file, f.message
                    );
                    if i == 0 {
                        msg = format!("{msg}; first: {} {}: {}", f.rule, f.file, f.message);
                    }
                }
            }
            state.streams.set_error(stream_id, e.code(), &msg);
            let data = json!({ "stream_id": stream_id, "code": e.code(), "msg": msg });
            state
                .webhooks
                .emit_logged(EventKind::VideoFailed, data)
                .await;
        }
    }
}
