//! Fuzz target bodies, called by the cargo-fuzz package in `fuzz/` and
//! replayed over the seed corpus by this crate's tests.
//!
//! Not part of the supported API: hidden from docs, may change at any time.
//! [`http_request`] never panics on any input unless the server breaks a
//! promise of `docs/http-api.md`; then it panics with a message saying which.
//!
//! ## Input
//! One flags byte, then up to [`MAX_REQUESTS`] requests separated by the
//! line `---` (`"\n---\n"`), each written like HTTP/1.1:
//!
//! ```text
//! METHOD TARGET
//! Header-Name: value
//!
//! body
//! ```
//!
//! Lines end with `\n` (a `\r` before it is dropped). A request whose method
//! or target `http` refuses is one the HTTP layer would answer itself with a
//! bare 400: only the server's own decoders see it. Flags: bit 0, the server
//! requires the token [`TOKEN`]; bit 1, 16-byte key limit (instead of 4096);
//! bit 2, 64-byte body limit (instead of 64 KiB); bit 3, shutdown begins after
//! the first request; bit 4, the database is closed after the first request.

mod checks;
mod decoders;
mod request;

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use strata::{Db, ManualClock, Options};
use strata_core::{FaultFs, FileSystem};

use crate::keys::content_type_key;
use crate::{AppState, ServerConfig, router};
use checks::{Expect, check_response};
use request::{RawRequest, build, split_requests};

/// Requests taken from one input at most.
pub const MAX_REQUESTS: usize = 4;

/// The token a server started with flag bit 0 requires.
pub const TOKEN: &str = "s3cret";

/// What separates requests in an input.
pub const SEPARATOR: &[u8] = b"\n---\n";

/// Server settings a run uses: the first input byte.
#[derive(Debug, Clone, Copy)]
struct Flags {
    token: bool,
    small_keys: bool,
    small_bodies: bool,
    shutdown_after_first: bool,
    close_after_first: bool,
}

impl Flags {
    fn decode(b: u8) -> Self {
        Self {
            token: b & 1 != 0,
            small_keys: b & 2 != 0,
            small_bodies: b & 4 != 0,
            shutdown_after_first: b & 8 != 0,
            close_after_first: b & 16 != 0,
        }
    }
}

/// Feeds `data` (see the module docs) to the server: each request through
/// the whole [`router`] (token check, shutdown gate, routes, fallbacks) over
/// a database on an in-memory [`FaultFs`] holding a few keys, and the raw
/// path, query and TTL texts through the server's decoders directly.
///
/// Asserts: no panic anywhere (handler or engine); every status is one
/// `docs/http-api.md` documents for a healthy disk (no 500); every error
/// body is JSON with string `error` and `code`, the code one documented for
/// that status; 405 lists the allowed methods; 401 only with a token
/// configured and not presented, 503 only after shutdown or close;
/// `PUT`/`DELETE /kv/{key}` answered 204 leave the database holding the
/// body / nothing, `GET /kv/{key}` answers exactly the stored bytes, a
/// listing is sorted, within its limit and free of reserved keys; query
/// parameters and keys that decode re-encode to the same bytes; TTL texts
/// parse exactly when they have the documented form.
pub fn http_request(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let flags = Flags::decode(flags);
    let requests = split_requests(rest);
    for raw in &requests {
        decoders::check_decoders(raw.target);
        decoders::check_ttl_text(raw.body);
    }
    RUNTIME.with(|rt| {
        if let Some(rt) = rt {
            rt.block_on(serve_all(flags, &requests));
        }
    });
}

thread_local! {
    /// One current-thread runtime per fuzzing thread, reused across
    /// inputs: building one per input would dominate the cost.
    static RUNTIME: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
}

/// Keys the database holds before the requests: a counter, text with a
/// stored Content-Type, a binary key, a value that is not a counter, a
/// counter at `i64::MAX`, and a value with a TTL.
fn populate(db: &Db) -> strata::Result<()> {
    db.put("n", "41")?;
    db.put("text", "hello")?;
    db.put(content_type_key(b"text"), "text/plain")?;
    db.put(b"bin\xff\x00", b"\x00\x01\xfe")?;
    db.put("seq/x", "not a number")?;
    db.put("max", i64::MAX.to_string())?;
    db.put_with_ttl("ttl", "soon", std::time::Duration::from_secs(60))
}

async fn serve_all(flags: Flags, requests: &[RawRequest<'_>]) {
    let fs = FaultFs::new();
    if fs.create_dir_all(Path::new("/db")).is_err() {
        return;
    }
    let options = Options::default()
        .file_system(Arc::new(fs))
        .clock(Arc::new(ManualClock::new(1_700_000_000_000)))
        .memtable_size(4096)
        .block_cache_bytes(0);
    let db = match Db::open("/db", options.clone()) {
        Ok(db) => db,
        Err(e) => panic!("opening the database: {e}"),
    };
    if let Err(e) = populate(&db) {
        panic!("populating the database: {e}");
    }
    let config = ServerConfig {
        token: flags.token.then(|| TOKEN.to_string()),
        max_key_bytes: if flags.small_keys { 16 } else { 4096 },
        max_body_bytes: if flags.small_bodies { 64 } else { 64 << 10 },
        options,
        ..ServerConfig::default()
    };
    let state = AppState::new(db.clone(), &config);
    let app = router(state.clone());
    let mut stopped = false;
    for (i, raw) in requests.iter().enumerate() {
        let Some(request) = build(raw) else { continue };
        let expect = Expect::new(&request, raw.body, flags, stopped);
        let response = call(app.clone(), request).await;
        check_response(response, &expect, &db, &format!("request #{i}")).await;
        if i == 0 && flags.shutdown_after_first {
            state.begin_shutdown();
            stopped = true;
        }
        if i == 0 && flags.close_after_first {
            let _ = db.close();
            stopped = true;
        }
    }
    let _ = db.close();
}

/// Calls the router as the HTTP layer does. (Generic so that `Service` is
/// in scope through `axum::ServiceExt` without a dependency on `tower`.)
async fn call<S>(mut service: S, request: Request<Body>) -> Response
where
    S: axum::ServiceExt<Request<Body>, Response = Response, Error = Infallible>,
{
    match service.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
