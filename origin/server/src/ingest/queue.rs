//! Where ingest jobs wait and run: at most [`RUNNING`] at once, on their own threads (never on an async
//! worker), at most [`WAITING`] more in line. A worker thread is started when a job arrives and fewer than
//! [`RUNNING`] are busy; it takes jobs until the line is empty and then ends, so an idle origin holds no
//! ingest thread.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::job::{self, Ctx, Queued};
use crate::error::ApiError;

/// Jobs segmenting and writing at once. Each holds about two file descriptors (its source and the file it
/// writes) and one segment in memory (at most `max_segment_bytes`), whatever the length of the video.
pub const RUNNING: usize = 2;
/// Jobs accepted and waiting for a turn; each holds its spooled source open. Beyond this, `POST /api/ingest`
/// answers `429 rate-limited`.
pub const WAITING: usize = 8;

struct Line {
    waiting: VecDeque<Queued>,
    running: usize,
}

pub struct Jobs {
    ctx: Arc<Ctx>,
    line: Arc<Mutex<Line>>,
}

impl Jobs {
    pub fn new(ctx: Ctx) -> Self {
        Jobs {
            ctx: Arc::new(ctx),
            line: Arc::new(Mutex::new(Line {
                waiting: VecDeque::new(),
                running: 0,
            })),
        }
    }

    /// Is there room for one more job? Asked before its body is read (a hint; [`Jobs::submit`] decides).
    pub fn has_room(&self) -> bool {
        let line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        line.waiting.len() < WAITING
    }

    /// Queue a job whose row is already `queued`. Refused (the job and its spool dropped) when the line is
    /// full or no worker can be started.
    pub fn submit(&self, job: Queued) -> Result<(), ApiError> {
        let mut line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        if line.waiting.len() >= WAITING {
            return Err(full());
        }
        line.waiting.push_back(job);
        if line.running < RUNNING {
            line.running += 1;
            let (ctx, l) = (self.ctx.clone(), self.line.clone());
            let spawned = std::thread::Builder::new()
                .name("upcast-ingest".into())
                .spawn(move || work(&ctx, &l));
            if let Err(e) = spawned {
                // Logged, not sent: it is OS text. The job leaves the line with its spool.
                line.running -= 1;
                line.waiting.pop_back();
                eprintln!("upcast: ingest: could not start a worker thread: {e}");
                return Err(ApiError::Busy);
            }
        }
        Ok(())
    }
}

pub fn full() -> ApiError {
    ApiError::RateLimited {
        what: format!("{WAITING} ingest jobs are already waiting"),
        retry_after: 30,
        limit: None,
    }
}

fn work(ctx: &Ctx, line: &Mutex<Line>) {
    loop {
        let next = {
            let mut l = line.lock().unwrap_or_else(|p| p.into_inner());
            match l.waiting.pop_front() {
                Some(j) => j,
                None => {
                    l.running -= 1;
                    return;
                }
            }
        };
        job::run(ctx, next);
    }
}
