//! One ladder job from start to finish: demux and plan the source, describe it, propose rungs, mux the
//! chunks of every encoded rung and of the encoded audio, and write the playlists of the whole ladder.

use super::audio::{AudioEncoding, AudioMuxer};
use super::codecs::Family;
use super::describe;
use super::mux::VideoMuxer;
use super::plan::{self, Candidate, CopyDecision, Encodable, Proposal, SourceShape};
use super::planned::{self, AudioPlan, PlannedAudio, PlannedLadder, PlannedVideo};
use super::resume::{self as rs, ResumePoint, SegmentRecord};
use super::timeline::Timeline;
use super::OutFile;
use crate::cmaf::Rendition;
use crate::demux::{demux, Movie, TrackKind};
use crate::error::{Error, Result};
use crate::layout::{self, FileKind};
use crate::package::{package_planned, FileBody, Package, SegmentOptions};
use crate::plan::{plan as make_plan, recut_audio};
use crate::source::Source;
use crate::summary::Summary;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceVideo {
    pub codec: String,
    pub coded_width: u32,
    pub coded_height: u32,
    pub display_width: u32,
    pub display_height: u32,
    pub frame_rate: f64,
    pub bitrate: u64,
    pub timescale: u32,
    pub frames: usize,
    pub duration_us: f64,
    pub max_segment_s: f64,
    pub description: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceAudio {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub description: Option<Vec<u8>>,
    /// AAC: copied as it is.
    pub copy: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub video: SourceVideo,
    pub audio: Option<SourceAudio>,
    pub copyable: bool,
    pub copy_reason: Option<String>,
}

/// Every sample of a track, decode order, as parallel columns (they cross to JS as typed arrays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleTable {
    pub offset: Vec<f64>,
    pub size: Vec<u32>,
    pub timestamp_us: Vec<f64>,
    pub duration_us: Vec<f64>,
    pub key: Vec<u8>,
}

/// What the ladder added to the package summary.
#[derive(Debug, Clone, Serialize)]
pub struct LadderDetails {
    pub copy: bool,
    pub copy_reason: Option<String>,
    /// "copy", "encoded" or "none".
    pub audio: &'static str,
    pub rungs: Vec<Candidate>,
    pub boundaries: usize,
}

/// The package summary and the ladder's details; the bindings hand JS the summary's fields with a
/// `ladder` field added (no `serde(flatten)`: its buffering costs the wasm build more than it saves).
#[derive(Debug, Clone)]
pub struct LadderSummary {
    pub package: Summary,
    pub ladder: LadderDetails,
}

pub struct LadderJob {
    movie: Movie,
    package: Package,
    timeline: Timeline,
    info: SourceInfo,
    shape: SourceShape,
    candidates: Vec<Candidate>,
    /// Whether the copy rung is part of the ladder (the proposal's decision, or `copy_files`' argument).
    copy_video: bool,
    rungs: Vec<VideoMuxer>,
    audio: Option<AudioMuxer>,
    finished: bool,
    /// Captions and chapters added to the manifests at `finish` ([`LadderJob::set_text`]).
    text: crate::captions::TextRequest,
    /// What adding them made: the renditions and chapters track announced, and the warnings.
    text_made: Option<crate::captions::TextOutcome>,
    /// After [`LadderJob::resume`]: the stored audio segments the audio muxer adopts when it is made, and
    /// the instant (µs) of its first chunk kept.
    audio_resume: Option<(Vec<SegmentRecord>, f64)>,
}

pub(super) fn us(ticks: u64, timescale: u32) -> f64 {
    ticks as f64 * 1e6 / f64::from(timescale.max(1))
}

impl LadderJob {
    /// Demux and plan `src`. A source whose key frames are too far apart for the target is cut every
    /// target duration instead (its copy rung is then left out), and its audio with it.
    pub fn new(src: &dyn Source, opts: &SegmentOptions) -> Result<LadderJob> {
        Self::from_movie(demux(src, &opts.limits)?, opts)
    }

    /// The job for an already demuxed movie.
    /// A video that is read but never copied (VP8) is adopted as the video here: every rung is encoded
    /// from it, cut at its own key frames.
    pub fn from_movie(mut movie: Movie, opts: &SegmentOptions) -> Result<LadderJob> {
        crate::demux::adopt_decoded_video(&mut movie);
        let vi = movie.video.ok_or_else(|| {
            Error::NoVideo("the file has no usable video track: a ladder needs video".into())
        })?;
        let mut plan = make_plan(&movie, &opts.plan)?;
        let vp = plan
            .video
            .clone()
            .ok_or_else(|| Error::NoVideo("the video track could not be planned".into()))?;
        let track = &movie.tracks[vi];
        let entry = track
            .entry
            .clone()
            .ok_or_else(|| Error::NoVideo("the video track has no sample entry".into()))?;
        let mut timeline = Timeline::new(track, &vp)?;
        let (copyable, copy_reason) = describe::copy_decision(plan.long_gop.as_ref(), &entry);
        // Key frames too far apart: cut every target duration (every rung is encoded then). A source that
        // only cannot be copied (VP8) keeps its own key frames as the cuts, as a copied one would.
        if plan.long_gop.is_some() {
            timeline.cut_every(plan.target_duration_s);
            let cuts = timeline.boundary_ticks();
            recut_audio(&movie, &mut plan, timeline.timescale, &cuts[1..]);
        }
        let package = package_planned(&movie, plan)?;
        let copy = package
            .renditions
            .iter()
            .find(|r| r.kind == TrackKind::Video)
            .ok_or_else(|| Error::Internal("no copy video rendition".into()))?;
        let video = describe::source_video(&entry, copy, track, &vp, timeline.frames());
        let audio = describe::source_audio(&movie);
        let shape = SourceShape {
            display_width: video.display_width,
            display_height: video.display_height,
            frame_rate: video.frame_rate,
            bitrate: video.bitrate,
            own_size_rung: !copyable,
        };
        let candidates = plan::candidates(&shape);
        Ok(LadderJob {
            info: SourceInfo {
                video,
                audio,
                copyable,
                copy_reason,
            },
            movie,
            package,
            timeline,
            shape,
            candidates,
            copy_video: copyable,
            rungs: Vec::new(),
            audio: None,
            finished: false,
            text: crate::captions::TextRequest::default(),
            text_made: None,
            audio_resume: None,
        })
    }

    /// Captions and chapters for the ladder's package, added to `master.m3u8` and `manifest.mpd` on the
    /// lead rendition's boundaries at [`LadderJob::finish`] (without a call, the source's own chapters).
    /// The caption files are read now, so a bad one is refused before encoding starts.
    pub fn set_text(&mut self, text: crate::captions::TextRequest) -> Result<()> {
        self.check_open()?;
        text.validate(&crate::captions::TextLimits::default())
            .map_err(|e| Error::InvalidOption(e.to_string()))?;
        self.text = text;
        Ok(())
    }

    pub fn source(&self) -> &SourceInfo {
        &self.info
    }

    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    pub fn propose(&mut self, supported: &[Encodable]) -> Proposal {
        let p = plan::propose(
            supported,
            &self.shape,
            &CopyDecision {
                copyable: self.info.copyable,
                reason: self.info.copy_reason.clone(),
            },
        );
        self.copy_video = p.copy;
        p
    }

    pub fn boundaries_us(&self) -> Vec<f64> {
        self.timeline
            .boundary_ticks()
            .into_iter()
            .map(|t| self.timeline.to_us(t))
            .collect()
    }

    /// The samples of the packaged video (from its first key frame), decode order; timestamps are
    /// presentation times on the output timeline.
    pub fn video_samples(&self) -> SampleTable {
        let Some(p) = self.package.plan.video.as_ref() else {
            return SampleTable::default();
        };
        let t = &self.movie.tracks[p.track];
        let mut out = SampleTable::default();
        for i in p.segments.iter().flat_map(|s| s.samples.clone()) {
            let s = &t.samples[i];
            let pts = p
                .out_dts(t, i)
                .saturating_add_signed(p.out_cts_offset(t, i));
            push_sample(&mut out, s, us(pts, t.timescale), t.timescale);
        }
        out
    }

    /// The samples of the primary audio track, decode order, timestamps on the output timeline.
    pub fn audio_samples(&self) -> SampleTable {
        let Some(p) = self.package.plan.audio.first() else {
            return SampleTable::default();
        };
        let t = &self.movie.tracks[p.track];
        let mut out = SampleTable::default();
        for i in p.segments.iter().flat_map(|s| s.samples.clone()) {
            push_sample(
                &mut out,
                &t.samples[i],
                us(p.out_dts(t, i), t.timescale),
                t.timescale,
            );
        }
        out
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(Error::CallOrder("the ladder is finished".into()));
        }
        Ok(())
    }

    /// Add a rung to encode; returns its index. Its id is its directory and must be unique.
    pub fn add_rung(&mut self, rung: Candidate) -> Result<usize> {
        self.check_open()?;
        let id = &rung.id;
        // The origin accepts directory names of [a-z0-9_-] only; the copy and audio renditions' are taken.
        if !layout::is_dir_name(id)
            || id == layout::VIDEO_DIR
            || id.starts_with(layout::AUDIO_DIR)
            || self.rungs.iter().any(|r| &r.rung.id == id)
        {
            return Err(Error::InvalidOption(format!(
                "rung id '{id}': use [a-z0-9_-] (the origin's directory names), not 'video' or \
                 'audio…', once each"
            )));
        }
        if rung.width == 0 || rung.height == 0 || rung.width > 16384 || rung.height > 16384 {
            return Err(Error::InvalidOption(format!(
                "rung {id}: size {}x{}",
                rung.width, rung.height
            )));
        }
        self.rungs
            .push(VideoMuxer::new(rung, self.timeline.timescale));
        Ok(self.rungs.len() - 1)
    }

    pub fn push_video(
        &mut self,
        rung: usize,
        bytes: Vec<u8>,
        timestamp_us: f64,
        key: bool,
        description: Option<&[u8]>,
    ) -> Result<Vec<OutFile>> {
        self.check_open()?;
        let n = self.rungs.len();
        let m = self
            .rungs
            .get_mut(rung)
            .ok_or_else(|| Error::InvalidOption(format!("rung {rung}: {n} rungs were added")))?;
        m.push(&self.timeline, bytes, timestamp_us, key, description)
    }

    /// The init segment rung `rung` writes for an encoder whose decoder configuration is `description`
    /// and whose first key frame is `key` ([`super::mux::rung_init`]): byte for byte the one its first
    /// chunk makes. The page checks a resumed rung's encoder with it: when it differs from the init the
    /// rung's stored segments were made with, that rung is not resumed (its records are left out of
    /// [`LadderJob::resume`]) and is encoded again from its first segment.
    pub fn rung_init(
        &self,
        rung: usize,
        description: Option<&[u8]>,
        key: &[u8],
    ) -> Result<Vec<u8>> {
        let n = self.rungs.len();
        let m = self
            .rungs
            .get(rung)
            .ok_or_else(|| Error::InvalidOption(format!("rung {rung}: {n} rungs were added")))?;
        Ok(super::mux::rung_init(&m.rung, self.timeline.timescale, description, key)?.1)
    }

    /// Rung `rung`'s encoder failed and is replaced: its segment in progress is dropped
    /// ([`VideoMuxer::restart_segment`]). Returns the instant (µs) the new encoder starts at, with a key
    /// frame.
    pub fn restart_rung(&mut self, rung: usize) -> Result<f64> {
        self.check_open()?;
        let n = self.rungs.len();
        let m = self
            .rungs
            .get_mut(rung)
            .ok_or_else(|| Error::InvalidOption(format!("rung {rung}: {n} rungs were added")))?;
        m.restart_segment(&self.timeline)
    }

    pub fn set_audio_encoding(&mut self, enc: &AudioEncoding) -> Result<()> {
        self.check_open()?;
        if self.audio.is_some() {
            return Err(Error::CallOrder(
                "setAudioEncoding was already called".into(),
            ));
        }
        let language = self
            .movie
            .audio
            .map_or("und".to_string(), |i| self.movie.tracks[i].language.clone());
        let cuts = self.timeline.boundary_ticks();
        let mut muxer = AudioMuxer::new(
            enc,
            layout::AUDIO_DIR,
            &language,
            self.timeline.timescale,
            cuts[1..].to_vec(),
        )?;
        if let Some((kept, keep_from)) = self.audio_resume.take() {
            muxer.adopt(&kept.iter().collect::<Vec<_>>(), keep_from)?;
        }
        self.audio = Some(muxer);
        Ok(())
    }

    /// The timestamp (µs) of the first AudioData the audio encoder was given: kept in the audio segments'
    /// records, so that a resumed run feeds its encoder on the same grid. A resumed run keeps the first
    /// run's.
    pub fn set_audio_first_input(&mut self, us: f64) -> Result<()> {
        let a = self
            .audio
            .as_mut()
            .ok_or_else(|| Error::CallOrder("call setAudioEncoding first".into()))?;
        if !us.is_finite() {
            return Err(Error::InvalidOption(format!(
                "audio first input at {us} µs"
            )));
        }
        a.first_input_us.get_or_insert(us);
        Ok(())
    }

    /// Continue an earlier run of the same ladder whose files the origin still has: `records` are the
    /// page's records of those files (any order; records of other renditions or encodings are ignored).
    /// Call after every `add_rung` and before any chunk. Every encoded rung, and the encoded audio (whose
    /// codec is `audio_codec`; None when the audio is copied or absent), adopts its stored segments before
    /// the first one it lacks and starts encoding there; the decoder starts at the earliest of those. The copy rung and copied audio are recipes, made whole again and skipped by
    /// the upload.
    pub fn resume(
        &mut self,
        records: &[SegmentRecord],
        audio_codec: Option<&str>,
    ) -> Result<ResumePoint> {
        self.check_open()?;
        if self.audio.is_some() || self.rungs.iter().any(|r| r.frames() > 0) {
            return Err(Error::CallOrder(
                "resume before the first chunk of any rendition".into(),
            ));
        }
        let tl = &self.timeline;
        let kept: Vec<Vec<&SegmentRecord>> = self
            .rungs
            .iter()
            .map(|r| {
                let fp = rs::rung_fingerprint(&r.rung);
                rs::leading(records, &r.rung.id, &fp, |k, _| rs::video_start(tl, k))
            })
            .collect();
        let audio_kept = audio_codec.map(|codec| {
            let first = records
                .iter()
                .find(|r| r.rendition == layout::AUDIO_DIR && r.index == 0)
                .map_or(0, |r| r.start);
            let got = rs::leading(records, layout::AUDIO_DIR, codec, |k, p| {
                rs::audio_start(k, p, first)
            });
            // Without the first run's input grid, the audio cannot be resumed.
            if got.first().is_some_and(|r| r.first_input_us.is_some()) {
                got
            } else {
                Vec::new()
            }
        });
        // Each rendition starts at its own first missing segment (the present ones after it are not made
        // again), never past the last one; the decoder at the earliest of them.
        let last = tl.boundary_count().saturating_sub(1);
        let starts: Vec<usize> = kept.iter().map(|v| v.len().min(last)).collect();
        let audio_start = audio_kept.as_ref().map(|a| a.len().min(last));
        let present: Vec<usize> = starts.iter().copied().chain(audio_start).collect();
        let k = rs::first_missing(&present, tl.boundary_count());
        let at = tl.boundary_or_end(k);
        let audio = match (&audio_kept, audio_start) {
            (Some(a), Some(n)) => rs::audio_resume(&a[..n]),
            _ => None,
        };
        let point = ResumePoint {
            segment: k,
            at_us: tl.to_us(at),
            video_sample: self.key_sample_before(at),
            rungs_at_us: starts
                .iter()
                .map(|&n| tl.to_us(tl.boundary_or_end(n)))
                .collect(),
            audio,
            resumed: present.iter().any(|&n| n > 0),
        };
        for (r, (kept, &n)) in self.rungs.iter_mut().zip(kept.iter().zip(&starts)) {
            r.adopt(&self.timeline, &kept[..n])?;
        }
        if let (Some(a), Some(n), Some(ar)) = (&audio_kept, audio_start, &point.audio) {
            self.audio_resume = Some((
                a[..n].iter().map(|r| (*r).clone()).collect(),
                ar.keep_from_us,
            ));
        }
        Ok(point)
    }

    /// The decode-order index (into [`LadderJob::video_samples`]) of the key sample a decoder starts at to
    /// show the frame presented at `at` (ticks): the last key sample presented at or before it, before
    /// the first key sample presented after it.
    fn key_sample_before(&self, at: u64) -> usize {
        let Some(p) = self.package.plan.video.as_ref() else {
            return 0;
        };
        let t = &self.movie.tracks[p.track];
        let mut found = 0;
        for (n, i) in p
            .segments
            .iter()
            .flat_map(|s| s.samples.clone())
            .enumerate()
        {
            if !t.samples[i].sync {
                continue;
            }
            let pts = p
                .out_dts(t, i)
                .saturating_add_signed(p.out_cts_offset(t, i));
            if pts > at {
                break;
            }
            found = n;
        }
        found
    }

    /// The page's record of the encoded segment at `path` ("v-720p/seg_00003.m4s", "audio/…"), once made.
    pub fn segment_record(&self, path: &str) -> Option<SegmentRecord> {
        let (dir, name) = path.split_once('/')?;
        let k = layout::segment_index(name)?;
        if dir == layout::AUDIO_DIR {
            return self.audio.as_ref()?.record(k);
        }
        self.rungs.iter().find(|r| r.rung.id == dir)?.record(k)
    }

    pub fn push_audio(
        &mut self,
        bytes: Vec<u8>,
        timestamp_us: f64,
        duration_us: f64,
    ) -> Result<Vec<OutFile>> {
        self.check_open()?;
        self.audio
            .as_mut()
            .ok_or_else(|| Error::CallOrder("call setAudioEncoding before pushAudio".into()))?
            .push(bytes, timestamp_us, duration_us)
    }

    fn copies_audio(&self) -> bool {
        self.audio.is_none() && self.info.audio.as_ref().is_some_and(|a| a.copy)
    }

    /// The copy package's files (init and media segments, no playlists: `finish` writes those): the copy
    /// rung when `include_video`, and the copied audio when the source's audio is AAC.
    pub fn copy_files(&mut self, include_video: bool) -> Result<Vec<(String, FileBody<'_>)>> {
        if include_video && !self.info.copyable {
            return Err(Error::InvalidOption(format!(
                "the source cannot be the top rung: {}",
                self.info.copy_reason.as_deref().unwrap_or("")
            )));
        }
        self.copy_video = include_video;
        let audio = self.copies_audio();
        Ok(self
            .package
            .files()
            .into_iter()
            .filter(|(path, _)| {
                !matches!(
                    FileKind::of(path),
                    Some(FileKind::Playlist | FileKind::Manifest)
                ) && ((include_video && path.starts_with(&format!("{}/", layout::VIDEO_DIR)))
                    || (audio && path.starts_with(layout::AUDIO_DIR)))
            })
            .collect())
    }

    /// Every rendition of the ladder: videos (the H.264 one nearest 2 Mb/s first, for players that take
    /// the first variant whatever its CODECS) and audios.
    fn renditions(&self) -> (Vec<Rendition>, Vec<Rendition>) {
        let mut videos: Vec<Rendition> = self.rungs.iter().filter_map(|r| r.rendition()).collect();
        if self.copy_video {
            videos.extend(self.package.video().into_iter().cloned());
        }
        plan::order_first_near_2mbps_of(&mut videos, Rendition::average_bitrate, |r| {
            Family::of(&r.entry.codec_string) == Some(Family::H264)
        });
        let audios = match &self.audio {
            Some(a) => vec![a.rendition()],
            None if self.copies_audio() => self.package.audio().into_iter().cloned().collect(),
            None => Vec::new(),
        };
        (videos, audios)
    }

    /// The playlists written at the start, before any chunk ([`super::planned`]): `master.m3u8` from the
    /// rungs added and the copy decision, and every media playlist with its planned segment durations.
    /// `audio` is the audio encoder's configuration when the source's audio is to be encoded (required
    /// when it is not AAC, refused when there is none); without it the source's AAC is copied.
    /// [`LadderJob::finish`]'s playlists replace these.
    pub fn planned_playlists(&self, audio: Option<&PlannedAudio>) -> Result<Vec<OutFile>> {
        self.check_open()?;
        if self.rungs.is_empty() && !self.copy_video {
            return Err(Error::CallOrder(
                "add the rungs (or choose the copy) before planning the playlists".into(),
            ));
        }
        let language = self
            .movie
            .audio
            .map_or("und", |i| self.movie.tracks[i].language.as_str());
        let copied = self.package.audio();
        let audio = match (audio, self.info.audio.as_ref()) {
            (None, None) => AudioPlan::None,
            (Some(p), Some(_)) => AudioPlan::Encoded(p, language),
            (None, Some(a)) if a.copy => AudioPlan::Copied(copied),
            (None, Some(a)) => {
                return Err(Error::InvalidOption(format!(
                    "the source's {} audio is re-encoded: give its encoder's configuration",
                    a.codec
                )))
            }
            (Some(_), None) => {
                return Err(Error::InvalidOption(
                    "an audio encoding was given, but the source has no audio".into(),
                ))
            }
        };
        let mut videos: Vec<PlannedVideo<'_>> = self
            .rungs
            .iter()
            .map(|r| PlannedVideo::Encoded(&r.rung))
            .collect();
        if self.copy_video {
            videos.extend(self.package.video().into_iter().map(PlannedVideo::Copy));
        }
        plan::order_first_near_2mbps_of(&mut videos, PlannedVideo::average_bps, |v| {
            Family::of(v.codec()) == Some(Family::H264)
        });
        let tl = &self.timeline;
        Ok(planned::playlists(&PlannedLadder {
            videos,
            audio,
            rung_segments_s: tl
                .segment_ticks()
                .into_iter()
                .map(|t| tl.to_us(t) / 1e6)
                .collect(),
        }))
    }

    /// Close every rung and the audio, and write every playlist and the MPD. After this the job is spent.
    pub fn finish(&mut self) -> Result<Vec<OutFile>> {
        self.check_open()?;
        if self.rungs.is_empty() && !self.copy_video {
            return Err(Error::CallOrder(
                "no rung was added and the source is not copied: the ladder would be empty".into(),
            ));
        }
        let mut out = Vec::new();
        for r in &mut self.rungs {
            if r.frames() == 0 {
                return Err(Error::CallOrder(format!(
                    "rung {} received no chunk",
                    r.rung.id
                )));
            }
            out.extend(r.finish(&self.timeline)?);
        }
        if let Some(a) = &mut self.audio {
            out.extend(a.finish()?);
        }
        self.finished = true;
        let (videos, audios) = self.renditions();
        let v: Vec<&Rendition> = videos.iter().collect();
        let a: Vec<&Rendition> = audios.iter().collect();
        let (target, mut lists) = crate::hls::playlists(&v, &a);
        if let Some(lead) = videos.first() {
            self.add_text(lead, target, &mut lists)?;
        }
        out.extend(lists.into_iter().map(|(p, t)| (p, t.into_bytes())));
        Ok(out)
    }

    /// Add the captions and chapters of [`LadderJob::set_text`] to `lists` (the manifests `finish` wrote).
    fn add_text(
        &mut self,
        lead: &Rendition,
        target: u64,
        lists: &mut Vec<(String, String)>,
    ) -> Result<()> {
        use crate::captions::{add_text, chapters, Manifests};
        let timeline = crate::captions::Timeline::from_rendition(lead, target);
        let source = chapters::before_end(&self.movie.chapters, timeline.end_ms());
        let req = &self.text;
        let chapter_list = chapters::choose(req.chapters.clone(), source, req.use_source_chapters);
        if req.inputs.is_empty() && chapter_list.is_none() {
            return Ok(());
        }
        let text_of = |path: &str| {
            lists
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.as_str())
        };
        let master = text_of(layout::MASTER)
            .ok_or_else(|| Error::Internal("the ladder wrote no master.m3u8".into()))?;
        let made = add_text(
            &Manifests {
                master_path: layout::MASTER,
                master,
                mpd_path: layout::MANIFEST,
                mpd: text_of(layout::MANIFEST),
                timeline: &timeline,
            },
            &[],
            &req.inputs,
            chapter_list.as_deref(),
            &crate::captions::TextLimits::default(),
        )
        .map_err(|e| Error::InvalidOption(e.to_string()))?;
        for (path, text) in &made.files {
            match lists.iter_mut().find(|(p, _)| p == path) {
                Some(slot) => slot.1.clone_from(text),
                None => lists.push((path.clone(), text.clone())),
            }
        }
        self.text_made = Some(made);
        Ok(())
    }

    /// The package summary over every rendition made so far, with the ladder's details.
    pub fn summary(&self) -> LadderSummary {
        let (videos, audios) = self.renditions();
        let all: Vec<Rendition> = videos.into_iter().chain(audios).collect();
        let target = crate::hls::target_duration(
            all.iter()
                .flat_map(|r| r.segments.iter().map(|s| s.duration_s(r.timescale))),
        );
        let mut package = Summary::new(&self.movie, &self.package.plan, &all, target);
        // Before any rung is encoded a ladder without the copy rung has no video rendition yet: its
        // length is the planned video's.
        if !all.iter().any(|r| r.kind == TrackKind::Video) {
            package.duration_s = package.duration_s.max(self.info.video.duration_us / 1e6);
        }
        if let Some(made) = &self.text_made {
            package.captions.clone_from(&made.captions);
            package.chapters.clone_from(&made.chapters);
            package.warnings.extend(made.warnings.iter().cloned());
        }
        LadderSummary {
            package,
            ladder: LadderDetails {
                copy: self.copy_video,
                copy_reason: self.info.copy_reason.clone(),
                audio: if self.audio.is_some() {
                    "encoded"
                } else if self.copies_audio() {
                    "copy"
                } else {
                    "none"
                },
                rungs: self.rungs.iter().map(|r| r.rung.clone()).collect(),
                boundaries: self.timeline.boundary_count(),
            },
        }
    }

    /// Bytes the muxers hold (open GOPs and segments, per-segment records): flat on long inputs.
    pub fn retained_bytes(&self) -> usize {
        self.rungs
            .iter()
            .map(VideoMuxer::retained_bytes)
            .sum::<usize>()
            + self.audio.as_ref().map_or(0, AudioMuxer::retained_bytes)
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }
}

fn push_sample(out: &mut SampleTable, s: &crate::demux::Sample, ts_us: f64, timescale: u32) {
    out.offset.push(s.offset as f64);
    out.size.push(s.size);
    out.timestamp_us.push(ts_us);
    out.duration_us.push(us(u64::from(s.duration), timescale));
    out.key.push(u8::from(s.sync));
}
