//! The server under test: `strata serve` as a child process on a loopback
//! port the kernel picks, its resident memory read from `/proc`, and its
//! shutdown by SIGTERM.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::SoakConfig;

/// Lines of the server's stderr kept for the report.
const LOG_LINES: usize = 40;

/// A running `strata serve`; killed (SIGKILL) if dropped while running.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    /// Starts `config.server_exe serve` on `data_dir` and `127.0.0.1:0` with
    /// the configured limits, and waits (up to 30 s) for the line naming
    /// the bound address.
    ///
    /// # Errors
    /// If the executable cannot be started, or exits or stays silent
    /// before listening.
    pub(crate) fn start(config: &SoakConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(&config.server_exe)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--addr", "127.0.0.1:0"])
            .arg(format!("--memtable-bytes={}", config.memtable_bytes))
            .arg(format!("--block-cache-bytes={}", config.block_cache_bytes))
            .arg(format!("--max-body-bytes={}", config.max_body_bytes))
            .arg(format!(
                "--header-timeout={}ms",
                config.header_timeout.as_millis()
            ))
            .arg(format!(
                "--stall-timeout={}ms",
                config.stall_timeout.as_millis()
            ))
            .args(
                config
                    .engine_threads
                    .map(|n| format!("--engine-threads={n}")),
            )
            .env_remove("STRATA_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", config.server_exe.display()))?;
        let stderr = child
            .stderr
            .take()
            .context("the server's stderr is not piped")?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        let kept = Arc::clone(&log);
        // Drains stderr for the server's whole life (a full pipe would
        // block it) and passes the first lines on until the address is seen.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line.clone());
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                if kept.len() == LOG_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        return Ok(Self { child, addr, log });
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    bail!(
                        "the server did not report listening within 30 s (exit: {status:?}); \
                         its stderr:\n{}",
                        log.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("\n")
                    );
                }
            }
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory in bytes (`VmRSS` of `/proc/PID/status`); `None`
    /// where there is no such file (not Linux) or the process is gone.
    pub(crate) fn rss_bytes(&self) -> Option<u64> {
        self.status_field("VmRSS:").map(|kib| kib * 1024)
    }

    /// The number of threads (`Threads` of `/proc/PID/status`).
    pub(crate) fn threads(&self) -> Option<u64> {
        self.status_field("Threads:")
    }

    /// The number of the `/proc/PID/status` line starting `name`.
    fn status_field(&self, name: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    /// `Some(status)` once the process has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last lines the server wrote to stderr.
    pub(crate) fn log_tail(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Sends SIGTERM and waits up to `within` for the exit; SIGKILL after.
    /// Returns the exit status and how long the shutdown took.
    ///
    /// # Errors
    /// If `kill` cannot be run or the server outlives `within`.
    pub(crate) fn terminate(&mut self, within: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let started = Instant::now();
        // std only sends SIGKILL; kill(1) sends the polite signal.
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("cannot run kill(1)")?;
        if !sent.success() {
            bail!("kill -TERM {} failed: {sent}", self.pid());
        }
        while started.elapsed() < within {
            if let Some(status) = self.exited() {
                return Ok((status, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!("the server was still running {within:?} after SIGTERM; killed it")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The address of `strata listening on http://ADDR (data: DIR)`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("strata listening on http://")?;
    rest.split(' ').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_names_the_address() {
        assert_eq!(
            listening_address("strata listening on http://127.0.0.1:4242 (data: /tmp/x y)"),
            Some(SocketAddr::from(([127, 0, 0, 1], 4242)))
        );
        assert_eq!(listening_address("strata: database closed"), None);
    }
}
