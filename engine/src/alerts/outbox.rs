//! The durable delivery queue behind email and outgoing webhooks.
//!
//! A message is written in the same transaction as the notification it announces, so an
//! alert is never raised without its messages, nor sent without being recorded. The
//! worker ([`Engine::run_deliveries`]) takes what is due, tries it, and records the attempt
//! and the next due time together. A process killed mid-delivery finds the message still
//! due when it starts again; its id (the `webhook-id`) is the same on every attempt, so a
//! receiver that saw an attempt whose answer was lost can tell it is a repeat.

use super::webhooks::{self, TEST_EVENT};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use model::{AlertEvent, DeliveryAttempt, DeliveryView};
use sqlx::SqliteConnection;
use std::time::{Duration, Instant};

/// When each attempt is made, counted from the failure before it (the first from the
/// alert): Standard Webhooks' schedule. Jittered by up to a tenth either way.
pub const DEFAULT_RETRY_SCHEDULE: [Duration; 8] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(24 * 3600),
];
/// A `Retry-After` longer than this is not waited for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Messages tried at once.
const CONCURRENCY: usize = 8;
/// Messages taken from the queue per round.
const BATCH: i64 = 64;
/// How much of an answer the log keeps.
const SNIPPET_CHARS: usize = 500;

/// Where a message goes.
pub(crate) enum Target<'a> {
    Email(&'a str),
    Webhook(&'a str),
}

/// Puts a message for `event` in the queue, in the caller's transaction; its id.
pub(crate) async fn enqueue(
    tx: &mut SqliteConnection,
    account: &AccountId,
    target: Target<'_>,
    event: &AlertEvent,
    now: DateTime<Utc>,
    delay: Duration,
) -> Result<String, EngineError> {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let (channel, endpoint, recipient) = match target {
        Target::Email(to) => ("email", None, Some(to)),
        Target::Webhook(endpoint) => ("webhook", Some(endpoint), None),
    };
    let payload = serde_json::to_string(event).map_err(|e| EngineError::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO deliveries (id, account_id, channel, endpoint_id, recipient, event_type, payload, state, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(channel)
    .bind(endpoint)
    .bind(recipient)
    .bind(&event.kind)
    .bind(payload)
    .bind(now + chrono::Duration::from_std(delay).unwrap_or_default())
    .bind(now)
    .execute(tx)
    .await?;
    Ok(id)
}

/// A message due now.
struct Due {
    id: String,
    channel: String,
    endpoint: Option<String>,
    recipient: Option<String>,
    payload: String,
    attempts: i64,
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    /// Delivered; or else whether to try again.
    delivered: bool,
    retry: bool,
    /// The endpoint answered 410: disable it.
    gone: bool,
    retry_after: Option<Duration>,
    detail: String,
}

impl Outcome {
    fn failed(detail: impl Into<String>, retry: bool) -> Self {
        Self { status: None, delivered: false, retry, gone: false, retry_after: None, detail: detail.into() }
    }
}

fn snippet(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match raw.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => (DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc) - now).to_std().ok()?,
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

impl Engine {
    pub(crate) fn first_attempt_delay(&self) -> Duration {
        self.config.delivery.retry_schedule.first().copied().unwrap_or_default()
    }

    /// Wakes the delivery worker: something was queued, or (in tests) the clock moved.
    pub fn wake_deliveries(&self) {
        self.hot.deliveries.notify_one();
    }

    /// Delivers due messages until `stop` resolves.
    pub async fn run_deliveries(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let wait = match self.deliver_due().await {
                Ok((taken, _)) if taken as i64 == BATCH => Duration::ZERO,
                Ok((_, next)) => next.map_or(Duration::from_secs(60), |at| (at - self.now()).to_std().unwrap_or_default().min(Duration::from_secs(60))),
                Err(err) => {
                    tracing::warn!(error = %err, "the delivery queue could not be read; will retry");
                    Duration::from_secs(5)
                }
            };
            if wait.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = self.hot.deliveries.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stop => return,
            }
        }
    }

    /// Tries every message due now; how many it took, and when the next one is due.
    pub async fn deliver_due(&self) -> Result<(usize, Option<DateTime<Utc>>), EngineError> {
        let now = self.now();
        type Row = (String, String, Option<String>, Option<String>, String, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, channel, endpoint_id, recipient, payload, attempts FROM deliveries
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(self.db().pool())
        .await?;
        let taken = rows.len();
        let due = rows.into_iter().map(|(id, channel, endpoint, recipient, payload, attempts)| Due { id, channel, endpoint, recipient, payload, attempts });
        use futures_util::StreamExt;
        futures_util::stream::iter(due)
            .for_each_concurrent(CONCURRENCY, |due| async move {
                if let Err(err) = self.attempt(due).await {
                    tracing::warn!(error = %err, "recording a delivery attempt failed; it will be tried again");
                }
            })
            .await;
        let next: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'")
            .fetch_one(self.db().pool())
            .await?;
        Ok((taken, next))
    }

    async fn attempt(&self, due: Due) -> Result<(), EngineError> {
        let started = Instant::now();
        let outcome = match due.channel.as_str() {
            "email" => self.attempt_email(&due).await,
            _ => self.attempt_webhook(&due).await,
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        let now = self.now();
        let attempt = due.attempts + 1;
        let schedule = &self.config.delivery.retry_schedule;
        let next = (outcome.retry && !outcome.delivered)
            .then(|| schedule.get(attempt as usize))
            .flatten()
            .map(|wait| jitter(*wait).max(outcome.retry_after.unwrap_or_default()));
        let (state, label) = match (&outcome, next) {
            (o, _) if o.delivered => ("delivered", "delivered"),
            (o, _) if o.gone => ("failed", "disabled"),
            (_, Some(_)) => ("pending", "retry"),
            (_, None) => ("failed", "failed"),
        };
        let mut tx = self.db().pool().begin().await?;
        sqlx::query("INSERT INTO delivery_attempts (delivery_id, attempt, at, status, latency_ms, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&due.id)
            .bind(attempt)
            .bind(now)
            .bind(outcome.status.map(i64::from))
            .bind(latency_ms)
            .bind(label)
            .bind(snippet(&outcome.detail))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE deliveries SET attempts = $2, state = $3, next_attempt_at = $4, finished_at = $5 WHERE id = $1")
            .bind(&due.id)
            .bind(attempt)
            .bind(state)
            .bind(next.map_or(now, |wait| now + chrono::Duration::from_std(wait).unwrap_or_default()))
            .bind((state != "pending").then_some(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if outcome.gone {
            if let Some(endpoint) = &due.endpoint {
                self.disable_gone_endpoint(endpoint).await?;
            }
        }
        metrics::counter!("tollgate_deliveries_total", "channel" => due.channel.clone(), "outcome" => label).increment(1);
        tracing::info!(delivery = %due.id, channel = %due.channel, attempt, outcome = label, status = outcome.status, latency_ms, "delivery attempt");
        Ok(())
    }

    async fn attempt_email(&self, due: &Due) -> Outcome {
        let Some(mailer) = &self.config.delivery.mailer else {
            return Outcome::failed("email is off on this server (TOLLGATE_SMTP_URL is not set)", false);
        };
        let (Some(to), Ok(event)) = (&due.recipient, serde_json::from_str::<AlertEvent>(&due.payload)) else {
            return Outcome::failed("the queued email is unreadable", false);
        };
        let email = super::mail::compose(
            to,
            &event.data.title,
            &[&event.data.body, "You get this email because alerts are on for your account; change where they go on the alert settings page."],
            "Open the dashboard",
            &event.data.dashboard_url,
        );
        match mailer.send(&email).await {
            Ok(code) => Outcome { status: Some(code), delivered: true, retry: false, gone: false, retry_after: None, detail: format!("accepted by {}", mailer.server()) },
            Err(failure) => Outcome { status: failure.code, delivered: false, retry: !failure.permanent, gone: false, retry_after: None, detail: failure.message },
        }
    }

    async fn attempt_webhook(&self, due: &Due) -> Outcome {
        let now = self.now();
        let Some(endpoint) = &due.endpoint else { return Outcome::failed("no endpoint", false) };
        let destination = match self.destination(endpoint, now).await {
            Ok(Some(d)) => d,
            Ok(None) => return Outcome::failed("the endpoint was deleted", false),
            Err(err) => return Outcome::failed(format!("reading the endpoint failed: {err}"), true),
        };
        if !destination.enabled {
            return Outcome::failed("the endpoint is disabled", false);
        }
        let Ok(url) = reqwest::Url::parse(&destination.url) else { return Outcome::failed("the endpoint's URL is invalid", false) };
        if let Some(refused) = webhooks::literal_address_refused(&url, &self.config.delivery.net_policy) {
            return Outcome::failed(refused, true);
        }
        let timestamp = now.timestamp();
        let body = due.payload.as_bytes();
        let signatures: Vec<String> = destination.secrets.iter().filter_map(|s| webhooks::sign(s, &due.id, timestamp, body)).collect();
        let request = self
            .webhook_client()
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures.join(" "))
            .body(due.payload.clone());
        match request.send().await {
            Ok(response) => {
                let status = response.status();
                let wait = retry_after(response.headers(), now);
                let text = response.text().await.unwrap_or_default();
                Outcome {
                    status: Some(status.as_u16()),
                    delivered: status.is_success(),
                    retry: !status.is_success() && status != reqwest::StatusCode::GONE,
                    gone: status == reqwest::StatusCode::GONE,
                    retry_after: wait,
                    detail: snippet(&text),
                }
            }
            Err(err) => {
                let mut detail = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    detail = format!("{detail}: {cause}");
                    source = cause.source();
                }
                Outcome::failed(if err.is_timeout() { format!("no answer within 15 seconds ({detail})") } else { detail }, true)
            }
        }
    }

    /// Queues a `webhook.test` event for one endpoint; the delivery's id.
    pub async fn send_test_webhook(&self, account: &AccountId, id: &str) -> Result<String, EngineError> {
        let now = self.now();
        let exists: Option<bool> = sqlx::query_scalar("SELECT enabled FROM webhook_endpoints WHERE account_id = $1 AND id = $2")
            .bind(account.as_str())
            .bind(id)
            .fetch_optional(self.db().pool())
            .await?;
        match exists {
            None => return Err(EngineError::NotFound("webhook endpoint")),
            Some(false) => return Err(EngineError::invalid("endpoint", "this endpoint is disabled; enable it to send to it")),
            Some(true) => {}
        }
        let event = model::AlertEvent {
            kind: TEST_EVENT.into(),
            timestamp: now,
            data: model::AlertData {
                account_id: account.as_str().to_owned(),
                notification_id: None,
                subject: "test".into(),
                threshold: 0.0,
                threshold_unit: "none".into(),
                title: "Test event".into(),
                body: "Tollgate sent this to check the endpoint: the signature verifies with its secret.".into(),
                usage: None,
                limit: None,
                percent: None,
                dashboard_url: self.dashboard_url("/settings/alerts"),
            },
        };
        let mut tx = self.db().pool().begin().await?;
        let delivery = enqueue(&mut tx, account, Target::Webhook(id), &event, now, self.first_attempt_delay()).await?;
        tx.commit().await?;
        self.hot.deliveries.notify_one();
        Ok(delivery)
    }

    fn webhook_client(&self) -> &reqwest::Client {
        self.hot.webhook_client.get_or_init(|| webhooks::http_client(&self.config.delivery.net_policy))
    }

    /// The account's deliveries, newest first, each with its attempts; optionally those
    /// of one endpoint.
    pub async fn deliveries(&self, account: &AccountId, endpoint: Option<&str>, limit: u32) -> Result<Vec<DeliveryView>, EngineError> {
        type Row = (String, String, Option<String>, Option<String>, String, String, DateTime<Utc>, DateTime<Utc>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT d.id, d.channel, d.recipient, e.url, d.event_type, d.state, d.created_at, d.next_attempt_at
             FROM deliveries d LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.account_id = $1 AND ($2 IS NULL OR d.endpoint_id = $2)
             ORDER BY d.created_at DESC, d.id LIMIT $3",
        )
        .bind(account.as_str())
        .bind(endpoint)
        .bind(i64::from(limit))
        .fetch_all(self.db().pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, channel, recipient, url, event_type, state, created_at, next) in rows {
            type AttemptRow = (i64, DateTime<Utc>, Option<i64>, i64, String, String);
            let attempts: Vec<AttemptRow> =
                sqlx::query_as("SELECT attempt, at, status, latency_ms, outcome, detail FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt")
                    .bind(&id)
                    .fetch_all(self.db().pool())
                    .await?;
            out.push(DeliveryView {
                target: recipient.or(url).unwrap_or_default(),
                next_attempt_at: (state == "pending").then_some(next),
                id,
                channel,
                event_type,
                state,
                created_at,
                attempts: attempts
                    .into_iter()
                    .map(|(attempt, at, status, latency_ms, outcome, detail)| DeliveryAttempt {
                        attempt: attempt as u32,
                        at,
                        status: status.and_then(|s| u16::try_from(s).ok()),
                        latency_ms: latency_ms.max(0) as u64,
                        outcome,
                        detail,
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Queues the messages that announce a new notification: email to the account's alert
    /// address (or its owners) when email is on, and every enabled endpoint that takes the
    /// event type while the plan has `webhooks`. In the notification's transaction.
    pub(crate) async fn enqueue_alert(&self, tx: &mut SqliteConnection, account: &AccountId, event: &AlertEvent, webhooks_allowed: bool) -> Result<usize, EngineError> {
        let now = event.timestamp;
        let delay = self.first_attempt_delay();
        let mut queued = 0;
        if self.config.delivery.mailer.is_some() && event.kind != TEST_EVENT {
            for to in self.alert_recipients(tx, account).await? {
                enqueue(tx, account, Target::Email(&to), event, now, delay).await?;
                queued += 1;
            }
        }
        if webhooks_allowed {
            let endpoints: Vec<(String, String)> = sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE account_id = $1 AND enabled")
                .bind(account.as_str())
                .fetch_all(&mut *tx)
                .await?;
            for (endpoint, events) in endpoints {
                if events.is_empty() || events.split_whitespace().any(|e| e == event.kind) {
                    enqueue(tx, account, Target::Webhook(&endpoint), event, now, delay).await?;
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }
}

/// `wait`, moved by up to a tenth either way, so retries after an outage spread out.
fn jitter(wait: Duration) -> Duration {
    if wait.is_zero() {
        return wait;
    }
    let factor = 0.9 + rand::random::<f64>() * 0.2;
    wait.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z").expect("time").with_timezone(&Utc);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "120".parse().expect("value"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(reqwest::header::RETRY_AFTER, "Thu, 03 Dec 2026 12:10:00 GMT".parse().expect("value"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(600)));
        headers.insert(reqwest::header::RETRY_AFTER, "99999999".parse().expect("value"));
        assert_eq!(retry_after(&headers, now), Some(MAX_RETRY_AFTER));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().expect("value"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn jitter_stays_within_a_tenth() {
        for _ in 0..1000 {
            let j = jitter(Duration::from_secs(300));
            assert!((270..=330).contains(&j.as_secs()), "{j:?}");
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}
