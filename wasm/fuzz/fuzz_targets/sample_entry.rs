//! Arbitrary bytes as one stsd sample entry: parsed or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = upcast_core::invariants::check_sample_entry(data) {
        panic!("invariant violated: {v}");
    }
});
