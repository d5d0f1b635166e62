//! `/api/v1/user/keys`: a customer's own API keys, for programs. Any of the account's keys
//! or sessions may list them; only an owner's session or a key with the `manage_keys`
//! scope may create or revoke them, and a test key never creates a live key.
//! `/api/v1/admin/service-keys`: the operator's service keys, for admins.

use crate::error::{ApiError, ApiJson, ApiPath};
use crate::api::extract::{Admin, Customer, KeyManager};
use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use chrono::Duration;
use engine::auth::KeyName;
use model::{ApiKeyView, CreatedKey, KeyId, KeyKind, KeyScope};
use serde::Deserialize;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(list_service_keys))
        .routes(routes!(revoke_service_key))
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
    /// What the key may do beyond metering: `["manage_keys"]` lets it create and revoke
    /// the account's keys.
    #[serde(default)]
    scopes: Vec<KeyScope>,
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
    responses(
        (status = 201, body = CreatedKey),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "A member's session, a key without the `manage_keys` scope, or a test key asking for a live key"),
        (status = 409, description = "The account has 50 active keys"),
        (status = 422, description = "A bad name, environment, lifetime or scope"),
    ),
    security(("customer_key" = [])))]
async fn create(
    State(state): State<AppState>,
    customer: KeyManager,
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
    if customer.key_kind == Some(KeyKind::Test) && kind != KeyKind::Test {
        return Err(ApiError::Forbidden("a test key creates only test keys; a live key needs a live key or an owner's session".into()));
    }
    let created = state.engine.create_scoped_key(&customer.actor, Some(&customer.account), kind, &name, expires_at, &body.scopes, now).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// Revokes one of the account's keys; the next request with it fails.
#[utoipa::path(delete, path = "/api/v1/user/keys/{id}", tag = "keys", params(("id" = KeyId, Path)),
    responses(
        (status = 200, body = ApiKeyView),
        (status = 401, description = "No valid key or session"),
        (status = 403, description = "A member's session or a key without the `manage_keys` scope"),
        (status = 404, description = "No such key in this account"),
        (status = 422, description = "The id is not a key id"),
    ),
    security(("customer_key" = [])))]
async fn revoke(State(state): State<AppState>, customer: KeyManager, ApiPath(id): ApiPath<KeyId>) -> Result<ApiJson<ApiKeyView>, ApiError> {
    Ok(ApiJson(state.engine.revoke_key(&customer.actor, &customer.account, &id, state.engine.now()).await?))
}

/// The operator's service keys, newest first (admins, by session).
#[utoipa::path(get, path = "/api/v1/admin/service-keys", tag = "keys",
    responses((status = 200, body = Vec<ApiKeyView>), (status = 401, description = "Not signed in"), (status = 403, description = "Not an admin")))]
async fn list_service_keys(State(state): State<AppState>, _admin: Admin) -> Result<ApiJson<Vec<ApiKeyView>>, ApiError> {
    Ok(ApiJson(state.engine.list_service_keys().await?))
}

/// Revokes a service key (admins, by session); the next request with it fails.
#[utoipa::path(delete, path = "/api/v1/admin/service-keys/{id}", tag = "keys", params(("id" = KeyId, Path)),
    responses(
        (status = 200, body = ApiKeyView),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such service key"),
        (status = 422, description = "The id is not a key id"),
    ))]
async fn revoke_service_key(State(state): State<AppState>, admin: Admin, ApiPath(id): ApiPath<KeyId>) -> Result<ApiJson<ApiKeyView>, ApiError> {
    Ok(ApiJson(state.engine.revoke_service_key(&admin.email, &id).await?))
}
