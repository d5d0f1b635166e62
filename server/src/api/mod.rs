//! HTTP endpoints for machines: health, the metering API, the account's usage, license and
//! keys as JSON, and the OpenAPI document.

mod error;
mod health;
mod keys;
pub mod limits;
mod me;
pub mod metering;
pub mod openapi;
mod webhooks;

pub use error::{ApiError, ApiJson};

use app::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// The largest JSON body these endpoints accept (ingest has its own, larger limit).
pub const BODY_LIMIT: usize = 64 * 1024;

/// `/api/v1`: every route here is in the OpenAPI document, because both come from the same
/// handler annotations.
pub fn v1() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(metering::router())
        .merge(me::v1_router())
        .merge(keys::router())
        .split_for_parts()
}

/// Every non-UI route, merged in one place.
pub fn router(state: &AppState) -> Router<AppState> {
    let (v1, doc) = v1();
    Router::new()
        .merge(v1)
        .merge(me::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::key_layer))
        .merge(health::router())
        .merge(webhooks::router())
        .merge(openapi::router(openapi::finish(doc)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}
