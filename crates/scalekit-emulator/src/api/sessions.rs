//! `GET /api/v1/sessions/{session_id}`: Scalekit's `GetSession`
//! (`scalekit.v1.sessions.SessionService`, authentication type
//! `WORKSPACE_CLIENT`, permission `sessions:read`), answering the
//! `SessionDetails` of a browser session with proto field names. Empty
//! values are left out, as grpc-gateway does; timestamps are RFC 3339.

use std::net::IpAddr;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use scalekit_wire::session::{AuthenticatedClients, DeviceDetails, Location, SessionDetails};

use crate::db::{self, SessionDevice, SessionEnd, SessionRecord};
use crate::error::{ApiErrorResponse, Error};
use crate::oidc::authenticate_environment_client;
use crate::state::AppState;

/// Where a session stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lifecycle {
    /// `active`, `expired`, `revoked` or `logout`.
    status: &'static str,
    /// When it ends if unused: the last use plus the idle lifetime, never
    /// after the absolute expiry.
    idle_expires_at: i64,
    /// When it expired (idle or absolute), if it did.
    expired_at: Option<i64>,
    /// When the user signed out, if they did.
    logout_at: Option<i64>,
}

/// The status of `record` at `now`, with an idle lifetime of `idle_ttl`
/// seconds. A session ended by sign-out is `logout`; one ended because the
/// browser signed in again is `revoked`; otherwise it is `expired` once idle
/// or absolute expiry passed (the same rule the session cookie follows).
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
        (Some(_), Some(SessionEnd::Revoked)) => state.status = "revoked",
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

/// `GET /api/v1/sessions/{session_id}`.
pub(super) async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Json<SessionDetails>, ApiErrorResponse> {
    authenticate_environment_client(&state, &headers).await?;
    let found = state
        .db
        .call(move |c| {
            let Some(record) = db::session_record_by_id(c, &session_id)? else {
                return Ok(None);
            };
            let organization =
                db::user_by_id(c, &record.session.user_id)?.map(|user| user.organization_id);
            let clients = db::session_client_ids(c, &record.session.id)?;
            Ok(Some((record, organization, clients)))
        })
        .await?;
    let (record, organization, clients) =
        found.ok_or_else(|| Error::NotFound("session not found".into()))?;
    let idle_ttl = db::secs(state.config.session_idle_ttl);
    Ok(Json(session_details(
        &record,
        organization.as_deref(),
        &clients,
        idle_ttl,
        db::now(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::BrowserSession;
    use serde_json::json;

    const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    fn record(ended_at: Option<i64>, end: Option<SessionEnd>) -> SessionRecord {
        SessionRecord {
            session: BrowserSession {
                id: "ses_1".into(),
                user_id: "usr_1".into(),
                amr: "conn_email".into(),
                auth_time: 1_000,
                created_at: 1_000,
                last_seen_at: 2_000,
                absolute_expires_at: 10_000,
            },
            ended_at,
            end,
            device: SessionDevice {
                user_agent: Some(CHROME.into()),
                ip: Some("127.0.0.1".into()),
            },
        }
    }

    #[test]
    fn status_by_how_and_when_the_session_ended() {
        let idle = 500;
        let cases = [
            // (ended, how, now) -> (status, expired_at, logout_at)
            (None, None, 2_400, ("active", None, None)),
            (None, None, 2_500, ("expired", Some(2_500), None)),
            (
                Some(2_100),
                Some(SessionEnd::Logout),
                2_200,
                ("logout", None, Some(2_100)),
            ),
            (Some(2_100), None, 9_000, ("logout", None, Some(2_100))),
            (
                Some(2_100),
                Some(SessionEnd::Revoked),
                2_200,
                ("revoked", None, None),
            ),
        ];
        for (ended, end, now, (status, expired_at, logout_at)) in cases {
            let state = lifecycle(&record(ended, end), idle, now);
            assert_eq!(state.status, status, "{ended:?} {end:?} at {now}");
            assert_eq!(state.expired_at, expired_at, "{ended:?} {end:?} at {now}");
            assert_eq!(state.logout_at, logout_at, "{ended:?} {end:?} at {now}");
            assert_eq!(state.idle_expires_at, 2_500);
        }
        // Past the absolute expiry, however recently it was used.
        let mut late = record(None, None);
        late.session.last_seen_at = 9_900;
        let state = lifecycle(&late, idle, 10_000);
        assert_eq!(state.status, "expired");
        assert_eq!(state.expired_at, Some(10_000));
        assert_eq!(state.idle_expires_at, 10_000);
    }

    #[test]
    fn every_answer_reads_back_as_the_wire_contract() {
        // Written with the wire types, read back by the same lenient types:
        // nothing outside Scalekit's `SessionDetails` (the fixtures checked
        // against its SDK hold every field) and nothing lost.
        let clients = ["ntvc_demo".to_owned(), "skc_demo".to_owned()];
        for (ended, end, now) in [
            (None, None, 2_400),
            (None, None, 2_600),
            (Some(2_100), Some(SessionEnd::Logout), 2_200),
            (Some(2_100), Some(SessionEnd::Revoked), 2_200),
        ] {
            let details = session_details(&record(ended, end), Some("org_1"), &clients, 500, now);
            let text = serde_json::to_string(&details).unwrap();
            assert_eq!(SessionDetails::from_json(text.as_bytes()), Some(details));
        }
    }

    #[test]
    fn details_of_a_live_session() {
        let value = session_details(
            &record(None, None),
            Some("org_1"),
            &["ntvc_demo".to_owned()],
            500,
            2_400,
        );
        assert_eq!(
            serde_json::to_value(value).unwrap(),
            json!({
                "session_id": "ses_1",
                "user_id": "usr_1",
                "authenticated_organizations": ["org_1"],
                "organization_id": "org_1",
                "created_at": "1970-01-01T00:16:40Z",
                "updated_at": "1970-01-01T00:33:20Z",
                "idle_expires_at": "1970-01-01T00:41:40Z",
                "absolute_expires_at": "1970-01-01T02:46:40Z",
                "status": "active",
                "device": {
                    "user_agent": CHROME,
                    "os": "Linux",
                    "browser": "Chrome",
                    "browser_version": "131.0.0.0",
                    "device_type": "desktop",
                    "ip": "127.0.0.1",
                    "location": {"region": "Local", "city": "Local"},
                },
                "last_active_at": "1970-01-01T00:33:20Z",
                "authenticated_clients": [{"client_id": "ntvc_demo", "organization_id": "org_1"}],
            })
        );
    }

    #[test]
    fn no_device_and_no_clients_are_left_out() {
        let mut bare = record(Some(2_100), Some(SessionEnd::Logout));
        bare.device = SessionDevice::default();
        let value =
            serde_json::to_value(session_details(&bare, Some("org_1"), &[], 500, 2_200)).unwrap();
        assert!(value.get("device").is_none());
        assert!(value.get("authenticated_clients").is_none());
        assert_eq!(value["logout_at"], "1970-01-01T00:35:00Z");
        assert_eq!(value["updated_at"], "1970-01-01T00:35:00Z");
        assert!(value.get("expired_at").is_none());
        let remote = device_details(&SessionDevice {
            user_agent: None,
            ip: Some("203.0.113.9".into()),
        });
        assert_eq!(
            serde_json::to_value(remote).unwrap(),
            json!({"ip": "203.0.113.9"})
        );
    }
}
