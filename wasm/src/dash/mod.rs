//! MPEG-DASH (ISO/IEC 23009-1): the static MPD written beside `master.m3u8` from the same renditions, so
//! one set of CMAF segments serves HLS and DASH players. XML through quick-xml's serde support, both ways:
//! the writer serializes [`model::Mpd`] and the checker (`check/dash*.rs`) parses an MPD back into it.

pub mod model;
pub mod refs;
pub mod template;
pub mod write;

pub use model::Mpd;
pub use refs::package_references;
pub use write::mpd;
