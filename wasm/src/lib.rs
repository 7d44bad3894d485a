//! upcast core: MP4/MOV in, CMAF HLS package out. Pure code (no clocks, threads or file system beyond the
//! native-only [`source::FileSource`]) so that it builds and tests natively and runs in the browser as wasm.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod codec;
pub mod error;
pub mod source;

pub use error::{Error, Result};
pub use source::Source;
