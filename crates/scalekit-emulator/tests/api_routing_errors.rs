//! A request no API route takes gets what grpc-gateway's
//! `DefaultRoutingErrorHandler` writes, as JSON: an unknown path under
//! `/api/` is `{"code":5,"message":"Not Found"}` (HTTP 404), a known path
//! with a method it does not take `{"code":12,"message":"Method Not
//! Allowed"}` (HTTP 501, what grpc-gateway answers `UNIMPLEMENTED` with).
//! Routing comes before authentication, so no token is needed to learn it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod oidc_support;

use oidc_support::Env;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use scalekit_wire::{routes, ErrorBody, GrpcCode};
use serde_json::json;

/// Sends `method path` (with an environment client's token when `token` is
/// given) and checks the answer is the routing error of `code`.
async fn routing_error(env: &Env, method: Method, path: &str, token: Option<&str>, code: GrpcCode) {
    let response = env.api(method.clone(), path, token).send().await.unwrap();
    let what = format!("{method} {path}");
    assert_eq!(response.status().as_u16(), code.http_status(), "{what}");
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/json", "{what}");
    let body: serde_json::Value = response.json().await.unwrap();
    let message = match code {
        GrpcCode::NotFound => "Not Found",
        _ => "Method Not Allowed",
    };
    assert_eq!(
        body,
        json!({"code": code.code(), "message": message}),
        "{what}"
    );
    let read = ErrorBody::from_json(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        read.code.and_then(GrpcCode::from_code),
        Some(code),
        "{what}"
    );
}

#[tokio::test]
async fn unknown_api_paths_are_grpc_gateways_not_found() {
    let env = Env::start().await;
    let token = env.client_token().await;
    for path in [
        "/api/v1/nothing",
        "/api/v2/webauthn/credentials",
        "/api/v1/webauthn/credentials/wac_1/extra",
        "/api/v1/sessions",
        "/api/",
    ] {
        for token in [None, Some(token.as_str())] {
            routing_error(&env, Method::GET, path, token, GrpcCode::NotFound).await;
        }
    }
    routing_error(&env, Method::POST, "/api/v1/x", None, GrpcCode::NotFound).await;
}

#[tokio::test]
async fn a_method_an_api_route_does_not_take_is_grpc_gateways_method_not_allowed() {
    let env = Env::start().await;
    let token = env.client_token().await;
    let session = routes::SESSION_PATH.replace("{session_id}", "ses_1");
    let revoke = routes::REVOKE_SESSION_PATH.replace("{session_id}", "ses_1");
    let credential = routes::CREDENTIAL_PATH.replace("{id}", "wac_1");
    let user_sessions = routes::USER_SESSIONS_PATH.replace("{user_id}", "usr_1");
    let cases = [
        (Method::POST, routes::CREDENTIALS_PATH),
        (Method::DELETE, routes::CREDENTIALS_PATH),
        (Method::PUT, credential.as_str()),
        (Method::GET, credential.as_str()),
        (Method::DELETE, session.as_str()),
        (Method::GET, revoke.as_str()),
        (Method::POST, user_sessions.as_str()),
    ];
    for (method, path) in cases {
        for token in [None, Some(token.as_str())] {
            routing_error(&env, method.clone(), path, token, GrpcCode::Unimplemented).await;
        }
    }
}

#[tokio::test]
async fn other_unknown_pages_stay_html() {
    let env = Env::start().await;
    let response = env.http.get(env.url("/no/such/page")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}
