//! Fuzz target: see `strata::fuzzing::engine_ops`: an operation sequence
//! (writes, batches, TTLs, counters, scans, snapshots, flushes, compactions,
//! reopens and crashes) run against the database and a `BTreeMap` model.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata::fuzzing::engine_ops(data);
});
