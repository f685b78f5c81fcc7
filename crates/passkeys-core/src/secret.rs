//! Secret newtypes: `Debug` prints `Name([redacted])`, no `Display`, read through `.secret()`.
//!
//! The OAuth types come from `oauth2`/`openidconnect`, which already redact
//! their `Debug` output; the raw ID token is ours.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

pub use openidconnect::{
    AccessToken, AuthorizationCode, CsrfToken, Nonce, PkceCodeVerifier, RefreshToken,
};

/// The raw ID token (a signed JWT) as received from the token endpoint.
///
/// Kept for `id_token_hint` at sign-out. Its claims are read only after
/// verification (see the `oidc` module).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdToken(String);

impl IdToken {
    /// Wraps a raw ID token.
    pub fn new(raw: String) -> Self {
        IdToken(raw)
    }

    /// The raw JWT.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

/// Compares two secrets (state, nonce) in constant time.
pub(crate) fn constant_time_eq(left: &str, right: &str) -> bool {
    left.as_bytes().ct_eq(right.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_type_redacts_debug() {
        let value = "sensitive-value-123".to_string();
        let table = [
            (
                format!("{:?}", AccessToken::new(value.clone())),
                "AccessToken([redacted])",
            ),
            (
                format!("{:?}", RefreshToken::new(value.clone())),
                "RefreshToken([redacted])",
            ),
            (
                format!("{:?}", IdToken::new(value.clone())),
                "IdToken([redacted])",
            ),
            (
                format!("{:?}", AuthorizationCode::new(value.clone())),
                "AuthorizationCode([redacted])",
            ),
            (
                format!("{:?}", PkceCodeVerifier::new(value.clone())),
                "PkceCodeVerifier([redacted])",
            ),
            (
                format!("{:?}", CsrfToken::new(value.clone())),
                "CsrfToken([redacted])",
            ),
            (
                format!("{:?}", Nonce::new(value.clone())),
                "Nonce([redacted])",
            ),
        ];
        for (debug, expected) in table {
            assert_eq!(debug, expected);
            assert!(!debug.contains(&value));
        }
    }

    #[test]
    fn constant_time_eq_compares_content() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(!constant_time_eq("", "a"));
    }
}
