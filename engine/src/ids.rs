//! Typed ids, so an account id is never confused with any other string.

use std::fmt;

/// An account's id. Comes from the session, a key, or the operator; never from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Accepts ids of 1 to 64 characters from `[A-Za-z0-9_-]`.
    pub fn parse(raw: &str) -> Result<Self, crate::EngineError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(crate::EngineError::Invalid {
                field: "account_id",
                message: "use 1 to 64 letters, digits, '_' or '-'".into(),
            })
        }
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        Self(format!("acc_{}", uuid::Uuid::new_v4().simple()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_accept_plain_ids_and_refuse_hostile_strings() {
        assert!(AccountId::parse("acc_initech").is_ok());
        assert!(AccountId::parse(&AccountId::generate().to_string()).is_ok());
        for bad in ["", "a b", "x'; DROP TABLE accounts;--", "ü", &"a".repeat(65)] {
            assert!(AccountId::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
