//! The adaptive ladder: the source copied as the top rung (when its key frames allow), plus renditions the
//! browser encodes with WebCodecs and hands back chunk by chunk. This module plans the rungs, muxes the
//! encoder's chunks into CMAF segments on the copy rung's timeline, and writes every playlist. Pure code:
//! the browser bindings are `web::ladder`.

pub mod audio;
pub mod codecs;
pub mod config_record;
mod describe;
pub mod entry;
pub mod job;
pub mod mux;
pub mod plan;
pub mod planned;
pub mod resume;
pub mod timeline;

pub use audio::AudioEncoding;
pub use job::{LadderJob, LadderSummary, SampleTable, SourceInfo};
pub use plan::{candidates, propose, Candidate, Encodable, Proposal};
pub use planned::PlannedAudio;

/// A completed file: its path in the package and its bytes.
pub type OutFile = (String, Vec<u8>);
