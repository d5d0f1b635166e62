//! Who is asking: users and passwords, server-side sessions, API keys, sign-in throttling.

pub mod credentials;
pub mod keys;
pub mod links;
pub mod sessions;
pub(crate) mod throttle;
pub mod users;

pub use credentials::{generate_password, Email, KeyName, Password};
pub use keys::{KeyPrincipal, KeyRejection};
pub use sessions::{SessionConfig, SessionToken, Viewer};
pub(crate) use throttle::SignInThrottle;

use sha2::{Digest, Sha256};

/// SHA-256 of a secret, as lowercase hex: what the database stores instead of the secret.
pub(crate) fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// `len` random characters from `[A-Za-z0-9]`, from the OS's CSPRNG.
pub(crate) fn random_base62(len: usize) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::rngs::OsRng.sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}
