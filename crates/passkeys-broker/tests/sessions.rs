//! A token whose session has ended, or which was revoked at sign-out, stops
//! working within the session check interval (20 s by default), though the
//! token itself has not expired.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use passkeys_broker::clock::ManualClock;
use scalekit_emulator::db;

#[tokio::test]
async fn a_signed_out_sessions_token_is_refused_within_the_check_interval() {
    // Given a person signed in to the app, listing through the broker
    let emulator = start_emulator().await;
    let proxy = CountingProxy::start(emulator.base_url()).await;
    let mut config = broker_config(&emulator);
    config.upstream_api_url = Some(proxy.base_url.clone());
    let interval = config.session_check_interval;
    assert!(interval <= Duration::from_secs(30));
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let (user, token, _) = sign_in(&emulator, "ada@example.com").await;
    assert_eq!(list_as(&broker, &token).await.status(), 200);
    assert_eq!(list_as(&broker, &token).await.status(), 200);
    // one question about the session for both calls
    let asked = || proxy.count("GET", &format!("/api/v1/sessions/{}", session_of(&token)));
    assert_eq!(asked(), 1);

    // When they sign out (the environment ends the session)
    let sid = session_of(&token);
    emulator
        .state()
        .db
        .call(move |c| db::end_browser_session(c, &sid))
        .await
        .unwrap();

    // Then once the interval has passed, their still unexpired token is refused
    clock.advance(interval);
    let response = list_as(&broker, &token).await;
    assert_eq!(response.status(), 401);
    let (code, message, _) = error_body(response).await;
    assert_eq!(code, 16);
    assert!(message.contains("session has ended"), "{message}");
    // and stays refused without asking again
    assert_eq!(list_as(&broker, &token).await.status(), 401);
    assert_eq!(asked(), 2);
    let _ = user;

    broker.shutdown().await;
    proxy.stop();
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_token_revoked_at_sign_out_is_refused_within_the_check_interval() {
    // Given a person signed in to the app, listing through a broker that
    // trusts an answer for 2 s
    let emulator = start_emulator().await;
    let mut config = broker_config(&emulator);
    config.session_check_interval = Duration::from_secs(2);
    let clock = Arc::new(ManualClock::new());
    let broker = passkeys_broker::start_with_clock(config, clock.clone())
        .await
        .unwrap();
    let (_, tokens) = sign_in_tokens(&emulator, "ada@example.com").await;
    let token = tokens.access_token;
    assert_eq!(list_as(&broker, &token).await.status(), 200);

    // When the app signs out: it revokes its refresh token (RFC 7009),
    // which ends the token family while the browser session stays active
    let revoked = http()
        .post(at(emulator.base_url(), "/revoke"))
        .form(&[
            ("token", tokens.refresh_token.unwrap().as_str()),
            ("client_id", APP_CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);

    // Then once the interval has passed, the still unexpired access token is refused
    clock.advance(Duration::from_secs(2));
    let response = list_as(&broker, &token).await;
    assert_eq!(response.status(), 401);
    let (code, message, _) = error_body(response).await;
    assert_eq!(code, 16);
    assert!(message.contains("sign in again"), "{message}");

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_live_session_is_live_only_for_the_user_it_belongs_to() {
    // Given Ada's live session, which the broker has seen live for her
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let ada = create_user(&emulator, "ada@example.com").await;
    let bob = create_user(&emulator, "bob@example.com").await;
    let sid = start_session(&emulator, &ada).await;
    let adas = access_claims_in_session(&emulator, &ada, &sid, APP_CLIENT_ID, now() + 300);
    let adas = issue_access_token(&emulator, &adas).await;
    assert_eq!(list_as(&broker, &adas).await.status(), 200);

    // When a token of Bob's names Ada's session
    let bobs = access_claims_in_session(&emulator, &bob, &sid, APP_CLIENT_ID, now() + 300);
    let bobs = issue_access_token(&emulator, &bobs).await;
    let response = list_as(&broker, &bobs).await;

    // Then the broker's memory of Ada's session does not admit it
    assert_eq!(response.status(), 401);
    let (_, message, _) = error_body(response).await;
    assert!(message.contains("session has ended"), "{message}");
    // and Ada is not affected
    assert_eq!(list_as(&broker, &adas).await.status(), 200);

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[tokio::test]
async fn tokens_without_a_session_or_naming_an_unknown_one_are_refused() {
    let emulator = start_emulator().await;
    let broker = start_broker(broker_config(&emulator)).await;
    let user = create_user(&emulator, "ada@example.com").await;

    let mut no_sid = access_claims(&emulator, &user, APP_CLIENT_ID, now() + 300).await;
    no_sid.as_object_mut().unwrap().remove("sid");
    let response = list_as(&broker, sign_with_environment_key(&emulator, &no_sid)).await;
    assert_eq!(response.status(), 401);
    let (_, message, _) = error_body(response).await;
    assert_eq!(message, "token is not tied to a session");

    let unknown =
        access_claims_in_session(&emulator, &user, "ses_nobody", APP_CLIENT_ID, now() + 300);
    let response = list_as(&broker, sign_with_environment_key(&emulator, &unknown)).await;
    assert_eq!(response.status(), 401);
    let (_, message, _) = error_body(response).await;
    assert!(message.contains("session has ended"), "{message}");

    broker.shutdown().await;
    emulator.shutdown().await;
}

#[test]
fn a_session_check_interval_over_30_seconds_is_refused() {
    let text = "environment_url = \"https://acme.scalekit.dev\"\nclient_id = \"ntvc_a\"\nupstream_client_id = \"skc_b\"\nsession_check_interval_secs = 31\n";
    let error = passkeys_broker::Config::from_toml_str(text, Some("s".into())).unwrap_err();
    assert!(error.to_string().contains("at most 30"), "{error}");
    let ok = text.replace("31", "30");
    assert!(passkeys_broker::Config::from_toml_str(&ok, Some("s".into())).is_ok());
}

/// The `sid` claim of a JWT, read without checking it.
fn session_of(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}
