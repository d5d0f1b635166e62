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

/// A new grant, as the operator asks for it. Each kind takes its own fields and refuses the
/// others': `limit` a `meter` (and `value`), `feature` a `feature`, `bypass` neither.
#[derive(Debug, Clone, Deserialize)]
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

/// The longest reason a grant keeps.
pub const GRANT_REASON_MAX_CHARS: usize = 500;

/// A grant's reason: up to 500 characters, lines and tabs allowed, no other control
/// character (it is shown to admins and written to the audit log).
pub fn grant_reason_ok(reason: &str) -> bool {
    reason.chars().count() <= GRANT_REASON_MAX_CHARS && !reason.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// `oneOf` the three kinds, each with only its own fields, so that a client generated from
/// the document cannot send a combination the server refuses.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for NewGrant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let kind = |name: &str, description: &str| {
            ObjectBuilder::new()
                .description(Some(description))
                .property("kind", string().enum_values(Some([name])))
                .required("kind")
                .property(
                    "reason",
                    string()
                        .max_length(Some(GRANT_REASON_MAX_CHARS))
                        .pattern(Some("^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]*$"))
                        .description(Some("Why; kept in the audit log. Up to 500 characters.")),
                )
                .property(
                    "expires_at",
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]))
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                        .description(Some("When the grant ends, in the future; absent means until revoked.")),
                )
                .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)))
        };
        let limit = kind("limit", "A different limit for one meter")
            .property("meter", string())
            .required("meter")
            .property(
                "value",
                ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::SchemaType::from_iter([Type::Number, Type::Null]))
                    .minimum(Some(0))
                    .description(Some("The new limit; null or absent means unlimited.")),
            );
        let feature = kind("feature", "One more feature").property("feature", string()).required("feature");
        let bypass = kind("bypass", "No quota or rate limit applies; usage is still metered");
        OneOfBuilder::new().item(limit).item(feature).item(bypass).into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for NewGrant {}
