//! Where everything in the pristine copy lies: each table's blocks and
//! which block holds each key, each log record's extent.

use std::collections::BTreeMap;
use std::path::Path;

use strata::RecoveryMode;
use strata_core::{FileSystem, StdFs};
use strata_sstable::TableInspector;
use strata_wal::LogReader;

/// What a byte of a table belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Data block `i` (in index order), its trailer included.
    Data(usize),
    Filter,
    Properties,
    Index,
    Footer,
}

/// A block (stored bytes and trailer) or the footer of a table.
#[derive(Debug, Clone, Copy)]
pub struct Structure {
    pub part: Part,
    /// First byte; what a `Corruption` error about it names.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
}

/// A live table, as the pristine copy has it.
#[derive(Debug)]
pub struct TableLayout {
    pub name: String,
    pub level: usize,
    /// User-key range the manifest records.
    pub lo: Vec<u8>,
    pub hi: Vec<u8>,
    /// Data blocks, then filter, properties, index and footer, in file order.
    pub structures: Vec<Structure>,
    /// For each user key in the table, the data block of its newest version.
    pub key_block: BTreeMap<Vec<u8>, usize>,
}

impl TableLayout {
    pub fn covers(&self, key: &[u8]) -> bool {
        self.lo.as_slice() <= key && key <= self.hi.as_slice()
    }

    /// The structure holding byte `offset`.
    pub fn structure_at(&self, offset: u64) -> Structure {
        *self
            .structures
            .iter()
            .find(|s| s.start <= offset && offset < s.end)
            .unwrap_or_else(|| panic!("{}: byte {offset} is in no structure", self.name))
    }
}

/// Live tables in lookup order, with the position of every block and key.
pub fn table_layouts(dir: &Path, state: &strata::manifest::ManifestState) -> Vec<TableLayout> {
    let mut l0: Vec<_> = state.levels()[0].iter().collect();
    l0.sort_by_key(|m| std::cmp::Reverse((m.max_seqno, m.number)));
    let deeper = state.levels()[1..]
        .iter()
        .enumerate()
        .flat_map(|(l, files)| {
            files
                .sorted_by_smallest()
                .into_iter()
                .map(move |m| (l + 1, m))
        });
    l0.into_iter()
        .map(|m| (0, m))
        .chain(deeper)
        .map(|(level, meta)| {
            let name = format!("{:06}.sst", meta.number);
            let table = TableInspector::open(&StdFs, &dir.join(&name)).unwrap();
            let block = |part, h: strata_sstable::BlockHandle| Structure {
                part,
                start: h.offset,
                end: h.offset + h.size + 5,
            };
            let mut structures: Vec<Structure> = table
                .index()
                .iter()
                .enumerate()
                .map(|(i, e)| block(Part::Data(i), e.handle))
                .collect();
            let footer = table.footer();
            structures.extend(footer.filter.map(|h| block(Part::Filter, h)));
            structures.push(block(Part::Properties, footer.properties));
            structures.push(block(Part::Index, footer.index));
            structures.push(Structure {
                part: Part::Footer,
                start: footer.offset,
                end: table.file_size(),
            });
            // Every byte belongs to exactly one structure.
            for pair in structures.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{name}: {structures:?}");
            }
            assert_eq!(structures[0].start, 0);
            let mut key_block = BTreeMap::new();
            for i in 0..table.index().len() {
                for entry in table.data_block(i).unwrap().entries {
                    key_block.entry(entry.key.user_key.to_vec()).or_insert(i);
                }
            }
            TableLayout {
                name,
                level,
                lo: meta.smallest.user_key.to_vec(),
                hi: meta.largest.user_key.to_vec(),
                structures,
                key_block,
            }
        })
        .collect()
}

/// `(start, end)` of each record of the log at `path`.
pub fn record_extents(path: &Path) -> Vec<(u64, u64)> {
    let file = StdFs.open(path).unwrap();
    let len = file.size().unwrap();
    let mut reader = LogReader::new(file, path, RecoveryMode::Strict).unwrap();
    let mut out = Vec::new();
    while reader.next_record().unwrap().is_some() {
        out.push((reader.last_record_offset(), reader.report().valid_len));
    }
    assert_eq!(out.last().map(|r| r.1), Some(len), "{path:?}");
    out
}
