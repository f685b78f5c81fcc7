//! The shared wire fixtures through the broker: a list the environment
//! answers with reaches the app unchanged (read and written with
//! `scalekit_wire`'s types), and so do its error bodies. The broker's own
//! error bodies are the wire contract's too, and are saved as samples
//! (`<target>/tmp/wire-samples/broker_<name>@google.rpc.Status.json`) that
//! `crates/scalekit-wire/fixtures/check-against-sdk` parses with Scalekit's
//! own message types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scalekit_wire::{fixtures, ErrorBody, GrpcCode};
use serde_json::{json, Value};

/// A fixture, owned by the user every stub session belongs to.
fn owned_by_stub_user(fixture: &str) -> Value {
    serde_json::from_str(&fixture.replace("usr_42", "usr_deleted")).unwrap()
}

#[tokio::test]
async fn fixtures_pass_through_the_broker_unchanged() {
    let emulator = start_emulator().await;
    let claims = access_claims_in_session(
        &emulator,
        "usr_deleted",
        "ses_stub",
        APP_CLIENT_ID,
        now() + 300,
    );
    let token = issue_access_token(&emulator, &claims).await;
    let cases = [
        (200, owned_by_stub_user(fixtures::CREDENTIAL_LIST)),
        (404, owned_by_stub_user(fixtures::ERROR_NOT_FOUND)),
        (400, owned_by_stub_user(fixtures::ERROR_VALIDATION)),
    ];
    for (status, body) in cases {
        // Given an environment that answers the list with a fixture
        let api = StubApi::start(status, body.clone()).await;
        let mut config = broker_config(&emulator);
        config.upstream_api_url = Some(api.base_url.clone());
        let broker = start_broker(config).await;

        // When the app lists through the broker
        let response = list_as(&broker, &token).await;

        // Then it gets the fixture, as the environment sent it
        assert_eq!(response.status(), status);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer, body, "{status}");
        broker.shutdown().await;
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_brokers_own_errors_are_the_wire_error_body() {
    // Given a broker in front of the emulator, and a user with a valid token
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "wire@example.com").await;
    let token = user_token(&emulator, &user).await;
    let http = http();
    let too_long = "x".repeat(scalekit_wire::DISPLAY_NAME_MAX_CHARS + 1);

    // When the broker refuses: no token, a name too long, a foreign listing
    let cases = [
        (
            "unauthenticated",
            http.get(at(broker.base_url(), CREDENTIALS)),
            GrpcCode::Unauthenticated,
        ),
        (
            "invalid_argument",
            http.patch(at(broker.base_url(), &format!("{CREDENTIALS}/wac_1")))
                .bearer_auth(&token)
                .json(&json!({ "display_name": too_long })),
            GrpcCode::InvalidArgument,
        ),
        (
            "permission_denied",
            http.get(at(
                broker.base_url(),
                &format!("{CREDENTIALS}?user_id=usr_someone_else"),
            ))
            .bearer_auth(&token),
            GrpcCode::PermissionDenied,
        ),
    ];
    let samples = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("wire-samples");
    std::fs::create_dir_all(&samples).unwrap();
    for (name, request, code) in cases {
        let response = request.send().await.unwrap();

        // Then the body is the contract's error body, read back unchanged
        assert_eq!(response.status().as_u16(), code.http_status(), "{name}");
        let raw: Value = response.json().await.unwrap();
        let body: ErrorBody = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(serde_json::to_value(&body).unwrap(), raw, "{name}");
        assert_eq!(body.code, Some(code.code()), "{name}");
        let file = samples.join(format!("broker_{name}@google.rpc.Status.json"));
        std::fs::write(file, serde_json::to_string_pretty(&raw).unwrap()).unwrap();
    }
    broker.shutdown().await;
    emulator.shutdown().await;
}
