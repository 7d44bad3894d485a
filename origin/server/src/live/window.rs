//! One rendition's live window: complete segments (each segment's bytes stored once, its parts ranges of
//! that buffer) and the open segment's parts (each its own buffer until the segment closes).
use std::collections::VecDeque;
use std::ops::Range;
use std::time::SystemTime;

use actix_web::web::Bytes;
use upcast_core::live::{Part, TrackInfo};

use super::dash::Anchor;
use super::LiveError;

/// A part's place in the window.
#[derive(Debug, Clone)]
pub(super) struct PartMeta {
    pub range: Range<usize>,
    pub duration: f64,
    pub independent: bool,
}

pub(super) struct Segment {
    pub msn: u64,
    /// The rendition-wide number of its first part: parts are named by that number (`part{n}.m4s`).
    pub first_part: u64,
    pub bytes: Bytes,
    pub parts: Vec<PartMeta>,
    pub duration: f64,
    pub pdt: SystemTime,
    pub discontinuity: bool,
    pub init_gen: u32,
    pub key_chunks: Vec<(u64, u64)>,
    /// Its first sample's decode time (tfdt) and its length, in the track's timescale.
    pub start: u64,
    pub ticks: u64,
    /// The stream's epoch (a Period of the live MPD) it belongs to.
    pub epoch: u32,
    /// Video samples in it (0 for audio): the MPD's frameRate.
    pub frames: u32,
}

impl Segment {
    /// A segment with no media (the rendition was paused): EXT-X-GAP, never served.
    pub fn is_gap(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// An open segment's part: its bytes (none for a GAP part), seconds, independent, key-frame chunk.
pub(super) type OpenPart = (Bytes, f64, bool, Option<(u64, u64)>);

pub(super) struct OpenSegment {
    pub msn: u64,
    /// The rendition-wide number of its first part.
    pub first_part: u64,
    pub parts: Vec<OpenPart>,
    pub pdt: SystemTime,
    pub discontinuity: bool,
    pub init_gen: u32,
    pub start: u64,
    /// Where its last part ends, in ticks.
    pub end: u64,
    pub epoch: u32,
}

/// A segment that a push closed (or [`super::LiveStream::end`] did): what recording needs.
#[derive(Debug, Clone)]
pub struct ClosedSegment {
    pub track: String,
    pub msn: u64,
    /// The whole segment: its parts' bytes in order (shared with the window, not copied again).
    pub bytes: Bytes,
    pub duration: f64,
    pub pdt: SystemTime,
    /// A publisher reconnected (or the init segment changed) before this segment.
    pub discontinuity: bool,
    /// The init segment its parts follow.
    pub init: Bytes,
    /// `(offset, length)` in `bytes` of each key frame's own chunk, for I-frame playlists.
    pub key_chunks: Vec<(u64, u64)>,
}

pub struct RenditionWindow {
    pub name: String,
    pub info: TrackInfo,
    /// Init segments by generation; older ones stay while a segment in the window refers to them.
    pub(super) inits: VecDeque<(u32, Bytes)>,
    /// Complete segments, oldest first: the first `retired` are out of the playlist but still served.
    pub(super) segments: VecDeque<Segment>,
    pub(super) retired: usize,
    pub(super) open: Option<OpenSegment>,
    pub(super) next_msn: u64,
    /// The number the next part gets. Parts are numbered across segments, not within one, so the
    /// preload hint names the next part whether or not it starts a segment (a key frame the publisher
    /// sends early, a new publish): the hint is right before anyone knows.
    pub(super) next_part: u64,
    pub(super) discontinuity_sequence: u64,
    pending_discontinuity: bool,
    /// Longest part and segment seen (for PART-TARGET and EXT-X-TARGETDURATION, which never shrink).
    pub(super) max_part: f64,
    pub(super) max_segment: f64,
    /// The track's timescale (from its parts).
    pub(super) timescale: u32,
    /// Where each epoch still in the window began, oldest first.
    pub(super) anchors: VecDeque<Anchor>,
    /// The publisher paused this rendition ([`RenditionWindow::pause_media`]): it gets GAP parts and
    /// segments in step with the others until its media comes back.
    pub paused: bool,
}

impl RenditionWindow {
    /// Segments completed so far, or parts of the open one: something a player can load.
    pub fn has_media(&self) -> bool {
        !self.segments.is_empty() || self.open.as_ref().is_some_and(|o| !o.parts.is_empty())
    }

    pub fn new(name: String, info: TrackInfo) -> Self {
        let init = Bytes::from(info.init.clone());
        RenditionWindow {
            name,
            info,
            inits: VecDeque::from([(0, init)]),
            segments: VecDeque::new(),
            retired: 0,
            open: None,
            next_msn: 0,
            next_part: 0,
            discontinuity_sequence: 0,
            pending_discontinuity: false,
            max_part: 0.0,
            max_segment: 0.0,
            timescale: 1,
            anchors: VecDeque::new(),
            paused: false,
        }
    }

    pub(super) fn init_gen(&self) -> u32 {
        self.inits.back().map_or(0, |(g, _)| *g)
    }

    /// The track came back (a reconnect): the next segment follows a discontinuity, with a new init
    /// generation when its init segment differs.
    pub(super) fn resume(&mut self, info: TrackInfo) {
        if info.init != self.info.init {
            let gen = self.init_gen().saturating_add(1);
            // Keep only the init segments a segment still refers to: reconnects with ever new ones
            // cannot pile them up.
            let used: Vec<u32> = self
                .segments
                .iter()
                .map(|s| s.init_gen)
                .chain(self.open.iter().map(|o| o.init_gen))
                .collect();
            self.inits.retain(|(g, _)| used.contains(g));
            self.inits.push_back((gen, Bytes::from(info.init.clone())));
        }
        self.info = info;
        self.pending_discontinuity = true;
    }

    pub(super) fn init(&self, gen: u32) -> Option<Bytes> {
        self.inits
            .iter()
            .find(|(g, _)| *g == gen)
            .map(|(_, b)| b.clone())
    }

    /// Add a whole part; returns the segment it closed.
    pub(super) fn push(
        &mut self,
        part: Part,
        pdt: SystemTime,
        epoch: u32,
    ) -> Result<Option<ClosedSegment>, LiveError> {
        let duration = part.duration_secs();
        if part.bytes.is_empty() || !duration.is_finite() || duration <= 0.0 {
            return Err(LiveError::BadPart("an empty part".into()));
        }
        if self.paused {
            self.unpause(&part)?;
        }
        let closed = if part.starts_segment {
            self.close()
        } else if self.open.is_none() {
            return Err(LiveError::BadPart(
                "the first part after a start must start a segment".into(),
            ));
        } else {
            None
        };
        let gen = self.init_gen();
        self.timescale = part.timescale.max(1);
        if self.open.is_none() && self.anchors.back().is_none_or(|a| a.epoch != epoch) {
            let start = part.start;
            self.anchors.push_back(Anchor { epoch, start, pdt });
        }
        let open = self.open.get_or_insert_with(|| OpenSegment {
            msn: self.next_msn,
            first_part: self.next_part,
            parts: Vec::new(),
            pdt,
            discontinuity: std::mem::take(&mut self.pending_discontinuity),
            init_gen: gen,
            start: part.start,
            end: part.start,
            epoch,
        });
        self.next_part += 1;
        open.end = part.start.saturating_add(part.duration);
        self.max_part = self.max_part.max(duration);
        open.parts.push((
            Bytes::from(part.bytes),
            duration,
            part.independent,
            part.key_chunk,
        ));
        Ok(closed)
    }

    /// The publisher paused this rendition (a rung dropped for its uplink): the open segment's parts
    /// become GAP parts (a segment is media or GAP as a whole; viewers that loaded its parts keep them)
    /// and, until media comes back, [`RenditionWindow::push_gap`] continues it and the segments after it
    /// in step with the other renditions.
    pub(super) fn pause_media(&mut self) {
        self.paused = true;
        if let Some(o) = &mut self.open {
            for p in &mut o.parts {
                *p = (Bytes::new(), p.1, p.2, None);
            }
        }
    }

    /// Where the rendition's media time stands (ticks): the open segment's end, else the last segment's.
    fn end_ticks(&self) -> Option<u64> {
        match (&self.open, self.segments.back()) {
            (Some(o), _) => Some(o.end),
            (None, Some(s)) => Some(s.start.saturating_add(s.ticks)),
            (None, None) => None,
        }
    }

    /// A GAP part of `secs` seconds (`ticks` in this track's timescale), mirroring the part another
    /// rendition just got: a segment starts where that one's did, so the MSNs stay aligned.
    pub(super) fn push_gap(
        &mut self,
        secs: f64,
        ticks: u64,
        starts_segment: bool,
        pdt: SystemTime,
        epoch: u32,
    ) {
        if starts_segment {
            self.close();
        }
        let at = self.end_ticks().unwrap_or(0);
        let gen = self.init_gen();
        let open = self.open.get_or_insert_with(|| OpenSegment {
            msn: self.next_msn,
            first_part: self.next_part,
            parts: Vec::new(),
            pdt,
            discontinuity: std::mem::take(&mut self.pending_discontinuity),
            init_gen: gen,
            start: at,
            end: at,
            epoch,
        });
        self.next_part += 1;
        open.end = open.end.saturating_add(ticks);
        open.parts.push((Bytes::new(), secs, starts_segment, None));
    }

    /// Media is back for a paused rendition: it must start a segment. The open GAP segment ends here,
    /// unless it began where this part begins (the other renditions' part of this boundary came first):
    /// then this part takes its place, with its MSN.
    fn unpause(&mut self, part: &Part) -> Result<(), LiveError> {
        if !part.starts_segment {
            return Err(LiveError::BadPart(
                "a paused rendition's media must come back with a part that starts a segment"
                    .into(),
            ));
        }
        // Within a tenth of a second: GAP parts' ticks are the leader's seconds, rounded.
        let slack = u64::from(self.timescale.max(1)) / 10;
        if let Some(o) = self
            .open
            .take_if(|o| o.start.saturating_add(slack) >= part.start)
        {
            // Its GAP parts were listed; the real ones replace them under the same URIs.
            self.next_msn = o.msn;
            self.next_part = o.first_part;
            self.pending_discontinuity |= o.discontinuity;
        }
        self.paused = false;
        Ok(())
    }

    /// Close the open segment: its parts become ranges of one buffer. A GAP segment is kept (listed
    /// with EXT-X-GAP) but not returned: there is nothing to record.
    pub(super) fn close(&mut self) -> Option<ClosedSegment> {
        let open = self.open.take()?;
        self.next_msn = open.msn + 1;
        let total = open.parts.iter().map(|p| p.0.len()).sum();
        let mut buf = Vec::with_capacity(total);
        let mut parts = Vec::with_capacity(open.parts.len());
        let mut key_chunks = Vec::new();
        for (bytes, duration, independent, key) in &open.parts {
            let at = buf.len();
            if let Some((off, len)) = key {
                key_chunks.push((off + at as u64, *len));
            }
            buf.extend_from_slice(bytes);
            parts.push(PartMeta {
                range: at..buf.len(),
                duration: *duration,
                independent: *independent,
            });
        }
        let duration = parts.iter().map(|p| p.duration).sum::<f64>();
        self.max_segment = self.max_segment.max(duration);
        let mut seg = Segment {
            msn: open.msn,
            first_part: open.first_part,
            bytes: Bytes::from(buf),
            parts,
            duration,
            pdt: open.pdt,
            discontinuity: open.discontinuity,
            init_gen: open.init_gen,
            key_chunks,
            start: open.start,
            ticks: open.end.saturating_sub(open.start),
            epoch: open.epoch,
            frames: 0,
        };
        if seg.is_gap() {
            self.segments.push_back(seg);
            return None;
        }
        if self.info.kind == upcast_core::demux::TrackKind::Video {
            seg.frames = super::lookup::samples(&seg.bytes, &self.info.init);
        }
        let closed = ClosedSegment {
            track: self.name.clone(),
            msn: seg.msn,
            bytes: seg.bytes.clone(),
            duration,
            pdt: seg.pdt,
            discontinuity: seg.discontinuity,
            init: self.init(seg.init_gen).unwrap_or_default(),
            key_chunks: seg.key_chunks.clone(),
        };
        self.segments.push_back(seg);
        Some(closed)
    }

    /// The segments the playlist lists.
    pub(super) fn listed(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().skip(self.retired)
    }

    /// Slide the window to `dvr` seconds: older segments leave the playlist (one is always listed) but
    /// stay served for the window's length plus a segment (RFC 8216 § 6.2.2: a removed segment stays
    /// available for its duration plus the playlist's), then go.
    pub(super) fn slide(&mut self, dvr: f64) {
        loop {
            let listed = self.duration();
            let first = self.listed().next().map(|s| (s.duration, s.discontinuity));
            match first {
                Some((d, disc)) if self.segments.len() - self.retired > 1 && listed - d >= dvr => {
                    self.retired += 1;
                    if disc {
                        self.discontinuity_sequence += 1;
                    }
                }
                _ => break,
            }
        }
        let keep = dvr + self.max_segment;
        while self.retired > 0 {
            let retired: f64 = self
                .segments
                .iter()
                .take(self.retired)
                .map(|s| s.duration)
                .sum();
            if retired <= keep {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Drop the oldest complete segment (and init segments no one refers to any more); its size.
    pub(super) fn pop_oldest(&mut self) -> Option<usize> {
        let seg = self.segments.pop_front()?;
        if self.retired > 0 {
            self.retired -= 1;
        } else if seg.discontinuity {
            self.discontinuity_sequence += 1;
        }
        let oldest_gen = self
            .segments
            .front()
            .map(|s| s.init_gen)
            .or(self.open.as_ref().map(|o| o.init_gen))
            .unwrap_or_else(|| self.init_gen());
        while self.inits.len() > 1 && self.inits.front().is_some_and(|(g, _)| *g < oldest_gen) {
            self.inits.pop_front();
        }
        let oldest_epoch = (self.segments.front().map(|s| s.epoch))
            .or(self.open.as_ref().map(|o| o.epoch))
            .unwrap_or(seg.epoch);
        while self.anchors.len() > 1 && self.anchors.front().is_some_and(|a| a.epoch < oldest_epoch)
        {
            self.anchors.pop_front();
        }
        Some(seg.bytes.len())
    }
}
