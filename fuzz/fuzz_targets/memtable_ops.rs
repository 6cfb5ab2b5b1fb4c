//! Fuzz target: see `strata_memtable::fuzzing::memtable_ops`: an operation
//! sequence (inserts, gets, scans) checked against a `BTreeMap` model.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata_memtable::fuzzing::memtable_ops(data);
});
