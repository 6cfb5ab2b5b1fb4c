//! [`ServerConfig`]: where the server keeps its data, where it listens, and
//! its limits.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The PEM files of a TLS certificate chain and its private key
/// (`strata serve --tls-cert FILE --tls-key FILE`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// The private key of the leaf certificate (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How [`run`](crate::run) and [`serve`](crate::serve) behave.
///
/// Build one with struct-update syntax over the defaults:
///
/// ```
/// use strata_server::ServerConfig;
/// let config = ServerConfig { max_body_bytes: 1 << 20, ..ServerConfig::default() };
/// assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
/// ```
///
/// Its `Debug` output shows `token: Some("<redacted>")`, never the token.
#[derive(Clone)]
pub struct ServerConfig {
    /// The database directory (default `strata-data`, relative to the
    /// working directory). Used by [`run`](crate::run) only; [`serve`](crate::serve)
    /// is handed an open database.
    pub data_dir: PathBuf,
    /// Where to listen (default `127.0.0.1:8080`: loopback only). Used by
    /// [`run`](crate::run) only.
    pub addr: SocketAddr,
    /// The bearer token every route but `GET /health` requires; `None`
    /// (the default) means no authentication.
    pub token: Option<String>,
    /// Serve HTTPS with these files; `None` (the default) serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Largest request body accepted (default 16 MiB); larger ones get 413.
    pub max_body_bytes: usize,
    /// Longest key accepted (default 4096 bytes); longer ones get 414 in a
    /// URL and 400 in a batch. Clamped so that the server's side keys stay
    /// within the engine's key limit.
    pub max_key_bytes: usize,
    /// How long a client has to send a request's headers, counted from
    /// when the connection opens or the previous response was sent — so it
    /// is also how long an idle keep-alive connection stays open — and how
    /// long a TLS handshake may take (default 30 s). Past it the connection
    /// is closed without an answer.
    pub header_timeout: Duration,
    /// Longest pause allowed while a request body arrives (408
    /// `body_timeout`, then the connection is closed) or while a response
    /// cannot be written because the client does not read it (the
    /// connection is closed). Default 30 s.
    pub stall_timeout: Duration,
    /// Connections served at once, TLS handshakes included (default 512:
    /// well under the common limit of 1024 open files, which the database's
    /// table files share). Further connections wait in the listen backlog
    /// until one closes. Must be at least 1.
    pub max_connections: usize,
    /// Threads that run engine calls (tokio's blocking pool) in
    /// [`run`](crate::run); a request finding all of them busy waits for
    /// one (default 16; at least 1). [`serve`](crate::serve) runs on the
    /// caller's runtime and ignores it. Unbounded, the pool grows to
    /// hundreds of threads under load, each holding its own allocator
    /// caches: the server soak measured resident memory growing past 2 GiB
    /// in two minutes that way.
    pub engine_threads: usize,
    /// The engine's options (default [`strata::Options::default`]). Used by
    /// [`run`](crate::run) only.
    pub options: strata::Options,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("strata-data"),
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            token: None,
            tls: None,
            max_body_bytes: 16 << 20,
            max_key_bytes: 4096,
            header_timeout: Duration::from_secs(30),
            stall_timeout: Duration::from_secs(30),
            max_connections: 512,
            engine_threads: 16,
            options: strata::Options::default(),
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("data_dir", &self.data_dir)
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_key_bytes", &self.max_key_bytes)
            .field("header_timeout", &self.header_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("max_connections", &self.max_connections)
            .field("engine_threads", &self.engine_threads)
            .field("options", &self.options)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_token() {
        let config = ServerConfig {
            token: Some("hunter2".into()),
            ..ServerConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
