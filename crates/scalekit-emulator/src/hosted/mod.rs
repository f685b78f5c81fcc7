//! Hosted pages: login, dev mailbox, `/ui/profile/passkeys` (owned by the
//! hosted-pages work; this is a placeholder router).

use axum::Router;

use crate::state::AppState;

/// The hosted pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
