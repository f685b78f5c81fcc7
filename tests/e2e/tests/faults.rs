//! Issue 4, step 8: faults a person meets. The environment goes offline
//! (behind the passkeys broker, as in production): the window says the
//! environment cannot be reached and offers Retry, and nothing is lost. The keychain
//! is locked: the window says so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use passkeys_e2e::flows;
use passkeys_e2e::world::{Redirect, World};

const EMAIL: &str = "linus@example.com";

#[test]
#[ignore = "end to end: run through tests/e2e/run (Xvfb, tauri-driver, Chromium, gnome-keyring)"]
fn an_offline_environment_and_a_locked_keychain_are_explained_in_the_window() {
    let mut world = World::start("faults");
    world.launch_app(Redirect::Loopback);
    world.app().wait_visible("signed-out");
    let stored = flows::sign_in_with_email_code(&world, "8", EMAIL, Redirect::Loopback);
    world.app().wait_visible("passkeys-empty");

    // Given a signed-in window, when the environment stops answering and
    // the list is refreshed (the window regains focus),
    world.emulator.stop();
    world.app().refocus();
    // then the window says the environment cannot be reached (the broker
    // answers for it) and offers Retry,
    world.app().wait_text(
        "error-message",
        "that the environment is unreachable",
        |t| {
            let t = t.to_lowercase();
            t.contains("unreachable") || t.contains("offline")
        },
    );
    world.app().wait_visible("retry");
    world.shot_window("8-offline");
    // "Diagnose" names the environment as the problem, and what to do,
    // while the keychain is fine; Escape closes it and nothing changed.
    world.app().click("diagnose");
    let report = world
        .app()
        .wait_text("diagnose-report", "the doctor's checks", |t| {
            t.contains("Environment") && t.contains("Keychain")
        });
    let summary = world
        .app()
        .wait_text("diagnose-summary", "the doctor's verdict", |t| {
            !t.is_empty()
        });
    assert!(summary.contains("needs a fix"), "{summary}\n{report}");
    assert!(report.contains("Problem"), "{report}");
    assert!(report.contains("To do:"), "{report}");
    world.shot_window("8-offline-diagnose");
    world.app().click("diagnose-close");
    world.app().wait_gone("diagnose-report");
    // and nothing is lost: still signed in, the session still in the keychain.
    world.app().wait_visible("signed-in");
    assert_eq!(world.stored_session()["account"], stored["account"]);
    // When the environment is back, Retry shows the list again.
    world.emulator.restart();
    world.app().click("retry");
    world.app().wait_visible("passkeys-empty");
    world.shot_window("8-back-online");

    // Given a locked keychain, when the app starts and reads it,
    world.quit_app();
    world.keychain.lock();
    world.launch_app(Redirect::Loopback);
    // then the window says the keychain is (or may be) locked,
    world
        .app()
        .wait_text("error-message", "that the keychain is locked", |t| {
            let t = t.to_lowercase();
            t.contains("keychain") && t.contains("locked") && t.contains("unlock")
        });
    world.app().wait_visible("retry");
    world.shot_window("8-keychain-locked");
    // and the entry is still there (locked, not deleted), nothing opened.
    let items = world.keychain_items();
    assert!(
        !items.is_empty() && items.iter().all(|item| item.secret.is_none()),
        "locked items: {items:?}"
    );
    assert_eq!(world.inbox.pending(), 0, "no browser was opened");
}
