//! `passkeys-desktop status` on the command line, against an emulator and
//! its broker, with the clients' clock moved past the access token's
//! expiry: a session whose refresh token the environment refuses is
//! `sessionExpired` (status 1, "Sign in again"), not `signedIn`; one that
//! renews is signed in; an environment that cannot be reached is a
//! network error, and the session is kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{accounts_on_clock, run, stored_refresh_token, Environment, MemoryStore};
use passkeys_core::{Accounts, ManualClock};
use passkeys_headless::cli::Command;
use time::Duration;

const ADA: &str = "ada@example.com";

/// Longer than the emulator's access tokens live.
const PAST_EXPIRY: Duration = Duration::minutes(10);

/// Ada signed in on `east`, the clients' clock at the system's time.
async fn signed_in(east: &Environment) -> (Accounts, Arc<MemoryStore>, Arc<ManualClock>) {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(ManualClock::starting_now());
    let accounts = accounts_on_clock(&[east], Arc::clone(&store), Arc::clone(&clock)).await;
    run(&accounts, None, Command::SignIn { no_browser: false })
        .await
        .unwrap();
    let status = run(&accounts, None, Command::Status).await.unwrap();
    assert_eq!(status["state"], "signedIn", "{status}");
    (accounts, store, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_session_whose_refresh_token_is_refused_is_not_signed_in() {
    // Given Ada signed in, her refresh token since revoked by the environment
    let east = Environment::start("east", ADA).await;
    let (accounts, store, clock) = signed_in(&east).await;
    let refresh_token = stored_refresh_token(&store, east.url.as_str()).await;
    let revoked = reqwest::Client::new()
        .post(east.url.join("revoke").unwrap())
        .form(&[
            ("token", refresh_token.as_str()),
            ("client_id", common::CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{revoked:?}");

    // When her access token has expired and the status is asked for
    clock.advance(PAST_EXPIRY);
    let error = run(&accounts, None, Command::Status).await.unwrap_err();

    // Then it is sessionExpired (the command line exits with 1), saying to sign in again
    assert_eq!(error["kind"], "sessionExpired", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("Sign in again"), "{message}");
    // And the dead tokens are gone from the keychain
    assert!(store.accounts().is_empty(), "{:?}", store.accounts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_session_that_renews_is_signed_in() {
    // Given Ada signed in
    let east = Environment::start("east", ADA).await;
    let (accounts, store, clock) = signed_in(&east).await;
    let before = stored_refresh_token(&store, east.url.as_str()).await;

    // When her access token is about to expire and the status is asked for
    clock.advance(Duration::seconds(290));
    let status = run(&accounts, None, Command::Status).await.unwrap();

    // Then she is signed in, with renewed tokens in the keychain
    assert_eq!(status["state"], "signedIn", "{status}");
    assert_eq!(status["account"]["email"], ADA, "{status}");
    let after = stored_refresh_token(&store, east.url.as_str()).await;
    assert_ne!(before, after, "the refresh token was rotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_session_with_the_environment_unreachable_is_a_network_error() {
    // Given Ada signed in, then her environment gone
    let east = Environment::start("east", ADA).await;
    let (accounts, store, clock) = signed_in(&east).await;
    east.emulator.shutdown().await;

    // When her access token has expired and the status is asked for
    clock.advance(PAST_EXPIRY);
    let error = run(&accounts, None, Command::Status).await.unwrap_err();

    // Then it says the server could not be reached, not that the session expired
    assert_eq!(error["kind"], "network", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("Could not reach"), "{message}");
    // And the session is kept for when the environment answers again
    assert_eq!(store.accounts().len(), 1, "{:?}", store.accounts());
}
