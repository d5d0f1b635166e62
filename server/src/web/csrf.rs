//! Cross-site request forgery: state-changing requests from other origins are refused
//! (`Origin`, falling back to `Referer`). Bearer-key and signed-webhook APIs are exempt:
//! browsers never attach those credentials on their own.

use crate::error::envelope;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

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
    envelope(StatusCode::FORBIDDEN, "csrf", message)
}

