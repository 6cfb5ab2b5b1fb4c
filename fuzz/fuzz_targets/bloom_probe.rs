//! Fuzz target: see `strata_sstable::fuzzing::bloom_probe` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata_sstable::fuzzing::bloom_probe(data);
});
