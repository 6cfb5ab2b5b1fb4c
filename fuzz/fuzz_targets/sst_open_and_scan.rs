//! Fuzz target: see `strata_sstable::fuzzing::sst_open_and_scan` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata_sstable::fuzzing::sst_open_and_scan(data);
});
