//! `/api/v1/user/keys`: a customer's own API keys, for programs. Authenticated by one of
//! the account's keys (or a session); scoped to that account.

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::api::extract::Customer;
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use chrono::Duration;
use engine::auth::KeyName;
use model::{ApiKeyView, CreatedKey, KeyId, KeyKind};
use serde::Deserialize;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(revoke))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    /// `live` (default) or `test`.
    #[serde(default)]
    environment: Option<String>,
    /// Optional lifetime in days, 1 to 3650.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// The account's keys, newest first. Never the plaintext or the hash.
#[utoipa::path(get, path = "/api/v1/user/keys", tag = "keys",
    responses((status = 200, body = Vec<ApiKeyView>), (status = 401, description = "No valid key or session")),
    security(("customer_key" = [])))]
async fn list(State(state): State<AppState>, customer: Customer) -> Result<ApiJson<Vec<ApiKeyView>>, ApiError> {
    Ok(ApiJson(state.engine.list_keys(&customer.account).await?))
}

/// Creates a key for the account; its plaintext is in this answer and nowhere else.
#[utoipa::path(post, path = "/api/v1/user/keys", tag = "keys", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 409, description = "The account has 50 active keys"), (status = 422, description = "A bad name, environment or lifetime")),
    security(("customer_key" = [])))]
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
    let now = state.engine.now();
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

/// Revokes one of the account's keys; the next request with it fails.
#[utoipa::path(delete, path = "/api/v1/user/keys/{id}", tag = "keys", params(("id" = KeyId, Path)),
    responses((status = 200, body = ApiKeyView), (status = 404, description = "No such key in this account"), (status = 422, description = "The id is not a key id")),
    security(("customer_key" = [])))]
async fn revoke(State(state): State<AppState>, customer: Customer, ApiPath(id): ApiPath<KeyId>) -> Result<ApiJson<ApiKeyView>, ApiError> {
    Ok(ApiJson(state.engine.revoke_key(&customer.actor, &customer.account, &id, state.engine.now()).await?))
}
