//! [`Op`]: one write of the workload, as the expected-state log records it
//! and as the model applies it.
//!
//! Text form (one token list, keys never contain spaces):
//! `put KEY`, `ttl KEY MS` (a TTL long enough never to expire in a run),
//! `exp KEY MS` (a TTL of at most [`MAX_SHORT_TTL_MS`]: expired by the time
//! anything checks it), `del KEY`, `batch GROUP:p,GROUP:d,...` (put or
//! delete every key of each group), `incr COUNTER DELTA`.

use std::collections::BTreeMap;

use crate::keyspace::{OpId, group_keys, value};

/// The longest TTL of an `exp` op. Checks of a crashed directory wait this
/// long (plus clock granularity) after the child died, so every such value
/// has expired when they look.
pub(crate) const MAX_SHORT_TTL_MS: u64 = 5;

/// A thread's keys and their values: the model a recovered state is
/// compared with (an expired value is absent).
pub(crate) type KeyMap = BTreeMap<Vec<u8>, Vec<u8>>;

/// What a batch does to one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupWrite {
    /// Puts every key of the group.
    Put,
    /// Deletes every key of the group.
    Delete,
}

/// One write of the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `put(key, value)`.
    Put { key: String },
    /// `put_with_ttl(key, value, ttl)` with a TTL far beyond the run.
    PutTtl { key: String, ttl_ms: u64 },
    /// `put_with_ttl(key, value, ttl)` with `ttl <= MAX_SHORT_TTL_MS`.
    PutExpired { key: String, ttl_ms: u64 },
    /// `delete(key)`.
    Delete { key: String },
    /// `write(batch)` putting or deleting every key of each group.
    Batch { groups: Vec<(String, GroupWrite)> },
    /// `increment(key, delta)` of a shared counter.
    Increment { key: String, delta: i64 },
}

impl Op {
    /// The text form (see the module doc).
    pub(crate) fn encode(&self) -> String {
        match self {
            Self::Put { key } => format!("put {key}"),
            Self::PutTtl { key, ttl_ms } => format!("ttl {key} {ttl_ms}"),
            Self::PutExpired { key, ttl_ms } => format!("exp {key} {ttl_ms}"),
            Self::Delete { key } => format!("del {key}"),
            Self::Batch { groups } => {
                let parts: Vec<String> = groups
                    .iter()
                    .map(|(g, w)| {
                        let w = match w {
                            GroupWrite::Put => 'p',
                            GroupWrite::Delete => 'd',
                        };
                        format!("{g}:{w}")
                    })
                    .collect();
                format!("batch {}", parts.join(","))
            }
            Self::Increment { key, delta } => format!("incr {key} {delta}"),
        }
    }

    /// Parses [`Op::encode`]'s output; `None` if malformed.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut words = text.split(' ');
        let kind = words.next()?;
        let key = words.next()?.to_owned();
        let number = words.next();
        let op = match (kind, number) {
            ("put", None) => Self::Put { key },
            ("del", None) => Self::Delete { key },
            ("ttl", Some(n)) => Self::PutTtl {
                key,
                ttl_ms: n.parse().ok()?,
            },
            ("exp", Some(n)) => Self::PutExpired {
                key,
                ttl_ms: n.parse().ok()?,
            },
            ("incr", Some(n)) => Self::Increment {
                key,
                delta: n.parse().ok()?,
            },
            ("batch", None) => {
                let mut groups = Vec::new();
                for part in key.split(',') {
                    let (g, w) = part.rsplit_once(':')?;
                    let w = match w {
                        "p" => GroupWrite::Put,
                        "d" => GroupWrite::Delete,
                        _ => return None,
                    };
                    groups.push((g.to_owned(), w));
                }
                Self::Batch { groups }
            }
            _ => return None,
        };
        if words.next().is_some() {
            return None;
        }
        Some(op)
    }

    /// Applies the op, as written by `id`, to a thread's key map (counters
    /// are not in it: increments change nothing here).
    pub(crate) fn apply(&self, id: OpId, keys: &mut KeyMap) {
        match self {
            Self::Put { key } | Self::PutTtl { key, .. } => {
                keys.insert(key.clone().into_bytes(), value(key, id));
            }
            Self::PutExpired { key, .. } | Self::Delete { key } => {
                keys.remove(key.as_bytes());
            }
            Self::Batch { groups } => {
                for (group, write) in groups {
                    for key in group_keys(group) {
                        match write {
                            GroupWrite::Put => {
                                let v = value(&key, id);
                                keys.insert(key.into_bytes(), v);
                            }
                            GroupWrite::Delete => {
                                keys.remove(key.as_bytes());
                            }
                        }
                    }
                }
            }
            Self::Increment { .. } => {}
        }
    }

    /// The keys the op writes (a counter for an increment).
    pub(crate) fn keys(&self) -> Vec<String> {
        match self {
            Self::Put { key }
            | Self::PutTtl { key, .. }
            | Self::PutExpired { key, .. }
            | Self::Delete { key }
            | Self::Increment { key, .. } => vec![key.clone()],
            Self::Batch { groups } => groups
                .iter()
                .flat_map(|(g, _)| group_keys(g).collect::<Vec<_>>())
                .collect(),
        }
    }

    /// True for a batch.
    pub(crate) fn is_batch(&self) -> bool {
        matches!(self, Self::Batch { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips_through_its_text() {
        let ops = [
            Op::Put {
                key: "t00/k0001".into(),
            },
            Op::PutTtl {
                key: "t00/k0002".into(),
                ttl_ms: 3_600_000,
            },
            Op::PutExpired {
                key: "t00/k0003".into(),
                ttl_ms: 0,
            },
            Op::Delete {
                key: "t00/k0004".into(),
            },
            Op::Batch {
                groups: vec![
                    ("t00/g01/".into(), GroupWrite::Put),
                    ("t00/g07/".into(), GroupWrite::Delete),
                ],
            },
            Op::Increment {
                key: "ctr/3".into(),
                delta: 42,
            },
        ];
        for op in ops {
            assert_eq!(Op::parse(&op.encode()), Some(op.clone()), "{}", op.encode());
        }
        assert_eq!(Op::parse("put a b"), None);
        assert_eq!(Op::parse("batch t00/g01/:x"), None);
        assert_eq!(Op::parse("incr ctr/1 x"), None);
    }

    #[test]
    fn a_batch_puts_or_deletes_whole_groups() {
        let mut keys = KeyMap::new();
        let id = OpId { round: 1, op: 1 };
        let put = Op::Batch {
            groups: vec![("t00/g01/".into(), GroupWrite::Put)],
        };
        put.apply(id, &mut keys);
        assert_eq!(keys.len(), 4);
        let del = Op::Batch {
            groups: vec![("t00/g01/".into(), GroupWrite::Delete)],
        };
        del.apply(OpId { round: 1, op: 2 }, &mut keys);
        assert!(keys.is_empty());
    }
}
