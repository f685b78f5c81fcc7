//! Tokens against the emulator: refresh with rotation, 401-then-retry,
//! single-flight refresh under load, refresh failure, sign-out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{client, query, refresh_at_expiry, signed_in, Env};
use passkeys_core::secret::AccessToken;
use passkeys_core::{ClientOptions, ErrorKind, SessionState};
use time::OffsetDateTime;

#[tokio::test]
async fn expired_token_is_refreshed_with_rotation() {
    // Given a session whose access token has expired
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    store.expire_access_token(&config).await;
    let before = store.session(&config).await.unwrap();
    let old_refresh = before.refresh_token.clone().unwrap();

    // When an API call is made
    let client = client(config.clone(), store.clone(), browser, refresh_at_expiry()).await;
    client.list_passkeys().await.unwrap();

    // Then one refresh rotated both tokens, stored before use
    assert_eq!(harness.refresh_grants(), 1);
    let after = store.session(&config).await.unwrap();
    assert_ne!(after.access_token.secret(), before.access_token.secret());
    let new_refresh = after.refresh_token.clone().unwrap();
    assert_ne!(new_refresh.secret(), old_refresh.secret());
    assert!(after.expires_at > OffsetDateTime::now_utc());
    assert_eq!(after.account, before.account);

    // And the emulator refuses the old refresh token now
    let reused = harness.refresh_grant(old_refresh.secret()).await;
    assert_eq!(reused.status(), 400);
    let body: serde_json::Value = reused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_calls_at_expiry_refresh_once() {
    // Given an expired access token and a fresh client
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    store.expire_access_token(&config).await;
    let client = client(config.clone(), store.clone(), browser, refresh_at_expiry()).await;
    let before = harness.refresh_grants();

    // When 20 calls start at once
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.list_passkeys().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    // Then exactly one refresh request reached the token endpoint
    assert_eq!(harness.refresh_grants() - before, 1);
    assert_eq!(harness.api_requests(), 20);
}

#[tokio::test]
async fn a_401_triggers_one_refresh_and_one_retry() {
    // Given an access token the API does not accept (but that looks fresh)
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    store
        .edit_session(&config, |s| {
            s.access_token = AccessToken::new("not-a-valid-token".into())
        })
        .await;
    let client = client(
        config.clone(),
        store.clone(),
        browser,
        ClientOptions::default(),
    )
    .await;

    // When passkeys are listed
    let passkeys = client.list_passkeys().await.unwrap();

    // Then the first call got 401, one refresh happened, the retry succeeded
    assert!(passkeys.is_empty());
    assert_eq!(harness.api_requests(), 2);
    assert_eq!(harness.refresh_grants(), 1);
    let after = store.session(&config).await.unwrap();
    assert_ne!(after.access_token.secret(), "not-a-valid-token");
}

#[tokio::test]
async fn a_refused_refresh_signs_out_with_session_expired() {
    // Given a session whose refresh token was revoked elsewhere
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    let refresh = store.session(&config).await.unwrap().refresh_token.unwrap();
    let revoked = reqwest::Client::new()
        .post(harness.base_url.join("/revoke").unwrap())
        .form(&[
            ("token", refresh.secret().as_str()),
            ("client_id", common::CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    store.expire_access_token(&config).await;
    let client = client(config.clone(), store.clone(), browser, refresh_at_expiry()).await;

    // When an API call needs a refresh
    let error = client.list_passkeys().await.unwrap_err();

    // Then the user is told to sign in again and the keychain entry is gone
    assert_eq!(error.kind(), ErrorKind::SessionExpired);
    assert_eq!(error.to_string(), "Your session expired. Sign in again.");
    assert!(store.entries.lock().unwrap().is_empty());
    assert_eq!(client.session().await.unwrap(), SessionState::SignedOut);
    assert_eq!(
        client.list_passkeys().await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );
}

#[tokio::test]
async fn sign_out_revokes_purges_and_opens_the_logout_page() {
    // Given a signed-in client
    let harness = Env::start().await;
    let (client, config, store, browser) = signed_in(&harness).await;
    let session = store.session(&config).await.unwrap();
    let refresh = session.refresh_token.clone().unwrap();

    // When the user signs out
    client.sign_out().await.unwrap();

    // Then the keychain entry is gone and the client is signed out
    assert!(store.entries.lock().unwrap().is_empty());
    assert_eq!(client.session().await.unwrap(), SessionState::SignedOut);

    // And the refresh token was revoked at the emulator
    let reused = harness.refresh_grant(refresh.secret()).await;
    assert_eq!(reused.status(), 400);

    // And the end-session page was opened with the ID token as hint
    let logout = browser.opened().last().cloned().unwrap();
    assert_eq!(logout.path(), "/oidc/logout");
    let params = query(&logout);
    assert_eq!(
        params.get("id_token_hint").map(String::as_str),
        session.id_token.as_ref().map(|t| t.secret())
    );
    assert!(
        !params.contains_key("post_logout_redirect_uri"),
        "nobody listens in loopback mode"
    );
    let page = reqwest::get(logout).await.unwrap();
    assert!(page.status().is_success() || page.status().is_redirection());

    // And signing out again is harmless
    client.sign_out().await.unwrap();
    assert!(store.entries.lock().unwrap().is_empty());
}
