//! The messages around [`SessionDetails`]: a user's sessions
//! (`GetUserSessions`), the query that pages and filters them, and the
//! answers of `RevokeSession` and `RevokeAllUserSessions`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SessionDetails;
use crate::lenient::{self, lenient};

/// `UserSessionDetails`, the answer to `GET /api/v1/users/{user_id}/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSessionDetails {
    /// One page of the user's sessions; entries that are not objects are
    /// dropped when reading.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub sessions: Option<Vec<SessionDetails>>,
    /// The `page_token` of the next page; absent or empty on the last page.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_page_token: Option<String>,
    /// The `page_token` of the previous page; absent or empty on the first.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub prev_page_token: Option<String>,
    /// How many sessions match the query, over all pages.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_size: Option<u32>,
}

impl UserSessionDetails {
    /// Reads a list body; `None` when it is not a JSON object or its
    /// `sessions` is present but not an array (absent or `null` reads as an
    /// empty list).
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|value| Self::from_value(&value))
    }

    /// [`UserSessionDetails::from_json`] for an already parsed body.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value.get("sessions") {
            None | Some(Value::Null | Value::Array(_)) => lenient::object(value.clone()),
            Some(_) => None,
        }
    }

    /// The sessions of this page (none when absent).
    pub fn into_sessions(self) -> Vec<SessionDetails> {
        self.sessions.unwrap_or_default()
    }
}

/// `RevokedSessionDetails`: a session as it stands once revoked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSessionDetails {
    /// The session id (`ses_…`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<String>,
    /// The user (`usr_…`).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    /// When it began (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<String>,
    /// When it last changed (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    /// When it would have ended if unused (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub idle_expires_at: Option<String>,
    /// When it would have ended however it was used (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub absolute_expires_at: Option<String>,
    /// When it was revoked (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub expired_at: Option<String>,
    /// When the user signed out, if they did before (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub logout_at: Option<String>,
    /// `revoked`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// When it was last used (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_active_at: Option<String>,
}

impl From<SessionDetails> for RevokedSessionDetails {
    /// The fields `RevokedSessionDetails` shares with `SessionDetails`.
    fn from(details: SessionDetails) -> Self {
        Self {
            session_id: details.session_id,
            user_id: details.user_id,
            created_at: details.created_at,
            updated_at: details.updated_at,
            idle_expires_at: details.idle_expires_at,
            absolute_expires_at: details.absolute_expires_at,
            expired_at: details.expired_at,
            logout_at: details.logout_at,
            status: details.status,
            last_active_at: details.last_active_at,
        }
    }
}

/// `RevokeSessionResponse`, the answer to
/// `POST /api/v1/sessions/{session_id}/revoke`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeSessionResponse {
    /// The session, now revoked.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_session: Option<RevokedSessionDetails>,
}

/// `RevokeAllUserSessionsResponse`, the answer to
/// `POST /api/v1/users/{user_id}/sessions/revoke`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeAllUserSessionsResponse {
    /// The sessions that were active and are now revoked.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub revoked_sessions: Option<Vec<RevokedSessionDetails>>,
    /// How many were revoked.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_revoked: Option<u32>,
}
