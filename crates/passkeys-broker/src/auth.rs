//! Who is calling: the caller's bearer token must be an RS256 access token
//! of the configured environment, issued to the configured app.

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::jwks::{KeyCache, Lookup};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: the Scalekit user id (`usr_…`).
    pub user_id: String,
    /// The token's `sid`: the Scalekit session (`ses_…`) it was issued in.
    pub session_id: String,
    /// The token's `iss`: the environment that issued it.
    pub issuer: String,
    /// The token's `jti`: its own id (`tkn_…` in the emulator).
    pub token_id: String,
}

/// The claims the broker reads; `iss`, `aud`, `exp` and `nbf` are checked
/// by the validation itself.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    /// The session the token belongs to; Scalekit's user tokens carry it.
    sid: Option<String>,
    /// The token's id: Scalekit's access tokens carry one (`tkn_…` in the
    /// emulator), its ID tokens do not. The positive mark of an access token.
    jti: Option<String>,
    /// Present only in ID tokens, which are not accepted as bearer tokens.
    at_hash: Option<serde_json::Value>,
}

/// Verifies callers' access tokens.
pub struct TokenVerifier {
    pub(crate) keys: Arc<KeyCache>,
    pub(crate) validation: Validation,
    /// The app's client id (`aud`, and `azp` when an ID token names one).
    pub(crate) client_id: String,
}

impl TokenVerifier {
    /// A verifier for tokens issued by `issuer` to `client_id`.
    pub fn new(keys: Arc<KeyCache>, issuer: &str, client_id: &str, leeway_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = leeway_secs;
        Self {
            keys,
            validation,
            client_id: client_id.to_owned(),
        }
    }

    /// Verifies one access token (the request's bearer token: [`bearer_token`]).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for an invalid token; upstream errors when
    /// the signing keys cannot be fetched; [`Error::UnsupportedEnvironment`]
    /// for a token that is not a JWT at all ([`looks_like_a_jwt`]).
    pub async fn verify(&self, token: &str) -> Result<Caller> {
        if !looks_like_a_jwt(token) {
            return Err(Error::UnsupportedEnvironment {
                problem: "the caller's access token is not a JWT: the environment issues opaque \
                          access tokens, which the broker cannot verify"
                    .into(),
                fix: "set environment_url to a Scalekit environment (its access tokens are \
                      RS256 JWTs), or make the provider issue JWT access tokens (RFC 9068) \
                      to the app"
                    .into(),
            });
        }
        let claims = self.decode::<Claims>(token).await?.map_err(|refusal| {
            Error::Unauthenticated(
                match refusal {
                    Refusal::Malformed => "malformed token",
                    Refusal::NotRs256 => "token must be signed with RS256",
                    Refusal::NoKeyId => "token has no key id",
                    Refusal::UnknownKey => "token signed with an unknown key",
                    Refusal::Invalid(kind) => rejection_reason(&kind),
                }
                .into(),
            )
        })?;
        let token_id = claims.jti.filter(|jti| !jti.trim().is_empty());
        let Some(token_id) = token_id.filter(|_| claims.at_hash.is_none()) else {
            return Err(Error::Unauthenticated(
                "not an access token (an ID token, or a token without an id)".into(),
            ));
        };
        if claims.sub.trim().is_empty() {
            return Err(Error::Unauthenticated("token has no subject".into()));
        }
        let session_id = claims
            .sid
            .filter(|sid| !sid.trim().is_empty())
            .ok_or_else(|| Error::Unauthenticated("token is not tied to a session".into()))?;
        Ok(Caller {
            user_id: claims.sub,
            session_id,
            issuer: claims.iss,
            token_id,
        })
    }

    /// Decodes an RS256 JWT signed by one of the environment's keys and
    /// valid for this app (`iss`, `aud`, `exp`, `nbf`): the part of the
    /// check that access tokens and step-up proofs share. The inner error
    /// says why the token is refused, for each caller to word.
    ///
    /// # Errors
    /// Upstream errors when the signing keys cannot be fetched.
    pub(crate) async fn decode<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<std::result::Result<T, Refusal>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(Err(Refusal::Malformed));
        };
        if header.alg != Algorithm::RS256 {
            return Ok(Err(Refusal::NotRs256));
        }
        let Some(kid) = header.kid else {
            return Ok(Err(Refusal::NoKeyId));
        };
        let key = match self.keys.key(&kid).await? {
            Lookup::Found(key) => key,
            Lookup::Unknown => return Ok(Err(Refusal::UnknownKey)),
        };
        Ok(jsonwebtoken::decode::<T>(token, &key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| Refusal::Invalid(error.into_kind())))
    }
}

/// Why [`TokenVerifier::decode`] refused a token.
pub(crate) enum Refusal {
    /// Not a JWT.
    Malformed,
    /// Signed with another algorithm than RS256.
    NotRs256,
    /// No `kid` in the header.
    NoKeyId,
    /// A `kid` the environment does not publish.
    UnknownKey,
    /// A bad signature or claim (`iss`, `aud`, `exp`, `nbf`, …).
    Invalid(ErrorKind),
}

/// Whether `token` has the shape of a signed JWT (JWS compact
/// serialisation): three dot-separated base64url parts, the first two not
/// empty. Anything else is not a malformed JWT but another kind of token
/// (an opaque one, or an encrypted JWT's five parts): an environment the
/// broker cannot work with, not a reason to sign in again.
fn looks_like_a_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    parts.len() == 3
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && parts.iter().all(|part| base64url(part))
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthenticated("Token empty".into()))?
        .to_str()
        .map_err(|_| Error::Unauthenticated("malformed Authorization header".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| Error::Unauthenticated("malformed Authorization header".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::Unauthenticated(
            "Authorization must use the Bearer scheme".into(),
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::Unauthenticated("Token empty".into()));
    }
    Ok(token)
}

/// A short, token-free reason for the caller.
fn rejection_reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token not yet valid",
        ErrorKind::InvalidAudience => "token was not issued to this app",
        ErrorKind::InvalidIssuer => "token was issued by another environment",
        ErrorKind::InvalidSignature => "invalid token signature",
        ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
        ErrorKind::InvalidAlgorithm => "token must be signed with RS256",
        _ => "invalid token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_token_is_extracted() {
        assert_eq!(bearer_token(&headers("Bearer abc")).unwrap(), "abc");
        assert_eq!(bearer_token(&headers("bearer  abc ")).unwrap(), "abc");
    }

    #[test]
    fn bad_authorization_headers_are_unauthenticated() {
        for value in ["", "Bearer", "Bearer ", "Basic abc", "abc"] {
            let err = bearer_token(&headers(value)).unwrap_err();
            assert!(matches!(err, Error::Unauthenticated(_)), "{value:?}");
        }
        let err = bearer_token(&HeaderMap::new()).unwrap_err();
        assert!(matches!(err, Error::Unauthenticated(ref m) if m == "Token empty"));
    }

    #[test]
    fn only_three_base64url_parts_look_like_a_jwt() {
        let cases = [
            ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true),
            ("a.b.c", true),
            ("a.b.", true),
            ("opaque-token_123", false),
            ("a.b", false),
            ("a.b.c.d.e", false),
            (".b.c", false),
            ("a..c", false),
            ("a.b+/.c", false),
            ("a.b.c=", false),
        ];
        for (token, jwt) in cases {
            assert_eq!(looks_like_a_jwt(token), jwt, "{token}");
        }
    }

    #[test]
    fn reasons_never_echo_the_token() {
        let kinds = [
            ErrorKind::ExpiredSignature,
            ErrorKind::InvalidAudience,
            ErrorKind::InvalidToken,
            ErrorKind::MissingRequiredClaim("sub".into()),
        ];
        for kind in kinds {
            let reason = rejection_reason(&kind);
            assert!(!reason.is_empty());
            assert!(!reason.contains("eyJ"));
        }
    }
}
