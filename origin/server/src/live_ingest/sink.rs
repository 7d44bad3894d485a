//! The sink of one RTMP publish: tags in, through the core's live muxer, parts out into the stream's
//! session. Runs on the RTMP connection's task; nothing here blocks (the recording has its own thread).
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::web;
use bytes::Bytes;
use upcast_core::demux::TrackKind;
use upcast_core::live::{LiveEvent, LiveMuxer, LiveOptions, TrackInfo};

use super::session::{spawn_state, Session};
use super::timing::{self, Clock};
use super::IngestOptions;
use crate::rtmp::{CloseReason, Metadata, Sink, SinkError};
use crate::streams::status::{IngestStats, Rendition, State};
use crate::streams::{Publisher, KEY_REVOKED, STREAM_DELETED};
use crate::AppState;

pub(super) type Sessions = Arc<Mutex<HashMap<String, Arc<Mutex<Session>>>>>;

/// Status and metrics are refreshed this often while media flows.
const STATS_EVERY: Duration = Duration::from_secs(1);

pub struct IngestSink {
    state: web::Data<AppState>,
    opts: IngestOptions,
    session: Arc<Mutex<Session>>,
    sessions: Sessions,
    /// Holds the stream's publishing right until the publisher goes.
    publisher: Option<Publisher>,
    generation: u64,
    stream_id: String,
    muxer: LiveMuxer,
    clock: Clock,
    /// Rendition name of each muxer track.
    names: Vec<String>,
    kinds: Vec<TrackKind>,
    last_stats: Option<Instant>,
    /// Ticks added to each track's parts so that it continues where the previous publisher's stopped.
    shifts: HashMap<String, i64>,
    /// The first error that stopped the publish: the stream fails with it if the publisher does not return.
    error: Option<(String, String)>,
}

impl IngestSink {
    pub fn new(
        state: web::Data<AppState>,
        opts: IngestOptions,
        session: Arc<Mutex<Session>>,
        publisher: Publisher,
        sessions: Sessions,
    ) -> IngestSink {
        let (generation, end_us) = {
            let g = lock(&session);
            (g.generation, g.end_us)
        };
        let muxer = LiveMuxer::new(LiveOptions {
            part_target_us: micros(opts.part_target),
            min_segment_us: micros(opts.min_segment),
            ..LiveOptions::default()
        });
        IngestSink {
            stream_id: publisher.stream.id.clone(),
            state,
            opts,
            session,
            sessions,
            publisher: Some(publisher),
            generation,
            muxer,
            clock: Clock::new(end_us),
            names: Vec::new(),
            kinds: Vec::new(),
            last_stats: None,
            shifts: HashMap::new(),
            error: None,
        }
    }

    /// Handle what the muxer made of a tag.
    fn take(&mut self, events: Vec<LiveEvent>) -> Result<(), SinkError> {
        let session = self.session.clone();
        let mut s = lock(&session);
        for ev in events {
            match ev {
                LiveEvent::Track { track, info } => {
                    let name = self.name_for(track, &info);
                    s.add_track(&name, &info)
                        .map_err(|e| self.fail("live-window", e))?;
                }
                LiveEvent::Part { track, mut part } => {
                    let Some(name) = self.names.get(track).cloned() else {
                        continue;
                    };
                    let pdt = self.clock.pdt(&part);
                    let end = timing::end_us(&part);
                    let shift = *self.shifts.entry(name.clone()).or_insert_with(|| {
                        s.track_ends.get(&name).map_or(0, |&prev| {
                            i64::try_from(i128::from(prev) - i128::from(part.start)).unwrap_or(0)
                        })
                    });
                    if shift != 0 {
                        upcast_core::cmaf::retime::shift_tfdt(&mut part.bytes, shift)
                            .map_err(|e| self.core_error(e))?;
                        part.start = part.start.saturating_add_signed(shift);
                    }
                    s.track_ends
                        .insert(name.clone(), part.start.saturating_add(part.duration));
                    let closed = s
                        .live
                        .push(&name, part.clone(), pdt)
                        .map_err(|e| self.fail(e.code(), e.to_string()))?;
                    s.on_part(&name, &part, closed);
                    s.end_us = Some(s.end_us.map_or(end, |e| e.max(end)));
                }
            }
        }
        Ok(())
    }

    /// The rendition name of muxer track `track`: `video`, `video_2`, … and `audio`, `audio_2`, … in the
    /// order the publisher configures them (the recording's package uses the same names).
    fn name_for(&mut self, track: usize, info: &TrackInfo) -> String {
        if let Some(n) = self.names.get(track) {
            return n.clone();
        }
        let same = self.kinds.iter().filter(|k| **k == info.kind).count();
        let base = if info.kind == TrackKind::Audio {
            "audio"
        } else {
            "video"
        };
        let name = if same == 0 {
            base.to_string()
        } else {
            format!("{base}_{}", same + 1)
        };
        // Tracks arrive in index order (a track's Track event comes before its parts).
        self.names.push(name.clone());
        self.kinds.push(info.kind);
        name
    }

    /// Remember why the publish stops, and say so in the status.
    fn fail(&mut self, code: &str, msg: impl ToString) -> SinkError {
        let msg = msg.to_string();
        self.state.streams.set_error(&self.stream_id, code, &msg);
        self.error.get_or_insert((code.to_string(), msg.clone()));
        SinkError(format!("{code}: {msg}"))
    }

    fn core_error(&mut self, e: upcast_core::Error) -> SinkError {
        let code = e.code();
        let msg = e.to_string();
        self.state.streams.set_error(&self.stream_id, code, &msg);
        self.error.get_or_insert((code.to_string(), msg.clone()));
        SinkError(format!("{code}: {msg}"))
    }

    /// Refresh the stream's measured figures (status, metrics) at most every [`STATS_EVERY`].
    fn stats(&mut self) {
        if self.last_stats.is_some_and(|t| t.elapsed() < STATS_EVERY) {
            return;
        }
        self.last_stats = Some(Instant::now());
        let mut st = IngestStats::default();
        let mut bits = 0f64;
        for (i, info) in self.muxer.tracks() {
            let Some(m) = self.muxer.stats(i) else {
                continue;
            };
            bits += m.bitrate.unwrap_or(0.0);
            st.codecs.push(info.codec.clone());
            let video = info.kind == TrackKind::Video;
            if video && st.width.is_none() {
                st.width = (info.width > 0).then_some(info.width);
                st.height = (info.height > 0).then_some(info.height);
                st.frame_rate = m.frame_rate;
                st.keyframe_interval_ms = m
                    .key_interval_us
                    .and_then(|us| u64::try_from(us / 1000).ok());
            }
            st.b_frames |= m.b_frames;
            st.renditions.push(Rendition {
                track: u32::try_from(i).unwrap_or(u32::MAX),
                codec: info.codec.clone(),
                width: (video && info.width > 0).then_some(info.width),
                height: (video && info.height > 0).then_some(info.height),
                bitrate_bps: upcast_core::num::f64_to_u64(m.bitrate.unwrap_or(0.0)),
                frame_rate: if video { m.frame_rate } else { None },
            });
        }
        st.bitrate_bps = upcast_core::num::f64_to_u64(bits);
        let viewers = lock(&self.session).live.viewers() as u64;
        let id = &self.stream_id;
        self.state.metrics.ingest_bitrate(id, st.bitrate_bps);
        self.state.metrics.viewers(id, viewers);
        self.state.streams.ingest_stats(id, st);
        self.state.streams.set_viewers(id, viewers);
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

pub(super) fn lock(s: &Arc<Mutex<Session>>) -> MutexGuard<'_, Session> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl IngestSink {
    /// Refuse the message when the registry stopped this publisher (key revoked or rotated, stream
    /// deleted).
    fn still_allowed(&mut self) -> Result<(), SinkError> {
        match self.publisher.as_ref().and_then(Publisher::stopped) {
            None => Ok(()),
            Some(why) => Err(self.fail(why, "the registry stopped this publisher")),
        }
    }
}

impl Sink for IngestSink {
    fn video(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError> {
        self.still_allowed()?;
        let t = self.clock.map(ts_ms);
        let events = self
            .muxer
            .push_video(t, &body)
            .map_err(|e| self.core_error(e))?;
        self.take(events)?;
        self.stats();
        Ok(())
    }

    fn audio(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError> {
        self.still_allowed()?;
        let t = self.clock.map(ts_ms);
        let events = self
            .muxer
            .push_audio(t, &body)
            .map_err(|e| self.core_error(e))?;
        self.take(events)
    }

    fn metadata(&mut self, _meta: Metadata) -> Result<(), SinkError> {
        // The muxer reads sizes and codecs from the decoder configurations themselves; onMetaData is
        // what the encoder claims, not what it sends.
        Ok(())
    }

    fn closed(&mut self, reason: CloseReason) {
        // What the muxer still holds is complete media: into the window with it.
        match self.muxer.finish() {
            Ok(events) => {
                let _ = self.take(events);
            }
            Err(e) => {
                let _ = self.core_error(e);
            }
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
}
