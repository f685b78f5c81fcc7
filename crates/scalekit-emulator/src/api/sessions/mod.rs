//! Scalekit's `scalekit.v1.sessions.SessionService`, on browser sessions:
//! `GetSession` (`GET /api/v1/sessions/{session_id}`, authentication type
//! `WORKSPACE_CLIENT`, permission `sessions:read`) here, `GetUserSessions`
//! in [`list`], `RevokeSession` and `RevokeAllUserSessions` in [`revoke`].
//! Every answer carries sessions as `SessionDetails` with proto field
//! names; empty values are left out, as grpc-gateway does; timestamps are
//! RFC 3339.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use scalekit_wire::session::{AuthenticatedClients, DeviceDetails, Location, SessionDetails};

use crate::db::{self, SessionDevice, SessionEnd, SessionRecord};
use crate::error::{ApiErrorResponse, Error, Result};
use crate::oidc::authenticate_environment_client;
use crate::state::AppState;

pub mod list;
pub mod revoke;

/// Where a session stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lifecycle {
    /// `active`, `expired`, `revoked` or `logout`.
    status: &'static str,
    /// When it ends if unused: the last use plus the idle lifetime, never
    /// after the absolute expiry.
    idle_expires_at: i64,
    /// When it expired (idle or absolute) or was revoked, if it did.
    expired_at: Option<i64>,
    /// When the user signed out, if they did.
    logout_at: Option<i64>,
}

/// The status of `record` at `now`, with an idle lifetime of `idle_ttl`
/// seconds. A session ended by sign-out is `logout`; one revoked (by the
/// sessions API, or because the browser signed in again) is `revoked`, with
/// `expired_at` the revocation time (Scalekit's descriptors: "set when the
/// session expires … or when administratively revoked"); otherwise it is
/// `expired` once idle or absolute expiry passed (the same rule the session
/// cookie follows).
fn lifecycle(record: &SessionRecord, idle_ttl: i64, now: i64) -> Lifecycle {
    let session = &record.session;
    let idle_expires_at = session
        .last_seen_at
        .saturating_add(idle_ttl)
        .min(session.absolute_expires_at);
    let mut state = Lifecycle {
        status: "active",
        idle_expires_at,
        expired_at: None,
        logout_at: None,
    };
    match (record.ended_at, record.end) {
        (Some(at), Some(SessionEnd::Revoked)) => {
            state.status = "revoked";
            state.expired_at = Some(at);
        }
        (Some(at), _) => {
            state.status = "logout";
            state.logout_at = Some(at);
        }
        (None, _) if idle_expires_at <= now => {
            state.status = "expired";
            state.expired_at = Some(idle_expires_at);
        }
        (None, _) => {}
    }
    state
}

/// `Some(value)` unless it is empty (grpc-gateway leaves empty strings out).
fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// `DeviceDetails` from the stored `User-Agent` and peer address; `None`
/// when nothing is known.
fn device_details(device: &SessionDevice) -> Option<DeviceDetails> {
    let mut details = DeviceDetails::default();
    if let Some(header) = device.user_agent.as_deref().filter(|h| !h.is_empty()) {
        let info = crate::user_agent::parse(header);
        details.user_agent = non_empty(&info.raw);
        details.os = non_empty(&info.os);
        details.os_version = non_empty(&info.os_version);
        details.browser = non_empty(&info.browser);
        details.browser_version = non_empty(&info.browser_version);
        details.device_type = non_empty(&info.device_type);
    }
    if let Some(ip) = device.ip.as_deref().filter(|ip| !ip.is_empty()) {
        details.ip = non_empty(ip);
        // No geolocation offline; a loopback peer is "Local", as in the
        // credentials' `client_info`.
        if ip.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) {
            details.location = Some(Location {
                region: non_empty("Local"),
                city: non_empty("Local"),
                ..Location::default()
            });
        }
    }
    (details != DeviceDetails::default()).then_some(details)
}

/// `SessionDetails` for `record` at `now`.
fn session_details(
    record: &SessionRecord,
    organization_id: Option<&str>,
    client_ids: &[String],
    idle_ttl: i64,
    now: i64,
) -> SessionDetails {
    let session = &record.session;
    let state = lifecycle(record, idle_ttl, now);
    let organization_id = organization_id.unwrap_or_default();
    let updated_at = record.ended_at.map_or(session.last_seen_at, |ended| {
        ended.max(session.last_seen_at)
    });
    let time = |at: i64| Some(db::rfc3339(at));
    SessionDetails {
        session_id: non_empty(&session.id),
        user_id: non_empty(&session.user_id),
        authenticated_organizations: non_empty(organization_id).map(|org| vec![org]),
        organization_id: non_empty(organization_id),
        created_at: time(session.created_at),
        updated_at: time(updated_at),
        idle_expires_at: time(state.idle_expires_at),
        absolute_expires_at: time(session.absolute_expires_at),
        expired_at: state.expired_at.and_then(time),
        logout_at: state.logout_at.and_then(time),
        status: non_empty(state.status),
        device: device_details(&record.device),
        last_active_at: time(session.last_seen_at),
        authenticated_clients: (!client_ids.is_empty()).then(|| {
            client_ids
                .iter()
                .map(|client_id| AuthenticatedClients {
                    client_id: non_empty(client_id),
                    organization_id: non_empty(organization_id),
                })
                .collect()
        }),
    }
}

/// Whether `record` is `active` at `now`: the only state in which it can be
/// revoked.
fn is_active(record: &SessionRecord, idle_ttl: i64, now: i64) -> bool {
    lifecycle(record, idle_ttl, now).status == scalekit_wire::session::SESSION_ACTIVE
}

/// The `SessionDetails` of `record` as stored, at `now`: its user's
/// organization and the clients issued tokens in it are read from `conn`.
///
/// # Errors
/// Database errors.
fn details_of(
    conn: &rusqlite::Connection,
    record: &SessionRecord,
    idle_ttl: i64,
    now: i64,
) -> Result<SessionDetails> {
    let organization =
        db::user_by_id(conn, &record.session.user_id)?.map(|user| user.organization_id);
    let clients = db::session_client_ids(conn, &record.session.id)?;
    Ok(session_details(
        record,
        organization.as_deref(),
        &clients,
        idle_ttl,
        now,
    ))
}

/// The idle lifetime of sessions, in seconds.
fn idle_ttl(state: &AppState) -> i64 {
    db::secs(state.config.session_idle_ttl)
}

/// `GET /api/v1/sessions/{session_id}`.
pub(super) async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Json<SessionDetails>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let idle_ttl = idle_ttl(&state);
    let found = state
        .db
        .call(move |c| {
            db::session_record_by_id(c, &session_id)?
                .map(|record| details_of(c, &record, idle_ttl, db::now()))
                .transpose()
        })
        .await?;
    Ok(Json(found.ok_or_else(|| {
        Error::NotFound("session not found".into())
    })?))
}

#[cfg(test)]
mod tests;
