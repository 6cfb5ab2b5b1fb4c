//! [`SoakReport`]: what a soak measured and found, and whether it passed.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The outcome of one malformed case.
#[derive(Debug)]
pub(crate) struct CaseOutcome {
    pub(crate) name: &'static str,
    /// What happened (`Ok`) or what was wrong (`Err`).
    pub(crate) result: Result<String, String>,
    /// `GET /health` right after the case.
    pub(crate) health: Result<(), String>,
    pub(crate) took: Duration,
}

/// Resident memory over the run, in bytes.
#[derive(Debug, Clone)]
pub(crate) struct MemoryReport {
    /// Before the load.
    pub(crate) baseline: u64,
    /// (time since the load started, RSS), about one a second.
    pub(crate) samples: Vec<(Duration, u64)>,
    /// Block cache plus three memtables.
    pub(crate) budget: u64,
    pub(crate) allowance: u64,
    pub(crate) growth_tolerance: u64,
}

/// Samples needed (about one a second) before growth is judged.
const GROWTH_MIN_SAMPLES: usize = 8;

impl MemoryReport {
    fn limit(&self) -> u64 {
        self.baseline + self.budget + self.allowance
    }

    fn peak(&self) -> Option<(Duration, u64)> {
        self.samples.iter().copied().max_by_key(|&(_, rss)| rss)
    }

    fn within_limit(&self) -> bool {
        self.peak().is_none_or(|(_, rss)| rss <= self.limit())
    }

    /// Peak of the last quarter minus peak of the second quarter; `None`
    /// if the run is too short to judge.
    fn growth(&self) -> Option<i64> {
        if self.samples.len() < GROWTH_MIN_SAMPLES {
            return None;
        }
        let q = self.quarters();
        let (second, last) = (*q.get(1)?, *q.get(3)?);
        Some(i64::try_from(last).ok()? - i64::try_from(second).ok()?)
    }

    fn not_growing(&self) -> bool {
        self.growth()
            .is_none_or(|g| g <= i64::try_from(self.growth_tolerance).unwrap_or(i64::MAX))
    }

    fn ok(&self) -> bool {
        self.within_limit() && self.not_growing()
    }

    /// The highest RSS within each quarter of the run: a leak shows as a
    /// rise from quarter to quarter after the caches have filled.
    fn quarters(&self) -> Vec<u64> {
        let Some(&(end, _)) = self.samples.last() else {
            return Vec::new();
        };
        (0..4u32)
            .map(|q| {
                let from = end.mul_f64(f64::from(q) / 4.0);
                let to = end.mul_f64(f64::from(q + 1) / 4.0);
                self.samples
                    .iter()
                    .filter(|(t, _)| *t >= from && *t <= to)
                    .map(|&(_, rss)| rss)
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }
}

/// Everything a soak found. `Display` prints the summary; [`passed`]
/// says whether every check held.
///
/// [`passed`]: SoakReport::passed
#[derive(Debug)]
pub struct SoakReport {
    pub(crate) clients: usize,
    pub(crate) load_secs: Duration,
    /// Answered requests of the load (timed).
    pub(crate) requests: u64,
    /// Requests (load and read-back) that failed a check or got no answer.
    pub(crate) load_failed: u64,
    pub(crate) failure_reports: Vec<String>,
    pub(crate) latency: Vec<(&'static str, Histogram<u64>)>,
    pub(crate) all: Histogram<u64>,
    pub(crate) read_back: u64,
    /// `None` where RSS cannot be read (not Linux).
    pub(crate) memory: Option<MemoryReport>,
    pub(crate) after_malformed_rss: Option<u64>,
    /// Most threads the server had at once (0 if unknown).
    pub(crate) peak_threads: u64,
    pub(crate) server_died: Option<String>,
    pub(crate) cases: Vec<CaseOutcome>,
    /// How long the SIGTERM shutdown took, or why it failed.
    pub(crate) shutdown: Result<Duration, String>,
    pub(crate) verify: Result<(), String>,
    pub(crate) server_log: Vec<String>,
}

impl SoakReport {
    /// True if no request failed, memory stayed within its limit, every
    /// malformed case and health check passed, and the server shut down
    /// cleanly leaving a directory that verifies.
    pub fn passed(&self) -> bool {
        self.load_failed == 0
            && self.server_died.is_none()
            && self.memory.as_ref().is_none_or(MemoryReport::ok)
            && self
                .cases
                .iter()
                .all(|c| c.result.is_ok() && c.health.is_ok())
            && self.shutdown.is_ok()
            && self.verify.is_ok()
    }

    /// Answered load requests.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Requests that failed a check or got no answer.
    pub fn failed_requests(&self) -> u64 {
        self.load_failed
    }

    /// Malformed cases run.
    pub fn malformed_cases(&self) -> usize {
        self.cases.len()
    }

    /// Most threads the server process had at once during the load (0
    /// where `/proc` cannot tell).
    pub fn peak_threads(&self) -> u64 {
        self.peak_threads
    }
}

/// Bytes as MiB with one decimal.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// Microseconds as ms with two decimals.
fn ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "FAILED" }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.load_secs.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "load: {} requests answered in {:.1} s by {} clients ({:.0} requests/s); {} failed",
            self.requests,
            secs,
            self.clients,
            self.requests as f64 / secs,
            self.load_failed
        )?;
        writeln!(
            f,
            "  {:<22} {:>10} {:>9} {:>9} {:>9} {:>9}   (ms)",
            "request", "count", "p50", "p99", "p99.9", "max"
        )?;
        let rows = self
            .latency
            .iter()
            .map(|(name, h)| (*name, h))
            .chain(std::iter::once(("all", &self.all)));
        for (name, h) in rows {
            if h.is_empty() {
                continue;
            }
            writeln!(
                f,
                "  {:<22} {:>10} {:>9} {:>9} {:>9} {:>9}",
                name,
                h.len(),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99)),
                ms(h.value_at_quantile(0.999)),
                ms(h.max())
            )?;
        }
        for report in &self.failure_reports {
            writeln!(f, "  FAILED: {report}")?;
        }
        if self.load_failed > self.failure_reports.len() as u64 {
            writeln!(
                f,
                "  ... and {} more failures",
                self.load_failed - self.failure_reports.len() as u64
            )?;
        }
        writeln!(
            f,
            "read-back: {} keys and counters checked after the load",
            self.read_back
        )?;
        if let Some(died) = &self.server_died {
            writeln!(f, "server: DIED during the load: {died}")?;
        }
        match &self.memory {
            None => writeln!(f, "memory: not measured (no /proc)")?,
            Some(m) => {
                let (at, peak) = m.peak().unwrap_or((Duration::ZERO, m.baseline));
                writeln!(
                    f,
                    "memory: rss before load {}, peak {} at {:.0} s, limit {} \
                     (before + cache and 3 memtables {} + allowance {}): {}",
                    mib(m.baseline),
                    mib(peak),
                    at.as_secs_f64(),
                    mib(m.limit()),
                    mib(m.budget),
                    mib(m.allowance),
                    verdict(m.within_limit())
                )?;
                let quarters: Vec<String> = m.quarters().into_iter().map(mib).collect();
                writeln!(
                    f,
                    "  peak rss per quarter of the run: {}{}",
                    quarters.join(", "),
                    self.after_malformed_rss.map_or(String::new(), |r| format!(
                        "; after the malformed phase {}",
                        mib(r)
                    ))
                )?;
                match m.growth() {
                    None => writeln!(f, "  growth: run too short to judge")?,
                    Some(g) => writeln!(
                        f,
                        "  growth from the 2nd to the 4th quarter: {}{} (tolerance {}): {}",
                        if g < 0 { "-" } else { "+" },
                        mib(g.unsigned_abs()),
                        mib(m.growth_tolerance),
                        verdict(m.not_growing())
                    )?,
                }
                writeln!(f, "  server threads at most: {}", self.peak_threads)?;
            }
        }
        if !self.cases.is_empty() {
            let failed = self
                .cases
                .iter()
                .filter(|c| c.result.is_err() || c.health.is_err())
                .count();
            writeln!(f, "malformed: {} cases, {failed} failed", self.cases.len())?;
            for c in &self.cases {
                let outcome = match &c.result {
                    Ok(s) => s.clone(),
                    Err(e) => format!("FAILED: {e}"),
                };
                let health = match &c.health {
                    Ok(()) => "200".to_string(),
                    Err(e) => format!("FAILED: {e}"),
                };
                writeln!(
                    f,
                    "  {:<40} {outcome} ({:.1} s; health {health})",
                    c.name,
                    c.took.as_secs_f64()
                )?;
            }
        }
        match &self.shutdown {
            Ok(took) => writeln!(
                f,
                "shutdown: SIGTERM, exit 0 in {:.2} s",
                took.as_secs_f64()
            )?,
            Err(e) => writeln!(f, "shutdown: FAILED: {e}")?,
        }
        match &self.verify {
            Ok(()) => writeln!(f, "verify: the data directory is clean")?,
            Err(e) => writeln!(f, "verify: FAILED: {e}")?,
        }
        if !self.passed() && !self.server_log.is_empty() {
            writeln!(f, "server stderr (last lines):")?;
            for line in &self.server_log {
                writeln!(f, "  | {line}")?;
            }
        }
        writeln!(f, "RESULT: {}", if self.passed() { "PASS" } else { "FAIL" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(rss_mib: &[u64]) -> MemoryReport {
        MemoryReport {
            baseline: 10 << 20,
            samples: rss_mib
                .iter()
                .enumerate()
                .map(|(i, m)| (Duration::from_secs(i as u64 + 1), m << 20))
                .collect(),
            budget: 20 << 20,
            allowance: 30 << 20,
            growth_tolerance: 8 << 20,
        }
    }

    #[test]
    fn memory_over_the_limit_or_growing_fails() {
        // Limit 60 MiB; flat after warming up: fine.
        assert!(memory(&[40, 55, 50, 50, 52, 50, 51, 50]).ok());
        // Over the limit once.
        let m = memory(&[40, 61, 50, 50, 52, 50, 51, 50]);
        assert!(!m.within_limit() && !m.ok());
        // Under the limit but climbing steadily: a leak.
        let m = memory(&[20, 24, 28, 32, 36, 40, 44, 48, 52, 56]);
        assert!(m.within_limit() && !m.not_growing() && !m.ok());
        // Too short to judge growth.
        assert_eq!(memory(&[20, 30, 40]).growth(), None);
    }
}
