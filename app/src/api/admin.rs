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

/// Revokes a service key; the next request with it fails.
#[server(endpoint = "admin/service_keys/revoke")]
pub async fn revoke_service_key(id: model::KeyId) -> Result<ApiKeyView, AppError> {
    let (state, viewer) = admin()?;
    Ok(state.engine.revoke_service_key(&viewer.email, &id).await?)
}

/// Attaches an unmatched billing event to an account, with the reason (audited).
#[server(endpoint = "admin/attach_event")]
pub async fn attach_event(provider: String, event_id: String, account_id: model::AccountId, reason: String) -> Result<String, AppError> {
    let (state, viewer) = admin()?;
    let provider = match provider.as_str() {
        "whop" => engine::billing::Provider::Whop,
        "stripe" => engine::billing::Provider::Stripe,
        _ => return Err(engine::EngineError::Invalid { field: "provider", message: "whop or stripe".into() }.into()),
    };
    let outcome = state.engine.attach_billing_event(&viewer.email, provider, &event_id, &account_id, &reason).await?;
    Ok(outcome.as_str().to_owned())
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
