//! [`serve`] (an open database on a bound listener, until a future resolves)
//! and [`run`] (the whole life of `strata serve`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::router::router;
use crate::state::AppState;
use crate::tls::{TlsListener, load_acceptor};

/// How long [`run`] waits for in-flight requests after a shutdown signal
/// before it closes the database anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves the HTTP API for `db` on `listener` until `shutdown` resolves,
/// then stops accepting connections, answers 503 to requests that start
/// after that, and returns once the requests in flight have finished.
///
/// Uses `config.token`, `config.tls`, `config.max_body_bytes` and
/// `config.max_key_bytes`; `data_dir`, `addr` and `options` are for
/// [`run`]. The database stays open: the caller closes it (as [`run`]
/// does) after this returns.
///
/// # Errors
/// [`ServerError::Config`] for an empty token and [`ServerError::Tls`] if
/// `config.tls` names unusable files (both checked before serving);
/// [`ServerError::Io`] if the listener fails.
pub async fn serve(
    listener: TcpListener,
    db: strata::Db,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    check_config(&config)?;
    let acceptor = config.tls.as_ref().map(load_acceptor).transpose()?;
    serve_with(listener, AppState::new(db, &config), acceptor, shutdown).await
}

/// Refuses configurations that would serve something else than asked.
///
/// # Errors
/// [`ServerError::Config`] for an empty token (an empty token file must not
/// silently turn authentication off).
fn check_config(config: &ServerConfig) -> Result<(), ServerError> {
    if config.token.as_deref().is_some_and(str::is_empty) {
        return Err(ServerError::Config(
            "the token is empty; give a non-empty token or none".into(),
        ));
    }
    Ok(())
}

async fn serve_with(
    listener: TcpListener,
    state: AppState,
    acceptor: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let app = router(state.clone());
    let signal = async move {
        shutdown.await;
        // Before axum tells the connections: a request that starts from
        // here on is answered 503.
        state.begin_shutdown();
    };
    match acceptor {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await?;
        }
        Some(acceptor) => {
            axum::serve(TlsListener::new(listener, acceptor)?, app)
                .with_graceful_shutdown(signal)
                .await?;
        }
    }
    Ok(())
}

/// Opens `config.data_dir`, listens on `config.addr`, and serves until
/// SIGINT or SIGTERM; then stops accepting, lets in-flight requests finish
/// (for up to 30 seconds), and closes the database. Blocks the calling
/// thread: it builds its own tokio runtime.
///
/// Prints `strata listening on http://ADDR (data: DIR)` (`https` with TLS)
/// to stderr once bound.
///
/// # Errors
/// [`ServerError::Config`], [`ServerError::Tls`], [`ServerError::Open`] or
/// [`ServerError::Bind`] if the server cannot start; [`ServerError::Io`] if
/// serving fails; [`ServerError::Close`] if closing the database fails.
pub fn run(config: ServerConfig) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Configuration and TLS files first: a typo there should not cost a
    // database open.
    check_config(&config)?;
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
            served = serve_with(listener, state, acceptor, shutdown) => served,
            () = grace_over => {
                eprintln!(
                    "strata: requests still running after {}s; closing the database anyway",
                    SHUTDOWN_GRACE.as_secs()
                );
                Ok(())
            }
        }
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
