//! `/.well-known/openid-configuration` and `/keys`.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::SUPPORTED_SCOPES;
use crate::state::AppState;

/// The discovery document.
pub(super) async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "issuer": state.issuer(),
        "authorization_endpoint": state.url("/oauth/authorize"),
        "token_endpoint": state.url("/oauth/token"),
        "jwks_uri": state.url("/keys"),
        "userinfo_endpoint": state.url("/userinfo"),
        "revocation_endpoint": state.url("/revoke"),
        "introspection_endpoint": state.url("/oauth/introspect"),
        "end_session_endpoint": state.url("/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SUPPORTED_SCOPES,
        "claims_supported": [
            "iss", "aud", "azp", "sub", "oid", "sid", "client_id", "exp", "iat", "auth_time", "at_hash", "c_hash",
            "amr", "email", "email_verified", "name", "given_name", "family_name", "nonce"
        ],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "prompt_values_supported": ["none", "login", "create", "select_account"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

/// The JWKS: every signing key that still verifies.
pub(super) async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.jwks())
}
