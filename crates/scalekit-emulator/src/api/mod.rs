//! The management REST API: the WebAuthn credentials
//! (`GET /api/v1/webauthn/credentials?user_id=`,
//! `PATCH|DELETE /api/v1/webauthn/credentials/{id}`) and sessions
//! (`GET /api/v1/sessions/{session_id}`,
//! `POST /api/v1/sessions/{session_id}/revoke`,
//! `GET /api/v1/users/{user_id}/sessions`,
//! `POST /api/v1/users/{user_id}/sessions/revoke`). Like Scalekit's, every route takes
//! only an environment client's client-credentials token; an end user's
//! access token is refused with 403 ([`authenticate_environment_client`]).
//! Errors use the grpc-gateway body ([`ApiErrorResponse`]); a request under
//! `/api/` that no route takes gets grpc-gateway's routing error
//! ([`routing_error`]). Bodies, routes and the display-name rule are the
//! wire contract's (`scalekit_wire`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use scalekit_wire::credential::{
    DeleteCredentialResponse, ListCredentialsResponse, UpdateCredentialResponse,
};
use scalekit_wire::status::RoutingError;
use scalekit_wire::{check_display_name_length, routes, DISPLAY_NAME_MAX_CHARS};
use serde::Deserialize;

use crate::db::{self, StoredPasskey};
use crate::error::{ApiErrorResponse, Error, Result};
use crate::oidc::authenticate_environment_client;
use crate::state::AppState;

pub mod credential;
pub mod sessions;

pub use credential::credential;
use credential::{all_accepted_credentials_options, unknown_credential_options};

/// Whether `path` is under the API (`/api` or `/api/…`), where a request
/// no route takes is answered as grpc-gateway does, not with a page.
pub fn is_api_path(path: &str) -> bool {
    path.strip_prefix("/api")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// grpc-gateway's answer to a request under the API that no route takes:
/// the [`RoutingError`] body with its code's HTTP status (404 for an
/// unknown path, 501 for a method the path does not take).
pub fn routing_error(error: RoutingError) -> Response {
    let status = StatusCode::from_u16(error.code().http_status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(error.body())).into_response()
}

/// The API's routes; a method a route does not take gets
/// [`RoutingError::MethodNotAllowed`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route(routes::CREDENTIALS_PATH, get(list))
        .route(routes::CREDENTIAL_PATH, patch(rename).delete(remove))
        .route(routes::SESSION_PATH, get(sessions::get_session))
        .route(
            routes::REVOKE_SESSION_PATH,
            post(sessions::revoke::revoke_session),
        )
        .route(
            routes::USER_SESSIONS_PATH,
            get(sessions::list::user_sessions),
        )
        .route(
            routes::REVOKE_USER_SESSIONS_PATH,
            post(sessions::revoke::revoke_all_user_sessions),
        )
        .method_not_allowed_fallback(|| async { routing_error(RoutingError::MethodNotAllowed) })
}

/// The user whose passkeys to list: `user_id` is required.
fn target_user(requested: Option<&str>) -> Result<String> {
    requested
        .map(str::to_owned)
        .ok_or_else(|| Error::Validation {
            field: "user_id".into(),
            description: "user_id is required".into(),
            constraint: "required".into(),
        })
}

/// Loads a passkey by its id.
fn existing_passkey(conn: &rusqlite::Connection, id: &str) -> Result<StoredPasskey> {
    db::passkey_by_id(conn, id)?.ok_or_else(|| Error::NotFound("credential not found".into()))
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<ListCredentialsResponse>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let params = crate::oidc::parse_params(query.unwrap_or_default().as_bytes())?;
    let requested = params
        .get(routes::USER_ID_PARAM)
        .map(String::as_str)
        .filter(|id| !id.is_empty());
    let user_id = target_user(requested)?;
    let rp_id = state.rp_id().to_owned();
    let body = state
        .db
        .call(move |conn| {
            let user = db::user_by_id(conn, &user_id)?
                .ok_or_else(|| Error::NotFound("user not found".into()))?;
            let passkeys = db::passkeys_for_user(conn, &user.id)?;
            Ok(ListCredentialsResponse {
                credentials: Some(passkeys.iter().map(credential).collect()),
                all_accepted_credentials_options: Some(all_accepted_credentials_options(
                    &rp_id,
                    &user.webauthn_handle,
                    &passkeys,
                )),
            })
        })
        .await?;
    Ok(Json(body))
}

#[derive(Deserialize)]
struct RenameBody {
    display_name: Option<String>,
}

/// Scalekit's rule ([`check_display_name_length`]) on the trimmed name.
fn validate_display_name(raw: Option<&str>) -> Result<String> {
    let name = raw.unwrap_or_default().trim();
    check_display_name_length(name).map_err(|error| Error::Validation {
        field: "display_name".into(),
        description: format!("display_name must be 1 to {DISPLAY_NAME_MAX_CHARS} characters"),
        constraint: error.constraint().unwrap_or("string.len").into(),
    })?;
    Ok(name.to_owned())
}

async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UpdateCredentialResponse>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let body = body.map_err(|r| crate::oidc::body_error(&r))?;
    let parsed: RenameBody = serde_json::from_slice(&body).map_err(|_| {
        Error::InvalidRequest("the body must be JSON like {\"display_name\":\"…\"}".into())
    })?;
    let name = validate_display_name(parsed.display_name.as_deref())?;
    let updated = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            existing_passkey(&tx, &id)?;
            let updated = db::rename_passkey(&tx, &id, &name)?
                .ok_or_else(|| Error::NotFound("credential not found".into()))?;
            tx.commit()?;
            Ok(updated)
        })
        .await?;
    Ok(Json(UpdateCredentialResponse {
        credential: Some(credential(&updated)),
    }))
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DeleteCredentialResponse>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let removed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let passkey = existing_passkey(&tx, &id)?;
            db::delete_passkey(&tx, &id)?;
            tx.commit()?;
            Ok(passkey)
        })
        .await?;
    Ok(Json(DeleteCredentialResponse {
        success: Some(true),
        unknown_credential_options: Some(unknown_credential_options(state.rp_id(), &removed)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_rules() {
        assert_eq!(validate_display_name(Some("  Laptop ")).unwrap(), "Laptop");
        assert_eq!(
            validate_display_name(Some(&"é".repeat(DISPLAY_NAME_MAX_CHARS)))
                .unwrap()
                .chars()
                .count(),
            DISPLAY_NAME_MAX_CHARS
        );
        let too_long = "a".repeat(DISPLAY_NAME_MAX_CHARS + 1);
        for bad in [None, Some(""), Some("   "), Some(too_long.as_str())] {
            assert!(
                matches!(validate_display_name(bad), Err(Error::Validation { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn api_paths() {
        for (path, api) in [
            ("/api", true),
            ("/api/", true),
            ("/api/v1/x", true),
            ("/apis", false),
            ("/ui/api/v1", false),
            ("/", false),
        ] {
            assert_eq!(is_api_path(path), api, "{path}");
        }
    }

    #[test]
    fn user_id_is_required() {
        assert_eq!(target_user(Some("usr_2")).unwrap(), "usr_2");
        assert!(matches!(target_user(None), Err(Error::Validation { .. })));
    }
}
