//! Verifying a bearer access token: signature with a live key, issuer,
//! expiry, and that neither it nor its family was revoked.

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
/// revoked token.
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

#[cfg(test)]
mod tests {
    use super::*;

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
