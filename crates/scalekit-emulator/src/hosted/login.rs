//! The sign-in page (`GET /ui/login`), "Continue as …" (for
//! `prompt=select_account`, and for every native client's request while the
//! browser is signed in: [`super::continue_page`]), and what every sign-in
//! method does once the user is authenticated: start the browser session and
//! continue the authorization request (or go to `next`).

use std::net::SocketAddr;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::continue_page::{continue_page, ContinuePage};
use super::forms::{non_empty, safe_next, secret_value, Form, PageError, SecretField};
use super::{csrf, pages};
use crate::config::ClientKind;
use crate::db::{self, BrowserSession, SessionDevice};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Where a sign-in goes when there is neither an authorization request nor `next`.
pub const DEFAULT_NEXT: &str = "/ui/profile/passkeys";

/// Query of `GET /ui/login`.
#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    auth_request: Option<String>,
    next: Option<String>,
    mode: Option<String>,
    /// `other`: "Use another account" was chosen.
    account: Option<String>,
}

/// What the sign-in page needs to know about the authorization request.
#[derive(Debug, Clone, Default)]
pub struct PendingRequest {
    /// `prompt` as sent to `/oauth/authorize`.
    pub prompt: Option<String>,
    /// `login_hint` as sent to `/oauth/authorize`.
    pub login_hint: Option<String>,
    /// `max_age` as sent to `/oauth/authorize`.
    pub max_age: Option<i64>,
    /// The requesting client's name, as registered.
    pub client_name: String,
    /// Where the code goes (the validated redirect URI).
    pub redirect_uri: String,
    /// Whether the client is native (public): it never gets a code from a
    /// live session or a magic link without the person's "Continue".
    pub native: bool,
}

impl PendingRequest {
    fn has_prompt(&self, value: &str) -> bool {
        self.prompt
            .as_deref()
            .is_some_and(|p| p.split(' ').any(|p| p == value))
    }

    /// Whether the request lets the user continue with `session` instead of
    /// signing in again: with `prompt=select_account` or for a native
    /// client, never with `prompt=login` or `prompt=create`, and only when
    /// the session is recent enough for `max_age`.
    fn may_continue_with(&self, session: &BrowserSession) -> bool {
        let offers_choice = self.native || self.has_prompt("select_account");
        let forces_login = self.has_prompt("login") || self.has_prompt("create");
        offers_choice
            && !forces_login
            && !crate::oidc::too_old_for(session, self.max_age, db::now())
    }
}

/// Loads a live authorization request.
///
/// # Errors
/// [`Error::InvalidRequest`] when it is unknown or expired (the user should
/// start again from the app).
pub async fn pending_request(state: &AppState, id: &str) -> Result<PendingRequest> {
    let id = id.to_owned();
    let found = state
        .db
        .call(move |c| db::auth_request_by_id(c, &id))
        .await?;
    match found {
        Some(request) if request.expires_at > db::now() => {
            let client = state.config.client(&request.client_id);
            Ok(PendingRequest {
                prompt: request.prompt,
                login_hint: request.login_hint,
                max_age: request.max_age,
                client_name: client.map(|c| c.name.clone()).unwrap_or_default(),
                redirect_uri: request.redirect_uri,
                native: client.is_none_or(|c| c.kind == ClientKind::Native),
            })
        }
        _ => Err(Error::InvalidRequest(
            "This sign-in request has expired or is unknown. Go back to the app and start again."
                .into(),
        )),
    }
}

/// `GET /ui/login`.
pub async fn page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let auth_request = non_empty(&query.auth_request);
    let next = safe_next(query.next.as_deref())?;
    let pending = match auth_request {
        Some(id) => Some(pending_request(&state, id).await?),
        None => None,
    };
    let secure = state.base_url.scheme() == "https";
    let session = state.browser_session(&jar).await?;

    if let (Some(id), Some(pending), Some(session)) = (auth_request, &pending, &session) {
        if pending.may_continue_with(session) && query.account.as_deref() != Some("other") {
            let user = user_of(&state, session).await?;
            let (jar, token) = csrf::issue(jar, &csrf::login_flow(Some(id)), secure);
            let body = continue_page(&ContinuePage {
                email: &user.email,
                client: &pending.client_name,
                redirect_uri: &pending.redirect_uri,
                auth_request: id,
                action: "/ui/login/continue",
                fields: &[("csrf", &token), ("auth_request", id)],
            });
            return Ok((jar, pages::html(StatusCode::OK, body)).into_response());
        }
    }
    if auth_request.is_none() && session.is_some() {
        // Already signed in and nothing to authorize: go where asked.
        return Ok(Redirect::to(next.as_deref().unwrap_or(DEFAULT_NEXT)).into_response());
    }

    let hint = pending
        .as_ref()
        .and_then(|p| p.login_hint.clone())
        .unwrap_or_default();
    let (jar, token) = csrf::issue(jar, &csrf::login_flow(auth_request), secure);
    let body = pages::login_page(&pages::LoginPage {
        auth_request,
        next: next.as_deref(),
        signup: query.mode.as_deref() == Some("signup"),
        email: &hint,
        csrf: &token,
        passkeys: state.passkeys_enabled(),
        error: None,
    });
    Ok((jar, pages::html(StatusCode::OK, body)).into_response())
}

/// Form of `POST /ui/login/continue`.
#[derive(Debug, Deserialize)]
pub struct ContinueForm {
    csrf: Option<SecretField>,
    auth_request: Option<String>,
}

/// `POST /ui/login/continue`: "Continue as <email>" with the current session
/// (its CSRF token ties it to this request and this browser).
pub async fn continue_as(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ContinueForm>,
) -> Result<Response, PageError> {
    let auth_request = non_empty(&form.auth_request)
        .ok_or_else(|| Error::InvalidRequest("The form is missing the sign-in request.".into()))?;
    csrf::verify(
        &jar,
        &csrf::login_flow(Some(auth_request)),
        secret_value(&form.csrf),
    )?;
    let pending = pending_request(&state, auth_request).await?;
    let session = state
        .browser_session(&jar)
        .await?
        .filter(|session| pending.may_continue_with(session));
    let Some(session) = session else {
        // No session, or the request asks for a fresh sign-in (`prompt=login`,
        // `max_age`): the sign-in form.
        let to = format!(
            "/ui/login?auth_request={}&account=other",
            pages::urlencode(auth_request)
        );
        return Ok(Redirect::to(&to).into_response());
    };
    let url = crate::oidc::complete_authorization(&state, auth_request, &session).await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// The user behind a session.
///
/// # Errors
/// [`Error::Unauthenticated`] if the user is gone; database errors.
pub async fn user_of(state: &AppState, session: &BrowserSession) -> Result<db::User> {
    let user_id = session.user_id.clone();
    state
        .db
        .call(move |c| db::user_by_id(c, &user_id))
        .await?
        .ok_or_else(|| Error::Unauthenticated("Your session has ended. Sign in again.".into()))
}

/// The browser a sign-in comes from: its `User-Agent` (cut to 512 bytes)
/// and the peer's address.
pub fn device_of(headers: &HeaderMap, peer: Option<SocketAddr>) -> SessionDevice {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|agent| crate::user_agent::parse(agent).raw)
        .filter(|agent| !agent.is_empty());
    SessionDevice {
        user_agent,
        ip: peer.map(|peer| peer.ip().to_canonical().to_string()),
    }
}

/// Starts a browser session for `user_id` on `device` (revoking the
/// browser's previous one) and returns the cookie jar to send and where to
/// go next: the client's redirect URI with a code, or `next`.
///
/// # Errors
/// Database errors, or an expired authorization request.
pub async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    user_id: &str,
    amr: &str,
    device: SessionDevice,
    auth_request: Option<&str>,
    next: Option<&str>,
) -> Result<(CookieJar, String)> {
    if let Some(previous) = state.browser_session(&jar).await? {
        state
            .db
            .call(move |c| db::revoke_browser_session(c, &previous.id))
            .await?;
    }
    let (session, cookie) = state
        .create_browser_session_from(user_id, amr, device)
        .await?;
    let jar = jar.add(cookie);
    let target = match auth_request {
        Some(id) => crate::oidc::complete_authorization(state, id, &session)
            .await?
            .to_string(),
        None => next.unwrap_or(DEFAULT_NEXT).to_owned(),
    };
    Ok((jar, target))
}
