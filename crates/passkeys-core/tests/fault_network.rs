//! Network and environment faults, and what the user sees for each (the
//! `{kind, message}` the UI receives): the network going down mid-sign-in
//! and mid-refresh, 500s, garbage JSON, truncated bodies and slow answers.
//! A failure never signs the user out by itself and never stores half a session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    client, fake_clock, http_response, json_response, loopback_client, past_expiry,
    refresh_at_expiry, signed_in, Action, Delivery, Env, MemoryStore,
};
use passkeys_core::{ClientOptions, ErrorKind, SessionState, UiError};
use serde_json::json;

/// An answer that announces more body than it sends, then closes.
fn truncated(status: u16, body: &str) -> Vec<u8> {
    let full = http_response(status, "application/json", body.as_bytes());
    let text = String::from_utf8(full).unwrap();
    let cut = text.len() - body.len() / 2;
    text.as_bytes()[..cut].to_vec()
}

async fn sign_in_fails(env: &Env) -> (UiError, Arc<MemoryStore>) {
    let (app, _, store, _) = loopback_client(env, Delivery::Loopback).await;
    let error = app.sign_in(|_| {}).await.unwrap_err();
    assert!(store.is_empty(), "nothing stored after {error}");
    assert_eq!(app.session().await.unwrap(), SessionState::SignedOut);
    (UiError::from(error), store)
}

#[tokio::test]
async fn network_down_mid_sign_in_fails_cleanly_and_a_retry_works() {
    let env = Env::start().await;
    env.when(
        |request| request.is_grant("authorization_code"),
        || Action::Cut,
    );

    let (shown, _) = sign_in_fails(&env).await;

    assert_eq!(shown.kind, ErrorKind::Network);
    assert!(
        shown
            .message
            .starts_with("Could not reach the sign-in server"),
        "{}",
        shown.message
    );
    assert!(shown.message.contains("Check your connection"));
    env.clear_rule();
    signed_in(&env).await;
}

#[tokio::test]
async fn network_down_mid_refresh_keeps_the_session() {
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let before = store.snapshot();
    env.when(|request| request.is_grant("refresh_token"), || Action::Cut);
    let app = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;

    let shown = UiError::from(app.list_passkeys().await.unwrap_err());

    assert_eq!(shown.kind, ErrorKind::Network);
    assert!(shown
        .message
        .starts_with("Could not reach the sign-in server"));
    assert_eq!(store.snapshot(), before, "still signed in, nothing changed");
    assert!(matches!(
        app.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));

    // When the network is back, the same refresh token still works.
    env.clear_rule();
    app.list_passkeys().await.unwrap();
    assert_eq!(env.refresh_grants(), 2);
}

#[tokio::test]
async fn server_errors_from_the_passkeys_api_are_shown() {
    let env = Env::start().await;
    let (app, config, store, _) = signed_in(&env).await;
    let before = store.snapshot();
    let table: Vec<(Vec<u8>, ErrorKind, &str)> = vec![
        (
            http_response(500, "text/html", b"<h1>Internal Server Error</h1>"),
            ErrorKind::Server,
            "The passkeys service failed (HTTP 500). Try again later.",
        ),
        (
            json_response(503, &json!({"code": 14, "message": "upstream unavailable"})),
            ErrorKind::Server,
            "upstream unavailable",
        ),
        (
            // Found by fuzzing: a message of control characters only.
            json_response(500, &json!({"code": 13, "message": "\u{0}\u{7}\n"})),
            ErrorKind::Server,
            "The passkeys service failed (HTTP 500). Try again later.",
        ),
        (
            http_response(200, "application/json", b"{\"credentials\": [tru"),
            ErrorKind::Server,
            "The passkeys service sent an answer the app cannot read.",
        ),
        (
            http_response(200, "text/html", b"<html>captive portal</html>"),
            ErrorKind::Server,
            "The passkeys service sent an answer the app cannot read.",
        ),
        (
            json_response(200, &json!({"credentials": "not a list"})),
            ErrorKind::Server,
            "The passkeys service sent an answer the app cannot read.",
        ),
    ];
    for (answer, kind, message) in table {
        env.respond_when(|request| request.is_api(), answer);
        let shown = UiError::from(app.list_passkeys().await.unwrap_err());
        assert_eq!(shown.kind, kind, "{}", shown.message);
        assert_eq!(shown.message, message);
    }
    assert_eq!(store.snapshot(), before, "still signed in");
    let _ = config;
}

#[tokio::test]
async fn truncated_api_body_is_a_network_error() {
    let env = Env::start().await;
    let (app, _, store, _) = signed_in(&env).await;
    let before = store.snapshot();
    let body = json!({"credentials": [{"id": "wac_1", "display_name": "x"}]}).to_string();
    let answer = truncated(200, &body);
    env.respond_when(|request| request.is_api(), answer);

    let shown = UiError::from(app.list_passkeys().await.unwrap_err());

    assert_eq!(shown.kind, ErrorKind::Network, "{}", shown.message);
    assert!(shown
        .message
        .starts_with("Could not reach the passkeys service"));
    assert_eq!(store.snapshot(), before);
}

#[tokio::test]
async fn slow_passkeys_api_times_out() {
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    env.when(
        |request| request.is_api(),
        || Action::Slow(Duration::from_secs(30)),
    );
    let options = ClientOptions {
        http_timeout: Duration::from_millis(500),
        ..ClientOptions::default()
    };
    let app = client(config, store.clone(), browser, options).await;

    let shown = UiError::from(app.list_passkeys().await.unwrap_err());

    assert_eq!(shown.kind, ErrorKind::Timeout);
    assert_eq!(
        shown.message,
        "The passkeys service did not answer in time. Try again."
    );
    assert!(!store.is_empty());
}

#[tokio::test]
async fn token_endpoint_faults_at_sign_in_store_nothing() {
    let env = Env::start().await;
    let table: Vec<(Vec<u8>, ErrorKind, &str)> = vec![
        (
            http_response(500, "text/html", b"<h1>oops</h1>"),
            ErrorKind::Server,
            "could not be read",
        ),
        (
            http_response(200, "application/json", b"{\"access_token\": \"at\", \"tok"),
            ErrorKind::Server,
            "could not be read",
        ),
        (
            json_response(200, &json!({"token_type": "Bearer"})),
            ErrorKind::Server,
            "could not be read",
        ),
        (
            json_response(
                400,
                &json!({"error": "server_error", "error_description": "try later"}),
            ),
            ErrorKind::Server,
            "refused the sign-in code (server_error: try later)",
        ),
        (
            truncated(
                200,
                &json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300})
                    .to_string(),
            ),
            ErrorKind::Network,
            "Could not reach the sign-in server",
        ),
    ];
    for (answer, kind, message) in table {
        env.respond_when(|request| request.is_grant("authorization_code"), answer);
        let (shown, _) = sign_in_fails(&env).await;
        assert_eq!(shown.kind, kind, "{}", shown.message);
        assert!(shown.message.contains(message), "{}", shown.message);
    }
}

#[tokio::test]
async fn token_endpoint_faults_at_refresh_keep_the_session() {
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let before = store.snapshot();
    let app = client(config, store.clone(), browser, refresh_at_expiry(&clock)).await;
    for answer in [
        http_response(502, "text/html", b"<h1>Bad gateway</h1>"),
        http_response(200, "application/json", b"garbage"),
        json_response(500, &json!({"error": "temporarily_unavailable"})),
    ] {
        env.respond_when(|request| request.is_grant("refresh_token"), answer);
        let shown = UiError::from(app.list_passkeys().await.unwrap_err());
        assert_eq!(shown.kind, ErrorKind::Server, "{}", shown.message);
        assert_eq!(store.snapshot(), before, "{}", shown.message);
    }
}

#[tokio::test]
async fn broken_discovery_is_a_server_error_and_opens_no_browser() {
    let env = Env::start().await;
    for answer in [
        http_response(500, "text/html", b"down"),
        http_response(200, "application/json", b"{\"issuer\": "),
        json_response(200, &json!({"issuer": "http://localhost:1"})),
    ] {
        env.respond_when(
            |request| request.target.starts_with("/.well-known/"),
            answer,
        );
        let (app, _, store, browser) = loopback_client(&env, Delivery::Loopback).await;
        let shown = UiError::from(app.sign_in(|_| {}).await.unwrap_err());
        assert_eq!(shown.kind, ErrorKind::Server, "{}", shown.message);
        assert!(browser.opened().is_empty());
        assert!(store.is_empty());
    }
}
