//! `/api/v1/accounts/{account_id}/grants`: the operator's overrides on top of a plan.

use crate::error::{ApiError, ApiJson, ApiPath};
use app::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use crate::api::extract::Service;
use axum::extract::State;
use axum::http::StatusCode;
use engine::{AccountId, GrantId};
use model::{Grant, NewGrant};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_grant, list_grants)).routes(routes!(revoke_grant))
}

/// Grants an account an override on top of its plan: a temporary higher limit, an extra
/// feature, or a bypass of every limit. Recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/grants", tag = "grants",
    params(("account_id" = AccountId, Path)),
    request_body = NewGrant,
    responses(
        (status = 201, description = "Granted; applies at once", body = Grant),
        (status = 403, description = "Not a service key"),
        (status = 404, description = "No such account"),
        (status = 422, description = "Unknown meter or feature, or a bad value"),
    ),
    security(("service_key" = [])))]
async fn create_grant(
    State(state): State<AppState>,
    service: Service,
    ApiPath(account): ApiPath<AccountId>,
    ApiJson(grant): ApiJson<NewGrant>,
) -> Result<(StatusCode, ApiJson<Grant>), ApiError> {
    let created = state.engine.create_grant(&service.key_id, &account, grant).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// The account's grants in force.
#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/grants", tag = "grants",
    params(("account_id" = AccountId, Path)),
    responses((status = 200, body = Vec<Grant>), (status = 403, description = "Not a service key"), (status = 404, description = "No such account"), (status = 422, description = "The path holds a malformed account id")),
    security(("service_key" = [])))]
async fn list_grants(State(state): State<AppState>, _service: Service, ApiPath(account): ApiPath<AccountId>) -> Result<ApiJson<Vec<Grant>>, ApiError> {
    Ok(ApiJson(state.engine.list_grants(&account).await?))
}

/// Withdraws a grant at once.
#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/grants/{grant_id}", tag = "grants",
    params(("account_id" = AccountId, Path), ("grant_id" = GrantId, Path)),
    responses((status = 204, description = "Revoked"), (status = 403, description = "Not a service key"), (status = 404, description = "No such grant"), (status = 422, description = "The path holds a malformed id")),
    security(("service_key" = [])))]
async fn revoke_grant(
    State(state): State<AppState>,
    service: Service,
    ApiPath((account, grant)): ApiPath<(AccountId, GrantId)>,
) -> Result<StatusCode, ApiError> {
    state.engine.revoke_grant(&service.key_id, &account, &grant).await?;
    Ok(StatusCode::NO_CONTENT)
}
