//! The sessions API's bodies (`scalekit.v1.sessions`): `SessionDetails`,
//! the answer to `GET /api/v1/sessions/{session_id}` (`GetSession`), and
//! the messages of `GetUserSessions`, `RevokeSession` and
//! `RevokeAllUserSessions` ([`UserSessionDetails`], [`UserSessionsQuery`],
//! [`RevokeSessionResponse`], [`RevokeAllUserSessionsResponse`]).

use serde::{Deserialize, Serialize};

use crate::lenient::{self, lenient};

mod bodies;
mod query;

pub use bodies::{
    RevokeAllUserSessionsResponse, RevokeSessionResponse, RevokedSessionDetails, UserSessionDetails,
};
pub use query::UserSessionsQuery;

/// `SessionDetails`: one browser session of a user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDetails {
    /// The session id (`ses_…`, a token's `sid`).
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
    /// The organizations the session signed in to.
    #[serde(
        default,
        deserialize_with = "lenient::strings",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub authenticated_organizations: Option<Vec<String>>,
    /// The current organization.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_id: Option<String>,
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
    /// When it ends if unused (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub idle_expires_at: Option<String>,
    /// When it ends however it is used (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub absolute_expires_at: Option<String>,
    /// When it expired, if it did (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub expired_at: Option<String>,
    /// When the user signed out, if they did (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub logout_at: Option<String>,
    /// `active`, `expired`, `revoked` or `logout` (see [`SessionDetails::is_active`]).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// The browser and place.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device: Option<DeviceDetails>,
    /// When it was last used (RFC 3339).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_active_at: Option<String>,
    /// The clients that obtained tokens in it.
    #[serde(
        default,
        deserialize_with = "lenient::objects",
        skip_serializing_if = "crate::omit::no_items"
    )]
    pub authenticated_clients: Option<Vec<AuthenticatedClients>>,
}

/// The `status` of a live session.
pub const SESSION_ACTIVE: &str = "active";
/// The `status` of a session ended by `RevokeSession` or
/// `RevokeAllUserSessions` (or ended by the environment).
pub const SESSION_REVOKED: &str = "revoked";
/// The `status` of a session the user signed out of.
pub const SESSION_LOGOUT: &str = "logout";
/// The `status` of a session past its idle or absolute expiry.
pub const SESSION_EXPIRED: &str = "expired";
/// Every `status` a session can have.
pub const SESSION_STATUSES: [&str; 4] = [
    SESSION_ACTIVE,
    SESSION_EXPIRED,
    SESSION_REVOKED,
    SESSION_LOGOUT,
];

impl SessionDetails {
    /// Whether the session is `active`.
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some(SESSION_ACTIVE)
    }
}

/// `DeviceDetails`: the browser a session runs in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDetails {
    /// The `User-Agent` header.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<String>,
    /// Operating system.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os: Option<String>,
    /// Operating system version.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Browser name.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser: Option<String>,
    /// Browser version.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub browser_version: Option<String>,
    /// `desktop`, `mobile`, …
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub device_type: Option<String>,
    /// The client's IP address.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip: Option<String>,
    /// Where the IP address is.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub location: Option<Location>,
}

/// `Location`, from an IP address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Region.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    /// Region subdivision.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub region_subdivision: Option<String>,
    /// City.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub city: Option<String>,
    /// Latitude (a string in Scalekit's message).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub latitude: Option<String>,
    /// Longitude (a string in Scalekit's message).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub longitude: Option<String>,
}

/// `AuthenticatedClients`: one client that obtained tokens in a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatedClients {
    /// The client id.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    /// The organization it signed in to.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_id: Option<String>,
}

impl SessionDetails {
    /// Reads a `GetSession` answer; `None` when it is not a JSON object.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        lenient::body(bytes)
    }
}
