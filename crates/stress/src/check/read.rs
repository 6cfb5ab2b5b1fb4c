//! Reading a recovered database whole, three ways that must agree.

use strata::Db;

use crate::op::KeyMap;
use crate::violation::{Violation, ViolationKind};

/// Every key and value in `db`. A forward scan (keys strictly ascending), a
/// reverse scan (its mirror image) and a get of every key found, and of
/// every key in `also_get` (expected keys, which must then be absent if the
/// scan did not find them), must agree.
pub(super) fn read_all(
    db: &Db,
    also_get: impl Iterator<Item = Vec<u8>>,
) -> Result<KeyMap, Violation> {
    let read_err = |what: &str, e: strata::Error| {
        Violation::new(
            ViolationKind::Engine,
            format!("{what} of the recovered database: {e}"),
        )
    };
    let mut forward: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for kv in db.scan::<&[u8], _>(..) {
        let (k, v) = kv.map_err(|e| read_err("forward scan", e))?;
        if let Some((last, _)) = forward.last()
            && k.as_ref() <= last.as_slice()
        {
            return Err(disagree(format!(
                "forward scan yields {} after {}",
                String::from_utf8_lossy(&k),
                String::from_utf8_lossy(last)
            )));
        }
        forward.push((k.to_vec(), v.to_vec()));
    }
    let mut reverse_len = 0usize;
    for (i, kv) in db.scan::<&[u8], _>(..).rev().enumerate() {
        let (k, v) = kv.map_err(|e| read_err("reverse scan", e))?;
        let mirror = forward
            .len()
            .checked_sub(i + 1)
            .and_then(|j| forward.get(j));
        if mirror.is_none_or(|(fk, fv)| fk.as_slice() != k.as_ref() || fv.as_slice() != v.as_ref())
        {
            return Err(disagree(format!(
                "reverse scan yields {} at position {i} from the end; the forward scan has {}",
                String::from_utf8_lossy(&k),
                mirror.map_or_else(
                    || "nothing there".into(),
                    |(fk, _)| String::from_utf8_lossy(fk).into_owned()
                )
            )));
        }
        reverse_len += 1;
    }
    if reverse_len != forward.len() {
        return Err(disagree(format!(
            "reverse scan yields {reverse_len} keys, the forward scan {}",
            forward.len()
        )));
    }
    let found: KeyMap = forward.into_iter().collect();
    let extra: Vec<Vec<u8>> = also_get.filter(|k| !found.contains_key(k)).collect();
    for key in found.keys().chain(extra.iter()) {
        let got = db.get(key).map_err(|e| read_err("get", e))?;
        if got.as_deref() != found.get(key).map(Vec::as_slice) {
            return Err(disagree(format!(
                "get of {} returns {}, the scan {}",
                String::from_utf8_lossy(key),
                if got.is_some() { "a value" } else { "nothing" },
                if found.contains_key(key) {
                    "a different value or one"
                } else {
                    "no value"
                }
            )));
        }
    }
    Ok(found)
}

fn disagree(detail: String) -> Violation {
    Violation::new(ViolationKind::ReadsDisagree, detail)
}
