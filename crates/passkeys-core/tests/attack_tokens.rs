//! Token theft and transport attacks: a stolen refresh token replayed (the
//! emulator revokes the whole family and the app signs out cleanly), a token
//! endpoint that redirects (never followed), plain-http environments and
//! endpoints on other hosts (refused).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::{
    client, fake_clock, http_response, json_response, loopback_client, past_expiry,
    refresh_at_expiry, signed_in, Action, Delivery, Env, MemoryStore,
};
use passkeys_core::{Client, Config, ErrorKind, SessionState, UiError};
use url::Url;

/// A redirect answer to `location`.
fn redirect_response(status: u16, location: &Url) -> Vec<u8> {
    let answer = String::from_utf8(http_response(status, "text/plain", b"")).unwrap();
    answer
        .replacen("\r\n", &format!("\r\nLocation: {location}\r\n"), 1)
        .into_bytes()
}

#[tokio::test]
async fn replayed_refresh_token_revokes_the_family_and_signs_out_cleanly() {
    // Given a signed-in app whose refresh token an attacker stole and redeemed first
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let stolen = store.session(&config).await.unwrap();
    let stolen_refresh = stolen.refresh_token.clone().unwrap();
    let attacker = env
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ntvc_demo"),
            ("refresh_token", stolen_refresh.secret()),
        ])
        .await;
    assert_eq!(attacker.status(), 200);
    let attacker: serde_json::Value = attacker.json().await.unwrap();
    let attacker_refresh = attacker["refresh_token"].as_str().unwrap().to_string();
    let attacker_access = attacker["access_token"].as_str().unwrap().to_string();

    // When the app's access token expires and it redeems its (now replayed) refresh token
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let app = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;
    let error = app.list_passkeys().await.unwrap_err();

    // Then the app is signed out with the session-expired notice, keychain purged
    assert_eq!(error.kind(), ErrorKind::SessionExpired);
    let shown = UiError::from(error);
    assert_eq!(shown.message, "Your session expired. Sign in again.");
    assert!(store.is_empty(), "the keychain entry was purged");
    assert_eq!(app.session().await.unwrap(), SessionState::SignedOut);
    assert_eq!(
        app.list_passkeys().await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );

    // And the whole family is dead: the attacker's rotated tokens too
    let reuse = env
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("client_id", "ntvc_demo"),
            ("refresh_token", &attacker_refresh),
        ])
        .await;
    assert_eq!(reuse.status(), 400);
    let body: serde_json::Value = reuse.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let api = reqwest::Client::new()
        .get(env.base_url.join("/api/v1/webauthn/credentials").unwrap())
        .bearer_auth(&attacker_access)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "the attacker's access token was revoked");
}

#[tokio::test]
async fn token_endpoint_redirect_is_not_followed() {
    // A token endpoint answering 307 would make a following client re-send the
    // code and PKCE verifier (or a refresh token) to the redirect target.
    let env = Env::start().await;
    let trap = env.base_url.join("/trap/token").unwrap();
    let redirect = redirect_response(307, &trap);
    env.respond_when(|request| request.target == "/oauth/token", redirect.clone());
    let (app, _, store, _) = loopback_client(&env, Delivery::Loopback).await;

    let error = app.sign_in(|_| {}).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(
        !requests.iter().any(|line| line.contains("/trap/")),
        "the redirect was followed: {requests:?}"
    );
    assert!(store.is_empty());
    assert_eq!(store.writes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn refresh_redirect_is_not_followed_and_keeps_the_session() {
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let before = store.snapshot();
    let trap = env.base_url.join("/trap/refresh").unwrap();
    env.when(
        |request| request.target == "/oauth/token",
        move || Action::Respond(redirect_response(308, &trap)),
    );
    let app = client(config, store.clone(), browser, refresh_at_expiry(&clock)).await;

    let error = app.list_passkeys().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(!requests.iter().any(|line| line.contains("/trap/")));
    assert_eq!(
        store.snapshot(),
        before,
        "a server failure is not a sign-out"
    );
}

#[tokio::test]
async fn http_environment_on_another_host_is_refused() {
    let store: Arc<MemoryStore> = Arc::default();
    for url in [
        "http://auth.example.com",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.example",
        "http://10.0.0.8:8080",
        "http://[::ffff:8.8.8.8]",
        "ftp://localhost",
    ] {
        let config = Config::new(Url::parse(url).unwrap(), "ntvc_demo");
        let error = config.validate().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config, "{url}");
        assert!(error.to_string().contains("https://"), "{url}: {error}");
        let browser = Arc::new(passkeys_core::CommandBrowser::new("true").unwrap());
        let built = Client::new(config, store.clone(), browser).await;
        assert_eq!(built.unwrap_err().kind(), ErrorKind::Config, "{url}");
    }
    for url in [
        "http://localhost:8080",
        "http://127.0.0.1:9",
        "http://[::1]:9",
        "https://auth.example.com",
    ] {
        Config::new(Url::parse(url).unwrap(), "ntvc_demo")
            .validate()
            .unwrap_or_else(|error| panic!("{url}: {error}"));
    }
}

#[tokio::test]
async fn discovery_advertising_plain_http_endpoints_elsewhere_is_refused() {
    // A network attacker (or a bad configuration) downgrades the token
    // endpoint to plain http on another host.
    let env = Env::start().await;
    env.set_rule(|request| {
        if request.target == "/.well-known/openid-configuration" {
            Action::Rewrite(Box::new(|response| {
                let mut body = response.json();
                body["token_endpoint"] = serde_json::json!("http://evil.example/oauth/token");
                json_response(200, &body)
            }))
        } else {
            Action::Forward
        }
    });
    let (app, _, store, browser) = loopback_client(&env, Delivery::Loopback).await;

    let error = app.sign_in(|_| {}).await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server);
    assert!(error.to_string().contains("not https"), "{error}");
    assert!(browser.opened().is_empty(), "no browser was opened");
    assert!(store.is_empty());
}
