//! [`serve`] (an open database on a bound listener, until a future resolves)
//! and [`run`] (the whole life of `strata serve`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use crate::accept::{Limits, serve_connections};
use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::router::router;
use crate::state::AppState;
use crate::tls::load_acceptor;

/// How long [`run`] waits for in-flight requests after a shutdown signal
/// before it closes the database anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves the HTTP API for `db` on `listener` until `shutdown` resolves,
/// then stops accepting connections, answers 503 to requests that start
/// after that, and returns once the requests in flight have finished.
///
/// Uses every field of `config` but `data_dir`, `addr`, `engine_threads`
/// and `options`, which are for [`run`] (`options` only for its key limit;
/// engine calls run on the blocking pool of the caller's runtime). The
/// database stays open: the caller closes it (as [`run`] does) after this
/// returns.
///
/// # Errors
/// [`ServerError::Config`] for an empty token or `max_connections` 0 and
/// [`ServerError::Tls`] if `config.tls` names unusable files (all checked
/// before serving).
pub async fn serve(
    listener: TcpListener,
    db: strata::Db,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    check_config(&config)?;
    let acceptor = config.tls.as_ref().map(load_acceptor).transpose()?;
    let limits = limits(&config)?;
    serve_with(
        listener,
        AppState::new(db, &config),
        acceptor,
        limits,
        shutdown,
    )
    .await;
    Ok(())
}

/// Refuses configurations that would serve something else than asked.
///
/// # Errors
/// [`ServerError::Config`] for an empty token (an empty token file must not
/// silently turn authentication off) or `max_connections` 0.
fn check_config(config: &ServerConfig) -> Result<(), ServerError> {
    if config.token.as_deref().is_some_and(str::is_empty) {
        return Err(ServerError::Config(
            "the token is empty; give a non-empty token or none".into(),
        ));
    }
    limits(config)?;
    Ok(())
}

/// The connection limits of `config`; a `max_connections` above what a
/// semaphore counts (`u32::MAX` on 64-bit targets) is taken as that (the
/// operating system runs out of sockets first).
///
/// # Errors
/// [`ServerError::Config`] if `max_connections` is 0 (nothing would ever be
/// served).
fn limits(config: &ServerConfig) -> Result<Limits, ServerError> {
    if config.max_connections == 0 {
        return Err(ServerError::Config(
            "max_connections is 0; at least one connection must be allowed".into(),
        ));
    }
    Ok(Limits {
        header_timeout: config.header_timeout,
        stall_timeout: config.stall_timeout,
        max_connections: u32::try_from(
            config
                .max_connections
                .min(tokio::sync::Semaphore::MAX_PERMITS),
        )
        .unwrap_or(u32::MAX),
    })
}

async fn serve_with(
    listener: TcpListener,
    state: AppState,
    acceptor: Option<TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let app = router(state.clone());
    let signal = async move {
        shutdown.await;
        // Before the connections are told: a request that starts from here
        // on is answered 503.
        state.begin_shutdown();
    };
    serve_connections(listener, app, acceptor, limits, signal).await;
}

/// Opens `config.data_dir`, listens on `config.addr`, and serves until
/// SIGINT or SIGTERM; then stops accepting, lets in-flight requests finish
/// (for up to 30 seconds), and closes the database. Blocks the calling
/// thread: it builds its own tokio runtime, with `config.engine_threads`
/// threads for engine calls.
///
/// Prints `strata listening on http://ADDR (data: DIR)` (`https` with TLS)
/// to stderr once bound.
///
/// # Errors
/// [`ServerError::Config`] (also for `engine_threads` 0),
/// [`ServerError::Tls`], [`ServerError::Open`] or [`ServerError::Bind`] if
/// the server cannot start; [`ServerError::Io`] if the async runtime cannot
/// start; [`ServerError::Close`] if closing the database fails.
pub fn run(config: ServerConfig) -> Result<(), ServerError> {
    if config.engine_threads == 0 {
        return Err(ServerError::Config(
            "engine_threads is 0; engine calls need at least one thread".into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.engine_threads)
        .build()?;
    // Configuration and TLS files first: a typo there should not cost a
    // database open.
    check_config(&config)?;
    let limits = limits(&config)?;
    let acceptor = config.tls.as_ref().map(load_acceptor).transpose()?;
    let db = strata::Db::open(&config.data_dir, config.options.clone()).map_err(|source| {
        ServerError::Open {
            dir: config.data_dir.clone(),
            source,
        }
    })?;
    let state = AppState::new(db.clone(), &config);
    let served = runtime.block_on(async {
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let bound = listener.local_addr()?;
        let signal = shutdown_signal()?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        eprintln!(
            "strata listening on {scheme}://{bound} (data: {})",
            config.data_dir.display()
        );
        let signalled = Arc::new(Notify::new());
        let notify = Arc::clone(&signalled);
        let shutdown = async move {
            signal.await;
            eprintln!("strata: shutting down, finishing requests in flight");
            notify.notify_one();
        };
        let grace_over = async {
            signalled.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            () = serve_with(listener, state, acceptor, limits, shutdown) => {}
            () = grace_over => {
                eprintln!(
                    "strata: requests still running after {}s; closing the database anyway",
                    SHUTDOWN_GRACE.as_secs()
                );
            }
        }
        Ok::<(), ServerError>(())
    });
    // Requests cut off by the grace period fail with 503 from here on.
    let closed = db.close().map_err(ServerError::Close);
    runtime.shutdown_timeout(Duration::from_secs(1));
    served?;
    closed?;
    eprintln!("strata: database closed");
    Ok(())
}

/// A future resolving on the first SIGINT (Ctrl-C) or SIGTERM. The
/// handlers are installed now, not on first poll, so a signal sent as soon
/// as the "listening" line appears is not lost (or fatal).
///
/// # Errors
/// The operating system's error if a handler cannot be installed.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// A future resolving on the first Ctrl-C.
///
/// # Errors
/// Never; the signature matches the Unix one.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
