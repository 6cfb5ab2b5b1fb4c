//! # strata-server
//!
//! strata's HTTP API as a library: an [`axum`] [`Router`](axum::Router) over
//! one open [`strata::Db`], the [`serve`] loop that runs it on a listener
//! (plain HTTP or TLS), and [`run`], which the `strata serve` command calls:
//! open the data directory, listen, serve until SIGINT/SIGTERM, close.
//!
//! Routes (all documented in `docs/http-api.md`): `GET/PUT/POST/DELETE
//! /kv/{key}`, `GET /kv` (paged listing), `POST /batch`, `POST/GET/DELETE
//! /seq/{name}`, `POST /admin/flush`, `POST /admin/compact`, `GET
//! /admin/stats`, `GET /metrics`, `GET /health`, and the web page: `GET /`
//! with its `GET /assets/app.js` and `GET /assets/app.css`, embedded in the
//! binary.
//!
//! ## Invariants
//! * A key in a URL is the percent-decoded bytes of its path segment(s), as
//!   is: any byte string is addressable, not only UTF-8.
//! * Keys under [`RESERVED_PREFIX`] belong to the server: every `/kv`,
//!   `/seq` and `/batch` request naming one is refused (400 `reserved_key`)
//!   and listings never show them.
//! * The Content-Type a value was stored with lives under
//!   `RESERVED_PREFIX + "ct/" + key`, written, expired and deleted in the
//!   same [`strata::WriteBatch`] as the value, so the two never disagree.
//! * Every error is a JSON body `{"error": "...", "code": "..."}` with a
//!   fitting status; nothing a client sends reaches an `unwrap` or a panic.
//!
//! ## Concurrency
//! Each connection is served by its own task (hyper's HTTP/1.1 connection
//! with a header read timeout and a stall timeout on its writes), at most
//! `max_connections` at once; see `docs/http-api.md`, "Slow clients and
//! connection limits". Handlers run on the tokio runtime; every call into
//! the engine (which blocks on I/O and locks) runs on tokio's blocking pool
//! via `spawn_blocking`, so slow disks never stall the async threads. The
//! engine serialises what needs it (group commit, counter increments), so
//! handlers share one [`strata::Db`] without further locking. Shutdown stops
//! accepting connections, lets in-flight requests finish (new requests on
//! open connections get 503), and only then does [`run`] close the database.
//!
//! ```no_run
//! use strata_server::{ServerConfig, run};
//!
//! let config = ServerConfig {
//!     data_dir: "strata-data".into(),
//!     token: std::env::var("STRATA_TOKEN").ok(),
//!     ..ServerConfig::default()
//! };
//! run(config)?; // until Ctrl-C
//! # Ok::<(), strata_server::ServerError>(())
//! ```
#![forbid(unsafe_code)]

mod accept;
mod auth;
mod body;
mod config;
mod error;
mod keys;
mod metrics;
mod query;
mod router;
mod serve;
mod stall_io;
mod state;
mod stats;
mod tls;
mod ttl;

mod routes;

#[doc(hidden)]
pub mod fuzzing;

pub use config::{ServerConfig, TlsFiles};
pub use error::ServerError;
pub use keys::RESERVED_PREFIX;
pub use router::router;
pub use serve::{run, serve};
pub use state::AppState;

/// Compiles and runs the README's example as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
