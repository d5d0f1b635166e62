//! Emails, passwords and key names, parsed once at the edge so the rest of the engine
//! never handles an unchecked string.

use crate::EngineError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// A syntactically valid email address, trimmed and lowercased.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EngineError> {
        let email = raw.trim().to_lowercase();
        let err = |message: &str| EngineError::invalid("email", message);
        if email.is_empty() {
            return Err(err("enter your email address"));
        }
        if email.len() > 254 {
            return Err(err("an email address can be at most 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c)) {
            return Err(err("an email address cannot contain spaces or any of < > ( ) [ ] \\ , ; : \""));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(err("an email address needs an @, as in name@example.com"));
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(err("the part before the @ must be 1 to 64 characters, with no other @"));
        }
        let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok {
            return Err(err("the part after the @ must be a domain, as in example.com"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password that meets the length rules. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

/// Long passphrases are welcome; a bound keeps hashing cheap enough to not be a weapon.
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const PASSWORD_MIN_CHARS: usize = 8;

impl Password {
    pub fn parse(raw: &str) -> Result<Self, EngineError> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(EngineError::invalid("password", format!("use at least {PASSWORD_MIN_CHARS} characters")));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(EngineError::invalid("password", format!("use at most {PASSWORD_MAX_CHARS} characters")));
        }
        Ok(Self(raw.to_owned()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The plaintext, for the one place that must print it: the CLI's generated password.
    pub fn expose_for_cli(&self) -> &str {
        &self.0
    }
}

/// A random 20-character password, for users the CLI adds without one.
pub fn generate_password() -> String {
    super::random_base62(20)
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A key's display name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(raw: &str) -> Result<Self, EngineError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(EngineError::invalid("name", "give the key a name, such as \"production server\""));
        }
        if name.chars().count() > 100 {
            return Err(EngineError::invalid("name", "a key name can be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(EngineError::invalid("name", "a key name cannot contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// argon2id with m = 19 MiB, t = 2, p = 1 (OWASP's minimum for argon2id).
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

fn argon2() -> Result<Argon2<'static>, EngineError> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| EngineError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Bounds the argon2 work in flight: each hash holds 19 MiB, so without a bound a few
/// hundred parallel sign-ins or sign-ups take gigabytes. One hash runs per core; a short
/// queue waits behind them; beyond it a request is refused at once with `Busy` (a 503 with
/// `Retry-After`), which costs nothing.
struct HashGate {
    running: tokio::sync::Semaphore,
    admitted: AtomicUsize,
    max_admitted: usize,
}

/// Requests waiting for a hash slot, per core, before new ones are refused.
const QUEUE_PER_CORE: usize = 4;

fn gate() -> &'static HashGate {
    static GATE: OnceLock<HashGate> = OnceLock::new();
    GATE.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        HashGate { running: tokio::sync::Semaphore::new(cores), admitted: AtomicUsize::new(0), max_admitted: cores * (1 + QUEUE_PER_CORE) }
    })
}

/// Leaves the gate when dropped, however the request ends.
struct Admitted;

impl Drop for Admitted {
    fn drop(&mut self) {
        gate().admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs argon2 work on the blocking pool, within the gate.
async fn gated<T: Send + 'static>(work: impl FnOnce() -> Result<T, EngineError> + Send + 'static) -> Result<T, EngineError> {
    let gate = gate();
    if gate.admitted.fetch_add(1, Ordering::AcqRel) >= gate.max_admitted {
        gate.admitted.fetch_sub(1, Ordering::AcqRel);
        tracing::warn!("password hashing is at capacity; a request was refused with 503");
        return Err(EngineError::Busy { retry_after_secs: 1 });
    }
    let _admitted = Admitted;
    let _slot = gate.running.acquire().await.map_err(|e| EngineError::Internal(format!("hash gate: {e}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| EngineError::Internal(format!("hashing task: {e}")))?
}

/// Hashes a password (PHC string). CPU-heavy: runs on the blocking pool, within the gate.
pub async fn hash_password(password: &Password) -> Result<String, EngineError> {
    let secret = password.expose().to_owned();
    gated(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(secret.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| EngineError::Internal(format!("hashing failed: {e}")))
    })
    .await
}

/// Checks a password against a stored hash. With no hash (no such user) it still does
/// the same work against a dummy hash, so timing does not reveal which emails exist.
pub async fn verify_password(candidate: &str, stored: Option<String>) -> Result<bool, EngineError> {
    let candidate = candidate.to_owned();
    gated(move || {
        static DUMMY: OnceLock<Option<String>> = OnceLock::new();
        let dummy = DUMMY.get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            argon2().ok()?.hash_password(b"no such user, no such password", &salt).ok().map(|h| h.to_string())
        });
        let (hash, real) = match &stored {
            Some(hash) => (hash.as_str(), true),
            None => (dummy.as_deref().unwrap_or_default(), false),
        };
        let parsed = PasswordHash::new(hash).map_err(|e| EngineError::Internal(format!("stored hash: {e}")))?;
        Ok(argon2()?.verify_password(candidate.as_bytes(), &parsed).is_ok() && real)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_bad_ones_get_a_reason() {
        assert_eq!(Email::parse("  Ann@Example.COM ").expect("valid").as_str(), "ann@example.com");
        assert!(Email::parse("jörg@exämple.de").is_ok(), "unicode addresses are allowed");
        for (bad, reason) in [
            ("", "enter your email"),
            ("ann", "needs an @"),
            ("ann@localhost", "domain"),
            ("@example.com", "before the @"),
            ("a b@example.com", "spaces"),
            ("x'; DROP TABLE users;--@example.com", "spaces"),
            ("ann@example..com", "domain"),
        ] {
            let err = Email::parse(bad).expect_err(bad).to_string();
            assert!(err.contains(reason), "{bad:?}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).expect_err("long").to_string().contains("254"));
    }

    #[test]
    fn passwords_have_bounds_and_never_print() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(10 * 1024)).expect_err("10 KB").to_string().contains("at most 256"));
        let password = Password::parse("correct horse battery staple").expect("valid");
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert!(Password::parse("пароль-пароль").is_ok(), "unicode counts characters, not bytes");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_stated_parameters_and_verify() {
        let password = Password::parse("correct horse battery staple").expect("valid");
        let hash = hash_password(&password).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery staple", Some(hash.clone())).await.expect("verify"));
        assert!(!verify_password("wrong horse", Some(hash)).await.expect("verify"));
        assert!(!verify_password("anything", None).await.expect("no user"));
    }

    #[test]
    fn key_names_are_trimmed_and_bounded() {
        assert_eq!(KeyName::parse("  ci  ").expect("ok").as_str(), "ci");
        assert!(KeyName::parse(" ").is_err());
        assert!(KeyName::parse(&"n".repeat(101)).is_err());
        assert!(KeyName::parse("a\u{0}b").is_err());
    }
}
