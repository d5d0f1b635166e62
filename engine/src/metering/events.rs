//! Usage events as they arrive: parsed field by field and checked, before anything reaches
//! the ledger, so a rejected event never uses up its idempotency key.

use super::ledger::{EventIn, MeterRef};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use model::EventStatus;

/// The largest quantity one event or charge may carry.
pub const MAX_QUANTITY: f64 = 1e12;
/// The most events one ingest request may carry.
pub const MAX_BATCH: usize = 1000;
/// The longest idempotency key.
pub const MAX_KEY_LEN: usize = 255;
/// The largest `properties` object, serialised.
pub const MAX_PROPERTIES_BYTES: usize = 4096;

/// Who writes usage: an operator's service key (any account, named per event), a
/// customer (its own account only), or the operator's own code for one account (the CLI,
/// demo data: [`crate::Engine::record_usage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Service,
    Account(AccountId),
    Operator(AccountId),
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

pub(super) fn check_quantity(value: f64, aggregation: model::Aggregation, field: &'static str) -> Result<f64, String> {
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
    pub(super) fn meter_ref(&self, key: &str) -> Result<MeterRef, EngineError> {
        let meter = self.catalog().meter(key).ok_or_else(|| {
            let known: Vec<_> = self.catalog().meters().iter().map(|m| m.key.as_str()).collect();
            EngineError::invalid("meter", format!("unknown meter `{key}`; the catalog's meters are: {}", known.join(", ")))
        })?;
        Ok(MeterRef { key: meter.key.clone(), aggregation: meter.aggregation })
    }

    /// (internal recording of history skips it).
    pub(crate) fn validate_event(&self, scope: &Scope, raw: RawEvent, window: Option<(DateTime<Utc>, IngestWindow)>) -> Result<EventIn, String> {
        let idempotency_key = match raw.idempotency_key {
            Some(Value::String(key)) => key,
            Some(_) => return Err("idempotency_key must be a string".into()),
            None => return Err("idempotency_key is required: a unique id per event, so a retry counts once".into()),
        };
        if idempotency_key.is_empty() || idempotency_key.chars().count() > MAX_KEY_LEN || idempotency_key.chars().any(char::is_control) {
            return Err(format!("idempotency_key must be 1 to {MAX_KEY_LEN} characters with no control characters"));
        }
        let account = match (scope, raw.account_id) {
            (Scope::Service, Some(Value::String(id))) => AccountId::parse(&id).map_err(|e| e.to_string())?,
            (Scope::Service, Some(_)) => return Err("account_id must be a string".into()),
            (Scope::Service, None) => return Err("account_id is required with a service key".into()),
            (Scope::Account(own), None) => own.clone(),
            (Scope::Account(own), Some(Value::String(id))) if id == own.as_str() => own.clone(),
            (Scope::Account(_), Some(_)) => return Err("a customer key writes only to its own account; leave account_id out".into()),
            (Scope::Operator(own), _) => own.clone(),
        };
        let meter = match raw.meter {
            Some(Value::String(m)) => self.meter_ref(&m).map_err(|e| e.to_string())?,
            Some(_) => return Err("meter must be a string".into()),
            None => return Err("meter is required".into()),
        };
        // A level (storage, seats in use) is a fact about the operator's side: only the
        // operator's service key reports it, so a customer cannot lower its own level to
        // slip under a hard limit. Customers' keys still count usage on counted meters.
        if meter.aggregation == model::Aggregation::Last && matches!(scope, Scope::Account(_)) {
            return Err(format!(
                "`{}` is a level meter: the operator's service key reports levels; a customer key may not set one",
                meter.key
            ));
        }
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
        // A level dated ahead is applied as of its receipt: it never becomes the newest level
        // before its time comes, so a report that follows it is not discarded as older.
        let at = if meter.aggregation == model::Aggregation::Last { at.min(now) } else { at };
        let fingerprint = fingerprint(&meter.key, quantity, sent_at, properties.as_ref());
        Ok(EventIn { account, meter, quantity, at, idempotency_key, properties: properties_text, fingerprint })
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
