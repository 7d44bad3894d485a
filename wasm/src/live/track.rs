//! One live track: samples in (decode order, times in µs), parts out. One sample is held back until the
//! next one gives its duration. Segments cut at key frames: the leading track starts one at a key frame
//! once the open segment is at least the minimum long; a following track starts one at the cut times the
//! leader hands it (video at its key frame at or after the time, audio at its first frame at or after it).

use super::config::Configured;
use super::part::{OpenPart, Placed};
use super::stats::{Meter, TrackStats};
use super::{LiveOptions, Part, TrackInfo};
use crate::cmaf::fragment::OutSample;
use crate::error::{Error, Result};
use std::collections::VecDeque;

/// Cut times a follower keeps waiting for its next frame (a follower that stopped sending must not
/// collect them without bound).
const MAX_PENDING_CUTS: usize = 256;

/// Whether a track decides its own segment boundaries or follows another track's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
}

/// One encoded frame handed to a track.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Decode time, µs.
    pub dts_us: i64,
    /// Presentation minus decode time, µs.
    pub cts_us: i64,
    pub key: bool,
    pub data: &'a [u8],
}

struct Held {
    dts: u64,
    cts: i32,
    key: bool,
    cut: bool,
    data: Vec<u8>,
}

pub struct LiveTrack {
    name: String,
    conf: Configured,
    opts: LiveOptions,
    role: Role,
    video: bool,
    held: Option<Held>,
    part: OpenPart,
    seq: u32,
    last_dts_us: Option<i64>,
    first_seen_us: Option<i64>,
    seg_start_us: Option<i64>,
    cuts: VecDeque<i64>,
    last_duration: Option<u32>,
    meter: Meter,
    finished: bool,
}

impl LiveTrack {
    /// `name` names the track in errors ("video track 0").
    pub fn new(name: &str, conf: Configured, opts: LiveOptions, role: Role) -> Self {
        let video = conf.entry.codec.is_video();
        LiveTrack {
            name: name.to_string(),
            conf,
            opts,
            role,
            video,
            held: None,
            part: OpenPart::default(),
            seq: 0,
            last_dts_us: None,
            first_seen_us: None,
            seg_start_us: None,
            cuts: VecDeque::new(),
            last_duration: None,
            meter: Meter::default(),
            finished: false,
        }
    }

    pub fn info(&self) -> &TrackInfo {
        &self.conf.info
    }

    pub fn config(&self) -> Option<&[u8]> {
        self.conf.entry.config.as_deref()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn set_role(&mut self, role: Role) {
        self.role = role;
    }

    pub fn stats(&self) -> TrackStats {
        self.meter.stats()
    }

    /// Decode time of the last frame pushed, µs.
    pub fn last_dts_us(&self) -> Option<i64> {
        self.last_dts_us
    }

    /// Bytes held: the sample held back and the open part.
    pub fn retained_bytes(&self) -> usize {
        self.held.as_ref().map_or(0, |h| h.data.len()) + self.part.bytes()
    }

    /// A follower starts a segment at its first suitable frame at or after `t_us`.
    pub fn cut_at(&mut self, t_us: i64) {
        if self.cuts.len() == MAX_PENDING_CUTS {
            self.cuts.pop_front();
        }
        self.cuts.push_back(t_us);
    }

    /// One frame; the parts it completes. Returns too whether the frame starts a segment (a leader's cut
    /// the followers must follow).
    pub fn push(&mut self, s: Sample<'_>) -> Result<(Vec<Part>, bool)> {
        if self.finished {
            return Err(Error::CallOrder(format!(
                "{}: the track is finished",
                self.name
            )));
        }
        self.check_sample(&s)?;
        let key = s.key || !self.video;
        let cut = self.decide_cut(s.dts_us, key);
        let started = self.seg_start_us.is_some() || cut;
        if !started {
            self.meter.dropped();
            return self
                .check_key_interval(s.dts_us)
                .map(|()| (Vec::new(), false));
        }
        if cut {
            self.seg_start_us = Some(s.dts_us);
        }
        if !key {
            self.check_key_interval(s.dts_us)?;
        }
        let ts = i128::from(self.conf.timescale);
        let ticks = |us: i64| (i128::from(us) * ts + 500_000).div_euclid(1_000_000);
        let dts = ticks(s.dts_us);
        let cts = i32::try_from(ticks(s.dts_us.saturating_add(s.cts_us)) - dts).map_err(|_| {
            Error::Timestamps(format!(
                "{}: composition offset {} µs does not fit",
                self.name, s.cts_us
            ))
        })?;
        let dts = u64::try_from(dts).map_err(|_| Error::Internal("negative decode time".into()))?;
        self.meter.frame(s.dts_us, s.cts_us, key, s.data.len());
        let held = Held {
            dts,
            cts,
            key,
            cut,
            data: s.data.to_vec(),
        };
        let mut parts = Vec::new();
        if let Some(prev) = self.held.replace(held) {
            let d = u32::try_from(dts.saturating_sub(prev.dts)).map_err(|_| {
                Error::Timestamps(format!("{}: a frame lasts past 2^32 ticks", self.name))
            })?;
            self.last_duration = Some(d);
            parts.extend(self.place(prev, d)?);
        }
        Ok((parts, cut))
    }

    fn check_sample(&mut self, s: &Sample<'_>) -> Result<()> {
        if s.data.len() > self.opts.max_frame_bytes {
            return Err(Error::LiveLimit(format!(
                "{}: a frame of {} bytes at {} ms, over the limit of {} bytes",
                self.name,
                s.data.len(),
                s.dts_us / 1000,
                self.opts.max_frame_bytes
            )));
        }
        if s.dts_us < 0 {
            return Err(Error::Timestamps(format!(
                "{}: decode time {} µs is negative",
                self.name, s.dts_us
            )));
        }
        if let Some(last) = self.last_dts_us {
            let step = s.dts_us - last;
            if step <= 0 {
                return Err(Error::Timestamps(format!(
                    "{}: decode time {} ms goes back {} ms (the previous frame was at {} ms)",
                    self.name,
                    s.dts_us / 1000,
                    -step / 1000,
                    last / 1000
                )));
            }
            if step > self.opts.max_jump_us {
                return Err(Error::Timestamps(format!(
                    "{}: decode time jumps forward {} ms (from {} ms to {} ms; the limit is {} ms)",
                    self.name,
                    step / 1000,
                    last / 1000,
                    s.dts_us / 1000,
                    self.opts.max_jump_us / 1000
                )));
            }
        }
        self.last_dts_us = Some(s.dts_us);
        self.first_seen_us.get_or_insert(s.dts_us);
        Ok(())
    }

    fn decide_cut(&mut self, dts_us: i64, key: bool) -> bool {
        match self.role {
            Role::Leader => {
                key && self
                    .seg_start_us
                    .is_none_or(|s| dts_us - s >= self.opts.min_segment_us)
            }
            Role::Follower => {
                if !key || self.cuts.front().is_none_or(|&t| t > dts_us) {
                    return false;
                }
                while self.cuts.front().is_some_and(|&t| t <= dts_us) {
                    self.cuts.pop_front();
                }
                true
            }
        }
    }

    /// A video track with no key frame for longer than the limit (since its last one, or since its
    /// first frame when none came yet) fails.
    fn check_key_interval(&self, dts_us: i64) -> Result<()> {
        let since = self.meter.last_key_us().or(self.first_seen_us);
        match since {
            Some(k) if self.video && dts_us - k > self.opts.max_key_interval_us => {
                Err(Error::NoKeyFrame(format!(
                    "{}: no key frame for {} ms (the limit is {} ms)",
                    self.name,
                    (dts_us - k) / 1000,
                    self.opts.max_key_interval_us / 1000
                )))
            }
            _ => Ok(()),
        }
    }

    /// Put a frame of known duration into the open part; the parts that closes.
    fn place(&mut self, h: Held, duration: u32) -> Result<Vec<Part>> {
        // RTMP's millisecond timestamps make 15 frames at 30 fps 0.5 s + a millisecond or two: 2 % over
        // the target still counts as the target (the window raises PART-TARGET to the longest part), so
        // a 1 s segment is two parts of 0.5 s rather than 0.467 + 0.5 + 0.033.
        let target = self.target_ticks();
        let target = target + target / 50;
        let d = u64::from(duration);
        let mut out = Vec::new();
        if h.cut || (!self.part.is_empty() && self.part.ticks() + d > target) {
            out.extend(self.close_part()?);
        }
        self.part.push(
            Placed {
                dts: h.dts,
                out: OutSample {
                    size: u32::try_from(h.data.len())
                        .map_err(|_| Error::TooLarge("a frame over 4 GiB".into()))?,
                    duration,
                    cts_offset: h.cts,
                    sync: h.key,
                },
                data: h.data,
            },
            h.cut,
        );
        // Close as soon as a next frame as long as this one would not fit: the part goes out one frame
        // earlier than waiting for that frame.
        if self.part.ticks() + d > target {
            out.extend(self.close_part()?);
        }
        Ok(out)
    }

    fn target_ticks(&self) -> u64 {
        let t = i128::from(self.opts.part_target_us) * i128::from(self.conf.timescale) / 1_000_000;
        u64::try_from(t).unwrap_or(1).max(1)
    }

    fn close_part(&mut self) -> Result<Option<Part>> {
        self.part
            .close(&mut self.seq, self.conf.timescale, self.video)
    }

    /// The end of the track: the held frame (lasting as long as the one before it) and the open part.
    pub fn finish(&mut self) -> Result<Vec<Part>> {
        if self.finished {
            return Ok(Vec::new());
        }
        self.finished = true;
        let mut out = Vec::new();
        if let Some(h) = self.held.take() {
            let d = self
                .last_duration
                .unwrap_or_else(|| self.default_duration());
            out.extend(self.place(h, d)?);
        }
        out.extend(self.close_part()?);
        Ok(out)
    }

    /// A lone frame's duration: 1/30 s of video, 1024 samples of audio.
    fn default_duration(&self) -> u32 {
        if self.video {
            self.conf.timescale / 30
        } else {
            1024
        }
    }
}
