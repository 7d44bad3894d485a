//! The part being filled: samples (decode order) until the part target, then written as CMAF chunks
//! with the core's fragment writer. A part that starts with a video key frame writes that frame as a
//! chunk of its own, so an I-frame playlist can point at it ([`Part::key_chunk`]).

use super::Part;
use crate::cmaf::fragment::{fragment_header, OutSample};
use crate::error::{Error, Result};

/// One sample placed in a part: timing in track ticks.
pub(crate) struct Placed {
    pub dts: u64,
    pub out: OutSample,
    pub data: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct OpenPart {
    samples: Vec<Placed>,
    ticks: u64,
    starts_segment: bool,
}

impl OpenPart {
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    pub fn bytes(&self) -> usize {
        self.samples.iter().map(|s| s.data.len()).sum()
    }

    pub fn push(&mut self, s: Placed, starts_segment: bool) {
        if self.samples.is_empty() {
            self.starts_segment = starts_segment;
        }
        self.ticks += u64::from(s.out.duration);
        self.samples.push(s);
    }

    /// Write the part (nothing when empty). `seq` is the last fragment sequence number used; `video`
    /// says whether a leading key frame gets a chunk of its own.
    pub fn close(&mut self, seq: &mut u32, timescale: u32, video: bool) -> Result<Option<Part>> {
        let samples = std::mem::take(&mut self.samples);
        let ticks = std::mem::take(&mut self.ticks);
        let Some(first) = samples.first() else {
            return Ok(None);
        };
        let (start, independent) = (first.dts, first.out.sync);
        let split = if video && independent {
            1
        } else {
            samples.len()
        };
        let mut bytes = Vec::with_capacity(samples.iter().map(|s| s.data.len() + 32).sum());
        let mut key_chunk = None;
        let (head, tail) = samples.split_at(split);
        for (n, chunk) in [head, tail].into_iter().enumerate() {
            let Some(c0) = chunk.first() else {
                continue;
            };
            *seq = seq
                .checked_add(1)
                .ok_or_else(|| Error::TooLarge("fragment sequence number past 2^32".into()))?;
            let outs: Vec<OutSample> = chunk.iter().map(|s| s.out).collect();
            let at = bytes.len() as u64;
            bytes.extend_from_slice(&fragment_header(*seq, c0.dts, &outs)?);
            for s in chunk {
                bytes.extend_from_slice(&s.data);
            }
            if n == 0 && video && independent {
                key_chunk = Some((at, bytes.len() as u64 - at));
            }
        }
        Ok(Some(Part {
            bytes,
            start,
            duration: ticks,
            timescale,
            independent,
            starts_segment: std::mem::take(&mut self.starts_segment),
            key_chunk,
        }))
    }
}
