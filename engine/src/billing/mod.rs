//! Billing providers (Whop, Stripe): their webhook events, mapped onto licenses.
//!
//! An event is applied exactly once and in order:
//! - the provider's event id is the primary key of `provider_events`, inserted in the same
//!   transaction as the change, so a retry, a replay or 20 concurrent copies apply once;
//! - each membership or subscription remembers the time of the newest event applied, and an
//!   older event is recorded as `stale` without touching the license.

pub mod lifecycle;
pub mod signature;

use crate::accounts::license::{self, Terms};
use crate::accounts::{insert_account, NewAccount, Source};
use crate::audit::{self, Entry};
use crate::auth::credentials::hash_password;
use crate::auth::users::{insert_user, NewUser};
use crate::auth::{generate_password, Email, Password};
use crate::{AccountId, Engine, EngineError};
use chrono::{DateTime, Duration, TimeZone, Utc};
use model::{LicenseStatus, Role};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Whop,
    Stripe,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Whop => "whop",
            Provider::Stripe => "stripe",
        }
    }
}

/// The metadata key a checkout link carries Tollgate's account reference in.
pub const REFERENCE_KEY: &str = "tollgate_ref";

/// A checkout URL with the account's reference added: `client_reference_id` for a Stripe
/// link (Stripe copies it into the Checkout Session and signs it), and
/// `metadata[tollgate_ref]` otherwise (Whop copies checkout metadata onto the membership).
pub fn checkout_link(url: &str, reference: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    let stripe = url.contains("stripe.com");
    if stripe {
        format!("{url}{separator}client_reference_id={reference}")
    } else {
        format!("{url}{separator}metadata%5B{REFERENCE_KEY}%5D={reference}")
    }
}

/// A provider event, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingEvent {
    pub provider: Provider,
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    /// The membership (`mem_…`) or subscription (`sub_…`).
    pub subject: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Provider plan, price or product ids, most specific first.
    pub products: Vec<String>,
    pub status: Option<String>,
    pub cancel_at_period_end: Option<bool>,
    pub period_end: Option<DateTime<Utc>>,
    pub manage_url: Option<String>,
    /// The reference Tollgate put into the checkout link (Stripe `client_reference_id` or
    /// `metadata.tollgate_ref`, Whop `metadata.tollgate_ref`), covered by the signature.
    pub reference: Option<String>,
    /// Stripe's `livemode`: whether the event is from live mode or test mode.
    pub livemode: Option<bool>,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The license changed (or was confirmed) as the event says.
    Applied,
    /// A new customer: an account and its owner were created.
    Provisioned,
    /// Seen before: no effect.
    Duplicate,
    /// An event type Tollgate does not act on; recorded.
    Ignored,
    /// Older than the newest event applied to the same membership: recorded, no effect.
    Stale,
    /// No account could be found or created for it (e.g. no email); recorded.
    Unmatched,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Provisioned => "provisioned",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Stale => "stale",
            Outcome::Unmatched => "unmatched",
        }
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A time given as Unix seconds or RFC 3339.
fn time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => n.as_i64().and_then(|s| Utc.timestamp_opt(s, 0).single()),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| s.parse::<i64>().ok().and_then(|secs| Utc.timestamp_opt(secs, 0).single())),
        _ => None,
    }
}

fn parse_json(body: &[u8]) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON ({e})"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err("the body is not a JSON object".into())
    }
}

/// A Whop event (Standard Webhooks or legacy). `fallback_id` (the `webhook-id` header, or a
/// digest of the body for legacy events) stands in when the body has no id.
pub fn parse_whop(body: &[u8], fallback_id: &str, received_at: DateTime<Utc>) -> Result<BillingEvent, String> {
    let v = parse_json(body)?;
    let event_type = text(&v["type"]).or_else(|| text(&v["action"])).ok_or("the event has no `type`")?;
    let data = &v["data"];
    // Membership events carry the membership; payment events point at it.
    let membership = if data["membership"].is_object() { &data["membership"] } else { data };
    let subject = if event_type.starts_with("membership.") {
        text(&data["id"])
    } else {
        text(&data["membership"]["id"]).or_else(|| text(&data["membership_id"])).or_else(|| text(&data["membership"]))
    };
    let user = if membership["user"].is_object() { &membership["user"] } else { &data["user"] };
    let products = [&membership["plan"]["id"], &membership["plan_id"], &membership["plan"], &membership["product"]["id"], &membership["product_id"]]
        .into_iter()
        .filter_map(text)
        .collect();
    Ok(BillingEvent {
        provider: Provider::Whop,
        event_id: text(&v["id"]).unwrap_or_else(|| fallback_id.to_owned()),
        occurred_at: time(&v["timestamp"]).or_else(|| time(&data["created_at"])).unwrap_or(received_at),
        subject,
        email: text(&user["email"]).or_else(|| text(&data["email"])),
        name: text(&user["name"]).or_else(|| text(&user["username"])),
        products,
        status: text(&membership["status"]),
        cancel_at_period_end: membership["cancel_at_period_end"].as_bool(),
        period_end: time(&membership["renewal_period_end"]),
        manage_url: text(&membership["manage_url"]),
        reference: text(&membership["metadata"][REFERENCE_KEY]).or_else(|| text(&data["metadata"][REFERENCE_KEY])),
        livemode: None,
        event_type,
    })
}

/// A Stripe event.
pub fn parse_stripe(body: &[u8]) -> Result<BillingEvent, String> {
    let v = parse_json(body)?;
    let event_type = text(&v["type"]).ok_or("the event has no `type`")?;
    let event_id = text(&v["id"]).ok_or("the event has no `id`")?;
    let object = &v["data"]["object"];
    let is_subscription = event_type.starts_with("customer.subscription.");
    let subject = if is_subscription {
        text(&object["id"])
    } else {
        text(&object["subscription"]).or_else(|| text(&object["parent"]["subscription_details"]["subscription"]))
    };
    let item = &object["items"]["data"][0];
    let mut products: Vec<String> = [&item["price"]["id"], &item["plan"]["id"], &item["price"]["product"]].into_iter().filter_map(text).collect();
    if products.is_empty() {
        let line = &object["lines"]["data"][0];
        products = [&line["price"]["id"], &line["pricing"]["price_details"]["price"]].into_iter().filter_map(text).collect();
    }
    Ok(BillingEvent {
        provider: Provider::Stripe,
        occurred_at: time(&v["created"]).ok_or("the event has no `created` time")?,
        subject,
        email: text(&object["customer_email"]).or_else(|| text(&object["metadata"]["email"])),
        name: text(&object["customer_name"]).or_else(|| text(&object["metadata"]["name"])),
        products,
        status: if is_subscription { text(&object["status"]) } else { None },
        cancel_at_period_end: object["cancel_at_period_end"].as_bool(),
        period_end: time(&object["current_period_end"]).or_else(|| time(&item["current_period_end"])),
        manage_url: None,
        reference: text(&object["client_reference_id"]).or_else(|| text(&object["metadata"][REFERENCE_KEY])),
        livemode: v["livemode"].as_bool(),
        event_id,
        event_type,
    })
}

/// What an event asks of the license.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    /// This status, and this plan when the event names a mapped product.
    Set { plan: Option<String>, status: LicenseStatus },
    /// Back to the entry plan (the paid plan ended).
    ToEntryPlan,
    /// Keep the plan until the period ends, then the entry plan (or no longer).
    CancelAtPeriodEnd(bool),
    /// Recorded, nothing to change (e.g. a trial ending soon).
    Nothing,
    /// A type Tollgate does not act on.
    Ignore,
}

/// A provider's status in Tollgate's terms; `None` for statuses that change nothing.
fn status_of(provider_status: &str) -> Option<LicenseStatus> {
    match provider_status {
        "active" => Some(LicenseStatus::Active),
        "trialing" => Some(LicenseStatus::Trialing),
        "past_due" | "unresolved" => Some(LicenseStatus::PastDue),
        "unpaid" => Some(LicenseStatus::Suspended),
        "canceled" | "cancelled" => Some(LicenseStatus::Cancelled),
        "completed" | "expired" | "incomplete_expired" => Some(LicenseStatus::Expired),
        _ => None,
    }
}

impl Engine {
    /// The account's checkout reference, made on first use: random, so it cannot be
    /// guessed from the account id, and unique.
    pub async fn checkout_ref(&self, account: &AccountId) -> Result<String, EngineError> {
        let existing: Option<Option<String>> = sqlx::query_scalar("SELECT checkout_ref FROM accounts WHERE id = $1")
            .bind(account.as_str())
            .fetch_optional(self.db().pool())
            .await?;
        if let Some(reference) = existing.ok_or(EngineError::NotFound("account"))? {
            return Ok(reference);
        }
        let fresh = format!("ref_{}", crate::auth::random_base62(24));
        sqlx::query("UPDATE accounts SET checkout_ref = COALESCE(checkout_ref, $1) WHERE id = $2")
            .bind(&fresh)
            .bind(account.as_str())
            .execute(self.db().pool())
            .await?;
        let stored: String = sqlx::query_scalar("SELECT checkout_ref FROM accounts WHERE id = $1").bind(account.as_str()).fetch_one(self.db().pool()).await?;
        Ok(stored)
    }

    fn mapped_plan(&self, event: &BillingEvent) -> Option<String> {
        let map = match event.provider {
            Provider::Whop => &self.catalog().billing.whop_plans,
            Provider::Stripe => &self.catalog().billing.stripe_prices,
        };
        event.products.iter().find_map(|p| map.get(p).cloned())
    }

    fn change_for(&self, event: &BillingEvent) -> Change {
        let status = event.status.as_deref().and_then(status_of);
        match event.event_type.as_str() {
            "membership.activated" | "membership.went_valid" | "customer.subscription.created" | "customer.subscription.updated" => {
                match status {
                    // Ended: the license says so (cancelled or expired) and keeps its plan on
                    // record; the membership's deactivation or deletion moves it to the
                    // entry plan.
                    Some(status @ (LicenseStatus::Cancelled | LicenseStatus::Expired)) => Change::Set { plan: None, status },
                    Some(status) => Change::Set { plan: self.mapped_plan(event), status },
                    None if event.provider == Provider::Whop => Change::Set { plan: self.mapped_plan(event), status: LicenseStatus::Active },
                    None => Change::Nothing,
                }
            }
            "membership.deactivated" | "membership.went_invalid" | "customer.subscription.deleted" => Change::ToEntryPlan,
            "membership.cancel_at_period_end_changed" => Change::CancelAtPeriodEnd(event.cancel_at_period_end.unwrap_or(false)),
            "membership.trial_ending_soon" => Change::Nothing,
            "payment.succeeded" | "invoice.paid" => Change::Set { plan: None, status: LicenseStatus::Active },
            "payment.failed" | "invoice.payment_failed" => Change::Set { plan: None, status: LicenseStatus::PastDue },
            _ => Change::Ignore,
        }
    }

    /// Applies a verified provider event, exactly once, in one transaction: the
    /// deduplication record, the license change, its plan history and audit entry, and the
    /// membership's newest-event time.
    pub async fn apply_billing_event(&self, event: &BillingEvent, body: &str) -> Result<Outcome, EngineError> {
        let _one_at_a_time = self.billing_lock().lock().await;
        let now = self.now();
        let provider = event.provider.as_str();
        let mut tx = self.db().pool().begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO provider_events (provider, event_id, event_type, received_at, occurred_at, subject, outcome, body)
             VALUES ($1, $2, $3, $4, $5, $6, 'received', $7) ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(provider)
        .bind(&event.event_id)
        .bind(&event.event_type)
        .bind(now)
        .bind(event.occurred_at)
        .bind(&event.subject)
        .bind(body)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            sqlx::query("UPDATE provider_events SET deliveries = deliveries + 1 WHERE provider = $1 AND event_id = $2")
                .bind(provider)
                .bind(&event.event_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Outcome::Duplicate);
        }
        let (outcome, account, detail) = self.decide_and_apply(&mut tx, event, now).await?;
        sqlx::query("UPDATE provider_events SET outcome = $1, account_id = $2, detail = $3 WHERE provider = $4 AND event_id = $5")
            .bind(outcome.as_str())
            .bind(account.as_ref().map(AccountId::as_str))
            .bind(&detail)
            .bind(provider)
            .bind(&event.event_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        crash_after_commit_if_asked();
        if let Some(account) = &account {
            self.license_changed(account);
        }
        tracing::info!(provider, event_id = %event.event_id, event_type = %event.event_type, outcome = outcome.as_str(), %detail, "billing event");
        Ok(outcome)
    }

    async fn decide_and_apply(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        event: &BillingEvent,
        now: DateTime<Utc>,
    ) -> Result<(Outcome, Option<AccountId>, String), EngineError> {
        let provider = event.provider.as_str();
        let change = self.change_for(event);
        if change == Change::Ignore {
            return Ok((Outcome::Ignored, None, format!("`{}` is not acted on", event.event_type)));
        }
        // A test-mode purchase must never change a live customer's license (and a staging
        // deployment takes test events only).
        let live = self.stripe_live();
        if event.livemode.is_some_and(|mode| mode != live) {
            let (mode, deployment) = if live { ("test-mode", "live") } else { ("live", "test-mode") };
            return Ok((Outcome::Ignored, None, format!("a {mode} event; this deployment acts on {deployment} events (TOLLGATE_STRIPE_MODE)")));
        }
        let Some(subject) = &event.subject else {
            return Ok((Outcome::Unmatched, None, "the event names no membership or subscription".into()));
        };
        let link: Option<(String, DateTime<Utc>)> =
            sqlx::query_as("SELECT account_id, last_event_at FROM billing_links WHERE provider = $1 AND subject = $2")
                .bind(provider)
                .bind(subject)
                .fetch_optional(&mut **tx)
                .await?;
        let mut outcome = Outcome::Applied;
        let account = match link {
            Some((_, last)) if event.occurred_at < last => {
                return Ok((Outcome::Stale, None, format!("older than the last event applied ({})", last.to_rfc3339())));
            }
            Some((account, _)) => AccountId::parse(&account)?,
            None => {
                // A subscription Tollgate has not seen is linked only through proof: the
                // reference Tollgate put into the account's checkout link, or an email its
                // owner proved. An email anyone could have signed up with is not enough.
                if let Some(reference) = &event.reference {
                    let by_reference: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE checkout_ref = $1")
                        .bind(reference)
                        .fetch_optional(&mut **tx)
                        .await?;
                    match by_reference {
                        Some(account) => AccountId::parse(&account)?,
                        None => return Ok((Outcome::Unmatched, None, "the checkout reference matches no account".into())),
                    }
                } else {
                let by_email: Option<(Option<String>, Option<DateTime<Utc>>)> = match event.email.as_deref().map(Email::parse) {
                    Some(Ok(email)) => sqlx::query_as("SELECT account_id, email_verified_at FROM users WHERE email = $1")
                        .bind(email.as_str())
                        .fetch_optional(&mut **tx)
                        .await?,
                    _ => None,
                };
                let by_email = match by_email {
                    Some((Some(account), Some(_verified))) => Some(account),
                    Some((_, None)) => {
                        return Ok((
                            Outcome::Unmatched,
                            None,
                            "the email belongs to a user who has not proved it owns it; an admin can attach the event to an account".into(),
                        ));
                    }
                    Some((None, Some(_))) => return Ok((Outcome::Unmatched, None, "the email belongs to operator staff, not a customer".into())),
                    None => None,
                };
                match (by_email, &change) {
                    (Some(account), _) => AccountId::parse(&account)?,
                    (None, Change::Set { plan: Some(plan), status }) => match self.provision(tx, event, plan, *status, now).await? {
                        Some(account) => {
                            outcome = Outcome::Provisioned;
                            account
                        }
                        None => return Ok((Outcome::Unmatched, None, "no usable email to create the account for".into())),
                    },
                    (None, _) => return Ok((Outcome::Unmatched, None, "no account has this membership or email".into())),
                }
                }
            }
        };

        let current = Terms::read(tx, &account).await?;
        let entry = self.catalog().lowest_plan().id.clone();
        let mut to = match &change {
            Change::Set { plan: Some(p), status } => Terms::new(p.clone(), *status),
            Change::Set { plan: None, status } => Terms::new(current.plan.clone(), *status),
            Change::ToEntryPlan => Terms::new(entry, LicenseStatus::Active),
            Change::CancelAtPeriodEnd(_) | Change::Nothing | Change::Ignore => current.clone(),
        };
        // This subscription's own plan and status, kept on its link.
        let (own_plan, own_status) = match &change {
            Change::Set { plan, status } => (plan.clone(), Some(*status)),
            Change::ToEntryPlan => (None, Some(LicenseStatus::Cancelled)),
            Change::CancelAtPeriodEnd(_) | Change::Nothing | Change::Ignore => (None, None),
        };
        // Ending or failing one subscription must not take away what another, still
        // active, pays for: the license keeps the best plan an active one pays for.
        let rank = |plan: &str| self.catalog().plan(plan).map_or(0, |p| p.rank);
        let mut paid_by = None;
        if !to.status.is_usable() || rank(&to.plan) < rank(&current.plan) {
            let others: Vec<(String, String)> = sqlx::query_as(
                "SELECT subject, plan FROM billing_links WHERE account_id = $1 AND NOT (provider = $2 AND subject = $3)
                 AND status IN ('active', 'trialing') AND plan IS NOT NULL",
            )
            .bind(account.as_str())
            .bind(provider)
            .bind(subject)
            .fetch_all(&mut **tx)
            .await?;
            if let Some((other, plan)) = others.into_iter().max_by_key(|(_, plan)| rank(plan)) {
                if !to.status.is_usable() || rank(&plan) > rank(&to.plan) {
                    to = Terms::new(plan.clone(), LicenseStatus::Active);
                    paid_by = Some(format!("; subscription {other} still pays for {plan}"));
                }
            }
        }
        let new_plan = to.plan.clone();
        let grace_ends_at = (to.status == LicenseStatus::PastDue)
            .then(|| event.occurred_at + Duration::days(i64::from(self.catalog().billing.past_due_grace_days)));
        let detail = if to != current {
            let detail = format!("{current} -> {to}{}", paid_by.as_deref().unwrap_or_default());
            license::write(tx, &license::Change {
                account: &account,
                from: current,
                to,
                grace_ends_at,
                source: provider,
                license_source: Some(provider),
                external_id: Some(subject),
                actor: provider,
                target: subject,
                reason: format!("{} {}", provider, event.event_type),
                at: now,
            })
            .await?;
            detail
        } else {
            format!("unchanged: {current}{}", paid_by.as_deref().unwrap_or_default())
        };

        let cancel = match change {
            Change::CancelAtPeriodEnd(flag) => Some(flag),
            _ => event.cancel_at_period_end,
        };
        sqlx::query(
            "INSERT INTO billing_links (provider, subject, account_id, last_event_at, manage_url, cancel_at_period_end, period_end, plan, status)
             VALUES ($1, $2, $3, $4, $5, COALESCE($6, FALSE), $7, $8, $9)
             ON CONFLICT (provider, subject) DO UPDATE SET
               last_event_at = excluded.last_event_at,
               manage_url = COALESCE(excluded.manage_url, billing_links.manage_url),
               cancel_at_period_end = COALESCE($6, billing_links.cancel_at_period_end),
               period_end = COALESCE(excluded.period_end, billing_links.period_end),
               plan = COALESCE(excluded.plan, billing_links.plan),
               status = COALESCE(excluded.status, billing_links.status)",
        )
        .bind(provider)
        .bind(subject)
        .bind(account.as_str())
        .bind(event.occurred_at)
        .bind(&event.manage_url)
        .bind(cancel)
        .bind(event.period_end)
        .bind(own_plan.or_else(|| (outcome == Outcome::Provisioned).then_some(new_plan)))
        .bind(own_status.map(LicenseStatus::as_str))
        .execute(&mut **tx)
        .await?;
        Ok((outcome, Some(account), detail))
    }

    /// A first activation for an unknown customer: the account, its license, and an owner
    /// user (by email) who will set a password through a sign-in link.
    async fn provision(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        event: &BillingEvent,
        plan: &str,
        status: LicenseStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountId>, EngineError> {
        let Some(Ok(email)) = event.email.as_deref().map(Email::parse) else { return Ok(None) };
        let account = crate::ids::new_account_id();
        // A name from a webhook is text from outside: control characters (terminal escape
        // sequences, newlines) are dropped before it is stored.
        let name: String = event.name.clone().unwrap_or_else(|| email.as_str().to_owned()).chars().filter(|c| !c.is_control()).collect();
        let name = if name.trim().is_empty() { email.as_str().to_owned() } else { name.trim().to_owned() };
        let new = NewAccount {
            id: account.clone(),
            name: name.chars().take(120).collect(),
            plan_id: self.catalog().lowest_plan().id.clone(),
            status: LicenseStatus::Active,
            seats: 1,
            starts_at: now,
            expires_at: None,
        };
        let source = Source { name: event.provider.as_str(), external_id: event.subject.as_deref() };
        insert_account(tx, &new, source).await?;
        // Nobody knows this password: the owner sets one through the sign-in link.
        let password_hash = hash_password(&Password::parse(&generate_password())?).await?;
        let owner = NewUser { account: Some(&account), email: &email, password_hash, role: Role::Owner, awaiting_first_signin: true, email_verified: true, at: now };
        insert_user(tx, &owner).await?;
        let after = Terms::new(plan, status).to_string();
        let entry = Entry::new(event.provider.as_str(), Some(&account), "account.provisioned", now).target(email.as_str()).change(None, Some(&after));
        audit::record(tx, entry).await?;
        Ok(Some(account))
    }
}

impl Engine {
    /// Attaches an `unmatched` event to an account, as an admin decided with a reason: the
    /// event's membership or subscription is linked to the account and the event applied,
    /// in one transaction with an audit entry. Later events for it follow the link.
    pub async fn attach_billing_event(
        &self,
        admin: &str,
        provider: Provider,
        event_id: &str,
        account: &AccountId,
        reason: &str,
    ) -> Result<Outcome, EngineError> {
        let reason = reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > 500 {
            return Err(EngineError::invalid("reason", "say why, in 3 to 500 characters; it goes into the audit log"));
        }
        let _one_at_a_time = self.billing_lock().lock().await;
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let row: Option<(String, Option<String>)> = sqlx::query_as("SELECT outcome, body FROM provider_events WHERE provider = $1 AND event_id = $2")
            .bind(provider.as_str())
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?;
        let (outcome, body) = row.ok_or(EngineError::NotFound("event"))?;
        if outcome != Outcome::Unmatched.as_str() {
            return Err(EngineError::Conflict { field: "event", message: format!("only an unmatched event can be attached; this one was {outcome}") });
        }
        let body = body.ok_or(EngineError::Conflict { field: "event", message: "the event's body is no longer kept; ask the provider to resend it".into() })?;
        let event = match provider {
            Provider::Whop => parse_whop(body.as_bytes(), event_id, now),
            Provider::Stripe => parse_stripe(body.as_bytes()),
        }
        .map_err(|message| EngineError::Internal(format!("a stored event no longer parses: {message}")))?;
        let subject = event.subject.clone().ok_or(EngineError::invalid("event", "the event names no membership or subscription to attach"))?;
        Terms::read(&mut tx, account).await?;
        sqlx::query(
            "INSERT INTO billing_links (provider, subject, account_id, last_event_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, subject) DO NOTHING",
        )
        .bind(provider.as_str())
        .bind(&subject)
        .bind(account.as_str())
        .bind(event.occurred_at)
        .execute(&mut *tx)
        .await?;
        let linked: String = sqlx::query_scalar("SELECT account_id FROM billing_links WHERE provider = $1 AND subject = $2")
            .bind(provider.as_str())
            .bind(&subject)
            .fetch_one(&mut *tx)
            .await?;
        if linked != account.as_str() {
            return Err(EngineError::Conflict { field: "account", message: format!("{subject} is already linked to another account") });
        }
        let (outcome, _, detail) = self.decide_and_apply(&mut tx, &event, now).await?;
        let detail = format!("attached by {admin} ({reason}): {detail}");
        sqlx::query("UPDATE provider_events SET outcome = $1, account_id = $2, detail = $3 WHERE provider = $4 AND event_id = $5")
            .bind(outcome.as_str())
            .bind(account.as_str())
            .bind(&detail)
            .bind(provider.as_str())
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        let entry = Entry::new(admin, Some(account), "billing_event.attached", now).target(event_id).change(None, Some(reason));
        audit::record(&mut tx, entry).await?;
        tx.commit().await?;
        self.license_changed(account);
        tracing::info!(provider = provider.as_str(), event_id, %account, admin, "billing event attached");
        Ok(outcome)
    }
}

/// Fault injection for the crash test: with `TOLLGATE_FAULT_ABORT_AFTER_WEBHOOK_COMMIT=1`
/// the process dies right after a webhook's transaction commits and before it answers,
/// exactly as a `kill -9` at that moment would leave it. Never set it in production.
fn crash_after_commit_if_asked() {
    static ASKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ASKED.get_or_init(|| std::env::var_os("TOLLGATE_FAULT_ABORT_AFTER_WEBHOOK_COMMIT").is_some_and(|v| v == "1")) {
        tracing::error!("fault injection: aborting after the webhook commit");
        std::process::abort();
    }
}

impl Engine {
    /// Provider events received, newest first, optionally of one provider or outcome.
    pub async fn webhook_events(&self, provider: Option<&str>, outcome: Option<&str>) -> Result<Vec<model::WebhookEventView>, EngineError> {
        type Row = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, String, String, Option<String>, i64, bool);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT provider, event_id, event_type, received_at, occurred_at, outcome, detail, account_id, deliveries, body IS NOT NULL
             FROM provider_events WHERE ($1 IS NULL OR provider = $1) AND ($2 IS NULL OR outcome = $2)
             ORDER BY received_at DESC, event_id LIMIT 200",
        )
        .bind(provider)
        .bind(outcome)
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(provider, event_id, event_type, received_at, occurred_at, outcome, detail, account_id, deliveries, body_kept)| {
                model::WebhookEventView { provider, event_id, event_type, received_at, occurred_at, outcome, detail, account_id, deliveries, body_kept }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whop_membership_event_is_read_from_its_documented_fields() {
        let body = br#"{"id":"evt_9","api_version":"v5","timestamp":"2026-11-22T10:00:00Z","type":"membership.activated",
            "company_id":"biz_1","data":{"id":"mem_1","status":"active","user":{"id":"user_1","username":"ada","name":"Ada","email":"ada@example.com"},
            "plan":{"id":"plan_demo_pro"},"product":{"id":"prod_1","title":"Pro"},"renewal_period_start":1763800000,
            "renewal_period_end":1766400000,"cancel_at_period_end":false,"canceled_at":null,
            "manage_url":"https://whop.com/orders/mem_1/manage","license_key":"K-1","metadata":{}}}"#;
        let e = parse_whop(body, "hdr", Utc::now()).expect("parse");
        assert_eq!(e.event_id, "evt_9");
        assert_eq!(e.subject.as_deref(), Some("mem_1"));
        assert_eq!(e.email.as_deref(), Some("ada@example.com"));
        assert_eq!(e.products.first().map(String::as_str), Some("plan_demo_pro"));
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-11-22T10:00:00+00:00");
        assert_eq!(e.manage_url.as_deref(), Some("https://whop.com/orders/mem_1/manage"));
        assert_eq!(e.cancel_at_period_end, Some(false));
    }

    #[test]
    fn a_stripe_subscription_event_is_read_from_its_documented_fields() {
        let body = br#"{"id":"evt_1","type":"customer.subscription.updated","created":1763805600,
            "data":{"object":{"id":"sub_1","status":"past_due","customer":"cus_1","cancel_at_period_end":true,
            "items":{"data":[{"price":{"id":"price_demo_starter","product":"prod_s"},"current_period_end":1766400000}]},
            "metadata":{"email":"bob@example.com"}}}}"#;
        let e = parse_stripe(body).expect("parse");
        assert_eq!(e.subject.as_deref(), Some("sub_1"));
        assert_eq!(e.status.as_deref(), Some("past_due"));
        assert_eq!(e.products.first().map(String::as_str), Some("price_demo_starter"));
        assert_eq!(e.cancel_at_period_end, Some(true));
        assert_eq!(e.email.as_deref(), Some("bob@example.com"));
        assert!(parse_stripe(b"[1]").is_err());
        assert!(parse_stripe(br#"{"type":"x"}"#).is_err(), "an event without an id is refused");
    }

    #[test]
    fn provider_statuses_map_to_license_statuses() {
        assert_eq!(status_of("active"), Some(LicenseStatus::Active));
        assert_eq!(status_of("trialing"), Some(LicenseStatus::Trialing));
        assert_eq!(status_of("past_due"), Some(LicenseStatus::PastDue));
        assert_eq!(status_of("canceled"), Some(LicenseStatus::Cancelled));
        assert_eq!(status_of("completed"), Some(LicenseStatus::Expired));
        assert_eq!(status_of("expired"), Some(LicenseStatus::Expired));
        assert_eq!(status_of("drafted"), None);
    }
}
