//! `strata sst dump FILE`: a table file's structure as text or JSON, read
//! with [`TableInspector`], then a check of every block
//! ([`TableInspector::verify`]).
//!
//! A damaged file prints what could be read before the damage, then fails
//! with the error naming the file and the offset: nothing if the footer or
//! a meta block is bad (they are read first), the entries before the bad
//! block with `--entries`, everything but the check otherwise. JSON output
//! carries the error in an `error` object as well.

mod json;
mod text;

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;
use strata_core::{Error, StdFs, ValueKind};
use strata_sstable::{CompressionType, TableInspector};

use crate::cli::SstDumpArgs;

/// Bytes of a value shown before it is cut (`strata get --raw` gives all).
pub(super) const VALUE_SHOWN: usize = 64;

pub(crate) fn run(args: SstDumpArgs) -> anyhow::Result<ExitCode> {
    let path = &args.file;
    let table = match TableInspector::open(&StdFs, path) {
        Ok(table) => table,
        // Corruption already names the file and the offset.
        Err(e @ Error::Corruption { .. }) => {
            if args.json {
                let doc = json!({ "file": path.display().to_string(), "error": json::error(&e) });
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
                out.flush()?;
            }
            return Err(e.into());
        }
        // Not chained: `Error::Io` already shows its source.
        Err(e) => bail!("cannot read the table {}: {e}", path.display()),
    };
    let limit = match (args.entries, args.limit) {
        (_, Some(n)) => Some(n),
        (true, None) => Some(usize::MAX),
        (false, None) => None,
    };
    if args.json {
        json::dump(&table, limit)
    } else {
        text::dump(&table, limit)
    }
}
/// How output names a [`ValueKind`] (text and JSON alike).
pub(super) fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Delete => "delete",
        ValueKind::Put => "put",
        ValueKind::PutWithExpiry => "put_with_expiry",
    }
}

/// How output names a [`CompressionType`].
pub(super) fn compression_name(c: CompressionType) -> &'static str {
    match c {
        CompressionType::None => "none",
        CompressionType::Lz4 => "lz4",
    }
}
