//! Per-user limits, liveness, readiness and the broker's description.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use passkeys_broker::clock::ManualClock;
use passkeys_broker::RateLimit;
use serde_json::Value;

#[tokio::test]
async fn per_user_rate_limit_answers_429_with_retry_after() {
    // Given a limit of 2 at once and 1 per minute
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.rate_limit = RateLimit {
        requests_per_minute: 1,
        burst: 2,
    };
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let ada = create_user(&emulator, "ada@example.com").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    let ada_token = user_token(&emulator, &ada).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    let call = |token: String| {
        let request = http.get(&url).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };

    // When Ada makes three calls at once
    assert_eq!(call(ada_token.clone()).await.status(), 200);
    assert_eq!(call(ada_token.clone()).await.status(), 200);
    let third = call(ada_token.clone()).await;

    // Then the third is refused with a wait time
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "60");
    let (code, _, error_code) = error_body(third).await;
    assert_eq!((code, error_code.as_str()), (8, "RESOURCE_EXHAUSTED"));

    // And Bob is not affected
    assert_eq!(call(user_token(&emulator, &bob).await).await.status(), 200);

    // And after the wait Ada may call again
    clock.advance(Duration::from_secs(60));
    assert_eq!(call(ada_token).await.status(), 200);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.token_url = Some(proxy.url("oauth/token"));
    config.jwks_url = Some(proxy.url("keys"));
    let broker = start_broker(config).await;
    let http = http();

    let live: Value = get_path(&http, &broker, "/healthz")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(live["status"], "ok");
    // Liveness touches nothing upstream
    assert_eq!(proxy.count("GET", "/keys"), 0);

    let ready = get_path(&http, &broker, "/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    // Readiness fetched the keys and a token
    assert_eq!(proxy.count("GET", "/keys"), 1);
    assert_eq!(proxy.token_requests(), 1);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_request_for_another_host_is_misdirected_before_any_route() {
    // Given a broker on loopback, and a web page that reached it by DNS
    // rebinding (its own name resolving to 127.0.0.1)
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "ada@example.com").await;
    let token = user_token(&emulator, &user).await;
    let port = broker.local_addr().port();
    let http = http();
    for path in [
        "/healthz",
        "/readyz",
        passkeys_broker::WELL_KNOWN_PATH,
        CREDENTIALS,
    ] {
        let response = http
            .get(at(broker.base_url(), path))
            .header("host", format!("evil.example:{port}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        // Then it answers 421, in the error shape, and nothing else
        assert_eq!(response.status(), 421, "{path}");
        let (code, message, error_code) = error_body(response).await;
        assert_eq!((code, error_code.as_str()), (7, "MISDIRECTED_REQUEST"));
        assert!(message.contains("evil.example"), "{message}");
    }
    // while the loopback names it serves work
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let response = http
            .get(at(broker.base_url(), CREDENTIALS))
            .header("host", host.clone())
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{host}");
    }
    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_well_known_route_names_the_trusted_issuer_without_a_token() {
    // Given a broker in front of an emulator
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.token_url = Some(proxy.url("oauth/token"));
    config.jwks_url = Some(proxy.url("keys"));
    let broker = start_broker(config).await;
    let http = http();

    // When anyone asks it, without a token, under a name it serves
    let port = broker.local_addr().port();
    let response = http
        .get(at(broker.base_url(), passkeys_broker::WELL_KNOWN_PATH))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();

    // Then it says which issuer and client it trusts, and calls nothing upstream
    assert_eq!(response.status(), 200);
    let about: Value = response.json().await.unwrap();
    assert_eq!(
        about["issuer"],
        emulator.base_url().as_str().trim_end_matches('/')
    );
    assert_eq!(about["client_id"], APP_CLIENT_ID);
    assert!(about["version"].is_string(), "{about}");
    assert_eq!(proxy.count("GET", "/keys"), 0);
    assert_eq!(proxy.token_requests(), 0);

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}
