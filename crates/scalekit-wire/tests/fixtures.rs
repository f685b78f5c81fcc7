//! The shared fixtures against the wire types: each reads into its type and
//! writes back unchanged, every field of every type appears in a fixture
//! (so `fixtures/check-against-sdk` vouches for it against Scalekit's own
//! messages), and the list of fixtures is the folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use scalekit_wire::credential::{
    AllAcceptedCredentialsOptions, Authenticator, AuthenticatorFlags, ClientInfo, Credential,
    DeleteCredentialResponse, ListCredentialsResponse, UnknownCredentialOptions,
    UpdateCredentialRequest, UpdateCredentialResponse, UserAgent,
};
use scalekit_wire::fixtures;
use scalekit_wire::session::{AuthenticatedClients, DeviceDetails, Location, SessionDetails};
use scalekit_wire::status::{ErrorInfo, FieldViolation, RequestInfo, ValidationErrorInfo};
use scalekit_wire::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Reads `text` as `T` and writes it back.
fn round_trip<T: DeserializeOwned + Serialize>(text: &str) -> Value {
    let typed: T = serde_json::from_str(text).unwrap();
    serde_json::to_value(typed).unwrap()
}

/// The key paths of a JSON value (`credentials[].authenticator.name`).
fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn paths_of(values: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for value in values {
        paths(value, "", &mut out);
    }
    out
}

/// Which wire type each message name is read with.
fn round_trip_as(message: &str, text: &str) -> Value {
    match message {
        "scalekit.v1.auth.webauthn.ListCredentialsResponse" => {
            round_trip::<ListCredentialsResponse>(text)
        }
        "scalekit.v1.auth.webauthn.UpdateCredentialRequest" => {
            round_trip::<UpdateCredentialRequest>(text)
        }
        "scalekit.v1.auth.webauthn.UpdateCredentialResponse" => {
            round_trip::<UpdateCredentialResponse>(text)
        }
        "scalekit.v1.auth.webauthn.DeleteCredentialResponse" => {
            round_trip::<DeleteCredentialResponse>(text)
        }
        "scalekit.v1.sessions.SessionDetails" => round_trip::<SessionDetails>(text),
        "google.rpc.Status" => round_trip::<ErrorBody>(text),
        other => panic!("no wire type for {other}"),
    }
}

#[test]
fn every_fixture_reads_and_writes_back_unchanged() {
    for (file, message) in fixtures::messages() {
        let text = fixtures::by_name(file).unwrap_or_else(|| panic!("{file} is not embedded"));
        assert_eq!(
            round_trip_as(message, text),
            json(text),
            "{file} as {message}"
        );
    }
}

#[test]
fn the_message_list_is_the_fixtures_folder() {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = fixtures::messages().map(|(f, _)| f.to_owned()).collect();
    listed.sort();
    assert_eq!(listed, on_disk);
    for name in &on_disk {
        let embedded = fixtures::by_name(name).unwrap();
        let file = std::fs::read_to_string(format!("{folder}/{name}")).unwrap();
        assert_eq!(embedded, file, "{name}");
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// A credential with every field set; a struct literal, so a new field does
/// not compile until it is added here (and then to a fixture).
fn full_credential() -> Credential {
    Credential {
        id: some("wac_1"),
        user_id: some("usr_1"),
        credential_id: some("AAEC"),
        attestation_type: some("none"),
        authenticator: Some(Authenticator {
            aaguid: some("a"),
            name: some("n"),
            attachment: some("platform"),
            icon_dark: some("data:image/svg+xml,"),
            icon_light: some("data:image/svg+xml,"),
        }),
        transports: Some(vec!["internal".into()]),
        authenticator_flags: Some(AuthenticatorFlags {
            user_present: Some(true),
            user_verified: Some(true),
            backup_eligible: Some(true),
            backup_state: Some(true),
        }),
        created_at: some("2025-01-01T00:00:00Z"),
        updated_at: some("2025-01-01T00:00:00Z"),
        user_agent: Some(UserAgent {
            raw: some("r"),
            url: some("u"),
            browser: some("b"),
            browser_version: some("1"),
            os: some("o"),
            os_version: some("1"),
            device_type: some("desktop"),
            device_model: some("m"),
        }),
        client_info: Some(ClientInfo {
            ip: some("203.0.113.1"),
            region: some("r"),
            region_subdivision: some("s"),
            city: some("c"),
        }),
        display_name: some("d"),
    }
}

fn full_session() -> SessionDetails {
    SessionDetails {
        session_id: some("ses_1"),
        user_id: some("usr_1"),
        authenticated_organizations: Some(vec!["org_1".into()]),
        organization_id: some("org_1"),
        created_at: some("t"),
        updated_at: some("t"),
        idle_expires_at: some("t"),
        absolute_expires_at: some("t"),
        expired_at: some("t"),
        logout_at: some("t"),
        status: some("active"),
        device: Some(DeviceDetails {
            user_agent: some("u"),
            os: some("o"),
            os_version: some("1"),
            browser: some("b"),
            browser_version: some("1"),
            device_type: some("desktop"),
            ip: some("203.0.113.1"),
            location: Some(Location {
                region: some("r"),
                region_subdivision: some("s"),
                city: some("c"),
                latitude: some("1"),
                longitude: some("2"),
            }),
        }),
        last_active_at: some("t"),
        authenticated_clients: Some(vec![AuthenticatedClients {
            client_id: some("c"),
            organization_id: some("o"),
        }]),
    }
}

fn full_error() -> ErrorBody {
    ErrorBody {
        code: Some(3),
        message: some("m"),
        details: Some(vec![ErrorInfo {
            type_url: some(scalekit_wire::status::ERROR_INFO_TYPE),
            error_code: some("INVALID_ARGUMENT"),
            request_info: Some(RequestInfo {
                request_id: some("r"),
            }),
            validation_error_info: Some(ValidationErrorInfo {
                field_violations: Some(vec![FieldViolation {
                    field: some("f"),
                    description: some("d"),
                    constraint: some("c"),
                }]),
            }),
        }]),
    }
}

fn fixture_paths(message: &str) -> BTreeSet<String> {
    let values: Vec<Value> = fixtures::messages()
        .filter(|(_, m)| *m == message)
        .map(|(file, _)| json(fixtures::by_name(file).unwrap()))
        .collect();
    paths_of(&values)
}

#[test]
fn every_field_of_every_type_is_in_a_fixture() {
    let full = |value: &dyn erased::ToValue| value.to_value();
    let cases: Vec<(&str, Value)> = vec![
        (
            "scalekit.v1.auth.webauthn.ListCredentialsResponse",
            full(&ListCredentialsResponse {
                credentials: Some(vec![full_credential()]),
                all_accepted_credentials_options: Some(AllAcceptedCredentialsOptions {
                    rp_id: some("rp"),
                    user_id: some("u"),
                    all_accepted_credential_ids: Some(vec!["AAEC".into()]),
                }),
            }),
        ),
        (
            "scalekit.v1.auth.webauthn.UpdateCredentialRequest",
            full(&UpdateCredentialRequest {
                display_name: some("d"),
            }),
        ),
        (
            "scalekit.v1.auth.webauthn.DeleteCredentialResponse",
            full(&DeleteCredentialResponse {
                success: Some(true),
                unknown_credential_options: Some(UnknownCredentialOptions {
                    rp_id: some("rp"),
                    credential_id: some("AAEC"),
                }),
            }),
        ),
        ("scalekit.v1.sessions.SessionDetails", full(&full_session())),
        ("google.rpc.Status", full(&full_error())),
    ];
    for (message, value) in cases {
        let missing: Vec<String> = paths_of(&[value])
            .difference(&fixture_paths(message))
            .cloned()
            .collect();
        assert!(missing.is_empty(), "{message}: no fixture has {missing:?}");
    }
}

/// Serialising a value of any of the wire types, for the table above.
mod erased {
    pub trait ToValue {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> ToValue for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

#[test]
fn reading_is_lenient() {
    let body = br#"{"credentials":[
        {"id":"a","display_name":42,"transports":["usb",7],"authenticator":"x",
         "authenticator_flags":{"backup_eligible":"yes"},"created_at":null,"new_field":{"x":1}},
        "not an object",
        {"display_name":"no id"}
    ]}"#;
    let list = ListCredentialsResponse::from_json(body)
        .unwrap()
        .into_credentials();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id.as_deref(), Some("a"));
    assert_eq!(list[0].display_name, None);
    assert_eq!(list[0].transports.as_deref(), Some(&["usb".to_owned()][..]));
    assert_eq!(list[0].authenticator, None);
    assert_eq!(
        list[0].authenticator_flags,
        Some(AuthenticatorFlags::default())
    );
    assert_eq!(list[1].id, None);

    assert!(ListCredentialsResponse::from_json(b"{}")
        .unwrap()
        .into_credentials()
        .is_empty());
    assert!(ListCredentialsResponse::from_json(br#"{"credentials":null}"#).is_some());
    assert!(ListCredentialsResponse::from_json(br#"{"credentials":"x"}"#).is_none());
    assert!(ListCredentialsResponse::from_json(b"[1]").is_none());
    assert_eq!(
        UpdateCredentialResponse::credential_of(&json(fixtures::RENAME_RESPONSE))
            .and_then(|c| c.display_name),
        some("Work laptop")
    );
    assert_eq!(
        UpdateCredentialResponse::credential_of(&json(r#"{"credential":"x"}"#)),
        None
    );
}

#[test]
fn error_bodies_are_told_from_other_pages() {
    let table: [(&str, bool); 8] = [
        (fixtures::ERROR_NOT_FOUND, true),
        (fixtures::ERROR_UNAUTHENTICATED, true),
        ("{\"code\": 5}", true),
        ("{\"code\": \"5\", \"message\": \"x\"}", false),
        ("{\"message\": \"Not Found\"}", false),
        ("<h1>Not Found</h1>", false),
        ("", false),
        ("[1]", false),
    ];
    for (body, expected) in table {
        assert_eq!(
            ErrorBody::from_json(body.as_bytes()).is_some(),
            expected,
            "{body:?}"
        );
    }
    let validation = ErrorBody::read(fixtures::ERROR_VALIDATION.as_bytes());
    assert_eq!(validation.error_code(), Some("INVALID_ARGUMENT"));
    let violations: Vec<_> = validation.field_violations().collect();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].constraint.as_deref(), Some("string.max_len"));
    assert_eq!(ErrorBody::read(b"<html>"), ErrorBody::default());
}

#[test]
fn sessions_say_whether_they_are_active() {
    let live = SessionDetails::from_json(fixtures::SESSION_DETAILS.as_bytes()).unwrap();
    assert!(live.is_active());
    let ended = SessionDetails::from_json(fixtures::SESSION_DETAILS_LOGOUT.as_bytes()).unwrap();
    assert!(!ended.is_active());
}
