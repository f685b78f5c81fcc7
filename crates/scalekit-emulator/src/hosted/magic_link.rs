//! The emailed magic link, `/ui/magic?token=…` (single use).
//!
//! Whoever starts an authorization request chooses where its code goes (a
//! loopback port, with their own PKCE verifier) and can have the link mailed
//! to anyone. So for a native client's request the link does not sign in
//! and send the code at once, in whatever browser opens it: it shows
//! "Continue as <email> to <app>?" with where the code goes, as a live
//! session does, and only "Continue" (a form bound to this browser and this
//! link) uses the link, signs the browser in and issues the code. A link for
//! a confidential (web) client's request, or for no request, signs in at
//! once, as before.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::continue_page::{continue_page, ContinuePage};
use super::forms::{safe_next, secret_value, Form, PageError, SecretField};
use super::login::{device_of, pending_request, sign_in};
use super::registration::PeerAddr;
use super::store::{self, EmailChallenge};
use super::{csrf, pages};
use crate::db;
use crate::error::Error;
use crate::state::AppState;

/// Where the magic link's "Continue" posts.
const CONTINUE_ACTION: &str = "/ui/magic";

/// Query of `GET /ui/magic`.
#[derive(Debug, Deserialize)]
pub struct MagicQuery {
    token: Option<SecretField>,
    next: Option<String>,
}

/// Form of `POST /ui/magic`.
#[derive(Debug, Deserialize)]
pub struct MagicForm {
    csrf: Option<SecretField>,
    token: Option<SecretField>,
}

/// `GET /ui/magic?token=…`: "Continue as …" for a native client's request;
/// otherwise signs in with the link at once.
pub async fn open(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PeerAddr(peer): PeerAddr,
    Query(query): Query<MagicQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(query.next.as_deref())?;
    let token = link_token(&query.token)?;
    let challenge = open_challenge(&state, token).await?;
    if let Some(id) = challenge.auth_request_id.as_deref() {
        let pending = pending_request(&state, id).await?;
        if pending.native {
            let secure = state.base_url.scheme() == "https";
            let (jar, csrf) = csrf::issue(jar, &csrf::magic_flow(&challenge.id), secure);
            let body = continue_page(&ContinuePage {
                email: &challenge.email,
                client: &pending.client_name,
                redirect_uri: &pending.redirect_uri,
                auth_request: id,
                action: CONTINUE_ACTION,
                fields: &[("csrf", &csrf), ("token", token)],
            });
            return Ok((jar, pages::html(StatusCode::OK, body)).into_response());
        }
    }
    sign_in_with_link(&state, jar, &headers, peer, token, next.as_deref()).await
}

/// `POST /ui/magic`: "Continue" on a magic link's page: uses the link, signs
/// the browser in and sends it on with the code.
pub async fn continue_with(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PeerAddr(peer): PeerAddr,
    Form(form): Form<MagicForm>,
) -> Result<Response, PageError> {
    let token = link_token(&form.token)?;
    let challenge = open_challenge(&state, token).await?;
    csrf::verify(
        &jar,
        &csrf::magic_flow(&challenge.id),
        secret_value(&form.csrf),
    )?;
    sign_in_with_link(&state, jar, &headers, peer, token, None).await
}

/// The link's token: present and of a sane length.
fn link_token(field: &Option<SecretField>) -> Result<&str, Error> {
    secret_value(field)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| Error::InvalidRequest("This sign-in link is incomplete.".into()))
}

fn expired() -> Error {
    Error::InvalidRequest(
        "This sign-in link has expired or was already used. Request a new one.".into(),
    )
}

/// The open challenge of `token`, left unused.
async fn open_challenge(state: &AppState, token: &str) -> Result<EmailChallenge, Error> {
    let token = token.to_owned();
    state
        .db
        .call(move |c| store::open_magic_challenge(c, &token))
        .await?
        .ok_or_else(expired)
}

/// Uses the link (once), signs the browser in as its address and sends it on:
/// to the client with a code, or to `next`.
async fn sign_in_with_link(
    state: &AppState,
    jar: CookieJar,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    token: &str,
    next: Option<&str>,
) -> Result<Response, PageError> {
    let token = token.to_owned();
    let found = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let challenge = store::use_magic_token(&tx, &token)?;
            let user = match &challenge {
                Some(ch) => Some((
                    db::find_or_create_user_by_email(&tx, &ch.email)?,
                    ch.auth_request_id.clone(),
                )),
                None => None,
            };
            tx.commit()?;
            Ok(user)
        })
        .await?;
    let Some((user, auth_request)) = found else {
        return Err(expired().into());
    };
    let (jar, target) = sign_in(
        state,
        jar,
        &user.id,
        "conn_magiclink",
        device_of(headers, peer),
        auth_request.as_deref(),
        next,
    )
    .await?;
    Ok((jar, Redirect::to(&target)).into_response())
}
