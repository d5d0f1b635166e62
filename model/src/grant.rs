//! Grants: an operator's overrides on top of a plan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a grant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// A different limit for one meter (`value`; none means unlimited).
    Limit,
    /// One more feature.
    Feature,
    /// No quota or rate limit applies; usage is still metered.
    Bypass,
}

impl GrantKind {
    pub const ALL: [GrantKind; 3] = [GrantKind::Limit, GrantKind::Feature, GrantKind::Bypass];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Limit => "limit",
            GrantKind::Feature => "feature",
            GrantKind::Bypass => "bypass",
        }
    }
}

/// An operator's override on top of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: crate::GrantId,
    pub kind: GrantKind,
    pub meter: Option<String>,
    pub value: Option<f64>,
    pub feature: Option<String>,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Grant {
    /// Whether the grant is in force at `now`.
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }
}

/// A new grant, as the operator asks for it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// `limit` (a meter's limit), `feature` (one more feature) or `bypass` (no quota or
    /// rate limit applies; usage is still metered).
    pub kind: GrantKind,
    pub meter: Option<String>,
    /// For `limit`: the new limit; null or absent means unlimited.
    pub value: Option<f64>,
    pub feature: Option<String>,
    #[serde(default)]
    pub reason: String,
    /// When the grant ends; absent means until revoked.
    pub expires_at: Option<DateTime<Utc>>,
}
