//! Whether an account may use a feature, and if not, what would unlock it.

use serde::{Deserialize, Serialize};

/// Why a feature is not available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A higher plan includes it.
    UpgradeRequired,
    /// The license is not active (suspended, expired, cancelled, past due).
    LicenseInactive,
}

/// The answer to "may this account use this feature?". The same shape is used wherever a
/// gated action is refused, so a client can always show the way forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlement {
    pub feature: String,
    pub allowed: bool,
    /// The account's current plan id.
    pub plan: String,
    /// When refused: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Refusal>,
    /// When an upgrade is required: the lowest plan that includes the feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_plan_name: Option<String>,
    /// Where to upgrade or renew.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_url: Option<String>,
    /// When refused: what to do, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
