//! The load phase: one thread per client, each on its own kept-alive
//! connection, doing a seeded mix of every kind of request and checking
//! every answer.
//!
//! Checking is exact where the answer is determined: each client owns the
//! keys `s/cNNN/kNNNNN` and the counter `n/cNNN`, which nobody else
//! touches, and keeps a model of them, so a GET, a listing or a counter
//! value must match the model byte for byte. Shared keys (`s/shared/...`)
//! and the shared counter `n/shared` are written by everyone: their values
//! describe themselves (key index, length, a byte pattern), and the shared
//! counter must only grow as one client sees it.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::Value;

use super::SoakConfig;
use super::http::{Conn, Response, encode};

/// The kinds of request, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    Put,
    Get,
    Delete,
    PutShared,
    GetShared,
    List,
    Batch,
    Incr,
    IncrShared,
    GetCounter,
    Admin,
}

impl OpKind {
    pub(crate) const ALL: [OpKind; 11] = [
        OpKind::Put,
        OpKind::Get,
        OpKind::Delete,
        OpKind::PutShared,
        OpKind::GetShared,
        OpKind::List,
        OpKind::Batch,
        OpKind::Incr,
        OpKind::IncrShared,
        OpKind::GetCounter,
        OpKind::Admin,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            OpKind::Put => "PUT /kv (own)",
            OpKind::Get => "GET /kv (own)",
            OpKind::Delete => "DELETE /kv",
            OpKind::PutShared => "PUT /kv (shared)",
            OpKind::GetShared => "GET /kv (shared)",
            OpKind::List => "GET /kv?prefix",
            OpKind::Batch => "POST /batch",
            OpKind::Incr => "POST /seq (own)",
            OpKind::IncrShared => "POST /seq (shared)",
            OpKind::GetCounter => "GET /seq",
            OpKind::Admin => "stats/metrics/health",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The mix, in percent (sums to 100).
    fn pick(roll: u32) -> OpKind {
        const WEIGHTS: [(OpKind, u32); 11] = [
            (OpKind::Put, 27),
            (OpKind::Get, 26),
            (OpKind::Delete, 5),
            (OpKind::PutShared, 5),
            (OpKind::GetShared, 10),
            (OpKind::List, 6),
            (OpKind::Batch, 8),
            (OpKind::Incr, 5),
            (OpKind::IncrShared, 3),
            (OpKind::GetCounter, 3),
            (OpKind::Admin, 2),
        ];
        let mut left = roll % 100;
        for (kind, weight) in WEIGHTS {
            if left < weight {
                return kind;
            }
            left -= weight;
        }
        OpKind::Get
    }
}

/// Failure reports kept in full; the rest are only counted.
const REPORTED: usize = 20;
/// More failures than this stop the load early: something is broken.
const GIVE_UP: u64 = 100;
/// Keys a listing asks for.
const PAGE: usize = 20;
/// How long one request may go without progress before it is a failure.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the client threads and the main thread share.
#[derive(Default)]
pub(crate) struct Shared {
    /// Requests started (the `--requests` budget).
    pub(crate) issued: AtomicU64,
    /// Requests that failed a check or got no answer.
    pub(crate) failed: AtomicU64,
    /// Set to stop every client after its current request.
    pub(crate) stop: AtomicBool,
    reports: Mutex<Vec<String>>,
}

impl Shared {
    fn fail(&self, client: usize, what: &str, detail: String) {
        let n = self.failed.fetch_add(1, Ordering::SeqCst) + 1;
        let mut reports = self.reports.lock().unwrap_or_else(PoisonError::into_inner);
        if reports.len() < REPORTED {
            reports.push(format!("client {client}: {what}: {detail}"));
        }
        if n >= GIVE_UP {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    /// The first failures, described.
    pub(crate) fn reports(&self) -> Vec<String> {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What one client thread measured.
pub(crate) struct ClientResult {
    /// Latency in microseconds, one histogram per [`OpKind`].
    pub(crate) latency: Vec<Histogram<u64>>,
    /// Own keys and counters read back and checked after the load.
    pub(crate) read_back: u64,
    /// When this client's load ended (its read-back began).
    pub(crate) load_ended: Instant,
}

/// A new, empty latency histogram (1 µs to 1 hour, 3 significant digits).
///
/// # Errors
/// Never with these bounds; hdrhistogram's error otherwise.
pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 3_600_000_000, 3)?)
}

/// Runs client `id` until `deadline`, the request budget, or a stop; then
/// reads back everything it owns.
///
/// # Errors
/// Only if a histogram cannot be made; failed requests are counted in
/// `shared`, not returned.
pub(crate) fn run_client(
    id: usize,
    config: &SoakConfig,
    addr: std::net::SocketAddr,
    shared: &Shared,
    deadline: Instant,
) -> anyhow::Result<ClientResult> {
    let mut client = Client {
        id,
        addr,
        shared,
        rng: StdRng::seed_from_u64(
            config.seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ),
        conn: None,
        own: vec![Slot::Absent; config.keys_per_client],
        shared_keys: config.shared_keys,
        counter: Counter::Known(0),
        shared_counter_seen: 0,
        version: 0,
        latency: OpKind::ALL
            .iter()
            .map(|_| histogram())
            .collect::<anyhow::Result<_>>()?,
    };
    let budget = config.requests.unwrap_or(u64::MAX);
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        if shared.issued.fetch_add(1, Ordering::SeqCst) >= budget {
            break;
        }
        let roll = client.rng.random::<u32>();
        client.step(OpKind::pick(roll));
    }
    let load_ended = Instant::now();
    let read_back = client.read_back();
    Ok(ClientResult {
        latency: client.latency,
        read_back,
        load_ended,
    })
}

#[derive(Debug, Clone)]
enum Slot {
    Absent,
    Present {
        value: Vec<u8>,
        content_type: Option<&'static str>,
    },
    /// A write whose answer was lost or wrong: anything may be stored.
    Unknown,
}

#[derive(Debug, Clone, Copy)]
enum Counter {
    /// The value; 0 also stands for "never incremented" (absent).
    Known(i64),
    Unknown,
}

struct Client<'a> {
    id: usize,
    addr: std::net::SocketAddr,
    shared: &'a Shared,
    rng: StdRng,
    conn: Option<Conn>,
    own: Vec<Slot>,
    shared_keys: usize,
    counter: Counter,
    shared_counter_seen: i64,
    version: u64,
    latency: Vec<Histogram<u64>>,
}

const CONTENT_TYPES: [Option<&str>; 3] = [Some("text/plain"), Some("application/x-soak"), None];

impl Client<'_> {
    fn key(&self, i: usize) -> String {
        format!("s/c{:03}/k{i:05}", self.id)
    }

    fn counter_name(&self) -> String {
        format!("n/c{:03}", self.id)
    }

    fn fail(&self, what: &str, detail: String) {
        self.shared.fail(self.id, what, detail);
    }

    /// Sends a request, timing it under `kind` (if given); `None` (after
    /// reporting the failure) if no answer came.
    fn request(
        &mut self,
        kind: Option<OpKind>,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<Response> {
        if self.conn.is_none() {
            match Conn::connect(self.addr, IO_TIMEOUT) {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    self.fail(
                        &format!("{method} {target}"),
                        format!("cannot connect: {e}"),
                    );
                    std::thread::sleep(Duration::from_millis(100));
                    return None;
                }
            }
        }
        let conn = self.conn.as_mut()?;
        let started = Instant::now();
        let answer = conn.send(method, target, headers, body);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match answer {
            Ok(response) => {
                if let Some(kind) = kind
                    && let Some(h) = self.latency.get_mut(kind.index())
                {
                    h.saturating_record(micros.max(1));
                }
                if response.closes() {
                    self.conn = None;
                }
                Some(response)
            }
            Err(e) => {
                self.conn = None;
                self.fail(&format!("{method} {target}"), format!("no answer: {e}"));
                None
            }
        }
    }

    /// Reports `response` unless its status is `want`; true if it is.
    fn expect_status(&self, what: &str, response: &Response, want: u16) -> bool {
        if response.status == want {
            return true;
        }
        self.fail(
            what,
            format!(
                "status {} instead of {want}: {}",
                response.status,
                response.excerpt(200)
            ),
        );
        false
    }

    fn step(&mut self, kind: OpKind) {
        match kind {
            OpKind::Put => self.put_own(),
            OpKind::Get => {
                let i = self.rng.random_range(0..self.own.len());
                self.get_own(i, Some(OpKind::Get));
            }
            OpKind::Delete => self.delete_own(),
            OpKind::PutShared => self.put_shared(),
            OpKind::GetShared => self.get_shared(),
            OpKind::List => self.list(),
            OpKind::Batch => self.batch(),
            OpKind::Incr => self.incr(),
            OpKind::IncrShared => self.incr_shared(),
            OpKind::GetCounter => self.get_counter(Some(OpKind::GetCounter)),
            OpKind::Admin => self.admin(),
        }
    }

    /// A fresh value for own key `i`: it names the key and version, then
    /// random letters; mostly small, sometimes up to 64 KiB.
    fn own_value(&mut self, i: usize) -> Vec<u8> {
        self.version += 1;
        let len = match self.rng.random_range(0..100) {
            0 => self.rng.random_range(8193..=65536),
            1..=9 => self.rng.random_range(1025..=8192),
            _ => self.rng.random_range(16..=1024),
        };
        let mut value = format!("c{}k{i}v{}|", self.id, self.version).into_bytes();
        while value.len() < len {
            value.push(self.rng.random_range(b'a'..=b'z'));
        }
        value
    }

    fn put_own(&mut self) {
        let i = self.rng.random_range(0..self.own.len());
        let value = self.own_value(i);
        let content_type = CONTENT_TYPES[self.rng.random_range(0..CONTENT_TYPES.len())];
        let ttl = if self.rng.random_range(0..50) == 0 {
            "?ttl=1h"
        } else {
            ""
        };
        let target = format!("/kv/{}{ttl}", self.key(i));
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("content-type", ct))
            .into_iter()
            .collect();
        let answer = self.request(Some(OpKind::Put), "PUT", &target, &headers, &value);
        let slot = match answer {
            Some(r) if self.expect_status(&format!("PUT {target}"), &r, 204) => Slot::Present {
                value,
                content_type,
            },
            _ => Slot::Unknown,
        };
        if let Some(s) = self.own.get_mut(i) {
            *s = slot;
        }
    }

    fn get_own(&mut self, i: usize, kind: Option<OpKind>) {
        let target = format!("/kv/{}", self.key(i));
        let Some(r) = self.request(kind, "GET", &target, &[], b"") else {
            return;
        };
        let what = format!("GET {target}");
        match self.own.get(i).cloned().unwrap_or(Slot::Unknown) {
            Slot::Unknown => {
                if r.status != 200 && r.status != 404 {
                    self.fail(&what, format!("status {}", r.status));
                }
            }
            Slot::Absent => {
                self.expect_status(&what, &r, 404);
            }
            Slot::Present {
                value,
                content_type,
            } => {
                if !self.expect_status(&what, &r, 200) {
                    return;
                }
                if r.body != value {
                    self.fail(
                        &what,
                        format!(
                            "value of {} bytes starting {:?}, expected {} bytes starting {:?}",
                            r.body.len(),
                            r.excerpt(24),
                            value.len(),
                            String::from_utf8_lossy(value.get(..24).unwrap_or(&value))
                        ),
                    );
                }
                let want = content_type.unwrap_or("application/octet-stream");
                if r.header("content-type") != Some(want) {
                    self.fail(
                        &what,
                        format!(
                            "content-type {:?}, expected {want}",
                            r.header("content-type")
                        ),
                    );
                }
            }
        }
    }

    fn delete_own(&mut self) {
        let i = self.rng.random_range(0..self.own.len());
        let target = format!("/kv/{}", self.key(i));
        let answer = self.request(Some(OpKind::Delete), "DELETE", &target, &[], b"");
        let slot = match answer {
            Some(r) if self.expect_status(&format!("DELETE {target}"), &r, 204) => Slot::Absent,
            _ => Slot::Unknown,
        };
        if let Some(s) = self.own.get_mut(i) {
            *s = slot;
        }
    }

    fn put_shared(&mut self) {
        let i = self.rng.random_range(0..self.shared_keys);
        let len = self.rng.random_range(16..=2048);
        let value = shared_value(i, len);
        let target = format!("/kv/s/shared/k{i:05}");
        if let Some(r) = self.request(Some(OpKind::PutShared), "PUT", &target, &[], &value) {
            self.expect_status(&format!("PUT {target}"), &r, 204);
        }
    }

    fn get_shared(&mut self) {
        let i = self.rng.random_range(0..self.shared_keys);
        let target = format!("/kv/s/shared/k{i:05}");
        let Some(r) = self.request(Some(OpKind::GetShared), "GET", &target, &[], b"") else {
            return;
        };
        match r.status {
            404 => {}
            200 => {
                if let Err(why) = check_shared_value(i, &r.body) {
                    self.fail(&format!("GET {target}"), why);
                }
            }
            other => self.fail(
                &format!("GET {target}"),
                format!("status {other}: {}", r.excerpt(200)),
            ),
        }
    }

    fn list(&mut self) {
        let start = self.rng.random_range(0..self.own.len());
        let prefix = format!("s/c{:03}/", self.id);
        let target = format!(
            "/kv?prefix={}&start={}&limit={PAGE}&values=true",
            encode(&prefix),
            encode(&self.key(start))
        );
        let Some(r) = self.request(Some(OpKind::List), "GET", &target, &[], b"") else {
            return;
        };
        let what = format!("GET {target}");
        if !self.expect_status(&what, &r, 200) {
            return;
        }
        let page: Value = match serde_json::from_slice(&r.body) {
            Ok(v) => v,
            Err(e) => return self.fail(&what, format!("not JSON ({e}): {}", r.excerpt(200))),
        };
        let tail = self.own.get(start..).unwrap_or_default();
        if tail.iter().any(|s| matches!(s, Slot::Unknown)) {
            return; // not determined
        }
        let expected: Vec<(String, &[u8])> = tail
            .iter()
            .enumerate()
            .filter_map(|(k, slot)| match slot {
                Slot::Present { value, .. } => Some((self.key(start + k), value.as_slice())),
                _ => None,
            })
            .collect();
        let got: Vec<(String, Vec<u8>)> = page["keys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .map(|e| {
                        (
                            e["key"].as_str().unwrap_or("<not utf8>").to_owned(),
                            e["value"]
                                .as_str()
                                .unwrap_or("<not utf8>")
                                .as_bytes()
                                .to_vec(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let want: Vec<(String, Vec<u8>)> = expected
            .iter()
            .take(PAGE)
            .map(|(k, v)| (k.clone(), v.to_vec()))
            .collect();
        if got != want {
            let names = |list: &[(String, Vec<u8>)]| {
                list.iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return self.fail(
                &what,
                format!(
                    "listed [{}], expected [{}] (or values differ)",
                    names(&got),
                    names(&want)
                ),
            );
        }
        let has_cursor = !page["next_cursor"].is_null();
        if (expected.len() > PAGE && !has_cursor) || (expected.len() < PAGE && has_cursor) {
            self.fail(
                &what,
                format!(
                    "next_cursor {} with {} keys left",
                    page["next_cursor"],
                    expected.len()
                ),
            );
        }
    }

    fn batch(&mut self) {
        let n = self.rng.random_range(2..=8);
        let mut ops = Vec::with_capacity(n);
        let mut after = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.rng.random_range(0..self.own.len());
            if self.rng.random_range(0..10) < 7 {
                let mut value = self.own_value(i);
                value.truncate(2048);
                let text = String::from_utf8_lossy(&value).into_owned();
                ops.push(serde_json::json!({
                    "op": "put", "key": self.key(i), "value": text, "content_type": "text/plain"
                }));
                after.push((
                    i,
                    Slot::Present {
                        value,
                        content_type: Some("text/plain"),
                    },
                ));
            } else {
                ops.push(serde_json::json!({"op": "delete", "key": self.key(i)}));
                after.push((i, Slot::Absent));
            }
        }
        let body = serde_json::json!({ "ops": ops }).to_string();
        let answer = self.request(
            Some(OpKind::Batch),
            "POST",
            "/batch",
            &[("content-type", "application/json")],
            body.as_bytes(),
        );
        let applied = answer.is_some_and(|r| {
            self.expect_status("POST /batch", &r, 200) && {
                let count = serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v["applied"].as_u64());
                if count == Some(n as u64) {
                    true
                } else {
                    self.fail("POST /batch", format!("applied {count:?}, expected {n}"));
                    false
                }
            }
        });
        for (i, slot) in after {
            if let Some(s) = self.own.get_mut(i) {
                *s = if applied { slot } else { Slot::Unknown };
            }
        }
    }

    fn incr(&mut self) {
        let by: i64 = self.rng.random_range(1..=10);
        let target = format!("/seq/{}?by={by}", self.counter_name());
        let answer = self.request(Some(OpKind::Incr), "POST", &target, &[], b"");
        let what = format!("POST {target}");
        let value = answer.and_then(|r| {
            if !self.expect_status(&what, &r, 200) {
                return None;
            }
            counter_value(&r.body)
        });
        self.counter = match (self.counter, value) {
            (Counter::Known(before), Some(v)) => {
                if v != before + by {
                    self.fail(&what, format!("value {v}, expected {}", before + by));
                }
                Counter::Known(v)
            }
            (Counter::Unknown, Some(v)) => Counter::Known(v),
            (_, None) => Counter::Unknown,
        };
    }

    fn incr_shared(&mut self) {
        let target = "/seq/n/shared";
        let Some(r) = self.request(Some(OpKind::IncrShared), "POST", target, &[], b"") else {
            return;
        };
        let what = format!("POST {target}");
        if !self.expect_status(&what, &r, 200) {
            return;
        }
        match counter_value(&r.body) {
            Some(v) if v > self.shared_counter_seen => self.shared_counter_seen = v,
            Some(v) => self.fail(
                &what,
                format!(
                    "value {v}, not above {} seen before",
                    self.shared_counter_seen
                ),
            ),
            None => self.fail(&what, format!("no counter value: {}", r.excerpt(200))),
        }
    }

    fn get_counter(&mut self, kind: Option<OpKind>) {
        let target = format!("/seq/{}", self.counter_name());
        let Some(r) = self.request(kind, "GET", &target, &[], b"") else {
            return;
        };
        let what = format!("GET {target}");
        match self.counter {
            Counter::Unknown => {}
            Counter::Known(0) => {
                self.expect_status(&what, &r, 404);
            }
            Counter::Known(want) => {
                if self.expect_status(&what, &r, 200) && counter_value(&r.body) != Some(want) {
                    self.fail(&what, format!("{}, expected {want}", r.excerpt(200)));
                }
            }
        }
    }

    fn admin(&mut self) {
        let (target, check): (&str, fn(&[u8]) -> bool) = match self.rng.random_range(0..3) {
            0 => ("/admin/stats", |b| {
                serde_json::from_slice::<Value>(b).is_ok_and(|v| v.is_object())
            }),
            1 => ("/metrics", |b| {
                String::from_utf8_lossy(b).contains("strata_http_requests")
            }),
            _ => ("/health", |b| String::from_utf8_lossy(b).contains("ok")),
        };
        let Some(r) = self.request(Some(OpKind::Admin), "GET", target, &[], b"") else {
            return;
        };
        let what = format!("GET {target}");
        if self.expect_status(&what, &r, 200) && !check(&r.body) {
            self.fail(&what, format!("unexpected body: {}", r.excerpt(200)));
        }
    }

    /// Reads back every own key and the own counter; returns how many.
    fn read_back(&mut self) -> u64 {
        for i in 0..self.own.len() {
            self.get_own(i, None);
        }
        self.get_counter(None);
        self.own.len() as u64 + 1
    }
}

/// The value of a `/seq` answer.
fn counter_value(body: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Value>(body).ok()?["value"].as_i64()
}

/// A shared key's value: `k{i}|{len}|` then letters, the byte at position
/// `p` being `a + (p + i) % 26`; `len` bytes in all.
fn shared_value(i: usize, len: usize) -> Vec<u8> {
    let mut value = format!("k{i}|{len}|").into_bytes();
    while value.len() < len {
        let p = value.len();
        value.push(b'a' + ((p + i) % 26) as u8);
    }
    value
}

/// Checks a shared value read back under key index `i`.
fn check_shared_value(i: usize, body: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    let mut parts = text.splitn(3, '|');
    let (Some(name), Some(len)) = (parts.next(), parts.next()) else {
        return Err(format!("not a shared value: {:?}", text.get(..40)));
    };
    let len: usize = len
        .parse()
        .map_err(|_| format!("bad length in {name}|{len}"))?;
    if name != format!("k{i}") {
        return Err(format!("the value of key {i} names {name}"));
    }
    if body.len() != len {
        return Err(format!("{} bytes, the value says {len}", body.len()));
    }
    if body != shared_value(i, len).as_slice() {
        return Err("the byte pattern is broken (a torn or mixed value?)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_covers_every_kind() {
        let picked: Vec<OpKind> = (0..100).map(OpKind::pick).collect();
        for kind in OpKind::ALL {
            assert!(picked.contains(&kind), "{kind:?}");
        }
        for (i, kind) in OpKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }

    #[test]
    fn shared_values_check_themselves() {
        let v = shared_value(7, 100);
        assert_eq!(v.len(), 100);
        assert_eq!(check_shared_value(7, &v), Ok(()));
        assert!(check_shared_value(8, &v).is_err());
        let mut torn = v.clone();
        torn[50] ^= 1;
        assert!(check_shared_value(7, &torn).is_err());
        assert!(check_shared_value(7, &v[..60]).is_err());
        assert!(check_shared_value(7, b"garbage").is_err());
    }
}
