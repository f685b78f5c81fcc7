//! Scalekit's sessions API (`scalekit.v1.sessions.SessionService`), as the
//! broker's confidential client: `GetSession`, `GetUserSessions` and
//! `RevokeSession`.

use axum::http::Method;
use scalekit_wire::routes;
use scalekit_wire::session::{
    RevokeSessionResponse, SessionDetails, UserSessionDetails, UserSessionsQuery,
};

use super::{config_error, typed, unreadable, Upstream};
use crate::error::{Error, Result};

impl Upstream {
    /// `GET /api/v1/sessions/{session_id}` (Scalekit's `GetSession`, which
    /// takes an environment client's token): the session's details, or
    /// `None` when the environment does not know the session (its API's
    /// 404 `NOT_FOUND` body).
    ///
    /// # Errors
    /// [`Error::UnsupportedEnvironment`] for a 404 that is not the API's
    /// (a bare page: the environment has no sessions API); other upstream
    /// errors, mapped to the broker's error shape.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionDetails>> {
        let url = routes::session_url(&self.api_base, session_id).map_err(config_error)?;
        match self.call(Method::GET, url, None).await {
            Ok(details) => typed(details).map(Some),
            Err(Error::UpstreamRejected {
                status: 404,
                api_answered: true,
                ..
            }) => Ok(None),
            Err(Error::UpstreamRejected {
                status: 404,
                api_answered: false,
                ..
            }) => Err(no_sessions_api(&self.api_base)),
            Err(other) => Err(other),
        }
    }

    /// Whether the environment has Scalekit's sessions API: `GetSession` for
    /// an id no session has answers the API's own body (its 404, or any
    /// other error of the API).
    ///
    /// # Errors
    /// [`Error::UnsupportedEnvironment`] when the route is not there; upstream
    /// errors when the environment cannot answer.
    pub async fn check_sessions_api(&self) -> Result<()> {
        match self.session("ses_passkeys_broker_readiness_probe").await {
            Ok(_)
            | Err(Error::UpstreamRejected {
                api_answered: true, ..
            }) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// `GET /api/v1/users/{user_id}/sessions` with `query` (Scalekit's
    /// `GetUserSessions`): one page of the user's sessions.
    ///
    /// # Errors
    /// Upstream errors, mapped to the broker's error shape; an answer that
    /// is not a `UserSessionDetails` object is [`Error::UpstreamBadResponse`].
    pub async fn user_sessions(
        &self,
        user_id: &str,
        query: &UserSessionsQuery,
    ) -> Result<UserSessionDetails> {
        let mut url = routes::user_sessions_url(&self.api_base, user_id).map_err(config_error)?;
        query.append_to(&mut url);
        let answer = self.call(Method::GET, url, None).await?;
        UserSessionDetails::from_value(&answer).ok_or_else(unreadable)
    }

    /// `POST /api/v1/sessions/{session_id}/revoke` (Scalekit's `RevokeSession`).
    ///
    /// # Errors
    /// Upstream errors, mapped to the broker's error shape.
    pub async fn revoke_session(&self, session_id: &str) -> Result<RevokeSessionResponse> {
        let url = routes::revoke_session_url(&self.api_base, session_id).map_err(config_error)?;
        typed(self.call(Method::POST, url, None).await?)
    }
}

/// The environment at `api_base` answered `GetSession`'s route with a page
/// that is not its API's: it has no Scalekit sessions API.
fn no_sessions_api(api_base: &url::Url) -> Error {
    Error::UnsupportedEnvironment {
        problem: format!(
            "{api_base} has no Scalekit sessions API (GET /api/v1/sessions/{{id}} answered a bare 404), \
             so the broker cannot tell whether a sign-in is still live"
        ),
        fix: "set upstream_api_url (or environment_url) to a Scalekit environment".into(),
    }
}
