//! [`Worker`]: one thread of the child's workload.
//!
//! Step mix (per mille): 300 puts, 80 long-TTL (ten-year) puts, 50 short-TTL puts,
//! 130 deletes, 160 batches, 120 counter increments, 100 checked gets, 35
//! checked scans of its own keys, 20 checked scans of another thread's keys
//! or the counters; in the last 5 ‰, a flush one time in 20 and a full
//! compaction one in 320 (so about one flush per 4000 steps and one full
//! compaction per 64000), checked gets otherwise. Memtables fill and flush
//! on their own every few hundred writes anyway. Every write is logged before (intent) and after (acknowledged) the
//! engine call; reads are not logged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use strata::{Db, WriteBatch};

use super::ChildConfig;
use super::ChildSummary;
use super::own::OwnModel;
use crate::keyspace::{
    COUNTER_PREFIX, COUNTERS, GROUP_KEYS, GROUPS, OpId, PLAIN_KEYS, counter_key, decode_value,
    group_keys, group_of, group_prefix, mix, plain_key, thread_prefix, value,
};
use crate::log::{LogWriter, thread_log_path};
use crate::op::{GroupWrite, KeyMap, MAX_SHORT_TTL_MS, Op};
use crate::violation::{Violation, ViolationKind};

/// A TTL no run outlives (ten years): the checker treats such values as
/// never expiring, so a `--duration` run longer than the TTL would report
/// them lost.
const LONG_TTL_MS: u64 = 10 * 365 * 24 * 3_600_000;

/// One worker thread's state.
pub(super) struct Worker<'a> {
    db: &'a Db,
    thread: usize,
    threads: usize,
    round: u32,
    rng: StdRng,
    log: LogWriter,
    /// The number of the next op to log (from 1).
    next_op: u64,
    own: OwnModel,
    /// Per counter, the last value this thread's increment returned.
    counters_seen: BTreeMap<String, i64>,
    steps: Option<u64>,
    summary: ChildSummary,
}

impl<'a> Worker<'a> {
    /// Creates the thread's log and reads its keys as they are now.
    pub(super) fn new(db: &'a Db, cfg: &ChildConfig, thread: usize) -> anyhow::Result<Self> {
        let path = thread_log_path(&cfg.work, cfg.round, thread);
        let log = LogWriter::create(
            &path,
            &format!(
                "strata-stress expected-state log: round {} thread {thread} seed {} strategy {} sync {}",
                cfg.round, cfg.seed, cfg.strategy, cfg.sync
            ),
        )?;
        let mut keys = KeyMap::new();
        for kv in db.prefix(thread_prefix(thread)) {
            let (k, v) = kv.context("reading the thread's keys at start")?;
            keys.insert(k.to_vec(), v.to_vec());
        }
        let thread_seed = mix(cfg.seed ^ mix(u64::try_from(thread).unwrap_or(0)));
        Ok(Self {
            db,
            thread,
            threads: cfg.threads,
            round: cfg.round,
            rng: StdRng::seed_from_u64(thread_seed),
            log,
            next_op: 1,
            own: OwnModel::new(keys),
            counters_seen: BTreeMap::new(),
            steps: cfg.steps_per_thread,
            summary: ChildSummary::default(),
        })
    }

    /// Runs steps until `stop`, the deadline, or the step budget.
    pub(super) fn run(
        &mut self,
        stop: &AtomicBool,
        deadline: Instant,
    ) -> anyhow::Result<ChildSummary> {
        let mut done = 0u64;
        while !stop.load(Ordering::Relaxed)
            && self.steps.is_none_or(|n| done < n)
            && (!done.is_multiple_of(64) || Instant::now() < deadline)
        {
            self.step()?;
            done += 1;
        }
        Ok(self.summary)
    }

    fn step(&mut self) -> anyhow::Result<()> {
        match self.rng.random_range(0..1000u32) {
            0..300 => {
                let key = self.random_plain_key();
                self.write(Op::Put { key })
            }
            300..380 => {
                let key = self.random_plain_key();
                self.write(Op::PutTtl {
                    key,
                    ttl_ms: LONG_TTL_MS,
                })
            }
            380..430 => {
                let key = self.random_plain_key();
                let ttl_ms = self.rng.random_range(0..=MAX_SHORT_TTL_MS);
                self.write(Op::PutExpired { key, ttl_ms })
            }
            430..560 => {
                let key = self.random_plain_key();
                self.write(Op::Delete { key })
            }
            560..720 => {
                let op = self.random_batch();
                self.write(op)
            }
            720..840 => {
                let key = counter_key(self.rng.random_range(0..COUNTERS));
                let delta = self.rng.random_range(1..=100);
                self.write(Op::Increment { key, delta })
            }
            840..940 => self.check_get(),
            940..975 => self.check_own_scan(),
            975..995 => self.check_other_scan(),
            // The step mix above sums to 995; the rest is rare flushes and
            // full compactions (each blocks the thread for milliseconds, so
            // more of them would leave few writes in flight at a kill).
            _ => match self.rng.random_range(0..40u32) {
                0..2 => self.db.flush().context("flush"),
                2 => {
                    if self.rng.random_range(0..8u32) == 0 {
                        self.db.compact().context("compact")
                    } else {
                        Ok(())
                    }
                }
                _ => self.check_get(),
            },
        }
    }

    fn random_plain_key(&mut self) -> String {
        plain_key(self.thread, self.rng.random_range(0..PLAIN_KEYS))
    }

    fn random_own_key(&mut self) -> String {
        if self.rng.random_bool(0.7) {
            self.random_plain_key()
        } else {
            let g = group_prefix(self.thread, self.rng.random_range(0..GROUPS));
            format!("{g}{}", self.rng.random_range(0..GROUP_KEYS))
        }
    }

    /// A batch over 1 to 3 distinct groups, each put whole (80 %) or
    /// deleted whole.
    fn random_batch(&mut self) -> Op {
        let count = self.rng.random_range(1..=3usize);
        let mut picked: Vec<u32> = Vec::new();
        while picked.len() < count {
            let g = self.rng.random_range(0..GROUPS);
            if !picked.contains(&g) {
                picked.push(g);
            }
        }
        let groups = picked
            .into_iter()
            .map(|g| {
                let write = if self.rng.random_bool(0.8) {
                    GroupWrite::Put
                } else {
                    GroupWrite::Delete
                };
                (group_prefix(self.thread, g), write)
            })
            .collect();
        Op::Batch { groups }
    }

    /// Logs the intent, issues the write, logs the acknowledgement, and
    /// updates the model: in this order, so the log never claims more than
    /// the engine acknowledged.
    fn write(&mut self, op: Op) -> anyhow::Result<()> {
        let n = self.next_op;
        self.next_op += 1;
        let id = OpId {
            round: self.round,
            op: n,
        };
        self.log.intent(n, &op)?;
        let db = self.db;
        let issued = match &op {
            Op::Put { key } => db.put(key, value(key, id)).map(|()| None),
            Op::PutTtl { key, ttl_ms } | Op::PutExpired { key, ttl_ms } => db
                .put_with_ttl(key, value(key, id), Duration::from_millis(*ttl_ms))
                .map(|()| None),
            Op::Delete { key } => db.delete(key).map(|()| None),
            Op::Batch { groups } => {
                let mut batch = WriteBatch::new();
                for (group, write) in groups {
                    for key in group_keys(group) {
                        match write {
                            GroupWrite::Put => batch.put(key.as_bytes(), &value(&key, id))?,
                            GroupWrite::Delete => batch.delete(key.as_bytes())?,
                        }
                    }
                }
                db.write(batch).map(|()| None)
            }
            Op::Increment { key, delta } => db.increment(key, *delta).map(Some),
        };
        let result =
            issued.with_context(|| format!("thread {} op {n}: {}", self.thread, op.encode()))?;
        self.log.ack(n, result)?;
        self.summary.writes += 1;
        if let (Op::Increment { key, delta }, Some(now)) = (&op, result) {
            self.check_counter_step(key, *delta, now)?;
        }
        self.own.apply(&op, id, self.db.now_millis());
        Ok(())
    }

    /// Other threads only add positive deltas, so an increment returns at
    /// least what this thread saw last plus its own delta.
    fn check_counter_step(&mut self, key: &str, delta: i64, now: i64) -> anyhow::Result<()> {
        if let Some(&last) = self.counters_seen.get(key)
            && now < last.saturating_add(delta)
        {
            return Err(Violation::new(
                    ViolationKind::Counter,
                    format!(
                        "thread {}: increment of {key} by {delta} returned {now}, but this thread saw {last} before",
                        self.thread
                    ),
                )
                .into());
        }
        self.counters_seen.insert(key.to_owned(), now);
        Ok(())
    }

    fn check_get(&mut self) -> anyhow::Result<()> {
        let key = self.random_own_key();
        let start = self.db.now_millis();
        let found = self.db.get(&key).context("get")?;
        self.summary.reads_checked += 1;
        self.own
            .check(key.as_bytes(), found.as_deref(), start, "get")?;
        Ok(())
    }

    /// Scans all of the thread's keys, forward or backward, and compares
    /// them with the model.
    fn check_own_scan(&mut self) -> anyhow::Result<()> {
        let reverse = self.rng.random_bool(0.5);
        let start = self.db.now_millis();
        let mut iter = self.db.prefix(thread_prefix(self.thread));
        let mut found = KeyMap::new();
        let mut last: Option<Vec<u8>> = None;
        loop {
            let next = if reverse {
                iter.next_back()
            } else {
                iter.next()
            };
            let Some(kv) = next else { break };
            let (k, v) = kv.context("scan of own keys")?;
            check_step(last.as_deref(), &k, reverse, "scan of own keys")?;
            last = Some(k.to_vec());
            found.insert(k.to_vec(), v.to_vec());
        }
        self.summary.reads_checked += 1;
        let keys: std::collections::BTreeSet<&Vec<u8>> =
            self.own.known_keys().chain(found.keys()).collect();
        for key in keys {
            self.own
                .check(key, found.get(key).map(Vec::as_slice), start, "scan")?;
        }
        Ok(())
    }

    /// Scans another thread's keys (it writes them meanwhile) or the
    /// counters: in order, every value one this workload wrote at that key,
    /// every batch group whole; counters decimal and not below what this
    /// thread saw.
    fn check_other_scan(&mut self) -> anyhow::Result<()> {
        let counters = self.rng.random_bool(0.2);
        let prefix = if counters {
            COUNTER_PREFIX.to_owned()
        } else {
            thread_prefix(self.rng.random_range(0..self.threads))
        };
        let mut last: Option<Vec<u8>> = None;
        let mut groups: BTreeMap<Vec<u8>, Vec<OpId>> = BTreeMap::new();
        for kv in self.db.prefix(&prefix) {
            let (k, v) = kv.context("scan")?;
            check_step(last.as_deref(), &k, false, "scan")?;
            last = Some(k.to_vec());
            let key = String::from_utf8_lossy(&k).into_owned();
            if counters {
                let n = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                let seen = self.counters_seen.get(&key).copied().unwrap_or(1);
                if n.is_none_or(|n| n < seen) {
                    return Err(Violation::new(
                        ViolationKind::Counter,
                        format!(
                            "scan: counter {key} reads {:?}, this thread saw {seen} before",
                            String::from_utf8_lossy(&v)
                        ),
                    )
                    .into());
                }
                continue;
            }
            let id = decode_value(&k, &v).ok_or_else(|| {
                Violation::new(
                    ViolationKind::NeverWritten,
                    format!(
                        "scan: {key} holds {}",
                        crate::keyspace::describe(&k, Some(&v))
                    ),
                )
            })?;
            if let Some(g) = group_of(&k) {
                groups.entry(g.to_vec()).or_default().push(id);
            }
        }
        self.summary.reads_checked += 1;
        for (group, ids) in groups {
            let whole =
                ids.len() == GROUP_KEYS as usize && ids.windows(2).all(|w| w.first() == w.get(1));
            if !whole {
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                return Err(Violation::new(
                    ViolationKind::HalfAppliedBatch,
                    format!(
                        "scan: group {} shows {} of {GROUP_KEYS} keys, from ops [{}]",
                        String::from_utf8_lossy(&group),
                        ids.len(),
                        ids.join(", ")
                    ),
                )
                .into());
            }
        }
        Ok(())
    }
}

/// Keys of a scan strictly ascend (forward) or descend (reverse).
fn check_step(last: Option<&[u8]>, key: &[u8], reverse: bool, what: &str) -> Result<(), Violation> {
    let Some(last) = last else { return Ok(()) };
    let in_order = if reverse { key < last } else { key > last };
    if in_order {
        Ok(())
    } else {
        Err(Violation::new(
            ViolationKind::ReadsDisagree,
            format!(
                "{what}: {} after {} in a {} scan",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(last),
                if reverse { "reverse" } else { "forward" }
            ),
        ))
    }
}
