//! HTTP endpoints for machines: health, the account's usage, license and keys as JSON.

mod error;
mod health;
mod keys;
mod me;

pub use error::{ApiError, ApiJson};

use app::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;

/// The largest JSON body these endpoints accept.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Every non-UI route, merged in one place.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(me::router())
        .merge(keys::router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}
