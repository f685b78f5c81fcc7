//! Tokens against the emulator: refresh with rotation, 401-then-retry,
//! single-flight refresh under load, refresh failure, sign-out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    client, fake_clock, past_expiry, query, refresh_at_expiry, signed_in, Action, Env, Gate,
};
use passkeys_core::secret::AccessToken;
use passkeys_core::{ClientOptions, Clock as _, ErrorKind, SessionState};

#[tokio::test]
async fn expired_token_is_refreshed_with_rotation() {
    // Given a session whose access token has expired
    let harness = Env::start().await;
    let (_, config, store, browser) = signed_in(&harness).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let before = store.session(&config).await.unwrap();
    let old_refresh = before.refresh_token.clone().unwrap();

    // When an API call is made
    let client = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;
    client.list_passkeys().await.unwrap();

    // Then one refresh rotated both tokens, stored before use
    assert_eq!(harness.refresh_grants(), 1);
    let after = store.session(&config).await.unwrap();
    assert_ne!(after.access_token.secret(), before.access_token.secret());
    let new_refresh = after.refresh_token.clone().unwrap();
    assert_ne!(new_refresh.secret(), old_refresh.secret());
    // (the emulator's `expires_in` is 299 s, read from the client's clock)
    assert_eq!(
        after.expires_at,
        clock.now_utc() + time::Duration::seconds(299)
    );
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
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let client = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;
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
            s.access_token = AccessToken::new("not.a-valid.token".into())
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
    assert_ne!(after.access_token.secret(), "not.a-valid.token");
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
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let client = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;

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

#[tokio::test]
async fn signing_in_again_revokes_the_replaced_session() {
    // Given a signed-in client
    let harness = Env::start().await;
    let (client, config, store, _browser) = signed_in(&harness).await;
    let old = store.session(&config).await.unwrap();
    let old_refresh = old.refresh_token.clone().unwrap();

    // When the person signs in again (as after "Sign in as another account?")
    client.sign_in(|_| {}).await.unwrap();

    // Then the keychain holds the new session
    let new = store.session(&config).await.unwrap();
    let new_refresh = new.refresh_token.clone().unwrap();
    assert_ne!(new_refresh.secret(), old_refresh.secret());

    // And the replaced session's refresh token no longer works
    let reused = harness.refresh_grant(old_refresh.secret()).await;
    assert_eq!(reused.status(), 400);
    // While the new one does
    let fresh = harness.refresh_grant(new_refresh.secret()).await;
    assert_eq!(fresh.status(), 200);
}

#[tokio::test]
async fn sign_out_during_a_refresh_stays_signed_out() {
    // Given a window whose access token has expired, and a token endpoint
    // whose refresh answer is held on its way back
    let env = Env::start().await;
    let (_, config, store, browser) = signed_in(&env).await;
    let clock = fake_clock();
    past_expiry(&store, &config, &clock).await;
    let window = client(
        config.clone(),
        store.clone(),
        browser,
        refresh_at_expiry(&clock),
    )
    .await;
    let gate = Arc::new(Gate::default());
    env.when(|request| request.is_grant("refresh_token"), {
        let gate = Arc::clone(&gate);
        move || Action::Hold(Arc::clone(&gate))
    });

    // When a call starts the refresh and the user signs out before its answer lands
    let call = tokio::spawn({
        let window = window.clone();
        async move { window.list_passkeys().await }
    });
    gate.held.notified().await;
    window.sign_out().await.unwrap();
    assert!(store.is_empty());
    gate.release.notify_one();
    let outcome = call.await.unwrap();

    // Then the refreshed tokens went nowhere: the keychain stays empty and
    // the window is signed out
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::SignInRequired);
    assert!(store.is_empty(), "the refresh brought the session back");
    assert_eq!(window.session().await.unwrap(), SessionState::SignedOut);
    assert_eq!(env.refresh_grants(), 1);
    // And the refresh token it carried was revoked too (after the sign-out's own)
    let revocations = env
        .proxy
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.starts_with("POST /revoke"))
        .count();
    assert_eq!(revocations, 2);
}

/// The window and the command line: two clients (two processes) on one keychain entry.
async fn two_processes(
    env: &Env,
    options: ClientOptions,
) -> (
    passkeys_core::Client,
    passkeys_core::Client,
    passkeys_core::Config,
    Arc<common::MemoryStore>,
) {
    let (_, config, store, browser) = signed_in(env).await;
    let window = client(
        config.clone(),
        store.clone(),
        browser.clone(),
        options.clone(),
    )
    .await;
    let cli = client(config.clone(), store.clone(), browser, options).await;
    (window, cli, config, store)
}

#[tokio::test]
async fn a_refresh_by_another_process_is_used_instead_of_the_rotated_token() {
    // Given the window holding a session whose access token has expired
    let env = Env::start().await;
    let clock = fake_clock();
    let (window, cli, config, store) = two_processes(&env, refresh_at_expiry(&clock)).await;
    past_expiry(&store, &config, &clock).await;
    assert!(matches!(
        window.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));

    // When the command line refreshes first (rotating the refresh token)
    cli.list_passkeys().await.unwrap();
    assert_eq!(env.refresh_grants(), 1);

    // Then the window's next call uses the command line's session instead of
    // redeeming the rotated refresh token
    window.list_passkeys().await.unwrap();
    assert_eq!(env.refresh_grants(), 1, "nothing was redeemed twice");

    // And nobody is signed out: both keep working on the same family
    cli.list_passkeys().await.unwrap();
    let stored = store.session(&config).await.unwrap();
    let alive = env
        .refresh_grant(stored.refresh_token.unwrap().secret())
        .await;
    assert_eq!(alive.status(), 200, "the family was not revoked");
}

#[tokio::test]
async fn two_processes_refreshing_in_turn_never_replay_a_refresh_token() {
    // Given two processes that refresh on every call (the skew exceeds the
    // access token's lifetime)
    let env = Env::start().await;
    let always = ClientOptions {
        refresh_skew: Duration::from_secs(24 * 60 * 60),
        ..ClientOptions::default()
    };
    let (window, cli, config, store) = two_processes(&env, always).await;

    // When they take turns, each rotating the refresh token the other last saw
    for turn in 0..3 {
        cli.list_passkeys()
            .await
            .unwrap_or_else(|error| panic!("command line, turn {turn}: {error}"));
        window
            .list_passkeys()
            .await
            .unwrap_or_else(|error| panic!("window, turn {turn}: {error}"));
    }

    // Then every refresh used the newest refresh token: nobody was signed out
    assert_eq!(env.refresh_grants(), 6);
    assert!(store.session(&config).await.is_some());
    assert!(matches!(
        window.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));
    assert!(matches!(
        cli.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));
}

#[tokio::test]
async fn a_sign_out_by_another_process_ends_this_session_without_a_refresh() {
    // Given the window and the command line signed in on one keychain entry,
    // the window's access token expired
    let env = Env::start().await;
    let clock = fake_clock();
    let (window, cli, config, store) = two_processes(&env, refresh_at_expiry(&clock)).await;
    past_expiry(&store, &config, &clock).await;
    assert!(matches!(
        window.session().await.unwrap(),
        SessionState::SignedIn { .. }
    ));

    // When the command line signs out and the window then needs a refresh
    cli.sign_out().await.unwrap();
    let error = window.list_passkeys().await.unwrap_err();

    // Then the window follows the keychain: signed out, nothing redeemed or stored
    assert_eq!(error.kind(), ErrorKind::SessionExpired, "{error}");
    assert_eq!(env.refresh_grants(), 0);
    assert!(store.is_empty());
    assert_eq!(window.session().await.unwrap(), SessionState::SignedOut);
}
