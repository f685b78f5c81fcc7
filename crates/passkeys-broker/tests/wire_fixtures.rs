//! The shared wire fixtures through the broker: a list the environment
//! answers with reaches the app unchanged (read and written with
//! `scalekit_wire`'s types), and so do its error bodies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use scalekit_wire::fixtures;
use serde_json::Value;

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
    let token = sign_with_environment_key(&emulator, &claims);
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
