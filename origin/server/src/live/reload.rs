//! Blocking playlist reload (RFC 8216bis § 6.2.5.2): the `_HLS_msn` / `_HLS_part` / `_HLS_skip` query,
//! its 400 rules, and the wait itself: on the stream's change channel (no polling), in one of the hub's
//! bounded slots, for at most three target durations (then 503).
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::playlists;
use super::routes::Refusal;
use super::slots::Refused;
use super::stream::{LiveStream, State};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The blocking-reload query.
#[derive(Debug, Default)]
pub(super) struct Reload {
    pub msn: Option<u64>,
    pub part: Option<usize>,
    pub skip: bool,
}

impl Reload {
    pub(super) fn from_query(q: &str) -> ApiResult<Reload> {
        let mut r = Reload::default();
        let bad = |what: &str| ApiError::BadRequest(format!("{what} is not a number"));
        for (k, v) in q.split('&').filter_map(|kv| kv.split_once('=')) {
            match k {
                "_HLS_msn" => r.msn = Some(v.parse().map_err(|_| bad("_HLS_msn"))?),
                "_HLS_part" => r.part = Some(v.parse().map_err(|_| bad("_HLS_part"))?),
                "_HLS_skip" => r.skip = matches!(v, "YES" | "v2"),
                _ => {}
            }
        }
        if r.part.is_some() && r.msn.is_none() {
            return Err(ApiError::BadRequest("_HLS_part without _HLS_msn".into()));
        }
        Ok(r)
    }
}

/// RFC 8216bis § 6.2.5.2: an `_HLS_msn` more than two past the last segment in the playlist is a 400.
pub(super) fn check_msn(st: &State, i: usize, msn: u64) -> ApiResult<()> {
    let (edge, have) = st.renditions[i].edge();
    let last = if have > 0 {
        edge
    } else {
        edge.saturating_sub(1)
    };
    if msn > last.saturating_add(2) {
        return Err(ApiError::BadRequest(format!(
            "_HLS_msn {msn} is more than two past the last segment {last}"
        )));
    }
    Ok(())
}

/// The playlist holds segment `msn` (complete), or its part `part`, or the stream ended.
pub(super) fn reload_ready(st: &State, i: usize, msn: u64, part: Option<usize>) -> bool {
    let (edge, have) = st.renditions[i].edge();
    st.ended
        || st.removed
        || msn < edge
        || match part {
            Some(p) => msn == edge && p < have,
            None => false,
        }
}

/// Wait until `ready` holds for the stream, at most three target durations, in one of the hub's slots.
pub(super) async fn wait(
    state: &AppState,
    stream: &Arc<LiveStream>,
    ip: Option<std::net::IpAddr>,
    ready: impl Fn(&State) -> bool,
) -> Result<(), Refusal> {
    let hub = &state.live;
    let mut rx = stream.subscribe();
    rx.borrow_and_update();
    let limit = {
        let st = stream.lock();
        if ready(&st) {
            return Ok(());
        }
        Duration::from_secs(3 * playlists::target_duration(&st))
    };
    let _slot = hub.slots.acquire(ip).map_err(|r| {
        hub.counters.blocked_refused.fetch_add(1, Ordering::Relaxed);
        match r {
            Refused::Busy => ApiError::Busy,
            Refused::PerClient => ApiError::RateLimited {
                what: "too many blocked requests from this address".into(),
                retry_after: 1,
                limit: None,
            },
        }
    })?;
    hub.counters.blocked_waits.fetch_add(1, Ordering::Relaxed);
    let waited = actix_web::rt::time::timeout(limit, async {
        loop {
            if rx.changed().await.is_err() || ready(&stream.lock()) {
                return;
            }
        }
    })
    .await;
    if waited.is_err() {
        hub.counters
            .blocked_timeouts
            .fetch_add(1, Ordering::Relaxed);
        return Err(Refusal::Timeout);
    }
    Ok(())
}
