//! Who a request comes from, and whether it may change anything.
//!
//! - The session layer resolves the `tg_session` cookie once per request and puts the
//!   [`Viewer`] in the request's extensions, where pages, server functions and REST
//!   handlers read it. Signed-out visitors of private pages are sent to `/signin`.
//! - The CSRF layer refuses state-changing requests from other origins (`Origin`, falling
//!   back to `Referer`). Bearer-key APIs are exempt: browsers never attach those keys.
//! - [`ApiKey`] and [`Customer`] are extractors for the REST API.

use crate::api::ApiError;
use app::state::{AppState, SESSION_COOKIE};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::auth::{KeyPrincipal, KeyRejection, SessionToken, Viewer};
use engine::AccountId;
use model::KeyKind;

/// Pages that need a signed-in user.
const PRIVATE_PAGES: [&str; 7] = ["/dashboard", "/keys", "/account", "/admin", "/export", "/analytics", "/upgrade"];

fn session_token(parts: &Parts) -> Option<SessionToken> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::from_cookie(value))
}

/// Resolves the session and guards the private pages.
pub async fn session_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Machine APIs authenticate by key, and need no session.
    if request.uri().path().starts_with("/api/v1/") && !request.headers().contains_key(header::COOKIE) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let viewer = match session_token(&parts) {
        Some(token) => match state.engine.session(&token, chrono::Utc::now()).await {
            Ok(viewer) => viewer,
            Err(err) => {
                tracing::error!(error = %err, "session lookup failed");
                return ApiError::from(err).into_response();
            }
        },
        None => None,
    };
    let path = parts.uri.path();
    let is_page = parts.method == Method::GET
        && PRIVATE_PAGES.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')));
    let path = path.to_owned();
    if is_page {
        match &viewer {
            None => {
                let next = parts.uri.path_and_query().map_or(path.clone(), |pq| pq.as_str().to_owned());
                return Redirect::to(&format!("/signin?next={}", urlencode(&next))).into_response();
            }
            // Operator staff without a customer account have no dashboard of their own.
            Some(v) if v.account.is_none() && matches!(path.as_str(), "/dashboard" | "/keys" | "/export" | "/analytics" | "/upgrade") => {
                return Redirect::to("/admin").into_response();
            }
            Some(_) => {}
        }
    }
    if path == "/signin" && parts.method == Method::GET && viewer.is_some() {
        return Redirect::to("/dashboard").into_response();
    }
    if let Some(viewer) = viewer {
        // A signed-in page load: what the page shows is loaded before it renders.
        if parts.method == Method::GET && !path.starts_with("/api/") {
            app::state::preload(&state, &viewer, &path, &mut parts.extensions).await;
        }
        parts.extensions.insert(viewer);
    }
    next.run(Request::from_parts(parts, body)).await
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The origins the site is served from; state-changing browser requests must come from one.
#[derive(Clone, Debug)]
pub struct AllowedOrigins(pub Vec<String>);

impl AllowedOrigins {
    /// From the public URL, plus the `localhost`/`127.0.0.1` twin of a loopback address.
    pub fn new(public_url: &str) -> Self {
        let origin = public_url.trim_end_matches('/').to_owned();
        let mut origins = vec![origin.clone()];
        if origin.contains("://127.0.0.1") {
            origins.push(origin.replacen("://127.0.0.1", "://localhost", 1));
        } else if origin.contains("://localhost") {
            origins.push(origin.replacen("://localhost", "://127.0.0.1", 1));
        }
        Self(origins)
    }

    fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

/// `scheme://host[:port]` of a Referer URL.
fn origin_of(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    Some(&url[..end])
}

/// Refuses cross-origin state changes to cookie-authenticated endpoints.
pub async fn csrf_layer(State(origins): State<AllowedOrigins>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = request.uri().path();
    // Bearer-key and signed-webhook APIs carry no ambient credentials.
    let exempt = path.starts_with("/api/v1/") || path.starts_with("/api/webhooks/");
    if safe || exempt {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null")
        .or_else(|| headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(origin_of));
    match origin {
        Some(origin) if origins.allows(origin) => next.run(request).await,
        Some(origin) => {
            tracing::warn!(origin = %origin, path = %path, "cross-origin request refused");
            forbidden("cross-origin request refused: this action must come from the Tollgate site itself")
        }
        None => forbidden("request refused: a state-changing request must carry an Origin or Referer header"),
    }
}

fn forbidden(message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": "csrf", "message": message } });
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

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
        let presented = crate::api::limits::bearer(&parts.headers)
            .ok_or(ApiError::Key(KeyRejection::Missing))?
            .map_err(ApiError::Key)?;
        let principal = state.engine.authenticate_key(presented, chrono::Utc::now()).await.map_err(ApiError::Key)?;
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
