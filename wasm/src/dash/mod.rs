//! MPEG-DASH (ISO/IEC 23009-1): the static MPD written beside `master.m3u8` from the same renditions, so
//! one set of CMAF segments serves HLS and DASH players. XML through quick-xml's event writer and reader, both
//! ways: the writer writes [`model::Mpd`] (`xml_write.rs`) and the checker (`check/dash*.rs`) and the origin
//! parse an MPD back into it (`xml_read.rs`).

pub mod model;
pub mod refs;
pub mod template;
pub mod write;
mod xml_read;
mod xml_write;

pub use model::Mpd;
pub use refs::package_references;
pub use write::mpd;
pub use xml_read::ALLOWED_ELEMENTS;

#[cfg(test)]
mod xml_tests;
