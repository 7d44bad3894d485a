//! Arbitrary bytes as a CMAF init segment and as a media segment of a real init: Ok or Err, never a panic
//! or a huge allocation (run with -rss_limit_mb=512 -malloc_limit_mb=256).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use upcast_core::cmaf::read::{read_init, InitInfo};

/// The init segment of the committed video-only fixture.
fn init() -> &'static InitInfo {
    static INIT: OnceLock<InitInfo> = OnceLock::new();
    INIT.get_or_init(|| {
        let src = include_bytes!("../../../tests/fixtures/video_only.mp4").to_vec();
        let pkg = upcast_core::segment(&src, &Default::default()).expect("fixture segments");
        read_init(&pkg.renditions[0].init).expect("fixture init reads back")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_cmaf_bytes(data, init()) {
        panic!("invariant violated: {v}");
    }
});
