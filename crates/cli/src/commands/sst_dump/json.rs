//! The JSON form of `strata sst dump`: one document, keys and values in
//! the CLI's display form (text as is, other bytes quoted and escaped).

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Map, Value, json};
use strata_core::{Error, InternalKey, ValueKind};
use strata_sstable::inspect::TableEntry;
use strata_sstable::{BlockHandle, TableInspector};

use super::{VALUE_SHOWN, compression_name, kind_name};
use crate::escape::{display, display_cut};

/// The JSON dump: one document on stdout, with an `error` object (and exit
/// code 1) if an entry or the check failed.
pub(super) fn dump(t: &TableInspector, limit: Option<usize>) -> anyhow::Result<ExitCode> {
    let mut doc = header(t);
    let mut failure = None;
    if let Some(limit) = limit {
        let mut entries = Vec::new();
        for entry in t.entries().take(limit) {
            match entry {
                Ok(entry) => entries.push(entry_value(&entry)),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        doc.insert("entries".into(), Value::Array(entries));
    }
    if failure.is_none() {
        match t.verify() {
            Ok(check) => {
                doc.insert(
                    "check".into(),
                    json!({ "ok": true, "blocks": check.blocks, "entries": check.entries }),
                );
            }
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = &failure {
        doc.insert("check".into(), json!({ "ok": false }));
        doc.insert("error".into(), error(e));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&Value::Object(doc))?
    )?;
    out.flush()?;
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Everything `open` read (file, footer, properties, filter, index) as
/// an object.
fn header(t: &TableInspector) -> Map<String, Value> {
    let f = t.footer();
    let p = t.properties();
    let handle = |h: BlockHandle| json!({ "offset": h.offset, "size": h.size });
    let key = |k: &Option<InternalKey>| k.as_ref().map_or(Value::Null, key_value);
    let index: Vec<Value> = t
        .index()
        .iter()
        .map(|e| {
            json!({
                "separator": key_value(&e.separator),
                "offset": e.handle.offset,
                "size": e.handle.size,
            })
        })
        .collect();
    let doc = json!({
        "file": t.path().display().to_string(),
        "file_size": t.file_size(),
        "footer": {
            "offset": f.offset,
            "format_version": f.format_version,
            "checksum": f.checksum,
            "checksum_type": "crc32c_masked",
            "magic": display(&f.magic),
            "index": handle(f.index),
            "properties": handle(f.properties),
            "filter": f.filter.map(handle),
        },
        "properties": {
            "entries": p.num_entries,
            "deletions": p.num_deletions,
            "expiring": p.num_expiring,
            "shadowed": p.num_shadowed,
            "data_blocks": p.num_data_blocks,
            "smallest_key": key(&p.smallest_key),
            "largest_key": key(&p.largest_key),
            "min_seqno": p.min_seqno,
            "max_seqno": p.max_seqno,
            "min_time_ms": p.min_time_ms,
            "max_time_ms": p.max_time_ms,
            "max_expiry_ms": p.max_expiry_ms,
            "raw_key_bytes": p.raw_key_bytes,
            "raw_value_bytes": p.raw_value_bytes,
            "data_size": p.data_size,
            "index_size": p.index_size,
            "filter_size": p.filter_size,
            "compression": compression_name(p.compression),
            "block_size": p.block_size,
            "restart_interval": p.restart_interval,
            "bloom_bits_per_key": p.bloom_bits_per_key,
        },
        "filter": t.filter().map(|f| json!({
            "offset": f.handle.offset,
            "size": f.handle.size,
            "bit_array_bytes": f.bit_array_bytes,
            "probes": f.probes,
        })),
        "index": index,
    });
    match doc {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An internal key: `{key, seqno, kind}`.
fn key_value(k: &InternalKey) -> Value {
    json!({ "key": display(&k.user_key), "seqno": k.seqno, "kind": kind_name(k.kind) })
}

/// One entry; `value` (`null` for a delete) is cut as in the text form,
/// `value_len` is the whole length.
fn entry_value(e: &TableEntry) -> Value {
    let k = &e.key;
    let value = (k.kind != ValueKind::Delete).then(|| display_cut(&e.value, VALUE_SHOWN));
    json!({
        "key": display(&k.user_key),
        "seqno": k.seqno,
        "kind": kind_name(k.kind),
        "expires_at_ms": e.expires_at_ms,
        "value": value,
        "value_len": e.value.len(),
    })
}

/// `{file, offset, reason, message}` for corruption, `{message}` otherwise.
pub(super) fn error(e: &Error) -> Value {
    match e {
        Error::Corruption {
            file,
            offset,
            reason,
        } => json!({
            "file": file.display().to_string(),
            "offset": offset,
            "reason": reason,
            "message": e.to_string(),
        }),
        other => json!({ "message": other.to_string() }),
    }
}
