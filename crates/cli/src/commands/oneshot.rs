//! `strata get | put | del | scan`: one operation on a closed database,
//! opened for the call.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{DelArgs, GetArgs, KeyFlags, PutArgs, ScanArgs};
use crate::escape::{display, unescape};
use crate::open::{Create, open_db};
use crate::range::ScanRange;

/// The bytes of a command-line argument, escapes decoded if asked.
fn arg_bytes(arg: OsString, flags: &KeyFlags, what: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = arg.into_encoded_bytes();
    if flags.escapes {
        unescape(&bytes).with_context(|| format!("bad escape in the {what}"))
    } else {
        Ok(bytes)
    }
}

pub(crate) fn get(args: GetArgs) -> anyhow::Result<ExitCode> {
    let key = arg_bytes(args.key, &args.flags, "key")?;
    let db = open_db(&args.flags.data.data_dir, Create::Never)?;
    let Some(value) = db.get(&key)? else {
        eprintln!("strata: key {} not found", display(&key));
        return Ok(ExitCode::from(1));
    };
    let mut out = std::io::stdout().lock();
    if args.raw {
        out.write_all(&value)?;
    } else {
        writeln!(out, "{}", display(&value))?;
    }
    out.flush()?;
    db.close()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn put(args: PutArgs) -> anyhow::Result<ExitCode> {
    let key = arg_bytes(args.key, &args.flags, "key")?;
    let value = arg_bytes(args.value, &args.flags, "value")?;
    let db = open_db(&args.flags.data.data_dir, Create::IfMissing)?;
    match args.ttl {
        Some(ttl) => db.put_with_ttl(&key, &value, ttl)?,
        None => db.put(&key, &value)?,
    }
    db.close()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn del(args: DelArgs) -> anyhow::Result<ExitCode> {
    let key = arg_bytes(args.key, &args.flags, "key")?;
    let db = open_db(&args.flags.data.data_dir, Create::Never)?;
    db.delete(&key)?;
    db.close()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let flags = &args.flags;
    let optional = |arg: Option<OsString>, what| arg.map(|a| arg_bytes(a, flags, what)).transpose();
    let range = ScanRange {
        prefix: optional(args.prefix, "prefix")?.unwrap_or_default(),
        start: optional(args.start, "start key")?,
        end: optional(args.end, "end key")?,
    };
    let db = open_db(&flags.data.data_dir, Create::Never)?;
    let iter = range.iter(&db);
    let entries: Box<dyn Iterator<Item = _>> = if args.reverse {
        Box::new(iter.rev())
    } else {
        Box::new(iter)
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut shown = 0;
    for entry in entries {
        if args.limit.is_some_and(|limit| shown >= limit) {
            break;
        }
        let (key, value) = entry?;
        if range.hides(&key) {
            continue;
        }
        writeln!(out, "{}\t{}", display(&key), display(&value))?;
        shown += 1;
    }
    out.flush()?;
    db.close()?;
    Ok(ExitCode::SUCCESS)
}
