use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::wire::{decode_error, decode_list, decode_single};
use super::*;
use crate::error::ErrorKind;

use scalekit_wire::fixtures::{
    CREDENTIAL_LIST as LIST, DELETE_RESPONSE as DELETE, ERROR_NOT_FOUND as NOT_FOUND,
    ERROR_PERMISSION_DENIED as PERMISSION_DENIED, ERROR_UNAUTHENTICATED as UNAUTHENTICATED,
    ERROR_VALIDATION as VALIDATION, RENAME_RESPONSE as RENAME,
};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn list_fixture_becomes_view_models() {
    let passkeys: Vec<Passkey> = decode_list(&json(LIST))
        .unwrap()
        .into_iter()
        .filter_map(Passkey::from_wire)
        .collect();
    assert_eq!(passkeys.len(), 3);

    let mac = &passkeys[0];
    assert_eq!(mac.id, "wac_101");
    assert_eq!(mac.display_name, "My MacBook");
    assert_eq!(mac.created_at.as_deref(), Some("2025-02-15T06:23:44.560Z"));
    assert_eq!(mac.authenticator.name.as_deref(), Some("iCloud Keychain"));
    assert_eq!(mac.authenticator.attachment.as_deref(), Some("platform"));
    let icon = mac.icon.as_ref().unwrap();
    assert!(icon
        .light
        .as_deref()
        .unwrap()
        .starts_with("data:image/svg+xml"));
    assert_eq!(
        mac.authenticator.icon_key.as_deref(),
        Some("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"),
        "the icon is named by the AAGUID"
    );
    assert!(mac.synced);
    assert!(!mac.device_bound);
    assert_eq!(mac.transports, ["internal", "hybrid"]);
    assert_eq!(mac.registered_from.browser.as_deref(), Some("Safari"));
    assert_eq!(mac.registered_from.os.as_deref(), Some("macOS"));
    assert_eq!(mac.registered_from.city.as_deref(), Some("San Francisco"));
    assert_eq!(mac.registered_from.region.as_deref(), Some("California"));

    let key = &passkeys[1];
    assert_eq!(
        key.display_name, "<b>Key</b> & \"spare\"",
        "markup is kept as text"
    );
    assert!(!key.synced);
    assert!(key.device_bound);
    assert_eq!(key.registered_from, RegisteredFrom::default());

    let bare = &passkeys[2];
    assert_eq!(bare.id, "wac_303");
    assert_eq!(bare.display_name, "Passkey");
    assert_eq!(bare.created_at, None);
    assert!(bare.device_bound);
}

#[test]
fn a_generic_authenticator_name_is_no_provider_but_still_names_the_passkey() {
    for (generic, attachment) in [("Passkey", "platform"), ("Security key", "cross-platform")] {
        let wire: scalekit_wire::credential::Credential = serde_json::from_value(serde_json::json!({
            "id": "wac_1",
            "authenticator": {"aaguid": "00000000-0000-0000-0000-000000000000", "name": generic, "attachment": attachment},
        }))
        .unwrap();
        let passkey = Passkey::from_wire(wire).unwrap();
        assert_eq!(passkey.authenticator.name, None, "{generic}");
        assert_eq!(passkey.display_name, generic);
    }
    let wire: scalekit_wire::credential::Credential = serde_json::from_value(serde_json::json!({
        "id": "wac_2",
        "authenticator": {"name": "Google Password Manager"},
    }))
    .unwrap();
    let passkey = Passkey::from_wire(wire).unwrap();
    assert_eq!(
        passkey.authenticator.name.as_deref(),
        Some("Google Password Manager")
    );
}

#[test]
fn view_model_serialises_camel_case() {
    let passkey = decode_single(&json(RENAME))
        .and_then(Passkey::from_wire)
        .unwrap();
    let value = serde_json::to_value(&passkey).unwrap();
    assert_eq!(value["displayName"], "Work laptop");
    assert_eq!(value["deviceBound"], false);
    assert_eq!(value["createdAt"], "2025-02-15T06:23:44.560Z");
    assert_eq!(value["authenticator"]["name"], "iCloud Keychain");
    assert!(value["registeredFrom"].is_object());
    assert_eq!(
        value["authenticator"]["iconKey"],
        Value::Null,
        "no icon sent"
    );

    // A row with an icon names it, and does not carry it: the icon travels
    // once, beside a list's rows.
    let listed = decode_list(&json(LIST))
        .unwrap()
        .into_iter()
        .find_map(Passkey::from_wire)
        .unwrap();
    assert!(listed.icon.is_some());
    let value = serde_json::to_value(&listed).unwrap();
    assert_eq!(
        value["authenticator"]["iconKey"],
        "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
    );
    assert!(value.get("icon").is_none());
    assert!(!value.to_string().contains("data:image"));
}

#[test]
fn decoding_is_lenient() {
    let body = json(
        r#"{"credentials":[
            {"id":"a","display_name":42,"transports":"usb","authenticator":"x",
             "authenticator_flags":{"backup_eligible":"yes"},"created_at":null,"new_field":{"x":1}},
            "not an object",
            {"display_name":"no id"},
            {"id":"b","transports":["usb",7],"authenticator":{"icon_light":"https://evil.example/i.png"}}
        ]}"#,
    );
    let passkeys: Vec<Passkey> = decode_list(&body)
        .unwrap()
        .into_iter()
        .filter_map(Passkey::from_wire)
        .collect();
    assert_eq!(passkeys.len(), 2);
    assert_eq!(passkeys[0].id, "a");
    assert_eq!(passkeys[0].display_name, "Passkey");
    assert!(passkeys[0].transports.is_empty());
    assert!(passkeys[0].device_bound);
    assert_eq!(passkeys[1].transports, ["usb"]);
    assert_eq!(passkeys[1].icon, None, "remote icons are dropped");
    assert_eq!(
        passkeys[1].authenticator.icon_key, None,
        "no icon, no icon key"
    );

    assert_eq!(decode_list(&json("{}")).unwrap().len(), 0);
    assert!(decode_list(&json(r#"{"credentials":"x"}"#)).is_none());
}

#[test]
fn error_bodies_map_to_structured_errors() {
    let unauthenticated = decode_error(401, UNAUTHENTICATED.as_bytes(), Asked::Passkey);
    assert_eq!(unauthenticated.code, Some(16));
    assert_eq!(unauthenticated.message, "Token empty");
    assert_eq!(
        unauthenticated.error_code.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        Error::Api(Box::new(unauthenticated)).kind(),
        ErrorKind::SignInRequired
    );

    let validation = decode_error(400, VALIDATION.as_bytes(), Asked::Passkey);
    assert_eq!(validation.code, Some(3));
    assert_eq!(validation.error_code.as_deref(), Some("INVALID_ARGUMENT"));
    assert_eq!(validation.field_violations.len(), 1);
    assert_eq!(validation.field_violations[0].field, "display_name");
    assert_eq!(
        validation.field_violations[0].constraint.as_deref(),
        Some("string.max_len")
    );
    assert_eq!(
        Error::Api(Box::new(validation)).kind(),
        ErrorKind::InvalidInput
    );

    let not_found = decode_error(404, NOT_FOUND.as_bytes(), Asked::Passkey);
    assert_eq!(not_found.code, Some(5), "the server's code is kept");
    let not_found = Error::Api(Box::new(not_found));
    assert_eq!(not_found.kind(), ErrorKind::NotFound);
    assert!(
        not_found
            .to_string()
            .starts_with("That passkey no longer exists"),
        "{not_found}"
    );

    let forbidden = Error::Api(Box::new(decode_error(
        403,
        PERMISSION_DENIED.as_bytes(),
        Asked::Passkey,
    )));
    assert_eq!(forbidden.kind(), ErrorKind::Forbidden);

    let html = decode_error(502, b"<html>Bad gateway</html>", Asked::Passkey);
    assert_eq!(html.code, None);
    assert!(html.message.contains("HTTP 502"));
    assert_eq!(Error::Api(Box::new(html)).kind(), ErrorKind::Server);
}

#[test]
fn display_name_validation() {
    let ok_120 = "a".repeat(DISPLAY_NAME_MAX_CHARS);
    let too_long = "é".repeat(DISPLAY_NAME_MAX_CHARS + 1);
    let table: Vec<(&str, Option<&str>)> = vec![
        ("My key", Some("My key")),
        ("  padded  ", Some("padded")),
        (&ok_120, Some(ok_120.as_str())),
        (
            "<script>alert(1)</script>",
            Some("<script>alert(1)</script>"),
        ),
        ("Ключ 🔑", Some("Ключ 🔑")),
        ("", None),
        ("   \t ", None),
        (&too_long, None),
        ("line\nbreak", None),
        ("nul\u{0}", None),
        ("bell\u{7}", None),
        ("del\u{7f}", None),
    ];
    for (input, expected) in table {
        match (validate_display_name(input), expected) {
            (Ok(name), Some(expected)) => assert_eq!(name, expected),
            (Err(Error::InvalidInput(_)), None) => {}
            (other, _) => panic!("{input:?} gave {other:?}"),
        }
    }
}

/// Serves one canned answer and returns the raw request it received.
pub(super) async fn one_shot_server(
    status: &str,
    body: &'static str,
) -> (Url, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let status = status.to_string();
    let handle = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if read == 0 {
                break;
            }
        }
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await.unwrap();
        String::from_utf8(request).unwrap()
    });
    (url, handle)
}

pub(super) fn api(base: Url) -> PasskeysApi {
    PasskeysApi::new(reqwest::Client::new(), base)
}

#[tokio::test]
async fn list_sends_the_exact_request() {
    let (base, request) = one_shot_server("200 OK", LIST).await;
    let token = AccessToken::new("at-123".into());
    let passkeys = api(base).list(&token, "usr_42").await.unwrap();
    assert_eq!(passkeys.len(), 3);
    let request = request.await.unwrap();
    assert!(
        request.starts_with("GET /api/v1/webauthn/credentials?user_id=usr_42 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request
        .to_ascii_lowercase()
        .contains("authorization: bearer at-123\r\n"));
}

#[tokio::test]
async fn rename_percent_encodes_the_id_and_sends_display_name() {
    let (base, request) = one_shot_server("200 OK", RENAME).await;
    let base = base.join("broker/").unwrap();
    let token = AccessToken::new("at".into());
    let passkey = api(base)
        .rename(&token, "wac/1 ?#%", "  Work laptop ")
        .await
        .unwrap();
    assert_eq!(passkey.display_name, "Work laptop");
    let request = request.await.unwrap();
    assert!(
        request.starts_with(
            "PATCH /broker/api/v1/webauthn/credentials/wac%2F1%20%3F%23%25 HTTP/1.1\r\n"
        ),
        "{request}"
    );
    assert!(request
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    assert!(
        request.ends_with("\r\n\r\n{\"display_name\":\"Work laptop\"}"),
        "{request}"
    );
}

#[tokio::test]
async fn remove_and_error_answers() {
    let (base, request) = one_shot_server("200 OK", DELETE).await;
    let proof = IdToken::new("id-token-proof");
    api(base)
        .remove(&AccessToken::new("at".into()), Some(&proof), "cred_202")
        .await
        .unwrap();
    let sent = request.await.unwrap();
    assert!(sent.starts_with("DELETE /api/v1/webauthn/credentials/cred_202 HTTP/1.1\r\n"));
    assert!(
        sent.to_ascii_lowercase()
            .contains("\r\nx-recent-authentication: id-token-proof\r\n"),
        "{sent}"
    );

    let (base, _request) = one_shot_server("404 Not Found", NOT_FOUND).await;
    let error = api(base)
        .remove(&AccessToken::new("at".into()), None, "gone")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let (base, _request) = one_shot_server("401 Unauthorized", UNAUTHENTICATED).await;
    let error = api(base)
        .list(&AccessToken::new("at".into()), "usr_42")
        .await
        .unwrap_err();
    assert!(is_unauthenticated(&error));
}

#[tokio::test]
async fn a_broker_that_cannot_work_with_its_environment_is_a_configuration_error() {
    // The broker's answer when its environment issues opaque tokens or has
    // no sessions API: 503, FAILED_PRECONDITION, UNSUPPORTED_ENVIRONMENT.
    let body = scalekit_wire::ErrorBody::new(
        scalekit_wire::GrpcCode::FailedPrecondition,
        "the passkeys broker cannot work with its environment: …",
        scalekit_wire::status::UNSUPPORTED_ENVIRONMENT,
    );
    let body: &'static str = serde_json::to_string(&body).unwrap().leak();
    let (base, _request) = one_shot_server("503 Service Unavailable", body).await;
    let error = api(base)
        .list(&AccessToken::new("at".into()), "usr_42")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error:?}");
    assert!(!is_unauthenticated(&error), "signing in again cannot help");
    let message = error.to_string();
    assert!(message.contains("environment_url"), "{message}");
    assert!(message.contains("api_url"), "{message}");
}

#[tokio::test]
async fn the_brokers_step_up_challenge_asks_to_confirm_and_is_not_a_lost_session() {
    // The status line is followed by the challenge header (the test server
    // writes the status as given).
    let status = "401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"insufficient_user_authentication\", max_age=120";
    let (base, _request) = one_shot_server(status, UNAUTHENTICATED).await;
    let error = api(base)
        .remove(&AccessToken::new("at".into()), None, "wac_1")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ReauthenticationRequired { max_age_secs: 120 }),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::ReauthenticationRequired);
    assert!(!is_unauthenticated(&error), "a refresh cannot answer it");

    // A plain 401 is still an unaccepted token
    let status = "401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"invalid_token\"";
    let (base, _request) = one_shot_server(status, UNAUTHENTICATED).await;
    let error = api(base)
        .remove(&AccessToken::new("at".into()), None, "wac_1")
        .await
        .unwrap_err();
    assert!(is_unauthenticated(&error), "{error:?}");
}

#[tokio::test]
async fn bad_names_and_ids_send_nothing() {
    // No server listens on this base: any request would fail with a network error.
    let base = Url::parse("http://127.0.0.1:9/").unwrap();
    let token = AccessToken::new("at".into());
    for (id, name) in [("wac_1", ""), ("wac_1", "a\nb"), ("", "ok"), ("..", "ok")] {
        let error = api(base.clone())
            .rename(&token, id, name)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?} {name:?}");
    }
    let error = api(base).remove(&token, None, "").await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
}

#[test]
fn error_bodies_are_told_from_other_pages() {
    let table = [
        (NOT_FOUND, true),
        (UNAUTHENTICATED, true),
        ("{\"code\": 5}", true),
        ("{\"code\": \"5\", \"message\": \"x\"}", false),
        ("{\"message\": \"Not Found\"}", false),
        ("<h1>Not Found</h1>", false),
        ("", false),
        ("[1]", false),
    ];
    for (body, expected) in table {
        assert_eq!(wire::is_error_body(body.as_bytes()), expected, "{body:?}");
    }
}
