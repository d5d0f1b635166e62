//! Who calls the REST API: extractors that authenticate the bearer key (or the browser
//! session, for a customer acting for itself) and say which account a request acts on.

use crate::error::ApiError;
use app::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use engine::auth::{KeyPrincipal, KeyRejection, Viewer};
use engine::AccountId;
use model::{KeyKind, KeyScope, Role};

/// A request authenticated by an API key (`Authorization: Bearer tg_…`).
#[derive(Debug, Clone)]
pub struct ApiKey(pub KeyPrincipal);

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Usually the key layer has authenticated the key already.
        if let Some(principal) = parts.extensions.get::<KeyPrincipal>() {
            return Ok(ApiKey(principal.clone()));
        }
        let presented = super::limits::bearer(&parts.headers)
            .ok_or(ApiError::Key(KeyRejection::Missing))?
            .map_err(ApiError::Key)?;
        let principal = state.engine.authenticate_key(presented, state.engine.now()).await.map_err(ApiError::Key)?;
        Ok(ApiKey(principal))
    }
}

/// The operator's backend: a request made with a service key.
#[derive(Debug, Clone)]
pub struct Service {
    pub key_id: String,
}

impl FromRequestParts<AppState> for Service {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiKey(principal) = ApiKey::from_request_parts(parts, state).await?;
        match principal.kind {
            KeyKind::Service => Ok(Service { key_id: principal.key_id }),
            _ => Err(ApiError::Forbidden("this endpoint is for the operator's backend: use a service key (tg_svc_…)".into())),
        }
    }
}

/// Who calls the metering API: the operator (service key, any account, named in the
/// request) or a customer (customer key, its own account only).
#[derive(Debug, Clone)]
pub enum Caller {
    Service { key_id: String },
    Customer { account: AccountId, key_id: String },
}

impl Caller {
    /// The account a request acts on: the one named (required for the operator; for a
    /// customer only its own may be named).
    pub fn account(&self, named: Option<&str>) -> Result<AccountId, ApiError> {
        match (self, named) {
            (Caller::Service { .. }, Some(id)) => Ok(AccountId::parse(id)?),
            (Caller::Service { .. }, None) => Err(ApiError::Invalid {
                field: "account_id".into(),
                message: "account_id is required with a service key".into(),
            }),
            (Caller::Customer { account, .. }, None) => Ok(account.clone()),
            (Caller::Customer { account, .. }, Some(id)) if id == account.as_str() => Ok(account.clone()),
            (Caller::Customer { .. }, Some(_)) => {
                Err(ApiError::Forbidden("a customer key acts only for its own account; leave account_id out".into()))
            }
        }
    }

    pub fn actor(&self) -> &str {
        match self {
            Caller::Service { key_id } | Caller::Customer { key_id, .. } => key_id,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiKey(principal) = ApiKey::from_request_parts(parts, state).await?;
        match (principal.kind, principal.account) {
            (KeyKind::Service, _) => Ok(Caller::Service { key_id: principal.key_id }),
            (_, Some(account)) => Ok(Caller::Customer { account, key_id: principal.key_id }),
            (_, None) => Err(ApiError::Key(KeyRejection::Unknown)),
        }
    }
}

/// A customer account acting for itself: through a signed-in browser session, or a
/// customer (not service) key. The account never comes from the request's body or path.
#[derive(Debug, Clone)]
pub struct Customer {
    pub account: AccountId,
    /// Who acts, for the audit log: an email or a key id.
    pub actor: String,
}

impl FromRequestParts<AppState> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let ApiKey(principal) = ApiKey::from_request_parts(parts, state).await?;
            return match (principal.kind, principal.account) {
                (KeyKind::Live | KeyKind::Test, Some(account)) => Ok(Customer { account, actor: principal.key_id }),
                _ => Err(ApiError::Forbidden("a service key acts for no account of its own; use a customer key".into())),
            };
        }
        let viewer = parts.extensions.get::<Viewer>().ok_or(ApiError::Key(KeyRejection::Missing))?;
        let account = viewer.account().map_err(ApiError::from)?.clone();
        Ok(Customer { account, actor: viewer.email.clone() })
    }
}

/// Who may create and revoke an account's keys: an owner, by session, or a customer key
/// created with the `manage_keys` scope. A member's session and an ordinary key may only
/// list them.
#[derive(Debug, Clone)]
pub struct KeyManager {
    pub account: AccountId,
    /// Who acts, for the audit log: an email or a key id.
    pub actor: String,
    /// The kind of the key that calls; `None` for a session.
    pub key_kind: Option<KeyKind>,
}

impl FromRequestParts<AppState> for KeyManager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (account, actor, key_kind) = manager(parts, state, KeyScope::ManageKeys, "keys").await?;
        Ok(KeyManager { account, actor, key_kind })
    }
}

/// Who may register, roll and delete an account's webhook endpoints and change where its
/// alerts go: an owner, by session, or a live customer key with the `manage_webhooks`
/// scope. (A test key must not redirect a live account's alerts.)
#[derive(Debug, Clone)]
pub struct WebhookManager {
    pub account: AccountId,
    pub actor: String,
}

impl FromRequestParts<AppState> for WebhookManager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (account, actor, key_kind) = manager(parts, state, KeyScope::ManageWebhooks, "webhooks and alert settings").await?;
        if key_kind == Some(KeyKind::Test) {
            return Err(ApiError::Forbidden("a test key may not change where a live account's alerts go; use a live key or the dashboard".into()));
        }
        Ok(WebhookManager { account, actor })
    }
}

/// An owner by session, or a customer key carrying `scope`: the account, the actor for
/// the audit log, and the key's kind (`None` for a session).
async fn manager(parts: &mut Parts, state: &AppState, scope: KeyScope, what: &str) -> Result<(AccountId, String, Option<KeyKind>), ApiError> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        let ApiKey(principal) = ApiKey::from_request_parts(parts, state).await?;
        return match (principal.kind, principal.account) {
            (KeyKind::Live | KeyKind::Test, Some(account)) if principal.scopes.contains(&scope) => Ok((account, principal.key_id, Some(principal.kind))),
            (KeyKind::Live | KeyKind::Test, Some(_)) => Err(ApiError::Forbidden(format!(
                "this key may not manage {what}: an owner can create one with the `{}` scope, or manage them on the dashboard",
                scope.as_str()
            ))),
            _ => Err(ApiError::Forbidden("a service key acts for no account of its own; use a customer key".into())),
        };
    }
    let viewer = parts.extensions.get::<Viewer>().ok_or(ApiError::Key(KeyRejection::Missing))?;
    let account = viewer.account().map_err(ApiError::from)?.clone();
    if !viewer.role.allows(Role::Owner) {
        return Err(ApiError::Forbidden(format!("only the account's owners manage its {what}; members can see them")));
    }
    Ok((account, viewer.email.clone(), None))
}

/// An operator admin, by session: the console's REST counterpart.
#[derive(Debug, Clone)]
pub struct Admin {
    pub email: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = parts.extensions.get::<Viewer>().ok_or(ApiError::Engine(engine::EngineError::Unauthorized))?;
        if viewer.role != Role::Admin {
            return Err(ApiError::Forbidden("only operator admins may do this".into()));
        }
        Ok(Admin { email: viewer.email.clone() })
    }
}
