//! Deep links as the app receives them from the deep-link plugin (a second
//! launch forwarded by the single-instance plugin, or the first launch's
//! argument): they reach `flows::handle_deep_link` with the mock app, the real
//! state and the emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{invoke, open_deep_link, wait_until, Behaviour, Harness, EMAIL};
use passkeys_desktop_lib::flows::REFUSED_LINK_NOTICE;
use serde_json::json;

#[test]
fn a_link_nobody_asked_for_is_refused_with_a_notice() {
    // Given a signed-out app with no sign-in pending
    let harness = Harness::new(Behaviour::SignsIn);
    // When a forged callback link arrives
    open_deep_link(
        &harness,
        "dev.passkeys.desktop:/callback?code=forged&state=forged",
    );
    // Then the window shows the notice and nothing changed
    assert_eq!(
        harness.events("notice"),
        [json!({"message": REFUSED_LINK_NOTICE})]
    );
    assert_eq!(
        harness.invoke("session", json!({})).unwrap(),
        json!({"state": "signedOut"})
    );
    assert!(harness.events("session-changed").is_empty());
    for url in [
        "https://evil.example/callback",
        "dev.passkeys.desktop://unknown-action",
        "",
    ] {
        open_deep_link(&harness, url);
    }
    assert_eq!(harness.events("notice").len(), 4);
}

#[test]
fn the_sign_in_link_starts_a_sign_in() {
    // Given a signed-out app and a browser that signs in
    let harness = Harness::new(Behaviour::SignsIn);
    // When `dev.passkeys.desktop://sign-in` arrives
    open_deep_link(&harness, "dev.passkeys.desktop://sign-in");
    // Then the browser was opened, the sign-in completed and the UI was told
    assert_eq!(harness.browser.opened()[0].path(), "/oauth/authorize");
    let changed = harness.events("session-changed");
    assert_eq!(changed.last().unwrap()["state"], "signedIn", "{changed:?}");
    assert_eq!(changed.last().unwrap()["account"]["email"], EMAIL);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap()["state"],
        "signedIn"
    );
}

#[test]
fn the_callback_link_completes_a_pending_sign_in_and_a_forged_one_does_not() {
    // Given the deep-link redirect mode and a sign-in waiting for the browser
    let harness = Harness::new(Behaviour::SignsInByDeepLink);
    let environment = harness.invoke("environment", json!({})).unwrap();
    assert_eq!(environment["redirect"], "dev.passkeys.desktop:/callback");
    let webview = harness.webview.clone();
    let pending = std::thread::spawn(move || invoke(&webview, "sign_in", json!({})));
    wait_until("the sign-in to open the browser", || {
        !harness.browser.opened().is_empty()
    });
    let authorize_url = harness.browser.opened()[0].clone();
    assert!(authorize_url
        .query_pairs()
        .any(|(key, value)| key == "redirect_uri" && value == "dev.passkeys.desktop:/callback"));
    // When a forged link with another state arrives first, it is refused
    open_deep_link(
        &harness,
        "dev.passkeys.desktop:/callback?code=forged&state=not-the-state",
    );
    assert_eq!(
        harness.events("notice"),
        [json!({"message": REFUSED_LINK_NOTICE})]
    );
    // Then the browser's real callback link still completes the sign-in
    let account = pending.join().unwrap().unwrap();
    assert_eq!(account["email"], EMAIL);
    assert_eq!(
        harness.invoke("session", json!({})).unwrap()["account"],
        account
    );
}

#[test]
fn the_signed_out_link_shows_the_signed_out_window_with_no_notice() {
    // Given an app signed in by deep link (the production redirect)
    let harness = Harness::new(Behaviour::SignsInByDeepLink);
    harness.sign_in();
    // When the person signs out, and the environment sends the browser back
    // to the app's post-logout redirect, with or without a query
    invoke(&harness.webview, "sign_out", json!({})).unwrap();
    let before = harness.events("session-changed").len();
    for link in [
        "dev.passkeys.desktop:/signed-out",
        "dev.passkeys.desktop:/signed-out?state=abc",
    ] {
        open_deep_link(&harness, link);
    }
    // Then the window is told it is signed out, and no notice is shown
    assert!(
        harness.events("notice").is_empty(),
        "{:?}",
        harness.events("notice")
    );
    let changed = harness.events("session-changed");
    assert_eq!(changed.len(), before + 2, "{changed:?}");
    assert_eq!(changed.last().unwrap(), &json!({"state": "signedOut"}));
}

#[test]
fn a_sign_in_link_while_signed_in_asks_first_and_changes_nothing() {
    // Given a signed-in app
    let harness = Harness::new(Behaviour::SignsIn);
    let account = harness.sign_in();
    let opened = harness.browser.opened().len();
    // When anyone opens `dev.passkeys.desktop://sign-in`
    open_deep_link(&harness, "dev.passkeys.desktop://sign-in");
    // Then no sign-in starts: the window is asked to confirm, the account stays
    assert_eq!(harness.browser.opened().len(), opened, "no browser opened");
    assert_eq!(
        harness.events("sign-in-link"),
        [json!({ "account": account })]
    );
    let session = harness.invoke("session", json!({})).unwrap();
    assert_eq!(session["account"]["subject"], account["subject"]);
}

#[test]
fn a_sign_in_link_never_cancels_a_waiting_sign_in() {
    // Given a sign-in waiting for a browser that never comes back
    let harness = Harness::new(Behaviour::Stalls);
    let webview = harness.webview.clone();
    let waiting = std::thread::spawn(move || invoke(&webview, "sign_in", json!({})));
    wait_until("the sign-in to wait for the browser", || {
        !harness.events("sign-in-progress").is_empty()
    });
    // When a sign-in link arrives
    open_deep_link(&harness, "dev.passkeys.desktop://sign-in");
    // Then the waiting sign-in goes on: no second authorize request
    assert_eq!(harness.browser.opened().len(), 1);
    assert!(!waiting.is_finished(), "the waiting sign-in was cancelled");
    // (the person cancels it themselves)
    invoke(&harness.webview, "cancel_sign_in", json!({})).unwrap();
    let outcome = waiting.join().unwrap().unwrap_err();
    assert_eq!(outcome["kind"], "cancelled");
}
