//! Admin routes guarded by the admin token: the passkeys switch and key
//! rotation.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiErrorResponse, Error, Result};
use crate::secret::constant_time_eq;
use crate::state::AppState;

/// `GET/PUT /_admin/passkeys`, `POST /_admin/keys/rotate`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_admin/passkeys", get(get_passkeys).put(put_passkeys))
        .route("/_admin/keys/rotate", post(rotate_keys))
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let Some(expected) = &state.config.admin_token else {
        return Err(Error::Forbidden(
            "admin routes are disabled: no admin token is configured".into(),
        ));
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| Error::Unauthenticated("admin token required".into()))?;
    if constant_time_eq(given.trim(), expected.secret()) {
        Ok(())
    } else {
        Err(Error::Unauthenticated("wrong admin token".into()))
    }
}

async fn get_passkeys(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiErrorResponse> {
    authorize(&state, &headers)?;
    Ok(Json(json!({"enabled": state.passkeys_enabled()})))
}

#[derive(Deserialize)]
struct PasskeysSwitch {
    enabled: bool,
}

async fn put_passkeys(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiErrorResponse> {
    authorize(&state, &headers)?;
    let switch: PasskeysSwitch = serde_json::from_slice(&body)
        .map_err(|e| Error::InvalidRequest(format!("expected {{\"enabled\": true|false}}: {e}")))?;
    state.set_passkeys_enabled(switch.enabled).await?;
    Ok(Json(json!({"enabled": state.passkeys_enabled()})))
}

async fn rotate_keys(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiErrorResponse> {
    authorize(&state, &headers)?;
    let kid = state.keys.rotate().await?;
    Ok(Json(json!({"active_kid": kid})))
}
