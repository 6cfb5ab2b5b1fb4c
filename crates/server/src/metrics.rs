//! `GET /metrics`: the engine's [`strata::Stats`] and the server's request
//! counters in the Prometheus text exposition format (version 0.0.4), every
//! name prefixed `strata_`, each family with `# HELP` and `# TYPE` lines.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Request counters, lock-free: one slot per status code 100..=599.
pub(crate) struct HttpMetrics {
    by_status: Box<[AtomicU64]>,
    in_flight: AtomicI64,
}

const FIRST_STATUS: u16 = 100;
const STATUSES: usize = 500;

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            by_status: (0..STATUSES).map(|_| AtomicU64::new(0)).collect(),
            in_flight: AtomicI64::new(0),
        }
    }
}

impl HttpMetrics {
    fn record(&self, status: u16) {
        let slot = usize::from(status.saturating_sub(FIRST_STATUS));
        if let Some(counter) = self.by_status.get(slot) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Middleware counting every response by status, and requests in flight.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let metrics = state.metrics();
    metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let response = next.run(request).await;
    metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    metrics.record(response.status().as_u16());
    response
}

/// One metric family being written.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP strata_{name} {help}");
        let _ = writeln!(out, "# TYPE strata_{name} {kind}");
        Self { out, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.out, "strata_{}", self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A float as Prometheus reads it (`NaN`, `+Inf`, `-Inf` spelled its way).
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

/// The full exposition for `stats` and the server's counters.
pub(crate) fn render(stats: &strata::Stats, http: &HttpMetrics) -> String {
    let mut out = String::with_capacity(4096);
    let o = &mut out;
    let levels: Vec<(String, &strata::LevelStats)> = stats
        .levels
        .iter()
        .map(|l| (l.level.to_string(), l))
        .collect();

    let mut f = Family::new(o, "level_files", "gauge", "Table files per level.");
    for (n, l) in &levels {
        f.sample(&[("level", n)], l.files);
    }
    let mut f = Family::new(o, "level_bytes", "gauge", "Bytes of table files per level.");
    for (n, l) in &levels {
        f.sample(&[("level", n)], l.bytes);
    }
    let mut f = Family::new(
        o,
        "level_entries",
        "gauge",
        "Entries (all kinds) per level.",
    );
    for (n, l) in &levels {
        f.sample(&[("level", n)], l.entries);
    }
    let mut f = Family::new(
        o,
        "level_score",
        "gauge",
        "Compaction score per level (leveled: >= 1 is due).",
    );
    for ((n, _), score) in levels.iter().zip(&stats.level_scores) {
        f.sample(&[("level", n)], float(*score));
    }
    Family::new(
        o,
        "memtable_active_bytes",
        "gauge",
        "Approximate bytes in the active memtable.",
    )
    .sample(&[], stats.active_memtable_bytes);
    Family::new(
        o,
        "memtable_immutable",
        "gauge",
        "Immutable memtables waiting for their flush.",
    )
    .sample(&[], stats.immutable_memtables);
    Family::new(
        o,
        "memtable_immutable_bytes",
        "gauge",
        "Approximate bytes in immutable memtables.",
    )
    .sample(&[], stats.immutable_memtable_bytes);
    Family::new(
        o,
        "last_seqno",
        "gauge",
        "Sequence number of the last visible write.",
    )
    .sample(&[], stats.last_seqno);
    Family::new(
        o,
        "block_cache_hits_total",
        "counter",
        "Block cache lookups that found the block.",
    )
    .sample(&[], stats.block_cache_hits);
    Family::new(
        o,
        "block_cache_misses_total",
        "counter",
        "Block cache lookups that read from disk.",
    )
    .sample(&[], stats.block_cache_misses);
    Family::new(
        o,
        "block_cache_bytes",
        "gauge",
        "Bytes held by the block cache.",
    )
    .sample(&[], stats.block_cache_bytes);
    Family::new(
        o,
        "user_bytes_written_total",
        "counter",
        "Key and value bytes written by clients.",
    )
    .sample(&[], stats.user_bytes_written);
    Family::new(
        o,
        "wal_bytes_written_total",
        "counter",
        "Bytes appended to write-ahead logs.",
    )
    .sample(&[], stats.wal_bytes_written);
    Family::new(o, "wal_syncs_total", "counter", "Write-ahead log fsyncs.")
        .sample(&[], stats.wal_syncs);
    Family::new(
        o,
        "flush_bytes_written_total",
        "counter",
        "Bytes of tables written by flushes.",
    )
    .sample(&[], stats.flush_bytes_written);
    Family::new(
        o,
        "compaction_bytes_read_total",
        "counter",
        "Bytes of tables read by compactions.",
    )
    .sample(&[], stats.compaction_bytes_read);
    Family::new(
        o,
        "compaction_bytes_written_total",
        "counter",
        "Bytes of tables written by compactions.",
    )
    .sample(&[], stats.compaction_bytes_written);
    let mut f = Family::new(
        o,
        "compactions_total",
        "counter",
        "Compactions done, by the reason the strategy gave.",
    );
    for (reason, n) in &stats.compactions {
        f.sample(&[("reason", reason)], n);
    }
    Family::new(
        o,
        "write_amplification",
        "gauge",
        "(WAL + flush + compaction bytes) / user bytes.",
    )
    .sample(&[], float(stats.write_amplification));
    Family::new(o, "flushes_total", "counter", "Memtable flushes completed.")
        .sample(&[], stats.flushes);
    Family::new(
        o,
        "stalls_total",
        "counter",
        "Writes that waited for a flush.",
    )
    .sample(&[], stats.stalls);
    Family::new(
        o,
        "stall_seconds_total",
        "counter",
        "Time writers spent stalled.",
    )
    .sample(&[], float(stats.stall_time.as_secs_f64()));
    Family::new(o, "live_snapshots", "gauge", "Snapshots currently held.")
        .sample(&[], stats.live_snapshots);

    let mut f = Family::new(
        o,
        "http_responses_total",
        "counter",
        "HTTP responses sent, by status code.",
    );
    for (i, counter) in http.by_status.iter().enumerate() {
        let n = counter.load(Ordering::Relaxed);
        if n > 0 {
            f.sample(&[("code", &(usize::from(FIRST_STATUS) + i).to_string())], n);
        }
    }
    Family::new(
        o,
        "http_requests_in_flight",
        "gauge",
        "HTTP requests being handled.",
    )
    .sample(&[], http.in_flight.load(Ordering::Relaxed));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_has_its_help_and_type() {
        let http = HttpMetrics::default();
        http.record(200);
        http.record(404);
        http.record(42); // out of range: ignored, no panic
        let text = render(&strata::Stats::default(), &http);
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_owned());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.contains(name), "{line}");
                assert!(name.starts_with("strata_"), "{line}");
            }
        }
        assert!(text.contains("strata_http_responses_total{code=\"404\"} 1\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(1.5), "1.5");
    }
}
