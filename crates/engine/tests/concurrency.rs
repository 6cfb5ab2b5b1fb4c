//! `Db` under concurrent use, with 4 KiB memtables so rotations, background
//! flushes and write stalls happen during the runs:
//! * readers never see a key go back to an older version, and every scan is
//!   one consistent cut of each writer's sequence of puts; at the end (and
//!   after a reopen) every key holds its last written version;
//! * concurrent `increment`s are atomic: counters end at the exact sum, each
//!   increment sees a distinct previous value, and the sums survive a reopen;
//! * a batch is never seen half-applied by a snapshot or a scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use strata::{Bytes, Db, Options, WriteBatch};
use strata_core::{FaultFs, FileSystem};

const DIR: &str = "/db";

fn small_options(fs: &FaultFs) -> Options {
    Options::default()
        .file_system(Arc::new(fs.clone()))
        .memtable_size(4096)
        .max_immutable_memtables(1)
        .block_size(512)
}

fn open_fresh() -> (FaultFs, Db) {
    let fs = FaultFs::new();
    fs.create_dir_all(Path::new(DIR)).unwrap();
    let db = Db::open(DIR, small_options(&fs)).unwrap();
    (fs, db)
}

fn reopen(fs: &FaultFs, db: Db) -> Db {
    db.close().unwrap();
    drop(db);
    Db::open(DIR, small_options(fs)).unwrap()
}

/// The items of a scan, unwrapped and copied.
fn owned(it: impl Iterator<Item = strata::Result<(Bytes, Bytes)>>) -> Vec<(Vec<u8>, Vec<u8>)> {
    it.map(|kv| {
        let (k, v) = kv.unwrap();
        (k.to_vec(), v.to_vec())
    })
    .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

// ------------------------------------------------ versions never go back

const WRITERS: usize = 4;
const OWN_KEYS: usize = 4;
const SHARED_KEYS: usize = 3;
const VERSIONS: usize = 1000;

fn own_key(w: usize, k: usize) -> String {
    format!("own-w{w}-k{k}")
}

fn shared_key(k: usize) -> String {
    format!("shared-k{k}")
}

/// `v{version:04}-w{writer}` plus padding, so a memtable holds few of them.
fn versioned(version: usize, writer: usize) -> String {
    format!("v{version:04}-w{writer}-{}", "x".repeat(60))
}

/// `(version, writer)` from a value written by [`versioned`].
fn parse_versioned(v: &[u8]) -> (usize, usize) {
    let s = text(v);
    let (ver, rest) = s.strip_prefix('v').unwrap().split_once("-w").unwrap();
    let (writer, _) = rest.split_once('-').unwrap();
    (ver.parse().unwrap(), writer.parse().unwrap())
}

/// What one reader has seen: the highest version per (key, writer).
#[derive(Default)]
struct Seen(HashMap<(String, usize), usize>);

impl Seen {
    fn observe(&mut self, key: &str, value: &[u8], how: &str) {
        let (ver, writer) = parse_versioned(value);
        let last = self.0.entry((key.to_owned(), writer)).or_insert(ver);
        assert!(
            ver >= *last,
            "{how}: {key} went back from v{last} to v{ver} (writer {writer})"
        );
        *last = ver;
    }
}

fn reader(db: &Db, stop: &AtomicBool, id: usize) -> usize {
    let mut seen = Seen::default();
    let mut rounds = 0usize;
    while !stop.load(Ordering::Acquire) || rounds < 5 {
        rounds += 1;
        // Point reads: a key once seen never disappears (nothing is deleted).
        for w in 0..WRITERS {
            for k in 0..OWN_KEYS {
                let key = own_key(w, k);
                match db.get(&key).unwrap() {
                    Some(v) => seen.observe(&key, &v, "get"),
                    None => assert!(
                        !seen.0.contains_key(&(key.clone(), w)),
                        "get: {key} vanished"
                    ),
                }
            }
        }
        for k in 0..SHARED_KEYS {
            let key = shared_key(k);
            if let Some(v) = db.get(&key).unwrap() {
                seen.observe(&key, &v, "get");
            }
        }
        // A scan is one snapshot: writer w puts k0, k1, .. of version i in
        // that order, so its keys' versions in one scan are non-increasing
        // from k0 and span at most one step.
        let reverse = (rounds + id).is_multiple_of(2);
        let it = db.prefix("own-");
        let items: Vec<_> = if reverse {
            it.rev().map(Result::unwrap).collect()
        } else {
            it.map(Result::unwrap).collect()
        };
        let mut per_writer: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (k, v) in &items {
            let key = text(k);
            seen.observe(&key, v, if reverse { "reverse scan" } else { "scan" });
            let (ver, w) = parse_versioned(v);
            per_writer.entry(w).or_default().push(ver);
        }
        for (w, mut vers) in per_writer {
            if reverse {
                vers.reverse();
            }
            let first = vers[0];
            assert!(
                vers.windows(2).all(|p| p[0] >= p[1]) && vers.iter().all(|&v| v + 1 >= first),
                "scan is not a consistent cut of writer {w}: {vers:?}"
            );
        }
        for (k, v) in db.prefix("shared-").map(Result::unwrap) {
            seen.observe(&text(&k), &v, "scan");
        }
    }
    rounds
}

fn check_final_versions(db: &Db, what: &str) {
    let last = VERSIONS - 1;
    for w in 0..WRITERS {
        for k in 0..OWN_KEYS {
            let v = db.get(own_key(w, k)).unwrap().unwrap();
            assert_eq!(text(&v), versioned(last, w), "{what}: {}", own_key(w, k));
        }
    }
    for k in 0..SHARED_KEYS {
        let v = db.get(shared_key(k)).unwrap().unwrap();
        // Whichever writer committed last, it wrote its last version.
        assert_eq!(parse_versioned(&v).0, last, "{what}: {}", shared_key(k));
    }
    let n = db.scan::<&str, _>(..).count();
    assert_eq!(n, WRITERS * OWN_KEYS + SHARED_KEYS, "{what}: key count");
}

#[test]
fn readers_never_see_versions_go_back() {
    let (fs, db) = open_fresh();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + 2));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, start) = (db.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for i in 0..VERSIONS {
                    for k in 0..OWN_KEYS {
                        db.put(own_key(w, k), versioned(i, w)).unwrap();
                    }
                    db.put(shared_key(i % SHARED_KEYS), versioned(i, w))
                        .unwrap();
                }
                // Every shared key ends on this writer's last version.
                for k in 0..SHARED_KEYS {
                    db.put(shared_key(k), versioned(VERSIONS - 1, w)).unwrap();
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|id| {
            let (db, stop, start) = (db.clone(), Arc::clone(&stop), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                reader(&db, &stop, id)
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Release);
    for t in readers {
        assert!(t.join().unwrap() >= 5);
    }

    let stats = db.stats();
    assert!(stats.flushes >= 5, "flushes during the run: {stats:?}");
    assert_eq!(
        stats.last_seqno as usize,
        WRITERS * (VERSIONS * (OWN_KEYS + 1) + SHARED_KEYS)
    );
    check_final_versions(&db, "after the run");
    db.flush().unwrap();
    check_final_versions(&db, "after flush");
    let db = reopen(&fs, db);
    check_final_versions(&db, "after reopen");
    db.close().unwrap();
}

// ------------------------------------------------ counters

const COUNTER_THREADS: usize = 8;
const INCREMENTS: usize = 500;

/// Thread `t`'s `i`-th delta for counter `c`: counter 0 only goes up (so
/// every increment of it returns a distinct value); the others mix signs.
fn delta(c: usize, t: usize, i: usize) -> i64 {
    let x = ((t * 7919 + i * 104_729 + c * 31) % 41) as i64;
    if c == 0 { x + 1 } else { x - 20 }
}

#[test]
fn concurrent_increments_sum_exactly() {
    let (fs, db) = open_fresh();
    let start = Arc::new(Barrier::new(COUNTER_THREADS));
    let threads: Vec<_> = (0..COUNTER_THREADS)
        .map(|t| {
            let (db, start) = (db.clone(), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let mut returned = Vec::new();
                for i in 0..INCREMENTS {
                    let c = (t + i) % 3;
                    let now = db
                        .increment(format!("counter-{c}"), delta(c, t, i))
                        .unwrap();
                    if c == 0 {
                        returned.push(now);
                    }
                    // Padding, so the tiny memtables rotate between increments.
                    if i % 4 == 0 {
                        db.put(format!("pad-{t}-{i}"), "p".repeat(200)).unwrap();
                    }
                }
                returned
            })
        })
        .collect();
    let mut returned = Vec::new();
    for t in threads {
        returned.extend(t.join().unwrap());
    }

    let mut sums = [0i64; 3];
    for t in 0..COUNTER_THREADS {
        for i in 0..INCREMENTS {
            let c = (t + i) % 3;
            sums[c] += delta(c, t, i);
        }
    }
    let distinct: HashSet<_> = returned.iter().collect();
    assert_eq!(
        distinct.len(),
        returned.len(),
        "two increments saw the same value"
    );
    assert_eq!(returned.iter().max(), Some(&sums[0]));
    assert!(db.stats().flushes >= 3, "{:?}", db.stats());

    let check = |db: &Db, what: &str| {
        for (c, sum) in sums.iter().enumerate() {
            let v = db.get(format!("counter-{c}")).unwrap().unwrap();
            assert_eq!(text(&v), sum.to_string(), "{what}: counter-{c}");
        }
    };
    check(&db, "after the run");
    let db = reopen(&fs, db);
    check(&db, "after reopen");
    // Counting goes on from the recovered value.
    assert_eq!(db.increment("counter-1", 1).unwrap(), sums[1] + 1);
    db.close().unwrap();
}

// ------------------------------------------------ batches are atomic

const BATCH_KEYS: usize = 5;
const GENERATIONS: usize = 1500;

fn gen_value(g: usize) -> String {
    format!("{g:06}-{}", "g".repeat(150))
}

fn batch_key(k: usize) -> String {
    format!("batch-k{}", k + 1)
}

/// The generation every batch key holds in `items`, which must be all of
/// them with one value.
fn one_generation(items: &[(Vec<u8>, Vec<u8>)], how: &str) -> usize {
    assert_eq!(items.len(), BATCH_KEYS, "{how}: keys {items:?}");
    let gens: Vec<usize> = items
        .iter()
        .map(|(_, v)| text(v)[..6].parse().unwrap())
        .collect();
    assert!(
        gens.iter().all(|&g| g == gens[0]),
        "{how}: half-applied batch, generations {gens:?}"
    );
    gens[0]
}

#[test]
fn batches_are_never_seen_half_applied() {
    let (_fs, db) = open_fresh();
    let write_gen = |db: &Db, g: usize| {
        let mut batch = WriteBatch::new();
        for k in 0..BATCH_KEYS {
            batch
                .put(batch_key(k).as_bytes(), gen_value(g).as_bytes())
                .unwrap();
        }
        db.write(batch).unwrap();
    };
    write_gen(&db, 0);

    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|id| {
            let (db, stop) = (db.clone(), Arc::clone(&stop));
            thread::spawn(move || {
                let mut last = 0;
                let mut rounds = 0usize;
                while !stop.load(Ordering::Acquire) || rounds < 5 {
                    rounds += 1;
                    let snap = db.snapshot();
                    let items = if (rounds + id).is_multiple_of(2) {
                        owned(snap.prefix("batch-"))
                    } else {
                        let mut v = owned(snap.prefix("batch-").rev());
                        v.reverse();
                        v
                    };
                    let g = one_generation(&items, "snapshot scan");
                    assert!(g >= last, "generation went back from {last} to {g}");
                    last = g;
                    // Point reads through the same snapshot agree with its scan.
                    let gets: Vec<_> = (0..BATCH_KEYS)
                        .map(|k| {
                            let key = batch_key(k);
                            let v = snap.get(&key).unwrap().unwrap().to_vec();
                            (key.into_bytes(), v)
                        })
                        .collect();
                    assert_eq!(one_generation(&gets, "snapshot gets"), g);
                    drop(snap);
                    // A plain scan is a snapshot of its own.
                    let g2 = one_generation(&owned(db.prefix("batch-")), "db scan");
                    assert!(g2 >= last, "generation went back from {last} to {g2}");
                    last = g2;
                }
                rounds
            })
        })
        .collect();
    // A second writer adds unrelated keys, so batches are committed in
    // groups with other writes and memtables rotate between them.
    let noise = {
        let (db, stop) = (db.clone(), Arc::clone(&stop));
        thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Acquire) {
                db.put(format!("noise-{}", i % 50), "n".repeat(100))
                    .unwrap();
                i += 1;
            }
        })
    };
    for g in 1..GENERATIONS {
        write_gen(&db, g);
    }
    stop.store(true, Ordering::Release);
    for t in readers {
        assert!(t.join().unwrap() >= 5);
    }
    noise.join().unwrap();
    assert!(db.stats().flushes >= 5, "{:?}", db.stats());
    assert_eq!(
        one_generation(&owned(db.prefix("batch-")), "at the end"),
        GENERATIONS - 1
    );
    db.close().unwrap();
}
