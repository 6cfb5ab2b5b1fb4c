//! The route handlers, one file per group of routes.

pub(crate) mod admin;
pub(crate) mod batch;
pub(crate) mod kv;
pub(crate) mod list;
pub(crate) mod page;
pub(crate) mod seq;
