//! Ending sessions through the API: Scalekit's `RevokeSession`
//! (`POST /api/v1/sessions/{session_id}/revoke`, authentication type
//! `WORKSPACE_SESSION_CLIENT`, permission `sessions:revoke`) and
//! `RevokeAllUserSessions` (`POST /api/v1/users/{user_id}/sessions/revoke`,
//! `WORKSPACE_CLIENT`).
//!
//! A revoked session really ends: its status becomes `revoked` (with
//! `expired_at` the revocation time), its browser cookie stops working, and
//! so do the tokens issued in it (`db::token_family_is_live`, the rule of
//! every ended session): its refresh tokens are `invalid_grant` and its
//! access tokens are refused. Only an `active`
//! session can be revoked (Scalekit's descriptors: "only active sessions
//! can be revoked"); revoking one that already ended is `FAILED_PRECONDITION`
//! (400), the stricter reading of what Scalekit does not publish.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use scalekit_wire::session::{
    RevokeAllUserSessionsResponse, RevokeSessionResponse, RevokedSessionDetails,
};

use super::{details_of, idle_ttl, is_active};
use crate::db::{self, SessionRecord};
use crate::error::{ApiErrorResponse, Error, Result};
use crate::oidc::authenticate_environment_client;
use crate::state::AppState;

/// Revokes the active session `record` (and so its tokens); its details
/// after.
fn revoke(
    conn: &rusqlite::Connection,
    record: &SessionRecord,
    idle_ttl: i64,
) -> Result<RevokedSessionDetails> {
    let id = &record.session.id;
    db::revoke_browser_session(conn, id)?;
    let revoked = db::session_record_by_id(conn, id)?
        .ok_or_else(|| Error::Internal("a revoked session vanished".into()))?;
    Ok(details_of(conn, &revoked, idle_ttl, db::now())?.into())
}

/// `POST /api/v1/sessions/{session_id}/revoke`.
pub(in crate::api) async fn revoke_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Json<RevokeSessionResponse>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let idle_ttl = idle_ttl(&state);
    let revoked = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let record = db::session_record_by_id(&tx, &session_id)?
                .ok_or_else(|| Error::NotFound("session not found".into()))?;
            if !is_active(&record, idle_ttl, db::now()) {
                return Err(Error::FailedPrecondition(
                    "the session is not active: only an active session can be revoked".into(),
                ));
            }
            let revoked = revoke(&tx, &record, idle_ttl)?;
            tx.commit()?;
            Ok(revoked)
        })
        .await?;
    Ok(Json(RevokeSessionResponse {
        revoked_session: Some(revoked),
    }))
}

/// `POST /api/v1/users/{user_id}/sessions/revoke`: every active session of
/// the user; ended ones are left as they are and not listed.
pub(in crate::api) async fn revoke_all_user_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Json<RevokeAllUserSessionsResponse>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let idle_ttl = idle_ttl(&state);
    let revoked = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            db::user_by_id(&tx, &user_id)?
                .ok_or_else(|| Error::NotFound("user not found".into()))?;
            let now = db::now();
            let mut revoked = Vec::new();
            for record in db::session_records_for_user(&tx, &user_id)? {
                if is_active(&record, idle_ttl, now) {
                    revoked.push(revoke(&tx, &record, idle_ttl)?);
                }
            }
            tx.commit()?;
            Ok(revoked)
        })
        .await?;
    let total = u32::try_from(revoked.len()).ok().filter(|n| *n > 0);
    Ok(Json(RevokeAllUserSessionsResponse {
        revoked_sessions: Some(revoked),
        total_revoked: total,
    }))
}
