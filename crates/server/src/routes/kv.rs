//! `GET`, `PUT`/`POST` and `DELETE /kv/{key}`: one value and the
//! Content-Type it was stored with.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use strata::WriteBatch;

use crate::body::read_limited;
use crate::error::ApiError;
use crate::keys::{KeySource, check_key, content_type_key, percent_decode_path};
use crate::query::QueryParams;
use crate::state::AppState;
use crate::ttl::{expiry_from, parse_ttl_ms};

/// What GET answers for a value stored without a Content-Type.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The key of a `/{route}/{key}` URL: the percent-decoded bytes after the
/// route's prefix, checked like every client key.
///
/// # Errors
/// 400 `bad_key` or `reserved_key`, 414 `key_too_long`.
pub(crate) fn key_from_uri(state: &AppState, uri: &Uri, route: &str) -> Result<Vec<u8>, ApiError> {
    let raw = uri
        .path()
        .strip_prefix(route)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or("");
    let key = percent_decode_path(raw)?;
    check_key(&key, state.max_key_bytes(), KeySource::Url)?;
    Ok(key)
}

/// Adds a write of `key` → `value` and of its Content-Type side key (put
/// with the same expiry, or deleted when there is none) to `batch`.
///
/// # Errors
/// The engine's refusal of an oversized key or value (400).
pub(crate) fn add_put(
    batch: &mut WriteBatch,
    key: &[u8],
    value: &[u8],
    content_type: Option<&[u8]>,
    expires_at_ms: Option<u64>,
) -> strata::Result<()> {
    let ct_key = content_type_key(key);
    match expires_at_ms {
        Some(at) => batch.put_with_expiry(key, value, at)?,
        None => batch.put(key, value)?,
    }
    match (content_type, expires_at_ms) {
        (Some(ct), Some(at)) => batch.put_with_expiry(&ct_key, ct, at),
        (Some(ct), None) => batch.put(&ct_key, ct),
        (None, _) => batch.delete(&ct_key),
    }
}

/// Adds the deletion of `key` and of its Content-Type side key to `batch`.
///
/// # Errors
/// The engine's refusal of an oversized key (400).
pub(crate) fn add_delete(batch: &mut WriteBatch, key: &[u8]) -> strata::Result<()> {
    batch.delete(key)?;
    batch.delete(&content_type_key(key))
}

/// Checks a Content-Type given in a batch: it must be a valid header value.
///
/// # Errors
/// 400 `bad_parameter`.
pub(crate) fn check_content_type(ct: &str) -> Result<(), ApiError> {
    HeaderValue::from_str(ct).map(|_| ()).map_err(|_| {
        ApiError::bad_parameter(format!("content_type {ct:?} is not a valid header value"))
    })
}

/// `GET /kv/{key}`: 200 with the value and its stored Content-Type; 404
/// `not_found` when absent or expired.
pub(crate) async fn get(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let key = key_from_uri(&state, &uri, "/kv")?;
    QueryParams::parse(&uri, &[])?;
    let ct_key = content_type_key(&key);
    // One snapshot, so the value and its Content-Type come from the same write.
    let (value, content_type) = state
        .blocking_open(move |db| {
            let snapshot = db.snapshot();
            let value = snapshot.get(&key)?;
            let ct = match value {
                Some(_) => snapshot.get(&ct_key)?,
                None => None,
            };
            Ok((value, ct))
        })
        .await?;
    let Some(value) = value else {
        return Err(ApiError::not_found("no such key"));
    };
    let content_type = content_type
        .and_then(|ct| HeaderValue::from_bytes(&ct).ok())
        .unwrap_or(HeaderValue::from_static(DEFAULT_CONTENT_TYPE));
    Ok(([(header::CONTENT_TYPE, content_type)], value).into_response())
}

/// `PUT` or `POST /kv/{key}[?ttl=]`: stores the body as the value and the
/// request's Content-Type (none: the stored one is removed). 204.
pub(crate) async fn put(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = key_from_uri(&state, &uri, "/kv")?;
    let params = QueryParams::parse(&uri, &["ttl"])?;
    let expires = params
        .text("ttl")?
        .map(parse_ttl_ms)
        .transpose()?
        .map(|ms| expiry_from(state.db().now_millis(), ms));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes().to_vec());
    let value = read_limited(body, state.max_body_bytes(), state.stall_timeout()).await?;
    state
        .blocking(move |db| {
            let mut batch = WriteBatch::with_capacity(2 * key.len() + value.len() + 64);
            add_put(&mut batch, &key, &value, content_type.as_deref(), expires)?;
            db.write(batch)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /kv/{key}`: removes the value and its Content-Type (absent keys
/// are fine). 204.
pub(crate) async fn delete(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    delete_under(state, &uri, "/kv").await
}

/// Deletes the key named by `uri` below `route` and its Content-Type, in
/// one batch. 204. Shared by `DELETE /kv/{key}` and `DELETE /seq/{name}`.
pub(crate) async fn delete_under(
    state: AppState,
    uri: &Uri,
    route: &str,
) -> Result<Response, ApiError> {
    let key = key_from_uri(&state, uri, route)?;
    QueryParams::parse(uri, &[])?;
    state
        .blocking(move |db| {
            let mut batch = WriteBatch::new();
            add_delete(&mut batch, &key)?;
            db.write(batch)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
