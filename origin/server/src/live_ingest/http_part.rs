//! One uploaded part: numbered, checked, stamped with its program date-time and pushed through the feed.
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::check::{check_part, refused, Claim, Refused};
use super::sink::lock;
use super::tickets::Ticket;
use super::timing;
use crate::AppState;

/// Part `n` of rendition `name`: `201` and `{msn, part, lag_ms}` when taken, `200` and the same answer
/// for a retry of the last part with the same bytes.
pub fn push(
    state: &AppState,
    t: &Ticket,
    name: &str,
    n: u64,
    claim: Claim,
    bytes: Vec<u8>,
) -> Result<(actix_web::http::StatusCode, Value), Refused> {
    use actix_web::http::StatusCode;
    let mut guard = t.lock();
    let p = &mut *guard;
    let rung = p.rungs.get(name).ok_or_else(|| {
        refused(
            409,
            "no-init",
            format!("PUT {name}/init.mp4 before its parts"),
        )
    })?;
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    if n + 1 == rung.next_n {
        return match &rung.last {
            Some((d, v)) if *d == digest => Ok((StatusCode::OK, v.clone())),
            _ => Err(refused(
                409,
                "part-conflict",
                format!("part {n} was stored with other bytes"),
            )),
        };
    }
    if n != rung.next_n {
        let expected = rung.next_n;
        return Err(Refused {
            expected: Some(expected),
            ..refused(
                409,
                "part-gap",
                format!("expected part {expected}, not {n}"),
            )
        });
    }
    p.feed
        .still_allowed()
        .map_err(|e| refused(409, "publisher-stopped", e))?;
    let part_target = state.cfg.live_ingest.part_target;
    let ms = u64::try_from(part_target.as_millis()).unwrap_or(u64::MAX);
    let max_ticks = u64::from(rung.init.timescale).saturating_mul(2 * ms) / 1000;
    let (part, samples, b_frames) = check_part(rung, bytes, claim, max_ticks)?;
    let now = SystemTime::now();
    let (start_us, end_us) = (timing::start_us(&part), timing::end_us(&part));
    let (wall, media) = *p
        .anchor
        .get_or_insert_with(|| timing::http_anchor(now, claim.capture_ms, end_us));
    let pdt = shift(wall, start_us - media);
    let lag_ms = match now.duration_since(shift(wall, end_us - media)) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    };
    let session = p.feed.session.clone();
    let counted = (
        (part.start, part.duration),
        part.bytes.len(),
        part.starts_segment,
    );
    let mut s = lock(&session);
    p.feed
        .part(&mut s, name, part, pdt)
        .map_err(|e| refused(422, "refused-by-window", e))?;
    let (msn, idx) = s
        .live
        .windows()
        .into_iter()
        .find(|w| w.0 == name)
        .map_or((0, 0), |w| (w.2, w.3.saturating_sub(1)));
    drop(s);
    let v = json!({ "msn": msn, "part": idx, "lag_ms": lag_ms });
    let rung = p.rungs.get_mut(name).expect("checked above");
    rung.next_n = n + 1;
    rung.paused = false;
    rung.last = Some((digest, v.clone()));
    rung.count(counted.0, counted.1, counted.2, (samples, b_frames));
    p.last_seen = Instant::now();
    super::http_stats::refresh(state, &t.stream_id, p);
    Ok((StatusCode::CREATED, v))
}

fn shift(t: SystemTime, us: i64) -> SystemTime {
    let d = Duration::from_micros(us.unsigned_abs());
    if us >= 0 {
        t + d
    } else {
        t.checked_sub(d).unwrap_or(t)
    }
}
