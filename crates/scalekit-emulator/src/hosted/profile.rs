//! `/ui/profile/passkeys`: the signed-in user's passkeys, with rename and
//! remove as small same-origin JSON endpoints (session cookie + CSRF header).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json as AxumJson;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde_json::{json, Value};

use super::forms::{valid_display_name, Json, JsonError, PageError};
use super::login::user_of;
use super::{csrf, pages, profile_page};
use crate::api::credential::{all_accepted_credentials_options, unknown_credential_options};
use crate::db::{self, BrowserSession, User};
use crate::error::{Error, Result};
use crate::state::AppState;
use scalekit_wire::credential::DeleteCredentialResponse;

/// The page's own path (also the `next` of its sign-in detour).
pub const PROFILE_PATH: &str = "/ui/profile/passkeys";

/// A 302 redirect.
pub fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// `GET /ui/profile/passkeys`.
pub async fn page(State(state): State<AppState>, jar: CookieJar) -> Result<Response, PageError> {
    let Some(session) = state.browser_session(&jar).await? else {
        let to = format!("/ui/login?next={}", pages::urlencode(PROFILE_PATH));
        return Ok(found(&to));
    };
    let user = user_of(&state, &session).await?;
    let user_id = user.id.clone();
    let passkeys = state
        .db
        .call(move |c| db::passkeys_for_user(c, &user_id))
        .await?;
    let secure = state.base_url.scheme() == "https";
    let (jar, token) = csrf::issue(jar, &csrf::profile_flow(&session.id), secure);
    let (jar, logout_token) = csrf::issue(jar, &csrf::logout_flow(&session.id), secure);
    let accepted =
        all_accepted_credentials_options(state.rp_id(), &user.webauthn_handle, &passkeys);
    let body = profile_page::render(
        &user.email,
        &passkeys,
        &accepted,
        &token,
        &logout_token,
        state.passkeys_enabled(),
    );
    Ok((jar, pages::html(StatusCode::OK, body)).into_response())
}

/// The session and user behind a JSON request, after checking its CSRF header.
///
/// # Errors
/// [`Error::Unauthenticated`] without a live session, [`Error::Forbidden`]
/// without a valid CSRF token.
pub async fn signed_in(
    state: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
) -> Result<(BrowserSession, User)> {
    let session = state.browser_session(jar).await?.ok_or_else(|| {
        Error::Unauthenticated("You are signed out. Reload the page to sign in again.".into())
    })?;
    csrf::verify(
        jar,
        &csrf::profile_flow(&session.id),
        csrf::header_token(headers),
    )?;
    let user = user_of(state, &session).await?;
    Ok((session, user))
}

/// A passkey of this user, or 404 (also for someone else's).
async fn own_passkey(state: &AppState, user: &User, id: String) -> Result<db::StoredPasskey> {
    let found = state.db.call(move |c| db::passkey_by_id(c, &id)).await?;
    found
        .filter(|p| p.user_id == user.id)
        .ok_or_else(|| Error::NotFound("No such passkey.".into()))
}

/// Body of the rename endpoint.
#[derive(Debug, Deserialize)]
pub struct RenameBody {
    display_name: String,
}

/// `PATCH /ui/profile/passkeys/{id}` `{"display_name"}` (1 to 120 characters).
pub async fn rename(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RenameBody>,
) -> Result<AxumJson<Value>, JsonError> {
    let (_, user) = signed_in(&state, &jar, &headers).await?;
    let name = valid_display_name(&body.display_name)?;
    let passkey = own_passkey(&state, &user, id).await?;
    let renamed = state
        .db
        .call(move |c| db::rename_passkey(c, &passkey.id, &name))
        .await?
        .ok_or_else(|| Error::NotFound("No such passkey.".into()))?;
    Ok(AxumJson(
        json!({"passkey": {"id": renamed.id, "display_name": renamed.display_name}}),
    ))
}

/// `DELETE /ui/profile/passkeys/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<AxumJson<Value>, JsonError> {
    let (_, user) = signed_in(&state, &jar, &headers).await?;
    let passkey = own_passkey(&state, &user, id).await?;
    let id = passkey.id.clone();
    state.db.call(move |c| db::delete_passkey(c, &id)).await?;
    // As Scalekit's DeleteCredential answers: the page tells the browser
    // with WebAuthn's signalUnknownCredential.
    let answer = DeleteCredentialResponse {
        success: Some(true),
        unknown_credential_options: Some(unknown_credential_options(state.rp_id(), &passkey)),
    };
    Ok(AxumJson(
        serde_json::to_value(answer).map_err(|e| Error::Internal(e.to_string()))?,
    ))
}
