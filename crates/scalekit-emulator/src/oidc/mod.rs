//! The OpenID Connect provider.

use axum::Router;
use url::Url;

use crate::db::BrowserSession;
use crate::error::{Error, Result};
use crate::state::AppState;

/// The OIDC routes.
pub fn router() -> Router<AppState> {
    Router::new()
}

/// Finishes a pending `/oauth/authorize` request for a signed-in browser:
/// issues the code and returns the client redirect URL (with `code` and
/// `state`).
///
/// # Errors
/// [`Error::InvalidRequest`] for an unknown or expired request.
pub async fn complete_authorization(
    state: &AppState,
    auth_request_id: &str,
    session: &BrowserSession,
) -> Result<Url> {
    let _ = (state, auth_request_id, session);
    Err(Error::Internal("not implemented yet".into()))
}
