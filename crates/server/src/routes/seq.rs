//! `POST`, `GET` and `DELETE /seq/{name}`: counters. A counter is a plain
//! key holding decimal text (`GET /kv/{name}` shows it); the engine's
//! `increment` makes concurrent increments atomic.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use crate::error::{ApiError, json_response};
use crate::keys::{Encoding, to_json_text};
use crate::query::QueryParams;
use crate::routes::kv::key_from_uri;
use crate::state::AppState;

#[derive(Serialize)]
struct Counter {
    name: String,
    name_encoding: Encoding,
    value: i64,
}

fn counter(name: &[u8], value: i64) -> Response {
    let (name, name_encoding) = to_json_text(name);
    json_response(
        StatusCode::OK,
        &Counter {
            name,
            name_encoding,
            value,
        },
    )
}

fn not_a_counter() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_a_counter",
        "the key holds a value that is not a decimal i64",
    )
}

fn parse_counter(value: &[u8]) -> Option<i64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// What a failed increment meant.
enum Failure {
    NotACounter,
    Overflow,
    Engine(strata::Error),
}

/// `POST /seq/{name}[?by=N]` (default 1): 200 `{"name", "name_encoding",
/// "value"}` with the new value; 409 `not_a_counter` or
/// `counter_overflow`.
pub(crate) async fn increment(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let name = key_from_uri(&state, &uri, "/seq")?;
    let by = QueryParams::parse(&uri, &["by"])?
        .number::<i64>("by")?
        .unwrap_or(1);
    let key = name.clone();
    let outcome = state
        .blocking(move |db| {
            Ok(match db.increment(&key, by) {
                Ok(v) => Ok(v),
                // The engine says InvalidArgument both for a value that is
                // not a number and for an overflow: look to tell them apart.
                Err(strata::Error::InvalidArgument(_)) => Err(match db.get(&key)? {
                    Some(v) if parse_counter(&v).is_some() => Failure::Overflow,
                    Some(_) => Failure::NotACounter,
                    None => Failure::Engine(strata::Error::invalid_argument(
                        "the increment was refused",
                    )),
                }),
                Err(e) => Err(Failure::Engine(e)),
            })
        })
        .await?;
    match outcome {
        Ok(value) => Ok(counter(&name, value)),
        Err(Failure::NotACounter) => Err(not_a_counter()),
        Err(Failure::Overflow) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "counter_overflow",
            format!("adding {by} would overflow the i64 counter"),
        )),
        Err(Failure::Engine(e)) => Err(e.into()),
    }
}

/// `GET /seq/{name}`: 200 with the value; 404 `not_found`; 409
/// `not_a_counter`.
pub(crate) async fn get(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let name = key_from_uri(&state, &uri, "/seq")?;
    QueryParams::parse(&uri, &[])?;
    let key = name.clone();
    let value = state.blocking(move |db| db.get(&key)).await?;
    let value = value.ok_or_else(|| ApiError::not_found("no such counter"))?;
    let value = parse_counter(&value).ok_or_else(not_a_counter)?;
    Ok(counter(&name, value))
}

/// `DELETE /seq/{name}`: deletes the key (and any stored Content-Type).
/// 204.
pub(crate) async fn delete(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    super::kv::delete_under(state, &uri, "/seq").await
}
