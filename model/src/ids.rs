//! Typed ids, so an account id is never confused with a key id or any other string.
//!
//! Each id is checked when it is made (`parse`) and when it is deserialised, so a path
//! parameter, a form field or a JSON body holding a hostile string is refused at the edge
//! with a message naming the field. On the wire each is a plain string.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The characters an id may hold, and its length.
pub const ID_PATTERN: &str = "1 to 64 letters, digits, '_' or '-'";

/// An id that is not one: names the field and what an id looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadId {
    pub field: &'static str,
}

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: use {ID_PATTERN}", self.field)
    }
}

impl std::error::Error for BadId {}

fn valid(raw: &str) -> bool {
    !raw.is_empty() && raw.len() <= 64 && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The field this id travels in, for error messages.
            pub const FIELD: &'static str = $field;

            /// Accepts ids of 1 to 64 characters from `[A-Za-z0-9_-]`.
            pub fn parse(raw: &str) -> Result<Self, BadId> {
                if valid(raw) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(BadId { field: $field })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = BadId;
            fn try_from(raw: String) -> Result<Self, BadId> {
                if valid(&raw) {
                    Ok(Self(raw))
                } else {
                    Err(BadId { field: $field })
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = BadId;
            fn from_str(raw: &str) -> Result<Self, BadId> {
                Self::parse(raw)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some("^[A-Za-z0-9_-]{1,64}$"))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

id!(
    /// A customer account. Comes from the session, a key, or the operator; never from a browser.
    AccountId, "account_id"
);
id!(
    /// An API key (`key_…`), never the key itself.
    KeyId, "key_id"
);
id!(
    /// A user (`usr_…`).
    UserId, "user_id"
);
id!(
    /// A grant (`grant_…`).
    GrantId, "grant_id"
);
id!(
    /// An upgrade request (`req_…`).
    RequestId, "request_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_plain_ids_and_refuse_hostile_strings() {
        assert!(AccountId::parse("acc_initech").is_ok());
        for bad in ["", "a b", "x'; DROP TABLE accounts;--", "ü", &"a".repeat(65), "../etc"] {
            assert_eq!(AccountId::parse(bad), Err(BadId { field: "account_id" }), "{bad:?} must be refused");
            assert!(KeyId::parse(bad).is_err());
        }
    }

    #[test]
    fn ids_are_checked_when_deserialised_and_are_plain_strings_on_the_wire() {
        let id: KeyId = serde_json::from_str("\"key_abc\"").expect("a valid id");
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"key_abc\"");
        let err = serde_json::from_str::<GrantId>("\"a b\"").expect_err("a hostile id");
        assert!(err.to_string().contains("grant_id: use 1 to 64"), "{err}");
    }
}
