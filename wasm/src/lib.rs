//! upcast core: MP4/MOV in, CMAF HLS package out. Pure code (no clocks, threads or file system beyond the
//! native-only [`source::FileSource`]) so that it builds and tests natively and runs in the browser as wasm.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod boxes;
/// The HLS conformance checker (feature `check`, on by default; the browser's segmenter-only build leaves
/// it out, see origin/scripts/build.sh).
#[cfg(feature = "check")]
pub mod check;
pub mod cmaf;
pub mod codec;
pub mod demux;
pub mod error;
pub mod hls;
pub mod invariants;
pub mod ladder;
pub mod limits;
pub mod package;
pub mod plan;
pub mod source;
pub mod summary;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};
pub use limits::Limits;
pub use package::{segment, Package, SegmentOptions};
pub use source::Source;
