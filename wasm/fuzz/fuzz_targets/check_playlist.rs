//! Arbitrary bytes as an uploaded playlist: the origin's upload check (`hls::uris::package_references`:
//! the URI extractor, the package resolver and the m3u8-rs parse) and the checker's extraction never panic,
//! and nothing hls.js might fetch from an accepted playlist leaves the video (`invariants::check_playlist_bytes`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_playlist_bytes(data) {
        panic!("invariant violated: {v}");
    }
});
