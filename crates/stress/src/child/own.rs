//! [`OwnModel`]: a worker's model of the keys it owns, which its reads are
//! checked against while the child runs.
//!
//! Exact except for short-TTL values: such a value may still be read until
//! its expiry, which is only known to lie before `expires_by_ms` (the time
//! after the put returned, plus the TTL). After that it must read as absent.

use std::collections::BTreeMap;

use crate::keyspace::{OpId, describe, value};
use crate::op::{KeyMap, Op};
use crate::violation::{Violation, ViolationKind};

/// A worker's model of its keys.
#[derive(Debug, Default)]
pub(crate) struct OwnModel {
    /// Keys with a value that does not expire during the run.
    keys: KeyMap,
    /// Keys whose last write was a short-TTL put: the value and a time by
    /// which it has expired.
    expiring: BTreeMap<Vec<u8>, (Vec<u8>, u64)>,
}

impl OwnModel {
    /// A model holding exactly `keys`.
    pub(crate) fn new(keys: KeyMap) -> Self {
        Self {
            keys,
            expiring: BTreeMap::new(),
        }
    }

    /// Records that `op`, issued as `id`, was acknowledged at `now_ms`.
    pub(crate) fn apply(&mut self, op: &Op, id: OpId, now_ms: u64) {
        for key in op.keys() {
            self.expiring.remove(key.as_bytes());
        }
        op.apply(id, &mut self.keys);
        if let Op::PutExpired { key, ttl_ms } = op {
            self.expiring.insert(
                key.clone().into_bytes(),
                (value(key, id), now_ms.saturating_add(*ttl_ms)),
            );
        }
    }

    /// Checks a read of `key` that started at `read_start_ms` and returned
    /// `found`.
    pub(crate) fn check(
        &self,
        key: &[u8],
        found: Option<&[u8]>,
        read_start_ms: u64,
        what: &str,
    ) -> Result<(), Violation> {
        let expected = self.keys.get(key).map(Vec::as_slice);
        if found == expected {
            return Ok(());
        }
        if let Some((v, expires_by)) = self.expiring.get(key) {
            // Not yet surely expired: the short-TTL value may still show.
            if read_start_ms <= *expires_by && found == Some(v.as_slice()) {
                return Ok(());
            }
        }
        let kind = match (expected, found) {
            (Some(_), None) => ViolationKind::LostWrite,
            (_, Some(v)) if crate::keyspace::decode_value(key, v).is_none() => {
                ViolationKind::NeverWritten
            }
            _ => ViolationKind::LostWrite,
        };
        Err(Violation::new(
            kind,
            format!(
                "{what} of {} in the running child: expected {}, found {}",
                String::from_utf8_lossy(key),
                describe(key, expected),
                describe(key, found)
            ),
        ))
    }

    /// Every key the model knows, expiring ones included.
    pub(crate) fn known_keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.keys.keys().chain(self.expiring.keys())
    }
}
