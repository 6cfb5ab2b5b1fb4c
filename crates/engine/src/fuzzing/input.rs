//! The input language of `engine_ops`: how fuzz bytes become a database
//! configuration and a sequence of operations, and back (`encode_ops`, for
//! seeds and tests).
//!
//! Layout: one configuration byte (`Config`), then operations, each an
//! opcode byte (`% 32` picks the kind, `KINDS` gives the weights) and a
//! fixed number of argument bytes for that kind. Bytes past the end read as
//! 0, so every input decodes; at most `MAX_OPS` operations are taken.
//!
//! The arguments (keys, values, bounds, read modes) are in `args`.

use super::args::{BatchOp, Bound, KeyId, Reader, ScanMode, Val, decode_limit, encode_limit};

/// Operations decoded from one input at most: bounds the work per run.
pub const MAX_OPS: usize = 200;

/// Operations in one batch at most.
const MAX_BATCH: u8 = 8;

/// Reopens and crashes one input runs at most (later ones are dropped):
/// each costs an open with its threads.
const MAX_REOPENS: usize = 4;

/// Flushes and compactions one input runs at most (later ones are
/// dropped).
const MAX_COMPACTIONS: usize = 8;

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `Db::put`.
    Put(KeyId, Val),
    /// `Db::put_with_ttl` for `ttl_ms` of the byte.
    PutTtl(KeyId, Val, u8),
    /// `Db::delete`.
    Delete(KeyId),
    /// `Db::write` of 1..=8 operations.
    Batch(Vec<BatchOp>),
    /// `Db::increment` by `delta` of the byte.
    Increment(KeyId, u8),
    /// `Db::get`.
    Get(KeyId),
    /// `Db::scan`.
    Scan(Bound, Bound, ScanMode, Option<u8>),
    /// `Db::prefix` with the first `len % 4` bytes of the key.
    Prefix(KeyId, u8, ScanMode, Option<u8>),
    /// `Db::snapshot`, kept with a copy of the model.
    TakeSnapshot,
    /// `Snapshot::get` on snapshot number `i % count`.
    SnapGet(u8, KeyId),
    /// `Snapshot::scan` on snapshot number `i % count`.
    SnapScan(u8, Bound, Bound, ScanMode),
    /// Drops snapshot number `i % count`.
    DropSnapshot(u8),
    /// `Db::flush`.
    Flush,
    /// `Db::compact`.
    Compact,
    /// `Db::compact_range`.
    CompactRange(Bound, Bound),
    /// Moves the clock by `advance_ms` of the byte.
    Advance(u8),
    /// `Db::close`, then `Db::open` (snapshots taken before stay readable,
    /// or fail, never show wrong data).
    Reopen,
    /// A simulated process crash (the disk keeps what was written, synced or
    /// not), then `Db::open`: every acknowledged write must be there.
    Crash,
}

/// What an opcode means: `KINDS[code % 32]`; repeats set the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Put,
    PutTtl,
    Delete,
    Batch,
    Increment,
    Get,
    Scan,
    Prefix,
    TakeSnapshot,
    SnapGet,
    SnapScan,
    DropSnapshot,
    Flush,
    Compact,
    CompactRange,
    Advance,
    Reopen,
    Crash,
}

const KINDS: [Kind; 32] = {
    use Kind::*;
    [
        Put,
        Put,
        Put,
        Put,
        Put,
        PutTtl,
        PutTtl,
        Delete,
        Delete,
        Delete,
        Batch,
        Batch,
        Increment,
        Increment,
        Get,
        Get,
        Get,
        Scan,
        Scan,
        Scan,
        Prefix,
        TakeSnapshot,
        SnapGet,
        SnapScan,
        DropSnapshot,
        Flush,
        Compact,
        CompactRange,
        Advance,
        Advance,
        Reopen,
        Crash,
    ]
};

/// The opcode `encode_ops` writes for `kind`: its first slot in `KINDS`.
fn opcode(kind: Kind) -> u8 {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

impl Op {
    fn decode(r: &mut Reader<'_>) -> Self {
        let code = r.byte();
        match KINDS
            .get(usize::from(code % 32))
            .copied()
            .unwrap_or(Kind::Get)
        {
            Kind::Put => Op::Put(r.byte(), Val::decode(r)),
            Kind::PutTtl => Op::PutTtl(r.byte(), Val::decode(r), r.byte()),
            Kind::Delete => Op::Delete(r.byte()),
            Kind::Batch => {
                let n = 1 + r.byte() % MAX_BATCH;
                Op::Batch((0..n).map(|_| BatchOp::decode(r)).collect())
            }
            Kind::Increment => Op::Increment(r.byte(), r.byte()),
            Kind::Get => Op::Get(r.byte()),
            Kind::Scan => Op::Scan(
                Bound::decode(r),
                Bound::decode(r),
                ScanMode::decode(r),
                decode_limit(r.byte()),
            ),
            Kind::Prefix => Op::Prefix(
                r.byte(),
                r.byte() % 4,
                ScanMode::decode(r),
                decode_limit(r.byte()),
            ),
            Kind::TakeSnapshot => Op::TakeSnapshot,
            Kind::SnapGet => Op::SnapGet(r.byte(), r.byte()),
            Kind::SnapScan => Op::SnapScan(
                r.byte(),
                Bound::decode(r),
                Bound::decode(r),
                ScanMode::decode(r),
            ),
            Kind::DropSnapshot => Op::DropSnapshot(r.byte()),
            Kind::Flush => Op::Flush,
            Kind::Compact => Op::Compact,
            Kind::CompactRange => Op::CompactRange(Bound::decode(r), Bound::decode(r)),
            Kind::Advance => Op::Advance(r.byte()),
            Kind::Reopen => Op::Reopen,
            Kind::Crash => Op::Crash,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Op::Put(k, v) => {
                out.extend_from_slice(&[opcode(Kind::Put), *k]);
                v.encode(out);
            }
            Op::PutTtl(k, v, t) => {
                out.extend_from_slice(&[opcode(Kind::PutTtl), *k]);
                v.encode(out);
                out.push(*t);
            }
            Op::Delete(k) => out.extend_from_slice(&[opcode(Kind::Delete), *k]),
            Op::Batch(ops) => {
                let n = ops.len().clamp(1, usize::from(MAX_BATCH));
                out.extend_from_slice(&[opcode(Kind::Batch), (n - 1) as u8]);
                for o in ops.iter().take(n) {
                    o.encode(out);
                }
            }
            Op::Increment(k, d) => out.extend_from_slice(&[opcode(Kind::Increment), *k, *d]),
            Op::Get(k) => out.extend_from_slice(&[opcode(Kind::Get), *k]),
            Op::Scan(lo, hi, mode, limit) => {
                out.push(opcode(Kind::Scan));
                lo.encode(out);
                hi.encode(out);
                mode.encode(out);
                out.push(encode_limit(*limit));
            }
            Op::Prefix(k, len, mode, limit) => {
                out.extend_from_slice(&[opcode(Kind::Prefix), *k, *len % 4]);
                mode.encode(out);
                out.push(encode_limit(*limit));
            }
            Op::TakeSnapshot => out.push(opcode(Kind::TakeSnapshot)),
            Op::SnapGet(i, k) => out.extend_from_slice(&[opcode(Kind::SnapGet), *i, *k]),
            Op::SnapScan(i, lo, hi, mode) => {
                out.extend_from_slice(&[opcode(Kind::SnapScan), *i]);
                lo.encode(out);
                hi.encode(out);
                mode.encode(out);
            }
            Op::DropSnapshot(i) => out.extend_from_slice(&[opcode(Kind::DropSnapshot), *i]),
            Op::Flush => out.push(opcode(Kind::Flush)),
            Op::Compact => out.push(opcode(Kind::Compact)),
            Op::CompactRange(lo, hi) => {
                out.push(opcode(Kind::CompactRange));
                lo.encode(out);
                hi.encode(out);
            }
            Op::Advance(a) => out.extend_from_slice(&[opcode(Kind::Advance), *a]),
            Op::Reopen => out.push(opcode(Kind::Reopen)),
            Op::Crash => out.push(opcode(Kind::Crash)),
        }
    }
}

/// The compaction strategy a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Leveled with tiny targets.
    Leveled,
    /// Size-tiered over tiny files.
    SizeTiered,
    /// Time-window (1 s windows) over tiny size-tiered.
    TimeWindow,
    /// Leveled, automatic compaction off: only `compact` merges.
    Manual,
}

/// The database options of a run: the first input byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) strategy: Strategy,
    /// 128-byte blocks (many blocks per table) instead of 4 KiB.
    pub(crate) small_blocks: bool,
    pub(crate) lz4: bool,
    pub(crate) bloom: bool,
    pub(crate) cache: bool,
}

impl Config {
    fn decode(b: u8) -> Self {
        Self {
            strategy: match b % 4 {
                0 => Strategy::Leveled,
                1 => Strategy::SizeTiered,
                2 => Strategy::TimeWindow,
                _ => Strategy::Manual,
            },
            small_blocks: b & 4 != 0,
            lz4: b & 8 != 0,
            bloom: b & 16 != 0,
            cache: b & 32 != 0,
        }
    }
}

/// Decodes a whole input: the configuration and up to `MAX_OPS`
/// operations, of which at most `MAX_REOPENS` reopens and crashes and
/// `MAX_COMPACTIONS` flushes and compactions (the rest are dropped).
pub(crate) fn decode(data: &[u8]) -> (Config, Vec<Op>) {
    let mut r = Reader { data, pos: 0 };
    let config = Config::decode(r.byte());
    let mut ops = Vec::new();
    let (mut reopens, mut compactions) = (0, 0);
    while !r.at_end() && ops.len() < MAX_OPS {
        let op = Op::decode(&mut r);
        let budget = match op {
            Op::Reopen | Op::Crash => &mut reopens,
            Op::Flush | Op::Compact | Op::CompactRange(..) => &mut compactions,
            _ => {
                ops.push(op);
                continue;
            }
        };
        *budget += 1;
        let limit = match op {
            Op::Reopen | Op::Crash => MAX_REOPENS,
            _ => MAX_COMPACTIONS,
        };
        if *budget <= limit {
            ops.push(op);
        }
    }
    (config, ops)
}

/// The input that `decode`s to `config_byte`'s configuration and `ops`
/// (batches clamped to 1..=8 operations, limits to 0..=127): how seeds are
/// written.
pub fn encode_ops(config_byte: u8, ops: &[Op]) -> Vec<u8> {
    let mut out = vec![config_byte];
    for op in ops {
        op.encode(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip() {
        let ops = vec![
            Op::Put(1, Val::Long(3)),
            Op::PutTtl(2, Val::Number(9), 4),
            Op::Batch(vec![
                BatchOp::Put(1, Val::Short(1)),
                BatchOp::PutTtl(3, Val::Long(250), 7),
                BatchOp::Delete(1),
            ]),
            Op::Scan(
                Bound::Included(4),
                Bound::Excluded(30),
                ScanMode::Mixed {
                    steps: 8,
                    fronts: 0b1010_0110,
                },
                Some(5),
            ),
            Op::Prefix(40, 2, ScanMode::ThenAdvance(9), None),
            Op::SnapScan(1, Bound::Unbounded, Bound::Included(0), ScanMode::Reverse),
            Op::CompactRange(Bound::Excluded(2), Bound::Unbounded),
            Op::Crash,
        ];
        for cfg in [0u8, 63] {
            let (config, decoded) = decode(&encode_ops(cfg, &ops));
            assert_eq!(decoded, ops);
            assert_eq!(config, Config::decode(cfg));
        }
    }

    #[test]
    fn every_input_decodes_within_bounds() {
        assert!(decode(&[]).1.is_empty());
        let ops = decode(&[0xff; 10_000]).1;
        assert_eq!(ops, vec![Op::Crash; MAX_REOPENS]);
        let ops = decode(&[0x0e; 10_000]).1;
        assert_eq!(ops.len(), MAX_OPS);
    }
}
