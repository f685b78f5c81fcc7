//! `POST /oauth/token`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::client_auth::authenticate_client;
use super::{grants, parse_form};
use crate::error::{Error, OAuthError, Result};
use crate::secret::{AccessToken, RefreshToken};
use crate::state::AppState;

/// The successful token response (no `Debug`: it holds secrets).
#[derive(Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: AccessToken,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub expires_in: i64,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// Maps a body-reading failure: 413 for an oversized body.
pub(crate) fn body_error(rejection: &BytesRejection) -> Error {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::InvalidRequest("the request body could not be read".into())
    }
}

pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, OAuthError> {
    let body = body.map_err(|r| body_error(&r))?;
    let params = parse_form(&headers, &body)?;
    let grant_type = params
        .get("grant_type")
        .cloned()
        .ok_or_else(|| Error::InvalidRequest("grant_type is required".into()))?;
    let client = authenticate_client(&state, &headers, &params)?;
    let response = match grant_type.as_str() {
        "authorization_code" => grants::authorization_code(&state, client, &params).await?,
        "refresh_token" => grants::refresh_token(&state, client, &params).await?,
        "client_credentials" => grants::client_credentials(&state, client, &params).await?,
        other => {
            return Err(
                Error::UnsupportedGrantType(format!("grant type {other} is not supported")).into(),
            )
        }
    };
    Ok(response)
}
