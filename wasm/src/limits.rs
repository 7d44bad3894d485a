//! Bounds on what an input may ask of us. Every default has a test that a file just over it is refused.

/// Configurable limits applied while reading untrusted MP4/MOV files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest moov box read into memory.
    pub max_moov_bytes: u64,
    /// Largest ftyp box.
    pub max_ftyp_bytes: u64,
    /// Deepest nesting of container boxes inside the moov (moov itself is depth 1).
    pub max_depth: usize,
    /// Most sample descriptions in one stsd.
    pub max_stsd_entries: u32,
    /// Most tracks in one movie.
    pub max_tracks: usize,
    /// Most top-level boxes scanned before giving up (a file of millions of 8-byte boxes is hostile).
    pub max_top_level_boxes: usize,
    /// Samples per track may not exceed the moov's size divided by this (each sample costs at least 4 bytes
    /// of stsz in an honest file; a constant-size stsz with a huge count is how a 100-byte moov asks for
    /// billions of samples).
    pub moov_bytes_per_sample: u64,
    /// Largest moof box of a fragmented input read into memory.
    pub max_moof_bytes: u64,
    /// Most samples all the fragments of a fragmented input may declare together (about 10 hours of 60 fps
    /// video with 48 kHz AAC); each costs 32 bytes of memory.
    pub max_fragment_samples: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_moov_bytes: 256 << 20,
            max_ftyp_bytes: 1024,
            max_depth: 16,
            max_stsd_entries: 1024,
            max_tracks: 32,
            max_top_level_boxes: 100_000,
            moov_bytes_per_sample: 4,
            max_moof_bytes: 16 << 20,
            max_fragment_samples: 4_000_000,
        }
    }
}

impl Limits {
    /// The most samples one track of a moov of `moov_len` bytes may declare.
    pub fn max_samples(&self, moov_len: u64) -> u64 {
        moov_len / self.moov_bytes_per_sample.max(1)
    }
}
