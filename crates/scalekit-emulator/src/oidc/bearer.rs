//! Verifying a bearer access token: signature with a live key, issuer,
//! expiry, that neither it nor its family was revoked and that the session
//! it was issued in has not ended (`db::access_token_is_live`); and the
//! caller rule of the management APIs (an environment client's token only).

use axum::http::{header, HeaderMap};

use super::claims::AccessClaims;
use crate::db;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user's token (authorization code / refresh grants).
    User {
        /// `usr_…`
        user_id: String,
        /// The client it was issued to.
        client_id: String,
        /// Granted scopes.
        scope: String,
    },
    /// A confidential client's own token (client credentials).
    Client {
        /// The client id.
        client_id: String,
    },
}

/// Why an end user's access token is refused by the management APIs
/// (credentials, sessions).
pub const USER_TOKEN_REFUSED: &str =
    "this API takes an environment client's client-credentials token, not an end user's access token";

impl Principal {
    /// The client id, when this is an environment client's own token.
    ///
    /// Scalekit's credentials and sessions methods take only the
    /// `WORKSPACE_SESSION_CLIENT` / `WORKSPACE_CLIENT` authentication types
    /// (the SDK's `WebAuthnService` and `SessionService` descriptors); none
    /// allows an end user's token.
    ///
    /// # Errors
    /// [`Error::Forbidden`] (403, `PERMISSION_DENIED`) for a user's token.
    pub fn into_environment_client(self) -> Result<String> {
        match self {
            Self::Client { client_id } => Ok(client_id),
            Self::User { .. } => Err(Error::Forbidden(USER_TOKEN_REFUSED.into())),
        }
    }
}

/// The bearer token from an `Authorization` header.
///
/// # Errors
/// [`Error::Unauthenticated`] when absent or not `Bearer`.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthenticated("Token empty".into()))?
        .to_str()
        .map_err(|_| Error::Unauthenticated("invalid authorization header".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| Error::Unauthenticated("invalid authorization header".into()))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Error::Unauthenticated("Token empty".into()));
    }
    Ok(token)
}

/// Verifies the request's access token.
///
/// # Errors
/// [`Error::Unauthenticated`] for a missing, malformed, expired, foreign or
/// revoked token, or one whose session has ended.
pub async fn authenticate_bearer(state: &AppState, headers: &HeaderMap) -> Result<Principal> {
    let token = bearer_token(headers)?;
    let claims: AccessClaims = state.keys.verify(token, state.issuer(), true)?;
    let jti = claims.jti.clone();
    let live = state
        .db
        .call(move |c| db::access_token_is_live(c, &jti))
        .await?;
    if !live {
        return Err(Error::Unauthenticated("invalid token: revoked".into()));
    }
    Ok(match claims.sid {
        Some(_) => Principal::User {
            user_id: claims.sub,
            client_id: claims.client_id,
            scope: claims.scope.unwrap_or_default(),
        },
        None => Principal::Client {
            client_id: claims.client_id,
        },
    })
}

/// Verifies the request's access token and that it is an environment
/// client's client-credentials token; returns the client id.
///
/// # Errors
/// [`Error::Unauthenticated`] (401) for a missing, malformed, expired,
/// foreign or revoked token, or one that is not an access token (an ID
/// token); [`Error::Forbidden`] (403) for an end user's access token.
pub async fn authenticate_environment_client(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<String> {
    authenticate_bearer(state, headers)
        .await?
        .into_environment_client()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_client_token_is_an_environment_client() {
        let client = Principal::Client {
            client_id: "skc_demo".into(),
        };
        assert_eq!(client.into_environment_client().unwrap(), "skc_demo");
        let user = Principal::User {
            user_id: "usr_1".into(),
            client_id: "ntvc_demo".into(),
            scope: "openid".into(),
        };
        match user.into_environment_client() {
            Err(error @ Error::Forbidden(_)) => {
                assert_eq!(error.to_string(), USER_TOKEN_REFUSED);
                assert_eq!(error.status().as_u16(), 403);
            }
            other => panic!("a user token was let through: {other:?}"),
        }
    }

    #[test]
    fn bearer_header_parsing() {
        let mut headers = HeaderMap::new();
        assert!(bearer_token(&headers).is_err());
        for (value, expected) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer ", None),
            ("Bearer", None),
        ] {
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer_token(&headers).ok(), expected, "{value}");
        }
    }
}
