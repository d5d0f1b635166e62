//! The hot path: key verification, quota consumption, entitlements and usage ingest.
//!
//! Inputs are checked here, before anything reaches the ledger, so a refused request never
//! changes a stored count and a rejected event never uses up its idempotency key.

pub mod events;
pub mod ledger;
pub(crate) mod ratelimit;
pub mod rollups;

pub use events::{EventResult, IngestWindow, RawEvent, Scope, MAX_BATCH, MAX_KEY_LEN, MAX_PROPERTIES_BYTES, MAX_QUANTITY};
use events::check_quantity;
use crate::accounts::access::{AccountInfo, Inactive};
use crate::auth::KeyRejection;
use ledger::{Charge, ChargeOutcome, EventOutcome, MeterRef};
use ratelimit::RateDecision;
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Utc};
pub use model::{EventStatus, VerifyCode};
use model::{Entitlement, KeyKind, Refusal};
use serde_json::Value;

/// What happened to a recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Accepted,
    /// An event with this idempotency key was already counted.
    Duplicate,
}

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

#[derive(Debug, Clone)]
pub struct Consumption {
    pub meter: String,
    pub outcome: ChargeOutcome,
}


impl Engine {
    /// The meter `keys/verify` charges when the request names none.
    fn default_meter(&self) -> Option<&crate::catalog::Meter> {
        self.catalog().chart_meter()
    }


    /// Names the catalog's features when `feature` is not one of them.
    fn check_feature(&self, feature: &str) -> Result<(), String> {
        if self.catalog().knows_feature(feature) {
            Ok(())
        } else {
            Err(format!("unknown feature `{feature}`; the catalog's features are: {}", self.catalog().features().join(", ")))
        }
    }

    /// Whether the account may use a feature now; if not, what would unlock it. An
    /// `upgrade_required` answer is counted for the "repeated refusals" suggestion.
    pub fn entitlement(&self, info: &AccountInfo, feature: &str) -> Result<Entitlement, EngineError> {
        // The feature is the resource here: an unknown one is "not found".
        self.check_feature(feature).map_err(|message| EngineError::Unknown { field: "feature", message })?;
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
            self.check_feature(feature).map_err(|message| EngineError::invalid("feature", message))?;
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
        // Where the account is alerted, looked up before the meter moves into the charge.
        let points = limit.filter(|_| quantity > 0.0).map(|_| self.alert_points(info, &meter.key, now));
        // An open dashboard of this account follows the meter (the key copied only then).
        let live = points.is_some().then(|| self.live_key(&info.account, &meter.key)).flatten();
        let outcome = self.ledger().charge(Charge { account: info.account.clone(), meter, quantity, limit }).await?;
        if let (Some(points), Some(limit), true) = (points, outcome.limit, outcome.allowed) {
            self.notice_usage(info, points, outcome.used - quantity, outcome.used, limit.value);
            if let Some(key) = live {
                self.live_meter(&info.account, key, outcome.used, limit.value);
            }
        }
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
    /// Records a batch of events: each is accepted, a duplicate, a conflict, or rejected
    /// with a reason. Accepted events are committed before this returns.
    pub async fn ingest(&self, scope: &Scope, events: Vec<RawEvent>) -> Result<Vec<EventResult>, EngineError> {
        if events.len() > MAX_BATCH {
            return Err(EngineError::TooLarge(format!("a batch holds at most {MAX_BATCH} events, got {}; split it", events.len())));
        }
        let now = self.now();
        let window = self.ingest_window();
        let mut results = Vec::with_capacity(events.len());
        let mut valid = Vec::with_capacity(events.len());
        let mut slots = Vec::with_capacity(events.len());
        let mut known: Vec<AccountId> = Vec::new();
        // The accounts with a valid event: evaluated for alerts after the write.
        let mut accounts: Vec<AccountId> = Vec::new();
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
                    if !accounts.contains(&event.account) {
                        accounts.push(event.account.clone());
                    }
                    slots.push(results.len());
                    valid.push(event);
                    results.push(EventResult { idempotency_key: key, status: EventStatus::Accepted, reason: None });
                }
                Err(reason) => results.push(EventResult { idempotency_key: key, status: EventStatus::Rejected, reason: Some(reason) }),
            }
        }
        let outcomes = self.ledger().ingest(valid).await?;
        for account in &accounts {
            self.queue_alert_check(account, crate::alerts::INGEST_CHECK_DELAY);
        }
        self.live_recount(&accounts);
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

    /// Records one usage event durably, through the ledger: the event and its rollups
    /// commit together, and an idempotency key already used by this account is counted once.
    pub async fn record_usage(
        &self,
        account: &AccountId,
        meter_key: &str,
        quantity: f64,
        at: DateTime<Utc>,
        idempotency_key: &str,
    ) -> Result<Recorded, EngineError> {
        let event = RawEvent {
            idempotency_key: Some(idempotency_key.into()),
            meter: Some(meter_key.into()),
            quantity: Some(serde_json::json!(quantity)),
            timestamp: Some(at.to_rfc3339().into()),
            ..Default::default()
        };
        let validated = self
            .validate_event(&Scope::Operator(account.clone()), event, None)
            .map_err(|message| EngineError::Invalid { field: "event", message })?;
        match self.ledger().ingest(vec![validated]).await?.first() {
            Some(EventOutcome::Accepted) => Ok(Recorded::Accepted),
            Some(EventOutcome::Duplicate) => Ok(Recorded::Duplicate),
            Some(EventOutcome::Conflict) => Err(EngineError::Conflict {
                field: "idempotency_key",
                message: "this key was already used for a different event".into(),
            }),
            None => Err(EngineError::Internal("the ledger gave no answer".into())),
        }
    }
}
