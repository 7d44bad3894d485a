//! Resuming a ladder after a reload or a crashed tab: the page keeps a [`SegmentRecord`] of every encoded
//! segment the origin stored (what the playlists need of it and where its muxer stood after it), and gives
//! back the records of the files the origin still has. Encoding starts again at the first segment any
//! encoded rendition lacks; the segments before it are adopted from their records, so the fragment
//! sequence numbers, decode times and segment names go on exactly as a full run writes them.

use super::plan::Candidate;
use super::timeline::Timeline;
use crate::cmaf::{IFrameRef, MediaSegment};
use serde::{Deserialize, Serialize};

/// Audio chunks fed to a restarted audio encoder and dropped before the first one kept: the encoder's
/// look-ahead (Opus: 6.5 ms plus a 312-sample pre-skip; AAC: 1024 to 2112 samples of delay) is filled by
/// real sound, so the first chunk kept is made as the full run made it.
pub const AUDIO_WARM_UP_CHUNKS: u64 = 4;

/// One stored media segment of an encoded rendition, as the page keeps it (JSON in localStorage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRecord {
    /// The rendition's directory ("v-720p", "audio").
    pub rendition: String,
    /// What the rendition was made with ([`rung_fingerprint`], or the audio codec): a record of another
    /// encoding is not reused.
    pub fingerprint: String,
    /// Segment number from 0 (`seg_00001.m4s` is 0).
    pub index: usize,
    /// Size of the file, bytes (the origin's listing must agree).
    pub len: u64,
    /// tfdt of the segment and its duration, in `timescale` ticks.
    pub start: u64,
    pub duration: u64,
    pub timescale: u32,
    /// Frames (video) or chunks (audio) in the segment.
    pub samples: u64,
    /// The last fragment sequence number written in the segment.
    pub seq: u32,
    /// Each key frame's fragment: offset, length and ticks until the next key frame.
    #[serde(default)]
    pub iframes: Vec<[u64; 3]>,
    /// Audio: the timestamp (µs) of the first AudioData the full run's encoder was given; the input
    /// grid a restarted encoder must be fed on.
    #[serde(default)]
    pub first_input_us: Option<f64>,
}

impl SegmentRecord {
    pub fn media_segment(&self) -> MediaSegment {
        MediaSegment {
            len: self.len,
            start: self.start,
            duration: self.duration,
            iframes: self
                .iframes
                .iter()
                .map(|&[offset, len, duration]| IFrameRef {
                    offset,
                    len,
                    duration,
                })
                .collect(),
        }
    }
}

/// What an encoded rung is made with: a stored segment is reused only by the same encoding.
pub fn rung_fingerprint(r: &Candidate) -> String {
    format!(
        "{} {}x{} {} b/s {} fps",
        r.codec, r.width, r.height, r.bitrate, r.framerate
    )
}

/// Where a resumed audio encode starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioResume {
    /// The first instant (µs) of decoded sound given to the new encoder: on the full run's input grid,
    /// [`AUDIO_WARM_UP_CHUNKS`] chunks before `keep_from_us`.
    pub feed_from_us: f64,
    /// The timestamp (µs) of the first chunk kept: the start of the first missing audio segment.
    pub keep_from_us: f64,
}

/// Where the ladder starts encoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumePoint {
    /// The first segment some encoded rendition lacks (0: from the start).
    pub segment: usize,
    /// Its start on the output timeline, µs (what the page shows as "resuming at m:ss").
    pub at_us: f64,
    /// The decode-order index (into `videoSamples()`) of the key sample the decoder starts at.
    pub video_sample: usize,
    /// Where each rung's encoder starts (µs, in the order the rungs were added): its own first missing
    /// segment's start, at or after `at_us`; frames before it are not given to that rung.
    pub rungs_at_us: Vec<f64>,
    /// Whether any rendition adopted stored segments (false: a run from the start).
    pub resumed: bool,
    /// For re-encoded audio, where its encoder starts (None: no audio is encoded, or from the start).
    pub audio: Option<AudioResume>,
}

/// The leading records of `id` that follow each other from segment 0 and were made with `fingerprint`,
/// each starting where the timeline (video) or the previous record (audio) says it must.
pub fn leading<'a>(
    records: &'a [SegmentRecord],
    id: &str,
    fingerprint: &str,
    starts: impl Fn(usize, Option<&SegmentRecord>) -> Option<u64>,
) -> Vec<&'a SegmentRecord> {
    let mut out: Vec<&SegmentRecord> = Vec::new();
    loop {
        let k = out.len();
        let found = records.iter().find(|r| {
            r.rendition == id
                && r.index == k
                && r.fingerprint == fingerprint
                && r.samples > 0
                && starts(k, out.last().copied()) == Some(r.start)
        });
        match found {
            Some(r) => out.push(r),
            None => return out,
        }
    }
}

/// The start (ticks) video segment `k` must have: the timeline's boundary `k`, when there is one.
pub fn video_start(tl: &Timeline, k: usize) -> Option<u64> {
    (k < tl.boundary_count()).then(|| tl.boundary_or_end(k))
}

/// The start an audio segment must have: the first's is free, each next one follows the previous.
pub fn audio_start(k: usize, prev: Option<&SegmentRecord>, first: u64) -> Option<u64> {
    match (k, prev) {
        (0, _) => Some(first),
        (_, Some(p)) => p.start.checked_add(p.duration),
        _ => None,
    }
}

/// The first segment to make: the fewest leading segments any encoded rendition has (where the decoder
/// starts); never past the last segment (a package whose segments are all stored but whose playlists are
/// not has its last segment made again, and the playlists with it).
pub fn first_missing(present: &[usize], segments: usize) -> usize {
    present
        .iter()
        .copied()
        .min()
        .unwrap_or(0)
        .min(segments.saturating_sub(1))
}

/// Where a restarted audio encoder is fed from and kept from, after `kept` (the audio segments adopted).
pub fn audio_resume(kept: &[&SegmentRecord]) -> Option<AudioResume> {
    let (first, last) = (kept.first()?, kept.last()?);
    let first_input = first.first_input_us?;
    let ts = f64::from(first.timescale.max(1));
    let next = last.start.checked_add(last.duration)?;
    let chunk = last.duration / last.samples.max(1);
    let us = |ticks: u64| ticks as f64 * 1e6 / ts;
    let warm = (AUDIO_WARM_UP_CHUNKS * chunk).min(next - first.start);
    Some(AudioResume {
        feed_from_us: first_input + us(next - first.start - warm),
        keep_from_us: us(next),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, index: usize, start: u64, duration: u64) -> SegmentRecord {
        SegmentRecord {
            rendition: id.into(),
            fingerprint: "fp".into(),
            index,
            len: 1000,
            start,
            duration,
            timescale: 48000,
            samples: duration / 960,
            seq: u32::try_from(index + 1).unwrap(),
            iframes: Vec::new(),
            first_input_us: Some(0.0),
        }
    }

    #[test]
    fn leading_records_stop_at_the_first_gap_or_mismatch() {
        let rs = vec![
            rec("a", 0, 0, 96000),
            rec("a", 1, 96000, 96000),
            rec("a", 3, 288000, 96000),
            rec("b", 0, 0, 96000),
        ];
        let got = leading(&rs, "a", "fp", |k, p| audio_start(k, p, 0));
        assert_eq!(got.len(), 2, "segment 2 is missing");
        assert_eq!(
            leading(&rs, "a", "other", |k, p| audio_start(k, p, 0)).len(),
            0
        );
        // A record that does not start where the previous one ends is not adopted.
        let bad = vec![rec("a", 0, 0, 96000), rec("a", 1, 95040, 96000)];
        assert_eq!(
            leading(&bad, "a", "fp", |k, p| audio_start(k, p, 0)).len(),
            1
        );
    }

    #[test]
    fn first_missing_is_the_earliest_and_never_past_the_last_segment() {
        assert_eq!(first_missing(&[5, 3, 7], 10), 3);
        assert_eq!(first_missing(&[10, 10], 10), 9);
        assert_eq!(first_missing(&[], 10), 0);
    }

    #[test]
    fn audio_resumes_on_the_input_grid_with_warm_up() {
        let a = rec("audio", 0, 960, 96000); // 100 chunks of 960 after a 960-tick start
        let b = rec("audio", 1, 96960, 96000);
        let mut a2 = a.clone();
        a2.first_input_us = Some(20_000.0);
        let r = audio_resume(&[&a2, &b]).unwrap();
        // Next segment at 192960 ticks = 4.02 s; fed from 4 chunks (80 ms) before, on the input grid.
        assert_eq!(r.keep_from_us, 4_020_000.0);
        assert_eq!(r.feed_from_us, 20_000.0 + 4_000_000.0 - 80_000.0);
        let mut none = a.clone();
        none.first_input_us = None;
        assert_eq!(audio_resume(&[&none]), None);
    }
}
