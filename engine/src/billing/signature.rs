//! Webhook signatures, checked on the raw bytes in constant time.
//!
//! - **Standard Webhooks** (Whop): `webhook-id`, `webhook-timestamp` (Unix seconds) and
//!   `webhook-signature`, a space-separated list of `v1,<base64>`; HMAC-SHA256 over
//!   `{id}.{timestamp}.{body}`. The key is the secret's UTF-8 bytes, as Whop's SDK uses it;
//!   a `whsec_…` secret is base64 after its prefix, as the Standard Webhooks spec has it.
//! - **Whop legacy**: `x-whop-signature: t=<unix>,v1=<hex>`; HMAC-SHA256 over `{t}.{body}`.
//! - **Stripe**: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`; HMAC-SHA256 over
//!   `{t}.{body}` with the `whsec_…` secret used as it is. Other schemes are ignored.
//!
//! A request passes if any signature matches any configured secret (secret rotation on
//! either side), and its timestamp is within the tolerance, both ways.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a webhook's timestamp may be from now, either way.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook was refused. The message names the problem, never the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the `{0}` header is missing")]
    Missing(&'static str),
    #[error("the `{0}` header is malformed")]
    Malformed(&'static str),
    #[error("the timestamp is more than {TOLERANCE_SECS} seconds from now; replays are refused")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// The key bytes of a configured secret for Standard Webhooks.
fn standard_key(secret: &str) -> Vec<u8> {
    match secret.strip_prefix("whsec_") {
        Some(encoded) => base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_else(|_| secret.as_bytes().to_vec()),
        None => secret.as_bytes().to_vec(),
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_mac());
    for part in parts {
        mac.update(part);
    }
    mac
}

#[cold]
fn unreachable_mac() -> Hmac<Sha256> {
    // `new_from_slice` never fails for HMAC; an empty key stands in should it ever.
    <Hmac<Sha256> as Mac>::new_from_slice(&[]).unwrap_or_else(|_| std::process::abort())
}

fn timestamp(raw: &str, header: &'static str, now: i64) -> Result<(), SignatureError> {
    let at: i64 = raw.trim().parse().map_err(|_| SignatureError::Malformed(header))?;
    // `abs_diff`: a hostile timestamp near i64::MIN must not overflow.
    if now.abs_diff(at) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// Checks a Standard Webhooks request (Whop's current format).
pub fn verify_standard(
    secrets: &[String],
    id: Option<&str>,
    timestamp_header: Option<&str>,
    signatures: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let id = id.filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("webhook-id"))?;
    let ts = timestamp_header.ok_or(SignatureError::Missing("webhook-timestamp"))?;
    let signatures = signatures.filter(|v| !v.trim().is_empty()).ok_or(SignatureError::Missing("webhook-signature"))?;
    timestamp(ts, "webhook-timestamp", now)?;
    let candidates: Vec<Vec<u8>> = signatures
        .split_whitespace()
        .filter_map(|sig| sig.strip_prefix("v1,"))
        .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .filter(|bytes| bytes.len() == 32)
        .collect();
    if candidates.is_empty() {
        return Err(SignatureError::Malformed("webhook-signature"));
    }
    let matched = secrets.iter().any(|secret| {
        let key = standard_key(secret);
        candidates.iter().any(|sig| mac(&key, &[id.as_bytes(), b".", ts.trim().as_bytes(), b".", body]).verify_slice(sig).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Checks `t=<unix>,v1=<hex>[,v1=<hex>…]` over `{t}.{body}`: Stripe, and Whop's legacy
/// header. Schemes other than `v1` are ignored.
pub fn verify_timestamped_hex(secrets: &[String], header_name: &'static str, header: Option<&str>, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let header = header.filter(|v| !v.trim().is_empty()).ok_or(SignatureError::Missing(header_name))?;
    let mut ts = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed(header_name))?;
        match key {
            "t" => ts = Some(value),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    if bytes.len() == 32 {
                        candidates.push(bytes);
                    }
                }
            }
            _ => {}
        }
    }
    let ts = ts.ok_or(SignatureError::Malformed(header_name))?;
    timestamp(ts, header_name, now)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed(header_name));
    }
    let matched = secrets
        .iter()
        .any(|secret| candidates.iter().any(|sig| mac(secret.as_bytes(), &[ts.as_bytes(), b".", body]).verify_slice(sig).is_ok()));
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    //! Expected signatures here were computed outside this code: the Standard Webhooks
    //! spec's published example, and Python's `hmac` for the rest (the commands are given).
    use super::*;

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: &str = "1614265330";
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const SPEC_NOW: i64 = 1_614_265_330;

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_standard_webhooks_published_example_verifies() {
        let ok = verify_standard(&secrets(&[SPEC_SECRET]), Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW);
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn one_valid_signature_among_several_and_a_rotated_secret_pass() {
        let several = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,whatever {SPEC_SIG}");
        assert_eq!(verify_standard(&secrets(&[SPEC_SECRET]), Some(SPEC_ID), Some(SPEC_TS), Some(&several), SPEC_BODY, SPEC_NOW), Ok(()));
        let rotated = secrets(&["whsec_bmV3IHNlY3JldCBub3QgeWV0IGluIHVzZQ==", SPEC_SECRET]);
        assert_eq!(verify_standard(&rotated, Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW), Ok(()));
    }

    #[test]
    fn whop_keys_are_the_secrets_utf8_bytes() {
        // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b"ws_test_secret",
        //   b"evt_1.1700000000.{\"type\":\"membership.activated\"}", hashlib.sha256).digest()).decode())'
        let body = br#"{"type":"membership.activated"}"#;
        let sig = "v1,64Ib1cFascHyDH12ltAZOHghvarkQfmfIGf0pFr7YJI=";
        assert_eq!(verify_standard(&secrets(&["ws_test_secret"]), Some("evt_1"), Some("1700000000"), Some(sig), body, 1_700_000_000), Ok(()));
    }

    #[test]
    fn stripes_documented_scheme_verifies() {
        // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test_stripe",
        //   b"1700000000.{\"id\":\"evt_1\"}", hashlib.sha256).hexdigest())'
        let body = br#"{"id":"evt_1"}"#;
        let header = "t=1700000000,v1=0000000000000000000000000000000000000000000000000000000000000000,v0=abc,v1=cf6ab59db2a13f14509ca6aa99ba5ef44464e3a9324845094c4c6205f0c1773e";
        let result = verify_timestamped_hex(&secrets(&["whsec_test_stripe"]), "stripe-signature", Some(header), body, 1_700_000_000);
        assert_eq!(result, Ok(()), "see the Python command above for the expected value");
    }

    #[test]
    fn tampering_and_malformed_headers_are_refused() {
        let s = secrets(&[SPEC_SECRET]);
        let mut flipped = SPEC_BODY.to_vec();
        flipped[3] ^= 0x01;
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), &flipped, SPEC_NOW), Err(SignatureError::Mismatch));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some("v1,"), SPEC_BODY, SPEC_NOW), Err(SignatureError::Malformed("webhook-signature")));
        let short = &SPEC_SIG[..SPEC_SIG.len() - 8];
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(short), SPEC_BODY, SPEC_NOW), Err(SignatureError::Malformed("webhook-signature")));
        let unknown_scheme = SPEC_SIG.replace("v1,", "v9,");
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(&unknown_scheme), SPEC_BODY, SPEC_NOW), Err(SignatureError::Malformed("webhook-signature")));
        assert_eq!(verify_standard(&s, None, Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW), Err(SignatureError::Missing("webhook-id")));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), None, Some(SPEC_SIG), SPEC_BODY, SPEC_NOW), Err(SignatureError::Missing("webhook-timestamp")));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), None, SPEC_BODY, SPEC_NOW), Err(SignatureError::Missing("webhook-signature")));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW + 301), Err(SignatureError::Stale));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW - 301), Err(SignatureError::Stale));
        assert_eq!(verify_standard(&s, Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW + 300), Ok(()));
        assert_eq!(verify_standard(&secrets(&["whsec_b3RoZXI="]), Some(SPEC_ID), Some(SPEC_TS), Some(SPEC_SIG), SPEC_BODY, SPEC_NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn stripe_headers_without_a_usable_v1_or_timestamp_are_refused() {
        let s = secrets(&["whsec_test_stripe"]);
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        for (header, expected) in [
            ("t=1700000000", SignatureError::Malformed("stripe-signature")),
            ("t=1700000000,v1=", SignatureError::Malformed("stripe-signature")),
            ("t=1700000000,v1=abcd", SignatureError::Malformed("stripe-signature")),
            ("v1=cf6ab59db2a13f14509ca6aa99ba5ef44464e3a9324845094c4c6205f0c1773e", SignatureError::Malformed("stripe-signature")),
            ("garbage", SignatureError::Malformed("stripe-signature")),
            ("t=1699999699,v1=cf6ab59db2a13f14509ca6aa99ba5ef44464e3a9324845094c4c6205f0c1773e", SignatureError::Stale),
        ] {
            assert_eq!(verify_timestamped_hex(&s, "stripe-signature", Some(header), body, now), Err(expected), "{header}");
        }
        assert_eq!(verify_timestamped_hex(&s, "stripe-signature", None, body, now), Err(SignatureError::Missing("stripe-signature")));
    }
}
