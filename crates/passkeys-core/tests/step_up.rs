//! Step-up through the real broker and emulator: a removal with a stale
//! authentication is refused by the broker with its RFC 9470 challenge,
//! nothing is removed, and after the person confirms it is them in the
//! browser (`prompt=login`, `max_age`) the removal goes through. Cancelled,
//! nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{signed_in, Env};
use passkeys_core::{Error, ErrorKind};
use scalekit_emulator::db::NewPasskey;
use scalekit_emulator::testing;

/// The broker's setting in these tests: an authentication counts for 2 s.
const MAX_AGE: Duration = Duration::from_secs(2);

async fn add_passkey(env: &Env, user_id: &str, name: &str) -> String {
    let new = NewPasskey {
        user_id: user_id.to_owned(),
        passkey_json: "{}".into(),
        ..testing::synced_platform_passkey(
            "",
            "q83vEjRWeJA=",
            "fbfc3007-154e-4ecc-8c0b-6e020557d7bd",
            name,
        )
    };
    testing::store_passkey(&env.emulator, new).await.unwrap().id
}

async fn passkey_ids(env: &Env, user_id: &str) -> Vec<String> {
    let user_id = user_id.to_owned();
    env.emulator
        .state()
        .db
        .call(move |c| scalekit_emulator::db::passkeys_for_user(c, &user_id))
        .await
        .unwrap()
        .into_iter()
        .map(|passkey| passkey.id)
        .collect()
}

/// Waits until the sign-in is older than the broker's [`MAX_AGE`].
async fn let_the_sign_in_grow_old() {
    tokio::time::sleep(MAX_AGE + Duration::from_millis(1_100)).await;
}

#[tokio::test]
async fn a_fresh_sign_in_removes_at_once() {
    // Given someone who has just signed in (default broker: 5 minutes)
    let env = Env::start().await;
    let (app, config, store, browser) = signed_in(&env).await;
    let subject = store.session(&config).await.unwrap().account.subject;
    let key = add_passkey(&env, &subject, "Phone").await;

    // When they remove a passkey, it goes, and nobody is asked again
    app.remove_passkey(&key).await.unwrap();
    assert!(passkey_ids(&env, &subject).await.is_empty());
    assert_eq!(browser.authorize_urls().len(), 1, "only the sign-in itself");
}

#[tokio::test]
async fn a_stale_sign_in_is_challenged_then_confirmed_and_the_removal_goes_through() {
    // Given someone signed in longer ago than the broker allows for removals
    let env = Env::start_with(|broker| broker.step_up_max_age = MAX_AGE).await;
    let (app, config, store, browser) = signed_in(&env).await;
    let before = store.session(&config).await.unwrap();
    let subject = before.account.subject.clone();
    let key = add_passkey(&env, &subject, "Work laptop").await;
    let_the_sign_in_grow_old().await;

    // When they remove a passkey
    let error = app.remove_passkey(&key).await.unwrap_err();

    // Then the broker asks for a recent authentication and nothing is removed
    assert!(
        matches!(error, Error::ReauthenticationRequired { max_age_secs: 2 }),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::ReauthenticationRequired);
    assert_eq!(passkey_ids(&env, &subject).await, vec![key.clone()]);

    // When they confirm it is them in the browser
    let account = app.confirm_identity(|_| {}).await.unwrap();

    // Then the browser was asked for a new login no older than the challenge
    let confirm = browser.authorize_urls().pop().unwrap();
    let query = common::query(&confirm);
    assert_eq!(query.get("prompt").map(String::as_str), Some("login"));
    assert_eq!(query.get("max_age").map(String::as_str), Some("2"));
    assert_eq!(account.subject, subject);
    // and the new session replaced the stale one, its refresh token revoked
    let after = store.session(&config).await.unwrap();
    assert_ne!(
        after.id_token.as_ref().unwrap().secret(),
        before.id_token.as_ref().unwrap().secret()
    );
    let old_refresh = before.refresh_token.unwrap();
    assert_eq!(env.refresh_grant(old_refresh.secret()).await.status(), 400);
    // and the replaced session is signed out: this app is listed once
    let sessions = app.list_sessions().await.unwrap();
    let active: Vec<_> = sessions.iter().filter(|s| s.is_active()).collect();
    assert_eq!(active.len(), 1, "{sessions:?}");
    assert!(active[0].current, "{sessions:?}");

    // And the removal now goes through
    app.remove_passkey(&key).await.unwrap();
    assert!(passkey_ids(&env, &subject).await.is_empty());
}

#[tokio::test]
async fn signing_another_session_out_needs_a_recent_sign_in_too() {
    let env = Env::start_with(|broker| broker.step_up_max_age = MAX_AGE).await;
    let (app, _, _, _) = signed_in(&env).await;
    let (_, other_config, other_store, _) = signed_in(&env).await;
    let other = app
        .list_sessions()
        .await
        .unwrap()
        .into_iter()
        .find(|session| session.is_active() && !session.current)
        .unwrap();
    let_the_sign_in_grow_old().await;

    let error = app.sign_out_session(&other.id).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReauthenticationRequired, "{error}");
    let theirs = other_store.session(&other_config).await.unwrap();
    let still_works = env
        .refresh_grant(theirs.refresh_token.unwrap().secret())
        .await;
    assert_eq!(still_works.status(), 200, "nothing was signed out");

    app.confirm_identity(|_| {}).await.unwrap();
    app.sign_out_session(&other.id).await.unwrap();
}

#[tokio::test]
async fn cancelling_the_confirmation_changes_nothing() {
    // Given a stale sign-in whose removal was refused, in an app whose
    // browser does nothing with the page it is given (the person will not
    // sign in there)
    let env = Env::start_with(|broker| broker.step_up_max_age = MAX_AGE).await;
    let (_, config, store, _) = signed_in(&env).await;
    let idle_browser = common::LoginBrowser::new(&env, common::Delivery::Nothing);
    let app = common::client(
        config.clone(),
        std::sync::Arc::clone(&store),
        std::sync::Arc::clone(&idle_browser),
        passkeys_core::ClientOptions::default(),
    )
    .await;
    let before = store.session(&config).await.unwrap();
    let key = add_passkey(&env, &before.account.subject, "Laptop").await;
    let_the_sign_in_grow_old().await;
    assert_eq!(
        app.remove_passkey(&key).await.unwrap_err().kind(),
        ErrorKind::ReauthenticationRequired
    );

    // When the confirmation is started, the browser opened, and then cancelled
    let confirming = {
        let app = app.clone();
        tokio::spawn(async move { app.confirm_identity(|_| {}).await })
    };
    while idle_browser.authorize_urls().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.cancel_sign_in();
    let error = confirming.await.unwrap().unwrap_err();

    // Then it ends as cancelled; the session and the passkey are as they were
    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error}");
    let after = store.session(&config).await.unwrap();
    assert_eq!(
        after.refresh_token.unwrap().secret(),
        before.refresh_token.unwrap().secret()
    );
    assert_eq!(
        passkey_ids(&env, &before.account.subject).await,
        vec![key.clone()]
    );
    assert_eq!(
        app.remove_passkey(&key).await.unwrap_err().kind(),
        ErrorKind::ReauthenticationRequired
    );
}

/// A browser in which someone else is signed in: it completes every sign-in
/// as `other@example.com`, back through the loopback.
struct SomeoneElsesBrowser {
    mailbox: scalekit_emulator::DevMailbox,
}

impl passkeys_core::BrowserLauncher for SomeoneElsesBrowser {
    fn open(&self, url: &url::Url) -> passkeys_core::Result<()> {
        let (url, mailbox) = (url.clone(), self.mailbox.clone());
        tokio::spawn(async move {
            let http = testing::browser_client().unwrap();
            let callback =
                testing::sign_in_with_email_code(&http, &url, "other@example.com", &mailbox)
                    .await
                    .unwrap();
            reqwest::get(callback).await.unwrap();
        });
        Ok(())
    }
}

#[tokio::test]
async fn another_account_confirming_changes_nothing_and_its_tokens_are_revoked() {
    // Given a stale sign-in, and a browser where someone else signs in
    let env = Env::start_with(|broker| broker.step_up_max_age = MAX_AGE).await;
    let (_, config, store, _) = signed_in(&env).await;
    let before = store.session(&config).await.unwrap();
    let app = passkeys_core::Client::with_options(
        config.clone(),
        std::sync::Arc::clone(&store) as _,
        std::sync::Arc::new(SomeoneElsesBrowser {
            mailbox: env.mailbox.clone(),
        }),
        passkeys_core::ClientOptions::default(),
    )
    .await
    .unwrap();
    let key = add_passkey(&env, &before.account.subject, "Laptop").await;
    let_the_sign_in_grow_old().await;
    assert_eq!(
        app.remove_passkey(&key).await.unwrap_err().kind(),
        ErrorKind::ReauthenticationRequired
    );
    let revocations = env.proxy.requests.lock().unwrap().len();

    // When the confirmation comes back as another account
    let error = app.confirm_identity(|_| {}).await.unwrap_err();

    // Then it is refused, the stored session is the person's as before, the
    // other account's refresh token was revoked, and nothing was removed
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains("other@example.com"), "{error}");
    let after = store.session(&config).await.unwrap();
    assert_eq!(after.account.subject, before.account.subject);
    assert_eq!(
        after.refresh_token.unwrap().secret(),
        before.refresh_token.unwrap().secret()
    );
    let requests = env.proxy.requests.lock().unwrap().clone();
    assert!(
        requests[revocations..]
            .iter()
            .any(|line| line.starts_with("POST /revoke")),
        "{requests:?}"
    );
    assert_eq!(passkey_ids(&env, &before.account.subject).await, vec![key]);
}
