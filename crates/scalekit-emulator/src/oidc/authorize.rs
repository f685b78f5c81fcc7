//! `GET /oauth/authorize`. Client and redirect URI problems show an error
//! page (never a redirect); other problems go back to the client as
//! `?error=…&state=…`. A signed-in browser gets a confidential client's code
//! at once (unless `prompt` asks for a login, or the session authenticated
//! longer ago than `max_age` seconds). A native (public) client never gets a
//! code without an interaction (RFC 8252 §8.6: any local program can send
//! its client id with any loopback port): with a live session the hosted
//! page asks "Continue as <email> to <client>?", and `prompt=none` answers
//! `interaction_required`. Otherwise the request is stored and the browser
//! goes to the hosted login page.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use url::Url;

use super::{
    issue_code, normalize_scope, parse_params, redirect_with, too_old_for, uri_is_registered,
};
use crate::config::ClientKind;
use crate::db::{self, AuthRequest};
use crate::error::{Error, Result};
use crate::state::AppState;

/// How long the user has to sign in.
const AUTH_REQUEST_TTL_SECS: i64 = 30 * 60;

pub(crate) fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// A redirect back to the client with an OAuth error (and `iss`, RFC 9207).
fn error_redirect(
    issuer: &str,
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Result<Response> {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    Ok(found(redirect_with(redirect_uri, &params)?.as_str()))
}

/// OIDC `max_age`: a non-negative integer number of seconds (values past
/// `i64::MAX` mean "no limit" in practice and are clamped).
fn parse_max_age(raw: &str) -> std::result::Result<i64, String> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err("max_age must be a non-negative integer number of seconds".into());
    }
    Ok(raw.parse::<i64>().unwrap_or(i64::MAX))
}

/// Checks everything that may be sent back to the client as an error.
fn validate_request(
    params: &HashMap<String, String>,
    native: bool,
) -> std::result::Result<AuthRequest, String> {
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    match get("response_type").as_deref() {
        Some("code") => {}
        Some(other) => return Err(format!("response_type {other} is not supported; use code")),
        None => return Err("response_type is required".into()),
    }
    let scope = get("scope").ok_or("scope is required")?;
    let scopes = normalize_scope(&scope).map_err(|e| e.to_string())?;
    if !scopes.contains(&"openid") {
        return Err("the openid scope is required".into());
    }
    let challenge = get("code_challenge");
    let method = get("code_challenge_method");
    match (&challenge, method.as_deref()) {
        (None, _) if native => return Err("code_challenge is required (PKCE S256)".into()),
        (None, Some(_)) => return Err("code_challenge_method without code_challenge".into()),
        (None, None) => {}
        (Some(_), Some("S256")) => {}
        (Some(_), _) => return Err("code_challenge_method must be S256".into()),
    }
    if let Some(challenge) = &challenge {
        let valid = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err("code_challenge must be the base64url SHA-256 of the verifier".into());
        }
    }
    let prompt = get("prompt");
    if let Some(prompt) = &prompt {
        let values: Vec<&str> = prompt.split(' ').filter(|p| !p.is_empty()).collect();
        if values.iter().any(|p| {
            !matches!(
                *p,
                "none" | "login" | "create" | "select_account" | "consent"
            )
        }) {
            return Err(format!("prompt {prompt} is not supported"));
        }
        if values.contains(&"none") && values.len() > 1 {
            return Err("prompt=none cannot be combined with other values".into());
        }
    }
    let max_age = get("max_age").as_deref().map(parse_max_age).transpose()?;
    let now = db::now();
    Ok(AuthRequest {
        id: db::new_id("arq_"),
        client_id: String::new(),
        redirect_uri: String::new(),
        scope: scopes.join(" "),
        state: get("state"),
        nonce: get("nonce"),
        code_challenge: challenge,
        code_challenge_method: method,
        prompt,
        login_hint: get("login_hint"),
        max_age,
        created_at: now,
        expires_at: now + AUTH_REQUEST_TTL_SECS,
    })
}

fn has_prompt(request: &AuthRequest, value: &str) -> bool {
    request
        .prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

pub(super) async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let params = parse_params(query.unwrap_or_default().as_bytes())?;
    let client_id = params
        .get("client_id")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::InvalidRequest("The sign-in link is missing client_id.".into()))?;
    let client = state
        .config
        .client(client_id)
        .ok_or_else(|| Error::InvalidRequest("The sign-in link names an unknown client.".into()))?;
    let redirect_uri = params
        .get("redirect_uri")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::InvalidRequest("The sign-in link is missing redirect_uri.".into()))?;
    if !uri_is_registered(client, &client.redirect_uris, redirect_uri)
        || Url::parse(redirect_uri).is_err()
    {
        return Err(Error::InvalidRequest(
            "The redirect URI in the sign-in link is not registered for this client.".into(),
        ));
    }
    let mut request = match validate_request(&params, client.kind == ClientKind::Native) {
        Ok(request) => request,
        Err(description) => {
            let client_state = params.get("state").map(String::as_str);
            return error_redirect(
                state.issuer(),
                redirect_uri,
                "invalid_request",
                &description,
                client_state,
            );
        }
    };
    request.client_id = client.id.clone();
    request.redirect_uri = redirect_uri.clone();

    let wants_login = ["login", "create", "select_account"]
        .iter()
        .any(|p| has_prompt(&request, p));
    if !wants_login {
        let session = state.browser_session(&jar).await?;
        if let Some(session) = session.filter(|s| !too_old_for(s, request.max_age, db::now())) {
            if client.kind != ClientKind::Native {
                return Ok(found(
                    issue_code(&state, &request, &session).await?.as_str(),
                ));
            }
            if has_prompt(&request, "none") {
                return error_redirect(
                    state.issuer(),
                    redirect_uri,
                    "interaction_required",
                    "the user must confirm in the browser before this app gets a code",
                    request.state.as_deref(),
                );
            }
        }
    }
    if has_prompt(&request, "none") {
        return error_redirect(
            state.issuer(),
            redirect_uri,
            "login_required",
            "the user is not signed in",
            request.state.as_deref(),
        );
    }
    let signup = has_prompt(&request, "create");
    let id = request.id.clone();
    state
        .db
        .call(move |c| db::insert_auth_request(c, &request))
        .await?;
    let mut login =
        Url::parse(&state.url("/ui/login")).map_err(|e| Error::Internal(e.to_string()))?;
    login.query_pairs_mut().append_pair("auth_request", &id);
    if signup {
        login.query_pairs_mut().append_pair("mode", "signup");
    }
    Ok(found(login.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn request_validation() {
        let good = [
            ("response_type", "code"),
            ("scope", "openid email"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        assert!(validate_request(&params(&good), true).is_ok());
        let bad: [&[(&str, &str)]; 7] = [
            &[
                ("response_type", "token"),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            &[
                ("response_type", "code"),
                ("scope", "email"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            &[
                ("response_type", "code"),
                ("scope", "openid admin"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
            &[("response_type", "code"), ("scope", "openid")],
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
            ],
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", "short"),
                ("code_challenge_method", "S256"),
            ],
            &[
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("prompt", "none login"),
            ],
        ];
        for case in bad {
            assert!(validate_request(&params(case), true).is_err(), "{case:?}");
        }
        assert!(validate_request(
            &params(&[("response_type", "code"), ("scope", "openid")]),
            false
        )
        .is_ok());
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        let with = |max_age: &str| {
            validate_request(
                &params(&[
                    ("response_type", "code"),
                    ("scope", "openid"),
                    ("max_age", max_age),
                ]),
                false,
            )
            .map(|r| r.max_age)
        };
        assert_eq!(with("300"), Ok(Some(300)));
        assert_eq!(with("0"), Ok(Some(0)));
        assert_eq!(with(""), Ok(None));
        assert_eq!(with("99999999999999999999999"), Ok(Some(i64::MAX)));
        for bad in ["-1", "1.5", "+5", " 5", "five", "5s"] {
            assert!(with(bad).is_err(), "{bad}");
        }
    }
}
