//! WebM / Matroska input: bytes → EBML walk → plan → CMAF + playlists → read back. A refused input is fine
//! (an error naming the element and byte offset); a packaged one must hold every invariant of
//! `check_package`. Seeds: the WebM and Matroska fixtures (unknown-size clusters, lacing, B-frames).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_file(data) {
        panic!("invariant violated: {v}");
    }
});
