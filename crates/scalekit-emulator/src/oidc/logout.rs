//! `/oidc/logout` (RP-initiated logout): ends the browser session, then
//! redirects only to a registered post-logout URI (with `state`), else shows
//! a signed-out page.
//!
//! A plain `GET` ends the session only when its `id_token_hint` is an ID
//! token this environment signed for that very session (`sid`): the app that
//! holds it is the one signing out. Any other `GET` that finds a live session
//! (a link on some web page, an image, a forged hint) gets a confirmation
//! page instead, whose form `POST`s back with a CSRF token bound to the
//! session (OpenID Connect RP-Initiated Logout 1.0 §2: "the OP SHOULD ask the
//! End-User whether to log out").

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::authorize::found;
use super::claims::IdClaims;
use super::{parse_form, parse_params, redirect_with, uri_is_registered};
use crate::db::{self, BrowserSession};
use crate::error::Result;
use crate::hosted::{csrf, pages};
use crate::state::AppState;

/// The parameters a confirmation form carries over to its `POST`.
const CARRIED: [&str; 3] = ["post_logout_redirect_uri", "state", "client_id"];

/// The verified ID-token hint, if any (its signature and issuer are checked;
/// expiry is not: a signed-out app may hold an expired one).
fn verified_hint(state: &AppState, params: &HashMap<String, String>) -> Option<IdClaims> {
    let hint = params.get("id_token_hint").filter(|h| !h.is_empty())?;
    state.keys.verify(hint, state.issuer(), false).ok()
}

/// The client a logout is for: `client_id`, else the ID-token hint's `azp`.
fn logout_client(params: &HashMap<String, String>, hint: Option<&IdClaims>) -> Option<String> {
    if let Some(id) = params.get("client_id").filter(|id| !id.is_empty()) {
        return Some(id.clone());
    }
    hint.map(|claims| claims.azp.clone())
}

/// `GET /oidc/logout`.
pub(super) async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let params = parse_params(query.unwrap_or_default().as_bytes())?;
    let hint = verified_hint(&state, &params);
    let client = logout_client(&params, hint.as_ref());
    let session = state.browser_session(&jar).await?;
    if let Some(session) = session.as_ref() {
        let for_this_session = hint.as_ref().is_some_and(|h| h.sid == session.id);
        if !for_this_session {
            return confirmation(&state, jar, session, &params, client.as_deref()).await;
        }
    }
    finish(&state, jar, session, &params, client).await
}

/// `POST /oidc/logout`: the confirmation page's form.
pub(super) async fn confirm_logout(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let params = parse_form(&headers, &body)?;
    let session = state.browser_session(&jar).await?;
    if let Some(session) = session.as_ref() {
        csrf::verify(
            &jar,
            &csrf::logout_flow(&session.id),
            params.get("csrf").map(String::as_str),
        )?;
    }
    let client = logout_client(&params, None);
    finish(&state, jar, session, &params, client).await
}

/// "Sign out of this environment?" for a live session.
async fn confirmation(
    state: &AppState,
    jar: CookieJar,
    session: &BrowserSession,
    params: &HashMap<String, String>,
    client: Option<&str>,
) -> Result<Response> {
    let user_id = session.user_id.clone();
    let email = state
        .db
        .call(move |c| db::user_by_id(c, &user_id))
        .await?
        .map(|user| user.email)
        .unwrap_or_default();
    let secure = state.base_url.scheme() == "https";
    let (jar, token) = csrf::issue(jar, &csrf::logout_flow(&session.id), secure);
    let mut carried: Vec<(&str, &str)> = CARRIED
        .iter()
        .filter(|name| **name != "client_id")
        .filter_map(|name| params.get(*name).map(|v| (*name, v.as_str())))
        .collect();
    if let Some(client) = client {
        carried.push(("client_id", client));
    }
    let body = pages::sign_out_page(&email, &token, &carried);
    Ok((jar, pages::html(StatusCode::OK, body)).into_response())
}

/// Ends `session` (if any), clears the cookie, and sends the browser to a
/// registered return address or the signed-out page.
async fn finish(
    state: &AppState,
    jar: CookieJar,
    session: Option<BrowserSession>,
    params: &HashMap<String, String>,
    client: Option<String>,
) -> Result<Response> {
    if let Some(session) = session {
        state
            .db
            .call(move |c| db::end_browser_session(c, &session.id))
            .await?;
    }
    let jar = jar.add(state.cleared_session_cookie());
    let Some(target) = params
        .get("post_logout_redirect_uri")
        .filter(|u| !u.is_empty())
    else {
        return Ok((jar, signed_out("You can close this window.")).into_response());
    };
    let client = client.and_then(|id| state.config.client(&id).cloned());
    let registered = client
        .as_ref()
        .is_some_and(|c| uri_is_registered(c, &c.post_logout_redirect_uris, target));
    if !registered {
        let note = "The app's return address is not registered, so you stay here. You can close this window.";
        return Ok((jar, signed_out(note)).into_response());
    }
    let mut extra = Vec::new();
    if let Some(client_state) = params.get("state") {
        extra.push(("state", client_state.as_str()));
    }
    let location = redirect_with(target, &extra)?;
    Ok((jar, found(location.as_str())).into_response())
}

fn signed_out(note: &str) -> Response {
    pages::html(StatusCode::OK, pages::signed_out_page(note))
}
