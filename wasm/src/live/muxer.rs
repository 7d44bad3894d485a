//! A whole RTMP publish: video and audio tag bodies with their RTMP timestamps in, [`LiveEvent`]s out.
//!
//! Legacy tags are track 0 of their kind; an Enhanced RTMP multitrack stream gives one [`LiveTrack`] per
//! (kind, trackId), so OBS's multitrack video becomes an adaptive ladder. Segments are aligned across
//! tracks: the first video track leads (its key frames decide where segments start, at least
//! [`LiveOptions::min_segment_us`] apart); every other track follows, starting its segments at its first
//! suitable frame at or after each of the leader's cuts. A follower's frames wait (at most
//! [`LiveOptions::follower_wait_us`]) until the leader has reached their time, so the cut is known when
//! they are placed. The same media sequence number then means the same time in every rendition. RTMP
//! timestamps (u32 ms, wrapping at 2^32) are extended to i64 on one clock shared by all tracks.

use super::config::configure;
use super::flv::{self, Item};
use super::track::{LiveTrack, Role, Sample};
use super::{LiveOptions, Part, TrackInfo, TrackStats};
use crate::codec::CodecKind;
use crate::error::{Error, Result};
use std::collections::VecDeque;

/// Bytes a following track may queue while it waits for the leader, whatever its timestamps say.
const MAX_QUEUED_BYTES: usize = 64 << 20;

/// What the muxer hands out, in order. `track` indexes the tracks in the order they were configured
/// (0, 1, ...): a track's `Track` event comes before any of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A new track, configured: its init segment and what the playlists need.
    Track { track: usize, info: TrackInfo },
    /// A finished part of a track.
    Part { track: usize, part: Part },
}

struct Queued {
    dts_us: i64,
    cts_us: i64,
    key: bool,
    data: Vec<u8>,
}

struct Slot {
    video: bool,
    flv_track: u8,
    codec: CodecKind,
    raw_config: Option<Vec<u8>>,
    track: LiveTrack,
    queue: VecDeque<Queued>,
    /// Bytes in `queue`.
    queued: usize,
    ended: bool,
}

#[derive(Default)]
pub struct LiveMuxer {
    opts: LiveOptions,
    slots: Vec<Slot>,
    leader: Option<usize>,
    clock_ms: Option<i64>,
}

impl LiveMuxer {
    pub fn new(opts: LiveOptions) -> Self {
        LiveMuxer {
            opts,
            ..LiveMuxer::default()
        }
    }

    /// One RTMP video message (an FLV VIDEODATA body) at RTMP time `ts_ms`.
    pub fn push_video(&mut self, ts_ms: u32, body: &[u8]) -> Result<Vec<LiveEvent>> {
        let items = flv::parse_video(body)?;
        self.push_items(true, ts_ms, items)
    }

    /// One RTMP audio message (an FLV AUDIODATA body) at RTMP time `ts_ms`.
    pub fn push_audio(&mut self, ts_ms: u32, body: &[u8]) -> Result<Vec<LiveEvent>> {
        let items = flv::parse_audio(body)?;
        self.push_items(false, ts_ms, items)
    }

    /// The end of the publish: every queued frame, held frame and open part.
    pub fn finish(&mut self) -> Result<Vec<LiveEvent>> {
        let mut out = Vec::new();
        if let Some(l) = self.leader {
            self.end_track(l, &mut out)?;
        }
        for i in 0..self.slots.len() {
            self.end_track(i, &mut out)?;
        }
        Ok(out)
    }

    /// The configured tracks, by index.
    pub fn tracks(&self) -> impl Iterator<Item = (usize, &TrackInfo)> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.track.info()))
    }

    /// A track's figures for the status page.
    pub fn stats(&self, track: usize) -> Option<TrackStats> {
        self.slots.get(track).map(|s| s.track.stats())
    }

    /// The index of the track that decides segment boundaries (the first video track).
    pub fn leader(&self) -> Option<usize> {
        self.leader
    }

    /// Bytes held in queues, held frames and open parts (bounded by the options' limits).
    pub fn retained_bytes(&self) -> usize {
        self.slots
            .iter()
            .map(|s| s.track.retained_bytes() + s.queue.iter().map(|q| q.data.len()).sum::<usize>())
            .sum()
    }

    /// Extend a u32 RTMP timestamp to the nearest i64 value of the stream's clock (wrap-around included).
    fn extend(&mut self, ts_ms: u32) -> i64 {
        let t = match self.clock_ms {
            None => i64::from(ts_ms),
            Some(last) => {
                let low = u32::try_from(last.rem_euclid(1 << 32)).unwrap_or(0);
                let delta = i32::from_be_bytes(ts_ms.wrapping_sub(low).to_be_bytes());
                last + i64::from(delta)
            }
        };
        self.clock_ms = Some(t);
        t
    }

    fn push_items(
        &mut self,
        video: bool,
        ts_ms: u32,
        items: Vec<Item<'_>>,
    ) -> Result<Vec<LiveEvent>> {
        let ms = self.extend(ts_ms);
        let mut out = Vec::new();
        for item in items {
            match item {
                Item::Config { track, codec, data } => {
                    self.config(video, track, codec, Some(data), &mut out)?;
                }
                Item::Frame {
                    track,
                    codec,
                    key,
                    cts_ms,
                    data,
                } => {
                    let i = match self.find(video, track) {
                        Some(i) => i,
                        // Enhanced RTMP lets Opus go without a sequence start (a default OpusHead).
                        None if codec == CodecKind::Opus => {
                            self.config(video, track, codec, None, &mut out)?
                        }
                        None => {
                            return Err(Error::EncoderOutput(format!(
                            "{} track {track}: {codec:?} frames before the decoder configuration \
                                 (sequence start)",
                            kind(video)
                        )))
                        }
                    };
                    self.frame(
                        i,
                        codec,
                        ms * 1000,
                        i64::from(cts_ms) * 1000,
                        key,
                        data,
                        &mut out,
                    )?;
                }
                Item::End { track, .. } => {
                    if let Some(i) = self.find(video, track) {
                        self.end_track(i, &mut out)?;
                    }
                }
            }
        }
        Ok(out)
    }

    fn find(&self, video: bool, flv_track: u8) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.video == video && s.flv_track == flv_track)
    }

    fn config(
        &mut self,
        video: bool,
        flv_track: u8,
        codec: CodecKind,
        data: Option<&[u8]>,
        out: &mut Vec<LiveEvent>,
    ) -> Result<usize> {
        if let Some(i) = self.find(video, flv_track) {
            let s = &self.slots[i];
            if s.codec == codec && s.raw_config.as_deref() == data {
                return Ok(i);
            }
            return Err(Error::EncoderOutput(format!(
                "{} track {flv_track}: the decoder configuration changed mid-stream ({:?} to {codec:?}); \
                 a live track keeps one init segment (restart the stream to change it)",
                kind(video),
                s.codec
            )));
        }
        let conf = configure(codec, data)?;
        let i = self.slots.len();
        let role = if video && self.leader.is_none() {
            self.leader = Some(i);
            Role::Leader
        } else {
            Role::Follower
        };
        let name = format!("{} track {flv_track}", kind(video));
        out.push(LiveEvent::Track {
            track: i,
            info: conf.info.clone(),
        });
        self.slots.push(Slot {
            video,
            flv_track,
            codec,
            raw_config: data.map(<[u8]>::to_vec),
            track: LiveTrack::new(&name, conf, self.opts, role),
            queue: VecDeque::new(),
            queued: 0,
            ended: false,
        });
        Ok(i)
    }

    #[allow(clippy::too_many_arguments)] // one frame's fields, passed through from the tag body
    fn frame(
        &mut self,
        i: usize,
        codec: CodecKind,
        dts_us: i64,
        cts_us: i64,
        key: bool,
        data: &[u8],
        out: &mut Vec<LiveEvent>,
    ) -> Result<()> {
        let slot = &mut self.slots[i];
        if slot.codec != codec {
            return Err(Error::EncoderOutput(format!(
                "{} track {}: a {codec:?} frame in a {:?} track",
                kind(slot.video),
                slot.flv_track,
                slot.codec
            )));
        }
        if slot.ended {
            return Err(Error::CallOrder(format!(
                "{} track {}: a frame after the end of its sequence",
                kind(slot.video),
                slot.flv_track
            )));
        }
        if self.leader == Some(i) {
            let sample = Sample {
                dts_us,
                cts_us,
                key,
                data,
            };
            self.lead(i, sample, out)?;
            for f in 0..self.slots.len() {
                self.drain(f, false, out)?;
            }
            return Ok(());
        }
        if data.len() > self.opts.max_frame_bytes {
            // The track refuses it too; refusing here keeps it out of the queue.
            return slot
                .track
                .push(Sample {
                    dts_us,
                    cts_us,
                    key,
                    data,
                })
                .map(|_| ());
        }
        slot.queued += data.len();
        slot.queue.push_back(Queued {
            dts_us,
            cts_us,
            key,
            data: data.to_vec(),
        });
        self.drain(i, false, out)
    }

    /// A frame of the leading track; a cut is handed to every follower.
    fn lead(&mut self, i: usize, s: Sample<'_>, out: &mut Vec<LiveEvent>) -> Result<()> {
        let (parts, cut) = self.slots[i].track.push(s)?;
        out.extend(
            parts
                .into_iter()
                .map(|part| LiveEvent::Part { track: i, part }),
        );
        if cut {
            for (f, slot) in self.slots.iter_mut().enumerate() {
                if f != i {
                    slot.track.cut_at(s.dts_us);
                }
            }
        }
        Ok(())
    }

    /// Release a follower's queued frames the leader has reached (all of them when `all`), or that
    /// waited too long; with no leader, the first follower to wait too long leads.
    fn drain(&mut self, i: usize, all: bool, out: &mut Vec<LiveEvent>) -> Result<()> {
        if self.leader == Some(i) {
            return Ok(());
        }
        let horizon = match self.leader {
            Some(l) if !self.slots[l].ended => self.slots[l].track.last_dts_us(),
            _ => Some(i64::MAX),
        };
        loop {
            let slot = &self.slots[i];
            let (Some(front), Some(back)) = (slot.queue.front(), slot.queue.back()) else {
                return Ok(());
            };
            let waited = back.dts_us - front.dts_us > self.opts.follower_wait_us
                || slot.queued > MAX_QUEUED_BYTES;
            let reached = horizon.is_some_and(|h| front.dts_us <= h) && self.leader.is_some();
            if !(all || reached || waited) {
                return Ok(());
            }
            if self.leader.is_none() {
                self.leader = Some(i);
                self.slots[i].track.set_role(Role::Leader);
            }
            let slot = &mut self.slots[i];
            let Some(q) = slot.queue.pop_front() else {
                return Ok(());
            };
            slot.queued -= q.data.len();
            let s = Sample {
                dts_us: q.dts_us,
                cts_us: q.cts_us,
                key: q.key,
                data: &q.data,
            };
            if self.leader == Some(i) {
                self.lead(i, s, out)?;
            } else {
                let (parts, _) = slot.track.push(s)?;
                out.extend(
                    parts
                        .into_iter()
                        .map(|part| LiveEvent::Part { track: i, part }),
                );
            }
        }
    }

    /// The end of one track: its queue, held frame and open part. A leader's end releases the followers.
    fn end_track(&mut self, i: usize, out: &mut Vec<LiveEvent>) -> Result<()> {
        if self.slots[i].ended {
            return Ok(());
        }
        self.drain(i, true, out)?;
        let slot = &mut self.slots[i];
        slot.ended = true;
        let parts = slot.track.finish()?;
        out.extend(
            parts
                .into_iter()
                .map(|part| LiveEvent::Part { track: i, part }),
        );
        if self.leader == Some(i) {
            for f in 0..self.slots.len() {
                self.drain(f, true, out)?;
            }
        }
        Ok(())
    }
}

fn kind(video: bool) -> &'static str {
    if video {
        "video"
    } else {
        "audio"
    }
}
