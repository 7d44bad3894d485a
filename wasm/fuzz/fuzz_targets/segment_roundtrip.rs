//! Bytes → demux → plan → CMAF + playlists → read back: a refused input is fine, a packaged one must hold
//! every invariant of `upcast_core::invariants::check_package`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_file(data) {
        panic!("invariant violated: {v}");
    }
});
