//! [`AppState`]: what every handler shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use strata::Db;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::keys::engine_key_limit;
use crate::metrics::HttpMetrics;

/// The server's shared state: the database, the limits and token from the
/// [`ServerConfig`], the shutting-down flag and the request counters.
/// Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    token: Option<Box<[u8]>>,
    max_body_bytes: usize,
    max_key_bytes: usize,
    stall_timeout: Duration,
    shutting_down: AtomicBool,
    metrics: HttpMetrics,
}

impl AppState {
    /// State serving `db` with the token and limits of `config`
    /// (`max_key_bytes` clamped to what the engine can store with the
    /// server's side keys). An empty token is kept and matches nothing, so
    /// every guarded request is refused ([`serve`](crate::serve) and
    /// [`run`](crate::run) refuse to start with one).
    pub fn new(db: Db, config: &ServerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                token: config.token.as_deref().map(|t| t.as_bytes().into()),
                max_body_bytes: config.max_body_bytes,
                max_key_bytes: config
                    .max_key_bytes
                    .min(engine_key_limit(config.options.get_max_key_size())),
                stall_timeout: config.stall_timeout,
                shutting_down: AtomicBool::new(false),
                metrics: HttpMetrics::default(),
            }),
        }
    }

    /// The database served.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Marks the server as shutting down: from now on every new request is
    /// answered 503 `shutting_down` (requests already running finish).
    /// [`serve`](crate::serve) calls it when its shutdown future resolves.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
    }

    /// True once [`AppState::begin_shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn token(&self) -> Option<&[u8]> {
        self.inner.token.as_deref()
    }

    pub(crate) fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    pub(crate) fn max_key_bytes(&self) -> usize {
        self.inner.max_key_bytes
    }

    /// Longest pause allowed between pieces of a request body.
    pub(crate) fn stall_timeout(&self) -> Duration {
        self.inner.stall_timeout
    }

    pub(crate) fn metrics(&self) -> &HttpMetrics {
        &self.inner.metrics
    }

    /// Like [`AppState::blocking`], but first fails with 503 if the
    /// database was closed: snapshots (which GET and listings read from, so
    /// that related keys come from one point in time) keep reading after a
    /// close.
    pub(crate) async fn blocking_open<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> strata::Result<T> + Send + 'static,
    {
        self.blocking(move |db| {
            if db.is_closed() {
                return Err(strata::Error::Closed);
            }
            f(db)
        })
        .await
    }

    /// Runs `f` on the database on tokio's blocking pool: engine calls block
    /// on I/O and locks and must never run on the async threads.
    ///
    /// # Errors
    /// The engine's error as an [`ApiError`]; 500 `internal` if `f` panicked.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> strata::Result<T> + Send + 'static,
    {
        let db = self.inner.db.clone();
        match tokio::task::spawn_blocking(move || f(&db)).await {
            Ok(result) => result.map_err(ApiError::from),
            Err(e) => Err(ApiError::internal(format!("the engine call failed: {e}"))),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.inner.db)
            .field("token", &self.inner.token.as_ref().map(|_| "<redacted>"))
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("max_key_bytes", &self.inner.max_key_bytes)
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}
