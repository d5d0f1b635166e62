#![recursion_limit = "512"]
//! The `tollgate` binary's library: configuration, router and subcommands, kept in a
//! library so the integration tests build the very same router.

pub mod api;
pub mod config;
pub mod error;
pub mod web;
pub mod commands;
pub mod jobs;
pub mod metrics;
pub mod telemetry;

use anyhow::Context;
use app::state::AppState;
use axum::Router;
use config::{SeedArgs, ServeArgs, StoreArgs};
use engine::{db::Db, Catalog, Engine, EngineConfig};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// The name the WASM, JS and CSS bundles share under `pkg/`.
pub const OUTPUT_NAME: &str = "tollgate";

/// Loads the catalog and opens (creating and migrating) the database.
pub async fn open_engine(store: &StoreArgs, config: EngineConfig) -> anyhow::Result<Engine> {
    let catalog = match &store.catalog {
        Some(path) => Catalog::from_file(path),
        None => Catalog::demo(),
    }
    .context("cannot load the plan catalog")?;
    let db = Db::connect(&store.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", store.database_url))?;
    Ok(Engine::new(db, catalog, config))
}

/// Everything `serve` needs besides a listener.
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub site_root: String,
    pub signup_enabled: bool,
    /// How people reach the server, e.g. `https://billing.example.com`.
    pub public_url: String,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (for per-address throttles).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// The whole application: SSR pages, server functions, REST API, health, static files.
pub fn router(engine: Engine, config: &ServerConfig) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let state = AppState::new(app::state::Shared {
        engine,
        leptos_options: leptos_options.clone(),
        signup_enabled: config.signup_enabled,
        secure_cookies: config.public_url.starts_with("https://"),
        trusted_proxies: config.trusted_proxies.clone(),
    });
    let origins = web::AllowedOrigins::new(&config.public_url);
    let routes = generate_route_list(app::App);
    let site = std::path::Path::new(config.site_root.as_str());

    let context_state = state.clone();
    metrics::handle();
    let router = Router::new()
        .merge(api::router(&state))
        .route("/metrics", axum::routing::get(metrics::render).layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(config.metrics_token.clone()),
            metrics::require_token,
        )))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        // Built bundles are served precompressed when the build wrote .br/.gz files.
        .route_layer(axum::middleware::from_fn(metrics::layer))
        .nest_service("/pkg", ServeDir::new(site.join("pkg")).precompressed_br().precompressed_gzip())
        .nest_service("/vendor", ServeDir::new(site.join("vendor")).precompressed_br().precompressed_gzip())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(form_error_redirect))
        .layer(axum::middleware::from_fn(api_envelope_for_unrouted))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::session_layer))
        .layer(axum::middleware::from_fn_with_state(origins, web::csrf_layer));
    // The https test lives in one place: the state decided it for the cookie.
    web::headers::apply(router, state.secure_cookies)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A form posted without WASM (the pages are server HTML) that fails is sent back to the
/// page it came from, with the error in the address for the page to show. Leptos sets the
/// `Location` for that but keeps the error's status (401, 422…), which a browser does not
/// follow, so such a response becomes a 303 to the same place.
async fn form_error_redirect(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let mut response = next.run(request).await;
    let failed_form = !response.status().is_redirection()
        && response.headers().contains_key("serverfnerror")
        && response.headers().contains_key(axum::http::header::LOCATION);
    if failed_form {
        *response.status_mut() = axum::http::StatusCode::SEE_OTHER;
    }
    response
}

/// Under `/api/`, a path no route serves, or a method a route does not take, answers the
/// JSON error envelope (404, or 405 with `Allow`) instead of the HTML not-found page: a
/// program reads the answer.
async fn api_envelope_for_unrouted(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    // Every request passes here: pages and non-API routes go straight through, and the
    // path and method are kept only for API requests.
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if json {
        return response;
    }
    match response.status() {
        StatusCode::NOT_FOUND => error::envelope(StatusCode::NOT_FOUND, "not_found", &format!("no API endpoint at {path}; see /api/openapi.json")),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut answer = error::envelope(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                &format!("{path} does not take {method}; the Allow header lists what it takes"),
            );
            if let Some(allow) = allow {
                answer.headers_mut().insert(header::ALLOW, allow);
            }
            answer
        }
        _ => response,
    }
}

/// `tollgate serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    // The public URL defaults to the address actually bound (port 0 becomes the real port).
    let public_url = args.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    let engine = open_engine(&args.store, args.engine_config(&public_url)?).await?;
    if !args.demo && engine.has_published_demo_admin().await? {
        anyhow::bail!(
            "this database holds the demo data, whose admin password is published in the README; \
             serve it only with --demo (as `make run` does), or start from a fresh database for real use"
        );
    }
    if args.demo && engine.is_empty().await? {
        let ids = engine.seed_demo(engine.now()).await.context("cannot seed the demo data")?;
        tracing::info!(accounts = ids.len(), "seeded demo data");
    }
    let config = ServerConfig {
        addr: local,
        site_root: args.site_root.clone(),
        signup_enabled: args.signup,
        public_url,
        metrics_token: args.metrics_token.as_ref().map(|t| t.expose().to_owned()),
        trusted_proxies: args.trusted_proxies.clone(),
    };
    let shutdown = shutdown_signal();
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let jobs = jobs::spawn(engine.clone(), jobs_stopped);
    let app = router(engine, &config);
    if args.demo {
        print_demo_logins();
    }
    tracing::info!(database = %args.store.database_url, "Tollgate is serving at http://{local}");
    // Leptos streams responses in small chunks; without TCP_NODELAY each waits ~40 ms on
    // a delayed ACK (measured: 20x the throughput with it on).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_jobs.send(true);
    let _ = jobs.await;
    tracing::info!("stopped");
    Ok(())
}

/// Demo mode only: who can sign in, and how.
fn print_demo_logins() {
    // On stderr, so stdout stays pure log lines (JSON when asked).
    eprintln!("Demo sign-in details (demo mode only):");
    for login in engine::demo::DEMO_LOGINS {
        eprintln!(
            "  {:<7} {:<26} password {:<22} {}",
            login.role.as_str(),
            login.email,
            login.password,
            login.account.map_or("(operator staff)".to_owned(), |a| format!("account {a}"))
        );
    }
}

/// `tollgate seed`.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let engine = open_engine(&args.store, EngineConfig::default()).await?;
    let started = std::time::Instant::now();
    engine.generate(args.accounts, args.days, engine.now(), args.seed).await?;
    println!(
        "Added {} accounts with {} days of history to {} in {:.1}s",
        args.accounts,
        args.days,
        args.store.database_url,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are registered when this is called, not when
/// it is first polled, so a signal that arrives as the server starts is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match signals.0.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match signals.1.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { () = terminate => {}, () = interrupt => {} }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
