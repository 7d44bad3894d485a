//! Storyboards: the seek-bar thumbnails of a video. The browser draws one tile every few seconds into
//! sprite sheets (`storyboard/sheet_001.webp`, or `.jpg` where it cannot encode WebP); this module decides
//! the tiling ([`plan`]), writes the WebVTT thumbnail track that names each tile (`storyboard/storyboard.vtt`,
//! cues whose payload is `sheet_001.webp#xywh=x,y,w,h`, the form video.js, Vidstack, JW Player and Mux
//! Player read; [`vtt::write`]) and checks one ([`vtt::check`]) — the CLI's `validate`, the origin on
//! publish and the browser all run the same check. [`image`] reads a sheet's pixel size from its header;
//! [`dash`] announces the sheets in the MPD as a DASH-IF thumbnails AdaptationSet.
//!
//! Pure: bytes and numbers in, text and findings out; no clock, no file system.

pub mod dash;
pub mod image;
pub mod plan;
pub mod vtt;

pub use plan::{plan, Plan, Tile};
