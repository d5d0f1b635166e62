//! Plan history and sign-in handover, as the dashboard and the admin console show them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One change of plan or status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    pub at: DateTime<Utc>,
    pub from_plan: Option<String>,
    pub to_plan: String,
    pub from_status: Option<String>,
    pub to_status: String,
    /// `whop`, `stripe`, `lifecycle` or `manual`.
    pub source: String,
    pub reason: String,
}

/// An owner created by a purchase who has not signed in yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwaitingSignIn {
    pub user_id: crate::UserId,
    pub email: String,
    pub account_name: String,
    pub created_at: DateTime<Utc>,
}

/// A billing provider's event as received, for the admin console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEventView {
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    pub received_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// applied, provisioned, ignored, stale or unmatched.
    pub outcome: String,
    pub detail: String,
    pub account_id: Option<String>,
    /// Deliveries of the same event (1 plus retries and copies).
    pub deliveries: i64,
    /// Whether the raw body is still kept (bodies are dropped after 30 days).
    pub body_kept: bool,
}
