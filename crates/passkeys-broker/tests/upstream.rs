//! The broker's own client-credentials token, the environment going away,
//! per-user limits, health and readiness.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use passkeys_broker::clock::ManualClock;
use serde_json::Value;

#[tokio::test]
async fn one_token_request_for_a_hundred_concurrent_calls_at_expiry() {
    // Given a broker whose token and API calls go through a counting proxy
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    config.token_url = Some(proxy.url("oauth/token"));
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let user = create_user(&emulator, "ada@example.com").await;
    add_passkey(&emulator, &user, "Laptop").await;
    let token = user_token(&emulator, &user).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);

    // and one call that has made it obtain a token
    let first = get_as(&http, &url, &token).await;
    assert_eq!(first.status(), 200);
    assert_eq!(proxy.token_requests(), 1);

    // When its token reaches expiry (Scalekit's, and the emulator's,
    // client-credentials tokens live 86,399 s)
    clock.advance(Duration::from_secs(86_400));
    // and 100 calls arrive at once
    let calls = (0..100).map(|_| {
        let request = http.get(&url).bearer_auth(&token);
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures_join_all(calls).await;

    // Then all succeed and exactly one new token was requested
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(proxy.token_requests(), 2);
    assert_eq!(broker.token_requests(), 2);
    assert_eq!(proxy.count("GET", "/api/v1/webauthn/credentials"), 101);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

/// Runs all futures concurrently on the runtime and collects their outputs.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn environment_down_is_a_clear_503() {
    // Given a broker that has already verified a token and listed once
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "ada@example.com").await;
    let token = user_token(&emulator, &user).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    assert_eq!(get_as(&http, &url, &token).await.status(), 200);

    // When the environment goes away
    emulator.shutdown().await;

    // Then the broker says so, in the error shape
    let response = get_as(&http, &url, &token).await;
    assert_eq!(response.status(), 503);
    let (code, message, error_code) = error_body(response).await;
    assert_eq!(code, 14);
    assert_eq!(error_code, "UPSTREAM_UNAVAILABLE");
    assert!(
        message.contains("the Scalekit environment is unreachable"),
        "{message}"
    );
    assert!(!message.contains(&token));

    // And it is still alive
    let live = get_path(&http, &broker, "/healthz").await;
    assert_eq!(live.status(), 200);

    broker.shutdown().await;
}

#[tokio::test]
async fn environment_never_reachable_is_a_clear_503() {
    // Given a broker for an environment that is not there at all
    let emulator = start_emulator().await;
    let user = create_user(&emulator, "ada@example.com").await;
    let token = user_token(&emulator, &user).await;
    let config = broker_config(&emulator);
    emulator.shutdown().await;
    let broker = start_broker(config).await;

    // When a user calls it, the keys cannot be fetched: 503, not 401
    let http = http();
    let response = list_as(&broker, &token).await;
    assert_eq!(response.status(), 503);
    let (code, _, _) = error_body(response).await;
    assert_eq!(code, 14);

    // And it is alive but not ready
    let ready = get_path(&http, &broker, "/readyz").await;
    assert_eq!(ready.status(), 503);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "not ready");
    let live = get_path(&http, &broker, "/healthz").await;
    assert_eq!(live.status(), 200);

    broker.shutdown().await;
}

#[tokio::test]
async fn wrong_client_secret_is_a_502_not_a_401() {
    // Given a broker configured with a wrong secret
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.client_secret = passkeys_broker::ClientSecret::new("not-the-secret");
    let broker = start_broker(config).await;
    let user = create_user(&emulator, "ada@example.com").await;

    // When a user lists
    let response = list_as(&broker, user_token(&emulator, &user).await).await;

    // Then the user is not told to sign in again: it is the broker's fault
    assert_eq!(response.status(), 502);
    let (_, message, error_code) = error_body(response).await;
    assert_eq!(error_code, "UPSTREAM_BAD_RESPONSE");
    assert!(message.contains("client credentials"), "{message}");
    assert!(!message.contains("not-the-secret"));

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn environment_that_never_answers_is_a_503_timeout() {
    // Given an API endpoint that accepts connections but never answers
    let emulator = start_emulator().await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url: url::Url = format!("http://{}/", silent.local_addr().unwrap())
        .parse()
        .unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(silent_url);
    config.upstream_timeout = Duration::from_secs(1);
    let broker = start_broker(config).await;
    let user = create_user(&emulator, "ada@example.com").await;

    // When a user lists
    let response = list_as(&broker, user_token(&emulator, &user).await).await;

    // Then the broker gives up and says why
    assert_eq!(response.status(), 503);
    let (code, message, error_code) = error_body(response).await;
    assert_eq!((code, error_code.as_str()), (4, "UPSTREAM_TIMEOUT"));
    assert!(message.contains("did not answer within 1 s"), "{message}");

    held.abort();
    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn client_secret_basic_works_too() {
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.token_endpoint_auth = passkeys_broker::TokenEndpointAuth::ClientSecretBasic;
    let broker = start_broker(config).await;
    let user = create_user(&emulator, "ada@example.com").await;
    add_passkey(&emulator, &user, "Laptop").await;

    let response = list_as(&broker, user_token(&emulator, &user).await).await;

    assert_eq!(response.status(), 200);
    let listing: Value = response.json().await.unwrap();
    assert_eq!(listing["credentials"].as_array().unwrap().len(), 1);
    assert_eq!(broker.token_requests(), 1);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_revoked_broker_token_is_replaced_once() {
    // Given a broker that has a client-credentials token
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "ada@example.com").await;
    add_passkey(&emulator, &user, "Laptop").await;
    let token = user_token(&emulator, &user).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    assert_eq!(get_as(&http, &url, &token).await.status(), 200);
    assert_eq!(broker.token_requests(), 1);

    // When the environment revokes it before it expires
    emulator
        .state()
        .db
        .call(|c| {
            c.execute(
                "UPDATE access_tokens SET revoked_at = 1 WHERE client_id = ?1",
                [BROKER_CLIENT_ID],
            )?;
            Ok(())
        })
        .await
        .unwrap();

    // Then the next call gets a new token and succeeds
    let response = get_as(&http, &url, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(broker.token_requests(), 2);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn environment_client_errors_are_passed_on_in_the_same_shape() {
    // Given an environment whose credentials API does not know the user
    // (deleted), while the token and its session are still valid
    let emulator = start_emulator().await;
    let api = StubApi::start(
        404,
        serde_json::json!({
            "code": 5,
            "message": "user not found",
            "details": [{
                "@type": "type.googleapis.com/scalekit.v1.errdetails.ErrorInfo",
                "error_code": "NOT_FOUND"
            }]
        }),
    )
    .await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(api.base_url.clone());
    let broker = start_broker(config).await;
    let claims = access_claims_in_session(
        &emulator,
        "usr_deleted",
        "ses_stub",
        APP_CLIENT_ID,
        now() + 300,
    );
    let token = issue_access_token(&emulator, &claims).await;

    // When they list
    let response = list_as(&broker, &token).await;

    // Then the environment's 404 comes back as it sent it
    assert_eq!(response.status(), 404);
    let (code, message, error_code) = error_body(response).await;
    assert_eq!((code, error_code.as_str()), (5, "NOT_FOUND"));
    assert_eq!(message, "user not found");

    broker.shutdown().await;
    emulator.shutdown().await;
}
