//! Fuzz target: see `strata_server::fuzzing::http_request`: arbitrary
//! requests through the server's router and its decoders.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    strata_server::fuzzing::http_request(data);
});
