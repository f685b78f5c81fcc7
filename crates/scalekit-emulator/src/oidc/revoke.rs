//! `POST /revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::claims::AccessClaims;
use super::client_auth::authenticate_client;
use super::parse_form;
use super::token::body_error;
use crate::config::ClientKind;
use crate::db;
use crate::error::{Error, OAuthError, Result};
use crate::secret::sha256_hex;
use crate::state::AppState;

fn token_param(params: &HashMap<String, String>) -> Result<String> {
    params
        .get("token")
        .filter(|t| !t.is_empty())
        .cloned()
        .ok_or_else(|| Error::InvalidRequest("token is required".into()))
}

/// Revokes a refresh token (and its whole family) or an access token.
/// Unknown tokens, and tokens of other clients, are answered 200 too.
pub(super) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let body = body.map_err(|r| body_error(&r))?;
    let params = parse_form(&headers, &body)?;
    let client = authenticate_client(&state, &headers, &params)?;
    let token = token_param(&params)?;
    let client_id = client.id.clone();
    // A JWT is an access token; anything else may be a refresh token.
    let access_jti = state
        .keys
        .verify::<AccessClaims>(&token, state.issuer(), false)
        .ok()
        .filter(|claims| claims.client_id == client_id)
        .map(|claims| claims.jti);
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if let Some(jti) = access_jti {
                db::revoke_access_token(&tx, &jti)?;
            } else if let Some(row) = db::refresh_token_by_hash(&tx, &sha256_hex(&token))? {
                let owned = db::token_family_by_id(&tx, &row.family_id)?
                    .is_some_and(|family| family.client_id == client_id);
                if owned {
                    db::revoke_token_family(&tx, &row.family_id, "revoked by the client")?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Says whether a token is active, and what it is for. Only a confidential
/// client may ask (RFC 7662 §2.1: the endpoint requires authorization, or
/// any local program could probe stolen or guessed tokens): a public
/// client's id alone is 401 `invalid_client`. Such a client is the
/// environment's own (a resource server), so it may introspect the tokens of
/// every client of the environment.
pub(super) async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, OAuthError> {
    let body = body.map_err(|r| body_error(&r))?;
    let params = parse_form(&headers, &body)?;
    let client = authenticate_client(&state, &headers, &params)?;
    if client.kind != ClientKind::Confidential {
        return Err(Error::InvalidClient(
            "introspection needs a confidential client's credentials \
             (client_secret_basic or client_secret_post)"
                .into(),
        )
        .into());
    }
    let token = token_param(&params)?;
    let inactive = json!({"active": false});
    if let Ok(claims) = state
        .keys
        .verify::<AccessClaims>(&token, state.issuer(), true)
    {
        let jti = claims.jti.clone();
        let live = state
            .db
            .call(move |c| db::access_token_is_live(c, &jti))
            .await?;
        if !live {
            return Ok(Json(inactive));
        }
        let mut body = serde_json::to_value(&claims).map_err(|e| Error::Internal(e.to_string()))?;
        body["active"] = json!(true);
        body["token_type"] = json!("Bearer");
        return Ok(Json(body));
    }
    let issuer = state.issuer().to_owned();
    let body = state
        .db
        .call(move |conn| {
            let Some(row) = db::refresh_token_by_hash(conn, &sha256_hex(&token))? else {
                return Ok(None);
            };
            let Some(family) = db::token_family_by_id(conn, &row.family_id)? else {
                return Ok(None);
            };
            let active = row.used_at.is_none()
                && row.expires_at > db::now()
                && db::token_family_is_live(conn, &family.id)?;
            Ok(active.then(|| {
                json!({
                    "active": true,
                    "token_type": "refresh_token",
                    "client_id": family.client_id,
                    "sub": family.user_id,
                    "scope": family.scope,
                    "iss": issuer,
                    "iat": row.created_at,
                    "exp": row.expires_at,
                })
            }))
        })
        .await?;
    Ok(Json(body.unwrap_or(inactive)))
}
