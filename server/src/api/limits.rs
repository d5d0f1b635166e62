//! API keys and rate limits for the REST API, applied once per request before any handler.
//!
//! - A request with `Authorization: Bearer …` is authenticated here. A bad key is answered
//!   401 and never touches a rate limiter, so failed attempts spend nobody's allowance.
//! - A customer key counts against its account's plan limits (per minute and per day).
//! - A service key counts against the service limit, except on `keys/verify`, where the
//!   customer whose key is verified is the one limited.
//! - Answers carry the IETF draft `RateLimit-Policy` and `RateLimit` headers; a refusal is
//!   429 with `Retry-After`.

use crate::error::{rate_headers, ApiError};
use app::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::auth::{KeyPrincipal, KeyRejection};
use model::KeyKind;

/// The path whose rate limit is the verified customer's, not the caller's.
pub const VERIFY_PATH: &str = "/api/v1/keys/verify";

/// The presented bearer key, if the request has an `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<Result<&str, KeyRejection>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim).ok_or(KeyRejection::Malformed))
}

/// Authenticates a bearer key once, puts the principal in the request's extensions, and
/// applies the rate limit that fits the caller.
pub async fn key_layer(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(presented) = bearer(request.headers()) else { return next.run(request).await };
    let principal = match presented {
        Ok(key) => state.engine.authenticate_key(key, state.engine.now()).await,
        Err(rejection) => Err(rejection),
    };
    let principal = match principal {
        Ok(principal) => principal,
        Err(rejection) => return ApiError::Key(rejection).into_response(),
    };
    let decision = match (&principal, request.uri().path() == VERIFY_PATH) {
        (KeyPrincipal { kind: KeyKind::Service, .. }, true) => None,
        (KeyPrincipal { kind: KeyKind::Service, key_id, .. }, false) => Some(("service", state.engine.rate_check_service(key_id))),
        (KeyPrincipal { account: Some(account), .. }, _) => match state.engine.access(account).await {
            Ok(info) => Some(("account", state.engine.rate_check_account(&info))),
            Err(err) => return ApiError::from(err).into_response(),
        },
        (KeyPrincipal { account: None, .. }, _) => None,
    };
    request.extensions_mut().insert(principal);
    if let Some((scope, decision)) = &decision {
        if !decision.allowed {
            metrics::counter!("tollgate_rate_limited_total", "scope" => *scope).increment(1);
            return ApiError::RateLimited(decision.clone()).into_response();
        }
    }
    let mut response = next.run(request).await;
    if let Some((_, decision)) = decision {
        // A handler that answers for another party's limit (verify) sets its own headers.
        if !response.headers().contains_key("ratelimit") {
            rate_headers(response.headers_mut(), &decision);
        }
    }
    response
}
