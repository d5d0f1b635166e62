//! Outgoing webhooks: the endpoints an account registers, Standard Webhooks signatures,
//! and the guard that keeps deliveries off private networks.
//!
//! A destination must be public: an address that is loopback, private, link-local (cloud
//! metadata lives at 169.254.169.254), shared (CGNAT), multicast or unspecified is refused
//! at registration and again at every delivery, since DNS can change between the two,
//! unless it is inside `TOLLGATE_WEBHOOK_ALLOW_NETS`. `http://` is accepted only for such
//! allowed addresses; everything else is `https://`. Redirects are not followed.

use crate::audit::{self, Entry};
use crate::{AccountId, Engine, EngineError};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use model::{AlertKind, WebhookEndpoint, WebhookEndpointWithSecret};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The plan feature that lets an account register endpoints.
pub const WEBHOOKS_FEATURE: &str = "webhooks";
/// Endpoints one account may register.
pub const MAX_ENDPOINTS: i64 = 10;
/// The longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// How long the secret before a roll still signs, so receivers can switch over.
pub const ROLL_OVERLAP: Duration = Duration::hours(24);
/// One attempt's limit, connection included.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// The event type of the settings page's "send test event".
pub const TEST_EVENT: &str = "webhook.test";

/// Which destination addresses deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct NetPolicy {
    /// Networks allowed although not public (`TOLLGATE_WEBHOOK_ALLOW_NETS`).
    pub allow: Vec<IpNet>,
}

impl NetPolicy {
    /// Whether `ip` is explicitly allowed.
    pub fn allowed_explicitly(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Whether a delivery may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allowed_explicitly(ip) || is_public(canonical(ip))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Reachable on the public internet: none of the special-purpose ranges.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || a >= 240) // reserved
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 is a metadata address)
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0xdb8 // documentation
                || first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 can reach IPv4 private space
        }
    }
}

/// Resolves a delivery's host and keeps only the addresses it may reach, so a name that
/// points at a private address after registration reaches nothing.
struct GuardedResolver {
    policy: Arc<NetPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.iter().copied().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to addresses webhooks may not reach (private, loopback or link-local)").into();
                return Err(err);
            }
            Ok(Box::new(permitted.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client deliveries use: guarded DNS, no redirects, a 15-second limit.
pub(crate) fn http_client(policy: &NetPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { policy: Arc::new(policy.clone()) }))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("Tollgate-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Checks a destination before a delivery connects: an address in the URL itself never
/// goes through the resolver, so it is judged here.
pub(crate) fn literal_address_refused(url: &reqwest::Url, policy: &NetPolicy) -> Option<String> {
    let ip = match url.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    (!policy.permits(ip)).then(|| format!("{ip} is a private, loopback or link-local address; webhooks may not reach it"))
}

/// Validates a URL an account registers; the normalized URL, or what is wrong with it.
pub(crate) async fn check_destination(raw: &str, policy: &NetPolicy) -> Result<String, String> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("the URL is longer than {MAX_URL_CHARS} characters"));
    }
    let url = reqwest::Url::parse(raw).map_err(|e| format!("`{}` is not a URL ({e}); use https://…", truncate(raw, 80)))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("webhooks are sent over HTTPS; `{}:` URLs are not accepted", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in the receiver's checks, not in the URL: the signature authenticates Tollgate".into());
    }
    if url.fragment().is_some() {
        return Err("a URL with a #fragment is not sent to the server; remove it".into());
    }
    let host = url.host_str().ok_or("the URL names no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
        Some(url::Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
        _ => {
            let lookup = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((host.as_str(), port))).await;
            match lookup {
                Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                _ => return Err(format!("{host} does not resolve; check the host name")),
            }
        }
    };
    if addresses.is_empty() {
        return Err(format!("{host} does not resolve; check the host name"));
    }
    if let Some(ip) = addresses.iter().find(|ip| !policy.permits(**ip)) {
        let what = if host.trim_matches(['[', ']']) == ip.to_string() { ip.to_string() } else { format!("{host} resolves to {ip}, which") };
        return Err(format!("{what} is a private, loopback or link-local address; webhooks go to public HTTPS endpoints"));
    }
    if url.scheme() == "http" && !addresses.iter().all(|ip| policy.allowed_explicitly(*ip)) {
        return Err("webhooks are sent over HTTPS: use an https:// URL".into());
    }
    Ok(url.to_string())
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// A new signing secret: `whsec_` and 24 random bytes in base64.
fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The Standard Webhooks signature of one message with one secret: `v1,<base64>`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// Event types, as an account may subscribe to them.
pub fn event_types() -> Vec<&'static str> {
    AlertKind::ALL.iter().map(|k| k.as_str()).collect()
}

type EndpointRow = (String, String, String, bool, Option<String>, DateTime<Utc>);

fn endpoint((id, url, events, enabled, disabled_reason, created_at): EndpointRow) -> WebhookEndpoint {
    WebhookEndpoint { id, url, events: events.split_whitespace().map(str::to_owned).collect(), enabled, disabled_reason, created_at }
}

const ENDPOINT_COLUMNS: &str = "id, url, events, enabled, disabled_reason, created_at";

/// An endpoint, as a delivery needs it.
pub(crate) struct Destination {
    pub url: String,
    pub secrets: Vec<String>,
    pub enabled: bool,
}

impl Engine {
    /// The account's endpoints, oldest first; never their secrets.
    pub async fn webhook_endpoints(&self, account: &AccountId) -> Result<Vec<WebhookEndpoint>, EngineError> {
        let rows: Vec<EndpointRow> = sqlx::query_as(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE account_id = $1 ORDER BY created_at, id"))
            .bind(account.as_str())
            .fetch_all(self.db().pool())
            .await?;
        Ok(rows.into_iter().map(endpoint).collect())
    }

    /// Registers an endpoint for the account (its plan must have `webhooks`); the answer
    /// carries the secret, this once.
    pub async fn create_webhook_endpoint(
        &self,
        actor: &str,
        account: &AccountId,
        url: &str,
        events: &[String],
    ) -> Result<WebhookEndpointWithSecret, EngineError> {
        let now = self.now();
        let info = self.access(account).await?;
        if !info.has_feature(WEBHOOKS_FEATURE, now) {
            return Err(EngineError::UpgradeRequired(Box::new(self.entitlement(&info, WEBHOOKS_FEATURE)?)));
        }
        let known = event_types();
        if let Some(unknown) = events.iter().find(|e| !known.contains(&e.as_str())) {
            return Err(EngineError::invalid("events", format!("`{}` is not an event type; the types are {}", truncate(unknown, 60), known.join(", "))));
        }
        let url = check_destination(url, &self.config.delivery.net_policy).await.map_err(|m| EngineError::invalid("url", m))?;
        let mut events: Vec<&str> = known.into_iter().filter(|k| events.iter().any(|e| e == k)).collect();
        if events.len() == AlertKind::ALL.len() {
            events.clear();
        }
        let id = format!("we_{}", uuid::Uuid::new_v4().simple());
        let secret = new_secret();
        let mut tx = self.db().pool().begin().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = $1").bind(account.as_str()).fetch_one(&mut *tx).await?;
        if count >= MAX_ENDPOINTS {
            return Err(EngineError::LimitReached(format!("an account may register {MAX_ENDPOINTS} endpoints; delete one first")));
        }
        sqlx::query("INSERT INTO webhook_endpoints (id, account_id, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(account.as_str())
            .bind(&url)
            .bind(events.join(" "))
            .bind(&secret)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, Entry::new(actor, Some(account), "webhook_endpoint.created", now).target(&id).change(None, Some(&url))).await?;
        tx.commit().await?;
        let endpoint = WebhookEndpoint { id, url, events: events.into_iter().map(str::to_owned).collect(), enabled: true, disabled_reason: None, created_at: now };
        Ok(WebhookEndpointWithSecret { endpoint, secret })
    }

    /// Deletes one of the account's endpoints and what is queued for it.
    pub async fn delete_webhook_endpoint(&self, actor: &str, account: &AccountId, id: &str) -> Result<(), EngineError> {
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2").bind(account.as_str()).bind(id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(EngineError::NotFound("webhook endpoint"));
        }
        audit::record(&mut tx, Entry::new(actor, Some(account), "webhook_endpoint.deleted", now).target(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces an endpoint's secret. The old one keeps signing alongside for
    /// [`ROLL_OVERLAP`], so the receiver can switch without dropping a message.
    pub async fn roll_webhook_secret(&self, actor: &str, account: &AccountId, id: &str) -> Result<WebhookEndpointWithSecret, EngineError> {
        let now = self.now();
        let secret = new_secret();
        let mut tx = self.db().pool().begin().await?;
        let row: Option<EndpointRow> = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3, secret = $4
             WHERE account_id = $1 AND id = $2 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(account.as_str())
        .bind(id)
        .bind(now + ROLL_OVERLAP)
        .bind(&secret)
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or(EngineError::NotFound("webhook endpoint"))?;
        audit::record(&mut tx, Entry::new(actor, Some(account), "webhook_endpoint.secret_rolled", now).target(id)).await?;
        tx.commit().await?;
        Ok(WebhookEndpointWithSecret { endpoint: endpoint(row), secret })
    }

    /// Turns an endpoint on or off (on again after a `410` disabled it).
    pub async fn set_webhook_enabled(&self, actor: &str, account: &AccountId, id: &str, enabled: bool) -> Result<WebhookEndpoint, EngineError> {
        let now = self.now();
        let mut tx = self.db().pool().begin().await?;
        let row: Option<EndpointRow> = sqlx::query_as(&format!(
            "UPDATE webhook_endpoints SET enabled = $3, disabled_reason = CASE WHEN $3 THEN NULL ELSE 'disabled by the account' END
             WHERE account_id = $1 AND id = $2 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(account.as_str())
        .bind(id)
        .bind(enabled)
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or(EngineError::NotFound("webhook endpoint"))?;
        let action = if enabled { "webhook_endpoint.enabled" } else { "webhook_endpoint.disabled" };
        audit::record(&mut tx, Entry::new(actor, Some(account), action, now).target(id)).await?;
        tx.commit().await?;
        Ok(endpoint(row))
    }

    /// The endpoint a delivery goes to, with the secrets that sign it now.
    pub(crate) async fn destination(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Destination>, EngineError> {
        type Row = (String, String, Option<String>, Option<DateTime<Utc>>, bool);
        let row: Option<Row> =
            sqlx::query_as("SELECT url, secret, previous_secret, previous_until, enabled FROM webhook_endpoints WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db().pool())
                .await?;
        Ok(row.map(|(url, secret, previous, until, enabled)| {
            let mut secrets = vec![secret];
            if let (Some(previous), Some(until)) = (previous, until) {
                if until > now {
                    secrets.push(previous);
                }
            }
            Destination { url, secrets, enabled }
        }))
    }

    /// Disables an endpoint that answered `410 Gone`.
    pub(crate) async fn disable_gone_endpoint(&self, id: &str) -> Result<(), EngineError> {
        sqlx::query("UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = 'the endpoint answered 410 Gone' WHERE id = $1")
            .bind(id)
            .execute(self.db().pool())
            .await?;
        Ok(())
    }

    /// `public_url` + `path`: links in emails and events.
    pub(crate) fn dashboard_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the Standard Webhooks specification.
    #[test]
    fn signs_the_specifications_example() {
        let signature = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(signature.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255",
            "224.0.0.1", "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(!NetPolicy::default().permits(ip), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = ip.parse().expect("an address");
            assert!(NetPolicy::default().permits(ip), "{ip} is public");
        }
        let policy = NetPolicy { allow: vec!["127.0.0.1/32".parse().expect("a net")] };
        assert!(policy.permits("127.0.0.1".parse().expect("ip")));
        assert!(policy.permits("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(!policy.permits("127.0.0.2".parse().expect("ip")));
    }

    #[tokio::test]
    async fn destinations_are_checked_with_reasons() {
        let none = NetPolicy::default();
        let loopback = NetPolicy { allow: vec!["127.0.0.1/32".parse().expect("a net")] };
        for (url, policy, says) in [
            ("not a url", &none, "is not a URL"),
            ("ftp://example.com/hook", &none, "`ftp:` URLs are not accepted"),
            ("https://user:pw@93.184.216.34/hook", &none, "credentials"),
            ("https://127.0.0.1/hook", &none, "private, loopback or link-local"),
            ("https://169.254.169.254/latest/meta-data", &none, "private, loopback or link-local"),
            ("https://[::1]:8443/hook", &none, "private, loopback or link-local"),
            ("https://localhost/hook", &none, "private, loopback or link-local"),
            ("http://93.184.216.34/hook", &none, "use an https:// URL"),
            ("http://127.0.0.2:9/hook", &loopback, "private, loopback or link-local"),
        ] {
            let err = check_destination(url, policy).await.expect_err(url);
            assert!(err.contains(says), "{url}: {err}");
        }
        assert_eq!(check_destination("http://127.0.0.1:9/hook", &loopback).await.as_deref(), Ok("http://127.0.0.1:9/hook"));
        assert_eq!(check_destination("https://93.184.216.34/hook", &none).await.as_deref(), Ok("https://93.184.216.34/hook"));
    }
}
