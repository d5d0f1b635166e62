//! Typed ids live in `model` (the browser's build shares them); the engine makes new ones.

pub use model::ids::*;

/// A fresh random account id (`acc_` and 32 hex digits).
pub fn new_account_id() -> AccountId {
    new_id("acc")
}

/// A fresh random id of any kind: `prefix_` and 32 hex digits.
pub(crate) fn new_id<T: TryFrom<String, Error = BadId>>(prefix: &str) -> T {
    T::try_from(format!("{prefix}_{}", uuid::Uuid::new_v4().simple())).unwrap_or_else(|_| unreachable!("a uuid is a valid id"))
}

impl From<BadId> for crate::EngineError {
    fn from(bad: BadId) -> Self {
        crate::EngineError::Invalid { field: bad.field, message: format!("use {ID_PATTERN}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_account_ids_are_valid_and_distinct() {
        let (a, b) = (new_account_id(), new_account_id());
        assert_ne!(a, b);
        assert!(AccountId::parse(a.as_str()).is_ok());
        assert!(a.as_str().starts_with("acc_"));
    }
}
