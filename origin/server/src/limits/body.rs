//! Reading a request body under the idle timeout (per chunk) and the pace (per body, see [`super::pace`]).
use std::time::{Duration, Instant};

use actix_web::rt::time::timeout;
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;

use super::pace::Pace;
use crate::error::{ApiError, ApiResult};
use crate::Limits;

pub struct BodyReader {
    payload: web::Payload,
    idle: Duration,
    pace: Pace,
}

impl BodyReader {
    /// A reader for a body of at most `size_limit` bytes (its deadline is proportional to it).
    pub fn new(limits: &Limits, payload: web::Payload, size_limit: u64) -> BodyReader {
        BodyReader {
            payload,
            idle: limits.body_idle_timeout,
            pace: Pace::new(limits, size_limit, Instant::now()),
        }
    }

    /// The next chunk, `None` at the end of the body. A chunk that takes longer than the idle timeout, or a
    /// body that falls under the minimum rate or runs past its deadline, fails with `body-timeout`.
    pub async fn next(&mut self) -> ApiResult<Option<Bytes>> {
        let idle_at = Instant::now() + self.idle;
        loop {
            let now = Instant::now();
            let wake = self
                .pace
                .next_check(now)
                .map_or(idle_at, |c| c.min(idle_at));
            match timeout(wake.saturating_duration_since(now), self.payload.next()).await {
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(body_aborted(&e)),
                Ok(Some(Ok(c))) => {
                    let now = Instant::now();
                    self.pace.record(now, c.len() as u64);
                    self.pace.check(now)?;
                    return Ok(Some(c));
                }
                Err(_) => {
                    let now = Instant::now();
                    if now >= idle_at {
                        return Err(ApiError::BodyTimeout);
                    }
                    self.pace.check(now)?;
                }
            }
        }
    }
}

/// A transport error while reading a body, as a stable message: the payload error's own text can carry OS
/// error strings, which clients must not depend on (and need not see).
fn body_aborted(e: &actix_web::error::PayloadError) -> ApiError {
    use actix_web::error::PayloadError as P;
    let why = match e {
        P::Incomplete(_) => "the connection ended before the body was complete",
        P::Overflow => "the body is larger than it declared",
        P::UnknownLength => "the body's length is unknown",
        _ => "the body could not be read",
    };
    ApiError::BodyAborted(why.into())
}
