//! Only access tokens of the configured environment, issued to the app, get in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use passkeys_broker::clock::ManualClock;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde_json::Value;

/// Signs `claims` with a freshly made RSA key the environment never saw,
/// naming `kid` in the header.
fn sign_with_foreign_key(claims: &Value, kid: &str) -> String {
    let mut rng = rand::thread_rng();
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let der = key.to_pkcs1_der().unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap()
}

async fn assert_unauthenticated(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let (code, message, error_code) = error_body(response).await;
    assert_eq!(code, 16);
    assert_eq!(error_code, "UNAUTHENTICATED");
    message
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401() {
    // Given a user with a passkey, and a broker for the app `ntvc_demo`
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "ada@example.com").await;
    add_passkey(&emulator, &user, "Laptop").await;
    let kid = emulator.state().keys.active_kid();
    let valid_claims = access_claims(&emulator, &user, APP_CLIENT_ID, now() + 300).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);

    // A valid token works (and loads the JWKS)
    let ok = get_as(&http, &url, user_token(&emulator, &user).await).await;
    assert_eq!(ok.status(), 200);

    let mut expired_claims = access_claims(&emulator, &user, APP_CLIENT_ID, now() - 3600).await;
    expired_claims["iat"] = (now() - 7200).into();
    expired_claims["nbf"] = (now() - 7200).into();
    let mut future_claims = valid_claims.clone();
    future_claims["nbf"] = (now() + 3600).into();
    let mut other_issuer_claims = valid_claims.clone();
    other_issuer_claims["iss"] = "https://elsewhere.scalekit.dev".into();
    let mut no_sub_claims = valid_claims.clone();
    no_sub_claims.as_object_mut().unwrap().remove("sub");
    let mut id_token_claims = valid_claims.clone();
    id_token_claims["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ".into();
    // An ID token without at_hash (allowed for the code flow's token
    // endpoint answer) has no jti either: no positive mark of an access token.
    let mut no_jti_claims = valid_claims.clone();
    no_jti_claims.as_object_mut().unwrap().remove("jti");
    let other_audience = access_claims(&emulator, &user, "ntvc_other_app", now() + 300).await;

    let cases: Vec<(&str, String)> = vec![
        (
            "forged: right kid, other key",
            sign_with_foreign_key(&valid_claims, &kid),
        ),
        (
            "forged: unknown kid",
            sign_with_foreign_key(&valid_claims, "kid-nobody-published"),
        ),
        (
            "expired",
            sign_with_environment_key(&emulator, &expired_claims),
        ),
        (
            "not yet valid",
            sign_with_environment_key(&emulator, &future_claims),
        ),
        (
            "other audience",
            sign_with_environment_key(&emulator, &other_audience),
        ),
        (
            "other issuer",
            sign_with_environment_key(&emulator, &other_issuer_claims),
        ),
        (
            "no subject",
            sign_with_environment_key(&emulator, &no_sub_claims),
        ),
        (
            "ID token",
            sign_with_environment_key(&emulator, &id_token_claims),
        ),
        (
            "no jti: not marked as an access token",
            sign_with_environment_key(&emulator, &no_jti_claims),
        ),
        ("three parts, not a JWT", "not.a.jwt".to_owned()),
        ("alg none", {
            let token = user_token(&emulator, &user).await;
            let mut parts = token.split('.');
            let _header = parts.next();
            let payload = parts.next().unwrap();
            // {"alg":"none","typ":"JWT"}
            format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")
        }),
    ];

    for (name, token) in cases {
        let response = get_as(&http, &url, &token).await;
        let message = assert_unauthenticated(response).await;
        assert!(
            !message.contains(&token),
            "{name}: message echoes the token"
        );
    }

    // No Authorization header at all
    let response = http.get(&url).send().await.unwrap();
    assert_eq!(assert_unauthenticated(response).await, "Token empty");

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn client_credentials_token_of_another_client_is_refused() {
    // Given a real token the environment issues to its confidential client
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let http = http();
    let answer: Value = http
        .post(at(emulator.base_url(), "/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", BROKER_CLIENT_ID),
            ("client_secret", BROKER_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let machine_token = answer["access_token"].as_str().unwrap();

    // When it is presented to the broker as a user token
    let response = list_as(&broker, machine_token).await;

    // Then it is refused: it was not issued to the app
    let message = assert_unauthenticated(response).await;
    assert_eq!(message, "token was not issued to this app");

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up() {
    // Given a broker that has cached the environment's keys
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.jwks_min_refetch_interval = std::time::Duration::ZERO;
    let broker = start_broker(config).await;
    let user = create_user(&emulator, "ada@example.com").await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    let before = get_as(&http, &url, user_token(&emulator, &user).await).await;
    assert_eq!(before.status(), 200);

    // When the environment rotates its key and signs with the new one
    let new_kid = emulator.state().keys.rotate().await.unwrap();
    let token = user_token(&emulator, &user).await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some(new_kid.as_str())
    );

    // Then the broker fetches the JWKS again and accepts the token
    let after = get_as(&http, &url, &token).await;
    assert_eq!(after.status(), 200);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_retired_signing_key_stops_verifying_once_the_cached_keys_are_old() {
    // Given a broker that has verified a token signed with the first key
    let emulator = start_emulator().await;
    let config = broker_config(&emulator);
    let max_age = config.jwks_max_age;
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let user = create_user(&emulator, "ada@example.com").await;
    let old_token = user_token(&emulator, &user).await;
    let old_kid = emulator.state().keys.active_kid();
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    let status = |token: String| {
        let request = http.get(&url).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(status(old_token.clone()).await, 200);

    // When the environment rotates and retires that key
    emulator.state().keys.rotate().await.unwrap();
    emulator.state().keys.retire(&old_kid).await.unwrap();
    // and the broker's copy of the keys grows old
    clock.advance(max_age);

    // Then tokens signed with the retired key are refused
    let refused = get_as(&http, &url, &old_token).await;
    assert_eq!(
        assert_unauthenticated(refused).await,
        "token signed with an unknown key"
    );
    // and tokens signed with the new key are accepted
    assert_eq!(status(user_token(&emulator, &user).await).await, 200);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn held_keys_stay_in_use_when_a_refresh_fails() {
    // Given a broker that fetched the keys through a proxy
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.jwks_url = Some(proxy.url("keys"));
    let max_age = config.jwks_max_age;
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let user = create_user(&emulator, "ada@example.com").await;
    let token = user_token(&emulator, &user).await;
    let http = http();
    let url = at(broker.base_url(), CREDENTIALS);
    assert_eq!(get_as(&http, &url, &token).await.status(), 200);
    assert_eq!(proxy.count("GET", "/keys"), 1);

    // When the keys are due for a refresh but the JWKS cannot be reached
    proxy.stop();
    clock.advance(max_age);

    // Then the keys held still verify the token
    let response = get_as(&http, &url, &token).await;
    assert_eq!(response.status(), 200);
    // (and the refresh really did not get through)
    assert_eq!(proxy.count("GET", "/keys"), 1);

    broker.shutdown().await;
    emulator.shutdown().await;
}
