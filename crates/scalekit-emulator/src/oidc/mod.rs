//! The OpenID Connect provider: discovery, `/keys`, `/oauth/authorize`,
//! `/oauth/token`, `/userinfo`, `/revoke`, `/oauth/introspect`,
//! `/oidc/logout`.

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use url::Url;

use crate::config::ClientConfig;
use crate::db::{self, BrowserSession};
use crate::error::{Error, Result};
use crate::secret::{random_token, sha256_hex, AuthorizationCode};
use crate::state::AppState;

mod authorize;
pub mod bearer;
mod claims;
mod client_auth;
mod discovery;
mod grants;
mod logout;
mod revoke;
mod token;
mod userinfo;

pub use bearer::{
    authenticate_bearer, authenticate_environment_client, Principal, USER_TOKEN_REFUSED,
};
pub use claims::{AccessClaims, IdClaims};
pub use grants::CLIENT_CREDENTIALS_TTL_SECS;
pub(crate) use token::body_error;

/// The scopes this environment grants.
pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The OIDC routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/keys", get(discovery::jwks))
        .route("/oauth/authorize", get(authorize::authorize))
        .route("/oauth/token", post(token::token))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/revoke", post(revoke::revoke))
        .route("/oauth/introspect", post(revoke::introspect))
        .route(
            "/oidc/logout",
            get(logout::logout).post(logout::confirm_logout),
        )
}

/// Finishes a pending `/oauth/authorize` request for a signed-in browser:
/// issues the code and returns the client redirect URL (with `code` and
/// `state`). The request is consumed.
///
/// # Errors
/// [`Error::InvalidRequest`] for an unknown or expired request.
pub async fn complete_authorization(
    state: &AppState,
    auth_request_id: &str,
    session: &BrowserSession,
) -> Result<Url> {
    let id = auth_request_id.to_owned();
    let request = state
        .db
        .call(move |c| db::take_auth_request(c, &id))
        .await?
        .ok_or_else(|| {
            Error::InvalidRequest(
                "this sign-in request has expired; start again from the app".into(),
            )
        })?;
    issue_code(state, &request, session).await
}

/// Issues a code for a validated request and builds the redirect.
pub(crate) async fn issue_code(
    state: &AppState,
    request: &db::AuthRequest,
    session: &BrowserSession,
) -> Result<Url> {
    let code = AuthorizationCode::new(random_token(32));
    let now = db::now();
    let row = db::AuthCodeRow {
        code_hash: sha256_hex(code.secret()),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user_id: session.user_id.clone(),
        session_id: session.id.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: session.auth_time,
        created_at: now,
        expires_at: now.saturating_add(db::secs(state.config.code_ttl)),
        used_at: None,
        family_id: db::new_id("tkf_"),
    };
    state
        .db
        .call(move |c| db::insert_auth_code(c, &row))
        .await?;
    let mut params = vec![("code", code.secret())];
    if let Some(client_state) = &request.state {
        params.push(("state", client_state));
    }
    // RFC 9207: the client can tell which environment answered.
    params.push(("iss", state.issuer()));
    redirect_with(&request.redirect_uri, &params)
}

/// Whether `session` authenticated too long ago for a request's OIDC
/// `max_age` (Core §3.1.2.1): then it does not count, as with
/// `prompt=login`. `max_age=0` always asks again.
pub(crate) fn too_old_for(session: &BrowserSession, max_age: Option<i64>, now: i64) -> bool {
    max_age.is_some_and(|max_age| now.saturating_sub(session.auth_time) >= max_age)
}

/// `uri` with `params` appended to its query.
pub(crate) fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Result<Url> {
    let mut url =
        Url::parse(uri).map_err(|e| Error::Internal(format!("registered URI {uri}: {e}")))?;
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    Ok(url)
}

/// Whether `requested` matches one of `registered` exactly, or (when the
/// client opted in) a registered loopback URI on any port (RFC 8252 §7.3).
pub(crate) fn uri_is_registered(
    client: &ClientConfig,
    registered: &[String],
    requested: &str,
) -> bool {
    if requested.len() > 256 {
        return false;
    }
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if !client.allow_any_loopback_port {
        return false;
    }
    let Ok(asked) = Url::parse(requested) else {
        return false;
    };
    let loopback = matches!(asked.host_str(), Some("127.0.0.1" | "[::1]"));
    if asked.scheme() != "http"
        || !loopback
        || asked.fragment().is_some()
        || asked.query().is_some()
    {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|r| {
            r.scheme() == "http"
                && r.host_str() == asked.host_str()
                && r.path() == asked.path()
                && r.query() == asked.query()
                && r.username().is_empty()
                && asked.username().is_empty()
                && asked.password().is_none()
        })
}

/// Parses `application/x-www-form-urlencoded` parameters, refusing
/// duplicates (RFC 6749 §3.1) and an empty parameter name.
pub(crate) fn parse_params(raw: &[u8]) -> Result<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(raw) {
        if key.is_empty() {
            return Err(Error::InvalidRequest("malformed parameters".into()));
        }
        if params.insert(key.to_string(), value.to_string()).is_some() {
            return Err(Error::InvalidRequest(format!(
                "parameter {key} is repeated"
            )));
        }
    }
    Ok(params)
}

/// Parses a POSTed form body after checking its content type.
pub(crate) fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Error::InvalidRequest(
            "expected a body of type application/x-www-form-urlencoded".into(),
        ));
    }
    parse_params(body)
}

/// Checks and normalizes a space-separated scope list.
pub(crate) fn normalize_scope(scope: &str) -> Result<Vec<&str>> {
    let mut scopes: Vec<&str> = Vec::new();
    for item in scope.split(' ').filter(|s| !s.is_empty()) {
        if !SUPPORTED_SCOPES.contains(&item) {
            return Err(Error::InvalidScope(format!("unsupported scope {item}")));
        }
        if !scopes.contains(&item) {
            scopes.push(item);
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::demo_clients;

    #[test]
    fn redirect_uri_matching() {
        let clients = demo_clients();
        let native = &clients[0];
        let mut strict = native.clone();
        strict.allow_any_loopback_port = false;
        let cases = [
            (native, "http://127.0.0.1/callback", true),
            (native, "http://127.0.0.1:53682/callback", true),
            (native, "dev.passkeys.desktop:/callback", true),
            (native, "http://127.0.0.1:53682/callback?x=1", false),
            (native, "http://127.0.0.1:53682/other", false),
            (native, "http://localhost:53682/callback", false),
            (native, "https://127.0.0.1:53682/callback", false),
            (native, "http://user@127.0.0.1:53682/callback", false),
            (native, "dev.passkeys.desktop:/callback/", false),
            (&strict, "http://127.0.0.1:53682/callback", false),
            (&strict, "http://127.0.0.1/callback", true),
        ];
        for (client, uri, expected) in cases {
            assert_eq!(
                uri_is_registered(client, &client.redirect_uris, uri),
                expected,
                "{uri}"
            );
        }
    }

    #[test]
    fn max_age_against_the_authentication_time() {
        let session = BrowserSession {
            id: "ses_1".into(),
            user_id: "usr_1".into(),
            amr: "conn_email".into(),
            auth_time: 1_000,
            created_at: 1_000,
            last_seen_at: 1_000,
            absolute_expires_at: 99_999,
        };
        let cases = [
            (None, 1_000_000, false),
            (Some(300), 1_299, false),
            (Some(300), 1_300, true),
            (Some(300), 5_000, true),
            (Some(0), 1_000, true),
            (Some(i64::MAX), 5_000, false),
        ];
        for (max_age, now, stale) in cases {
            assert_eq!(
                too_old_for(&session, max_age, now),
                stale,
                "{max_age:?} {now}"
            );
        }
    }

    #[test]
    fn params_refuse_duplicates() {
        assert_eq!(parse_params(b"a=1&b=two+words").unwrap()["b"], "two words");
        assert!(parse_params(b"a=1&a=2").is_err());
        assert!(parse_params(b"=1").is_err());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            normalize_scope("openid  email openid").unwrap(),
            ["openid", "email"]
        );
        assert!(normalize_scope("openid admin").is_err());
    }

    #[test]
    fn redirect_keeps_custom_schemes() {
        let url = redirect_with(
            "dev.passkeys.desktop:/callback",
            &[("code", "a b"), ("state", "s")],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "dev.passkeys.desktop:/callback?code=a+b&state=s"
        );
    }
}
