//! Reading a [`DbIterator`] the way a [`ScanMode`] says and comparing every
//! step with the model's answer.

use std::collections::VecDeque;

use bytes::Bytes;

use super::args::ScanMode;
use super::model::Pairs;
use crate::{DbIterator, Result};

/// A pair as text for messages: bytes escaped, so any key prints.
type Shown = (String, String);

pub(crate) fn show_bytes(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn show(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<Shown> {
    pairs
        .iter()
        .map(|(k, v)| (show_bytes(k), show_bytes(v)))
        .collect()
}

fn item(x: Option<Result<(Bytes, Bytes)>>, what: &str) -> Option<Shown> {
    match x? {
        Ok((k, v)) => Some((show_bytes(&k), show_bytes(&v))),
        Err(e) => panic!("{what}: the iterator failed: {e}"),
    }
}

/// Reads `it` as `mode` says (a forward or reverse read stops after
/// `limit` items, if given) and asserts each step against `expected`; a read
/// without a limit must then find both ends exhausted.
pub(crate) fn check_iter(
    mut it: DbIterator,
    expected: &Pairs,
    mode: ScanMode,
    limit: Option<u8>,
    what: &str,
) {
    let expected = show(expected);
    let take = limit.map_or(usize::MAX, usize::from);
    match mode {
        ScanMode::Forward | ScanMode::ThenAdvance(_) => {
            let got: Vec<Shown> = (0..take).map_while(|_| item(it.next(), what)).collect();
            let want: Vec<Shown> = expected.into_iter().take(take).collect();
            assert_eq!(got, want, "{what}: forward read (limit {limit:?})");
            if limit.is_some() {
                return;
            }
        }
        ScanMode::Reverse => {
            let got: Vec<Shown> = (0..take)
                .map_while(|_| item(it.next_back(), what))
                .collect();
            let want: Vec<Shown> = expected.into_iter().rev().take(take).collect();
            assert_eq!(got, want, "{what}: reverse read (limit {limit:?})");
            if limit.is_some() {
                return;
            }
        }
        ScanMode::Mixed { steps, fronts } => {
            let mut want: VecDeque<Shown> = expected.into();
            for step in 0..steps.min(8) {
                let front = fronts & (1 << step) != 0;
                let (got, exp) = if front {
                    (item(it.next(), what), want.pop_front())
                } else {
                    (item(it.next_back(), what), want.pop_back())
                };
                assert_eq!(got, exp, "{what}: mixed read, step {step} (front: {front})");
            }
            let rest: Vec<Shown> = std::iter::from_fn(|| item(it.next(), what)).collect();
            assert_eq!(rest, Vec::from(want), "{what}: mixed read, the rest");
        }
    }
    assert!(it.next().is_none(), "{what}: next after the end");
    assert!(it.next_back().is_none(), "{what}: next_back after the end");
}

/// For a snapshot kept across a reopen, whose tables may be gone: what it
/// reads is a prefix of `expected`, and all of it unless the read failed.
pub(crate) fn check_stale_iter(it: DbIterator, expected: &Pairs, what: &str) {
    let expected = show(expected);
    let mut got = Vec::new();
    let mut failed = false;
    for x in it {
        match x {
            Ok((k, v)) => got.push((show_bytes(&k), show_bytes(&v))),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    if failed {
        assert!(
            expected.starts_with(&got),
            "{what}: read {got:?} before failing, not a prefix of {expected:?}"
        );
    } else {
        assert_eq!(got, expected, "{what}");
    }
}
