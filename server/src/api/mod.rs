//! HTTP endpoints for machines, one file per resource: health, the metering API (verify,
//! usage, quotas, entitlements, grants), the account's usage, license, keys and
//! notifications as JSON, where alerts go (webhook endpoints, deliveries, email settings), billing webhooks, and the OpenAPI document. [`extract`] says who calls.

pub mod extract;
mod channels;
mod entitlements;
mod grants;
mod health;
mod keys;
mod live;
pub mod limits;
mod me;
mod notifications;
pub mod openapi;
mod quotas;
pub mod usage;
mod verify;
mod webhooks;

pub use crate::error::{ApiError, ApiJson, BODY_LIMIT};

use app::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use chrono::{DateTime, Utc};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// `/api/v1`: every route here is in the OpenAPI document, because both come from the same
/// handler annotations.
pub fn v1() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(verify::router())
        .merge(usage::router())
        .merge(quotas::router())
        .merge(entitlements::router())
        .merge(grants::router())
        .merge(me::v1_router())
        .merge(notifications::router())
        .merge(channels::router())
        .merge(keys::router())
        .split_for_parts()
}

/// Every non-UI route, merged in one place.
pub fn router(state: &AppState) -> Router<AppState> {
    let (v1, doc) = v1();
    Router::new()
        .merge(v1)
        .merge(me::router())
        .merge(live::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::key_layer))
        .merge(health::router())
        .merge(webhooks::router())
        .merge(openapi::router(openapi::with_catalog(&openapi::finish(doc), state.engine.catalog())))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Whole seconds from `now` until `at`, at least one (a `Retry-After` value).
fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0).max(1)
}
