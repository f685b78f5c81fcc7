//! `/oauth/token` with malformed or oversized requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::{oauth_error, verifier, Env, NATIVE};
use reqwest::StatusCode;
use serde_json::json;

/// A token-request form, the status it earns and the OAuth error code.
type Refusal = (
    &'static [(&'static str, &'static str)],
    StatusCode,
    &'static str,
);

/// POSTs `body` as a form without encoding it first.
async fn post_raw_form(env: &Env, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    env.http
        .post(env.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

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
    let repeated = post_raw_form(
        &env,
        "/oauth/token",
        "grant_type=refresh_token&grant_type=refresh_token&client_id=ntvc_demo&refresh_token=x",
    )
    .await;
    oauth_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
    let forms: [Refusal; 5] = [
        (
            &[("client_id", NATIVE)],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &[("grant_type", "password"), ("client_id", NATIVE)],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "ntvc_unknown"),
                ("refresh_token", "x"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[("grant_type", "refresh_token"), ("refresh_token", "x")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", NATIVE),
                ("client_secret", "x"),
                ("refresh_token", "x"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (form, status, error) in forms {
        oauth_error(env.token(form).await, status, error).await;
    }
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
    let garbage = post_raw_form(&env, "/oauth/token", vec![0xff, 0xfe, b'=', b'&', b'&']).await;
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
        let response = post_raw_form(&env, path, huge.clone()).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}
