//! Arbitrary bytes as a run of RTMP audio / video tag bodies through the live muxer: each body is parsed
//! and muxed or refused, never a panic, and parts never go back in time
//! (`upcast_core::live::fuzz_run::check_tag_run`, which also replays tests/fuzz_regressions/flv_tag/).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::live::fuzz_run::check_tag_run(data) {
        panic!("{v}");
    }
});
