//! `GET/PUT /_admin/passkeys`: the environment's passkeys switch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{api_error, Env, ADMIN};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;
use scalekit_emulator::db;
use serde_json::{json, Value};

#[tokio::test]
async fn the_switch_needs_the_admin_token_and_is_persisted() {
    let env = Env::start().await;
    let url = env.url("/_admin/passkeys");
    let get = env
        .http
        .get(url.clone())
        .header(AUTHORIZATION, format!("Bearer {ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.json::<Value>().await.unwrap(), json!({"enabled": true}));

    let no_token = env
        .http
        .put(url.clone())
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    api_error(no_token, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let wrong = env
        .http
        .get(url.clone())
        .header(AUTHORIZATION, "Bearer test-admin-tokeN")
        .send()
        .await
        .unwrap();
    api_error(wrong, StatusCode::UNAUTHORIZED, 16, "UNAUTHENTICATED").await;
    let bad_body = env
        .http
        .put(url.clone())
        .header(AUTHORIZATION, format!("Bearer {ADMIN}"))
        .json(&json!({"enabled": "no"}))
        .send()
        .await
        .unwrap();
    api_error(bad_body, StatusCode::BAD_REQUEST, 3, "INVALID_ARGUMENT").await;
    assert!(env.emulator.state().passkeys_enabled());

    let put = env
        .http
        .put(url.clone())
        .header(AUTHORIZATION, format!("Bearer {ADMIN}"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(
        put.json::<Value>().await.unwrap(),
        json!({"enabled": false})
    );
    assert!(!env.emulator.state().passkeys_enabled());
    let stored = env
        .emulator
        .state()
        .db
        .call(|c| db::setting(c, db::PASSKEYS_ENABLED))
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("false"));
    let get = env
        .http
        .get(url)
        .header(AUTHORIZATION, format!("Bearer {ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get.json::<Value>().await.unwrap(),
        json!({"enabled": false})
    );
}

#[tokio::test]
async fn without_an_admin_token_the_routes_are_forbidden() {
    let mut config = scalekit_emulator::Config::for_tests();
    config.admin_token = None;
    let env = Env::start_with(config).await;
    let response = env
        .http
        .get(env.url("/_admin/passkeys"))
        .header(AUTHORIZATION, "Bearer anything")
        .send()
        .await
        .unwrap();
    api_error(response, StatusCode::FORBIDDEN, 7, "PERMISSION_DENIED").await;
}
