//! The session rendering: status by how and when a session ended, and
//! the `SessionDetails` written.

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
            ("revoked", Some(2_100), None),
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
