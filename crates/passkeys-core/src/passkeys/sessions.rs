//! The broker's sessions routes: the signed-in user's browser sessions
//! (`GET /api/v1/sessions`, Scalekit's `UserSessionDetails` shape) and
//! signing one out (`POST /api/v1/sessions/{id}/revoke`).

use reqwest::Method;
use scalekit_wire::routes;
use scalekit_wire::session::{
    SessionDetails, UserSessionDetails, UserSessionsQuery, SESSION_ACTIVE,
};
use serde::Serialize;
use serde_json::Value;

use super::{answer, not_a_base, unexpected_answer, validate_id, Asked, PasskeysApi};

/// Sessions asked for per page (Scalekit's list pages).
const PAGE_SIZE: u32 = 50;
/// Pages followed at most: nobody has hundreds of live sessions, and a
/// server that keeps answering with a next page must not loop the app.
const MAX_PAGES: usize = 10;
use crate::error::Result;
use crate::secret::{AccessToken, IdToken};

/// One place the person is signed in, as the window and the command line
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedInSession {
    /// The session id (`ses_…`).
    pub id: String,
    /// Whether it is the session this app signed in with.
    pub current: bool,
    /// `active`, `expired`, `revoked` or `logout`.
    pub status: String,
    /// The browser, e.g. "Chrome".
    pub browser: Option<String>,
    /// The operating system, e.g. "macOS".
    pub os: Option<String>,
    /// `desktop`, `mobile`, …
    pub device_type: Option<String>,
    /// Approximate place: "City, Region", from the IP address.
    pub location: Option<String>,
    /// When it began (RFC 3339).
    pub created_at: Option<String>,
    /// When it was last used (RFC 3339).
    pub last_active_at: Option<String>,
}

impl SignedInSession {
    /// The view of a `SessionDetails`; `None` without an id.
    pub(crate) fn from_wire(details: SessionDetails, current_id: Option<&str>) -> Option<Self> {
        let id = details.session_id.filter(|id| !id.is_empty())?;
        let device = details.device.unwrap_or_default();
        let location = device.location.and_then(|place| {
            let mut parts: Vec<String> = [place.city, place.region]
                .into_iter()
                .flatten()
                .map(|part| part.trim().to_owned())
                .filter(|part| !part.is_empty())
                .collect();
            // A city-state names itself twice ("Berlin, Berlin"): once is enough.
            parts.dedup();
            (!parts.is_empty()).then(|| parts.join(", "))
        });
        Some(SignedInSession {
            current: current_id == Some(id.as_str()),
            id,
            status: details.status.unwrap_or_else(|| "active".into()),
            browser: device.browser.filter(|b| !b.is_empty()),
            os: device.os.filter(|o| !o.is_empty()),
            device_type: device.device_type.filter(|d| !d.is_empty()),
            location,
            created_at: details.created_at,
            last_active_at: details.last_active_at,
        })
    }

    /// Whether it can still be used.
    pub fn is_active(&self) -> bool {
        self.status == SESSION_ACTIVE
    }
}

impl PasskeysApi {
    /// `GET /api/v1/sessions?filter.status=active`: the signed-in user's
    /// active sessions, every page of them (at most [`MAX_PAGES`]);
    /// `current_id` marks this app's.
    pub(crate) async fn list_sessions(
        &self,
        token: &AccessToken,
        current_id: Option<&str>,
    ) -> Result<Vec<SignedInSession>> {
        let mut query = UserSessionsQuery {
            page_size: Some(PAGE_SIZE),
            status: vec![SESSION_ACTIVE.to_owned()],
            ..UserSessionsQuery::default()
        };
        let route = routes::own_sessions_url(&self.base_url).map_err(not_a_base)?;
        let mut sessions = Vec::new();
        for _ in 0..MAX_PAGES {
            let mut url = route.clone();
            query.append_to(&mut url);
            let (status, bytes) = self.exchange(Method::GET, url, token, None).await?;
            answer(status, &bytes, Asked::Sessions, &route)?;
            let page = UserSessionDetails::from_json(&bytes).ok_or_else(unexpected_answer)?;
            let next = page.next_page_token.clone().filter(|t| !t.is_empty());
            sessions.extend(
                page.into_sessions()
                    .into_iter()
                    .filter_map(|details| SignedInSession::from_wire(details, current_id)),
            );
            match next {
                Some(next) => query.page_token = Some(next),
                None => break,
            }
        }
        Ok(sessions)
    }

    /// `POST /api/v1/sessions/{id}/revoke`, with the proof of a recent
    /// authentication ([`step_up`](scalekit_wire::step_up)).
    pub(crate) async fn revoke_session(
        &self,
        token: &AccessToken,
        proof: Option<&IdToken>,
        id: &str,
    ) -> Result<()> {
        validate_id(id)?;
        let url = routes::revoke_session_url(&self.base_url, id).map_err(not_a_base)?;
        let (status, bytes) = self
            .exchange_with_proof(
                Method::POST,
                url,
                token,
                proof,
                Some(Value::Object(Default::default())),
            )
            .await?;
        let route = routes::own_sessions_url(&self.base_url).map_err(not_a_base)?;
        answer(status, &bytes, Asked::Session, &route).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sessions_read_leniently_and_mark_the_current_one() {
        let body = json!({"sessions": [
            {"session_id": "ses_1", "status": "active", "device": {"browser": "Chrome", "os": "Linux",
             "device_type": "desktop", "location": {"city": "Berlin", "region": "Berlin"}},
             "last_active_at": "2026-12-04T10:00:00Z"},
            {"session_id": "ses_2", "status": "logout", "device": {"location": {"city": " "}}},
            {"status": "active"}
        ], "total_size": 3});
        let page = UserSessionDetails::from_value(&body).unwrap();
        let sessions: Vec<SignedInSession> = page
            .into_sessions()
            .into_iter()
            .filter_map(|d| SignedInSession::from_wire(d, Some("ses_2")))
            .collect();
        assert_eq!(sessions.len(), 2);
        assert_eq!(sessions[0].location.as_deref(), Some("Berlin"));
        assert!(sessions[0].is_active() && !sessions[0].current);
        assert!(sessions[1].current && !sessions[1].is_active());
        assert_eq!(sessions[1].location, None);
        assert!(UserSessionDetails::from_value(&json!({"sessions": "no"})).is_none());
    }
}
