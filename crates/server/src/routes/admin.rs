//! `POST /admin/flush`, `POST /admin/compact`, `GET /admin/stats`, `GET
//! /metrics` and `GET /health`.

use std::ops::Bound;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, json_response};
use crate::metrics;
use crate::query::QueryParams;
use crate::state::AppState;
use crate::stats::StatsJson;

fn done(started: Instant) -> Response {
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ok", "elapsed_ms": elapsed_ms }),
    )
}

/// `POST /admin/flush`: writes the memtables to L0 tables; 200
/// `{"status": "ok", "elapsed_ms": N}` when done.
pub(crate) async fn flush(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    QueryParams::parse(&uri, &[])?;
    let started = Instant::now();
    state.blocking(|db| db.flush()).await?;
    Ok(done(started))
}

/// `POST /admin/compact[?start=&end=]`: compacts everything, or the tables
/// overlapping `[start, end)`; 200 as flush, when done.
pub(crate) async fn compact(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let params = QueryParams::parse(&uri, &["start", "end"])?;
    let start = params.bytes("start").map(<[u8]>::to_vec);
    let end = params.bytes("end").map(<[u8]>::to_vec);
    let started = Instant::now();
    state
        .blocking(move |db| match (start, end) {
            (None, None) => db.compact(),
            (start, end) => db.compact_range::<Vec<u8>, _>((
                start.map_or(Bound::Unbounded, Bound::Included),
                end.map_or(Bound::Unbounded, Bound::Excluded),
            )),
        })
        .await?;
    Ok(done(started))
}

/// `GET /admin/stats`: 200 with the engine's statistics as JSON.
pub(crate) async fn stats(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    QueryParams::parse(&uri, &[])?;
    let stats = state.blocking(|db| Ok(db.stats())).await?;
    Ok(json_response(StatusCode::OK, &StatsJson::from(&stats)))
}

/// `GET /metrics`: 200 with the Prometheus text exposition.
pub(crate) async fn metrics(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    QueryParams::parse(&uri, &[])?;
    let stats = state.blocking(|db| Ok(db.stats())).await?;
    let text = metrics::render(&stats, state.metrics());
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// `GET /health`: 200 `{"status": "ok"}` while the database answers
/// reads; 503 `shutting_down` once the server shuts down or the database
/// is closed. Never needs a token.
pub(crate) async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.blocking_open(|_| Ok(())).await?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ok" }),
    ))
}
