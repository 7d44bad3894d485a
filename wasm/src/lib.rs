//! upcast core: MP4/MOV in, CMAF HLS package out. Pure code (no clocks, threads or file system beyond the
//! native-only [`source::FileSource`]) so that it builds and tests natively and runs in the browser as wasm.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod codec;
pub mod error;
pub mod source;

pub use error::{Error, Result};
pub use source::Source;
pub mod boxes;
pub mod codec;
pub mod demux;
pub mod limits;

pub use limits::Limits;
pub mod cmaf;
pub mod hls;
pub mod package;
pub mod plan;
pub mod summary;

pub use package::{segment, Package, SegmentOptions};
