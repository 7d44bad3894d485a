//! The muxer of one encoded video rung: encoder chunks in (decode order, presentation timestamps in µs),
//! CMAF files out. Segments start exactly at the timeline's boundaries; each key frame is a fragment of its
//! own (as in [`Rendition::copy`]), so an I-frame playlist entry is a whole moof + mdat. A GOP is held
//! until the next key frame (its decode times come from its sorted presentation times), a segment until
//! the boundary that closes it; then its bytes are handed out and only its size, timing and I-frame
//! ranges are kept.
//!
//! An encoder that fails mid-segment (a reclaimed or crashed codec) is replaced by the caller:
//! [`VideoMuxer::restart_segment`] drops what the segment in progress holds and says where it started, and
//! the new encoder's chunks write it again from that instant.

use super::plan::Candidate;
use super::resume::{rung_fingerprint, SegmentRecord};
use super::timeline::Timeline;
use super::OutFile;
use crate::cmaf::fragment::{fragment_header, styp, OutSample};
use crate::cmaf::init::{init_segment, InitTrack};
use crate::cmaf::{IFrameRef, MediaSegment, Rendition};
use crate::codec::SampleEntry;
use crate::demux::{TrackHeader, TrackKind};
use crate::error::{Error, Result};
use crate::layout;

/// tkhd of an encoded rung: identity matrix (frames are encoded upright), the rung's size.
pub(crate) fn header(width: u32, height: u32) -> TrackHeader {
    TrackHeader {
        flags: 7,
        matrix: [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000],
        width: width << 16,
        height: height << 16,
        volume: 0,
        layer: 0,
        alternate_group: 0,
    }
}

struct Chunk {
    bytes: Vec<u8>,
    pts: u64,
}

/// The segment being written.
struct OpenSegment {
    bytes: Vec<u8>,
    start: u64,
    iframes: Vec<IFrameRef>,
    /// Chunks written into `bytes` (closed GOPs), and the fragment sequence number before the first.
    frames: u64,
    seq_before: u32,
}

pub struct VideoMuxer {
    pub rung: Candidate,
    timescale: u32,
    entry: Option<SampleEntry>,
    description: Option<Vec<u8>>,
    init: Vec<u8>,
    seq: u32,
    /// The boundary that closes the open segment (index into the timeline's boundaries).
    next_boundary: usize,
    /// The current GOP, decode order; the key frame first.
    gop: Vec<Chunk>,
    seg: Option<OpenSegment>,
    segments: Vec<MediaSegment>,
    /// Per segment handed out (or adopted): its frames and the last fragment sequence number in it.
    made: Vec<(u64, u32)>,
    frames: u64,
    finished: bool,
    /// After [`VideoMuxer::restart_segment`]: where the next chunk (a key frame) starts the segment again.
    resume_at: Option<u64>,
}

/// What the encoder gave this rung cannot be muxed.
fn err(rung: &str, msg: impl std::fmt::Display) -> Error {
    Error::EncoderOutput(format!("rung {rung}: {msg}"))
}

/// An error of kind `kind` ([`Error::CallOrder`], [`Error::TooLarge`], ...) naming the rung.
fn rung_err(kind: fn(String) -> Error, rung: &str, msg: &str) -> Error {
    kind(format!("rung {rung}: {msg}"))
}

/// A tick of the timeline as text for an error.
fn at_us(tl: &Timeline, t: u64) -> String {
    format!("{:.0} µs", tl.to_us(t))
}

/// After a restart, the first chunk is a key frame at the start of the segment that was in progress.
fn check_resumed_chunk(tl: &Timeline, id: &str, at: u64, pts: u64, key: bool) -> Result<()> {
    if !key || pts != at {
        return Err(err(
            id,
            format!(
                "after the encoder was restarted, the first chunk must be a key frame at {} (it is {} \
                 at {})",
                at_us(tl, at),
                if key { "a key frame" } else { "a delta frame" },
                at_us(tl, pts)
            ),
        ));
    }
    Ok(())
}

/// The first chunk of a rung is a key frame at the timeline's first presentation time.
fn check_first_chunk(tl: &Timeline, id: &str, pts: u64, key: bool) -> Result<()> {
    if !key || pts != tl.pts(0) {
        return Err(err(
            id,
            format!(
                "the first chunk must be a key frame at {} (it is {} at {})",
                at_us(tl, tl.pts(0)),
                if key { "a key frame" } else { "a delta frame" },
                at_us(tl, pts)
            ),
        ));
    }
    Ok(())
}

/// The sample entry and init segment of rung `rung` for an encoder whose decoder configuration is
/// `description` (avcC, hvcC, av1C, vpcC) and whose first key frame is `key` (read for AV1 and VP9 without
/// one): what the rung's muxer writes with its first chunk. A resumed rung's stored segments decode only
/// with the init they were made with, so the page compares this with the stored one before resuming.
pub fn rung_init(
    rung: &Candidate,
    timescale: u32,
    description: Option<&[u8]>,
    key: &[u8],
) -> Result<(SampleEntry, Vec<u8>)> {
    let entry =
        super::entry::video_entry(&rung.codec, rung.width, rung.height, description, Some(key))?;
    let init = init_segment(&InitTrack {
        kind: TrackKind::Video,
        timescale,
        language: "und",
        header: header(rung.width, rung.height),
        entry: &entry.bytes,
    })?;
    Ok((entry, init))
}

impl VideoMuxer {
    pub fn new(rung: Candidate, timescale: u32) -> Self {
        VideoMuxer {
            rung,
            timescale,
            entry: None,
            description: None,
            init: Vec::new(),
            seq: 0,
            next_boundary: 1,
            gop: Vec::new(),
            seg: None,
            segments: Vec::new(),
            made: Vec::new(),
            frames: 0,
            finished: false,
            resume_at: None,
        }
    }

    fn path(&self, name: &str) -> String {
        layout::in_dir(&self.rung.id, name)
    }

    /// One encoded chunk. Returns the files it completes: the init segment with the first chunk, a media
    /// segment when a boundary key frame closes the previous one.
    pub fn push(
        &mut self,
        tl: &Timeline,
        bytes: Vec<u8>,
        timestamp_us: f64,
        key: bool,
        description: Option<&[u8]>,
    ) -> Result<Vec<OutFile>> {
        let id = self.rung.id.clone();
        if self.finished {
            return Err(rung_err(Error::CallOrder, &id, "the rung is finished"));
        }
        let pts = tl.tick_of_us(timestamp_us)?;
        if self.seg.is_none() {
            match self.resume_at {
                Some(at) => check_resumed_chunk(tl, &id, at, pts, key)?,
                None => check_first_chunk(tl, &id, pts, key)?,
            }
            self.resume_at = None;
        }
        let mut out = Vec::new();
        out.extend(self.take_init(description, &bytes)?);
        if self.seg.is_none() {
            self.open_segment(pts);
            self.gop.push(Chunk { bytes, pts });
            self.frames += 1;
            return Ok(out);
        }
        let boundary = self.check_chunk_order(tl, pts, key)?;
        if key {
            self.close_gop(pts)?;
            if pts == boundary {
                out.push(self.close_segment(pts)?);
                self.next_boundary += 1;
                self.open_segment(pts);
            }
        }
        self.gop.push(Chunk { bytes, pts });
        self.frames += 1;
        Ok(out)
    }

    /// With the first chunk (a key frame), the init segment (from the encoder's decoder configuration, or
    /// from the key frame itself for AV1 and VP9 without one); later, a check that the configuration did
    /// not change.
    fn take_init(&mut self, description: Option<&[u8]>, chunk: &[u8]) -> Result<Option<OutFile>> {
        match (&self.entry, description) {
            (None, _) => {
                let (entry, init) = rung_init(&self.rung, self.timescale, description, chunk)?;
                self.init = init;
                self.entry = Some(entry);
                self.description = description.map(<[u8]>::to_vec);
                Ok(Some((self.path(layout::INIT), self.init.clone())))
            }
            (Some(_), Some(d)) if self.description.as_deref() != Some(d) => Err(err(
                &self.rung.id,
                "the encoder changed its decoder configuration mid-stream; a rung has one init \
                     segment (keep the size and codec of a rung fixed)",
            )),
            _ => Ok(None),
        }
    }

    /// A chunk after the first: it does not pass the open segment's boundary unless it is the key frame
    /// there, a key frame follows every frame of the previous GOP, and a delta frame follows its GOP's key
    /// frame and is presented once. The boundary that closes the open segment.
    fn check_chunk_order(&self, tl: &Timeline, pts: u64, key: bool) -> Result<u64> {
        let id = &self.rung.id;
        let boundary = tl.boundary_or_end(self.next_boundary);
        let gop_key = self.gop.first().map_or(0, |c| c.pts);
        let gop_max = self.gop.iter().map(|c| c.pts).max().unwrap_or(0);
        if pts >= boundary && !(key && pts == boundary) {
            return Err(err(
                id,
                format!(
                    "the chunk at {} is past the segment boundary at {} without a key frame there \
                     (encode the frame at every boundaryUs() instant as a key frame)",
                    at_us(tl, pts),
                    at_us(tl, boundary)
                ),
            ));
        }
        if key {
            if pts <= gop_max {
                return Err(err(
                    id,
                    format!(
                        "key frame at {} is presented before frames of the previous GOP (open GOPs \
                         cannot be cut)",
                        at_us(tl, pts)
                    ),
                ));
            }
        } else if pts <= gop_key || self.gop.iter().any(|c| c.pts == pts) {
            return Err(err(
                id,
                format!(
                    "delta frame at {} is presented at or before its GOP's key frame ({}) or twice",
                    at_us(tl, pts),
                    at_us(tl, gop_key)
                ),
            ));
        }
        Ok(boundary)
    }

    fn open_segment(&mut self, start: u64) {
        self.seg = Some(OpenSegment {
            bytes: styp(),
            start,
            iframes: Vec::new(),
            frames: 0,
            seq_before: self.seq,
        });
    }

    /// The rung's encoder failed: drop the segment in progress (the GOPs written into it and the one
    /// held), so that a new encoder writes it again. Returns the instant (µs) the new encoder's first
    /// chunk, a key frame, must have: the segment's start (the first frame for a rung that has written
    /// nothing yet). Segments already handed out stay as they are; fragment sequence numbers continue
    /// from the last of those.
    pub fn restart_segment(&mut self, tl: &Timeline) -> Result<f64> {
        if self.finished {
            return Err(rung_err(
                Error::CallOrder,
                &self.rung.id,
                "the rung is finished",
            ));
        }
        let held = self.gop.len() as u64;
        self.gop.clear();
        let start = match self.seg.take() {
            Some(seg) => {
                self.seq = seg.seq_before;
                self.frames = self.frames.saturating_sub(seg.frames + held);
                seg.start
            }
            None => self.resume_at.unwrap_or_else(|| tl.pts(0)),
        };
        self.resume_at = Some(start);
        Ok(tl.to_us(start))
    }

    /// Write the held GOP as two fragments (its key frame, then the rest) into the open segment. `end` is
    /// the presentation time that follows the GOP (the next key frame, or the end of the video).
    fn close_gop(&mut self, end: u64) -> Result<()> {
        let gop = std::mem::take(&mut self.gop);
        let Some(first) = gop.first() else {
            return Ok(());
        };
        let base = first.pts;
        // Decode times are the presentation times in order: the key frame decodes when it is shown and
        // every other frame takes the next free presentation instant; reordered frames get signed
        // composition offsets (trun version 1), as the copy rung writes them.
        let mut dts: Vec<u64> = gop.iter().map(|c| c.pts).collect();
        dts.sort_unstable();
        let id = &self.rung.id;
        let mut samples = Vec::with_capacity(gop.len());
        for (i, c) in gop.iter().enumerate() {
            let next = dts.get(i + 1).copied().unwrap_or(end);
            let duration = u32::try_from(next.saturating_sub(dts[i])).map_err(|_| {
                rung_err(Error::TooLarge, id, "a frame lasts longer than 2^32 ticks")
            })?;
            let cts = i32::try_from(c.pts as i128 - dts[i] as i128).map_err(|_| {
                rung_err(
                    Error::TooLarge,
                    id,
                    "a composition offset does not fit 32 bits",
                )
            })?;
            samples.push(OutSample {
                size: u32::try_from(c.bytes.len())
                    .map_err(|_| rung_err(Error::TooLarge, id, "a chunk larger than 4 GiB"))?,
                duration: duration.max(1),
                cts_offset: cts,
                sync: i == 0,
            });
        }
        let gop_ticks: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
        let seg = self
            .seg
            .as_mut()
            .ok_or_else(|| rung_err(Error::Internal, id, "no segment is open"))?;
        let mut at = 0;
        for (n, part) in [&samples[..1], &samples[1..]].into_iter().enumerate() {
            if part.is_empty() {
                continue;
            }
            self.seq += 1;
            let moof_at = seg.bytes.len() as u64;
            let header = fragment_header(self.seq, dts[at], part)?;
            seg.bytes.extend_from_slice(&header);
            for c in &gop[at..at + part.len()] {
                seg.bytes.extend_from_slice(&c.bytes);
            }
            seg.frames += part.len() as u64;
            if n == 0 {
                seg.iframes.push(IFrameRef {
                    offset: moof_at,
                    len: seg.bytes.len() as u64 - moof_at,
                    duration: gop_ticks,
                });
            }
            at += part.len();
        }
        debug_assert_eq!(base, dts[0]);
        Ok(())
    }

    fn close_segment(&mut self, end: u64) -> Result<OutFile> {
        let seg = self
            .seg
            .take()
            .ok_or_else(|| rung_err(Error::Internal, &self.rung.id, "no segment is open"))?;
        let k = self.segments.len();
        self.segments.push(MediaSegment {
            len: seg.bytes.len() as u64,
            start: seg.start,
            duration: end.saturating_sub(seg.start),
            iframes: seg.iframes,
        });
        self.made.push((seg.frames, self.seq));
        Ok((self.path(&layout::segment_name(k)), seg.bytes))
    }

    /// Close the last GOP and segment: the last frame lasts until the end of the source video.
    pub fn finish(&mut self, tl: &Timeline) -> Result<Vec<OutFile>> {
        if self.finished {
            return Ok(Vec::new());
        }
        self.finished = true;
        if self.seg.is_none() {
            return Err(rung_err(
                Error::CallOrder,
                &self.rung.id,
                "no chunk was pushed",
            ));
        }
        let last = self.gop.iter().map(|c| c.pts).max().unwrap_or(0);
        let end = if tl.end > last {
            tl.end
        } else {
            last + tl.last_duration
        };
        self.close_gop(end)?;
        // The last segment's duration is its samples' (which end at `end`).
        Ok(vec![self.close_segment(end)?])
    }

    /// Bytes held: the open GOP and segment, plus what is kept per finished segment.
    pub fn retained_bytes(&self) -> usize {
        self.gop.iter().map(|c| c.bytes.len()).sum::<usize>()
            + self.seg.as_ref().map_or(0, |s| s.bytes.len())
            + self.segments.len() * std::mem::size_of::<MediaSegment>()
            + self
                .segments
                .iter()
                .map(|s| s.iframes.len() * std::mem::size_of::<IFrameRef>())
                .sum::<usize>()
            + self.init.len()
    }

    /// The rendition as the playlists see it: sizes and timing of the segments written so far.
    pub fn rendition(&self) -> Option<Rendition> {
        let entry = self.entry.clone()?;
        let ticks: u64 = self.segments.iter().map(|s| s.duration).sum();
        let done: u64 = self.frames - self.gop.len() as u64;
        Some(Rendition {
            id: self.rung.id.clone(),
            kind: TrackKind::Video,
            timescale: self.timescale,
            language: "und".into(),
            entry,
            init: self.init.clone(),
            segments: self.segments.clone(),
            data: Vec::new(),
            display: Some((self.rung.width, self.rung.height)),
            frame_rate: (ticks > 0 && self.finished)
                .then(|| done as f64 * f64::from(self.timescale) / ticks as f64),
        })
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The record of segment `k` as the page keeps it once the origin has stored it.
    pub fn record(&self, k: usize) -> Option<SegmentRecord> {
        let (s, &(samples, seq)) = (self.segments.get(k)?, self.made.get(k)?);
        Some(SegmentRecord {
            rendition: self.rung.id.clone(),
            fingerprint: rung_fingerprint(&self.rung),
            index: k,
            len: s.len,
            start: s.start,
            duration: s.duration,
            timescale: self.timescale,
            samples,
            seq,
            iframes: s
                .iframes
                .iter()
                .map(|f| [f.offset, f.len, f.duration])
                .collect(),
            first_input_us: None,
        })
    }

    /// Resume after `kept` (segments 0.. of this rung, stored by an earlier run): they are taken as this
    /// run's, and the first chunk must be a key frame at the next boundary, where the encoder starts.
    pub fn adopt(&mut self, tl: &Timeline, kept: &[&SegmentRecord]) -> Result<()> {
        if self.seg.is_some() || !self.segments.is_empty() || self.finished {
            return Err(rung_err(
                Error::CallOrder,
                &self.rung.id,
                "a rung resumes before its first chunk",
            ));
        }
        let k = kept.len();
        if k == 0 {
            return Ok(());
        }
        if k >= tl.boundary_count() {
            return Err(rung_err(
                Error::InvalidOption,
                &self.rung.id,
                "every segment is stored: the last one is made again, not adopted",
            ));
        }
        self.segments = kept.iter().map(|r| r.media_segment()).collect();
        self.made = kept.iter().map(|r| (r.samples, r.seq)).collect();
        self.seq = kept[k - 1].seq;
        self.frames = kept.iter().map(|r| r.samples).sum();
        self.next_boundary = k + 1;
        self.resume_at = Some(tl.boundary_or_end(k));
        Ok(())
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }
}
