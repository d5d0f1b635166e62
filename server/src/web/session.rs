//! The browser session: the session cookie (`tg_session`, `__Host-tg_session` over https) is resolved once per request and the
//! [`Viewer`] put in the request's extensions, where pages, server functions and REST
//! handlers read it. Private pages (by the page table, [`app::pages`]) send signed-out
//! visitors to `/signin`, and what a page shows is loaded before it renders.

use crate::error::ApiError;
use app::pages::{self, Access};
use app::state::AppState;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use engine::auth::SessionToken;

fn session_token(parts: &Parts, name: &str) -> Option<SessionToken> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .and_then(|(_, value)| SessionToken::from_cookie(value))
}

/// Resolves the session and guards the private pages.
pub async fn session_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Machine APIs authenticate by key, and need no session.
    if request.uri().path().starts_with("/api/v1/") && !request.headers().contains_key(header::COOKIE) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let viewer = match session_token(&parts, state.session_cookie_name()) {
        Some(token) => match state.engine.session(&token, state.engine.now()).await {
            Ok(viewer) => viewer,
            Err(err) => {
                tracing::error!(error = %err, "session lookup failed");
                return ApiError::from(err).into_response();
            }
        },
        None => None,
    };
    let path = parts.uri.path().to_owned();
    // The page table says who may see a page; the guard only reads it.
    let page = (parts.method == Method::GET).then(|| pages::guarding(&path)).flatten();
    if let Some(page) = page.filter(|p| p.access != Access::Public) {
        match &viewer {
            None => {
                let next = parts.uri.path_and_query().map_or(path.clone(), |pq| pq.as_str().to_owned());
                return Redirect::to(&format!("/signin?next={}", urlencode(&next))).into_response();
            }
            // Operator staff without a customer account have no dashboard of their own.
            Some(v) if v.account.is_none() && page.access == Access::Customer => {
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
            pages::preload(&state, &viewer, &path, &mut parts.extensions).await;
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

