//! `GET /api/v1/users/me/notifications` and `POST /api/v1/users/me/notifications/read`:
//! what the account was told about its usage and license, and marking it read. The account
//! is the session's or the customer key's.

use crate::api::extract::Customer;
use crate::error::{ApiError, ApiJson, ApiQuery};
use app::state::AppState;
use axum::extract::State;
use model::Notification;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(mark_read))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// How many, newest first: 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    /// How many of the account's notifications are unread (the dashboard's badge).
    pub unread: i64,
    /// Newest first.
    pub notifications: Vec<Notification>,
}

/// The account's notifications: thresholds crossed, limits reached, the license ending or
/// lapsing. At most one per meter, threshold and UTC day.
#[utoipa::path(get, path = "/api/v1/users/me/notifications", tag = "account", params(ListQuery),
    responses(
        (status = 200, body = NotificationList),
        (status = 422, description = "`limit` is not from 1 to 200"),
    ),
    security(("customer_key" = [])))]
async fn list(State(state): State<AppState>, customer: Customer, ApiQuery(query): ApiQuery<ListQuery>) -> Result<ApiJson<NotificationList>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::Invalid { field: "limit".into(), message: "limit must be from 1 to 200".into() });
    }
    let notifications = state.engine.notifications(&customer.account, limit).await?;
    let unread = state.engine.unread_notifications(&customer.account).await?;
    Ok(ApiJson(NotificationList { unread, notifications }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// One notification; absent marks every one read.
    #[schema(pattern = "^ntf_[0-9a-f]{32}$")]
    pub id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    /// How many were unread and are now read.
    pub marked: u64,
    pub unread: i64,
}

/// Marks one notification read, or all of them.
#[utoipa::path(post, path = "/api/v1/users/me/notifications/read", tag = "account",
    request_body = MarkRead,
    responses(
        (status = 200, body = Marked),
        (status = 404, description = "No such notification for this account"),
    ),
    security(("customer_key" = [])))]
async fn mark_read(State(state): State<AppState>, customer: Customer, ApiJson(body): ApiJson<MarkRead>) -> Result<ApiJson<Marked>, ApiError> {
    let marked = state.engine.mark_notifications_read(&customer.account, body.id.as_deref()).await?;
    let unread = state.engine.unread_notifications(&customer.account).await?;
    Ok(ApiJson(Marked { marked, unread }))
}
