//! `GET|POST /userinfo`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::bearer::{authenticate_bearer, Principal};
use crate::db;
use crate::error::{Error, OAuthError};
use crate::state::AppState;

pub(super) async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, OAuthError> {
    let Principal::User { user_id, scope, .. } = authenticate_bearer(&state, &headers).await?
    else {
        return Err(Error::Unauthenticated("invalid token: not a user's token".into()).into());
    };
    let user = state
        .db
        .call(move |c| db::user_by_id(c, &user_id))
        .await?
        .ok_or_else(|| Error::Unauthenticated("invalid token: the user no longer exists".into()))?;
    let mut body = json!({
        "sub": user.id,
        "oid": user.organization_id,
        "email": user.email,
        "email_verified": user.email_verified,
    });
    if scope.split(' ').any(|s| s == "profile") {
        for (name, value) in [
            ("name", &user.name),
            ("given_name", &user.given_name),
            ("family_name", &user.family_name),
        ] {
            if let Some(value) = value {
                body[name] = json!(value);
            }
        }
    }
    Ok(Json(body))
}
