#![recursion_limit = "512"]
//! The `tollgate` binary's library: configuration, router and subcommands, kept in a
//! library so the integration tests build the very same router.

pub mod api;
pub mod cli;
pub mod telemetry;

use anyhow::Context;
use app::state::AppState;
use axum::Router;
use cli::{SeedArgs, ServeArgs, StoreArgs};
use engine::{db::Db, AccountId, Catalog, Engine, EngineConfig};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// The name the WASM, JS and CSS bundles share under `pkg/`.
pub const OUTPUT_NAME: &str = "tollgate";

/// Loads the catalog and opens (creating and migrating) the database.
pub async fn open_engine(store: &StoreArgs, billing_portal_url: Option<String>) -> anyhow::Result<Engine> {
    let catalog = match &store.catalog {
        Some(path) => Catalog::from_file(path),
        None => Catalog::demo(),
    }
    .context("cannot load the plan catalog")?;
    let db = Db::connect(&store.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", store.database_url))?;
    Ok(Engine::new(db, catalog, EngineConfig { billing_portal_url }))
}

/// Everything `serve` needs besides a listener.
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub site_root: String,
    pub viewer: Option<AccountId>,
}

/// The whole application: SSR pages, server functions, REST API, health, static files.
pub fn router(engine: Engine, config: &ServerConfig) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let state = AppState { engine, leptos_options: leptos_options.clone(), viewer: config.viewer.clone() };
    let routes = generate_route_list(app::App);
    let site = std::path::Path::new(config.site_root.as_str());

    let context_state = state.clone();
    Router::new()
        .merge(api::router())
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
        .nest_service("/pkg", ServeDir::new(site.join("pkg")).precompressed_br().precompressed_gzip())
        .nest_service("/vendor", ServeDir::new(site.join("vendor")).precompressed_br().precompressed_gzip())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `tollgate serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let engine = open_engine(&args.store, args.billing_portal_url.clone()).await?;
    if args.demo && engine.is_empty().await? {
        let ids = engine.seed_demo(chrono::Utc::now()).await.context("cannot seed the demo data")?;
        tracing::info!(accounts = ids.len(), "seeded demo data");
    }
    let viewer = args.demo_account.as_deref().map(AccountId::parse).transpose().context("invalid TOLLGATE_DEMO_ACCOUNT")?;
    let config = ServerConfig { addr: args.addr, site_root: args.site_root.clone(), viewer };
    let app = router(engine, &config);

    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    tracing::info!(database = %args.store.database_url, "Tollgate is serving at http://{local}");
    // Leptos streams responses in small chunks; without TCP_NODELAY each waits ~40 ms on
    // a delayed ACK (measured: 20x the throughput with it on).
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// `tollgate seed`.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let engine = open_engine(&args.store, None).await?;
    let started = std::time::Instant::now();
    engine.generate(args.accounts, args.days, chrono::Utc::now(), args.seed).await?;
    println!(
        "Added {} accounts with {} days of history to {} in {:.1}s",
        args.accounts,
        args.days,
        args.store.database_url,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}
