//! The engine's settings beyond its catalog. `Debug` redacts the webhook secrets, so a
//! logged configuration never carries them.

use crate::{auth, metering, Clock};
use std::fmt;

/// Settings the engine needs beyond its catalog.
#[derive(Clone)]
pub struct EngineConfig {
    /// Overrides the catalog's billing portal link when set.
    pub billing_portal_url: Option<String>,
    pub sessions: auth::SessionConfig,
    /// How far from now an ingested event's timestamp may be.
    pub ingest_window: metering::IngestWindow,
    /// Requests per second each service key may make to ingest, consume and entitlements.
    pub service_rate_per_second: u64,
    pub clock: Clock,
    /// Webhook signing secrets; several are allowed while one is rotated out.
    pub whop_webhook_secrets: Vec<String>,
    pub stripe_webhook_secrets: Vec<String>,
    /// Which Stripe events this deployment acts on: live ones (the default) or, for a
    /// staging deployment, test-mode ones. The other kind is recorded and ignored.
    pub stripe_live: bool,
    /// How people reach the server, for links in emails and webhook events.
    pub public_url: String,
    /// Email and outgoing webhooks.
    pub delivery: DeliveryConfig,
}

/// How alerts leave the server.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    /// The SMTP server; `None` turns email off.
    pub mailer: Option<crate::alerts::mail::Mailer>,
    /// Which non-public networks webhooks may reach.
    pub net_policy: crate::alerts::webhooks::NetPolicy,
    /// The wait before each attempt (the first counted from the alert).
    pub retry_schedule: Vec<std::time::Duration>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            mailer: None,
            net_policy: crate::alerts::webhooks::NetPolicy::default(),
            retry_schedule: crate::alerts::outbox::DEFAULT_RETRY_SCHEDULE.to_vec(),
        }
    }
}

/// The default service limit: far above what one instance serves, so it only stops a
/// runaway client.
pub const DEFAULT_SERVICE_RATE_PER_SECOND: u64 = 50_000;

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            billing_portal_url: None,
            sessions: auth::SessionConfig::default(),
            ingest_window: metering::IngestWindow::default(),
            service_rate_per_second: DEFAULT_SERVICE_RATE_PER_SECOND,
            clock: Clock::system(),
            whop_webhook_secrets: Vec::new(),
            stripe_webhook_secrets: Vec::new(),
            stripe_live: true,
            public_url: "http://127.0.0.1:3000".into(),
            delivery: DeliveryConfig::default(),
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |secrets: &[String]| format!("[{} redacted]", secrets.len());
        f.debug_struct("EngineConfig")
            .field("billing_portal_url", &self.billing_portal_url)
            .field("sessions", &self.sessions)
            .field("ingest_window", &self.ingest_window)
            .field("service_rate_per_second", &self.service_rate_per_second)
            .field("clock", &self.clock)
            .field("whop_webhook_secrets", &redacted(&self.whop_webhook_secrets))
            .field("stripe_webhook_secrets", &redacted(&self.stripe_webhook_secrets))
            .field("stripe_live", &self.stripe_live)
            .field("public_url", &self.public_url)
            .field("delivery", &self.delivery)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_webhook_secret() {
        let config = EngineConfig {
            whop_webhook_secrets: vec!["whsec_whop_secret_value".into()],
            stripe_webhook_secrets: vec!["whsec_stripe_secret_value".into()],
            ..EngineConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("secret_value"), "{shown}");
        assert!(shown.contains("1 redacted"), "{shown}");
    }
}
