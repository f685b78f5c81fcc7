//! `GET /oidc/logout`: ends the browser session, then redirects only to a
//! registered post-logout URI (with `state`), else shows a signed-out page.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::authorize::found;
use super::claims::IdClaims;
use super::{parse_params, redirect_with, uri_is_registered};
use crate::db;
use crate::error::Result;
use crate::state::AppState;

/// The client a logout is for: `client_id`, else the ID-token hint's
/// audience (its signature is checked; expiry is not).
fn logout_client(state: &AppState, params: &HashMap<String, String>) -> Option<String> {
    if let Some(id) = params.get("client_id").filter(|id| !id.is_empty()) {
        return Some(id.clone());
    }
    let hint = params.get("id_token_hint")?;
    let claims: IdClaims = state.keys.verify(hint, state.issuer(), false).ok()?;
    Some(claims.azp)
}

fn signed_out_page(note: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem\">\
         <h1>You are signed out</h1><p id=\"signed-out\">{}</p></body></html>",
        html_escape::encode_text(note)
    );
    (StatusCode::OK, Html(page)).into_response()
}

pub(super) async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let params = parse_params(query.unwrap_or_default().as_bytes())?;
    if let Some(session) = state.browser_session(&jar).await? {
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
        return Ok((jar, signed_out_page("You can close this window.")).into_response());
    };
    let client = logout_client(&state, &params).and_then(|id| state.config.client(&id).cloned());
    let registered = client
        .as_ref()
        .is_some_and(|c| uri_is_registered(c, &c.post_logout_redirect_uris, target));
    if !registered {
        let note = "The app's return address is not registered, so you stay here. You can close this window.";
        return Ok((jar, signed_out_page(note)).into_response());
    }
    let mut extra = Vec::new();
    if let Some(client_state) = params.get("state") {
        extra.push(("state", client_state.as_str()));
    }
    let location = redirect_with(target, &extra)?;
    Ok((jar, found(location.as_str())).into_response())
}
