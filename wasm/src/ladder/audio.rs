//! The muxer of the encoded audio rendition (AAC or Opus from an AudioEncoder): timescale = sample rate,
//! decode times continuous from the first chunk's timestamp, one fragment per segment, segments cut at
//! the first chunk at or after each video boundary (as the copy package cuts audio).

use super::resume::SegmentRecord;
use super::OutFile;
use crate::cmaf::fragment::{fragment_header, styp, OutSample};
use crate::cmaf::init::{init_segment, InitTrack};
use crate::cmaf::{MediaSegment, Rendition};
use crate::codec::SampleEntry;
use crate::demux::{TrackHeader, TrackKind};
use crate::error::{Error, Result};
use crate::layout;
use crate::num::{f64_to_u32, f64_to_u64};

/// What the AudioEncoder was configured with, and its output's decoder configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioEncoding {
    /// "mp4a.40.2" (or another mp4a.40.x) or "opus".
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
    /// AudioSpecificConfig for AAC, OpusHead for Opus.
    pub description: Option<Vec<u8>>,
}

pub struct AudioMuxer {
    id: String,
    language: String,
    timescale: u32,
    entry: SampleEntry,
    init: Vec<u8>,
    init_sent: bool,
    /// Video boundaries (presentation ticks at `v_timescale`) after the first.
    cuts: Vec<u64>,
    v_timescale: u32,
    next_cut: usize,
    next_dts: Option<u64>,
    seg_start: u64,
    samples: Vec<OutSample>,
    payload: Vec<u8>,
    seq: u32,
    segments: Vec<MediaSegment>,
    /// Per segment: its chunks and the last fragment sequence number (for the page's resume records).
    made: Vec<(u64, u32)>,
    /// The timestamp (µs) of the first AudioData the encoder was given (the input grid of a resume).
    pub first_input_us: Option<f64>,
    /// After [`AudioMuxer::adopt`]: chunks before this instant (µs) are the restarted encoder's warm-up.
    keep_from_us: Option<f64>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::EncoderOutput(format!("audio: {}", msg.into()))
}

impl AudioMuxer {
    pub fn new(
        enc: &AudioEncoding,
        id: &str,
        language: &str,
        v_timescale: u32,
        cuts: Vec<u64>,
    ) -> Result<AudioMuxer> {
        if enc.sample_rate == 0 || enc.channels == 0 {
            return Err(Error::InvalidOption(format!(
                "audio: {} channels at {} Hz",
                enc.channels, enc.sample_rate
            )));
        }
        let d = enc.description.as_deref();
        let entry = if enc.codec == "opus" {
            super::entry::opus_entry(d, enc.channels)?
        } else if enc.codec.starts_with("mp4a.40.") {
            super::entry::aac_entry(d, enc.channels, enc.sample_rate)?
        } else {
            return Err(Error::InvalidOption(format!(
                "audio: codec '{}': encoded audio is AAC (mp4a.40.x) or Opus",
                enc.codec
            )));
        };
        // Opus always decodes at 48 kHz; AAC at the configured rate.
        let timescale = entry
            .audio
            .as_ref()
            .map_or(enc.sample_rate, |a| a.sample_rate);
        let init = init_segment(&InitTrack {
            kind: TrackKind::Audio,
            timescale,
            language,
            header: TrackHeader {
                flags: 7,
                matrix: [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000],
                width: 0,
                height: 0,
                volume: 0x0100,
                layer: 0,
                alternate_group: 1,
            },
            entry: &entry.bytes,
        })?;
        Ok(AudioMuxer {
            id: id.to_string(),
            language: language.to_string(),
            timescale,
            entry,
            init,
            init_sent: false,
            cuts,
            v_timescale,
            next_cut: 0,
            next_dts: None,
            seg_start: 0,
            samples: Vec::new(),
            payload: Vec::new(),
            seq: 0,
            segments: Vec::new(),
            made: Vec::new(),
            first_input_us: None,
            keep_from_us: None,
        })
    }

    fn ticks(&self, us: f64) -> f64 {
        us * f64::from(self.timescale) / 1e6
    }

    pub fn push(
        &mut self,
        bytes: Vec<u8>,
        timestamp_us: f64,
        duration_us: f64,
    ) -> Result<Vec<OutFile>> {
        if !(timestamp_us.is_finite() && duration_us.is_finite() && duration_us > 0.0) {
            return Err(bad(format!(
                "chunk at {timestamp_us} µs lasting {duration_us} µs"
            )));
        }
        let mut out = Vec::new();
        if !self.init_sent {
            self.init_sent = true;
            out.push((layout::in_dir(&self.id, layout::INIT), self.init.clone()));
        }
        let duration = self.ticks(duration_us).round();
        if !(1.0..=f64::from(u32::MAX)).contains(&duration) {
            return Err(bad(format!("a chunk lasting {duration_us} µs")));
        }
        if let Some(keep) = self.keep_from_us {
            let half = duration_us / 2.0;
            if timestamp_us < keep - half {
                return Ok(out); // the restarted encoder's warm-up
            }
            if timestamp_us > keep + half {
                return Err(bad(format!(
                    "the resumed encoder's first chunk kept is at {timestamp_us} µs, not at the stored \
                     segments' end ({keep} µs): it was not fed on the first run's input grid"
                )));
            }
            self.keep_from_us = None;
        }
        let dts = match self.next_dts {
            Some(d) => d,
            None => {
                let d = f64_to_u64(self.ticks(timestamp_us).round());
                self.seg_start = d;
                // Cuts at or before the first chunk are where it starts already.
                while self.cut_reached(d) {
                    self.next_cut += 1;
                }
                d
            }
        };
        if self.cut_reached(dts) {
            while self.cut_reached(dts) {
                self.next_cut += 1;
            }
            out.push(self.close_segment()?);
            self.seg_start = dts;
        }
        self.samples.push(OutSample {
            size: u32::try_from(bytes.len())
                .map_err(|_| Error::TooLarge("audio: a chunk larger than 4 GiB".into()))?,
            duration: f64_to_u32(duration),
            cts_offset: 0,
            sync: true,
        });
        self.payload.extend_from_slice(&bytes);
        self.next_dts = Some(dts + f64_to_u64(duration));
        Ok(out)
    }

    /// The next video boundary is at or before `dts` (compared exactly across the two timescales).
    fn cut_reached(&self, dts: u64) -> bool {
        self.cuts.get(self.next_cut).is_some_and(|&c| {
            u128::from(dts) * u128::from(self.v_timescale)
                >= u128::from(c) * u128::from(self.timescale)
        })
    }

    fn close_segment(&mut self) -> Result<OutFile> {
        let samples = std::mem::take(&mut self.samples);
        let payload = std::mem::take(&mut self.payload);
        self.seq += 1;
        let mut bytes = styp();
        bytes.extend_from_slice(&fragment_header(self.seq, self.seg_start, &samples)?);
        bytes.extend_from_slice(&payload);
        let k = self.segments.len();
        self.segments.push(MediaSegment {
            len: bytes.len() as u64,
            start: self.seg_start,
            duration: samples.iter().map(|s| u64::from(s.duration)).sum(),
            iframes: Vec::new(),
        });
        self.made.push((samples.len() as u64, self.seq));
        Ok((layout::in_dir(&self.id, &layout::segment_name(k)), bytes))
    }

    /// The record of segment `k` as the page keeps it once the origin has stored it.
    pub fn record(&self, k: usize) -> Option<SegmentRecord> {
        let (s, &(samples, seq)) = (self.segments.get(k)?, self.made.get(k)?);
        Some(SegmentRecord {
            rendition: self.id.clone(),
            fingerprint: self.entry.codec_string.clone(),
            index: k,
            len: s.len,
            start: s.start,
            duration: s.duration,
            timescale: self.timescale,
            samples,
            seq,
            iframes: Vec::new(),
            first_input_us: self.first_input_us,
        })
    }

    /// Resume after `kept` (audio segments 0.. stored by an earlier run, with the same codec): they are
    /// this run's, the next segment starts where the last ends, and chunks before `keep_from_us` (the
    /// restarted encoder's warm-up, see [`super::resume::AUDIO_WARM_UP_CHUNKS`]) are dropped.
    pub fn adopt(&mut self, kept: &[&SegmentRecord], keep_from_us: f64) -> Result<()> {
        let Some(last) = kept.last() else {
            return Ok(());
        };
        if self.next_dts.is_some() || !self.segments.is_empty() {
            return Err(Error::CallOrder(
                "audio: it resumes before its first chunk".into(),
            ));
        }
        if last.timescale != self.timescale {
            return Err(bad(format!(
                "the stored segments are at {} Hz, the encoder at {} Hz",
                last.timescale, self.timescale
            )));
        }
        let next = last.start + last.duration;
        self.segments = kept.iter().map(|r| r.media_segment()).collect();
        self.made = kept.iter().map(|r| (r.samples, r.seq)).collect();
        self.seq = last.seq;
        self.first_input_us = kept[0].first_input_us;
        self.next_dts = Some(next);
        self.seg_start = next;
        self.next_cut = kept.len();
        self.keep_from_us = Some(keep_from_us);
        Ok(())
    }

    pub fn finish(&mut self) -> Result<Vec<OutFile>> {
        if self.samples.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![self.close_segment()?])
    }

    pub fn retained_bytes(&self) -> usize {
        self.payload.len()
            + self.samples.len() * std::mem::size_of::<OutSample>()
            + self.segments.len() * std::mem::size_of::<MediaSegment>()
            + self.init.len()
    }

    pub fn rendition(&self) -> Rendition {
        Rendition {
            id: self.id.clone(),
            kind: TrackKind::Audio,
            timescale: self.timescale,
            language: self.language.clone(),
            entry: self.entry.clone(),
            init: self.init.clone(),
            segments: self.segments.clone(),
            data: Vec::new(),
            display: None,
            frame_rate: None,
        }
    }
}
