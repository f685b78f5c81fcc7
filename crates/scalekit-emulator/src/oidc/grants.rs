//! The three grants of the token endpoint. Each runs its checks and writes
//! in one transaction; replays revoke the whole token family.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::claims::{sign_access_token, sign_id_token, IdTokenInput, Subject};
use super::normalize_scope;
use super::token::TokenResponse;
use crate::config::{ClientConfig, ClientKind};
use crate::db::{self, User};
use crate::error::{Error, Result};
use crate::secret::{
    constant_time_eq, random_token, sha256_hex, AccessToken, AuthorizationCode, RefreshToken,
};
use crate::state::AppState;

fn required<'p>(params: &'p HashMap<String, String>, name: &str) -> Result<&'p str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::InvalidRequest(format!("{name} is required")))
}

/// RFC 7636 §4.1 and §4.6: a well-formed verifier whose S256 is the challenge.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && constant_time_eq(&computed, challenge)
}

/// What a user grant needs to sign once the transaction committed.
struct UserGrant {
    user: User,
    session_id: String,
    amr: String,
    auth_time: i64,
    scope: String,
    jti: String,
    refresh_token: Option<RefreshToken>,
    nonce: Option<String>,
}

fn record_user_tokens(
    conn: &rusqlite::Connection,
    state_ttl: (i64, i64),
    family: &db::TokenFamily,
    user_id: &str,
    offline: bool,
) -> Result<(String, Option<RefreshToken>)> {
    let (access_ttl, refresh_ttl) = state_ttl;
    let now = db::now();
    let jti = db::new_id("tkn_");
    db::insert_access_token(
        conn,
        &jti,
        Some(&family.id),
        &family.client_id,
        Some(user_id),
        now + access_ttl,
    )?;
    let refresh = if offline {
        let token = RefreshToken::new(random_token(32));
        db::insert_refresh_token(
            conn,
            &sha256_hex(token.secret()),
            &family.id,
            now + refresh_ttl,
        )?;
        Some(token)
    } else {
        None
    };
    Ok((jti, refresh))
}

/// How and when the user of a session authenticated: from the browser
/// session, or (if its row is gone) `conn_email` and `fallback_auth_time`.
fn session_authentication(
    conn: &rusqlite::Connection,
    session_id: &str,
    fallback_auth_time: impl FnOnce() -> Result<i64>,
) -> Result<(String, i64)> {
    match db::browser_session_by_id(conn, session_id)? {
        Some(session) => Ok((session.amr, session.auth_time)),
        None => Ok(("conn_email".to_owned(), fallback_auth_time()?)),
    }
}

fn finish(
    state: &AppState,
    client: &ClientConfig,
    grant: UserGrant,
    code: Option<&str>,
) -> Result<TokenResponse> {
    let now = db::now();
    let subject = Subject {
        user: Some((&grant.user, &grant.session_id)),
        client_id: &client.id,
    };
    let access_token = AccessToken::new(sign_access_token(
        state,
        &subject,
        &grant.scope,
        &grant.jti,
        now,
        db::secs(state.config.access_token_ttl),
    )?);
    let id_token = if grant.scope.split(' ').any(|s| s == "openid") {
        let input = IdTokenInput {
            client_id: &client.id,
            session_id: &grant.session_id,
            amr: &grant.amr,
            auth_time: grant.auth_time,
            access_token: access_token.secret(),
            code,
            nonce: grant.nonce.as_deref(),
            scope: &grant.scope,
        };
        Some(sign_id_token(state, &grant.user, &input, now)?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        refresh_token: grant.refresh_token,
        id_token,
        expires_in: expires_in(state),
        token_type: "Bearer",
        scope: grant.scope,
    })
}

/// Scalekit reports one second less than the lifetime (299 for 5 minutes).
fn expires_in(state: &AppState) -> i64 {
    (db::secs(state.config.access_token_ttl) - 1).max(1)
}

fn ttls(state: &AppState) -> (i64, i64) {
    (
        db::secs(state.config.access_token_ttl),
        db::secs(state.config.refresh_token_ttl),
    )
}

/// `grant_type=authorization_code`.
pub(super) async fn authorization_code(
    state: &AppState,
    client: &ClientConfig,
    params: &HashMap<String, String>,
) -> Result<TokenResponse> {
    let code = AuthorizationCode::new(required(params, "code")?);
    let redirect_uri = required(params, "redirect_uri")?.to_owned();
    let verifier = params.get("code_verifier").cloned();
    let client_id = client.id.clone();
    let native = client.kind == ClientKind::Native;
    let ttl = ttls(state);
    let code_for_db = code.clone();
    let grant = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let hash = sha256_hex(code_for_db.secret());
            let row = db::auth_code_by_hash(&tx, &hash)?
                .filter(|row| row.client_id == client_id)
                .ok_or_else(|| Error::InvalidGrant("the authorization code is invalid".into()))?;
            if row.used_at.is_some() {
                db::revoke_token_family(&tx, &row.family_id, "authorization code replayed")?;
                tx.commit()?;
                return Err(Error::InvalidGrant(
                    "the authorization code was already used; tokens issued from it are revoked"
                        .into(),
                ));
            }
            if row.expires_at <= db::now() {
                return Err(Error::InvalidGrant(
                    "the authorization code has expired".into(),
                ));
            }
            if row.redirect_uri != redirect_uri {
                return Err(Error::InvalidGrant(
                    "redirect_uri does not match the authorization request".into(),
                ));
            }
            match (&row.code_challenge, &verifier) {
                (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
                (Some(_), Some(_)) => {
                    return Err(Error::InvalidGrant("PKCE verification failed".into()))
                }
                (Some(_), None) => {
                    return Err(Error::InvalidRequest("code_verifier is required".into()))
                }
                (None, _) if native => return Err(Error::InvalidGrant("PKCE is required".into())),
                (None, Some(_)) => {
                    return Err(Error::InvalidRequest("no code_challenge was sent".into()))
                }
                (None, None) => {}
            }
            if !db::mark_auth_code_used(&tx, &hash)? {
                return Err(Error::InvalidGrant(
                    "the authorization code was already used".into(),
                ));
            }
            let user = db::user_by_id(&tx, &row.user_id)?
                .ok_or_else(|| Error::InvalidGrant("the user no longer exists".into()))?;
            let family = db::TokenFamily {
                id: row.family_id.clone(),
                user_id: Some(user.id.clone()),
                client_id: row.client_id.clone(),
                session_id: Some(row.session_id.clone()),
                scope: row.scope.clone(),
                created_at: db::now(),
                revoked_at: None,
            };
            db::insert_token_family(&tx, &family)?;
            if !db::token_family_is_live(&tx, &family.id)? {
                return Err(Error::InvalidGrant(
                    "the sign-in session of this code has ended; sign in again".into(),
                ));
            }
            let offline = row.scope.split(' ').any(|s| s == "offline_access");
            let (jti, refresh_token) = record_user_tokens(&tx, ttl, &family, &user.id, offline)?;
            let (amr, _) = session_authentication(&tx, &row.session_id, || Ok(row.auth_time))?;
            tx.commit()?;
            Ok(UserGrant {
                user,
                session_id: row.session_id,
                amr,
                auth_time: row.auth_time,
                scope: row.scope,
                jti,
                refresh_token,
                nonce: row.nonce,
            })
        })
        .await?;
    finish(state, client, grant, Some(code.secret()))
}

/// `grant_type=refresh_token`, with rotation and reuse detection.
pub(super) async fn refresh_token(
    state: &AppState,
    client: &ClientConfig,
    params: &HashMap<String, String>,
) -> Result<TokenResponse> {
    let token = RefreshToken::new(required(params, "refresh_token")?);
    let requested_scope = params.get("scope").cloned();
    let client_id = client.id.clone();
    let ttl = ttls(state);
    let grant = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let invalid = || Error::InvalidGrant("the refresh token is invalid".into());
            let hash = sha256_hex(token.secret());
            let row = db::refresh_token_by_hash(&tx, &hash)?.ok_or_else(invalid)?;
            let family = db::token_family_by_id(&tx, &row.family_id)?
                .filter(|f| f.client_id == client_id)
                .ok_or_else(invalid)?;
            if row.used_at.is_some() {
                db::revoke_token_family(&tx, &family.id, "refresh token reused")?;
                tx.commit()?;
                return Err(Error::InvalidGrant(
                    "the refresh token was already used; the session's tokens are revoked".into(),
                ));
            }
            if !db::token_family_is_live(&tx, &family.id)? {
                return Err(Error::InvalidGrant(
                    "the refresh token was revoked, or its session has ended; sign in again".into(),
                ));
            }
            if row.expires_at <= db::now() {
                return Err(Error::InvalidGrant("the refresh token has expired".into()));
            }
            let scope = match requested_scope.as_deref() {
                None | Some("") => family.scope.clone(),
                Some(requested) => {
                    let granted: Vec<&str> = family.scope.split(' ').collect();
                    let asked = normalize_scope(requested)?;
                    if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                        return Err(Error::InvalidScope(format!(
                            "scope {extra} was not granted"
                        )));
                    }
                    asked.join(" ")
                }
            };
            if !db::mark_refresh_token_used(&tx, &hash)? {
                return Err(invalid());
            }
            let user_id = family.user_id.clone().ok_or_else(invalid)?;
            let user = db::user_by_id(&tx, &user_id)?
                .ok_or_else(|| Error::InvalidGrant("the user no longer exists".into()))?;
            let (jti, refresh_token) = record_user_tokens(&tx, ttl, &family, &user.id, true)?;
            let session_id = family.session_id.clone().unwrap_or_default();
            let (amr, auth_time) = session_authentication(&tx, &session_id, || {
                Ok(db::auth_time_of_family(&tx, &family.id)?.unwrap_or(family.created_at))
            })?;
            tx.commit()?;
            Ok(UserGrant {
                user,
                session_id,
                amr,
                auth_time,
                scope,
                jti,
                refresh_token,
                nonce: None,
            })
        })
        .await?;
    finish(state, client, grant, None)
}

/// How long a client-credentials token lives, and its `expires_in`: what
/// Scalekit answers (`86399`), whatever the user tokens' lifetime.
pub const CLIENT_CREDENTIALS_TTL_SECS: i64 = 86_399;

/// The scope of every client-credentials token, as Scalekit answers it.
const CLIENT_CREDENTIALS_SCOPE: &str = "openid";

/// `grant_type=client_credentials` (confidential clients only). Scalekit's
/// answer is exactly `{access_token, token_type: "Bearer", expires_in:
/// 86399, scope: "openid"}`, with scope `openid` even when none was asked
/// for; asking for any other scope is `invalid_scope`.
pub(super) async fn client_credentials(
    state: &AppState,
    client: &ClientConfig,
    params: &HashMap<String, String>,
) -> Result<TokenResponse> {
    if client.kind != ClientKind::Confidential {
        return Err(Error::UnauthorizedClient(
            "only confidential clients may use client credentials".into(),
        ));
    }
    if let Some(scope) = params.get("scope") {
        let scopes = normalize_scope(scope)?;
        if scopes.iter().any(|s| *s != CLIENT_CREDENTIALS_SCOPE) {
            return Err(Error::InvalidScope(
                "client credentials carry no user scopes".into(),
            ));
        }
    }
    let jti = db::new_id("tkn_");
    let now = db::now();
    let (recorded_jti, client_id) = (jti.clone(), client.id.clone());
    let expires_at = now.saturating_add(CLIENT_CREDENTIALS_TTL_SECS);
    state
        .db
        .call(move |c| {
            db::insert_access_token(c, &recorded_jti, None, &client_id, None, expires_at)
        })
        .await?;
    let subject = Subject {
        user: None,
        client_id: &client.id,
    };
    let access_token = sign_access_token(
        state,
        &subject,
        CLIENT_CREDENTIALS_SCOPE,
        &jti,
        now,
        CLIENT_CREDENTIALS_TTL_SECS,
    )?;
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        refresh_token: None,
        id_token: None,
        expires_in: CLIENT_CREDENTIALS_TTL_SECS,
        token_type: "Bearer",
        scope: CLIENT_CREDENTIALS_SCOPE.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(&format!("{verifier}!"), challenge));
    }
}
