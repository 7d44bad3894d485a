//! Walk the Segment: Info and Tracks are read into memory (bounded), Clusters are walked header by header
//! (known or unknown size: MediaRecorder writes live clusters of unknown size), and each SimpleBlock or
//! Block yields its frames' byte ranges and timestamps without reading their payload.

use std::collections::BTreeMap;

use super::ebml::{self, read_header, uint, Element};
use super::tracks::{read_tracks, timestamp_scale, TrackInfo};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::source::Source;

/// One frame as stored: where its bytes are and its block's timestamp (TimestampScale ticks).
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub offset: u64,
    pub size: u32,
    pub ts: i64,
    pub key: bool,
    /// Position in its block's lace and the lace's frame count (0 of 1 without lacing).
    pub lace: (u16, u16),
    /// BlockDuration, TimestampScale ticks.
    pub block_duration: Option<u64>,
}

/// Everything read from a Segment.
pub struct SegmentRead {
    pub scale: u64,
    pub tracks: Vec<TrackInfo>,
    pub frames: BTreeMap<u64, Vec<Frame>>,
}

/// Largest Info or Tracks element read into memory, and the most bytes of a laced block read for its
/// lace header.
const MAX_HEADER_ELEMENT: u64 = 16 << 20;
const MAX_LACE_HEADER: u64 = 64 << 10;

struct Walk<'a> {
    src: &'a dyn Source,
    limits: &'a Limits,
    elements: u64,
    frames: BTreeMap<u64, Vec<Frame>>,
    total: u64,
}

pub fn read_segment(src: &dyn Source, seg: &Element, limits: &Limits) -> Result<SegmentRead> {
    let end = seg.end(src.len());
    let mut w = Walk {
        src,
        limits,
        elements: 0,
        frames: BTreeMap::new(),
        total: 0,
    };
    let (mut scale, mut tracks) = (1_000_000, None);
    let mut pos = seg.data_start();
    let mut clusters = 0usize;
    while pos < end {
        let el = w.header(pos, end, "Segment")?;
        match el.id {
            ebml::INFO => scale = timestamp_scale(&w.small(&el, "Segment/Info")?, el.data_start())?,
            ebml::TRACKS => {
                let data = w.small(&el, "Segment/Tracks")?;
                tracks = Some(read_tracks(&data, el.data_start(), limits.max_tracks)?);
            }
            ebml::CLUSTER => {
                let path = format!("Segment/Cluster[{clusters}]");
                clusters += 1;
                pos = w.cluster(&el, end, &path)?;
                continue;
            }
            ebml::SEGMENT | ebml::EBML => {
                return Err(Error::malformed(
                    format!("Segment/{}", ebml::name(el.id)),
                    el.start,
                    "a second Segment or EBML header inside the Segment (concatenated files?)",
                ))
            }
            _ => {}
        }
        pos = el.end(end);
    }
    let tracks =
        tracks.ok_or_else(|| Error::malformed("Segment", seg.start, "has no Tracks element"))?;
    Ok(SegmentRead {
        scale,
        tracks,
        frames: w.frames,
    })
}

impl Walk<'_> {
    fn header(&mut self, at: u64, end: u64, path: &str) -> Result<Element> {
        self.elements += 1;
        let most = self.limits.max_fragment_samples.saturating_mul(4);
        if self.elements > most {
            return Err(Error::limit(path, at, format!("more than {most} elements")));
        }
        read_header(self.src, at, end, path)
    }

    /// A header element's data, read into memory.
    fn small(&self, el: &Element, path: &str) -> Result<Vec<u8>> {
        let size = el.size.unwrap_or(u64::MAX);
        if size > MAX_HEADER_ELEMENT {
            return Err(Error::limit(
                path,
                el.start,
                format!("{size} bytes; the limit is {MAX_HEADER_ELEMENT}"),
            ));
        }
        self.src.read_vec(el.data_start(), size)
    }

    /// Walk one Cluster; returns where the next Segment-level element starts.
    fn cluster(&mut self, c: &Element, seg_end: u64, path: &str) -> Result<u64> {
        let end = c.end(seg_end);
        let mut ts: Option<i64> = None;
        let mut pos = c.data_start();
        while pos < end {
            let el = self.header(pos, end, path)?;
            if c.size.is_none() && ebml::SEGMENT_LEVEL.contains(&el.id) {
                return Ok(pos);
            }
            let here = format!("{path}/{}", ebml::name(el.id));
            match el.id {
                ebml::CLUSTER_TIMESTAMP => {
                    let v = uint(&self.small(&el, &here)?, &here, el.start)?;
                    ts = Some(i64::try_from(v).map_err(|_| {
                        Error::malformed(&here, el.start, format!("timestamp {v} is too large"))
                    })?);
                }
                ebml::SIMPLE_BLOCK | ebml::BLOCK_GROUP => {
                    let base = ts.ok_or_else(|| {
                        Error::malformed(&here, el.start, "a block before the Cluster's Timestamp")
                    })?;
                    if el.id == ebml::SIMPLE_BLOCK {
                        self.block(&el, base, None, &here)?;
                    } else {
                        self.group(&el, base, &here)?;
                    }
                }
                _ => {}
            }
            pos = el.end(end);
        }
        Ok(end)
    }

    /// A BlockGroup: its Block, key unless a ReferenceBlock says otherwise, and its BlockDuration.
    fn group(&mut self, g: &Element, base: i64, path: &str) -> Result<()> {
        let end = g.end(g.data_start());
        let (mut block, mut key, mut duration) = (None, true, None);
        let mut pos = g.data_start();
        while pos < end {
            let el = self.header(pos, end, path)?;
            match el.id {
                ebml::BLOCK if block.is_some() => {
                    return Err(Error::malformed(
                        path,
                        el.start,
                        "a second Block in a BlockGroup",
                    ))
                }
                ebml::BLOCK => block = Some(el),
                ebml::REFERENCE_BLOCK => key = false,
                ebml::BLOCK_DURATION => {
                    let p = format!("{path}/BlockDuration");
                    duration = Some(uint(&self.small(&el, &p)?, &p, el.start)?);
                }
                _ => {}
            }
            pos = el.end(end);
        }
        let b = block.ok_or_else(|| Error::malformed(path, g.start, "has no Block"))?;
        self.block(&b, base, Some((key, duration)), &format!("{path}/Block"))
    }

    /// A SimpleBlock (`group` None: the key flag is in the header) or a BlockGroup's Block (§ 10).
    fn block(
        &mut self,
        b: &Element,
        base: i64,
        group: Option<(bool, Option<u64>)>,
        path: &str,
    ) -> Result<()> {
        let size = b.size.unwrap_or(0);
        let head = self
            .src
            .read_vec(b.data_start(), size.min(MAX_LACE_HEADER))?;
        let bad = |msg: String| Error::malformed(path, b.start, msg);
        let (n_len, track) =
            super::lacing::vint(&head).ok_or_else(|| bad("track number cut short".into()))?;
        let rel = head
            .get(n_len..n_len + 2)
            .map(|t| i16::from_be_bytes([t[0], t[1]]))
            .ok_or_else(|| bad("block header cut short".into()))?;
        let flags = *head
            .get(n_len + 2)
            .ok_or_else(|| bad("block header cut short".into()))?;
        let (key, block_duration) = match group {
            Some(g) => g,
            None => (flags & 0x80 != 0, None),
        };
        let ts = base
            .checked_add(i64::from(rel))
            .ok_or_else(|| bad("timestamp overflows".into()))?;
        let sizes = super::lacing::frame_sizes(&head, n_len + 3, size, flags, path, b.start)?;
        let count =
            u16::try_from(sizes.frames.len()).map_err(|_| bad("too many laced frames".into()))?;
        self.total += u64::from(count);
        if self.total > self.limits.max_fragment_samples {
            return Err(Error::limit(
                path,
                b.start,
                format!("more than {} frames", self.limits.max_fragment_samples),
            ));
        }
        let mut offset = b.data_start() + sizes.header_len;
        let list = self.frames.entry(track).or_default();
        for (k, &s) in sizes.frames.iter().enumerate() {
            let size = u32::try_from(s).map_err(|_| bad(format!("a frame of {s} bytes")))?;
            list.push(Frame {
                offset,
                size,
                ts,
                key,
                lace: (u16::try_from(k).unwrap_or(u16::MAX), count),
                block_duration,
            });
            offset += s;
        }
        Ok(())
    }
}
