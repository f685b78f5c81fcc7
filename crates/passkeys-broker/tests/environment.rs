//! What the broker reads from its environment, and what it says when the
//! environment cannot work with it: the signing keys from the `jwks_uri` of
//! the discovery document; an environment that issues opaque access tokens
//! or has no sessions API is a configuration error (503
//! `UNSUPPORTED_ENVIRONMENT`, and `/readyz` names the setting), never the
//! 401 that sends the person to sign in again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use scalekit_emulator::RunningEmulator;
use serde_json::{json, Value};

/// 503, `FAILED_PRECONDITION`, the wire contract's code, no challenge to
/// sign in again; the message.
async fn assert_unsupported_environment(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("www-authenticate").is_none());
    let (code, message, error_code) = error_body(response).await;
    assert_eq!(code, 9);
    assert_eq!(error_code, scalekit_wire::status::UNSUPPORTED_ENVIRONMENT);
    message
}

async fn readiness(broker: &passkeys_broker::RunningBroker) -> (u16, Value) {
    let response = get_path(&http(), broker, "/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// An OpenID provider (in front of the emulator's keys) whose discovery
/// document puts its JWKS at `/elsewhere/jwks`; `/keys` is not there.
async fn environment_with_keys_elsewhere(emulator: &RunningEmulator) -> url::Url {
    let jwks = emulator.state().keys.jwks();
    let document = |headers: HeaderMap| async move {
        let host = headers["host"].to_str().unwrap().to_owned();
        Json(json!({
            "issuer": format!("http://{host}"),
            "jwks_uri": format!("http://{host}/elsewhere/jwks"),
        }))
    };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(document))
        .route(
            "/elsewhere/jwks",
            get(move || {
                let jwks = jwks.clone();
                async move { Json(jwks) }
            }),
        );
    serve(app).await
}

#[tokio::test]
async fn the_signing_keys_come_from_the_jwks_uri_of_the_discovery_document() {
    // Given an environment whose keys are not at /keys
    let emulator = start_emulator().await;
    let environment = environment_with_keys_elsewhere(&emulator).await;
    let mut config = broker_config(&emulator);
    config.environment_url = environment.clone();
    config.token_url = Some(emulator.base_url().join("oauth/token").unwrap());
    config.upstream_api_url = Some(emulator.base_url().clone());
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let mut claims = access_claims(&emulator, &ada, APP_CLIENT_ID, now() + 300).await;
    claims["iss"] = environment.as_str().trim_end_matches('/').into();
    let token = sign_with_environment_key(&emulator, &claims);

    // When the app lists with a token of that environment
    let response = list_as(&broker, &token).await;

    // Then the broker verified it with the keys its discovery names
    assert_eq!(response.status(), 200);
    // and is ready, without token introspection (the document names none)
    let (status, ready) = readiness(&broker).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["token_introspection"], false);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_environment_without_the_sessions_api_is_a_configuration_error() {
    // Given a broker whose API base has no Scalekit sessions API (every
    // route a bare 404, as an OpenID provider that is not Scalekit)
    let emulator = start_emulator().await;
    let api = StubApi::without_any_route().await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(api.base_url.clone());
    let broker = start_broker(config).await;
    let ada = create_user(&emulator, "ada@example.com").await;

    // When the app lists with a valid token
    let response = list_as(&broker, user_token(&emulator, &ada).await).await;

    // Then it is told the pairing is wrong and what to change, not to sign in again
    let message = assert_unsupported_environment(response).await;
    assert!(message.contains("no Scalekit sessions API"), "{message}");
    assert!(message.contains("upstream_api_url"), "{message}");
    // and readiness says the same, once, with the setting
    let (status, ready) = readiness(&broker).await;
    assert_eq!(status, 503);
    assert_eq!(
        ready["error_code"],
        scalekit_wire::status::UNSUPPORTED_ENVIRONMENT
    );
    assert!(
        ready["problem"].as_str().unwrap().contains("sessions API"),
        "{ready}"
    );
    assert!(
        ready["fix"].as_str().unwrap().contains("upstream_api_url"),
        "{ready}"
    );

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_opaque_access_token_is_a_configuration_error_and_leaves_readiness_alone() {
    // Given a ready broker
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    assert_eq!(readiness(&broker).await.0, 200);

    // When a caller sends an opaque access token (RFC 6749's example)
    let response = list_as(&broker, "2YotnFZFEjr1zCsicMWpAA").await;

    // Then it is told the environment's tokens cannot be verified here
    let message = assert_unsupported_environment(response).await;
    assert!(message.contains("not a JWT"), "{message}");
    assert!(message.contains("environment_url"), "{message}");
    // and the broker stays ready: one caller's token says nothing about it
    let (status, ready) = readiness(&broker).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["token_introspection"], true);
    // while a token shaped like a JWT but broken is an invalid token
    assert_eq!(list_as(&broker, "eyJx.eyJ5.c2ln").await.status(), 401);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_environment_url_without_a_discovery_document_is_named_by_readiness() {
    // Given a broker pointed at a server that is no OpenID provider
    let emulator = start_emulator().await;
    let elsewhere = StubApi::without_any_route().await;
    let mut config = broker_config(&emulator);
    config.environment_url = elsewhere.base_url.clone();
    let broker = start_broker(config).await;

    // Then readiness names the setting to change
    let (status, ready) = readiness(&broker).await;
    assert_eq!(status, 503);
    assert!(
        ready["problem"]
            .as_str()
            .unwrap()
            .contains("OpenID discovery document"),
        "{ready}"
    );
    assert!(
        ready["fix"].as_str().unwrap().contains("environment_url"),
        "{ready}"
    );

    broker.shutdown().await;
    emulator.shutdown().await;
}
