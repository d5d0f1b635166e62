//! The hot path: key verification, quota consumption, entitlements and usage ingest.
//!
//! Inputs are checked here, before anything reaches the ledger, so a refused request never
//! changes a stored count and a rejected event never uses up its idempotency key.

use crate::access::{AccountInfo, Inactive};
use crate::auth::KeyRejection;
use crate::ledger::{Charge, ChargeOutcome, EventIn, EventOutcome, MeterRef};
use crate::ratelimit::RateDecision;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
pub use model::{EventStatus, VerifyCode};
use model::{Entitlement, KeyKind, Refusal};
use serde::Deserialize;
use serde_json::Value;

/// The largest quantity one event or charge may carry.
pub const MAX_QUANTITY: f64 = 1e12;
/// The most events one ingest request may carry.
pub const MAX_BATCH: usize = 1000;
/// The longest idempotency key.
pub const MAX_KEY_LEN: usize = 255;
/// The largest `properties` object, serialised.
pub const MAX_PROPERTIES_BYTES: usize = 4096;

/// One verify decision.
#[derive(Debug, Clone)]
pub struct Verification {
    pub code: VerifyCode,
    pub account: Option<AccountId>,
    pub plan: Option<String>,
    pub meter: String,
    /// The charge, when the request got that far.
    pub charge: Option<ChargeOutcome>,
    pub rate: RateDecision,
    /// The refused feature, for `UPGRADE_REQUIRED`.
    pub entitlement: Option<Entitlement>,
}

impl Verification {
    fn refused(code: VerifyCode, meter: &str) -> Self {
        Self { code, account: None, plan: None, meter: meter.to_owned(), charge: None, rate: RateDecision::unlimited(), entitlement: None }
    }

    pub fn valid(&self) -> bool {
        self.code == VerifyCode::Valid
    }
}

/// Who writes usage: an operator's service key (any account, named per event) or a
/// customer (its own account only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Service,
    Account(AccountId),
}

/// An event as it arrives, before it is checked; every field is optional here so that a
/// bad field gets its own reason instead of failing the whole batch.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawEvent {
    #[serde(default)]
    pub idempotency_key: Option<Value>,
    #[serde(default)]
    pub account_id: Option<Value>,
    #[serde(default)]
    pub meter: Option<Value>,
    #[serde(default)]
    pub quantity: Option<Value>,
    #[serde(default)]
    pub timestamp: Option<Value>,
    #[serde(default)]
    pub properties: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    pub idempotency_key: Option<String>,
    pub status: EventStatus,
    pub reason: Option<String>,
}

/// A quota consumption's outcome.
#[derive(Debug, Clone)]
pub struct Consumption {
    pub meter: String,
    pub outcome: ChargeOutcome,
}

/// How far from now an event's timestamp may be.
#[derive(Debug, Clone, Copy)]
pub struct IngestWindow {
    pub max_future: chrono::Duration,
    pub max_age: chrono::Duration,
}

impl Default for IngestWindow {
    fn default() -> Self {
        Self { max_future: chrono::Duration::minutes(5), max_age: chrono::Duration::days(35) }
    }
}

fn check_quantity(value: f64, aggregation: model::Aggregation, field: &'static str) -> Result<f64, String> {
    if !value.is_finite() {
        return Err(format!("{field} must be a finite number"));
    }
    if value > MAX_QUANTITY {
        return Err(format!("{field} must be at most {MAX_QUANTITY:e}"));
    }
    match aggregation {
        model::Aggregation::Sum if value <= 0.0 => Err(format!("{field} must be greater than zero for a counted meter")),
        _ if value < 0.0 => Err(format!("{field} must be zero or more")),
        _ => Ok(value),
    }
}

/// Properties with object keys sorted, so the same payload always has the same digest.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

fn fingerprint(meter: &str, quantity: f64, timestamp: Option<DateTime<Utc>>, properties: Option<&Value>) -> String {
    let text = format!(
        "{meter}\u{1f}{quantity:?}\u{1f}{}\u{1f}{}",
        timestamp.map(|t| t.timestamp_micros().to_string()).unwrap_or_default(),
        properties.map(canonical).unwrap_or_default()
    );
    crate::auth::sha256_hex(&text)[..32].to_owned()
}

impl Engine {
    /// The meter `keys/verify` charges when the request names none.
    fn default_meter(&self) -> Option<&crate::catalog::Meter> {
        self.catalog().chart_meter()
    }

    fn meter_ref(&self, key: &str) -> Result<MeterRef, EngineError> {
        let meter = self.catalog().meter(key).ok_or_else(|| {
            let known: Vec<_> = self.catalog().meters().iter().map(|m| m.key.as_str()).collect();
            EngineError::invalid("meter", format!("unknown meter `{key}`; the catalog's meters are: {}", known.join(", ")))
        })?;
        Ok(MeterRef { key: meter.key.clone(), aggregation: meter.aggregation })
    }

    fn check_feature(&self, feature: &str) -> Result<(), EngineError> {
        if self.catalog().knows_feature(feature) {
            Ok(())
        } else {
            Err(EngineError::invalid("feature", format!("unknown feature `{feature}`; the catalog's features are: {}", self.catalog().features().join(", "))))
        }
    }

    /// Whether the account may use a feature now; if not, what would unlock it. An
    /// `upgrade_required` answer is counted for the "repeated refusals" suggestion.
    pub fn entitlement(&self, info: &AccountInfo, feature: &str) -> Result<Entitlement, EngineError> {
        self.check_feature(feature)?;
        let now = self.now();
        let mut answer = Entitlement {
            feature: feature.to_owned(),
            allowed: false,
            plan: info.plan.id.clone(),
            code: None,
            required_plan: None,
            required_plan_name: None,
            upgrade_url: None,
            message: None,
        };
        if let Err(inactive) = info.usable(now) {
            answer.code = Some(Refusal::LicenseInactive);
            answer.upgrade_url = Some(self.billing_portal_url().to_owned());
            answer.message = Some(match inactive {
                Inactive::Expired => "the license has expired; renew it to use this feature".to_owned(),
                Inactive::NotActive(status) => format!("the license is {}; renew it to use this feature", status.label().to_lowercase()),
            });
            return Ok(answer);
        }
        if info.has_feature(feature, now) {
            answer.allowed = true;
            return Ok(answer);
        }
        self.record_refusal(&info.account, feature);
        let unlocking = self.catalog().plan_unlocking(feature, &info.plan);
        answer.code = Some(Refusal::UpgradeRequired);
        answer.required_plan = unlocking.map(|p| p.id.clone());
        answer.required_plan_name = unlocking.map(|p| p.name.clone());
        answer.upgrade_url = Some(self.billing_portal_url().to_owned());
        answer.message = Some(match unlocking {
            Some(plan) => format!("`{feature}` is part of the {} plan; upgrade to use it", plan.name),
            None => format!("`{feature}` is not available on the {} plan", info.plan.name),
        });
        Ok(answer)
    }

    /// Counts one request of the account against its plan's rate limits (none under a
    /// bypass grant).
    pub fn rate_check_account(&self, info: &AccountInfo) -> RateDecision {
        if info.bypass(self.now()) {
            return RateDecision::unlimited();
        }
        self.rate_limits().check_account(&info.plan.id, &info.account)
    }

    /// Counts one request of a service key against the service limit.
    pub fn rate_check_service(&self, key_id: &str) -> RateDecision {
        self.rate_limits().check_service(key_id)
    }

    /// `keys/verify`: one decision for a customer's key, recording the usage when valid.
    /// Bad input (unknown meter or feature, a bad cost) is an error; every other outcome
    /// is a decision.
    pub async fn verify(&self, key: &str, feature: Option<&str>, meter: Option<&str>, cost: Option<f64>) -> Result<Verification, EngineError> {
        let meter = match meter {
            Some(key) => self.meter_ref(key)?,
            None => {
                let m = self.default_meter().ok_or_else(|| EngineError::invalid("meter", "the catalog has no counted meter; name one"))?;
                MeterRef { key: m.key.clone(), aggregation: m.aggregation }
            }
        };
        let cost = cost.unwrap_or(1.0);
        if !(cost.is_finite() && (0.0..=MAX_QUANTITY).contains(&cost)) {
            return Err(EngineError::invalid("cost", format!("must be a number from 0 to {MAX_QUANTITY:e}")));
        }
        if let Some(feature) = feature {
            self.check_feature(feature)?;
        }
        let now = self.now();
        let principal = match self.authenticate_key(key, now).await {
            Ok(principal) => principal,
            Err(KeyRejection::Revoked) => return Ok(Verification::refused(VerifyCode::Revoked, &meter.key)),
            Err(KeyRejection::Expired) => return Ok(Verification::refused(VerifyCode::Expired, &meter.key)),
            Err(_) => return Ok(Verification::refused(VerifyCode::NotFound, &meter.key)),
        };
        // Only a customer's key names a customer; a service key in the body is not one.
        let account = match (principal.kind, principal.account) {
            (KeyKind::Live | KeyKind::Test, Some(account)) => account,
            _ => return Ok(Verification::refused(VerifyCode::NotFound, &meter.key)),
        };
        let info = self.access(&account).await?;
        let mut answer = Verification {
            code: VerifyCode::Valid,
            account: Some(account.clone()),
            plan: Some(info.plan.id.clone()),
            meter: meter.key.clone(),
            charge: None,
            rate: RateDecision::unlimited(),
            entitlement: None,
        };
        if let Err(inactive) = info.usable(now) {
            answer.code = match inactive {
                Inactive::Expired => VerifyCode::Expired,
                Inactive::NotActive(_) => VerifyCode::LicenseInactive,
            };
            return Ok(answer);
        }
        answer.rate = self.rate_check_account(&info);
        if !answer.rate.allowed {
            answer.code = VerifyCode::RateLimited;
            return Ok(answer);
        }
        if let Some(feature) = feature {
            let entitlement = self.entitlement(&info, feature)?;
            if !entitlement.allowed {
                answer.code = VerifyCode::UpgradeRequired;
                answer.entitlement = Some(entitlement);
                return Ok(answer);
            }
        }
        let outcome = self.charge(&info, meter, cost).await?;
        if !outcome.allowed {
            answer.code = VerifyCode::QuotaExceeded;
        }
        answer.charge = Some(outcome);
        Ok(answer)
    }

    async fn charge(&self, info: &AccountInfo, meter: MeterRef, quantity: f64) -> Result<ChargeOutcome, EngineError> {
        let now = self.now();
        let limit = if info.bypass(now) { None } else { info.limit(&meter.key, now) };
        let outcome = self.ledger().charge(Charge { account: info.account.clone(), meter, quantity, limit }).await?;
        Ok(outcome)
    }

    /// Checks a quota and consumes from it atomically. A hard limit that would be passed
    /// consumes nothing.
    pub async fn consume(&self, info: &AccountInfo, meter_key: &str, quantity: f64) -> Result<Consumption, EngineError> {
        let meter = self.meter_ref(meter_key)?;
        let quantity = check_quantity(quantity, meter.aggregation, "quantity").map_err(|m| EngineError::invalid("quantity", m))?;
        if let Err(inactive) = info.usable(self.now()) {
            return Err(EngineError::LicenseInactive(match inactive {
                Inactive::Expired => "the license has expired; renew it to continue".to_owned(),
                Inactive::NotActive(status) => format!("the license is {}; renew it to continue", status.label().to_lowercase()),
            }));
        }
        let key = meter.key.clone();
        let outcome = self.charge(info, meter, quantity).await?;
        Ok(Consumption { meter: key, outcome })
    }

    /// Checks one event. `window` is the time the event must fall near, when checked
    /// (internal recording of history skips it).
    pub(crate) fn validate_event(&self, scope: &Scope, raw: RawEvent, window: Option<(DateTime<Utc>, IngestWindow)>) -> Result<EventIn, String> {
        let idempotency_key = match raw.idempotency_key {
            Some(Value::String(key)) => key,
            Some(_) => return Err("idempotency_key must be a string".into()),
            None => return Err("idempotency_key is required: a unique id per event, so a retry counts once".into()),
        };
        if idempotency_key.is_empty() || idempotency_key.len() > MAX_KEY_LEN || idempotency_key.chars().any(char::is_control) {
            return Err(format!("idempotency_key must be 1 to {MAX_KEY_LEN} bytes with no control characters"));
        }
        let account = match (scope, raw.account_id) {
            (Scope::Service, Some(Value::String(id))) => AccountId::parse(&id).map_err(|e| e.to_string())?,
            (Scope::Service, Some(_)) => return Err("account_id must be a string".into()),
            (Scope::Service, None) => return Err("account_id is required with a service key".into()),
            (Scope::Account(own), None) => own.clone(),
            (Scope::Account(own), Some(Value::String(id))) if id == own.as_str() => own.clone(),
            (Scope::Account(_), Some(_)) => return Err("a customer key writes only to its own account; leave account_id out".into()),
        };
        let meter = match raw.meter {
            Some(Value::String(m)) => self.meter_ref(&m).map_err(|e| e.to_string())?,
            Some(_) => return Err("meter must be a string".into()),
            None => return Err("meter is required".into()),
        };
        let quantity = match raw.quantity {
            Some(Value::Number(n)) => n.as_f64().ok_or("quantity is out of range")?,
            Some(_) => return Err("quantity must be a number".into()),
            None => return Err("quantity is required".into()),
        };
        let quantity = check_quantity(quantity, meter.aggregation, "quantity")?;
        let sent_at = match raw.timestamp {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(
                DateTime::parse_from_rfc3339(&text)
                    .map_err(|_| format!("timestamp `{}` is not RFC 3339, e.g. 2026-11-22T10:00:00Z", text.chars().take(40).collect::<String>()))?
                    .with_timezone(&Utc),
            ),
            Some(_) => return Err("timestamp must be an RFC 3339 string".into()),
        };
        let properties = match raw.properties {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(Value::Object(map)),
            Some(_) => return Err("properties must be an object".into()),
        };
        let properties_text = properties.as_ref().map(Value::to_string);
        if properties_text.as_ref().is_some_and(|t| t.len() > MAX_PROPERTIES_BYTES) {
            return Err(format!("properties must be at most {MAX_PROPERTIES_BYTES} bytes"));
        }
        let now = window.map_or_else(|| self.now(), |(now, _)| now);
        let at = sent_at.unwrap_or(now);
        if let Some((now, window)) = window {
            if at > now + window.max_future {
                return Err(format!("timestamp is more than {} seconds in the future", window.max_future.num_seconds()));
            }
            if at < now - window.max_age {
                return Err(format!("timestamp is more than {} days in the past", window.max_age.num_days()));
            }
        }
        let fingerprint = fingerprint(&meter.key, quantity, sent_at, properties.as_ref());
        Ok(EventIn { account, meter, quantity, at, idempotency_key, properties: properties_text, fingerprint })
    }

    /// Records a batch of events: each is accepted, a duplicate, a conflict, or rejected
    /// with a reason. Accepted events are committed before this returns.
    pub async fn ingest(&self, scope: &Scope, events: Vec<RawEvent>) -> Result<Vec<EventResult>, EngineError> {
        if events.len() > MAX_BATCH {
            return Err(EngineError::invalid("events", format!("a batch holds at most {MAX_BATCH} events, got {}; split it", events.len())));
        }
        let now = self.now();
        let window = self.ingest_window();
        let mut results = Vec::with_capacity(events.len());
        let mut valid = Vec::with_capacity(events.len());
        let mut slots = Vec::with_capacity(events.len());
        let mut known: Vec<AccountId> = Vec::new();
        for raw in events {
            let key = match &raw.idempotency_key {
                Some(Value::String(k)) => Some(k.chars().take(MAX_KEY_LEN).collect()),
                _ => None,
            };
            let checked = match self.validate_event(scope, raw, Some((now, window))) {
                Ok(event) if *scope == Scope::Service && !known.contains(&event.account) => match self.access(&event.account).await {
                    Ok(_) => {
                        known.push(event.account.clone());
                        Ok(event)
                    }
                    Err(EngineError::NotFound(_)) => Err(format!("unknown account `{}`", event.account)),
                    Err(other) => return Err(other),
                },
                other => other,
            };
            match checked {
                Ok(event) => {
                    slots.push(results.len());
                    valid.push(event);
                    results.push(EventResult { idempotency_key: key, status: EventStatus::Accepted, reason: None });
                }
                Err(reason) => results.push(EventResult { idempotency_key: key, status: EventStatus::Rejected, reason: Some(reason) }),
            }
        }
        let outcomes = self.ledger().ingest(valid).await?;
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            let result = &mut results[slot];
            match outcome {
                EventOutcome::Accepted => {}
                EventOutcome::Duplicate => result.status = EventStatus::Duplicate,
                EventOutcome::Conflict => {
                    result.status = EventStatus::Conflict;
                    result.reason = Some("this idempotency key was already used for a different event".into());
                }
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_property_order_but_not_values() {
        let a: Value = serde_json::json!({"b": 1, "a": {"y": 2, "x": [1, 2]}});
        let b: Value = serde_json::from_str(r#"{"a": {"x": [1, 2], "y": 2}, "b": 1}"#).expect("json");
        assert_eq!(fingerprint("api_calls", 1.0, None, Some(&a)), fingerprint("api_calls", 1.0, None, Some(&b)));
        assert_ne!(fingerprint("api_calls", 1.0, None, Some(&a)), fingerprint("api_calls", 2.0, None, Some(&a)));
        assert_ne!(fingerprint("api_calls", 1.0, None, None), fingerprint("storage_mb", 1.0, None, None));
    }

    #[test]
    fn quantities_are_checked_by_aggregation() {
        use model::Aggregation::{Last, Sum};
        assert!(check_quantity(0.0, Sum, "q").is_err(), "a counted meter needs a positive quantity");
        assert!(check_quantity(-1.0, Last, "q").is_err());
        assert!(check_quantity(0.0, Last, "q").is_ok(), "a level may be zero");
        assert!(check_quantity(f64::NAN, Sum, "q").is_err());
        assert!(check_quantity(f64::INFINITY, Sum, "q").is_err());
        assert!(check_quantity(2e12, Sum, "q").is_err());
        assert_eq!(check_quantity(3.5, Sum, "q"), Ok(3.5));
    }
}
