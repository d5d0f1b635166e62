//! The metering API's decision codes.

use serde::{Deserialize, Serialize};

/// The decision codes of `keys/verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerifyCode {
    Valid,
    NotFound,
    Revoked,
    Expired,
    LicenseInactive,
    RateLimited,
    QuotaExceeded,
    UpgradeRequired,
}

impl VerifyCode {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyCode::Valid => "VALID",
            VerifyCode::NotFound => "NOT_FOUND",
            VerifyCode::Revoked => "REVOKED",
            VerifyCode::Expired => "EXPIRED",
            VerifyCode::LicenseInactive => "LICENSE_INACTIVE",
            VerifyCode::RateLimited => "RATE_LIMITED",
            VerifyCode::QuotaExceeded => "QUOTA_EXCEEDED",
            VerifyCode::UpgradeRequired => "UPGRADE_REQUIRED",
        }
    }
}

/// What became of one ingested event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Accepted,
    Duplicate,
    Conflict,
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_the_same_on_the_wire_and_in_metrics() {
        for code in [VerifyCode::Valid, VerifyCode::NotFound, VerifyCode::LicenseInactive, VerifyCode::UpgradeRequired] {
            assert_eq!(serde_json::to_string(&code).expect("json"), format!("\"{}\"", code.as_str()));
        }
        assert_eq!(serde_json::to_string(&EventStatus::Duplicate).expect("json"), "\"duplicate\"");
    }
}
