//! The Leptos UI and its server functions.
//!
//! Server functions are the only way the browser reaches the engine: they resolve the
//! account on the server and return `model` types that carry no license id or key.

#![recursion_limit = "512"]

pub mod api;
pub mod browser;
pub mod components;
pub mod error;
pub mod islands;
pub mod pages;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// What the server loaded for the page being rendered before rendering it
/// ([`pages::preload`]); pages render only on the server, so in the browser there is none.
pub fn preloaded<T: Clone + Send + Sync + 'static>() -> Option<T> {
    #[cfg(feature = "ssr")]
    return state::preloaded();
    #[cfg(not(feature = "ssr"))]
    None
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                // ECharts is vendored from npm and served by the site; it must be there
                // before the WASM draws the charts, so it loads first (defer keeps order).
                <script defer src="/vendor/echarts.min.js"></script>
                <HydrationScripts options islands=true />
                <leptos_meta::MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The page's `Content-Security-Policy`. Scripts run only from the site itself or with this
/// response's nonce (Leptos puts it on the hydration script), WebAssembly may compile, and
/// nothing else loads from anywhere else. Styles allow inline `style` attributes: the meters'
/// widths are server-rendered `style="width: …"` and ECharts' tooltips are HTML with inline
/// styles; a style cannot run code, so this costs no script injection.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use axum::http::{header, HeaderValue};
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else { return };
    let nonce = leptos::nonce::use_nonce().map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The app: meta tags, stylesheet and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::frame::provide_session();
    view! {
        <Stylesheet id="leptos" href="/pkg/tollgate.css" />
        <Link rel="icon" href="/favicon.svg" />
        <Meta name="description" content="Your plan, license and usage." />
        <Title text="Tollgate" />
        // Every page's data comes from the local database in well under a millisecond, so
        // each page is rendered once, complete (SsrMode::Async), rather than streamed with
        // fallbacks and swap scripts: less work per request and a smaller page.
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route path=path!("/dashboard") view=routes::dashboard::DashboardPage ssr=SsrMode::Async />
                <Route path=path!("/signin") view=routes::signin::SignInPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=routes::signin::SignUpPage ssr=SsrMode::Async />
                <Route path=path!("/account") view=routes::account::AccountPage ssr=SsrMode::Async />
                <Route path=path!("/keys") view=routes::keys::KeysPage ssr=SsrMode::Async />
                <Route path=path!("/notifications") view=routes::notifications::NotificationsPage ssr=SsrMode::Async />
                <Route path=path!("/settings/alerts") view=routes::alert_settings::AlertSettingsPage ssr=SsrMode::Async />
                <Route path=path!("/admin") view=routes::admin::AdminPage ssr=SsrMode::Async />
                <Route path=path!("/welcome") view=routes::welcome::WelcomePage ssr=SsrMode::Async />
                <Route path=path!("/forgot-password") view=routes::signin::ForgotPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/reset-password") view=routes::signin::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/admin/requests") view=routes::admin::RequestsPage ssr=SsrMode::Async />
                <Route path=path!("/export") view=routes::export::ExportPage ssr=SsrMode::Async />
                <Route path=path!("/analytics") view=routes::analytics::AnalyticsPage ssr=SsrMode::Async />
                <Route path=path!("/plans") view=routes::plans::PlansPage ssr=SsrMode::Async />
                <Route path=path!("/upgrade") view=routes::upgrade::UpgradePage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
