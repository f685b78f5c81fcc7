//! The WebAuthn credentials REST API (`/api/v1/webauthn/credentials…`).

use axum::Router;

use crate::state::AppState;

/// The API's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
