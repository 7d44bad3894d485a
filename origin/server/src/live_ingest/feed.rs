//! What every kind of publisher (an RTMP connection, an HTTP publish ticket) does with the stream's
//! session: add tracks, push whole parts (continuing where a previous publisher's media stopped), stop
//! when the registry says so, and leave the stream `reconnecting` for the grace period when it goes.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use actix_web::web;
use upcast_core::live::{Part, TrackInfo};

use super::session::{spawn_state, Session};
use super::sink::{lock, Sessions};
use super::IngestOptions;
use crate::streams::status::State;
use crate::streams::{Publisher, KEY_REVOKED, STREAM_DELETED};
use crate::AppState;

/// Why a publisher's media was refused: a kebab-case code and a message (both also in the status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedError {
    pub code: String,
    pub msg: String,
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.msg)
    }
}

/// One publisher's hold on a stream's session.
pub struct Feed {
    pub(super) state: web::Data<AppState>,
    opts: IngestOptions,
    pub(super) session: Arc<Mutex<Session>>,
    sessions: Sessions,
    /// Holds the stream's publishing right until the publisher goes.
    publisher: Option<Publisher>,
    generation: u64,
    pub(super) stream_id: String,
    /// Ticks added to each track's parts so that it continues where the previous publisher's stopped.
    shifts: HashMap<String, i64>,
    /// The first error that stopped the publish: the stream fails with it if the publisher does not return.
    error: Option<(String, String)>,
}

impl Feed {
    pub(super) fn new(
        state: web::Data<AppState>,
        opts: IngestOptions,
        session: Arc<Mutex<Session>>,
        publisher: Publisher,
        sessions: Sessions,
    ) -> Feed {
        let generation = lock(&session).generation;
        Feed {
            stream_id: publisher.stream.id.clone(),
            state,
            opts,
            session,
            sessions,
            publisher: Some(publisher),
            generation,
            shifts: HashMap::new(),
            error: None,
        }
    }

    /// Where the previous publishers' media ended (µs), if any did.
    pub fn end_us(&self) -> Option<i64> {
        lock(&self.session).end_us
    }

    /// Remember why the publish stops, and say so in the status.
    pub fn fail(&mut self, code: &str, msg: impl ToString) -> FeedError {
        let msg = msg.to_string();
        self.state.streams.set_error(&self.stream_id, code, &msg);
        self.error.get_or_insert((code.to_string(), msg.clone()));
        FeedError {
            code: code.to_string(),
            msg,
        }
    }

    /// Refuse the media when the registry stopped this publisher (key revoked or rotated, stream deleted).
    pub fn still_allowed(&mut self) -> Result<(), FeedError> {
        match self.publisher.as_ref().and_then(Publisher::stopped) {
            None if self.publisher.is_some() => Ok(()),
            None => Err(self.fail("publisher-gone", "this publisher has stopped")),
            Some(why) => Err(self.fail(why, "the registry stopped this publisher")),
        }
    }

    /// A track (re)configured by the publisher.
    pub fn track(
        &mut self,
        s: &mut Session,
        name: &str,
        info: &TrackInfo,
    ) -> Result<(), FeedError> {
        s.add_track(name, info)
            .map_err(|e| self.fail("live-window", e))
    }

    /// One whole part of track `name`, first sample at wall clock `pdt`, into the window and the
    /// recording. A refused part leaves the window as it was.
    pub fn part(
        &mut self,
        s: &mut Session,
        name: &str,
        mut part: Part,
        pdt: SystemTime,
    ) -> Result<(), FeedError> {
        let end = super::timing::end_us(&part);
        // A rendition paused when the last publisher went continues where its GAP segments reached.
        let paused_end = s.live.paused_end(name);
        let shift = *self.shifts.entry(name.to_string()).or_insert_with(|| {
            paused_end
                .or(s.track_ends.get(name).copied())
                .map_or(0, |prev| {
                    i64::try_from(i128::from(prev) - i128::from(part.start)).unwrap_or(0)
                })
        });
        if shift != 0 {
            if let Err(e) = upcast_core::cmaf::retime::shift_tfdt(&mut part.bytes, shift) {
                return Err(self.fail(e.code(), e));
            }
            part.start = part.start.saturating_add_signed(shift);
        }
        let closed = match s.live.push(name, part.clone(), pdt) {
            Ok(c) => c,
            Err(e) => return Err(self.fail(e.code(), e)),
        };
        s.track_ends
            .insert(name.to_string(), part.start.saturating_add(part.duration));
        s.on_part(name, &part, closed);
        s.end_us = Some(s.end_us.map_or(end, |e| e.max(end)));
        Ok(())
    }

    /// The publisher paused track `name` (see [`Session::pause_track`]).
    pub fn pause(&mut self, s: &mut Session, name: &str) -> Result<(), FeedError> {
        s.pause_track(name).map_err(|e| self.fail("live-window", e))
    }

    /// The publisher went away (`reason`, unless an error stopped it): the stream is `reconnecting`, and
    /// ends (or fails) when the grace period passes with no publisher back. Idempotent.
    pub fn close(&mut self, reason: &str) {
        if self.publisher.is_none() {
            return;
        }
        lock(&self.session).pause();
        // The stream is free for the publisher to come back.
        self.publisher = None;
        let why = match &self.error {
            Some((code, _)) => code.clone(),
            None => reason.to_string(),
        };
        let why = why.split(':').next().unwrap_or("disconnected").to_string();
        spawn_state(
            &self.state,
            &self.stream_id,
            State::Reconnecting,
            Some(&why),
        );
        // A publisher the registry stopped did not fail: the stream ends (with the reason) if none returns.
        let failed = self
            .error
            .as_ref()
            .is_some_and(|(code, _)| !matches!(code.as_str(), KEY_REVOKED | STREAM_DELETED));
        let (sessions, id, generation) = (
            self.sessions.clone(),
            self.stream_id.clone(),
            self.generation,
        );
        let (state, grace) = (self.state.clone(), self.opts.grace);
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(grace).await;
            super::end::end_if_idle(&state, &sessions, &id, generation, &why, failed).await;
        });
    }

    /// End the stream now (the publisher said it is done): no grace period.
    pub fn end_now(&mut self) {
        if self.publisher.is_none() {
            return;
        }
        lock(&self.session).pause();
        self.publisher = None;
        let (state, sessions, id, generation) = (
            self.state.clone(),
            self.sessions.clone(),
            self.stream_id.clone(),
            self.generation,
        );
        actix_web::rt::spawn(async move {
            super::end::end_if_idle(&state, &sessions, &id, generation, "publisher-ended", false)
                .await;
        });
    }
}
