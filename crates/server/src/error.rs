//! Errors: [`ApiError`], what a request gets back, and [`ServerError`], why
//! the server itself could not run.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why [`run`](crate::run) or [`serve`](crate::serve) stopped with an error.
/// `Display` is one line naming what failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The database could not be opened.
    #[error("cannot open the database in {}: {source}", dir.display())]
    Open {
        /// The data directory.
        dir: PathBuf,
        /// What the engine reported.
        source: strata::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The configuration cannot work (e.g. an empty token).
    #[error("bad server configuration: {0}")]
    Config(String),
    /// The TLS certificate or key could not be loaded or do not fit.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The async runtime could not start, or serving failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Closing the database after serving failed (writes acknowledged under
    /// a sync policy other than `Always` may not be durable).
    #[error("closing the database failed: {0}")]
    Close(strata::Error),
}

/// An error answered to a client: a status and a JSON body
/// `{"error": message, "code": code}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    /// snake_case and stable: clients match on it.
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 for a query parameter or field the server cannot use.
    pub(crate) fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_parameter", message)
    }

    /// 404 for an absent (deleted, expired, never written) key.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 503 while the server shuts down or after the database closed.
    pub(crate) fn shutting_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
    }

    /// 500 for an engine task that died instead of returning.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<strata::Error> for ApiError {
    fn from(e: strata::Error) -> Self {
        let (status, code) = match &e {
            strata::Error::InvalidArgument(_) => (StatusCode::BAD_REQUEST, "invalid_argument"),
            strata::Error::Closed => return ApiError::shutting_down(),
            strata::Error::Corruption { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "corruption"),
            strata::Error::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "io_error"),
            strata::Error::Background(_) => (StatusCode::INTERNAL_SERVER_ERROR, "background_error"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "engine_error"),
        };
        Self::new(status, code, format!("engine error: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "code": self.code });
        let mut response = json_response(self.status, &body);
        if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT
        ) {
            // The connection will not serve another request (for 408: the
            // rest of the body may never come).
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A JSON response with its Content-Type. (`axum::Json` needs axum's
/// `json` feature and its dependencies; this is all the server needs.)
pub(crate) fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        // Only a map with non-string keys or a failing Serialize impl can
        // get here; this crate has neither.
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode JSON: {e}"),
        )
            .into_response(),
    }
}
