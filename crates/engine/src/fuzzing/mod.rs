//! Fuzz target bodies, called by the cargo-fuzz package in `fuzz/` and
//! replayed over the seed corpus by this crate's tests.
//!
//! Not part of the supported API: hidden from docs, may change at any time.
//! Each body never panics on any input unless the code under test breaks a
//! promise; then it panics with a message saying which.

mod args;
mod engine_ops;
mod input;
mod manifest_edit;
mod model;
mod reads;

pub use args::{BatchOp, Bound, KeyId, ScanMode, Val, key};
pub use engine_ops::{engine_ops, engine_ops_describe};
pub use input::{Op, encode_ops};
pub use manifest_edit::manifest_edit_decode;
