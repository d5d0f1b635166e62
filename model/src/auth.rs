//! Who is signed in, and their API keys, as the browser may see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads the account's dashboard and keys.
    Member,
    /// Also manages the account's keys, alert settings and upgrade requests.
    Owner,
    /// Operator staff: the admin console and every account.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes everything `needed` may do.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" => Ok(Role::Member),
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}`: use member, owner or admin")),
        }
    }
}

/// The signed-in user, as the UI shows them. No ids, no hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub email: String,
    pub role: Role,
    /// The account's display name; `None` for operator staff without an account.
    pub account_name: Option<String>,
}

/// Which environment a key is for; service keys act for any account.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Live,
    Test,
    Service,
}

impl KeyKind {
    /// The part after `tg_`: `live`, `test` or `svc`.
    pub fn tag(self) -> &'static str {
        match self {
            KeyKind::Live => "live",
            KeyKind::Test => "test",
            KeyKind::Service => "svc",
        }
    }

    /// A customer key's environment as people write it: `live` or `test` (never `svc`).
    pub fn customer_environment(environment: &str) -> Option<Self> {
        match environment {
            "live" => Some(KeyKind::Live),
            "test" => Some(KeyKind::Test),
            _ => None,
        }
    }

    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "live" => Some(KeyKind::Live),
            "test" => Some(KeyKind::Test),
            "svc" => Some(KeyKind::Service),
            _ => None,
        }
    }
}

/// An API key as listed: never the plaintext, never the hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: crate::KeyId,
    pub name: String,
    pub kind: KeyKind,
    /// The first characters of the key, e.g. `tg_live_AbC1`, to recognise it by.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What the key may do beyond metering.
    #[serde(default)]
    pub scopes: Vec<KeyScope>,
}

/// A permission a customer key may carry beyond metering.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Create and revoke the account's keys (`/api/v1/user/keys`).
    ManageKeys,
    /// Register, roll and delete the account's outgoing webhook endpoints
    /// (`/api/v1/users/me/webhooks`).
    ManageWebhooks,
}

impl KeyScope {
    pub const ALL: [KeyScope; 2] = [KeyScope::ManageKeys, KeyScope::ManageWebhooks];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::ManageKeys => "manage_keys",
            KeyScope::ManageWebhooks => "manage_webhooks",
        }
    }

    /// Scopes from their stored form (space-separated); unknown words are ignored.
    pub fn parse_list(stored: &str) -> Vec<KeyScope> {
        stored.split_whitespace().filter_map(|word| KeyScope::ALL.into_iter().find(|s| s.as_str() == word)).collect()
    }
}

impl ApiKeyView {
    /// Usable now: neither revoked nor expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// A key just created or rotated: the only time its plaintext exists outside the caller.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: ApiKeyView,
    pub plaintext: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Admin.allows(Role::Owner));
        assert!(Role::Owner.allows(Role::Member));
        assert!(!Role::Member.allows(Role::Owner));
        assert!(!Role::Owner.allows(Role::Admin));
        for role in [Role::Member, Role::Owner, Role::Admin] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn key_kinds_round_trip_through_their_tags() {
        for kind in [KeyKind::Live, KeyKind::Test, KeyKind::Service] {
            assert_eq!(KeyKind::from_tag(kind.tag()), Some(kind));
        }
        assert_eq!(KeyKind::from_tag("prod"), None);
        assert_eq!(KeyKind::customer_environment("test"), Some(KeyKind::Test));
        assert_eq!(KeyKind::customer_environment("svc"), None, "service keys are not an environment");
    }
}
