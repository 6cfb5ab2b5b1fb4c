//! `POST /batch`: several puts and deletes applied atomically.
//!
//! ```json
//! {"ops": [
//!   {"op": "put", "key": "user:1", "value": "ada", "ttl": "1h", "content_type": "text/plain"},
//!   {"op": "put", "key": "/w==", "key_encoding": "base64", "value": "AAE=", "value_encoding": "base64"},
//!   {"op": "delete", "key": "user:2"}
//! ]}
//! ```
//!
//! Every op is checked (JSON shape, encodings, key rules, TTL, Content-Type,
//! engine limits) before anything is written; one bad op rejects the whole
//! batch and nothing is applied. Ops apply in order, so a later op on the
//! same key wins.

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use strata::WriteBatch;

use crate::body::read_limited;
use crate::error::{ApiError, json_response};
use crate::keys::{Encoding, KeySource, check_key, from_json_text};
use crate::query::QueryParams;
use crate::routes::kv::{add_delete, add_put, check_content_type};
use crate::state::AppState;
use crate::ttl::{expiry_from, parse_ttl_ms};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    ops: Vec<Op>,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Op {
    Put {
        key: String,
        #[serde(default)]
        key_encoding: Encoding,
        value: String,
        #[serde(default)]
        value_encoding: Encoding,
        ttl: Option<Ttl>,
        content_type: Option<String>,
    },
    Delete {
        key: String,
        #[serde(default)]
        key_encoding: Encoding,
    },
}

/// A TTL as in `?ttl=` (`"30s"`), or a number of milliseconds.
#[derive(Deserialize)]
#[serde(untagged)]
enum Ttl {
    Millis(u64),
    Text(String),
}

/// `POST /batch`: 200 `{"applied": N}`; 400 `bad_json` for a body that is
/// not the documented shape, 400 with the failing op's index for a bad op.
pub(crate) async fn apply(
    State(state): State<AppState>,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    QueryParams::parse(&uri, &[])?;
    let body = read_limited(body, state.max_body_bytes(), state.stall_timeout()).await?;
    let request: BatchRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the batch is not valid JSON of the documented shape: {e}"),
        )
    })?;
    let applied = request.ops.len();
    let mut batch = WriteBatch::with_capacity(body.len());
    let now_ms = state.db().now_millis();
    for (i, op) in request.ops.into_iter().enumerate() {
        add_op(&mut batch, op, state.max_key_bytes(), now_ms).map_err(|mut e| {
            e.message = format!("op {i}: {}; nothing was applied", e.message);
            e
        })?;
    }
    if !batch.is_empty() {
        state.blocking(move |db| db.write(batch)).await?;
    }
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "applied": applied }),
    ))
}

fn add_op(batch: &mut WriteBatch, op: Op, max_key: usize, now_ms: u64) -> Result<(), ApiError> {
    match op {
        Op::Put {
            key,
            key_encoding,
            value,
            value_encoding,
            ttl,
            content_type,
        } => {
            let key = from_json_text(&key, key_encoding, "key")?;
            check_key(&key, max_key, KeySource::Body)?;
            let value = from_json_text(&value, value_encoding, "value")?;
            let expires = match ttl {
                None => None,
                Some(Ttl::Millis(0)) => {
                    return Err(ApiError::bad_parameter("ttl must be positive"));
                }
                Some(Ttl::Millis(ms)) => Some(expiry_from(now_ms, ms)),
                Some(Ttl::Text(t)) => Some(expiry_from(now_ms, parse_ttl_ms(&t)?)),
            };
            if let Some(ct) = &content_type {
                check_content_type(ct)?;
            }
            add_put(
                batch,
                &key,
                &value,
                content_type.as_deref().map(str::as_bytes),
                expires,
            )?;
        }
        Op::Delete { key, key_encoding } => {
            let key = from_json_text(&key, key_encoding, "key")?;
            check_key(&key, max_key, KeySource::Body)?;
            add_delete(batch, &key)?;
        }
    }
    Ok(())
}
