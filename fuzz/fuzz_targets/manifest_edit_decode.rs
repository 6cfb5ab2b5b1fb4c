//! Fuzz target: see `strata::fuzzing::manifest_edit_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata::fuzzing::manifest_edit_decode(data);
});
