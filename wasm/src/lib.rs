//! upcast core: MP4/MOV, fragmented MP4/CMAF ([`demux::fragmented`]) and WebM/Matroska ([`webm`]) in, CMAF
//! HLS package out; A/V sync from the sources' edit lists without edit lists in the output ([`sync`]). Pure
//! code (no clocks, threads or file system beyond the native-only [`source::FileSource`]) so that it builds
//! and tests natively and runs in the browser as wasm.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod boxes;
pub mod captions;
/// The HLS conformance checker (feature `check`, on by default; the browser's segmenter-only build leaves
/// it out, see www/build.sh).
#[cfg(feature = "check")]
pub mod check;
pub mod cmaf;
pub mod codec;
pub mod dash;
pub mod demux;
pub mod error;
pub mod hls;
pub mod invariants;
pub mod ladder;
pub mod layout;
pub mod limits;
pub mod live;
pub mod num;
pub mod package;
pub mod plan;
pub mod source;
pub mod storyboard;
pub mod summary;
pub mod sync;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod webm;

pub use error::{Error, Result};
pub use limits::Limits;
pub use package::{segment, Package, SegmentOptions};
pub use source::Source;

// talc instead of the standard library's dlmalloc in the browser: the segmenter is 2.3 kB smaller gzipped
// and `segmentFile` on a 4.5 GB file takes 0.35–0.43 s instead of 0.63–0.68 s, for a wasm memory of
// 31.7 MB instead of 29.2 MB at the end.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
