//! The state every server-side handler shares, and who the current request comes from.
//! A leaf: it reads the engine and Leptos's context, never the pages or server functions.

use axum::extract::FromRef;
use engine::auth::Viewer;
use engine::Engine;
use leptos::prelude::LeptosOptions;

/// The session cookie's name over plain http (a local or test deployment).
pub const SESSION_COOKIE: &str = "tg_session";
/// Its name over https: the `__Host-` prefix makes the browser refuse it unless it is
/// `Secure`, set by this host (no `Domain`) for `Path=/`, so a sibling subdomain cannot
/// plant or shadow a session.
pub const SECURE_SESSION_COOKIE: &str = "__Host-tg_session";

/// Shared by SSR, server functions and the REST handlers. Every middleware and extractor
/// clones it, so it is one `Arc` (measured: cloning and dropping the fields one by one was
/// 8% of the CPU of the entitlement endpoint).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub engine: Engine,
    pub leptos_options: LeptosOptions,
    /// Whether customers may create accounts themselves (`TOLLGATE_SIGNUP`).
    pub signup_enabled: bool,
    /// Mark the session cookie `Secure` (the site is served over TLS).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed (`TOLLGATE_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Shared {
    /// The client's address for per-address throttles: the connection's peer, or, when the
    /// peer is a trusted proxy, the nearest address in `X-Forwarded-For` that is not one
    /// (the proxies append; everything left of the first untrusted hop could be forged).
    pub fn client_address(&self, peer: std::net::IpAddr, headers: &axum::http::HeaderMap) -> std::net::IpAddr {
        let trusted = |ip: &std::net::IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let hops: Vec<std::net::IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        hops.into_iter().rev().find(|hop| !trusted(hop)).unwrap_or(peer)
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// The state, from a server function's context.
    pub fn get() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the server function context");
            crate::error::AppError::Internal
        })
    }

    /// The session cookie's name for this deployment.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// `Set-Cookie` for a new session.
    pub fn session_cookie(&self, token: &engine::auth::SessionToken) -> String {
        let max_age = self.engine.session_config().absolute.num_seconds();
        self.cookie(token.expose(), max_age)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub fn cleared_cookie(&self) -> String {
        self.cookie("", 0)
    }

    fn cookie(&self, value: &str, max_age: i64) -> String {
        let name = self.session_cookie_name();
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }
}

/// The signed-in viewer of the current request, resolved once per request by the
/// server's session layer and read here from the request's extensions.
pub fn current_viewer() -> Option<Viewer> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
}

/// The viewer, or "sign in again".
pub fn require_viewer() -> Result<Viewer, crate::error::AppError> {
    current_viewer().ok_or_else(|| engine::EngineError::Unauthorized.into())
}

/// Adds a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: &str) {
    use axum::http::{header, HeaderValue};
    if let (Some(response), Ok(value)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(value))
    {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// What a page shows, loaded by the server before the page renders
/// ([`crate::pages::preload`]).
#[derive(Clone)]
pub struct Preloaded<T>(pub T);

/// What [`crate::pages::preload`] loaded of type `T` for the page being rendered.
pub fn preloaded<T: Clone + Send + Sync + 'static>() -> Option<T> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Preloaded<T>>().map(|loaded| loaded.0.clone()))
}
