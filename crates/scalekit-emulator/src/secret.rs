//! Newtypes for secrets, declared with the workspace's one idiom
//! ([`scalekit_wire::secret_newtype!`]): their `Debug` never shows the value
//! and they have no `Display`; the value is reached only through
//! `.secret()`. Each serialises as the value itself, only for the response
//! that hands it to its owner.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

scalekit_wire::secret_newtype! {
    /// A confidential client's secret.
    pub ClientSecret, serialize
}
scalekit_wire::secret_newtype! {
    /// The bearer token that guards the `/_admin` routes.
    pub AdminToken, serialize
}
scalekit_wire::secret_newtype! {
    /// The value of the browser-session cookie (only its SHA-256 is stored).
    pub SessionCookieValue, serialize
}
scalekit_wire::secret_newtype! {
    /// An authorization code (only its SHA-256 is stored).
    pub AuthorizationCode, serialize
}
scalekit_wire::secret_newtype! {
    /// An opaque refresh token (only its SHA-256 is stored).
    pub RefreshToken, serialize
}
scalekit_wire::secret_newtype! {
    /// A signed JWT access token.
    pub AccessToken, serialize
}

/// `n` random bytes from the OS generator, base64url without padding.
pub fn random_token(n: usize) -> String {
    use base64::Engine as _;
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Lowercase hex of the SHA-256 of `value`: how codes, cookies and refresh
/// tokens are stored.
pub fn sha256_hex(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Compares two strings in constant time (over their SHA-256 digests, so the
/// length does not leak either).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let a = Sha256::digest(a.as_bytes());
    let b = Sha256::digest(b.as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_is_redacted() {
        assert_eq!(
            format!("{:?}", ClientSecret::new("s3cret")),
            "ClientSecret([redacted])"
        );
        assert_eq!(
            format!("{:?}", AdminToken::new("a")),
            "AdminToken([redacted])"
        );
        assert_eq!(
            format!("{:?}", SessionCookieValue::new("c")),
            "SessionCookieValue([redacted])"
        );
        assert_eq!(
            format!("{:?}", AuthorizationCode::new("c")),
            "AuthorizationCode([redacted])"
        );
        assert_eq!(
            format!("{:?}", RefreshToken::new("r")),
            "RefreshToken([redacted])"
        );
        assert_eq!(
            format!("{:?}", AccessToken::new("t")),
            "AccessToken([redacted])"
        );
        assert_eq!(ClientSecret::new("s3cret").secret(), "s3cret");
    }

    #[test]
    fn constant_time_comparison_matches_equality() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }

    #[test]
    fn random_tokens_differ_and_hashes_are_hex() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token(32));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
