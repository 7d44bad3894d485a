//! The dispatcher: claims due deliveries up to the concurrency limit, makes each attempt on the blocking
//! pool (ureq is blocking), records what happened, and sleeps until the next delivery falls due or it is
//! woken (an event queued, an attempt done). It waits on events and due times, never polls on a clock
//! tick: with nothing queued it sleeps until woken (at most an hour, to prune the log).
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use super::rows::{self, Attempted, Due};
use super::{now_ms, sign, Inner};
use crate::db::now_secs;
use crate::metrics::DeliveryOutcome;

/// Finished deliveries (and their attempts) stay in the log this long.
const KEEP_LOG_SECS: i64 = 7 * 24 * 3600;
/// The longest the dispatcher sleeps with nothing due (then it prunes the log).
const IDLE: Duration = Duration::from_secs(3600);
/// Error texts kept per attempt.
const MAX_ERROR_LEN: usize = 300;

/// The wait before attempt `attempt + 1` after `attempt` failed: base × 2^(attempt−1), at most `max`.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max)
}

fn lock_in_flight(inner: &Inner) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
    inner.in_flight.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) async fn run(inner: Arc<Inner>) {
    let mut pruned_at = 0;
    loop {
        if now_secs() - pruned_at >= 3600 {
            pruned_at = now_secs();
            if let Err(e) = inner
                .db
                .run(|c| rows::prune(c, now_secs() - KEEP_LOG_SECS))
                .await
            {
                eprintln!("upcast: pruning the webhook log: {e:?}");
            }
        }
        let wait = match claim_and_start(&inner).await {
            Ok(next) => next.map_or(IDLE, |t| {
                Duration::from_millis(u64::try_from(t - now_ms()).unwrap_or(0)).min(IDLE)
            }),
            Err(e) => {
                // The database failed: try again after the first retry delay.
                eprintln!("upcast: webhook queue: {e:?}");
                inner.cfg.retry_base
            }
        };
        if !wait.is_zero() {
            let _ = actix_web::rt::time::timeout(wait, inner.wake.notified()).await;
        }
    }
}

/// Start attempts for due deliveries while there is room; return when the next one not yet started falls
/// due (None: nothing pending beyond those in flight, or no room: an attempt finishing wakes us).
async fn claim_and_start(inner: &Arc<Inner>) -> crate::error::ApiResult<Option<i64>> {
    let busy = lock_in_flight(inner).len();
    let free = inner.cfg.concurrency.max(1).saturating_sub(busy);
    // Enough rows to see `free` claimable ones past those in flight (which are due: they were when
    // claimed, and their time moves only when their attempt is recorded).
    let want = free + busy;
    let now = now_ms();
    let (due, next) = inner
        .db
        .run(move |c| Ok((rows::due(c, now, want)?, rows::next_due_after(c, now)?)))
        .await?;
    let mut started = 0;
    for d in due {
        if started == free {
            return Ok(None);
        }
        if lock_in_flight(inner).insert(d.delivery_id) {
            started += 1;
            actix_web::rt::spawn(attempt(inner.clone(), d));
        }
    }
    if started == free {
        return Ok(None);
    }
    Ok(next)
}

async fn attempt(inner: Arc<Inner>, d: Due) {
    let n = d.attempts.saturating_add(1);
    let id = d.delivery_id;
    let agent = inner.agent.clone();
    let sig = sign::header(&d.secret, now_secs(), d.body.as_bytes());
    let got = web::block(move || post(&agent, &d.url, &sig, &d.body))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let (status_code, error) = match got {
        Ok(code) if (200..300).contains(&code) => (Some(code), None),
        Ok(code) => (
            Some(code),
            Some(format!("the receiver answered HTTP {code}")),
        ),
        Err(e) => (
            None,
            Some(e.chars().take(MAX_ERROR_LEN).collect::<String>()),
        ),
    };
    let cfg = &inner.cfg;
    let (state, next_at_ms, outcome) = if error.is_none() {
        ("delivered", now_ms(), DeliveryOutcome::Delivered)
    } else if n >= cfg.max_attempts {
        ("failed", now_ms(), DeliveryOutcome::Failed)
    } else {
        let wait = backoff(cfg.retry_base, cfg.retry_max, n);
        let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        (
            "pending",
            now_ms().saturating_add(wait),
            DeliveryOutcome::Retrying,
        )
    };
    inner.metrics.webhook_delivery(outcome);
    let recorded = inner
        .db
        .run(move |c| {
            rows::record(
                c,
                &Attempted {
                    delivery_id: id,
                    attempt: n,
                    status_code,
                    error: error.as_deref(),
                    state,
                    next_at_ms,
                },
            )
        })
        .await;
    if let Err(e) = recorded {
        eprintln!("upcast: recording webhook delivery {id}: {e:?}");
    }
    lock_in_flight(&inner).remove(&id);
    inner.wake.notify_one();
}

/// One POST; the receiver's status, or why there was none. Redirects are not followed (a 3xx is a failed
/// attempt), and the answer's body is not read.
fn post(agent: &ureq::Agent, url: &str, sig: &str, body: &str) -> Result<u16, String> {
    match agent
        .post(url)
        .set("Content-Type", "application/json")
        .set(sign::HEADER, sig)
        .send_string(body)
    {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(code, _)) => Ok(code),
        Err(ureq::Error::Transport(t)) => Err(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap() {
        let (b, m) = (Duration::from_secs(5), Duration::from_secs(3600));
        assert_eq!(backoff(b, m, 1), Duration::from_secs(5));
        assert_eq!(backoff(b, m, 2), Duration::from_secs(10));
        assert_eq!(backoff(b, m, 4), Duration::from_secs(40));
        assert_eq!(backoff(b, m, 11), m);
        assert_eq!(backoff(b, m, 200), m);
    }
}
