//! HTTP endpoints for machines: health, and the account's usage and license as JSON.

mod error;
mod health;
mod me;

pub use error::ApiError;

use app::state::AppState;
use axum::Router;

/// Every non-UI route, merged in one place.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).merge(me::router())
}
