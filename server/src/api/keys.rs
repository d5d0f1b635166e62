//! `/api/v1/user/keys`: a customer's own API keys, for programs. Authenticated by one of
//! the account's keys (or a session); scoped to that account.

use super::{ApiError, ApiJson};
use crate::auth::Customer;
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use chrono::{Duration, Utc};
use engine::auth::KeyName;
use model::{ApiKeyView, CreatedKey, KeyKind};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/user/keys", get(list).post(create))
        .route("/api/v1/user/keys/{id}", delete(revoke))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    /// `live` (default) or `test`.
    #[serde(default)]
    environment: Option<String>,
    /// Optional lifetime in days, 1 to 3650.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

async fn list(State(state): State<AppState>, customer: Customer) -> Result<ApiJson<Vec<ApiKeyView>>, ApiError> {
    Ok(ApiJson(state.engine.list_keys(&customer.account).await?))
}

async fn create(
    State(state): State<AppState>,
    customer: Customer,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, ApiJson<CreatedKey>), ApiError> {
    let name = KeyName::parse(&body.name)?;
    let environment = body.environment.as_deref().unwrap_or("live");
    let kind = KeyKind::customer_environment(environment).ok_or_else(|| ApiError::Invalid {
        field: "environment".into(),
        message: format!("environment must be \"live\" or \"test\", not {environment:?}"),
    })?;
    let now = Utc::now();
    let expires_at = match body.expires_in_days {
        None => None,
        Some(days @ 1..=3650) => Some(now + Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::Invalid { field: "expires_in_days".into(), message: "expires_in_days must be 1 to 3650".into() })
        }
    };
    let created = state.engine.create_key(&customer.actor, Some(&customer.account), kind, &name, expires_at, now).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

async fn revoke(State(state): State<AppState>, customer: Customer, Path(id): Path<String>) -> Result<ApiJson<ApiKeyView>, ApiError> {
    Ok(ApiJson(state.engine.revoke_key(&customer.actor, &customer.account, &id, Utc::now()).await?))
}
