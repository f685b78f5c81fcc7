//! The WebAuthn credentials REST API:
//! `GET /api/v1/webauthn/credentials[?user_id=]`,
//! `PATCH|DELETE /api/v1/webauthn/credentials/{id}`. Errors use the
//! grpc-gateway body ([`ApiError`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::db::{self, StoredPasskey};
use crate::error::{ApiError, Error, Result};
use crate::oidc::{authenticate_bearer, Principal};
use crate::state::AppState;

pub mod credential;

pub use credential::credential_json;
use credential::{credential_id_base64url, user_handle_base64url};

/// The most characters a display name may have (after trimming).
pub const DISPLAY_NAME_MAX_CHARS: usize = 120;

/// The API's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webauthn/credentials", get(list))
        .route(
            "/api/v1/webauthn/credentials/{id}",
            patch(rename).delete(remove),
        )
}

/// The user whose passkeys a request may list.
fn target_user(principal: &Principal, requested: Option<&str>) -> Result<String> {
    match (principal, requested) {
        (Principal::User { user_id, .. }, None) => Ok(user_id.clone()),
        (Principal::User { user_id, .. }, Some(asked)) if asked == user_id => Ok(user_id.clone()),
        (Principal::User { .. }, Some(_)) => Err(Error::Forbidden(
            "a user's token can only list that user's passkeys".into(),
        )),
        (Principal::Client { .. }, Some(asked)) => Ok(asked.to_owned()),
        (Principal::Client { .. }, None) => Err(Error::Validation {
            field: "user_id".into(),
            description: "user_id is required with a client token".into(),
            constraint: "required".into(),
        }),
    }
}

/// Loads a passkey the principal may act on.
fn owned_passkey(
    conn: &rusqlite::Connection,
    principal: &Principal,
    id: &str,
) -> Result<StoredPasskey> {
    let passkey = db::passkey_by_id(conn, id)?
        .ok_or_else(|| Error::NotFound("credential not found".into()))?;
    match principal {
        Principal::User { user_id, .. } if *user_id != passkey.user_id => Err(Error::Forbidden(
            "this credential belongs to another user".into(),
        )),
        _ => Ok(passkey),
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate_bearer(&state, &headers).await?;
    let params = crate::oidc::parse_params(query.unwrap_or_default().as_bytes())?;
    let requested = params
        .get("user_id")
        .map(String::as_str)
        .filter(|id| !id.is_empty());
    let user_id = target_user(&principal, requested)?;
    let rp_id = state.rp_id().to_owned();
    let body = state
        .db
        .call(move |conn| {
            let user = db::user_by_id(conn, &user_id)?
                .ok_or_else(|| Error::NotFound("user not found".into()))?;
            let passkeys = db::passkeys_for_user(conn, &user.id)?;
            let ids: Vec<String> = passkeys
                .iter()
                .map(|p| credential_id_base64url(&p.credential_id))
                .collect();
            Ok(json!({
                "credentials": passkeys.iter().map(credential_json).collect::<Vec<_>>(),
                "all_accepted_credentials_options": {
                    "rp_id": rp_id,
                    "user_id": user_handle_base64url(&user.webauthn_handle),
                    "all_accepted_credential_ids": ids,
                },
            }))
        })
        .await?;
    Ok(Json(body))
}

#[derive(Deserialize)]
struct RenameBody {
    display_name: Option<String>,
}

fn validate_display_name(raw: Option<&str>) -> Result<String> {
    let name = raw.unwrap_or_default().trim();
    let chars = name.chars().count();
    if chars == 0 || chars > DISPLAY_NAME_MAX_CHARS {
        return Err(Error::Validation {
            field: "display_name".into(),
            description: format!("display_name must be 1 to {DISPLAY_NAME_MAX_CHARS} characters"),
            constraint: if chars == 0 {
                "string.min_len"
            } else {
                "string.max_len"
            }
            .into(),
        });
    }
    Ok(name.to_owned())
}

async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate_bearer(&state, &headers).await?;
    let body = body.map_err(|r| crate::oidc::body_error(&r))?;
    let parsed: RenameBody = serde_json::from_slice(&body).map_err(|_| {
        Error::InvalidRequest("the body must be JSON like {\"display_name\":\"…\"}".into())
    })?;
    let name = validate_display_name(parsed.display_name.as_deref())?;
    let updated = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            owned_passkey(&tx, &principal, &id)?;
            let updated = db::rename_passkey(&tx, &id, &name)?
                .ok_or_else(|| Error::NotFound("credential not found".into()))?;
            tx.commit()?;
            Ok(updated)
        })
        .await?;
    Ok(Json(json!({"credential": credential_json(&updated)})))
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let principal = authenticate_bearer(&state, &headers).await?;
    let removed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let passkey = owned_passkey(&tx, &principal, &id)?;
            db::delete_passkey(&tx, &id)?;
            tx.commit()?;
            Ok(passkey)
        })
        .await?;
    Ok(Json(json!({
        "success": true,
        "unknown_credential_options": {
            "rp_id": state.rp_id(),
            "credential_id": credential_id_base64url(&removed.credential_id),
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_rules() {
        assert_eq!(validate_display_name(Some("  Laptop ")).unwrap(), "Laptop");
        assert_eq!(
            validate_display_name(Some(&"é".repeat(120)))
                .unwrap()
                .chars()
                .count(),
            120
        );
        for bad in [None, Some(""), Some("   "), Some(&"a".repeat(121) as &str)] {
            assert!(
                matches!(validate_display_name(bad), Err(Error::Validation { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn who_may_list_what() {
        let user = Principal::User {
            user_id: "usr_1".into(),
            client_id: "c".into(),
            scope: String::new(),
        };
        let client = Principal::Client {
            client_id: "skc".into(),
        };
        assert_eq!(target_user(&user, None).unwrap(), "usr_1");
        assert_eq!(target_user(&user, Some("usr_1")).unwrap(), "usr_1");
        assert!(matches!(
            target_user(&user, Some("usr_2")),
            Err(Error::Forbidden(_))
        ));
        assert_eq!(target_user(&client, Some("usr_2")).unwrap(), "usr_2");
        assert!(matches!(
            target_user(&client, None),
            Err(Error::Validation { .. })
        ));
    }
}
