//! The text form of `strata sst dump`: labelled lines per section, the
//! index as a table, one line per entry.

use std::io::Write;
use std::process::ExitCode;

use strata_core::{InternalKey, ValueKind};
use strata_sstable::inspect::TableEntry;
use strata_sstable::{BlockHandle, TableInspector};

use super::{VALUE_SHOWN, compression_name, kind_name};
use crate::escape::{display, display_cut};
use crate::format::{exact_bytes, table, utc};

/// The text dump; `limit`: how many entries to print (`None`: no entries
/// section).
pub(super) fn dump(t: &TableInspector, limit: Option<usize>) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    out.write_all(header_text(t).as_bytes())?;
    if let Some(limit) = limit {
        writeln!(out, "\nentries")?;
        let mut shown = 0usize;
        for entry in t.entries().take(limit) {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    out.flush()?;
                    return Err(e.into());
                }
            };
            writeln!(out, "  {}", entry_text(&entry))?;
            shown += 1;
        }
        let total = t.properties().num_entries;
        if (shown as u64) < total {
            writeln!(out, "({shown} of {total} entries shown: --limit)")?;
        } else {
            writeln!(out, "({})", count(shown, "entry"))?;
        }
    }
    out.flush()?;
    let check = t.verify()?;
    writeln!(
        out,
        "\ncheck: ok ({}, {} read: checksums, key order, index, filter and properties agree)",
        count(check.blocks, "block"),
        count(check.entries, "entry")
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Everything `open` read: file, footer, properties, filter and index.
fn header_text(t: &TableInspector) -> String {
    let f = t.footer();
    let p = t.properties();
    let line = |label: &str, value: String| format!("  {label:<15} {value}\n");
    let mut s = format!(
        "table {}, {}\n",
        t.path().display(),
        exact_bytes(t.file_size())
    );

    s.push_str(&format!("\nfooter (at offset {})\n", f.offset));
    s.push_str(&line("format version", f.format_version.to_string()));
    s.push_str(&line("magic", display(&f.magic)));
    s.push_str(&line(
        "checksum",
        format!("{:#010x} (masked CRC-32C; so is every block's)", f.checksum),
    ));
    s.push_str(&line("index block", handle_text(f.index)));
    s.push_str(&line("properties", handle_text(f.properties)));
    s.push_str(&line(
        "filter block",
        f.filter.map_or("none".into(), handle_text),
    ));

    s.push_str("\nproperties\n");
    s.push_str(&line(
        "entries",
        format!(
            "{} ({} deletions, {} expiring)",
            p.num_entries, p.num_deletions, p.num_expiring
        ),
    ));
    // Older versions below a newer one of the same key; a table written
    // before properties version 2 did not count them.
    let shadowed = p.num_shadowed.map_or_else(
        || "unknown (properties version 1)".into(),
        |n| format!("{n} older versions of keys"),
    );
    s.push_str(&line("shadowed", shadowed));
    s.push_str(&line("data blocks", p.num_data_blocks.to_string()));
    let key = |k: &Option<InternalKey>| k.as_ref().map_or("none".into(), key_text);
    s.push_str(&line("smallest key", key(&p.smallest_key)));
    s.push_str(&line("largest key", key(&p.largest_key)));
    s.push_str(&line(
        "seqnos",
        format!("{} ..= {}", p.min_seqno, p.max_seqno),
    ));
    s.push_str(&line(
        "write times",
        format!("{} ..= {}", utc(p.min_time_ms), utc(p.max_time_ms)),
    ));
    let expiry = if p.max_expiry_ms == 0 {
        "none".into()
    } else {
        utc(p.max_expiry_ms)
    };
    s.push_str(&line("latest expiry", expiry));
    s.push_str(&line("key bytes", exact_bytes(p.raw_key_bytes)));
    s.push_str(&line("value bytes", exact_bytes(p.raw_value_bytes)));
    s.push_str(&line("data size", exact_bytes(p.data_size)));
    s.push_str(&line("index size", exact_bytes(p.index_size)));
    s.push_str(&line("filter size", exact_bytes(p.filter_size)));
    s.push_str(&line(
        "options",
        format!(
            "compression {}, {}-byte blocks, a restart every {} keys, {} bloom bits per key",
            compression_name(p.compression),
            p.block_size,
            p.restart_interval,
            p.bloom_bits_per_key
        ),
    ));

    s.push_str("\nfilter\n");
    match t.filter() {
        Some(filter) => s.push_str(&line(
            "bloom",
            format!(
                "{}-byte bit array, {} probes",
                filter.bit_array_bytes, filter.probes
            ),
        )),
        None => s.push_str("  none\n"),
    }

    s.push_str(&format!(
        "\nindex ({})\n",
        count(t.index().len(), "data block")
    ));
    let rows: Vec<Vec<String>> = t
        .index()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            vec![
                i.to_string(),
                e.handle.offset.to_string(),
                e.handle.size.to_string(),
                e.separator.seqno.to_string(),
                kind_name(e.separator.kind).to_owned(),
                display(&e.separator.user_key),
            ]
        })
        .collect();
    let index = table(
        &["block", "offset", "size", "seqno", "kind", "separator key"],
        &[4, 5],
        &rows,
    );
    for row in index.lines() {
        s.push_str("  ");
        s.push_str(row);
        s.push('\n');
    }
    s
}

/// `1 entry`, `2 entries`, `0 blocks`.
fn count(n: impl std::fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    match (n.as_str(), noun.strip_suffix('y')) {
        ("1", _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {noun}s"),
    }
}

/// `offset N, M bytes (+5 trailer)`.
fn handle_text(h: BlockHandle) -> String {
    format!("offset {}, {} bytes (+5 trailer)", h.offset, h.size)
}

/// `KEY @SEQNO KIND`.
fn key_text(k: &InternalKey) -> String {
    format!(
        "{} @{} {}",
        display(&k.user_key),
        k.seqno,
        kind_name(k.kind)
    )
}

/// `KEY  @SEQNO  KIND[ (expires TIME)]  [VALUE]`.
fn entry_text(e: &TableEntry) -> String {
    let k = &e.key;
    let mut s = format!(
        "{}  @{}  {}",
        display(&k.user_key),
        k.seqno,
        kind_name(k.kind)
    );
    if let Some(at) = e.expires_at_ms {
        s.push_str(&format!(" (expires {})", utc(at)));
    }
    if k.kind != ValueKind::Delete {
        s.push_str("  ");
        s.push_str(&display_cut(&e.value, VALUE_SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::InternalKey;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "entry"), "1 entry");
        assert_eq!(count(0, "entry"), "0 entries");
        assert_eq!(count(16, "data block"), "16 data blocks");
    }

    #[test]
    fn keys_show_seqno_and_kind() {
        let key = InternalKey::new(&b"a\x00"[..], 7, ValueKind::Delete);
        assert_eq!(key_text(&key), "\"a\\x00\" @7 delete");
    }
}
