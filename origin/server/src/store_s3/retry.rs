//! Bounded retries with exponential backoff and full jitter, for the answers an S3 server gives when it is
//! busy or briefly gone (503 SlowDown, 500, 502, 504, 429, timeouts, refused connections). Every other
//! answer is final at once: retrying a 403 or a 400 only delays the error.
use std::io;
use std::time::Duration;

/// How many times and how long to wait.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt is drawn from `0..=base`, doubling per attempt…
    pub base: Duration,
    /// … up to this.
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 6,
            base: Duration::from_millis(100),
            max: Duration::from_secs(5),
        }
    }
}

/// One attempt's failure: worth another attempt, or not.
#[derive(Debug)]
pub enum Failure {
    Transient(io::Error),
    Final(io::Error),
}

/// The error of an operation whose attempts were all spent on transient failures: the store is down or
/// overloaded, which the API answers with 503 `store-unavailable` (a client may try again).
#[derive(Debug)]
pub struct GaveUp(pub String);

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GaveUp {}

/// `e` is a [`GaveUp`].
pub fn gave_up(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<GaveUp>())
}

/// Whether an HTTP status from the bucket is worth another attempt.
pub fn transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl Retry {
    /// Runs `f` until it succeeds, fails for good, or the attempts are spent; `what` names the operation
    /// in the error.
    pub fn run<T>(&self, what: &str, mut f: impl FnMut() -> Result<T, Failure>) -> io::Result<T> {
        let attempts = self.attempts.max(1);
        let mut n = 0;
        loop {
            n += 1;
            match f() {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Transient(e)) if n >= attempts => {
                    return Err(io::Error::new(
                        e.kind(),
                        GaveUp(format!("{what}: gave up after {n} attempts: {e}")),
                    ))
                }
                Err(Failure::Transient(e)) => {
                    let wait = self.wait(n);
                    log::warn!("{what}: attempt {n} failed ({e}); again in {wait:?}");
                    std::thread::sleep(wait);
                }
            }
        }
    }

    /// Full jitter: uniform in `0..=min(max, base·2^(n-1))`, so clients that failed together do not come
    /// back together.
    fn wait(&self, n: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX))
            .min(self.max);
        let ceiling_us = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
        let mut b = [0u8; 8];
        // No randomness at hand (never expected): wait the whole ceiling rather than none.
        if getrandom::fill(&mut b).is_err() {
            return ceiling;
        }
        Duration::from_micros(u64::from_le_bytes(b) % ceiling_us.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(attempts: u32) -> Retry {
        Retry {
            attempts,
            base: Duration::from_millis(1),
            max: Duration::from_millis(4),
        }
    }

    #[test]
    fn transient_failures_are_retried_until_success() {
        let mut calls = 0;
        let got = quick(5).run("put", || {
            calls += 1;
            if calls < 3 {
                Err(Failure::Transient(io::Error::other("503 SlowDown")))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn attempts_are_bounded_and_the_error_says_so() {
        let mut calls = 0;
        let e = quick(4)
            .run("get objects/v/x", || -> Result<(), _> {
                calls += 1;
                Err(Failure::Transient(io::Error::from(io::ErrorKind::TimedOut)))
            })
            .unwrap_err();
        assert_eq!(calls, 4);
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("gave up after 4 attempts"), "{e}");
        assert!(gave_up(&e));
    }

    #[test]
    fn final_failures_are_not_retried() {
        let mut calls = 0;
        let e = quick(5)
            .run("put", || -> Result<(), _> {
                calls += 1;
                Err(Failure::Final(io::Error::other("403 AccessDenied")))
            })
            .unwrap_err();
        assert_eq!(calls, 1);
        assert!(e.to_string().contains("403"));
    }

    #[test]
    fn waits_are_jittered_and_capped() {
        let r = Retry {
            attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_millis(300),
        };
        let waits: Vec<Duration> = (0..64).map(|_| r.wait(8)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(300)));
        // 64 draws from 0..=300 ms all equal would mean no jitter.
        assert!(waits.iter().any(|w| *w != waits[0]));
        for s in [429, 500, 502, 503, 504] {
            assert!(transient_status(s));
        }
        for s in [400, 403, 404, 409] {
            assert!(!transient_status(s));
        }
    }
}
