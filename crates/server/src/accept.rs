//! The accept loop and the life of one connection: at most
//! `max_connections` at once, each bounded in time where a client could
//! otherwise hold it forever, all told to finish on shutdown.
//!
//! Time limits (all from [`Limits`]):
//! * TLS handshake: `header_timeout`, then the connection is dropped;
//! * request headers: `header_timeout` from the connection's start or from
//!   the previous response (hyper's header read timeout; so idle keep-alive
//!   connections close too), then the connection is closed unanswered;
//! * request body: `stall_timeout` without a byte, then 408 (in
//!   [`crate::body`]);
//! * response: a write blocked for `stall_timeout` drops the connection
//!   ([`WriteStallGuard`]).
//!
//! Handlers themselves are not timed: a long `POST /admin/compact` is fine.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::stall_io::WriteStallGuard;

/// The per-connection limits of [`ServerConfig`](crate::ServerConfig).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) header_timeout: Duration,
    pub(crate) stall_timeout: Duration,
    /// At least 1 (checked with the configuration).
    pub(crate) max_connections: u32,
}

/// Accepts connections on `listener` and serves `app` on each until
/// `shutdown` resolves; then closes the listener, lets every connection
/// finish the request it is in (hyper's graceful shutdown: an idle
/// connection closes at once, a busy one after its response), and returns
/// once all are closed.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    acceptor: Option<TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // A permit per open connection: waiting for all of them back is waiting
    // for every connection to close.
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        // At the limit, stop accepting: new clients wait in the listen
        // backlog, not in memory.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather
                    // than spin. Per-connection errors are not worth one.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::ConnectionRefused
                    ) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        // Small answers go out at once rather than after Nagle's delay.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let acceptor = acceptor.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            let _slot = slot;
            connection(stream, app, acceptor, limits, stopping).await;
        });
    }
    drop(listener);
    stop.send_replace(true);
    let _ = slots.acquire_many(limits.max_connections).await;
}

/// One connection, TLS-handshaken first if `acceptor` is set.
async fn connection(
    stream: TcpStream,
    app: Router,
    acceptor: Option<TlsAcceptor>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let Some(acceptor) = acceptor else {
        return http(stream, app, limits, stopping).await;
    };
    let handshake = tokio::time::timeout(limits.header_timeout, acceptor.accept(stream));
    let shaken = tokio::select! {
        // A client still shaking hands has no request to finish.
        _ = stopping.wait_for(|stop| *stop) => return,
        shaken = handshake => shaken,
    };
    if let Ok(Ok(tls)) = shaken {
        http(tls, app, limits, stopping).await;
    }
}

/// Serves HTTP/1.1 on `io` until the client leaves, a limit closes the
/// connection, or shutdown ends it gracefully.
async fn http<T>(io: T, app: Router, limits: Limits, mut stopping: watch::Receiver<bool>)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(WriteStallGuard::new(io, limits.stall_timeout));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut conn = pin!(builder.serve_connection(io, TowerToHyperService::new(app)));
    tokio::select! {
        // The client left, misbehaved or timed out: nothing to report.
        _ = conn.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
