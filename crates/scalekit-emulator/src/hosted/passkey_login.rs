//! "Continue with Passkey": discoverable-credential sign-in (also used by the
//! page's conditional-UI autofill). Two JSON endpoints, both behind the sign-in
//! page's CSRF token and the passkeys switch.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PublicKeyCredential,
};

use super::ceremony::{self, webauthn_error};
use super::csrf;
use super::forms::{non_empty, safe_next, Json, JsonError};
use super::login::{device_of, pending_request, sign_in};
use super::registration::PeerAddr;
use crate::db;
use crate::error::Error;
use crate::state::AppState;

const KIND: &str = "authentication";

/// Body of `POST /ui/login/passkey/start`.
#[derive(Debug, Deserialize, Default)]
pub struct StartBody {
    auth_request: Option<String>,
}

/// Refuses when passkeys are switched off for the environment.
pub fn require_passkeys(state: &AppState) -> Result<(), Error> {
    if state.passkeys_enabled() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Passkeys are turned off for this environment.".into(),
        ))
    }
}

/// Checks a passkey sign-in call: the sign-in page's CSRF token for this
/// sign-in request, then the passkeys switch.
fn allow_passkey_call(
    state: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
    auth_request: Option<&str>,
) -> Result<(), Error> {
    csrf::verify(
        jar,
        &csrf::login_flow(auth_request),
        csrf::header_token(headers),
    )?;
    require_passkeys(state)
}

/// `POST /ui/login/passkey/start` → `{"ceremony", "options"}` (the options for
/// `navigator.credentials.get`).
pub async fn start(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Result<Response, JsonError> {
    let auth_request = non_empty(&body.auth_request);
    allow_passkey_call(&state, &jar, &headers, auth_request)?;
    let (options, authentication) = state
        .webauthn
        .start_discoverable_authentication()
        .map_err(webauthn_error)?;
    let options = ceremony::authentication_options(&options)?;
    let id = ceremony::save(&state, KIND, None, &authentication).await?;
    Ok(axum::Json(json!({"ceremony": id, "options": options})).into_response())
}

/// Body of `POST /ui/login/passkey/finish`.
#[derive(Debug, Deserialize)]
pub struct FinishBody {
    ceremony: String,
    credential: PublicKeyCredential,
    auth_request: Option<String>,
    next: Option<String>,
}

/// `POST /ui/login/passkey/finish` → `{"redirect"}` with the session cookie set.
pub async fn finish(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    PeerAddr(peer): PeerAddr,
    Json(body): Json<FinishBody>,
) -> Result<Response, JsonError> {
    let auth_request = non_empty(&body.auth_request);
    allow_passkey_call(&state, &jar, &headers, auth_request)?;
    let next = safe_next(body.next.as_deref())?;
    if let Some(id) = auth_request {
        pending_request(&state, id).await?;
    }
    let (_, authentication): (_, DiscoverableAuthentication) =
        ceremony::take(&state, KIND, &body.ceremony).await?;

    let unknown = || {
        Error::Unauthenticated(
            "This passkey is not registered here. Sign in with your email instead.".into(),
        )
    };
    let (handle, _) = state
        .webauthn
        .identify_discoverable_authentication(&body.credential)
        .map_err(|_| unknown())?;
    let user = state
        .db
        .call(move |c| db::user_by_webauthn_handle(c, &handle))
        .await?
        .ok_or_else(unknown)?;
    let user_id = user.id.clone();
    let stored = state
        .db
        .call(move |c| db::passkeys_for_user(c, &user_id))
        .await?;
    let mut passkeys = Vec::with_capacity(stored.len());
    for row in stored {
        let passkey: Passkey = serde_json::from_str(&row.passkey_json).map_err(|e| {
            Error::Internal(format!("stored passkey {} does not parse: {e}", row.id))
        })?;
        passkeys.push((row.id, passkey));
    }
    let keys: Vec<DiscoverableKey> = passkeys
        .iter()
        .map(|(_, p)| DiscoverableKey::from(p))
        .collect();
    let result = state
        .webauthn
        .finish_discoverable_authentication(&body.credential, authentication, &keys)
        .map_err(|e| match e {
            webauthn_rs::prelude::WebauthnError::CredentialNotFound => unknown(),
            other => webauthn_error(other),
        })?;

    // Keep the signature counter and backup state current.
    for (id, mut passkey) in passkeys {
        if passkey.update_credential(&result) == Some(true) {
            let json = serde_json::to_string(&passkey)
                .map_err(|e| Error::Internal(format!("cannot serialise passkey: {e}")))?;
            let backup_state = result.backup_state();
            state
                .db
                .call(move |c| db::update_passkey_json(c, &id, &json, backup_state))
                .await?;
        }
    }

    let (jar, target) = sign_in(
        &state,
        jar,
        &user.id,
        "conn_passkey",
        device_of(&headers, peer),
        auth_request,
        next.as_deref(),
    )
    .await?;
    Ok((jar, axum::Json(json!({"redirect": target}))).into_response())
}
