//! The segment_roundtrip checks with only the moov fuzzed: it is placed after an ftyp and a zero-filled
//! mdat (`upcast_core::invariants::file_with_moov`), so mutations land on the sample tables.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upcast_core::invariants::{check_file, file_with_moov};

fuzz_target!(|moov: &[u8]| {
    if let Err(v) = check_file(&file_with_moov(moov)) {
        panic!("invariant violated: {v}");
    }
});
