//! Live: encoder output in, CMAF parts out. One muxer for every live source (RTMP remux at the origin, the
//! browser's WebCodecs rungs): each track's samples become parts (one or more moof + mdat chunks, about
//! the part target long), a part that begins with a key frame may begin a segment, and a segment is the
//! concatenation of its parts. Pure code: no clocks, no I/O.
//!
//! [`flv`] reads RTMP's FLV tag bodies (legacy and Enhanced RTMP), [`LiveMuxer`] turns a whole publish
//! into [`LiveEvent`]s, one [`LiveTrack`] per track (usable alone for WebCodecs chunks).

pub mod config;
pub mod flv;
mod flv_ex;
pub mod fuzz_run;
mod muxer;
mod part;
mod sps;
mod stats;
#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "check", not(target_arch = "wasm32")))]
mod tests_ffmpeg;
mod track;

pub use muxer::{LiveEvent, LiveMuxer};
pub use stats::TrackStats;
pub use track::{LiveTrack, Role, Sample};

/// The muxer's knobs and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveOptions {
    /// A part is at most this long (a single longer frame makes a part of its own).
    pub part_target_us: i64,
    /// A key frame starts a new segment once the open one is at least this long.
    pub min_segment_us: i64,
    /// A video track with no key frame for longer than this fails.
    pub max_key_interval_us: i64,
    /// Decode times may step forward at most this much between two frames of a track.
    pub max_jump_us: i64,
    /// A frame larger than this is refused.
    pub max_frame_bytes: usize,
    /// How long the frames of a following track wait for the leading video track to reach their time
    /// (to learn where segments start) before they are muxed without it.
    pub follower_wait_us: i64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            part_target_us: 500_000,
            min_segment_us: 1_000_000,
            max_key_interval_us: 30_000_000,
            max_jump_us: 10_000_000,
            max_frame_bytes: 32 << 20,
            follower_wait_us: 3_000_000,
        }
    }
}

/// One LL-HLS part of one track: whole CMAF chunks (moof + mdat), ready to serve as they are. A segment
/// is the concatenation of its parts' bytes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub bytes: Vec<u8>,
    /// Decode time of the first sample, in `timescale` ticks.
    pub start: u64,
    /// Ticks from `start` to the end of the last sample.
    pub duration: u64,
    pub timescale: u32,
    /// The first sample is a sync sample: a player can start decoding here (`INDEPENDENT=YES`).
    pub independent: bool,
    /// The first part of a new segment (always `independent` for video).
    pub starts_segment: bool,
    /// Where the key frame's own chunk (moof + mdat) lies in `bytes`, when the part starts with one:
    /// `(offset, length)`, what an I-frame playlist's byte range points at.
    pub key_chunk: Option<(u64, u64)>,
}

impl Part {
    pub fn duration_secs(&self) -> f64 {
        self.duration as f64 / f64::from(self.timescale.max(1))
    }
}

/// What a live track is, once its decoder configuration is known: enough for a multivariant playlist
/// and a status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    pub kind: crate::demux::TrackKind,
    /// RFC 6381 string for CODECS.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub sample_rate: u32,
    pub channels: u16,
    /// The init segment (ftyp + moov) every part of this track follows.
    pub init: Vec<u8>,
}
