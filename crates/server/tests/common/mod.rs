//! A real server on 127.0.0.1 port 0 for the behaviour tests: the
//! database, the `serve` task, a shutdown trigger and a few helpers.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use strata::{Db, ManualClock, Options};
use strata_server::{ServerConfig, ServerError, serve};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    /// `http://127.0.0.1:PORT` (or https with TLS).
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub db: Db,
    pub dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServerError>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// Small memtables so flushes and compactions have work quickly.
pub fn test_options() -> Options {
    Options::default().memtable_size(64 << 10)
}

/// A clock reading the system time now, for TTL tests: the server computes
/// expiries from the system clock, the engine judges them by this one.
pub fn manual_clock_at_now() -> Arc<ManualClock> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Arc::new(ManualClock::new(u64::try_from(now).unwrap()))
}

/// A server over a fresh temporary directory with the default config.
pub async fn start() -> TestServer {
    start_with(ServerConfig::default(), test_options()).await
}

/// A server over a fresh temporary directory.
pub async fn start_with(config: ServerConfig, options: Options) -> TestServer {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = start_in(tmp.path(), config, options).await;
    server._tmp = Some(tmp);
    server
}

/// A server over `dir` (opened or created).
pub async fn start_in(dir: &Path, config: ServerConfig, options: Options) -> TestServer {
    let db = Db::open(dir, options).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, db.clone(), config, async move {
        let _ = stopped.await;
    }));
    TestServer {
        base: format!("{scheme}://{addr}"),
        addr,
        db,
        dir: dir.to_path_buf(),
        stop: Some(stop),
        task: Some(task),
        _tmp: None,
    }
}

impl TestServer {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.base, path_and_query)
    }

    /// Triggers the shutdown without waiting for it.
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts the server down, waits for `serve` to return, and returns the
    /// (still open) database and the temporary directory keeping it.
    pub async fn stop(mut self) -> (Db, Option<tempfile::TempDir>) {
        self.trigger_shutdown();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        (self.db.clone(), self._tmp.take())
    }

    /// True while `serve` has not returned.
    pub fn is_serving(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for `serve` to return after a shutdown was triggered.
    pub async fn join(&mut self) -> Result<(), ServerError> {
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Ok(()),
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Percent-encodes every byte that is not unreserved (RFC 3986), so any
/// key can go in a URL path.
pub fn enc(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Asserts the response is a JSON error with `status` and `code`; returns
/// the message.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let body = json(response).await;
    assert_eq!(body["code"], code, "{body}");
    let message = body["error"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    message
}

/// The body as JSON (reqwest's `json` feature is not needed for this).
pub async fn json(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}
