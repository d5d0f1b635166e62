use crate::error::AppError;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use model::{ApiKeyView, CreatedKey};
use serde::{Deserialize, Serialize};

/// The account's keys and what the viewer may do with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<ApiKeyView>,
    /// Owners manage keys; members only see them.
    pub can_manage: bool,
    /// The server's clock, so the browser labels keys active or expired consistently.
    pub now: DateTime<Utc>,
}

/// The signed-in owner, and their account; anyone else is refused.
#[cfg(feature = "ssr")]
pub(crate) fn owner() -> Result<(crate::state::AppState, engine::auth::Viewer, engine::AccountId), AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    viewer.require(model::Role::Owner)?;
    let account = viewer.account()?.clone();
    Ok((state, viewer, account))
}

#[server(endpoint = "keys/list")]
pub async fn list_keys() -> Result<KeyList, AppError> {
    let state = crate::state::AppState::get()?;
    let viewer = crate::state::require_viewer()?;
    let account = viewer.account()?;
    Ok(KeyList {
        keys: state.engine.list_keys(account).await?,
        can_manage: viewer.role.allows(model::Role::Owner),
        now: state.engine.now(),
    })
}

/// Creates a key; the answer is the only time its plaintext is shown.
#[server(endpoint = "keys/create")]
pub async fn create_key(name: String, environment: String) -> Result<CreatedKey, AppError> {
    let (state, viewer, account) = owner()?;
    let name = engine::auth::KeyName::parse(&name)?;
    let kind = model::KeyKind::customer_environment(&environment)
        .ok_or_else(|| engine::EngineError::Invalid { field: "environment", message: "choose live or test".into() })?;
    Ok(state.engine.create_key(&viewer.email, Some(&account), kind, &name, None, state.engine.now()).await?)
}

#[server(endpoint = "keys/rename")]
pub async fn rename_key(id: model::KeyId, name: String) -> Result<ApiKeyView, AppError> {
    let (state, viewer, account) = owner()?;
    let name = engine::auth::KeyName::parse(&name)?;
    Ok(state.engine.rename_key(&viewer.email, &account, &id, &name).await?)
}

/// Replaces a key; the old one keeps working for `grace_minutes` (0: stops at once).
#[server(endpoint = "keys/rotate")]
pub async fn rotate_key(id: model::KeyId, grace_minutes: u32) -> Result<CreatedKey, AppError> {
    let (state, viewer, account) = owner()?;
    if grace_minutes > 60 * 24 * 30 {
        return Err(engine::EngineError::Invalid { field: "grace", message: "a grace period can be at most 30 days".into() }.into());
    }
    let grace = chrono::Duration::minutes(i64::from(grace_minutes));
    Ok(state.engine.rotate_key(&viewer.email, &account, &id, grace, state.engine.now()).await?)
}

#[server(endpoint = "keys/revoke")]
pub async fn revoke_key(id: model::KeyId) -> Result<ApiKeyView, AppError> {
    let (state, viewer, account) = owner()?;
    Ok(state.engine.revoke_key(&viewer.email, &account, &id, state.engine.now()).await?)
}
