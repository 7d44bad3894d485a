//! Fragmented MP4 input: the fuzzed bytes are the movie fragments (moof + mdat pairs) of a file whose ftyp
//! and moov (with mvex/trex) are the fragmented fixture's, so mutations land on tfhd, tfdt and trun. A
//! refused input is fine; a packaged one must hold every invariant of `check_package`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FRAGMENTED: &[u8] = include_bytes!("../../../tests/fixtures/h264_aac_fragmented.mp4");

fuzz_target!(|fragments: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_fmp4_fragments(FRAGMENTED, fragments) {
        panic!("invariant violated: {v}");
    }
});
