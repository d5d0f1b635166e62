//! Prometheus metrics at `/metrics`: requests by route and status, latency histograms,
//! verify decisions, ingested events, rate-limit refusals and the writer's batch sizes.

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const LATENCY_BUCKETS: [f64; 14] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
const BATCH_BUCKETS: [f64; 12] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0];

/// The process-wide recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Prefix("tollgate_writer_batch".into()), &BATCH_BUCKETS));
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!("tollgate_http_requests_total", "HTTP requests by route, method and status");
    metrics::describe_histogram!("tollgate_http_request_duration_seconds", metrics::Unit::Seconds, "HTTP request latency by route");
    metrics::describe_counter!("tollgate_verify_decisions_total", "keys/verify decisions by code");
    metrics::describe_counter!("tollgate_ingested_events_total", "Usage events accepted (duplicates and rejections excluded)");
    metrics::describe_counter!("tollgate_rate_limited_total", "Requests refused by a rate limit, by scope (account or service)");
    metrics::describe_histogram!("tollgate_writer_batch_jobs", "Requests committed together by the usage writer (group commit)");
    metrics::describe_histogram!("tollgate_writer_batch_events", "Usage events committed per writer transaction");
}

/// Records every routed request. Added as a route layer, so the route is the matched
/// pattern (`/api/v1/quotas/{meter}/consume`), never a raw path.
pub async fn layer(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("tollgate_http_requests_total", "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!("tollgate_http_request_duration_seconds", "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, in the Prometheus text format.
/// Refuses `/metrics` without the bearer token, when one is configured.
pub async fn require_token(
    axum::extract::State(token): axum::extract::State<std::sync::Arc<Option<String>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use sha2::{Digest, Sha256};
    let Some(expected) = token.as_deref() else { return next.run(request).await };
    let presented = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    // Compared as digests, so the comparison's time says nothing about the token.
    let matches = presented.is_some_and(|p| Sha256::digest(p.as_bytes()) == Sha256::digest(expected.as_bytes()));
    if matches {
        next.run(request).await
    } else {
        let mut refused = crate::error::envelope(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "/metrics needs `Authorization: Bearer <TOLLGATE_METRICS_TOKEN>`",
        );
        refused.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        refused
    }
}

pub async fn render() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}
