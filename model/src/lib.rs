//! Typed models shared by the server and the WASM client.
//!
//! Everything here is plain serde data: no IO, no database, and it builds for
//! `wasm32-unknown-unknown`. Types that must never reach the browser (key hashes,
//! license ids, password hashes) do not live here.

pub mod ids;
pub mod license;
pub mod quota;
pub mod usage;

pub use ids::{AccountId, BadId, GrantId, KeyId, RequestId, UserId};
pub use license::{AccountSummary, LicenseStatus, LicenseView, PlanView, Price};
pub use quota::{Aggregation, Period, QuotaLevel, QuotaStatus};
pub use usage::{DayCount, Overview};
pub mod auth;
pub use auth::{ApiKeyView, CreatedKey, KeyKind, KeyScope, Role, SessionUser};
pub mod entitlement;
pub use entitlement::{Entitlement, Refusal};
pub mod billing;
pub use billing::{AwaitingSignIn, PlanChange, WebhookEventView};
pub mod suggestion;
pub use suggestion::{RoiEstimate, Trigger, UpgradeSuggestion, Urgency};
pub mod grant;
pub mod metering;
pub use grant::{Grant, GrantKind, NewGrant};
pub use metering::{EventStatus, VerifyCode};
pub mod upgrade;
pub use upgrade::{FeatureAccess, MeterAnalytics, RequestKind, RequestStatus, TierLimit, TierView, UpgradeOptions, UpgradeRequestView, UsageEvidence};
pub mod notification;
pub use notification::{AlertData, AlertEvent, AlertSettings, AlertThreshold, AlertKind, DeliveryAttempt, DeliveryView, Notification, WebhookEndpoint, WebhookEndpointWithSecret};
