//! `GET /api/v1/entitlements/{feature}`: may the account use a feature, and if not, which
//! plan unlocks it.

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use app::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use crate::api::extract::Caller;
use axum::extract::State;
use model::Entitlement;
use serde::Deserialize;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(entitlement))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Required with a service key; a customer key asks for its own account.
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub account_id: Option<String>,
}

/// Whether the account may use a feature; if not, the plan that unlocks it and where to
/// upgrade. Always 200 for a known feature: read `allowed`.
#[utoipa::path(get, path = "/api/v1/entitlements/{feature}", tag = "metering",
    params(("feature" = String, Path, description = "A feature of the catalog"), AccountQuery),
    responses(
        (status = 200, description = "Allowed, or `upgrade_required` with `required_plan` and `upgrade_url`", body = Entitlement),
        (status = 401, description = "No valid key"),
        (status = 404, description = "No such account, or no plan offers this feature"),
        (status = 422, description = "`account_id` is not an account id"),
    ),
    security(("service_key" = []), ("customer_key" = [])))]
async fn entitlement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(feature): ApiPath<String>,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<ApiJson<Entitlement>, ApiError> {
    let account = caller.account(query.account_id.as_deref())?;
    let info = state.engine.access(&account).await?;
    let answer = state.engine.entitlement(&info, &feature)?;
    Ok(ApiJson(answer))
}
