//! One live stream's session: it outlives a publisher's connection by the grace period, so a publisher
//! that comes back continues it. It holds the stream's live window, its recording, and what each track's
//! open segment is made of (for the recording's playlists).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::web;
use serde_json::json;
use upcast_core::live::{Part, TrackInfo};

use super::record::start_recording;
use super::sink::Sessions;
use crate::api_types::Visibility;
use crate::live::{ClosedSegment, LiveStream};
use crate::recording::writer::RecordingWriter;
use crate::recording::KeyFrame;
use crate::streams::rows::StreamRow;
use crate::streams::status::State;
use crate::webhooks::EventKind;
use crate::AppState;

/// The segment a track is writing, as the recording's playlists need it.
struct OpenSegment {
    /// The publisher (session generation) whose parts it holds.
    generation: u64,
    start: u64,
    duration: u64,
    len: u64,
    key_frames: Vec<KeyFrame>,
}

struct Track {
    info: TrackInfo,
    open: Option<OpenSegment>,
    /// Paused once by its publisher: left out of the recording (see [`Session::pause_track`]).
    unrecorded: bool,
}

pub struct Session {
    pub row: StreamRow,
    pub live: Arc<LiveStream>,
    /// Bumped by every publisher that takes the session: a grace timer ends it only if unchanged.
    pub generation: u64,
    /// Where the media clock stands (µs): a returning publisher's timestamps continue from here.
    pub end_us: Option<i64>,
    /// Where each track's media ends (its timescale's ticks): a returning publisher's parts are moved to
    /// start exactly there.
    pub track_ends: HashMap<String, u64>,
    recording: Option<RecordingWriter>,
    /// The recording that a returning publisher's new track settings closed: it still takes the
    /// segments its publisher left open, then it is published.
    closing: Option<(RecordingWriter, u64)>,
    tracks: HashMap<String, Track>,
    pub(super) state: web::Data<AppState>,
}

/// Live window options for a stream row.
fn live_options(row: &StreamRow, opts: &super::IngestOptions) -> crate::live::LiveOptions {
    crate::live::LiveOptions {
        public: row.visibility == Visibility::Public,
        dvr_window: std::time::Duration::from_secs(u64::from(row.dvr_window_secs)),
        part_target: opts.part_target,
    }
}

/// The session a new publisher of `row` takes: the one waiting in its grace period, or a new one.
pub(super) fn begin(
    state: &web::Data<AppState>,
    sessions: &Sessions,
    ingest: &super::IngestOptions,
    row: StreamRow,
) -> Result<Arc<Mutex<Session>>, String> {
    let mut all = sessions.lock().unwrap_or_else(|e| e.into_inner());
    let opts = live_options(&row, ingest);
    let live = state
        .live
        .open(&row.id, opts)
        .map_err(|e| format!("{}: {e}", e.code()))?;
    let id = row.id.clone();
    if let Some(s) = all.get(&id) {
        let mut g = s.lock().unwrap_or_else(|e| e.into_inner());
        g.generation += 1;
        g.row = row;
        g.live = live;
        drop(g);
        spawn_state(state, &id, State::Live, Some("publisher-reconnected"));
        return Ok(s.clone());
    }
    let recording = if row.record {
        start_recording(state, &row)
    } else {
        None
    };
    let s = Arc::new(Mutex::new(Session {
        row,
        live,
        generation: 1,
        end_us: None,
        track_ends: HashMap::new(),
        recording,
        closing: None,
        tracks: HashMap::new(),
        state: state.clone(),
    }));
    all.insert(id.clone(), s.clone());
    drop(all);
    state.metrics.stream_live(&id);
    // The event carries the status it announces: `stream.live` goes out after the state is set.
    let (st, sid) = (state.clone(), id);
    actix_web::rt::spawn(async move {
        if let Err(e) = st.streams.set_state(&sid, State::Live, None).await {
            eprintln!("upcast: live {sid}: status live: {e}");
        }
        let data = event_data(&st, &sid);
        st.webhooks.emit_logged(EventKind::StreamLive, data).await;
    });
    Ok(s)
}

/// The stream's status for a webhook event: its id, title and status.
pub(super) fn event_data(state: &AppState, id: &str) -> serde_json::Value {
    json!({ "stream_id": id, "status": state.streams.status(id) })
}

/// Move the stream's status, on the runtime (the registry writes ends and goes-live to SQLite).
pub(super) fn spawn_state(state: &web::Data<AppState>, id: &str, to: State, reason: Option<&str>) {
    let (st, id, reason) = (state.clone(), id.to_string(), reason.map(str::to_string));
    actix_web::rt::spawn(async move {
        if let Err(e) = st.streams.set_state(&id, to, reason.as_deref()).await {
            eprintln!("upcast: live {id}: status {}: {e}", to.as_str());
        }
    });
}

impl Session {
    /// A track (re)configured by the publisher. A returning publisher whose track settings changed
    /// starts a new recording: a recording keeps one init segment per rendition.
    pub fn add_track(&mut self, name: &str, info: &TrackInfo) -> Result<(), String> {
        self.live
            .add_track(name, info.clone())
            .map_err(|e| format!("{}: {e}", e.code()))?;
        let changed = self
            .tracks
            .get(name)
            .is_some_and(|t| t.info.init != info.init);
        match self.tracks.get_mut(name) {
            Some(t) => t.info = info.clone(),
            None => {
                let t = Track {
                    info: info.clone(),
                    open: None,
                    unrecorded: false,
                };
                self.tracks.insert(name.to_string(), t);
            }
        }
        if changed {
            // The new recording takes every track with the settings it has now (this one's new ones).
            self.restart_recording();
            return Ok(());
        }
        if let Some(r) = &mut self.recording {
            if r.track(name, info).is_err() {
                self.recording_stopped();
            }
        }
        Ok(())
    }

    fn restart_recording(&mut self) {
        let Some(old) = self.recording.take() else {
            return;
        };
        if let Some((older, _)) = self.closing.take() {
            older.finish();
        }
        self.closing = Some((old, self.generation));
        self.recording = start_recording(&self.state, &self.row);
        let Some(r) = &mut self.recording else { return };
        let ok = self
            .tracks
            .iter()
            .all(|(name, t)| r.track(name, &t.info).is_ok());
        if !ok {
            self.recording_stopped();
        }
    }

    fn recording_stopped(&mut self) {
        self.recording = None;
        let id = self.row.id.clone();
        eprintln!("upcast: live {id}: the recording fell behind the disk and was dropped");
        self.state.streams.set_error(
            &id,
            "recording-behind",
            "the disk could not keep up; the recording was dropped",
        );
    }

    /// The publisher paused track `name`: the window turns its open segment GAP and writes GAP segments
    /// in its place until it comes back. The recording leaves the track out from now on, and what it
    /// recorded of it: a recorded package's renditions must cover the same time with segments at the same
    /// instants (HLS Authoring Spec 8.7, 8.22), which a rung with a hole in it would not.
    pub fn pause_track(&mut self, name: &str) -> Result<(), String> {
        self.live
            .pause_track(name)
            .map_err(|e| format!("{}: {e}", e.code()))?;
        let Some(t) = self.tracks.get_mut(name) else {
            return Ok(());
        };
        t.open = None;
        if std::mem::replace(&mut t.unrecorded, true) {
            return Ok(());
        }
        let mut stopped = false;
        if let Some(r) = &mut self.recording {
            stopped = r.forget(name).is_err();
        }
        if let Some((w, _)) = &mut self.closing {
            if w.forget(name).is_err() {
                self.closing = None;
            }
        }
        if stopped {
            self.recording_stopped();
        }
        Ok(())
    }

    /// A part was pushed into the window, closing `closed` if it started a segment.
    pub fn on_part(&mut self, name: &str, part: &Part, closed: Option<ClosedSegment>) {
        let generation = self.generation;
        let Some(t) = self.tracks.get_mut(name) else {
            return;
        };
        let mut finished = None;
        if part.starts_segment || t.open.is_none() {
            finished = t.open.take().zip(closed);
            t.open = Some(OpenSegment {
                generation,
                start: part.start,
                duration: 0,
                len: 0,
                key_frames: Vec::new(),
            });
        }
        if let Some(seg) = t.open.as_mut() {
            if let Some((offset, len)) = part.key_chunk {
                seg.key_frames.push(KeyFrame {
                    offset: seg.len + offset,
                    len,
                    time: part.start,
                });
            }
            seg.len += part.bytes.len() as u64;
            seg.duration = (part.start + part.duration).saturating_sub(seg.start);
        }
        if let Some((seg, c)) = finished {
            self.record(name, seg, c);
        }
    }

    /// Hand a closed segment to the recording its publisher was writing.
    fn record(&mut self, name: &str, seg: OpenSegment, c: ClosedSegment) {
        if self.tracks.get(name).is_some_and(|t| t.unrecorded) {
            return;
        }
        if c.bytes.len() as u64 != seg.len {
            eprintln!(
                "upcast: live {}: {name} segment {} is {} bytes, its parts {}; not recorded",
                self.row.id,
                c.msn,
                c.bytes.len(),
                seg.len
            );
            return;
        }
        let closing_from = self.closing.as_ref().map(|(_, g)| *g);
        let to_closing = closing_from.is_some_and(|g| seg.generation < g);
        let writer = if to_closing {
            self.closing.as_mut().map(|(w, _)| w)
        } else {
            self.recording.as_mut()
        };
        let Some(w) = writer else { return };
        if w.segment(name, c.bytes, seg.start, seg.duration, seg.key_frames)
            .is_err()
        {
            if to_closing {
                self.closing = None;
            } else {
                self.recording_stopped();
            }
        }
        // The closing recording is complete once no track holds a segment of its publishers.
        if let Some(g) = closing_from {
            let left = self
                .tracks
                .values()
                .any(|t| t.open.as_ref().is_some_and(|s| s.generation < g));
            if !left {
                if let Some((w, _)) = self.closing.take() {
                    w.finish();
                }
            }
        }
    }

    /// The publisher went away: its open segments are closed (whole, for viewers and the recording);
    /// the stream goes on if a publisher comes back.
    pub fn pause(&mut self) {
        let closed = self.live.pause();
        self.record_closed(closed);
    }

    fn record_closed(&mut self, closed: Vec<ClosedSegment>) {
        for c in closed {
            let seg = self.tracks.get_mut(&c.track).and_then(|t| t.open.take());
            if let Some(seg) = seg {
                let name = c.track.clone();
                self.record(&name, seg, c);
            }
        }
    }

    /// The stream is over: close the window (ENDLIST) and record its last segments. The recordings
    /// returned are complete: the caller publishes them ([`RecordingWriter::finish`]) once `stream.ended`
    /// is queued, so that a receiver gets `stream.ended` before the recording's `video.ready`.
    pub fn end(&mut self) -> Vec<RecordingWriter> {
        let closed = self.live.end();
        self.record_closed(closed);
        let closing = self.closing.take().map(|(w, _)| w);
        closing.into_iter().chain(self.recording.take()).collect()
    }
}
