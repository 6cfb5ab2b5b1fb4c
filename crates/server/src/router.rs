//! [`router`]: the routes, the JSON fallbacks for unknown routes and
//! methods, and the middleware around them.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::routes::{admin, batch, kv, list, page, seq};
use crate::state::AppState;
use crate::{auth, metrics};

/// The HTTP API over `state` (see `docs/http-api.md`), ready for
/// `axum::serve` or [`serve`](crate::serve).
///
/// Requests pass, outermost first: the response counters of `/metrics`, the
/// shutdown gate (503 once [`AppState::begin_shutdown`] was called), the
/// token check (401), then the route (404 JSON for an unknown path, 405
/// JSON for a known path with another method).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/assets/app.js", get(page::script))
        .route("/assets/app.css", get(page::style))
        .route("/kv", get(list::list))
        .route(
            "/kv/{*key}",
            get(kv::get).put(kv::put).post(kv::put).delete(kv::delete),
        )
        .route("/batch", post(batch::apply))
        .route(
            "/seq/{*name}",
            post(seq::increment).get(seq::get).delete(seq::delete),
        )
        .route("/admin/flush", post(admin::flush))
        .route("/admin/compact", post(admin::compact))
        .route("/admin/stats", get(admin::stats))
        .route("/metrics", get(admin::metrics))
        .route("/health", get(admin::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), auth::require_token))
        .layer(from_fn_with_state(state.clone(), shutdown_gate))
        .layer(from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_route",
        format!("no route {} {}", request.method(), request.uri().path()),
    )
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Middleware: 503 for every request that starts after shutdown began.
async fn shutdown_gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.is_shutting_down() {
        return ApiError::shutting_down().into_response();
    }
    next.run(request).await
}
