//! Background jobs: tokio tasks that stop when the server does.

use engine::Engine;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often expired sessions and old per-minute rollups are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);
/// How often in-memory state is tidied: idle rate-limit keys, metric histograms.
const TIDY_EVERY: Duration = Duration::from_secs(10);
/// How often the license lifecycle (expiry, grace periods, end-of-period downgrades) runs.
const LIFECYCLE_EVERY: Duration = Duration::from_secs(60);
/// How often every account is evaluated for alerts, for what the hot path did not see.
const ALERT_SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How long raw webhook bodies are kept; the events and their outcomes stay.
const WEBHOOK_BODY_DAYS: i64 = 30;

/// Starts the jobs; they finish their current step and return once `stop` flips to true.
pub fn spawn(engine: Engine, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    // Alerts the hot path queued, evaluated as they fall due.
    let alerts = {
        let (engine, mut stop) = (engine.clone(), stop.clone());
        tokio::spawn(async move { engine.run_alert_queue(async move { while stop.changed().await.is_ok() && !*stop.borrow() {} }).await })
    };
    // Emails and outgoing webhooks, from the durable queue.
    let deliveries = {
        let (engine, mut stop) = (engine.clone(), stop.clone());
        tokio::spawn(async move { engine.run_deliveries(async move { while stop.changed().await.is_ok() && !*stop.borrow() {} }).await })
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        // The first sweep a minute after start, not during it.
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + Duration::from_secs(60), ALERT_SWEEP_EVERY);
        let mut tidy = tokio::time::interval(TIDY_EVERY);
        let mut lifecycle = tokio::time::interval(LIFECYCLE_EVERY);
        loop {
            tokio::select! {
                _ = lifecycle.tick() => match engine.run_license_lifecycle().await {
                    Ok(0) => {}
                    Ok(applied) => tracing::info!(applied, "license transitions applied"),
                    Err(err) => tracing::warn!(error = %err, "the license lifecycle failed; will retry"),
                },
                _ = tidy.tick() => {
                    engine.shrink();
                    if let Err(err) = engine.flush_refusals().await {
                        tracing::warn!(error = %err, "writing feature refusals failed; they are dropped");
                    }
                    crate::metrics::handle().run_upkeep();
                }
                _ = tick.tick() => {
                    match engine.prune_sessions(engine.now()).await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "expired sessions deleted"),
                        Err(err) => tracing::warn!(error = %err, "session pruning failed; will retry"),
                    }
                    if let Err(err) = engine.prune_webhook_bodies(WEBHOOK_BODY_DAYS).await {
                        tracing::warn!(error = %err, "pruning webhook bodies failed; will retry");
                    }
                    if let Err(err) = engine.prune_minute_rollups().await {
                        tracing::warn!(error = %err, "pruning per-minute rollups failed; will retry");
                    }
                }
                _ = sweep.tick() => match engine.sweep_alerts().await {
                    Ok(0) => {}
                    Ok(raised) => tracing::info!(raised, "alerts raised by the sweep"),
                    Err(err) => tracing::warn!(error = %err, "the alert sweep failed; will retry"),
                },
                _ = stop.changed() => break,
            }
        }
        let _ = alerts.await;
        let _ = deliveries.await;
        tracing::debug!("background jobs stopped");
    })
}
