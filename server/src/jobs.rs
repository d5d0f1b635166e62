//! Background jobs: tokio tasks that stop when the server does.

use engine::Engine;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often expired sessions are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Starts the jobs; they finish their current step and return once `stop` flips to true.
pub fn spawn(engine: Engine, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRUNE_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => match engine.prune_sessions(chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "expired sessions deleted"),
                    Err(err) => tracing::warn!(error = %err, "session pruning failed; will retry"),
                },
                _ = stop.changed() => break,
            }
        }
        tracing::debug!("background jobs stopped");
    })
}
