use crate::error::AppError;
use leptos::prelude::*;
use model::{AccountSummary, ApiKeyView, AwaitingSignIn, CreatedKey, WebhookEventView};

#[cfg(feature = "ssr")]
pub(crate) fn admin() -> Result<(crate::state::AppState, engine::auth::Viewer), AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    viewer.require(model::Role::Admin)?;
    Ok((state, viewer))
}

/// Every account, for operator staff.
#[server(endpoint = "admin/accounts")]
pub async fn list_accounts() -> Result<Vec<AccountSummary>, AppError> {
    let (state, _) = admin()?;
    Ok(state.engine.list_accounts().await?)
}

#[server(endpoint = "admin/service_keys")]
pub async fn list_service_keys() -> Result<Vec<ApiKeyView>, AppError> {
    let (state, _) = admin()?;
    Ok(state.engine.list_service_keys().await?)
}

/// A service key for the operator's backend; only admins (and the CLI) create them.
#[server(endpoint = "admin/service_keys/create")]
pub async fn create_service_key(name: String) -> Result<CreatedKey, AppError> {
    let (state, viewer) = admin()?;
    let name = engine::auth::KeyName::parse(&name)?;
    Ok(state.engine.create_key(&viewer.email, None, model::KeyKind::Service, &name, None, state.engine.now()).await?)
}

/// Owners created by a purchase who have not signed in yet (admins only).
#[server(endpoint = "admin/awaiting_signin")]
pub async fn awaiting_signin() -> Result<Vec<AwaitingSignIn>, AppError> {
    let (state, _) = admin()?;
    Ok(state.engine.awaiting_first_signin().await?)
}

/// Issues a single-use sign-in link for one of them; the path is shown to the admin once.
#[server(endpoint = "admin/issue_link")]
pub async fn issue_signin_link(user_id: model::UserId) -> Result<String, AppError> {
    let (state, viewer) = admin()?;
    let (token, _) = state.engine.issue_signin_link(&viewer.email, &user_id).await?;
    Ok(format!("/welcome?token={token}"))
}

/// Billing providers' events received, newest first; `provider` and `outcome` filter them
/// (empty means all).
#[server(endpoint = "admin/webhook_events")]
pub async fn webhook_events(provider: String, outcome: String) -> Result<Vec<WebhookEventView>, AppError> {
    let (state, _) = admin()?;
    let filter = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(state.engine.webhook_events(filter(&provider).as_deref(), filter(&outcome).as_deref()).await?)
}
