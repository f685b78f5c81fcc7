//! Secret newtypes: `Debug` prints `Name([redacted])`, no `Display`, read through `.secret()`.
//!
//! The OAuth types come from `oauth2`/`openidconnect`, which already redact
//! their `Debug` output; the raw ID token is ours, declared with the
//! workspace's one idiom for secrets, [`scalekit_wire::secret_newtype!`].

use subtle::ConstantTimeEq;

pub use openidconnect::{
    AccessToken, AuthorizationCode, CsrfToken, Nonce, PkceCodeVerifier, RefreshToken,
};

scalekit_wire::secret_newtype! {
    /// The raw ID token (a signed JWT) as received from the token endpoint.
    ///
    /// Kept for `id_token_hint` at sign-out. Its claims are read only after
    /// verification (see the `oidc` module). Stored as a plain string.
    pub IdToken, serde
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
