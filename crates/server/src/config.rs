//! [`ServerConfig`]: where the server keeps its data, where it listens, and
//! its limits.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

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
