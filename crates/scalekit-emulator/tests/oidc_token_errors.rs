//! `/oauth/token` with malformed or oversized requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{oauth_error, verifier, Env, NATIVE};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn malformed_token_requests() {
    let env = Env::start().await;
    let json_body = env
        .http
        .post(env.url("/oauth/token"))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    oauth_error(json_body, StatusCode::BAD_REQUEST, "invalid_request").await;
    let repeated = env
        .http
        .post(env.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "grant_type=refresh_token&grant_type=refresh_token&client_id=ntvc_demo&refresh_token=x",
        )
        .send()
        .await
        .unwrap();
    oauth_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
    oauth_error(
        env.token(&[("client_id", NATIVE)]).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        env.token(&[("grant_type", "password"), ("client_id", NATIVE)])
            .await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        env.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ntvc_unknown"),
            ("refresh_token", "x"),
        ])
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        env.token(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        env.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", NATIVE),
            ("client_secret", "x"),
            ("refresh_token", "x"),
        ])
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    oauth_error(
        env.refresh("not-a-token").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    oauth_error(
        env.token(&[("grant_type", "refresh_token"), ("client_id", NATIVE)])
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    oauth_error(
        env.exchange("not-a-code", &verifier()).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let garbage = env
        .http
        .post(env.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', b'&', b'&'])
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let env = Env::start().await;
    let huge = format!(
        "grant_type=refresh_token&client_id={NATIVE}&refresh_token={}",
        "a".repeat(100 * 1024)
    );
    for path in ["/oauth/token", "/revoke", "/oauth/introspect"] {
        let response = env
            .http
            .post(env.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}
