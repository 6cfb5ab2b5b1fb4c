//! Fuzz target: see `strata_wal::fuzzing::wal_read` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata_wal::fuzzing::wal_read(data);
});
