//! The sink of one RTMP publish: tags in, through the core's live muxer, parts out into the stream's
//! session. Runs on the RTMP connection's task; nothing here blocks (the recording has its own thread).
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use upcast_core::demux::TrackKind;
use upcast_core::live::{LiveEvent, LiveMuxer, LiveOptions, TrackInfo};

use super::feed::{Feed, FeedError};
use super::session::Session;
use super::timing::Clock;
use super::IngestOptions;
use crate::rtmp::{CloseReason, Metadata, Sink, SinkError};
use crate::streams::status::{IngestStats, Rendition};

pub type Sessions = Arc<Mutex<HashMap<String, Arc<Mutex<Session>>>>>;

/// Status and metrics are refreshed this often while media flows.
const STATS_EVERY: Duration = Duration::from_secs(1);

pub struct IngestSink {
    feed: Feed,
    muxer: LiveMuxer,
    clock: Clock,
    /// Rendition name of each muxer track.
    names: Vec<String>,
    kinds: Vec<TrackKind>,
    last_stats: Option<Instant>,
}

impl IngestSink {
    pub fn new(feed: Feed, opts: &IngestOptions) -> IngestSink {
        let end_us = feed.end_us();
        let muxer = LiveMuxer::new(LiveOptions {
            part_target_us: micros(opts.part_target),
            min_segment_us: micros(opts.min_segment),
            ..LiveOptions::default()
        });
        IngestSink {
            feed,
            muxer,
            clock: Clock::new(end_us),
            names: Vec::new(),
            kinds: Vec::new(),
            last_stats: None,
        }
    }

    /// Handle what the muxer made of a tag.
    fn take(&mut self, events: Vec<LiveEvent>) -> Result<(), SinkError> {
        let session = self.feed.session.clone();
        let mut s = lock(&session);
        for ev in events {
            match ev {
                LiveEvent::Track { track, info } => {
                    let name = self.name_for(track, &info);
                    self.feed.track(&mut s, &name, &info).map_err(sink_error)?;
                }
                LiveEvent::Part { track, part } => {
                    let Some(name) = self.names.get(track).cloned() else {
                        continue;
                    };
                    let pdt = self.clock.pdt(&part);
                    self.feed
                        .part(&mut s, &name, part, pdt)
                        .map_err(sink_error)?;
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

    fn core_error(&mut self, e: upcast_core::Error) -> SinkError {
        sink_error(self.feed.fail(e.code(), e))
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
        let viewers = lock(&self.feed.session).live.viewers() as u64;
        let id = &self.feed.stream_id;
        let state = &self.feed.state;
        state.metrics.ingest_bitrate(id, st.bitrate_bps);
        state.metrics.viewers(id, viewers);
        state.streams.ingest_stats(id, st);
        state.streams.set_viewers(id, viewers);
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

pub(super) fn lock(s: &Arc<Mutex<Session>>) -> MutexGuard<'_, Session> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn sink_error(e: FeedError) -> SinkError {
    SinkError(e.to_string())
}

impl Sink for IngestSink {
    fn video(&mut self, ts_ms: u32, body: Bytes) -> Result<(), SinkError> {
        self.feed.still_allowed().map_err(sink_error)?;
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
        self.feed.still_allowed().map_err(sink_error)?;
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
        self.feed.close(&reason.to_string());
    }
}
