//! CMAF (ISO/IEC 23000-19) writing: init segments, media segments made of fragments, and the zero-copy
//! segment representation ("these header bytes, then these byte ranges of the source").

pub mod data;
pub mod entry;
pub mod fragment;
pub mod init;
mod moof;
pub mod read;
pub mod rendition;
pub mod retime;
pub mod trim;

pub use data::{Chunk, SegmentData};
pub use rendition::{IFrameRef, MediaSegment, Rendition};

/// The track_ID every rendition uses: each init segment holds exactly one track (CMAF 7.3.1).
pub const TRACK_ID: u32 = 1;
