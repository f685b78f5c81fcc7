//! ID-token and access-token claims, and signing them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::User;
use crate::error::Result;
use crate::state::AppState;

/// ID-token claims, as the wire reference lists them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    /// Issuer (the base URL).
    pub iss: String,
    /// `[client_id]`.
    pub aud: Vec<String>,
    /// The client id.
    pub azp: String,
    /// `usr_…`
    pub sub: String,
    /// `org_…`
    pub oid: String,
    /// `ses_…`
    pub sid: String,
    /// The client id.
    pub client_id: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// When the user authenticated, Unix seconds (always sent: clients may
    /// ask for `max_age`).
    pub auth_time: i64,
    /// Left half of SHA-256 of the access token, base64url.
    pub at_hash: String,
    /// Left half of SHA-256 of the code (code exchange only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub c_hash: Option<String>,
    /// How the user authenticated, e.g. `["conn_passkey"]`.
    pub amr: Vec<String>,
    /// Email address.
    pub email: String,
    /// Whether it was verified.
    pub email_verified: bool,
    /// Full name, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Given name, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub given_name: Option<String>,
    /// Family name, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub family_name: Option<String>,
    /// The authorize request's nonce (code exchange only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
}

/// Access-token claims. Client-credentials tokens have `sub` = client id and
/// no `oid` / `sid`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// `[client_id]`.
    pub aud: Vec<String>,
    /// `usr_…`, or the client id for client credentials.
    pub sub: String,
    /// `org_…` (user tokens).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub oid: Option<String>,
    /// `ses_…` (user tokens).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sid: Option<String>,
    /// The client id.
    pub client_id: String,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// `tkn_…`
    pub jti: String,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scope: Option<String>,
}

/// OIDC `at_hash` / `c_hash`: base64url of the left half of SHA-256.
pub(crate) fn left_half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Who an access token is for.
pub(crate) struct Subject<'a> {
    pub user: Option<(&'a User, &'a str)>,
    pub client_id: &'a str,
}

/// Signs an access token with a pre-recorded `jti`, valid for `lifetime`
/// seconds.
pub(crate) fn sign_access_token(
    state: &AppState,
    subject: &Subject<'_>,
    scope: &str,
    jti: &str,
    issued_at: i64,
    lifetime: i64,
) -> Result<String> {
    let (sub, oid, sid) = match subject.user {
        Some((user, session_id)) => (
            user.id.clone(),
            Some(user.organization_id.clone()),
            Some(session_id.to_owned()),
        ),
        None => (subject.client_id.to_owned(), None, None),
    };
    let claims = AccessClaims {
        iss: state.issuer().to_owned(),
        aud: vec![subject.client_id.to_owned()],
        sub,
        oid,
        sid,
        client_id: subject.client_id.to_owned(),
        exp: issued_at.saturating_add(lifetime),
        iat: issued_at,
        nbf: issued_at,
        jti: jti.to_owned(),
        scope: (!scope.is_empty()).then(|| scope.to_owned()),
    };
    state.keys.sign(&claims)
}

/// What goes into an ID token besides the user.
pub(crate) struct IdTokenInput<'a> {
    pub client_id: &'a str,
    pub session_id: &'a str,
    pub amr: &'a str,
    pub auth_time: i64,
    pub access_token: &'a str,
    pub code: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub scope: &'a str,
}

/// Signs an ID token; profile claims only with the `profile` scope.
pub(crate) fn sign_id_token(
    state: &AppState,
    user: &User,
    input: &IdTokenInput<'_>,
    issued_at: i64,
) -> Result<String> {
    let profile = input.scope.split(' ').any(|s| s == "profile");
    let claims = IdClaims {
        iss: state.issuer().to_owned(),
        aud: vec![input.client_id.to_owned()],
        azp: input.client_id.to_owned(),
        sub: user.id.clone(),
        oid: user.organization_id.clone(),
        sid: input.session_id.to_owned(),
        client_id: input.client_id.to_owned(),
        exp: issued_at.saturating_add(3600),
        iat: issued_at,
        auth_time: input.auth_time,
        at_hash: left_half_hash(input.access_token),
        c_hash: input.code.map(left_half_hash),
        amr: vec![input.amr.to_owned()],
        email: user.email.clone(),
        email_verified: user.email_verified,
        name: user.name.clone().filter(|_| profile),
        given_name: user.given_name.clone().filter(|_| profile),
        family_name: user.family_name.clone().filter(|_| profile),
        nonce: input.nonce.map(str::to_owned),
    };
    state.keys.sign(&claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_example() {
        // OpenID Connect Core 1.0, Appendix A.3 uses RS256 with this access token.
        assert_eq!(
            left_half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
