//! The caller's own sessions ("Where you're signed in"):
//! `GET /api/v1/sessions` lists them and
//! `POST /api/v1/sessions/{session_id}/revoke` signs one out.
//!
//! Scalekit's `GetUserSessions` and `RevokeSession` take an environment
//! client's token, like the credentials API; the broker calls them with its
//! own, for the user named by the caller's token only. The list answers
//! Scalekit's `UserSessionDetails` (paged and filtered by the same query as
//! `GetUserSessions`: `page_size`, `page_token`, `filter.status`,
//! `filter.start_time`, `filter.end_time`); a revocation answers
//! `RevokeSessionResponse`. A session that is someone else's, or nobody's,
//! is 404 `NOT_FOUND` (as an unknown passkey is) and nothing is revoked.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use scalekit_wire::session::{RevokeSessionResponse, UserSessionDetails, UserSessionsQuery};

use super::{respond, AppState, Broker, RequestId};
use crate::auth::Caller;
use crate::error::{Error, Result};

impl Broker {
    /// One page of the caller's sessions as the environment lists them,
    /// minus any that name another user (defence in depth); `sessions` is
    /// always there, `[]` when none match.
    async fn own_sessions(
        &self,
        caller: &Caller,
        query: &UserSessionsQuery,
    ) -> Result<UserSessionDetails> {
        let mut page = self.upstream.user_sessions(&caller.user_id, query).await?;
        page.sessions
            .get_or_insert_with(Vec::new)
            .retain(|session| match session.user_id.as_deref() {
                Some(owner) if !owner.is_empty() => owner == caller.user_id,
                _ => false,
            });
        Ok(page)
    }

    /// Fails with [`Error::SessionNotFound`] unless the environment says
    /// `session_id` is the caller's; the same answer whether it is someone
    /// else's or does not exist (or is not a session id at all).
    async fn ensure_session_owned(&self, caller: &Caller, session_id: &str) -> Result<()> {
        match self.upstream.session(session_id).await {
            Ok(Some(details)) if details.user_id.as_deref() == Some(caller.user_id.as_str()) => {
                Ok(())
            }
            Ok(_) | Err(Error::UpstreamRejected { status: 400, .. }) => Err(Error::SessionNotFound),
            Err(other) => Err(other),
        }
    }
}

/// `GET /api/v1/sessions`.
pub(super) async fn list_sessions(
    State(broker): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let caller = broker.admit(&headers).await?;
        let query = UserSessionsQuery::from_query(query.as_deref().unwrap_or_default()).map_err(
            |error| Error::InvalidArgument {
                message: error.to_string(),
                field: Some("page_size".into()),
            },
        )?;
        broker.own_sessions(&caller, &query).await
    }
    .await;
    respond(&request_id, result)
}

/// `POST /api/v1/sessions/{session_id}/revoke`.
pub(super) async fn revoke_session(
    State(broker): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result: Result<RevokeSessionResponse> = async {
        let caller = broker.admit_recently_authenticated(&headers).await?;
        broker.ensure_session_owned(&caller, &session_id).await?;
        let revoked = broker.upstream.revoke_session(&session_id).await?;
        broker.sessions.mark_ended(&caller, &session_id);
        Ok(revoked)
    }
    .await;
    respond(&request_id, result)
}
